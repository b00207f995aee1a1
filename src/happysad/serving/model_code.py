"""The logged model's code (MLflow models-from-code): MLflow runs this file to build the pyfunc.

`packaging.save_model` passes this file's path as `python_model`, so no pickled object is
stored; MLflow copies it into the model folder and, at load time, runs that copy after putting
the model's `code/` folder (the modules listed in `packaging.SERVED_CODE`) first on sys.path.
Not imported by happysad itself.
"""

import mlflow

from happysad.serving.pyfunc import HappysadPyfunc

mlflow.models.set_model(HappysadPyfunc())
