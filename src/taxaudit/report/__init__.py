"""Reports: Jinja2 HTML (self-contained), PDF via WeasyPrint, XLSX via openpyxl."""
