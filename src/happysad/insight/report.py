"""One self-contained HTML page per run: read a run at a glance, anywhere.

Everything is inline (CSS, and every plot as a base64 PNG ``data:`` URI): no scripts, no
external files or fonts, so the page renders the same from the run dir, as an MLflow artifact
(the UI shows HTML artifacts in its viewer) or mailed as one file. Text from the run (paths,
class names, config) is HTML-escaped. No TensorFlow here.
"""

from __future__ import annotations

import base64
import html
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# (section id, heading, plot key(s), caption): the order of the page.
_PLOT_SECTIONS: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    (
        "curves",
        "Training curves",
        ("curves",),
        "Train vs validation per epoch; the dotted line marks the best validation loss.",
    ),
    (
        "roc-pr",
        "ROC and precision-recall",
        ("roc_pr",),
        "Ranking quality independent of the threshold.",
    ),
    (
        "calibration",
        "Calibration",
        ("calibration",),
        "Reliability diagram: accuracy against the confidence of the predicted class, in the "
        "15 bins of the expected calibration error (ECE). On the diagonal, a confidence of 0.8 "
        "is right 80% of the time; below it, the model is over-confident.",
    ),
    (
        "threshold",
        "Threshold vs precision / recall",
        ("threshold",),
        "What moving the decision threshold would trade.",
    ),
    (
        "gradcam",
        "Grad-CAM",
        ("gradcam",),
        "Where the evidence for the predicted class is, on test images of every class, "
        "right and wrong.",
    ),
    (
        "examples",
        "Most-wrong examples",
        ("most_wrong",),
        "The test images with the lowest probability for their true class (highest loss).",
    ),
)

_CSS = """
body{font-family:-apple-system,'Segoe UI',Roboto,'DejaVu Sans',Arial,sans-serif;margin:0;
 color:#1f2328;background:#f6f8fa;line-height:1.45}
main{max-width:1180px;margin:0 auto;padding:18px 24px 40px}
h1{font-size:1.55em;margin:0.2em 0}h2{font-size:1.2em;margin:0 0 0.5em;
 border-bottom:1px solid #d0d7de;padding-bottom:0.25em}
section{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:14px 18px;margin:14px 0}
.sub{color:#59636e;font-size:0.92em}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:10px 0}
.card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:8px 14px;min-width:110px}
.card b{display:block;font-size:1.35em}.card span{color:#59636e;font-size:0.85em}
table{border-collapse:collapse;font-size:0.9em;margin:6px 0 10px}
th,td{border:1px solid #d0d7de;padding:3px 9px;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
img{max-width:100%;height:auto;display:block;margin:6px 0}
.row{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}.row>div{flex:1 1 340px}
pre{background:#f6f8fa;border:1px solid #d0d7de;padding:8px;overflow:auto;font-size:0.82em}
.warn{color:#9a6700}.bad{color:#c62828}.ok{color:#2e7d32}
nav a{margin-right:12px;font-size:0.9em}
"""


@dataclass
class ReportInputs:
    """What the report shows; every field has a sensible empty value."""

    title: str
    class_names: list[str]
    metrics: dict[str, float]
    eval_split: str = "test"
    run_id: str | None = None
    run_name: str = ""
    created: str = ""
    settings: dict[str, Any] = field(default_factory=dict)  # key config values, in order
    config_yaml: str = ""
    split_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    scan_summary: str = ""
    split_summary: str = ""
    rejected: list[dict] = field(default_factory=list)  # path, class_name, reason, action
    duplicates: list[dict] = field(default_factory=list)  # sha256, files, classes, splits
    face_crop: dict | None = None  # {"per_split": {split: [found, total]}, "fallback": [...]}
    confusion: Any = None  # (C, C) counts
    plots: dict[str, str | Path] = field(default_factory=dict)  # key -> PNG file
    notes: list[str] = field(default_factory=list)


def _e(value: Any) -> str:
    """Text from the run, HTML-escaped: paths and class names may hold <, & or quotes."""
    return html.escape(str(value), quote=True)


def embed_png(path: str | Path, alt: str, max_width: int | None = None) -> str:
    """An <img> with the PNG inlined as base64 (the page needs no other file)."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    style = f' style="max-width:min(100%,{max_width}px)"' if max_width else ""
    return f'<img alt="{_e(alt)}"{style} src="data:image/png;base64,{data}">'


def _fmt(v: Any) -> str:
    """A value as a cell shows it: 4 decimals, thousands separated, NaN as n/a."""
    if isinstance(v, float):
        if math.isnan(v):
            return "n/a"
        return f"{v:.4f}" if abs(v) < 1000 else f"{v:,.0f}"
    return str(v)


def _table(header: list[str], rows: list[list[Any]], numeric_from: int = 1) -> str:
    """An HTML table; numbers from column ``numeric_from`` on are right-aligned to compare."""
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for i, v in enumerate(row):
            cls = ' class="num"' if i >= numeric_from and isinstance(v, int | float) else ""
            cells.append(f"<td{cls}>{_e(_fmt(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _cards(m: dict[str, float], prefix: str) -> str:
    """The headline metrics as cards at the top of the page, read before anything else."""
    keys = [
        ("accuracy", "accuracy"),
        ("precision", "precision"),
        ("recall", "recall"),
        ("f1", "F1"),
        ("roc_auc", "ROC AUC"),
        ("log_loss", "log loss"),
        ("ece", "ECE"),
    ]
    out = []
    for key, label in keys:
        v = m.get(f"{prefix}{key}")
        if v is not None:
            out.append(
                f"<div class='card'><b>{_e(_fmt(float(v)))}</b><span>{_e(label)}</span></div>"
            )
    n = m.get(f"{prefix}n_images")
    if n is not None:
        out.append(f"<div class='card'><b>{int(n)}</b><span>{_e(prefix[:-1])} images</span></div>")
    return f"<div class='cards'>{''.join(out)}</div>"


def _config_section(r: ReportInputs) -> str:
    """Key settings as a table, the full resolved config folded away under them."""
    rows = [[k, v] for k, v in r.settings.items()]
    parts = ["<section id='config'><h2>Config summary</h2>"]
    parts.append(_table(["setting", "value"], rows, numeric_from=99) if rows else "")
    if r.config_yaml:
        parts.append(
            "<details><summary>Full resolved config</summary>"
            f"<pre>{_e(r.config_yaml)}</pre></details>"
        )
    parts.append("</section>")
    return "".join(parts)


def _data_section(r: ReportInputs) -> str:
    """Class counts per split, skipped files, duplicates and face-crop fallbacks."""
    parts = ["<section id='data'><h2>Data</h2>"]
    if r.split_counts:
        splits = list(r.split_counts)
        rows = []
        for name in r.class_names:
            rows.append([name, *[r.split_counts[s].get(name, 0) for s in splits]])
        rows.append(["all", *[sum(r.split_counts[s].values()) for s in splits]])
        parts.append("<h3>Images per class and split</h3>")
        parts.append(_table(["class", *splits], rows))
    parts.append("<h3>Cleaning</h3>")
    if r.scan_summary:
        parts.append(f"<p>{_e(r.scan_summary)}</p>")
    skipped = [x for x in r.rejected if x.get("action") != "used whole image"]
    if skipped:
        rows = [
            [x.get("path", ""), x.get("class_name", ""), x.get("reason", ""), x.get("action", "")]
            for x in skipped[:25]
        ]
        more = (
            f"<p class='sub'>... and {len(skipped) - 25} more (data/cleaning_report.csv)</p>"
            if len(skipped) > 25
            else ""
        )
        parts.append(_table(["file", "class", "reason", "action"], rows, numeric_from=99) + more)
    else:
        parts.append("<p class='ok'>No file was skipped.</p>")
    parts.append("<h3>Duplicates</h3>")
    if r.duplicates:
        cross = [d for d in r.duplicates if len(set(str(d.get("splits", "")).split("|"))) > 1]
        conflict = [d for d in r.duplicates if len(set(str(d.get("classes", "")).split("|"))) > 1]
        cls = "bad" if cross or conflict else "warn"
        parts.append(
            f"<p class='{cls}'>{len(r.duplicates)} contents occur more than once; "
            f"{len(cross)} across splits, {len(conflict)} with conflicting classes.</p>"
        )
        rows = [
            [d.get("files", ""), d.get("classes", ""), d.get("splits", "")]
            for d in r.duplicates[:15]
        ]
        parts.append(_table(["files", "classes", "splits"], rows, numeric_from=99))
    else:
        parts.append("<p class='ok'>No duplicated image contents.</p>")
    if r.split_summary:
        parts.append(f"<p class='sub'>Split: {_e(r.split_summary)}</p>")
    if r.face_crop is not None:
        parts.append("<h3>Face crop</h3>")
        per = r.face_crop.get("per_split", {})
        rows = [[s, f, n, (f / n if n else float("nan"))] for s, (f, n) in per.items()]
        parts.append(_table(["split", "face found", "images", "fraction"], rows))
        fallback = r.face_crop.get("fallback", [])
        if fallback:
            parts.append(
                f"<p class='warn'>{len(fallback)} images had no detectable face and were used "
                "whole (listed in data/cleaning_report.csv and data/face_crop.csv).</p>"
            )
    parts.append("</section>")
    return "".join(parts)


def _metrics_section(r: ReportInputs) -> str:
    """Per-class precision/recall and the headline metrics beside the confusion matrix."""
    prefix = f"{r.eval_split}_"
    m = r.metrics
    parts = [f"<section id='metrics'><h2>{_e(r.eval_split.capitalize())} metrics</h2>"]
    n = m.get(f"{prefix}n_images")
    if n is not None:
        parts.append(f"<p class='sub'>On {int(n)} held-out {_e(r.eval_split)} images.</p>")
    rows = []
    for name in r.class_names:
        p, rc = m.get(f"{prefix}precision_{name}"), m.get(f"{prefix}recall_{name}")
        if p is not None and rc is not None:
            rows.append([name, float(p), float(rc)])
    left = _table(["class", "precision", "recall"], rows) if rows else ""
    which = f"positive: {r.class_names[-1]}" if len(r.class_names) == 2 else "macro"
    headline = {
        "accuracy": "accuracy",
        "precision": f"precision ({which})",
        "recall": f"recall ({which})",
        "f1": f"F1 ({which})",
        "roc_auc": "ROC AUC",
        "average_precision": "average precision",
        "log_loss": "log loss",
        "ece": "expected calibration error (ECE, 15 bins)",
    }
    other = [[label, float(m[prefix + k])] for k, label in headline.items() if prefix + k in m]
    left += _table(["metric", "value"], other) if other else ""
    cm = r.plots.get("confusion_matrix")
    right = embed_png(cm, "confusion matrix", max_width=480) if cm else ""
    parts.append(f"<div class='row'><div>{left}</div><div>{right}</div></div></section>")
    return "".join(parts)


def build_report(r: ReportInputs) -> str:
    """The whole page as one HTML string."""
    prefix = f"{r.eval_split}_"
    sub = " · ".join(
        _e(x)
        for x in (
            r.run_name and f"run {r.run_name}",
            r.run_id and f"MLflow run {r.run_id}",
            r.created,
        )
        if x
    )
    nav = [("config", "Config"), ("data", "Data"), ("metrics", "Metrics")]
    nav += [
        (sid, head) for sid, head, keys, _ in _PLOT_SECTIONS if any(r.plots.get(k) for k in keys)
    ]
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{_e(r.title)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>{_e(r.title)}</h1><div class='sub'>{sub}</div>",
        _cards(r.metrics, prefix),
        "<nav>" + "".join(f"<a href='#{sid}'>{_e(h)}</a>" for sid, h in nav) + "</nav>",
    ]
    if r.notes:
        parts.append("<ul>" + "".join(f"<li class='warn'>{_e(n)}</li>" for n in r.notes) + "</ul>")
    parts += [_config_section(r), _data_section(r), _metrics_section(r)]
    for sid, heading, keys, caption in _PLOT_SECTIONS:
        imgs = [embed_png(r.plots[k], heading) for k in keys if r.plots.get(k)]
        if not imgs:
            continue
        parts.append(
            f"<section id='{sid}'><h2>{_e(heading)}</h2><p class='sub'>{_e(caption)}</p>"
            + "".join(imgs)
            + "</section>"
        )
    parts.append("<p class='sub'>Generated by happysad.</p></main></body></html>")
    return "\n".join(parts)


def write_report(path: str | Path, r: ReportInputs) -> Path:
    """Write the page to ``path`` (UTF-8, parent folders created); return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(build_report(r), encoding="utf-8")
    return path
