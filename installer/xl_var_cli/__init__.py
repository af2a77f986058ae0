"""Command line, workbook files and add-in installer for xl-var (the top layer)."""
