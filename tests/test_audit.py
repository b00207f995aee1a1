"""Issue 24, the second adversarial review: each test rebuilds one attack or fault and
asserts the behaviour the fix gives (each failed on main before its fix)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from happysad.data.scan import scan_folder
from happysad.errors import ConfigError

from .conftest import hash_tree, no_tensorflow_env, run_cli, write_image


def _img(seed: int, size: int = 20) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (size, size, 3), dtype=np.uint8)


def _two_classes(root: Path, n: int = 3) -> Path:
    for cls in ("happy", "sad"):
        for i in range(n):
            write_image(root / cls / f"{cls}{i}.png", _img(i + (20 if cls == "sad" else 0)))
    return root


# --- B7: quarantine never moves a file whose real folder is outside data.root -------------


def test_quarantine_never_moves_files_through_a_class_folder_linked_to_home(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    (home / "sub").mkdir(parents=True)
    (home / ".bashrc").write_text("alias ll='ls -l'\n")
    (home / "notes.txt").write_text("my notes\n")
    (home / "sub" / "thesis.pdf").write_bytes(b"%PDF-1.4 thesis")
    write_image(home / "photo.png", _img(7))
    ds = tmp_path / "ds"
    for i in range(3):
        write_image(ds / "sad" / f"sad{i}.png", _img(i))
    (ds / "happy").symlink_to(home, target_is_directory=True)
    before = hash_tree(home)
    q = tmp_path / "quarantine"

    res = scan_folder(ds, extensions=[".png"], quarantine_dir=q)

    assert hash_tree(home) == before  # nothing moved out of the linked folder
    assert not q.exists() or not any(q.rglob("*"))
    names = {Path(r.path).name: r for r in res.rejected}
    assert set(names) == {".bashrc", "notes.txt", "thesis.pdf"}
    for r in names.values():
        assert r.action == "skipped"
        assert f"outside data.root={ds.resolve()}" in r.reason and "not moved" in r.reason
    assert res.counts() == {"happy": 1, "sad": 3}


def test_quarantine_still_moves_bad_files_that_really_lie_in_the_root(tmp_path: Path) -> None:
    root = _two_classes(tmp_path / "data")
    (root / "sad" / "notes.txt").write_text("not an image")
    q = tmp_path / "q"
    res = scan_folder(root, extensions=[".png"], quarantine_dir=q)
    assert [r.action for r in res.rejected] == ["quarantined"]
    assert (q / "sad" / "notes.txt").read_text() == "not an image"


# --- B11: a run dir that is someone else's folder is refused before anything is written ---


def _users_folder(path: Path) -> Path:
    (path / "plots").mkdir(parents=True)
    (path / "report.html").write_text("<html>my report</html>")
    (path / "metrics.json").write_text('{"mine": 1}')
    (path / "plots" / "curves.png").write_bytes(b"my curves")
    return path


def test_cli_refuses_a_non_empty_run_dir_that_is_not_a_run(tmp_path: Path) -> None:
    env, marker = no_tensorflow_env(tmp_path)
    rd = _users_folder(tmp_path / "mine")
    before = hash_tree(rd)
    res = run_cli(
        "happysad-train", f"hydra.run.dir={rd}", f"paths.output_dir={tmp_path / 'out'}",
        env=env, timeout=120,
    )  # fmt: skip
    assert res.returncode == 2, res.stderr[-2000:]
    assert res.stderr.strip() == (
        f"error: hydra.run.dir={rd}: not empty and not a happysad run (metrics.json, plots, "
        "report.html); pick a new or empty folder (nothing was changed)"
    )
    assert hash_tree(rd) == before
    assert sorted(p.name for p in rd.iterdir()) == ["metrics.json", "plots", "report.html"]
    assert not marker.exists()  # refused before TensorFlow


def test_api_train_refuses_a_non_empty_run_dir_that_is_not_a_run(tmp_path: Path) -> None:
    from happysad import api

    rd = _users_folder(tmp_path / "mine")
    before = hash_tree(rd)
    with pytest.raises(ConfigError, match=r"^hydra\.run\.dir=.*not empty and not a happysad run"):
        api.train([f"hydra.run.dir={rd}", f"paths.output_dir={tmp_path / 'out'}"])
    assert hash_tree(rd) == before
    assert sorted(p.name for p in rd.iterdir()) == ["metrics.json", "plots", "report.html"]


def test_after_hydra_only_hydras_own_entries_are_allowed(tmp_path: Path) -> None:
    from happysad.training.resume import refuse_reused_run_dir

    rd = tmp_path / "run"
    (rd / ".hydra").mkdir(parents=True)
    (rd / "train.log").write_text("")
    refuse_reused_run_dir(rd, hydra_wrote={".hydra", "train.log"})  # what Hydra made: fine
    (rd / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match=r"^hydra\.run\.dir=.*\(notes\.txt\)"):
        refuse_reused_run_dir(rd, hydra_wrote={".hydra", "train.log"})


# --- B12: the clean-up of a failed run removes only what that run made --------------------


def test_cleanup_keeps_a_users_train_log_it_did_not_write(tmp_path: Path) -> None:
    from happysad.api import drop_empty_run_dir

    rd = tmp_path / "mine"
    rd.mkdir()
    (rd / "train.log").write_text("my own log, not Hydra's")
    drop_empty_run_dir(rd)  # no pre-Hydra check saw this folder: what was there is unknown
    assert (rd / "train.log").read_text() == "my own log, not Hydra's"


def test_cli_failed_run_in_an_existing_empty_folder_keeps_the_folder(tmp_path: Path) -> None:
    env, marker = no_tensorflow_env(tmp_path)
    rd = tmp_path / "my_empty_run_dir"
    rd.mkdir()
    res = run_cli(
        "happysad-train", f"hydra.run.dir={rd}", f"paths.output_dir={tmp_path / 'out'}",
        "data=folder", f"data.root={tmp_path / 'no_such_data'}", env=env, timeout=120,
    )  # fmt: skip
    assert res.returncode == 3, res.stderr[-2000:]
    assert res.stderr.startswith("error: data.root=")
    assert rd.is_dir() and list(rd.iterdir()) == []  # Hydra's files gone, the folder kept
    assert not marker.exists()


def test_cli_failed_run_removes_the_run_dir_it_created(tmp_path: Path) -> None:
    env, marker = no_tensorflow_env(tmp_path)
    rd = tmp_path / "new_run_dir"
    res = run_cli(
        "happysad-train", f"hydra.run.dir={rd}", f"paths.output_dir={tmp_path / 'out'}",
        "data=folder", f"data.root={tmp_path / 'no_such_data'}", env=env, timeout=120,
    )  # fmt: skip
    assert res.returncode == 3, res.stderr[-2000:]
    assert not rd.exists() and not marker.exists()


# --- B1: a file name that is not UTF-8 is bytes the tool never chokes on ------------------

BAD_NAME = b"\xff\xfe-x.png"


def _with_non_utf8_names(root: Path) -> Path:
    """Two classes where a usable image and a broken file have names that are not UTF-8."""
    _two_classes(root, n=4)
    happy = os.fsencode(root / "happy")
    os.rename(os.fsencode(root / "happy" / "happy0.png"), happy + b"/" + BAD_NAME)
    with open(happy + b"/\xfe-broken.png", "wb") as fh:
        fh.write(b"not a png")
    return root


def test_manifests_and_reports_write_non_utf8_names_as_their_bytes(tmp_path: Path) -> None:
    from happysad.data.split import split_records

    root = _with_non_utf8_names(tmp_path / "data")
    res = scan_folder(root, extensions=[".png"])
    splits = split_records(
        res.records, res.class_names, {"train": 0.5, "val": 0.25, "test": 0.25}, seed=0
    )
    assert len(splits.fingerprint()) == 64
    manifest = splits.write_manifest(tmp_path / "out" / "split_manifest.csv").read_bytes()
    report = res.write_report(tmp_path / "out" / "cleaning_report.csv").read_bytes()
    assert b"happy/" + BAD_NAME in manifest  # the name as it is on disk, usable again
    assert b"/\xfe-broken.png" in report


def test_figure_labels_show_a_non_utf8_name_as_escapes() -> None:
    from happysad.insight.figures.common import _short_name

    label = _short_name(os.fsdecode(b"/data/happy/" + BAD_NAME), 24, 10)
    assert label == "\\xff\\xfe-x.png"
    label.encode("utf-8")  # what matplotlib needs: no surrogates left


class _MeanLevel:
    """A stand-in Keras model: each image's mean level / 255."""

    def predict_on_batch(self, x: np.ndarray) -> np.ndarray:
        return x.reshape(len(x), -1).mean(axis=1, keepdims=True) / 255.0

    def predict(self, x: np.ndarray, verbose: int = 0) -> np.ndarray:  # the served pyfunc's call
        return self.predict_on_batch(x)


def _stand_in_model() -> object:
    from happysad.data.image import Preprocessing
    from happysad.serving.packaging import LoadedModel, ModelMetadata

    meta = ModelMetadata(["dark", "bright"], Preprocessing(image_size=(8, 8)))
    return LoadedModel(_MeanLevel(), meta, "stand-in")


def test_predict_prints_a_non_utf8_name_on_a_strict_utf8_stdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import sys

    from happysad import api
    from happysad.cli import predict as predict_cli

    root = _with_non_utf8_names(tmp_path / "data")
    odd = os.fsdecode(os.fsencode(root / "happy") + b"/" + BAD_NAME)
    plain = str(root / "sad" / "sad0.png")
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8", errors="strict", newline="\n")
    monkeypatch.setattr(sys, "stdout", out)
    # The model loader is not what is tested: a stand-in model answers.
    monkeypatch.setattr(api, "load", lambda *a, **k: _stand_in_model())
    code = predict_cli.main(["stand-in", odd, plain])
    out.flush()
    lines = raw.getvalue().splitlines()
    assert code == 0
    assert [line.split(b"\t")[0] for line in lines] == [os.fsencode(odd), plain.encode()]


# --- B13: eval accepts the extensions train accepts (one list) ----------------------------


def test_eval_accepts_the_tiffs_train_accepts(tmp_path: Path) -> None:
    from happysad import api

    root = tmp_path / "eval"
    for cls, level in (("dark", 30), ("bright", 220)):
        for i in range(3):
            write_image(root / cls / f"{cls}{i}.tif", np.full((12, 12, 3), level + i, np.uint8))
    result = api.evaluate(_stand_in_model(), root)
    assert result["scan"].startswith("6 files in 2 classes, 6 usable")
    assert result["metrics"]["accuracy"] == 1.0


def test_the_training_default_extensions_are_the_one_list() -> None:
    from happysad import api
    from happysad.config import IMAGE_EXTENSIONS, validate

    cfg = validate(api.compose(["data=folder", "data.root=/data/faces"]))
    assert tuple(cfg.data.extensions) == IMAGE_EXTENSIONS


# --- B14: a batch size below 1 is a one-line argument error -------------------------------


@pytest.mark.parametrize("size", ["-1", "0"])
@pytest.mark.parametrize("cli", ["predict", "evaluate"])
def test_a_batch_size_below_one_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture, size: str, cli: str
) -> None:
    import importlib

    main = importlib.import_module(f"happysad.cli.{cli}").main
    picture = write_image(tmp_path / "a.png", _img(1))
    code = main(["some_model", str(picture), "--batch-size", size])
    err = capsys.readouterr().err
    assert code == 2
    assert err == f"error: --batch-size={size}: must be a whole number of at least 1\n"


def test_api_predict_refuses_a_batch_size_below_one(tmp_path: Path) -> None:
    from happysad import api

    picture = write_image(tmp_path / "a.png", _img(1))
    with pytest.raises(ConfigError, match=r"^batch_size=0: must be a whole number of at least 1"):
        api.predict(_stand_in_model(), [picture], batch_size=0)


# --- the degraded list: data.root values and a model given as a URL -----------------------


@pytest.mark.parametrize(
    "value,message",
    [
        ("~", "data.root=~: Hydra cannot parse this override"),
        ("/", "data.root='/': is a filesystem root or the home folder"),
        ("''", "data.root='': must name the dataset folder"),
        ("${b}", "data.root='${b}': cannot be resolved (Interpolation key 'b' not found)"),
    ],
)
def test_a_bad_data_root_is_one_line_naming_it(value: str, message: str) -> None:
    from happysad import api
    from happysad.config import validate

    with pytest.raises(ConfigError) as info:
        validate(api.compose(["data=folder", f"data.root={value}"]))
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_a_quoted_home_path_in_data_root_is_expanded() -> None:
    from happysad import api
    from happysad.config import validate

    cfg = validate(api.compose(["data=folder", "data.root='~/faces'"]))
    assert cfg.data.root == os.path.join(os.path.expanduser("~"), "faces")


def test_the_filesystem_root_is_refused_before_any_scan(tmp_path: Path) -> None:
    env, marker = no_tensorflow_env(tmp_path)
    res = run_cli(
        "happysad-train", "data=folder", "data.root=/", f"paths.output_dir={tmp_path / 'out'}",
        f"hydra.run.dir={tmp_path / 'rd'}", env=env, timeout=120,
    )  # fmt: skip
    assert res.returncode == 2, res.stderr[-2000:]
    assert res.stderr.startswith("error: data.root='/': is a filesystem root")
    assert len(res.stderr.strip().splitlines()) == 1 and not marker.exists()


def test_a_model_given_as_a_web_address_is_one_line() -> None:
    from happysad import api
    from happysad.errors import ModelLoadError

    with pytest.raises(ModelLoadError) as info:
        api.load("https://bob:hunter2@example.com/models/m")
    msg = str(info.value)
    assert msg.startswith("https://bob:***@example.com/models/m: a web address is not a model")
    assert "hunter2" not in msg and "\n" not in msg


def test_a_bad_serving_limit_is_a_one_line_answer_per_row(monkeypatch: pytest.MonkeyPatch) -> None:
    import pandas as pd

    from happysad.serving.pyfunc import HappysadPyfunc

    served = HappysadPyfunc()
    stand_in = _stand_in_model()
    served.metadata, served.model = stand_in.metadata, stand_in.model  # what load_context sets
    monkeypatch.setenv("HAPPYSAD_MAX_ROWS", "abc")
    out = served.predict(None, pd.DataFrame({"image_b64": ["aGk=", "aGk="]}))
    assert (
        list(out["error"]) == ["server setting HAPPYSAD_MAX_ROWS='abc': must be a positive int"] * 2
    )
    assert (out["class_name"] == "").all()


# --- B9: metric names made of class names reach MLflow; a refusal is not an outage --------


def _tracker(tmp_path: Path):  # -> Tracker on a fresh SQLite store
    from omegaconf import OmegaConf

    from happysad.tracking.tracker import Tracker

    store = tmp_path / "mlflow.db"
    cfg = OmegaConf.create(
        {
            "enabled": True,
            "uri": f"sqlite:///{store}",
            "experiment": "audit",
            "artifact_location": str(tmp_path / "artifacts"),
            "tags": {},
            "required": True,
        }
    )
    return Tracker(cfg)


def test_metrics_named_after_odd_class_names_reach_mlflow(tmp_path: Path) -> None:
    import json

    from happysad.tracking.tracker import client

    tracker = _tracker(tmp_path)
    metrics = {
        "test_accuracy": 0.75,
        "test_precision_happy (old)": 0.5,
        "test_precision_happy=yes": 0.25,
    }
    with tracker.run("odd names", {}):
        tracker.log_metrics(metrics)
    run = client(str(tracker.cfg.uri)).get_run(tracker.run_id)
    assert run.data.metrics == {
        "test_accuracy": 0.75,
        "test_precision_happy _old_": 0.5,
        "test_precision_happy_yes": 0.25,
    }
    assert json.loads(run.data.tags["happysad.metric_names"]) == {
        "test_precision_happy _old_": "test_precision_happy (old)",
        "test_precision_happy_yes": "test_precision_happy=yes",
    }
    assert run.info.status == "FINISHED" and not tracker.failures


def test_names_that_collide_once_sanitised_stay_apart() -> None:
    from happysad.tracking.names import mlflow_metric_names

    names = mlflow_metric_names(["recall_a(b)", "recall_a_b_", "recall_a=b"])
    assert names["recall_a_b_"] == "recall_a_b_"
    assert len(set(names.values())) == 3
    assert all(n.startswith("recall_a_b") for n in names.values())


def test_a_metric_mlflow_refuses_is_named_and_the_rest_are_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from happysad.tracking.tracker import client

    tracker = _tracker(tmp_path)
    too_long = "test_recall_" + "x" * 300  # over MLflow's name length: a 400, not an outage
    with tracker.run("refused", {}), caplog.at_level("WARNING"):
        tracker.log_metrics({"test_accuracy": 0.75, too_long: 0.5})
        tracker.log_metrics({"test_f1": 0.5})
    run = client(str(tracker.cfg.uri)).get_run(tracker.run_id)
    assert run.data.metrics == {"test_accuracy": 0.75, "test_f1": 0.5}
    text = caplog.text
    assert f"MLflow refused metric '{too_long}'" in text
    assert "unreachable" not in text and not tracker.pending


# --- B4-B6: secrets leave nothing behind, whatever their quoting or form ------------------


@pytest.mark.parametrize(
    "text,clean",
    [
        (
            "- +tracking.tags.passphrase='correct horse battery staple'",
            "- +tracking.tags.passphrase='***'",
        ),
        ('passphrase="correct horse battery staple" next', 'passphrase="***" next'),
        ("    passphrase: correct horse battery staple", "    passphrase: ***"),
        (
            "tracking.uri=https://bob:pa'ss@127.0.0.1:1/x",
            "tracking.uri=https://bob:***@127.0.0.1:1/x",
        ),
        ("uri: 'https://bob:p@ss:w\"rd@h/x' tail", "uri: 'https://bob:***@h/x' tail"),
        ("got 401 for Authorization: Bearer eyJ.abc-123", "got 401 for Authorization: ***"),
        (
            "headers={'X': 1, 'auth': 'Bearer eyJ.abc-123'}",
            "headers={'X': 1, 'auth': 'Bearer ***'}",
        ),
        ("cloning http://ghp_T0KEN@github.com/me/x.git", "cloning http://***@github.com/me/x.git"),
        ("db_password=hunter2 and api_token=xyz", "db_password=*** and api_token=***"),
        ('{"api_key": "abc def", "n": 1}', '{"api_key": "***", "n": 1}'),
        # A dotted key in `key: value` form (a log line, an error echoing a config)
        ("tracking.password: x", "tracking.password: ***"),
        ("error: tracking.tags.api_token: hunter2 more", "error: tracking.tags.api_token: ***"),
        # A `/` in a URI's password (SQLAlchemy takes it unencoded)
        ("https://u:pa/ss@h/x", "https://u:***@h/x"),
        ("postgresql://u:a/b/c@db:5432/optuna", "postgresql://u:***@db:5432/optuna"),
        ("uri: https://u:p/w@host:5000/path tail", "uri: https://u:***@host:5000/path tail"),
        (
            "http://127.0.0.1:5000/x and git@github.com",
            "http://127.0.0.1:5000/x and git@github.com",
        ),
    ],
)
def test_redaction_takes_the_whole_secret(text: str, clean: str) -> None:
    from happysad.errors import redact_text

    assert redact_text(text) == clean
    assert redact_text(clean) == clean  # idempotent: a redacted text stays as it is


def test_an_error_about_a_secret_key_keeps_its_explanation() -> None:
    from happysad.errors import redact_text

    text = "trainer.api_key: unknown key (did you mistype it?)"
    assert redact_text(text) == text  # was "trainer.api_key: *** key (...)"
    assert redact_text("trainer.api_key: unknown") == "trainer.api_key: ***"  # a value


def test_hydra_files_lose_a_quoted_passphrase_whole(tmp_path: Path) -> None:
    from happysad.errors import redact_file

    overrides = tmp_path / "overrides.yaml"
    overrides.write_text("- +tracking.tags.passphrase='correct horse battery staple'\n")
    config = tmp_path / "config.yaml"
    config.write_text("tracking:\n  tags:\n    passphrase: correct horse battery staple\n")
    for path in (overrides, config):
        redact_file(path)
        assert "horse" not in path.read_text() and "***" in path.read_text()


def test_predict_and_compare_redact_a_password_in_one_line(
    capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from happysad.cli import compare as compare_cli
    from happysad.cli import predict as predict_cli

    for name in ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "MLFLOW_HTTP_REQUEST_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)  # the commands' own short settings apply
    uri = "http://bob:S3cr'et@127.0.0.1:1"  # port 1: connection refused at once
    picture = write_image(tmp_path / "a.png", _img(1))
    code = predict_cli.main(["runs:/0123456789abcdef/model", str(picture), "--tracking-uri", uri])
    err = capsys.readouterr().err
    assert code == 4 and "S3cr" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("error: runs:/0123456789abcdef/model: cannot download model")
    code = compare_cli.main(["--tracking-uri", uri])
    err = capsys.readouterr().err
    assert code == 5 and "S3cr" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("error: --tracking-uri=http://bob:***@127.0.0.1:1: cannot read runs")


# --- B8: first runs started together on a new SQLite store ---------------------------------

_FIRST_RUN = """
import sys, time
from pathlib import Path
from omegaconf import OmegaConf
import mlflow  # imported before the start line: the jobs then reach the store together
from happysad.tracking.tracker import Tracker

folder, n = Path(sys.argv[1]), sys.argv[2]
(folder / f"ready-{n}").touch()
while not (folder / "go").exists():
    time.sleep(0.005)
tracker = Tracker(OmegaConf.create({
    "enabled": True, "uri": f"sqlite:///{folder / 'mlflow.db'}", "experiment": "race",
    "artifact_location": str(folder / "artifacts"), "tags": {}, "required": True,
}))
with tracker.run(f"job{n}", {}):
    tracker.log_metrics({"x": float(n)})
"""


def test_three_first_runs_at_once_on_a_new_store_all_finish(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    from .conftest import CLI_ENV, ROOT

    env = {**CLI_ENV, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    jobs = [
        subprocess.Popen(
            [sys.executable, "-c", _FIRST_RUN, str(tmp_path), str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for n in range(3)
    ]
    deadline = time.monotonic() + 120  # a bound on waiting, not an assertion on speed
    while len(list(tmp_path.glob("ready-*"))) < 3 and time.monotonic() < deadline:
        if any(j.poll() is not None for j in jobs):
            break
        time.sleep(0.05)
    (tmp_path / "go").touch()
    results = [(j.wait(timeout=300), j.communicate()[1]) for j in jobs]
    for code, err in results:
        assert code == 0 and "Traceback" not in err, err[-3000:]
    from happysad.tracking.tracker import client

    store = client(f"sqlite:///{tmp_path / 'mlflow.db'}")
    exp = store.get_experiment_by_name("race")
    runs = store.search_runs([exp.experiment_id])
    assert sorted(r.data.metrics["x"] for r in runs) == [0.0, 1.0, 2.0]
    assert {r.info.status for r in runs} == {"FINISHED"}
    assert (tmp_path / "mlflow.db.lock").is_file()  # the lock beside the store


# --- B2: a cap on decoded bytes, not only on pixels ---------------------------------------


def write_png_bomb(path: Path, width: int, height: int, rows: int | None = None) -> Path:
    """A 16-bit RGBA PNG of width x height, zeros, built row by row (the bomb of B2 at
    11000x11000 is 0.94 MB on disk and 968 MB decoded). `rows`: write only that many rows
    (a truncated file whose header is the real one: enough for a check made on the header)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    packer = zlib.compressobj(9)
    row = b"\x00" * (1 + width * 8)  # filter byte + RGBA x 16 bits
    idat = b"".join(packer.compress(row) for _ in range(height if rows is None else rows))
    idat += packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 16, 6, 0, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )
    return path


def test_a_16bit_rgba_bomb_under_the_pixel_cap_is_refused_by_its_header(tmp_path: Path) -> None:
    from happysad.data.image import ImageDecodeError, decode, max_image_pixels

    assert max_image_pixels() >= 11000 * 11000  # under the pixel cap: it used to be decoded
    bomb = write_png_bomb(tmp_path / "bomb.png", 11000, 11000, rows=1).read_bytes()
    with pytest.raises(ImageDecodeError, match=r"^image too large: .* 923 MB decoded > 384 MB"):
        decode(bomb)


def test_the_decoded_bytes_cap_counts_channels_and_bit_depth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from happysad.data.image import ImageDecodeError, decode

    monkeypatch.setenv("OPENCV_IO_MAX_IMAGE_PIXELS", "10000")  # 3 x 10000 bytes decoded
    rgb8 = write_image(tmp_path / "rgb8.png", _img(3, size=90))  # 8100 px x 3 = 24 kB
    assert decode(rgb8.read_bytes()).shape == (90, 90, 3)
    deep = np.full((90, 90, 4), 40000, np.uint16)  # 8100 px x 4 x 2 bytes = 65 kB
    import cv2

    assert cv2.imwrite(str(tmp_path / "deep.png"), deep)
    with pytest.raises(ImageDecodeError, match=r"90x90 pixels x 4 channels x 16 bits"):
        decode((tmp_path / "deep.png").read_bytes())
    res = scan_folder(_two_classes(tmp_path / "data"), extensions=[".png"])  # 20x20: fine
    assert not res.rejected


# --- B3: a progressive JPEG with thousands of scans ---------------------------------------


def write_scan_bomb(path: Path, extra_scans: int) -> Path:
    """A small progressive JPEG with `extra_scans` empty scans added before its end (B3 used
    10,000 in 0.2 MB: 38 s to decode). Each is a start-of-scan header for the first
    component with no coded data."""
    import cv2

    ok, enc = cv2.imencode(".jpg", _img(5, size=64), [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])
    assert ok
    data = enc.tobytes()
    assert data.endswith(b"\xff\xd9")
    empty_scan = b"\xff\xda\x00\x08\x01\x01\x00\x01\x01\x00"  # Ss=1 Se=1 Ah=0 Al=0: AC refinement
    path.write_bytes(data[:-2] + empty_scan * extra_scans + b"\xff\xd9")
    return path


def test_a_jpeg_with_thousands_of_scans_is_refused_before_decoding(tmp_path: Path) -> None:
    from happysad.data.image import MAX_JPEG_SCANS, ImageDecodeError, decode

    bomb = write_scan_bomb(tmp_path / "scans.jpg", 10_000).read_bytes()
    with pytest.raises(ImageDecodeError, match=rf"^JPEG with 100\d\d scans > {MAX_JPEG_SCANS}"):
        decode(bomb)
    normal = write_scan_bomb(tmp_path / "normal.jpg", 0).read_bytes()  # ~10 scans: decoded
    assert decode(normal).shape == (64, 64, 3)


# --- resuming with a changed config -------------------------------------------------------


def _interrupted_run(tmp_path: Path) -> Path:
    """A run dir as a killed run leaves it: its config and its state file."""
    from omegaconf import OmegaConf

    from happysad import api

    rd = tmp_path / "run"
    (rd / ".hydra").mkdir(parents=True)
    cfg = api.compose(["trainer.epochs=3", f"paths.output_dir={tmp_path / 'out'}"])
    OmegaConf.save(cfg, rd / ".hydra" / "config.yaml")
    (rd / "happysad_run.json").write_text('{"run_id": null, "tracking_uri": null}')
    return rd


def _composed_outside_hydra(overrides: list[str], tmp_path: Path):  # -> DictConfig
    """The config a job gets, composed here: paths.run_dir (Hydra's output dir in a job)
    pinned, since no Hydra job is running to resolve it."""
    from happysad import api

    return api.compose([*overrides, f"paths.run_dir={tmp_path / 'new_run'}"])


def test_resuming_with_a_changed_key_is_refused_naming_it(tmp_path: Path) -> None:
    from happysad import api

    rd = _interrupted_run(tmp_path)
    overrides = [f"trainer.resume={rd}", "trainer.epochs=10", "optimizer.lr=0.5"]
    with pytest.raises(ConfigError) as info:
        api.prepare_job(_composed_outside_hydra(overrides, tmp_path), "unused", overrides)
    assert str(info.value) == (
        f"trainer.resume={rd}: a resumed run keeps the config it started with; "
        "trainer.epochs, optimizer.lr differ from it (drop them, or start a new run with them)"
    )


def test_resuming_with_the_runs_own_values_is_fine(tmp_path: Path) -> None:
    from happysad import api

    rd = _interrupted_run(tmp_path)
    overrides = [f"trainer.resume={rd}", "trainer.epochs=3", f"paths.output_dir={tmp_path / 'out'}"]
    job = api.prepare_job(_composed_outside_hydra(overrides, tmp_path), "unused", overrides)
    assert job.cfg.trainer.epochs == 3 and job.run_dir == str(rd.resolve())


# --- B10: the decode cache on a filesystem that cannot take it -----------------------------

_CACHE_NO_ROOM = """
import resource, signal, sys
from pathlib import Path
from happysad.data.image import Preprocessing
from happysad.data.loader import load_images_with_faces
from happysad.data.scan import scan_folder
from happysad.errors import HappysadError

records = scan_folder(sys.argv[1], extensions=[".png"]).records
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # over the limit: EFBIG, as ENOSPC would be
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))  # files of at most 4 kB
try:
    load_images_with_faces(records, Preprocessing(image_size=(32, 32)), cache_dir=sys.argv[2])
except HappysadError as err:
    print(f"{type(err).__name__}: {err}")
"""


def test_a_decode_cache_that_does_not_fit_is_a_one_line_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    from .conftest import CLI_ENV, ROOT

    root = _two_classes(tmp_path / "data")
    cache_dir = tmp_path / "cache"
    env = {
        **CLI_ENV,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    res = subprocess.run(
        [sys.executable, "-c", _CACHE_NO_ROOM, str(root), str(cache_dir)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr[-2000:]
    assert res.stdout.strip() == (
        f"StorageError: paths.cache_dir={cache_dir}: cannot write the 18 kB decode cache "
        "(File too large); free space there, point paths.cache_dir elsewhere, or set "
        "data.cache=memory"
    )
    assert not list(cache_dir.glob("*.npy*"))  # no half-written cache file left


# --- B16: a full output filesystem is one line naming the file ----------------------------


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_a_full_disk_is_one_storage_error_naming_the_file(tmp_path: Path) -> None:
    from happysad.errors import StorageError, storage_errors

    report = tmp_path / "run" / "report.html"
    report.parent.mkdir()
    report.symlink_to("/dev/full")  # every write to it fails with ENOSPC, as on a full disk
    with pytest.raises(StorageError) as info, storage_errors(f"the run dir {report.parent}"):
        report.write_text("<html>" + "x" * 100_000)  # write(2) fails: no file name in it
    assert str(info.value).startswith(
        f"the run dir {report.parent}: No space left on device (a full disk"
    )
    assert "\n" not in str(info.value)
    with pytest.raises(FileNotFoundError), storage_errors():  # not a storage failure: as is
        (tmp_path / "missing" / "x").read_text()


# --- a TIFF of 16x16 pixels with huge tiles ----------------------------------------------


def write_tiled_tiff(path: Path, tile: int, size: int = 16, whole: bool = True) -> Path:
    """An RGB TIFF of size x size pixels stored in one tile of tile x tile pixels (deflate
    of zeros: small on disk). OpenCV decodes a whole tile at once, RGBA: tile^2 x 4 bytes.
    `whole=False`: the tile's data cut short (the header is the real one: enough for a
    check made on the header, and no seconds spent compressing)."""
    import struct
    import zlib

    packer = zlib.compressobj(9)
    row = b"\0" * (tile * 3)
    data = b"".join(packer.compress(row) for _ in range(tile if whole else 1)) + packer.flush()
    entries = [  # (tag, type, count, value): SHORT=3, LONG=4
        (256, 3, 1, size), (257, 3, 1, size), (258, 3, 3, 0), (259, 3, 1, 8), (262, 3, 1, 2),
        (277, 3, 1, 3), (284, 3, 1, 1), (322, 4, 1, tile), (323, 4, 1, tile), (324, 4, 1, 0),
        (325, 4, 1, len(data)),
    ]  # fmt: skip
    ifd_end = 8 + 2 + len(entries) * 12 + 4
    bits_at, data_at = ifd_end, ifd_end + 6
    out = b"II*\0" + struct.pack("<IH", 8, len(entries))
    for tag, kind, count, value in entries:
        value = {258: bits_at, 324: data_at}.get(tag, value)
        packed = (
            struct.pack("<HH", value, 0) if kind == 3 and count == 1 else struct.pack("<I", value)
        )
        out += struct.pack("<HHI", tag, kind, count) + packed
    path.write_bytes(out + b"\0\0\0\0" + struct.pack("<HHH", 8, 8, 8) + data)
    return path


def test_a_tiff_with_tiles_far_larger_than_the_image_is_refused(tmp_path: Path) -> None:
    from happysad.data.image import ImageDecodeError, decode

    bomb = write_tiled_tiff(tmp_path / "tiles.tif", 12288, whole=False).read_bytes()
    with pytest.raises(ImageDecodeError, match=r"^TIFF tiles of 12288x12288 pixels for a 16x16"):
        decode(bomb)
    small = write_tiled_tiff(tmp_path / "ok.tif", 256).read_bytes()  # a usual tile size
    assert decode(small).shape == (16, 16, 3)


@pytest.fixture
def read_only_dir(tmp_path: Path):
    """A folder on a real read-only filesystem: a tmpfs mounted read-only (for root, which the
    tests run as here, every permission bit is writable, so chmod proves nothing)."""
    import subprocess

    mnt = tmp_path / "ro"
    mnt.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a read-only tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_b15_a_read_only_output_dir_is_one_line_before_tensorflow(
    tmp_path: Path, read_only_dir: Path
) -> None:
    """B15: a read-only paths.output_dir is one line, exit 2, before TensorFlow loads."""
    env, tf_marker = no_tensorflow_env(tmp_path)
    res = run_cli("happysad-train", f"paths.output_dir={read_only_dir / 'out'}", env=env)
    assert res.returncode == 2, res.stderr[-2000:]
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    assert lines[0].startswith("error: hydra.run.dir=") and "cannot be written" in lines[0]
    assert not tf_marker.exists()  # refused before TensorFlow loaded


def test_the_store_lock_lets_readers_of_a_read_only_store_through(
    tmp_path: Path, read_only_dir: Path
) -> None:
    """happysad-compare on a store in a read-only place: the lock file cannot be created
    there, and nothing can migrate that store either; reading goes on without the lock."""
    from happysad.tracking.store_lock import store_lock

    entered = False
    with store_lock(f"sqlite:///{read_only_dir / 'mlflow.db'}"):
        entered = True
    assert entered and not (read_only_dir / "mlflow.db.lock").exists()
    # A writable store's lock file is made and stays (another process may be waiting on it).
    with store_lock(f"sqlite:///{tmp_path / 'rw' / 'mlflow.db'}"):
        pass
    assert (tmp_path / "rw" / "mlflow.db.lock").is_file()
