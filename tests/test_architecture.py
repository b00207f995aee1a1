"""The source tree keeps its shape: layers import downwards only, no cycles, short functions.

Read from the code with `ast` (nothing is imported), so a change that breaks the layering
fails here with the offending import named, not later as a confusing circular import.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "happysad"

# Lower layers never import higher ones. Same-rank packages may not import each other.
RANKS = {
    "": 0,  # the small top level: config, errors, paths, resources, specs, evaluate
    "data": 1,
    "tracking": 2,
    "insight": 3,
    "serving": 2,
    "sweeps": 3,
    "training": 4,
    "api": 5,  # the Python API (train/predict/evaluate): the same code paths as the CLIs
    "cli": 6,  # console scripts: argument parsing over the API
    "__main__": 7,  # `python -m happysad <command>`: dispatches to the console scripts
}


# Import paths kept so models saved by earlier versions (whose pickled pyfunc names them)
# still load; each only re-exports from its new home.
COMPAT = {"happysad.packaging"}


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in SRC.rglob("*.py")}


def _imports(path: Path, known: set[str]) -> set[str]:
    """Every happysad module `path` imports, at module level or inside functions."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            if name.startswith("happysad") and name in known:
                out.add(name)
    return out


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in RANKS) else ""


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    known = set(mods)
    return {m: _imports(p, known) - {m} for m, p in mods.items()}


def test_layers_import_downwards_only() -> None:
    bad = []
    for mod, deps in _graph().items():
        if mod == "happysad" or mod in COMPAT:
            continue
        here = _package(mod)
        for dep in deps:
            there = _package(dep)
            if dep == "happysad" or there == here:
                continue
            if RANKS[there] > RANKS[here] or (RANKS[there] == RANKS[here] and here):
                bad.append(f"{mod} imports {dep}")
    assert not bad, "\n".join(sorted(bad))


def test_no_import_cycles() -> None:
    graph = _graph()
    # Packages' __init__ files are imported implicitly by their children: ignore those edges.
    graph = {m: {d for d in deps if not m.startswith(d + ".")} for m, deps in graph.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return [*stack[stack.index(dep) :], dep]
            if dep not in state and (cycle := visit(dep)):
                return cycle
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            raise AssertionError("import cycle: " + " -> ".join(cycle))


def test_a_small_top_level_and_short_functions() -> None:
    top = sorted(p.stem for p in SRC.glob("*.py") if p.stem != "__init__")
    assert len(top) <= 8, top
    long = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1
                if n > 120:
                    long.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name} ({n} lines)")
    assert not long, "\n".join(long)


def test_the_training_job_reads_on_one_screen() -> None:
    tree = ast.parse((SRC / "training" / "job.py").read_text())
    train = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "train")
    assert train.end_lineno - train.lineno + 1 <= 60


def _classes_inside_functions(tree: ast.AST) -> list[tuple[str, str, int]]:
    """(function, class, line) for every class statement nested in a function body."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.ClassDef):
                    found.append((node.name, inner.name, inner.lineno))
    return found


def test_no_class_is_defined_inside_a_function() -> None:
    """A class made by a factory cannot be imported, typed or subclassed: give it a module
    (Keras callbacks live in training/callbacks.py, imported late by the job)."""
    nested = [
        f"{path.relative_to(SRC)}:{line} class {cls} inside {fn}()"
        for path in SRC.rglob("*.py")
        for fn, cls, line in _classes_inside_functions(ast.parse(path.read_text()))
    ]
    assert not nested, "\n".join(sorted(nested))


def test_the_nested_class_check_sees_a_factory() -> None:
    """The check above would pass vacuously if it could not see a nested class."""
    tree = ast.parse("def make():\n    class Inner:\n        pass\n    return Inner\n")
    assert _classes_inside_functions(tree) == [("make", "Inner", 2)]
    assert _classes_inside_functions(ast.parse("class Top:\n    def m(self): ...\n")) == []


def _tag_name_literals(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, literal) for tag names written as string literals: `.set_tag(x, "name", v)`,
    `.set_tags({"name": v})`, `<...>.tags.get("name")`, `<...>.tags["name"]`, and the keys of
    a dict literal assigned to a name that ends in `tags`."""

    def keys(d: ast.AST) -> list[ast.AST]:
        return list(d.keys) if isinstance(d, ast.Dict) else []  # type: ignore[arg-type]

    def is_tags(node: ast.AST) -> bool:
        return isinstance(node, ast.Attribute) and node.attr == "tags"

    found: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            f = node.func
            if f.attr == "set_tag" and len(node.args) >= 2:
                found.append(node.args[1])
            elif f.attr == "set_tags" and node.args:
                found += keys(node.args[0])
            elif f.attr == "get" and is_tags(f.value) and node.args:
                found.append(node.args[0])
        elif isinstance(node, ast.Subscript) and is_tags(node.value):
            found.append(node.slice)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id.endswith("tags") for t in targets):
                found += keys(node.value)
    return sorted(
        (n.lineno, n.value)
        for n in found
        if isinstance(n, ast.Constant) and isinstance(n.value, str)
    )


def test_tag_names_are_written_once_in_tracker_py() -> None:
    """Writers and readers of MLflow tags use tracker.py's TAG_* constants, so a renamed tag
    cannot leave a reader behind."""
    home = SRC / "tracking" / "tracker.py"
    literals = [
        f"{path.relative_to(SRC)}:{line} {value!r}"
        for path in SRC.rglob("*.py")
        if path != home
        for line, value in _tag_name_literals(ast.parse(path.read_text()))
    ]
    assert not literals, "use a TAG_* constant from tracking/tracker.py:\n" + "\n".join(literals)


def test_the_tag_literal_check_sees_each_form() -> None:
    code = (
        "c.set_tag(run, 'a', 1)\n"
        "t.set_tags({'b': 1, TAG_X: 2})\n"
        "run.data.tags.get('c', '')\n"
        "run.data.tags['d']\n"
        "tags = {'e': 1}\n"
        "d.get('not_a_tag')\n"
        "c.set_tag(run, TAG_Y, 'value')\n"
    )
    assert [v for _, v in _tag_name_literals(ast.parse(code))] == ["a", "b", "c", "d", "e"]
