"""Figures build from small synthetic arrays, save as non-trivial PNGs and label what they show."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.figure import Figure

from happysad.insight.figures import (
    plot_confusion_matrix,
    plot_curves,
    plot_history,
    plot_metric_vs_param,
    plot_roc_pr,
    plot_sample_grid,
    save_figure,
)
from happysad.insight.figures.classification import _pr, _roc

MIN_PNG_BYTES = 5 * 1024


def _saved(fig: Figure, tmp_path: Path, name: str) -> Path:
    path = save_figure(fig, tmp_path / "figs" / f"{name}.png")
    assert path is not None and path.exists()
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > MIN_PNG_BYTES
    return path


def _titles(fig: Figure) -> list[str]:
    return [ax.get_title() for ax in fig.axes if ax.get_title()]


def _suptitle(fig: Figure) -> str:
    # Figure.get_suptitle() only exists from matplotlib 3.8; the project allows 3.7.
    return fig._suptitle.get_text() if fig._suptitle is not None else ""


def _softmax_probs(y: np.ndarray, n_classes: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(len(y), n_classes))
    logits[np.arange(len(y)), y] += 1.5
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


# --------------------------------------------------------------------------- history


def test_history_panels_and_lr(tmp_path: Path) -> None:
    history = {
        "loss": [0.7, 0.5, 0.4],
        "val_loss": [0.72, 0.6, 0.62],
        "accuracy": [0.5, 0.7, 0.8],
        "val_accuracy": [0.5, 0.65, 0.7],
        "precision": [0.5, 0.6, 0.7],
        "val_precision": [0.4, 0.5, 0.6],
        "recall": [0.1, 0.2, 0.3],  # no val_recall: no panel
        "learning_rate": [1e-3, 5e-4, 1e-4],
    }
    fig = plot_history(history)
    _saved(fig, tmp_path, "history")
    assert _titles(fig) == ["Loss", "Accuracy", "Precision", "Learning rate"]
    loss_ax = fig.axes[0]
    assert loss_ax.get_xlabel() == "epoch"
    assert {t.get_text() for t in loss_ax.get_legend().get_texts()} >= {"train", "val"}
    train_line = loss_ax.get_lines()[0]
    assert list(train_line.get_xdata()) == [1, 2, 3]
    assert fig.axes[-1].get_yscale() == "log"


def test_history_single_epoch(tmp_path: Path) -> None:
    fig = plot_history({"loss": [0.6], "val_loss": [0.7], "accuracy": [0.6], "val_accuracy": [0.5]})
    _saved(fig, tmp_path, "history1")
    assert _titles(fig) == ["Loss", "Accuracy"]
    assert list(fig.axes[0].get_lines()[0].get_xdata()) == [1]


def test_history_empty_does_not_raise() -> None:
    assert isinstance(plot_history({}), Figure)


# --------------------------------------------------------------------------- confusion matrix


@pytest.mark.parametrize("normalize", [False, True])
def test_confusion_matrix_binary(tmp_path: Path, normalize: bool) -> None:
    cm = np.array([[40, 10], [5, 45]])
    fig = plot_confusion_matrix(cm, ["happy", "sad"], normalize=normalize)
    _saved(fig, tmp_path, f"cm2_{normalize}")
    ax = fig.axes[0]
    assert len(fig.axes) == 2  # matrix + colorbar
    assert [t.get_text() for t in ax.get_xticklabels()] == ["happy", "sad"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["happy", "sad"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted", "true")
    cells = [t.get_text() for t in ax.texts]
    if normalize:
        assert cells[0] == "40\n80%"
    else:
        assert cells == ["40", "10", "5", "45"]


def test_confusion_matrix_many_classes(tmp_path: Path) -> None:
    names = [f"class_{i}" for i in range(20)]
    cm = np.random.default_rng(0).integers(0, 30, (20, 20)) + np.eye(20, dtype=int) * 200
    fig = plot_confusion_matrix(cm, names, normalize=True)
    _saved(fig, tmp_path, "cm20")
    ax = fig.axes[0]
    assert len(ax.texts) == 400
    assert ax.get_xticklabels()[0].get_rotation() == 45


def test_confusion_matrix_zero_row_and_bad_shape() -> None:
    cm = np.array([[3, 1, 0], [0, 0, 0], [1, 0, 2]])
    assert isinstance(plot_confusion_matrix(cm, ["a", "b", "c"], normalize=True), Figure)
    with pytest.raises(ValueError, match="shape"):
        plot_confusion_matrix(cm, ["a", "b"])


# --------------------------------------------------------------------------- ROC / PR


def test_roc_pr_binary(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 200)
    probs = np.clip(0.3 * y + 0.7 * rng.random(200), 0, 1)
    fig = plot_roc_pr(y, probs, ["happy", "sad"])
    _saved(fig, tmp_path, "roc2")
    assert len(fig.axes) == 2
    roc_title, pr_title = _titles(fig)
    assert "sad" in roc_title and "sad" in pr_title
    roc_labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    pr_labels = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert any(lbl.startswith("chance") for lbl in roc_labels)
    assert any(lbl.startswith("sad (AUC") for lbl in roc_labels)
    assert any(lbl.startswith("sad (AP") for lbl in pr_labels)
    assert any("positive rate" in lbl for lbl in pr_labels)


def test_roc_pr_multiclass(tmp_path: Path) -> None:
    names = ["cat", "dog", "bird"]
    y = np.random.default_rng(2).integers(0, 3, 300)
    fig = plot_roc_pr(y, _softmax_probs(y, 3), names)
    _saved(fig, tmp_path, "roc3")
    assert len(fig.axes) == 2
    legend = " ".join(t.get_text() for t in fig.axes[0].get_legend().get_texts())
    assert all(f"{name} (AUC" in legend for name in names)


def test_roc_pr_absent_class_is_skipped(tmp_path: Path) -> None:
    names = ["cat", "dog", "bird"]
    y = np.random.default_rng(3).integers(0, 2, 120)  # "bird" never occurs
    fig = plot_roc_pr(y, _softmax_probs(y, 3), names)
    _saved(fig, tmp_path, "roc_absent")
    for ax in fig.axes:
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert any("bird" in lbl and "absent" in lbl for lbl in labels)
        assert not any(lbl.startswith("bird (") for lbl in labels)
    assert "bird" in _suptitle(fig)


def test_roc_pr_binary_single_class_does_not_raise() -> None:
    y = np.zeros(20, dtype=int)  # positive class absent
    assert isinstance(plot_roc_pr(y, np.linspace(0, 1, 20), ["happy", "sad"]), Figure)
    y = np.ones(20, dtype=int)  # no negatives: ROC undefined, PR fine
    assert isinstance(plot_roc_pr(y, np.linspace(0, 1, 20), ["happy", "sad"]), Figure)


def test_roc_pr_many_classes_legend_below(tmp_path: Path) -> None:
    y = np.random.default_rng(4).integers(0, 10, 300)
    fig = plot_roc_pr(y, _softmax_probs(y, 10), [f"class {i}" for i in range(10)])
    _saved(fig, tmp_path, "roc10")
    assert len(_titles(fig)) == 2


def test_curves_match_sklearn() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 300)
    score = np.round(0.4 * y + 0.6 * rng.random(300), 2)  # rounding creates ties
    _, _, auc = _roc(y, score)
    _, _, ap = _pr(y, score)
    assert auc == pytest.approx(metrics.roc_auc_score(y, score))
    assert ap == pytest.approx(metrics.average_precision_score(y, score))


# --------------------------------------------------------------------------- sample grid


def test_sample_grid_misclassified_first(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    n = 12
    images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    y_true = np.array([0, 1] * 6)
    y_pred = y_true.copy()
    wrong = [3, 7, 10]
    y_pred[wrong] = 1 - y_pred[wrong]
    conf = rng.random(n)
    fig = plot_sample_grid(images, y_true, y_pred, conf, ["happy", "sad"], max_images=9)
    _saved(fig, tmp_path, "grid")
    names = ["happy", "sad"]

    def title(i: int) -> str:
        return f"true: {names[y_true[i]]}\npred: {names[y_pred[i]]} ({conf[i]:.2f})"

    # Misclassified first (3, 7, 10), then the rest in input order, cut at max_images.
    expected = [*wrong, 0, 1, 2, 4, 5, 6]
    assert _titles(fig) == [title(i) for i in expected]
    colours = [ax.title.get_color() for ax in fig.axes if ax.get_title()]
    assert len(set(colours[:3])) == 1 and len(set(colours[3:])) == 1
    assert colours[0] != colours[3]
    assert _suptitle(fig) == "9 of 12 shown, 3 misclassified"


def test_sample_grid_float_images_and_paths(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    images = rng.random((5, 24, 24, 3))
    y = np.array([0, 1, 2, 0, 1])
    paths = [f"/data/test/img_{i}.jpg" for i in range(5)]
    fig = plot_sample_grid(images, y, y, np.full(5, 0.9), ["cat", "dog", "bird"], paths=paths)
    _saved(fig, tmp_path, "grid_float")
    titled = [ax for ax in fig.axes if ax.get_title()]
    assert len(titled) == 5
    assert titled[2].get_title() == "true: bird\npred: bird (0.90)"
    assert titled[0].get_xlabel() == "img_0.jpg"
    assert _suptitle(fig) == "5 of 5 shown, 0 misclassified"


def test_save_figure_creates_parents(tmp_path: Path) -> None:
    fig = plot_confusion_matrix(np.array([[1, 2], [3, 4]]), ["a", "b"])
    out = save_figure(fig, str(tmp_path / "a" / "b" / "cm.png"), dpi=60)
    assert isinstance(out, Path) and out.exists()


def test_sample_grid_with_dollars_in_names_saves(tmp_path: Path) -> None:
    """A `$` in a file or class name is text: it must not start mathtext and fail the figure."""
    images = np.random.default_rng(8).integers(0, 256, (3, 24, 24, 3), dtype=np.uint8)
    y = np.array([0, 1, 0])
    paths = ["/data/cost_$5_to_$10.png", "/data/$x$.jpg", "/data/a_$b.jpg"]
    names = ["cheap_$", "$_dear"]
    fig = plot_sample_grid(images, y, y, np.full(3, 0.8), names, paths=paths, title="$5 to $10")
    _saved(fig, tmp_path, "grid_dollars")
    titled = [ax for ax in fig.axes if ax.get_title()]
    assert titled[0].get_xlabel() == "cost_$5_to_$10.png"
    assert titled[1].get_title() == "true: $_dear\npred: $_dear (0.80)"


def test_save_figure_warns_instead_of_raising(tmp_path: Path, caplog) -> None:
    fig = Figure()
    fig.add_subplot().set_title("cost_$5_to_$10")  # set by hand: mathtext that cannot parse
    stale = tmp_path / "bad.png"
    stale.write_bytes(b"an older figure")
    with caplog.at_level("WARNING"):
        assert save_figure(fig, stale) is None
    assert not stale.exists()  # no stale or half-written file stands in for the figure
    assert "bad.png" in caplog.text


# --------------------------------------------------------------------------- comparing runs


def _runs() -> list:
    from happysad.tracking.compare import RunInfo

    grid = [(1e-4, "tiny_cnn", 0.6), (1e-3, "small_cnn", 0.8), (1e-2, "tiny_cnn", 0.7)]
    return [
        RunInfo(
            run_id=f"run{i}",
            name=f"#{i}",
            status="FINISHED",
            start_time=i,
            params={"optimizer.lr": str(lr), "model.name": model},
            metrics={"objective": objective},
            tags={},
        )
        for i, (lr, model, objective) in enumerate(grid)
    ]


def test_metric_vs_param_numeric_and_categorical(tmp_path: Path) -> None:
    runs = _runs()
    fig = plot_metric_vs_param(runs, "optimizer.lr", "objective")
    _saved(fig, tmp_path, "lr")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"  # 1e-4 .. 1e-2 spans more than 20x
    assert ax.get_title() == "objective vs optimizer.lr (3 runs)"
    fig = plot_metric_vs_param(runs, "model", "objective")
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["small_cnn", "tiny_cnn"]
    with pytest.raises(LookupError, match="nope"):
        plot_metric_vs_param(runs, "nope", "objective")


def test_curves_of_several_runs(tmp_path: Path) -> None:
    def history(run_id: str, metric: str) -> list:
        if run_id == "run1":
            return []  # a run without this metric is left out
        return [SimpleNamespace(step=s, value=0.5 + 0.1 * s) for s in (2, 0, 1)]

    runs = _runs()
    labels = ["first", "second", "third"]
    fig = plot_curves(SimpleNamespace(get_metric_history=history), runs, "val_accuracy", labels)
    _saved(fig, tmp_path, "curves")
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["first", "third"]
    assert list(ax.get_lines()[0].get_xdata()) == [0, 1, 2]  # sorted by step
    assert ax.get_title() == "val_accuracy per epoch, top 2 runs"
    empty = SimpleNamespace(get_metric_history=lambda run_id, metric: [])
    with pytest.raises(LookupError, match="val_loss"):
        plot_curves(empty, runs, "val_loss", labels)
