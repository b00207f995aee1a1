"""Hydra multiruns: the sweep parent run and job tags (runs.py), the Optuna search (optuna_search.py)."""
