"""`python -m happysad train|predict|eval|compare|cache|export ...`: the console scripts, by another name.

Useful where the venv's bin/ is not on PATH (a notebook kernel, `mlflow run`, a job script).
"""

from __future__ import annotations

import sys
from typing import Any

USAGE = "usage: python -m happysad {train,predict,eval,compare,cache,export} [arguments...]"


def _entry_point(command: str) -> Any:
    """The console script's main(), imported only for the command asked for."""
    if command == "train":
        from happysad.cli.train import main
    elif command == "predict":
        from happysad.cli.predict import main
    elif command in ("eval", "evaluate"):
        from happysad.cli.evaluate import main
    elif command == "compare":
        from happysad.cli.compare import main
    elif command == "cache":
        from happysad.cli.cache import main
    elif command == "export":
        from happysad.cli.export import main
    else:
        return None
    return main


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    entry = _entry_point(command)
    if entry is None:
        print(
            f"error: {command}: unknown command (train, predict, eval, compare, cache, export)",
            file=sys.stderr,
        )
        return 2
    # Each entry point reads sys.argv (Hydra's does): present it as the console script would.
    sys.argv = [f"happysad-{'eval' if command == 'evaluate' else command}", *rest]
    result = entry()
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
