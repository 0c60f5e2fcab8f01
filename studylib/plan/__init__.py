"""The study plan: the YAML parameter file's schema, vocabulary and loading.

Import as ``from studylib import plan``; ``plan.load(path)`` returns a validated, frozen ``Study``.
"""

from studylib.plan.schema import *  # noqa: F401,F403  (the public names of the schema)
from studylib.plan.schema import load, project_root, resolve_params_path  # noqa: F401
