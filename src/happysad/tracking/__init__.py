"""MLflow: the run tracker (tracker.py) and reading runs back to compare them (compare.py)."""

from __future__ import annotations

import os

# Command-line tools that only read from a tracking server (predict, eval, compare): MLflow's
# own defaults (7 retries with backoff, 120 s per request) kept them silent for ~250 s on an
# unreachable server. The user's own MLFLOW_HTTP_REQUEST_* settings win.
CLI_HTTP_RETRIES, CLI_HTTP_TIMEOUT = 1, 15


def short_http_timeouts() -> None:
    """Cap MLflow's HTTP retries and per-request timeout for a one-shot command."""
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", str(CLI_HTTP_RETRIES))
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(CLI_HTTP_TIMEOUT))
