"""MLflow: the run tracker (tracker.py) and reading runs back to compare them (compare.py)."""
