"""The pinned dependency set (requirements/) agrees with pyproject.toml's ranges.

`make install` installs with `pip install -c` that file: a pin outside a range would make the
install fail, a missing pin would let that package float between CI runs.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from .conftest import ROOT

CONSTRAINTS = ROOT / "requirements" / "constraints-py311.txt"


def _pins(path: Path) -> dict[str, Version]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        assert match, f"not an exact pin: {line!r}"
        pins[canonicalize_name(match[1])] = Version(match[2])
    return pins


def _declared() -> list[Requirement]:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [
        Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]
    ]


def test_every_dependency_is_pinned_inside_its_range() -> None:
    pins = _pins(CONSTRAINTS)
    assert "happysad" not in pins  # the project itself is installed editable, never pinned
    for req in _declared():
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} has no pin in {CONSTRAINTS.name}"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"{name}=={pins[name]} vs {req}"
        )


def test_the_pins_leave_out_versions_with_known_holes() -> None:
    pins = _pins(CONSTRAINTS)
    assert pins["keras"] >= Version("3.11")  # safe-mode bypasses fixed in 3.9 and 3.11
    assert pins["opencv-python-headless"].major == 4  # 5.x has no CascadeClassifier
    floor = next(r for r in _declared() if r.name == "keras").specifier
    assert not floor.contains("3.10.0"), floor


def _make_install(tmp_path: Path, *args: str) -> list[str]:
    """Run the real `make install` recipe against a stub venv whose python logs pip calls."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    log = tmp_path / "pip.log"
    stub = venv / "bin" / "python"
    stub.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "-m" ]; then echo "$*" >> {log}; exit 0; fi\n'
        f'exec {sys.executable} "$@"\n'
    )
    stub.chmod(0o755)
    res = subprocess.run(
        ["make", "install", f"VENV={venv}", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert (venv / ".installed").exists()
    return log.read_text().splitlines()


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="the pins are for Python 3.11")
def test_make_install_installs_with_the_file_for_its_python(tmp_path: Path) -> None:
    calls = _make_install(tmp_path)
    assert calls[-1] == "-m pip install --quiet -c requirements/constraints-py311.txt -e .[dev]"
    calls = _make_install(tmp_path / "again", "NO_CONSTRAINTS=1")
    assert calls[-1] == "-m pip install --quiet -e .[dev]"
