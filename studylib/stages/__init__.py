"""The four stages of a study. Each computes and returns data (dataclasses, DataFrames); no file I/O,
no rendering."""
