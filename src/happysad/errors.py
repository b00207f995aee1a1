"""User-facing errors: each carries one line that names the file or config key at fault;
and the redaction of secrets from everything the process writes out."""

from __future__ import annotations

import contextlib
import errno
import io
import logging
import os
import re
import sys
from collections.abc import Iterator, Mapping
from typing import Any


class HappysadError(Exception):
    """Base class: the CLI prints ``error: <message>`` and exits non-zero, without a traceback."""

    exit_code = 1


class ConfigError(HappysadError):
    """An invalid config value; the message starts with the dotted key."""

    exit_code = 2


class DataError(HappysadError):
    """The data folder cannot yield a usable dataset (missing classes, too few images...)."""

    exit_code = 3


class StorageError(HappysadError):
    """A folder happysad writes to cannot take the data (disk full, read-only, permissions)."""


# errno values that mean "this folder cannot take the data": disk full, quota, read-only
# filesystem, permissions, a file over the size limit.
_STORAGE_ERRNOS = {
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EROFS,
    errno.EACCES,
    errno.EPERM,
    errno.EFBIG,
}


@contextlib.contextmanager
def storage_errors(writing: str = "a file") -> Iterator[None]:
    """Turn an OSError from a full, read-only or forbidden folder into one StorageError line
    naming the file (a full output filesystem printed six tracebacks); others pass.

    `writing`: what is being written, named when the error carries no file name (a failed
    write(2) or close(2) does not)."""
    try:
        yield
    except OSError as err:
        if err.errno not in _STORAGE_ERRNOS:
            raise
        where = os.fsdecode(err.filename) if err.filename is not None else writing
        raise StorageError(
            f"{where}: {err.strerror or err} (a full disk, a read-only folder or permissions); "
            "free space, fix the permissions, or point paths.output_dir elsewhere"
        ) from None


class ModelLoadError(HappysadError):
    """A model path or URI that cannot be loaded, or lacks happysad metadata."""

    exit_code = 4


def first_line(err: BaseException) -> str:
    """The most specific message of an exception chain, on one line.

    Hydra wraps the real error (a bad keyword, an unknown class) in InstantiationException,
    whose own text is several lines of context: follow the cause to the real one.
    """
    while err.__cause__ is not None and type(err).__name__ == "InstantiationException":
        err = err.__cause__
    lines = [line.strip() for line in str(err).strip().splitlines() if line.strip()]
    if not lines:
        return type(err).__name__
    # An InstantiationException without a cause puts the specific part last.
    return lines[-1] if type(err).__name__ == "InstantiationException" else lines[0]


# --- secrets: nothing that leaves the process (params, tags, artifacts, logs) carries one ------

REDACTED = "***"
# A key whose value is a secret: db_password, api_token, AWS_SECRET_ACCESS_KEY, credentials...
_SECRET_WORD = (
    r"(?:pass(?:word|wd|phrase)|pwd|token|secret|credentials?|api_?key|access_?key|private_?key"
    r"|authorization)"
)
_SECRET_KEY = re.compile(rf"^[\w.-]*{_SECRET_WORD}[\w-]*$", re.IGNORECASE)
# scheme://user:password@host -> scheme://user:***@host (any scheme: https, postgresql+psycopg2...).
# The password is anything up to the last @ before the host: quotes, @, : and / included (a `/`
# should be percent-encoded, but SQLAlchemy, hence MLflow's and Optuna's stores, take
# `postgresql://u:a/b@db/x` as is). A `/` counts as part of it only when an @ follows, so
# `https://u:p@h/x` stops at the host; `http://h:5000/a@b` (an @ in a path) loses more than
# its password: too much hidden, never a secret shown.
_URI_PASSWORD = re.compile(
    r"(?P<head>\b[a-z][a-z0-9+.-]*://[^:@/\s'\"]*):(?P<pw>(?:[^\s/]|/(?=\S*@))+)@", re.I
)
# scheme://TOKEN@host (a token as the whole userinfo, as GitHub and others take it) -> ***@host
_URI_TOKEN = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://)(?P<user>[^:@/\s'\"]+)@", re.I)
# `Bearer <token>` / `Basic <credentials>`, wherever it appears (a header echoed in an error)
_AUTH_SCHEME = re.compile(r"\b(?P<scheme>Bearer|Basic|Token)(?P<sp>\s+)(?P<cred>[\w.~+/=-]+)", re.I)
# YAML / header lines: `passphrase: correct horse battery staple`, `tracking.password: x`: the
# whole rest of the line, except happysad's own error about such a key (`trainer.api_key:
# unknown key (...)`, config.py), which holds no value.
_SECRET_LINE = re.compile(
    rf"(?P<key>(?<![\w.-])[\w.-]*{_SECRET_WORD}[\w-]*)(?P<sep>:[ \t]+)(?P<value>[^'\"\s][^\n]*)",
    re.IGNORECASE,
)
# How config.py words a key that is not in the schema: `<key>: unknown key (did you ...)`.
UNKNOWN_KEY = "unknown key"
# key=value, key: 'value', "key": "value", ?key=value in free text (overrides, JSON, query
# strings, logs); a quoted value is taken whole, to its closing quote.
_SECRET_PAIR = re.compile(
    rf"(?P<key>\b[\w.-]*{_SECRET_WORD}[\w-]*)(?P<sep>['\"]?\s*[=:]\s*)"
    rf"(?P<value>'[^'\n]*'?|\"[^\"\n]*\"?|[^\s&'\",;}}\]]+)",
    re.IGNORECASE,
)


def is_secret_key(key: object) -> bool:
    """Whether a (dotted) key names a secret: its value is never written out."""
    return isinstance(key, str) and bool(_SECRET_KEY.match(key.rsplit(".", 1)[-1]))


def _redact_pair(m: re.Match) -> str:
    """One `key<sep>value` match with its whole value replaced (kept if already redacted)."""
    key, sep, value = m["key"], m["sep"], m["value"]
    quote = value[0] if value[0] in "'\"" else ""
    closed = quote and len(value) > 1 and value.endswith(quote)
    inner = value[len(quote) : len(value) - (1 if closed else 0)]
    if inner == REDACTED or _is_unknown_key_error(m, "value"):
        return m[0]
    return f"{key}{sep}{quote}{REDACTED}{quote if closed else ''}"


def _is_unknown_key_error(m: re.Match, value: str) -> bool:
    """`trainer.api_key: unknown key (...)`: config.py's error about a key, with no value."""
    return ":" in m["sep"] and m.string.startswith(f"{UNKNOWN_KEY} (", m.start(value))


def _redact_line(m: re.Match) -> str:
    if m["value"].rstrip() == REDACTED or _is_unknown_key_error(m, "value"):
        return m[0]
    return f"{m['key']}{m['sep']}{REDACTED}"


def redact_text(text: str) -> str:
    """`text` with URI passwords and tokens, `Bearer ...` credentials and the whole value of
    every `secret_key=value` (quoted or not, YAML or JSON) replaced by ***."""
    if not text or (
        "@" not in text and not re.search(rf"{_SECRET_WORD}|bearer|basic|token", text, re.I)
    ):
        return text  # the common case, cheaply
    text = _URI_PASSWORD.sub(rf"\g<head>:{REDACTED}@", text)
    text = _URI_TOKEN.sub(rf"\g<head>{REDACTED}@", text)
    text = _AUTH_SCHEME.sub(
        lambda m: m[0] if m["cred"] == REDACTED else f"{m['scheme']}{m['sp']}{REDACTED}", text
    )
    text = _SECRET_LINE.sub(_redact_line, text)
    return _SECRET_PAIR.sub(_redact_pair, text)


def redact(value: Any) -> Any:
    """A copy of `value` (text, or nested dicts/lists of it) that is safe to write out.

    The one redaction used for everything that leaves the process: MLflow params, tags and run
    names, YAML/JSON/HTML artifacts, the run dir's files and log lines. Mapping values under a
    secret-looking key become *** whatever they are; strings lose URI passwords.
    """
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if is_secret_key(k) and v not in (None, "") else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(redact(v) for v in value)
    return value


def redact_file(path: str | os.PathLike) -> None:
    """Rewrite a text file (e.g. a YAML file Hydra wrote) without its secrets, atomically."""
    p = os.fspath(path)
    try:
        with open(p, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError):
        return
    clean = redact_text(text)
    if clean != text:
        tmp = f"{p}.redact-{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(clean)
        os.replace(tmp, p)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts each record's final message (attach it to handlers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        clean = redact_text(msg)
        if clean != msg:
            record.msg, record.args = clean, None
        return True


def redact_logs() -> None:
    """Attach a RedactingFilter to every handler there is now: the root logger's (console,
    Hydra's train.log) and libraries' own (MLflow prints run URLs, with the URI's password).
    Call again after importing a library that adds handlers."""
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(RedactingFilter())


@contextlib.contextmanager
def redacted_stdout() -> Iterator[None]:
    """Redact what a library prints to stdout meanwhile (MLflow prints each run's URL, built
    from the tracking URI with its password, when a run ends)."""
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf):
            yield
    finally:
        sys.stdout.write(redact_text(buf.getvalue()))


def csv_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: a string starting with = + - @ (a formula to
    Excel or LibreOffice, e.g. a file named `=HYPERLINK(...).png`) gets a leading quote.
    Numbers, and strings that are numbers (`-0.5`), are kept as they are."""
    if not isinstance(value, str) or not value or value[0] not in "=+-@\t\r":
        return value
    try:
        float(value)
        return value
    except ValueError:
        return "'" + value


def csv_row(row: Any) -> Any:
    """csv_cell over a list row or a dict row's values."""
    if isinstance(row, Mapping):
        return {k: csv_cell(v) for k, v in row.items()}
    return [csv_cell(v) for v in row]


# Argument checks shared by the config validator, the API and the CLIs: here, beside
# ConfigError, so that predict can check its flags without importing OmegaConf or Hydra.


def check_threshold(threshold: float | None, name: str = "threshold") -> None:
    """A binary decision threshold (None: the model's own) must lie strictly inside (0, 1).
    One check for trainer.threshold, the API and the CLIs' --threshold; `name` is the key
    or flag the error line starts with."""
    if threshold is not None and not 0.0 < threshold < 1.0:
        raise ConfigError(f"{name}={threshold}: must be strictly between 0 and 1")


def check_batch_size(batch_size: int, name: str = "batch_size") -> None:
    """A prediction batch size of at least 1 (0 crashed inside the batching, a negative size
    predicted nothing); one check for the API and the CLIs' --batch-size."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"{name}={batch_size!r}: must be a whole number of at least 1")
