"""Find a `runs:/` or `models:/` model in a local SQLite MLflow store without importing MLflow.

Importing MLflow and its SQLAlchemy store costs ~2.5 s and ~250 MB, ten times the rest of a
prediction. With the project's default store (`sqlite:///.../mlflow.db`, artifacts on local
disk) the model is already a folder on this machine: one read-only query finds it. Anything
else (a server, a remote artifact store, a URI form not handled here, a row not found)
returns None and the caller asks MLflow, as before.

Tables read (MLflow 3 schema): `logged_models` (where a run's logged model lives),
`runs` (MLflow 2 layout: the model under the run's own artifacts), `model_versions` and
`registered_model_aliases` (the registry).
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from pathlib import Path
from urllib.parse import unquote, urlparse

from happysad.serving.metadata import METADATA_FILE

_RUNS = re.compile(r"^runs:/([0-9a-f]{32})/([^/]+)/?$")
_VERSION = re.compile(r"^models:/([^/@]+)/(\d+)/?$")
_ALIAS = re.compile(r"^models:/([^/@]+)@([^/]+)/?$")


def _db_path(tracking_uri: str | None) -> Path | None:
    if not tracking_uri or not tracking_uri.startswith("sqlite:///"):
        return None
    path = Path(unquote(tracking_uri.removeprefix("sqlite:///").split("?", 1)[0]))
    return path if path.is_file() else None


def _local_folder(uri: str | None) -> Path | None:
    """A file:// (or plain path) artifact location that holds a happysad model, else None."""
    if not uri:
        return None
    parsed = urlparse(uri)
    if parsed.scheme not in ("", "file") or parsed.netloc not in ("", "localhost"):
        return None
    folder = Path(unquote(parsed.path))
    has_model = (folder / "MLmodel").is_file() and any(folder.rglob(METADATA_FILE))
    return folder if has_model else None


def _one(db: sqlite3.Connection, sql: str, args: tuple) -> str | None:
    """The single answer's first column; None for none or several (e.g. two workspaces)."""
    rows = db.execute(sql, args).fetchall()
    return str(rows[0][0]) if len(rows) == 1 and rows[0][0] is not None else None


def _run_model(db: sqlite3.Connection, run_id: str, name: str) -> Path | None:
    logged = _one(
        db,
        "SELECT artifact_location FROM logged_models WHERE source_run_id = ? AND name = ? "
        "AND lifecycle_stage = 'active'",
        (run_id, name),
    )
    found = _local_folder(logged)
    if found is None:  # MLflow 2: the model was logged under the run's own artifacts
        root = _one(db, "SELECT artifact_uri FROM runs WHERE run_uuid = ?", (run_id,))
        found = _local_folder(f"{root.rstrip('/')}/{name}") if root else None
    return found


def _version_model(db: sqlite3.Connection, name: str, version: str) -> Path | None:
    rows = db.execute(
        "SELECT storage_location, source FROM model_versions WHERE name = ? AND version = ? "
        "AND current_stage != 'Deleted_Internal'",
        (name, int(version)),
    ).fetchall()
    if len(rows) != 1:
        return None
    return _local_folder(rows[0][0]) or _local_folder(rows[0][1])


def local_model_dir(ref: str, tracking_uri: str | None) -> Path | None:
    """The local folder of a runs:/ or models:/ model in a SQLite store, or None (ask MLflow)."""
    db_path = _db_path(tracking_uri)
    if db_path is None:
        return None
    try:
        # As a file: URI (a '#', '?' or '%' in the path escaped), read-only, closed after.
        uri = Path(db_path).resolve().as_uri() + "?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
            if m := _RUNS.match(ref):
                return _run_model(db, m[1], m[2])
            if m := _VERSION.match(ref):
                return _version_model(db, m[1], m[2])
            if m := _ALIAS.match(ref):
                version = _one(
                    db,
                    "SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?",
                    (m[1], m[2]),
                )
                return _version_model(db, m[1], version) if version else None
    except (sqlite3.Error, ValueError, OSError):
        return None  # another schema, a locked or odd file: MLflow knows better
    return None
