"""Console entry points. Each imports TensorFlow only after its input is validated."""

import os

# TensorFlow's C++ start-up chatter (CUDA probing on CPU machines, oneDNN notes) buries the
# lines users need; errors still print. Set TF_CPP_MIN_LOG_LEVEL=0 to see everything.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# MLflow's artifact progress bars flood logs and CI output.
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
