"""happysad's Optuna sweeper for Hydra (Optuna 4+, persistent storage); see happysad/optuna_search.py."""
