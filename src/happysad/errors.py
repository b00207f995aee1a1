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
