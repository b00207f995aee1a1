"""User-facing errors: each carries one line that names the file or config key at fault."""


class HappysadError(Exception):
    """Base class: the CLI prints ``error: <message>`` and exits non-zero, without a traceback."""

    exit_code = 1


class ConfigError(HappysadError):
    """An invalid config value; the message starts with the dotted key."""

    exit_code = 2


class DataError(HappysadError):
    """The data folder cannot yield a usable dataset (missing classes, too few images...)."""

    exit_code = 3


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
