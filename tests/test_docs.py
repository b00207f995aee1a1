"""The defaults docs/configuration.md quotes are the ones the config has.

Every table row of the form ``| `key` | `value` ... |`` (first cell one or more dotted keys,
second cell starting with a value in backticks) is a default claim: the key must exist in
the config `happysad-train` composes and hold that value (as written, e.g. `${seed}`, or
resolved in a single run, e.g. `0` threads). The generated defaults table must also be what
scripts/defaults_table.py writes today, so a new schema key or a changed default shows up
in the docs in the same commit.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from omegaconf import OmegaConf

from .conftest import script_module

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "configuration.md"
ROW = re.compile(r"^\|\s*(`[a-z_][\w.]*`(?:\s*,\s*`[\w.]+`)*)\s*\|\s*`([^`]*)`[^|]*\|(.*)$")
MISSING = object()


def _script() -> ModuleType:
    return script_module("defaults_table")


def claims(text: str) -> list[tuple[str, str, str]]:
    """(dotted key, value as quoted, the rest of the row) of every default claim in `text`.
    `a.b`, `c` in one cell: `c` is `a.c` (the group of the first key)."""
    out = []
    for line in text.splitlines():
        m = ROW.match(line.strip())
        if not m:
            continue
        keys = re.findall(r"`([\w.]+)`", m.group(1))
        group = keys[0].rsplit(".", 1)[0] if "." in keys[0] else ""
        for key in keys:
            full = key if "." in key or not group else f"{group}.{key}"
            out.append((full, m.group(2), m.group(3)))
    return out


def _lookup(cfg: Any, key: str, resolve: bool) -> Any:
    node = OmegaConf.to_container(cfg, resolve=resolve)
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return MISSING
        node = node[part]
    return node


def _same(quoted: str, value: Any) -> bool:
    parsed = yaml.safe_load(quoted)
    if isinstance(parsed, bool) or isinstance(value, bool):
        return parsed is value
    return parsed == value


def check(text: str, default_cfg: Any, folder_cfg: Any) -> list[str]:
    """The claims of `text` the composed configs contradict, one line each."""
    wrong = []
    for key, quoted, rest in claims(text):
        have = _lookup(default_cfg, key, resolve=False)
        if have is MISSING and quoted == "–":
            continue
        resolved = _lookup(default_cfg, key, resolve=True)
        if have is MISSING or not (_same(quoted, have) or _same(quoted, resolved)):
            wrong.append(f"{key}: docs say {quoted!r}, the config has {have!r}")
        # The generated table's third column: what data=folder gives (blank: the same).
        folder = re.match(r"\s*(`[^`]*`|–)\s*\|\s*$", rest)
        if folder:
            want = folder.group(1).strip("`")
            there = _lookup(folder_cfg, key, resolve=False)
            if not ((want == "–" and there is MISSING) or _same(want, there)):
                wrong.append(f"{key} (data=folder): docs say {want!r}, the config has {there!r}")
    return wrong


@pytest.fixture
def configs(compose, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    pinned = "paths.run_dir=/run"  # outside a running app there is no Hydra run dir
    return compose([pinned]), compose([pinned, "data=folder"])


def test_every_default_quoted_in_configuration_md_is_the_configs(configs) -> None:
    text = DOC.read_text()
    found = claims(text)
    assert len(found) > 60, "the defaults table is gone from docs/configuration.md"
    wrong = check(text, *configs)
    assert not wrong, "docs/configuration.md disagrees with the config:\n" + "\n".join(wrong)


def test_the_defaults_table_is_generated_from_the_config() -> None:
    script = _script()
    committed = script.current(DOC.read_text())
    assert committed, f"docs/configuration.md lost the {script.BEGIN!r} markers"
    assert committed == script.table(), (
        "docs/configuration.md's defaults table is stale: run "
        "`python scripts/defaults_table.py --write`"
    )


def test_the_docs_check_catches_a_wrong_default(configs) -> None:
    """The check above can fail: a changed value, a missing key, a wrong folder column."""
    text = "\n".join(
        [
            "| `data.batch_size` | `64` |  |",
            "| `data.no_such_key` | `1` |  |",
            "| `trainer.epochs` | `32` | `30` |",
            "| `data.cache` | `auto` | |",
            "| `trainer.intra_op_threads`, `inter_op_threads` | `0` single run | 0 = all CPUs |",
            "| `data.split.seed` | `${seed}` |  |",
        ]
    )
    wrong = check(text, *configs)
    assert [line.split(":")[0] for line in wrong] == [
        "data.batch_size",
        "data.no_such_key",
        "trainer.epochs (data=folder)",
    ]
