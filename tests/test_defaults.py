"""Every default lives in exactly one place: the schemas in src/happysad/config.py.

The groups with a fixed shape (data, model, trainer, tracking, insight) each have a schema
(a dataclass) that Hydra offers as `<group>/schema`; every YAML of such a group starts from it
and holds only what differs. Two ways a second copy of a default sneaks back in, each caught
here:

- a YAML under conf/<group>/ restates a value it would inherit anyway (from the schema or from
  the option it extends), so the two copies can drift apart, as `data.demo.per_class` once did
  (400 in the schema, 1500 in data/demo.yaml);
- code reads a schema key with a fallback of its own (`cfg.get("http_timeout", 30)` while the
  schema says 20), so which default applies depends on the code path.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import typing
from pathlib import Path
from typing import Any

import pytest
from omegaconf import DictConfig, OmegaConf

from happysad.config import _SCHEMAS
from happysad.paths import PACKAGE_CONFIG_DIR

from .conftest import script_module

SRC = Path(__file__).resolve().parents[1] / "src" / "happysad"


# --- YAML: no repeated defaults ----------------------------------------------------------------


def _group_files() -> list[tuple[str, str]]:
    return [
        (group, path.stem)
        for group in _SCHEMAS
        for path in sorted((PACKAGE_CONFIG_DIR / group).glob("*.yaml"))
    ]


def _load(group: str, name: str) -> DictConfig:
    return OmegaConf.load(PACKAGE_CONFIG_DIR / group / f"{name}.yaml")


def _inherited(group: str, name: str, seen: tuple[str, ...] = ()) -> tuple[DictConfig, bool]:
    """What conf/<group>/<name>.yaml inherits (its defaults list, without its own keys) and
    whether that chain starts from the schema."""
    assert name not in seen, f"conf/{group}: defaults cycle {' -> '.join((*seen, name))}"
    base = OmegaConf.create({})
    from_schema = False
    for entry in _load(group, name).get("defaults", []):
        if entry == "_self_":
            continue
        assert isinstance(entry, str), f"conf/{group}/{name}.yaml: defaults entry {entry!r}"
        if entry == "schema":
            parent, parent_schema = OmegaConf.structured(_SCHEMAS[group]), True
        else:
            parent, parent_schema = _inherited(group, entry, (*seen, name))
            parent = OmegaConf.merge(parent, _own(group, entry))
        base = OmegaConf.merge(base, parent)
        from_schema = from_schema or parent_schema
    return base, from_schema


def _own(group: str, name: str) -> DictConfig:
    node = _load(group, name)
    node.pop("defaults", None)
    return node


def _typed(value: Any) -> Any:
    """A comparable value: bools tagged so that True != 1 (1 == 1.0 stays: the same number)."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, list):
        return [_typed(v) for v in value]
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    return value


def _compare(own: dict, base: Any, prefix: str) -> list[str]:
    out = []
    for key, mine in own.items():
        if not isinstance(base, dict) or key not in base:
            continue
        theirs = base[key]
        if isinstance(mine, dict) and isinstance(theirs, dict) and mine:
            out += _compare(mine, theirs, f"{prefix}{key}.")
        elif _typed(mine) == _typed(theirs):
            out.append(f"{prefix}{key}: {mine!r}")
    return out


def repeated_defaults(own: DictConfig, base: DictConfig) -> list[str]:
    """Keys of `own` (dotted, with the value) set to what `base` already gives them;
    interpolations compare as written (`${seed}` repeats `${seed}`), nothing is resolved."""
    return _compare(
        OmegaConf.to_container(own, resolve=False), OmegaConf.to_container(base, resolve=False), ""
    )


@pytest.mark.parametrize(("group", "name"), _group_files())
def test_yaml_holds_only_what_differs_from_its_schema(group: str, name: str) -> None:
    """Each option of a schema group starts from the schema (directly or through the option
    it extends) and sets no key to the value it already inherits.

    Only conf/<group>/ of the schema groups is checked: presets that write into another
    group (experiment/, hparams_search/, and augment/, init/, schedule/ with their
    `# @package` line) pin values over whatever option was picked before them, so restating
    a schema value there is a deliberate reset (init=scratch: model.init_from=null), not a
    second default.
    """
    base, from_schema = _inherited(group, name)
    assert from_schema, (
        f"conf/{group}/{name}.yaml: its defaults list must start from `schema` "
        f"(defaults: [schema, _self_]) or from an option that does"
    )
    repeats = repeated_defaults(_own(group, name), base)
    assert not repeats, (
        f"conf/{group}/{name}.yaml repeats defaults it inherits from the schema "
        f"(src/happysad/config.py) or its parent option; delete them: {repeats}"
    )


def test_repeat_check_catches_a_repeat_and_spares_a_difference() -> None:
    """The check above can fail: a restated default is found, a changed value is not."""
    base = OmegaConf.structured(_SCHEMAS["data"])
    own = OmegaConf.create(
        {
            "batch_size": 32,  # the schema's: a repeat
            "max_file_mb": 100,  # 100 == 100.0: the same number, a repeat
            "recursive": 1,  # not the schema's `true`
            "split": {"seed": "${seed}", "train": 0.8},  # the interpolation is the schema's
            "cache": "disk",
            "demo": {},  # null in the schema: a change
        }
    )
    assert sorted(repeated_defaults(own, base)) == [
        "batch_size: 32",
        "max_file_mb: 100",
        "split.seed: '${seed}'",
    ]


def test_every_schema_group_offers_its_schema_to_hydra(compose) -> None:
    """`defaults: [schema, _self_]` resolves for every schema group: the composed group has
    every schema key, so `--cfg job` lists them all and each can be set without a `+`."""
    cfg = compose(["data=folder"])
    for group, schema in _SCHEMAS.items():
        fields = {f.name for f in dataclasses.fields(schema)}
        assert set(cfg[group].keys()) >= fields, (group, fields - set(cfg[group].keys()))


def test_demo_sizes_are_written_once(compose) -> None:
    """What `make train` generates (the composed config) is the schema's DemoConf, and the
    generator's and the script's defaults are read from it, not written again."""
    import inspect

    from happysad.config import DemoConf
    from happysad.data import demo

    cfg = compose()
    want = DemoConf()
    assert dict(cfg.data.demo) == dataclasses.asdict(want)
    for fn in (demo.generate_demo_dataset, demo.ensure_demo_dataset):
        params = inspect.signature(fn).parameters
        for key in ("per_class", "image_size", "seed", "n_corrupt"):
            assert params[key].default == getattr(want, key), (fn.__name__, key)
    script = script_module("make_demo_data")
    args = script.parser().parse_args(["--out", "x"])
    assert (args.per_class, args.image_size, args.seed, args.n_corrupt) == (
        want.per_class,
        want.image_size,
        want.seed,
        want.n_corrupt,
    )
    makefile = (SRC.parents[1] / "Makefile").read_text()
    assert "--per-class" not in makefile and "--image-size" not in makefile


# --- code: no fallbacks for schema keys --------------------------------------------------------


def _schema_keys() -> tuple[set[str], set[str]]:
    """(every field name of every schema, every dotted path `group.field...`)."""
    names: set[str] = set()
    paths: set[str] = set()

    def walk(cls: type, prefix: str) -> None:
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            names.add(f.name)
            paths.add(prefix + f.name)
            for arg in (hints[f.name], *typing.get_args(hints[f.name])):
                if dataclasses.is_dataclass(arg):
                    walk(arg, f"{prefix}{f.name}.")

    for group, cls in _SCHEMAS.items():
        walk(cls, f"{group}.")
    return names, paths


# Names that hold a config node in this code base: `cfg`, `config`, `self.cfg`, and the group
# names as attributes of one (`cfg.tracking`). A name assigned from such an expression, or a
# parameter annotated DictConfig, holds one too (`t = cfg.trainer`, `def f(d: DictConfig)`).
CONFIG_NAMES = {"cfg", "config", "conf"}
GROUP_ATTRS = {*_SCHEMAS, "split", "demo", "fine_tune"}


class _FallbackFinder(ast.NodeVisitor):
    def __init__(self, names: set[str], paths: set[str]) -> None:
        self.names, self.paths = names, paths
        self.config_vars: list[set[str]] = [set()]
        self.found: list[tuple[int, str]] = []

    def _is_config(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Name):
            return node.id in CONFIG_NAMES or node.id in self.config_vars[-1]
        if isinstance(node, ast.Attribute):
            if node.attr in CONFIG_NAMES:
                return True
            return node.attr in GROUP_ATTRS and self._is_config(node.value)
        if isinstance(node, ast.Subscript):
            return self._is_config(node.value)
        return False

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        local = set(self.config_vars[-1])
        for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]:
            if arg.annotation is not None and "DictConfig" in ast.unparse(arg.annotation):
                local.add(arg.arg)
        self.config_vars.append(local)
        self.generic_visit(node)
        self.config_vars.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Assign(self, node: ast.Assign) -> None:
        if self._is_config(node.value):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    self.config_vars[-1].add(target.id)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        has_default = len(node.args) >= 2 or any(k.arg == "default" for k in node.keywords)
        key = node.args[0] if node.args else None
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "get"
            and has_default
            and isinstance(key, ast.Constant)
            and key.value in self.names
            and self._is_config(func.value)
        ):
            self.found.append((node.lineno, ast.unparse(node)))
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name == "getattr" and len(node.args) == 3 and self._is_config(node.args[0]):
            attr = node.args[1]
            if isinstance(attr, ast.Constant) and attr.value in self.names:
                self.found.append((node.lineno, ast.unparse(node)))
        # OmegaConf.select(cfg, "trainer.objective", default=...) and wrappers named *select
        if name.endswith("select") and len(node.args) >= 2:
            path = node.args[1]
            with_default = len(node.args) >= 3 or any(k.arg == "default" for k in node.keywords)
            if with_default and isinstance(path, ast.Constant) and path.value in self.paths:
                self.found.append((node.lineno, ast.unparse(node)))
        self.generic_visit(node)


def fallbacks_in(source: str) -> list[tuple[int, str]]:
    names, paths = _schema_keys()
    finder = _FallbackFinder(names, paths)
    finder.visit(ast.parse(source))
    return finder.found


def test_no_code_fallback_for_a_schema_key() -> None:
    """No `.get("<schema key>", default)`, `getattr(cfg, "<key>", default)` or
    `select(cfg, "<group.key>", default)` on a config node in src/happysad.

    `validate()` returns every group merged onto its schema, and composition starts every
    option from it, so such a fallback is either dead or a second default that can drift.
    A config node is `cfg`/`config`/`conf`, `self.cfg`, a group attribute of one
    (`cfg.tracking`), a name assigned from one, or a parameter annotated DictConfig. Not
    flagged: `.get` without a default, keys no schema defines, and plain dicts under other
    names (e.g. a saved model's happysad.json read with defaults for files written by older
    versions, serving/metadata.py).
    """
    found = [
        f"{path.relative_to(SRC.parent)}:{line}: {text}"
        for path in sorted(SRC.rglob("*.py"))
        for line, text in fallbacks_in(path.read_text())
    ]
    assert not found, "fallbacks for schema keys (the schema has the default):\n" + "\n".join(found)


def test_fallback_scan_flags_config_reads_only() -> None:
    """The scan above can fail, and stays quiet on legitimate `.get` calls."""
    flagged = """
def a(self):
    return self.cfg.get("http_timeout", 30)
def b(cfg):
    t = cfg.tracking
    return t.get("required", True), getattr(cfg.trainer, "epochs", 3)
def c(d: DictConfig):
    return d.get("batch_size", 32)
def e(config):
    return _select(config, "trainer.objective", "objective")
"""
    quiet = """
def a(meta: dict):
    return meta.get("channels", 3)          # a saved model's metadata, not a config node
def b(cfg):
    return cfg.trainer.get("resume"), cfg.get("not_a_schema_key", 1)
def c(state):
    return state.get("experiment", "")
def e(config):
    return _select(config, "hydra.sweeper.n_jobs", None)
"""
    assert [line for line, _ in fallbacks_in(flagged)] == [3, 6, 6, 8, 10]
    assert fallbacks_in(quiet) == []


# --- tracking.uri: $MLFLOW_TRACKING_URI, as every MLflow tool ------------------------------------

ENV_URI = "http://mlflow.example:5000"


def test_tracking_uri_is_the_local_store_without_the_env_var(
    compose, monkeypatch: pytest.MonkeyPatch
) -> None:
    from happysad.config import validate
    from happysad.paths import default_tracking_uri

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    cfg = compose()
    local = f"sqlite:///{cfg.paths.output_dir}/mlflow.db"
    assert cfg.tracking.uri == local == default_tracking_uri()
    assert validate(cfg).tracking.uri == local
    assert cfg.tracking.artifact_location == f"{cfg.paths.output_dir}/mlartifacts"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "")  # empty counts as unset, as in MLflow
    assert compose().tracking.uri == local == default_tracking_uri()


@pytest.mark.parametrize("tracking", ["local", "server"])
def test_tracking_uri_follows_the_env_var(
    compose, monkeypatch: pytest.MonkeyPatch, tracking: str
) -> None:
    """Training, predict, compare and the API look at one store: the one MLflow would."""
    from happysad.config import validate
    from happysad.paths import default_tracking_uri

    monkeypatch.setenv("MLFLOW_TRACKING_URI", ENV_URI)
    cfg = compose([f"tracking={tracking}"])
    assert cfg.tracking.uri == ENV_URI == default_tracking_uri()
    assert validate(cfg).tracking.uri == ENV_URI
    assert cfg.tracking.artifact_location is None  # a server decides, not a path of this machine
    # An explicit override still wins; tracking=none stays off.
    assert compose(["tracking.uri=sqlite:////tmp/x.db"]).tracking.uri == "sqlite:////tmp/x.db"
    assert compose(["tracking=none"]).tracking.uri is None


def test_cfg_job_resolve_shows_the_store(tmp_path: Path) -> None:
    from .conftest import run_cli

    shown = run_cli(
        "happysad-train", "--cfg", "job", "--resolve", env={"MLFLOW_TRACKING_URI": ENV_URI}
    )
    assert shown.returncode == 0, shown.stderr
    assert f"uri: {ENV_URI}" in shown.stdout.split("tracking:", 1)[1]


def test_resume_reopens_the_store_the_run_started_in(
    compose, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The saved config reads $MLFLOW_TRACKING_URI again; the run's state pins its store."""
    from happysad.training.resume import resume_config, write_state

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    run_dir = tmp_path / "run"
    (run_dir / ".hydra").mkdir(parents=True)
    pinned = f"paths.run_dir={run_dir}"  # outside a running app there is no Hydra run dir
    OmegaConf.save(compose([pinned]), run_dir / ".hydra" / "config.yaml")
    write_state(run_dir, "abc123", ENV_URI)
    cfg, _ = resume_config(compose([pinned, f"trainer.resume={run_dir}"]))
    assert cfg.tracking.uri == ENV_URI  # not the local store the saved config now resolves to


def test_a_second_job_in_one_process_uses_its_own_store(tmp_path: Path, monkeypatch) -> None:
    """MLflow exports MLFLOW_TRACKING_URI when a store is picked; the next composed job
    (a notebook's second api.train) must still default to its own store, not that one."""
    from happysad import api
    from happysad.paths import use_mlflow_store

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    use_mlflow_store(f"sqlite:///{tmp_path / 'first' / 'mlflow.db'}")
    assert "MLFLOW_TRACKING_URI" not in os.environ
    cfg = api.compose([f"paths.output_dir={tmp_path / 'second'}"])
    assert cfg.tracking.uri == f"sqlite:///{tmp_path / 'second'}/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://users-choice:5000")
    use_mlflow_store(f"sqlite:///{tmp_path / 'third' / 'mlflow.db'}")
    assert os.environ["MLFLOW_TRACKING_URI"] == "http://users-choice:5000"
