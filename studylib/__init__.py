"""studylib: validation studies of clinical AI models as parameterised, reproducible notebooks."""

__version__ = "0.1.0"
