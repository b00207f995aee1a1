"""Metric names MLflow accepts, and telling a refused request from an unreachable server.

Per-class metrics are named after class folders (`test_precision_happy (old)`); MLflow
accepts only letters, digits, `_ - . / :` and spaces in a name and refuses the whole batch
otherwise. A refusal (HTTP 4xx) is an answer, not an outage: retrying it never helps.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

# Stricter than MLflow's own rule: no `/` (a name must not look like another path) and no
# `:` (refused on Windows stores).
_NOT_ALLOWED = re.compile(r"[^\w.\- ]")


def mlflow_metric_names(names: Iterable[str]) -> dict[str, str]:
    """{name: the name MLflow gets}: characters MLflow refuses become `_`; when two names
    then collide, each changed one gets a short hash of the original to stay apart."""
    names = list(names)
    safe = {n: _NOT_ALLOWED.sub("_", n) for n in names}
    taken = list(safe.values())
    for name, s in safe.items():
        if s != name and taken.count(s) > 1:
            digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:6]
            safe[name] = f"{s}-{digest}"
    return safe


def is_refusal(err: BaseException) -> bool:
    """Whether MLflow answered a request with a client error (4xx: a bad name or value, a
    deleted run), as opposed to not answering (connection refused, timeout, 5xx)."""
    from mlflow.exceptions import MlflowException

    if not isinstance(err, MlflowException):
        return False
    return 400 <= int(err.get_http_status_code()) < 500
