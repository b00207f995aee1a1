"""Compare the runs of an experiment or of one sweep: a sorted table of what differs.

The table shows what differs between the runs (the command-line overrides that vary, with
the value each run used, and optionally every differing param) and their metrics, sorted by
one metric. `happysad-compare` (cli/compare.py) prints it; the sweep callback (sweep.py)
uses the same helpers to pick the best trial of a sweep. The plots of `--plot` are drawn by
insight/figures/runs.py.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Tags written by the training job (train.py, sweep.py).
from happysad.tracking.tracker import (  # noqa: F401  (compare reads what the tracker writes)
    TAG_BEST_RUN_ID,
    TAG_NOTE,
    TAG_OVERRIDES,
    TAG_OVERRIDES_JSON,
    TAG_PARENT,
    TAG_ROLE,
    TAG_RUN_DIR,
    TAG_RUN_NAME,
    TAG_SWEEP_ID,
    TAG_TRIAL,
)
from happysad.tracking.tracker import client as mlflow_client

DEFAULT_METRICS = (
    "objective",
    "best_val_accuracy",
    "best_val_loss",
    "test_accuracy",
    "test_f1",
    "test_roc_auc",
    "epochs_run",
    "fit_seconds",
)
_COUNT_METRICS = ("epochs_run",)
# Params that only say where a run wrote its files: never a difference worth a column. Runs
# logged since params leave out per-run paths (tracking/params.py) have none of them; runs in
# older stores do, and their values that hold the run dir are compared without it.
_RUN_SPECIFIC_KEYS = ("paths.run_dir", "tracking.run_name")


@dataclass
class RunInfo:
    """One MLflow run, reduced to what a comparison needs."""

    run_id: str
    name: str
    status: str
    start_time: int
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]
    overrides: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_mlflow(cls, run: Any) -> RunInfo:
        tags = dict(run.data.tags)
        return cls(
            run_id=run.info.run_id,
            name=run.info.run_name or tags.get(TAG_RUN_NAME, ""),
            status=run.info.status,
            start_time=int(run.info.start_time or 0),
            params=dict(run.data.params),
            metrics={k: float(v) for k, v in run.data.metrics.items()},
            tags=tags,
            overrides=parse_overrides(tags),
        )

    @property
    def trial(self) -> str:
        return self.tags.get(TAG_TRIAL, "")


def override_key(override: str) -> tuple[str, str] | None:
    """'+callbacks.x=1' -> ('callbacks.x', '1'); deletions ('~key') and bare words -> None."""
    if override.startswith("~") or "=" not in override:
        return None
    key, _, value = override.partition("=")
    return key.lstrip("+"), value


def split_overrides(text: str) -> list[str]:
    """The space-joined overrides tag back into overrides (a value may contain spaces)."""
    if not text or text == "(none)":
        return []
    out: list[str] = []
    for token in text.split(" "):
        if out and ("=" not in token or token.startswith("=")):
            out[-1] += " " + token  # continuation of a value like `[48, 48]`
        elif token:
            out.append(token)
    return out


def parse_overrides(tags: Mapping[str, str]) -> dict[str, str]:
    """key -> value of a run's command-line overrides (JSON tag of sweep jobs, else the text)."""
    raw: list[str]
    if TAG_OVERRIDES_JSON in tags:
        try:
            raw = [str(o) for o in json.loads(tags[TAG_OVERRIDES_JSON])]
        except ValueError:
            raw = split_overrides(tags.get(TAG_OVERRIDES, ""))
    else:
        raw = split_overrides(tags.get(TAG_OVERRIDES, ""))
    out: dict[str, str] = {}
    for o in raw:
        kv = override_key(o)
        if kv is not None:
            out[kv[0]] = kv[1]
    return out


def _value_of(run: RunInfo, key: str) -> str | None:
    """What a run used for `key`: its param (the resolved value), else its override."""
    if key in run.params:
        return run.params[key]
    if key in run.overrides:
        return run.overrides[key]
    name = run.params.get(f"{key}.name")  # a config group such as model=...: its name field
    return name


def varying_override_keys(runs: Sequence[RunInfo]) -> list[str]:
    """Override keys whose value is not the same in every run, in first-seen order."""
    keys: list[str] = []
    for r in runs:
        for k in r.overrides:
            if k not in keys:
                keys.append(k)
    if len(runs) < 2:
        return keys
    return [k for k in keys if len({_value_of(r, k) for r in runs}) > 1]


def varying_params(runs: Sequence[RunInfo], exclude_prefixes: Iterable[str] = ()) -> list[str]:
    """Params whose value differs between runs, except those that only name a run's folder
    (a value holding the run's own folder, its `happysad.run_dir` tag, is read without it)."""
    if len(runs) < 2:
        return []
    prefixes = tuple(f"{p}." for p in exclude_prefixes) + tuple(exclude_prefixes)
    keys = sorted({k for r in runs for k in r.params})
    out = []
    for k in keys:
        if k in _RUN_SPECIFIC_KEYS or k.startswith(prefixes):
            continue
        values = []
        for r in runs:
            v = r.params.get(k)
            run_dir = r.tags.get(TAG_RUN_DIR)
            if v is not None and run_dir and run_dir in v:
                v = v.replace(run_dir, "<run_dir>")
            values.append(v)
        if len(set(values)) > 1:
            out.append(k)
    return out


def direction_for(metric: str, runs: Sequence[RunInfo] = ()) -> str:
    """maximize/minimize: the runs' own objective direction for `objective`, else by name."""
    if metric == "objective" or any(r.params.get("trainer.objective") == metric for r in runs):
        for r in runs:
            d = r.params.get("trainer.objective_direction")
            if d in ("maximize", "minimize"):
                return d
    low = metric.lower()
    if any(w in low for w in ("loss", "error", "seconds", "mae", "mse")):
        return "minimize"
    return "maximize"


def _finite(v: Any) -> bool:
    return isinstance(v, int | float) and math.isfinite(v)


def sort_runs(runs: Sequence[RunInfo], metric: str, direction: str) -> list[RunInfo]:
    """Best first; runs without a finite value of `metric` last (in start order)."""
    sign = -1.0 if direction == "maximize" else 1.0
    have = [r for r in runs if _finite(r.metrics.get(metric))]
    rest = sorted((r for r in runs if r not in have), key=lambda r: r.start_time)
    # Ties: the earlier run (lower trial number) first, the same order the sweep records.
    have.sort(key=lambda r: (sign * r.metrics[metric], _trial_num(r), r.start_time))
    return have + rest


def _trial_num(r: RunInfo) -> int:
    return int(r.trial) if r.trial.isdigit() else 0


def best_run(runs: Sequence[RunInfo], metric: str, direction: str) -> RunInfo | None:
    finished = [r for r in runs if r.status == "FINISHED" and _finite(r.metrics.get(metric))]
    ordered = sort_runs(finished, metric, direction)
    return ordered[0] if ordered else None


def _fmt_metric(v: float | None, name: str = "") -> str:
    if v is None or not isinstance(v, int | float) or not math.isfinite(v):
        return "-"  # not logged, or not measured yet (test_accuracy's NaN placeholder)
    if float(v).is_integer() and (name in _COUNT_METRICS or name.startswith("n_")):
        return str(int(v))
    return f"{v:.4f}"


def build_table(
    runs: Sequence[RunInfo],
    metric: str,
    direction: str,
    metrics: Sequence[str] | None = None,
    params: Sequence[str] | None = None,
    all_params: bool = False,
    top: int | None = None,
) -> tuple[list[str], list[list[str]]]:
    """Header and rows (strings), best run first; columns from all runs, rows for the `top`."""
    ordered = sort_runs(runs, metric, direction)
    param_cols = list(params) if params else varying_override_keys(ordered)
    if all_params:
        param_cols += [k for k in varying_params(ordered) if k not in param_cols]
    if metrics:
        metric_cols = list(metrics)
    else:
        present = {k for r in ordered for k in r.metrics}
        metric_cols = [m for m in DEFAULT_METRICS if m in present]
    metric_cols = [metric] + [m for m in metric_cols if m != metric]
    has_trials = any(r.trial for r in ordered)
    header = ["rank", *(["trial"] if has_trials else []), "run_id", "status"]
    header += param_cols + metric_cols
    rows = []
    for i, r in enumerate(ordered[:top] if top else ordered, 1):
        row = [str(i), *([r.trial or "-"] if has_trials else []), r.run_id[:8], r.status]
        row += [(_value_of(r, k) or "-") for k in param_cols]
        row += [_fmt_metric(r.metrics.get(m), m) for m in metric_cols]
        rows.append(row)
    return header, rows


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Plain aligned columns (numbers right-aligned), one run per line."""

    def numeric(s: str) -> bool:
        try:
            float(s)
        except ValueError:
            return False
        return True

    def short(s: str) -> str:  # 0.0006824078427098838 -> 0.0006824 (only for reading)
        if len(s) > 9 and numeric(s) and any(c in s for c in ".e"):
            return f"{float(s):.4g}"
        return s

    rows = [[short(c) for c in row] for row in rows]
    cols = list(zip(header, *rows, strict=False)) if rows else [(h,) for h in header]
    widths = [max(len(str(c)) for c in col) for col in cols]
    lines = []
    for n, line in enumerate([list(header), *rows]):
        cells = []
        for i, cell in enumerate(line):
            is_num = n > 0 and numeric(cell)
            cells.append(cell.rjust(widths[i]) if is_num else cell.ljust(widths[i]))
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


# --- MLflow access ---------------------------------------------------------------------------


def search_runs(client: Any, experiment_id: str, filter_string: str = "") -> list[Any]:
    """Every run matching the filter (pages through MLflow's result limit)."""
    out: list[Any] = []
    token = None
    while True:
        page = client.search_runs(
            [experiment_id], filter_string=filter_string, max_results=1000, page_token=token
        )
        out.extend(page)
        token = page.token
        if not token:
            return out


def sweep_parents(client: Any, experiment_id: str) -> list[Any]:
    runs = search_runs(client, experiment_id, f"tags.`{TAG_ROLE}` = 'sweep'")
    return sorted(runs, key=lambda r: r.info.start_time or 0, reverse=True)


def find_sweep(client: Any, experiment_id: str, sweep: str) -> Any:
    """The parent run of a sweep given `latest`, a sweep id, or the parent's run id (prefix)."""
    parents = sweep_parents(client, experiment_id)
    if not parents:
        raise LookupError("no sweep in this experiment (run `happysad-train -m ...` first)")
    if sweep == "latest":
        return parents[0]
    for p in parents:
        if p.data.tags.get(TAG_SWEEP_ID) == sweep or p.info.run_id.startswith(sweep):
            return p
    known = ", ".join(p.data.tags.get(TAG_SWEEP_ID, "?") for p in parents[:10])
    raise LookupError(f"no sweep {sweep!r} (recent sweeps: {known})")


def trial_runs(client: Any, experiment_id: str, sweep_id: str) -> list[RunInfo]:
    runs = search_runs(
        client,
        experiment_id,
        f"tags.`{TAG_SWEEP_ID}` = '{sweep_id}' and tags.`{TAG_ROLE}` = 'trial'",
    )
    return [RunInfo.from_mlflow(r) for r in runs]


def load_runs(
    tracking_uri: str, experiment: str, sweep: str | None = None
) -> tuple[list[RunInfo], Any | None, Any]:
    """(runs, sweep parent or None, client): a sweep's trials, or an experiment's runs
    without the sweep parents."""
    client = mlflow_client(tracking_uri)
    exp = client.get_experiment_by_name(experiment)
    if exp is None:
        raise LookupError(f"no experiment {experiment!r} in {tracking_uri}")
    if sweep:
        parent = find_sweep(client, exp.experiment_id, sweep)
        runs = trial_runs(client, exp.experiment_id, parent.data.tags[TAG_SWEEP_ID])
        return runs, parent, client
    runs = [RunInfo.from_mlflow(r) for r in search_runs(client, exp.experiment_id)]
    return [r for r in runs if r.tags.get(TAG_ROLE) != "sweep"], None, client
