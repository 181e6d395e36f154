"""taxaudit: an open, scriptable workbench for tax examinations."""

__version__ = "0.1.0"
