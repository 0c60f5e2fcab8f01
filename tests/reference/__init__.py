"""Reference data and published values for checking :mod:`studylib.stats` (see each module's header)."""
