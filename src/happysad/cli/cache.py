"""`happysad-cache list|clear`: what the decode cache holds, and emptying or trimming it.

Examples:
  happysad-cache list                     # entries, least recently used first, and the total
  happysad-cache list --json
  happysad-cache clear                    # delete every entry, scan cache and stale temp file
  happysad-cache clear --to-gb 5          # evict least recently used entries down to 5 GB
  happysad-cache list --dir /data/cache   # another folder than paths.cache_dir

A build in progress (a locked temp file) is never touched. Without --dir the folder is
`paths.cache_dir` of the composed config (outputs/cache under the project root, or
$HAPPYSAD_ROOT).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from happysad.data import cache
from happysad.errors import first_line


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="happysad-cache",
        description="List or clear the decoded-image cache (data.cache=disk|auto).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:" + (__doc__ or "").split("Examples:", 1)[-1],
    )
    p.add_argument("command", choices=("list", "clear"))
    p.add_argument("--dir", type=Path, default=None, help="cache folder (default: paths.cache_dir)")
    p.add_argument("--json", action="store_true", help="list: one JSON object instead of a table")
    p.add_argument(
        "--to-gb",
        type=float,
        default=None,
        help="clear: evict least recently used entries until at most this many GB remain",
    )
    return p


def _default_dir() -> Path:
    from happysad.api import compose

    return Path(str(compose().paths.cache_dir))


def _list(folder: Path, as_json: bool) -> None:
    live = cache.entries(folder)
    others = cache.other_files(folder)
    total = sum(e.size for e in live) + sum(p.stat().st_size for p in others if p.exists())
    if as_json:
        print(
            json.dumps(
                {
                    "dir": str(folder),
                    "entries": [
                        {
                            "key": e.key,
                            "bytes": e.size,
                            "last_used": e.last_used,
                            "files": [p.name for p in e.files],
                        }
                        for e in live
                    ],
                    "other_files": [p.name for p in others],
                    "total_bytes": total,
                }
            )
        )
        return
    print(f"{folder}: {len(live)} entries, {total / 2**30:.2f} GB in all")
    for e in live:
        used = dt.datetime.fromtimestamp(e.last_used).strftime("%Y-%m-%d %H:%M")
        print(f"  {e.key}  {e.size / 2**20:10.1f} MB  last used {used}")
    for p in others:
        print(f"  {p.name}")


def main(argv: list[str] | None = None) -> int:
    a = _parser().parse_args(argv)
    try:
        folder = a.dir if a.dir is not None else _default_dir()
    except Exception as err:
        print(f"error: {first_line(err)}", file=sys.stderr)
        return 2
    if a.command == "list":
        _list(folder, a.json)
        return 0
    if a.to_gb is not None:
        if a.to_gb < 0:
            print(f"error: --to-gb={a.to_gb}: must be >= 0", file=sys.stderr)
            return 2
        gone = cache.evict(folder, int(a.to_gb * 2**30))
        removed = cache.clean_temp(folder)
        print(f"{folder}: evicted {len(gone)} entries, removed {len(removed)} stale temp files")
        return 0
    n, freed = cache.clear(folder)
    print(f"{folder}: deleted {n} files, {freed / 2**20:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
