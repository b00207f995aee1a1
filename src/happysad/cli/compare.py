"""`happysad-compare`: the runs of an experiment or of one sweep, as a table sorted by a metric.

Examples:
  happysad-compare                          # every run of experiment `happysad`, best first
  happysad-compare --sweep latest           # the trials of the latest sweep, and its best trial
  happysad-compare --sweep latest --plot lr.png --x optimizer.lr
  happysad-compare --metric test_f1 --top 5 --plot curves.png --curve val_loss
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from typing import Any

from happysad.errors import first_line, redact_text
from happysad.paths import default_tracking_uri
from happysad.tracking import short_http_timeouts


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="happysad-compare",
        description="List the runs of an MLflow experiment or of one sweep, sorted by a metric: "
        "the params that differ between them and their metrics. Optionally plot.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:" + (__doc__ or "").split("Examples:", 1)[-1],
    )
    p.add_argument(
        "--tracking-uri",
        default=None,
        help="MLflow store (default: $MLFLOW_TRACKING_URI or the project's outputs/mlflow.db)",
    )
    p.add_argument("--experiment", default="happysad", help="experiment name (default: happysad)")
    p.add_argument(
        "--sweep",
        default=None,
        metavar="ID",
        help="only the trials of one sweep: `latest`, a sweep id, or the parent run's id",
    )
    p.add_argument(
        "--metric",
        default=None,
        help="sort by this metric (default: objective, the metric the runs were trained to optimise)",
    )
    p.add_argument(
        "--direction",
        choices=("maximize", "minimize"),
        default=None,
        help="best first means highest (maximize) or lowest; default: the runs' objective "
        "direction for `objective`, else minimize for losses/times and maximize otherwise",
    )
    p.add_argument("--top", type=int, default=None, help="show only the best N runs")
    p.add_argument(
        "--params",
        default=None,
        help="comma-separated param columns (default: the overrides that differ)",
    )
    p.add_argument(
        "--all-params", action="store_true", help="also every other param whose value differs"
    )
    p.add_argument("--metrics", default=None, help="comma-separated metric columns")
    p.add_argument(
        "--status",
        choices=("finished", "all"),
        default="all",
        help="which runs to list (default: all, failed ones last)",
    )
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument("--plot", default=None, metavar="FILE", help="write a plot to this PNG")
    p.add_argument(
        "--x",
        default=None,
        metavar="PARAM",
        help="plot the metric against this param (default plot: per-epoch curves of the top runs)",
    )
    p.add_argument(
        "--curve",
        default=None,
        metavar="METRIC",
        help="per-epoch metric for the curves plot (default: val_<metric> or val_accuracy)",
    )
    p.add_argument(
        "--curves-top", type=int, default=5, help="how many runs the curves plot shows (default 5)"
    )
    return p


def _csv_list(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def _curve_metric(metric: str, runs: list[Any], explicit: str | None) -> str:
    if explicit:
        return explicit
    if metric == "objective":
        metric = next(
            (r.params["trainer.objective"] for r in runs if "trainer.objective" in r.params),
            "val_accuracy",
        )
    base = metric.removeprefix("best_")
    if base.startswith("val_"):
        return base
    return "val_accuracy"


def main(argv: list[str] | None = None) -> int:
    from happysad.tracking import compare

    args = _parser().parse_args(argv)
    uri = args.tracking_uri or default_tracking_uri()
    short_http_timeouts()
    try:
        runs, parent, client = compare.load_runs(uri, args.experiment, args.sweep)
    except LookupError as err:
        print(f"error: {redact_text(str(err))}", file=sys.stderr)
        return 2
    except Exception as err:  # the store cannot be read: one line, never a traceback
        print(
            f"error: --tracking-uri={redact_text(uri)}: cannot read runs "
            f"({redact_text(first_line(err))})",
            file=sys.stderr,
        )
        return 5
    if args.status == "finished":
        runs = [r for r in runs if r.status == "FINISHED"]
    if not runs:
        print(
            f"error: no runs in experiment {args.experiment!r} ({redact_text(uri)})",
            file=sys.stderr,
        )
        return 1

    metric = args.metric
    if metric is None:
        metric = "objective" if any("objective" in r.metrics for r in runs) else "test_accuracy"
    direction = args.direction or compare.direction_for(metric, runs)
    ordered = compare.sort_runs(runs, metric, direction)
    shown = ordered[: args.top] if args.top else ordered
    header, rows = compare.build_table(
        ordered,
        metric,
        direction,
        metrics=_csv_list(args.metrics),
        params=_csv_list(args.params),
        all_params=args.all_params,
        top=args.top,
    )

    if args.format == "csv":
        w = csv.writer(sys.stdout)
        w.writerow(header)
        w.writerows(rows)
    elif args.format == "json":
        print(json.dumps([dict(zip(header, r, strict=True)) for r in rows], indent=2))
    else:
        what = f"experiment {args.experiment!r}"
        if parent is not None:
            sid = parent.data.tags.get(compare.TAG_SWEEP_ID, "?")
            what = f"sweep {sid} ({parent.info.run_name}, parent run {parent.info.run_id[:8]}, {parent.info.status})"
        n_fin = sum(r.status == "FINISHED" for r in runs)
        print(f"{what}: {len(runs)} runs ({n_fin} finished), sorted by {metric} ({direction})")
        print(compare.format_table(header, rows))
        if parent is not None and parent.data.tags.get(compare.TAG_BEST_RUN_ID):
            note = parent.data.tags.get(compare.TAG_NOTE, "")
            print(f"best trial (recorded on the parent run): {note}")
        if len(shown) < len(ordered):
            print(f"({len(ordered) - len(shown)} more runs not shown; drop --top to see them)")

    if args.plot:
        from happysad.insight import figures as plots

        try:
            if args.x:
                fig = plots.plot_metric_vs_param(ordered, args.x, metric)
            else:
                top = [r for r in ordered if r.status == "FINISHED"][: args.curves_top]
                curve = _curve_metric(metric, top, args.curve)
                labels = [
                    f"#{i} {r.run_id[:8]} {r.trial and 'trial ' + r.trial}".strip()
                    for i, r in enumerate(top, 1)
                ]
                fig = plots.plot_curves(client, top, curve, labels)
        except LookupError as err:
            print(f"error: plot: {err}", file=sys.stderr)
            return 1
        path = plots.save_figure(fig, args.plot)
        if path is None:
            print(f"error: plot: could not write {args.plot}", file=sys.stderr)
            return 1
        print(f"plot written to {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
