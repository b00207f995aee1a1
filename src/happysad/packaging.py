"""Kept for models saved before the sub-packages: their pickled pyfunc names this module.

New code imports `happysad.serving.packaging`; MLflow models logged by earlier versions
unpickle `happysad.packaging.HappysadPyfunc` and must keep loading (predict, serve).
"""

from happysad.serving.packaging import *  # noqa: F403
from happysad.serving.packaging import HappysadPyfunc  # noqa: F401
