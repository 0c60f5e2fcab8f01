"""Presentation: tables, figures, notebook display helpers and HTML pages; numbers are spelled by
:mod:`studylib.formatting`."""
