"""The canonical data model: table definitions, money and period helpers."""
