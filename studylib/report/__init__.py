"""Presentation: formatting, tables, figures, notebook display helpers and HTML pages."""
