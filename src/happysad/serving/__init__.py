"""A trained model outside training: the self-contained MLflow model (packaging.py) and prediction (predict.py)."""
