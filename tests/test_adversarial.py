"""Hostile inputs, built by the tests themselves: odd files in the data folder, secrets in
URIs, reused folders, oversized or malformed serving requests.

Each test asserts what happens now, and would fail (or time out, never hang) without the
guard it covers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from happysad.data.scan import scan_folder

from .conftest import CLI_ENV, ROOT, hash_tree, write_image


def _face(seed: int, size: int = 20) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (size, size, 3), dtype=np.uint8)


def _two_classes(root: Path, n: int = 3) -> Path:
    for cls in ("happy", "sad"):
        for i in range(n):
            write_image(root / cls / f"{cls}{i}.png", _face(i + (20 if cls == "sad" else 0)))
    return root


def _scan_in_subprocess(root: Path, timeout: float = 60, **kwargs) -> dict[str, str]:
    """{file name: reason} of a scan run in a child process, so a regression that blocks on
    a pipe or reads /dev/zero fails by timeout instead of hanging or exhausting the tests."""
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from happysad.data.scan import scan_folder\n"
        f"res = scan_folder({str(root)!r}, extensions=['.png', '.jpg'], **{kwargs!r})\n"
        "print(json.dumps({Path(r.path).name: r.reason for r in res.rejected}))\n"
    )
    env = {**CLI_ENV, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, env=env
    )
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


# --- the scan: only regular files, bounded reads, links that leave the root ----------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_and_a_link_to_dev_zero_are_reported_unread(tmp_path: Path) -> None:
    root = _two_classes(tmp_path / "data")
    os.mkfifo(root / "happy" / "pipe.jpg")
    (root / "sad" / "zero.jpg").symlink_to("/dev/zero")
    before = hash_tree(root)
    t0 = time.monotonic()
    reasons = _scan_in_subprocess(root, timeout=90)
    assert time.monotonic() - t0 < 90
    assert reasons["pipe.jpg"] == "not a regular file (named pipe)"
    assert reasons["zero.jpg"] == "not a regular file (character device)"
    assert hash_tree(root) == before


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_the_bounded_reader_refuses_a_pipe_swapped_in_after_the_stat(tmp_path: Path) -> None:
    """The read checks the open descriptor, not the name: a pipe cannot block it."""
    from happysad.data.image import NotReadable, read_regular_file

    fifo = tmp_path / "late.jpg"
    os.mkfifo(fifo)
    with pytest.raises(NotReadable, match="named pipe"):
        read_regular_file(fifo)
    with pytest.raises(NotReadable, match="character device"):
        read_regular_file("/dev/zero")
    big = tmp_path / "big.png"
    big.write_bytes(b"\0" * 2048)
    with pytest.raises(NotReadable, match="too large"):
        read_regular_file(big, max_bytes=1024)


def test_files_over_the_size_cap_are_reported_without_being_decoded(tmp_path: Path) -> None:
    root = _two_classes(tmp_path / "data")
    write_image(root / "happy" / "large.png", _face(7, size=200))
    size = (root / "happy" / "large.png").stat().st_size
    res = scan_folder(root, extensions=[".png"], max_file_bytes=size - 1)
    reasons = {Path(r.path).name: r.reason for r in res.rejected}
    assert (
        reasons["large.png"].startswith("too large (")
        and "data.max_file_mb=" in reasons["large.png"]
    )
    assert len(res.records) == 6
    assert "large.png" not in {Path(r.path).name for r in scan_folder(root, [], [".png"]).rejected}


def test_symlinks_leaving_the_root_are_skipped_unless_followed(tmp_path: Path) -> None:
    root = _two_classes(tmp_path / "data")
    outside = write_image(tmp_path / "elsewhere" / "secret.png", _face(40))
    (root / "happy" / "out.png").symlink_to(outside)
    (root / "happy" / "in.png").symlink_to(root / "sad" / "sad0.png")  # inside: used
    res = scan_folder(root, extensions=[".png"])
    reasons = {Path(r.path).name: r.reason for r in res.rejected}
    assert reasons["out.png"].startswith("symlink outside data.root")
    assert str(outside) in reasons["out.png"]
    assert "in.png" in {Path(r.path).name for r in res.records}
    followed = scan_folder(root, extensions=[".png"], follow_external_links=True)
    assert {"out.png", "in.png"} <= {Path(r.path).name for r in followed.records}


def test_a_symlinked_class_folder_is_part_of_the_root(tmp_path: Path) -> None:
    """Linking a class folder in from elsewhere is a deliberate layout, not an escape."""
    root = tmp_path / "data"
    _two_classes(tmp_path / "store")
    root.mkdir()
    (root / "happy").symlink_to(tmp_path / "store" / "happy", target_is_directory=True)
    (root / "sad").symlink_to(tmp_path / "store" / "sad", target_is_directory=True)
    res = scan_folder(root, extensions=[".png"])
    assert res.counts() == {"happy": 3, "sad": 3} and not res.rejected


# --- the scan cache: a rewrite that keeps size and mtime ---------------------------------


def test_scan_cache_notices_an_in_place_rewrite_that_restores_mtime(tmp_path: Path) -> None:
    root = _two_classes(tmp_path / "data")
    target = root / "happy" / "happy0.png"
    cache = tmp_path / "cache"
    first = scan_folder(root, extensions=[".png"], cache_dir=cache)
    old = {r.relpath: r.sha256 for r in first.records}["happy/happy0.png"]
    st = target.stat()
    data = bytearray(target.read_bytes())
    # Same size, different content (a corrupt copy, as a failed `rsync -t` leaves), same mtime.
    data[len(data) // 2 :] = bytes(len(data) - len(data) // 2)
    time.sleep(0.05)  # ctime has (at least) ms resolution on every supported filesystem
    target.write_bytes(bytes(data))
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert target.stat().st_size == st.st_size and target.stat().st_mtime_ns == st.st_mtime_ns
    second = scan_folder(root, extensions=[".png"], cache_dir=cache)
    # Re-read, so the damage is found (before: the old verdict and sha256 were reused).
    assert "happy/happy0.png" not in {r.relpath for r in second.records}, old
    assert str(target) in {r.path for r in second.rejected}
    assert second.cache_hits == len(first.records) + len(first.rejected) - 1


# --- secrets: never written out -------------------------------------------------------------

SECRET = "hunter2S3CRET"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "https://alice:hunter2S3CRET@mlflow.example.com/x",
            "https://alice:***@mlflow.example.com/x",
        ),
        (
            "postgresql+psycopg2://u:hunter2S3CRET@db:5432/optuna",
            "postgresql+psycopg2://u:***@db:5432/optuna",
        ),
        ("tracking.uri=https://a:hunter2S3CRET@h", "tracking.uri=https://a:***@h"),
        ("db_password: hunter2S3CRET", "db_password: ***"),
        ('{"api_token": "hunter2S3CRET"}', '{"api_token": "***"}'),
        ("https://h/x?token=hunter2S3CRET&y=1", "https://h/x?token=***&y=1"),
        (
            "- +tracking.tags.AWS_SECRET_ACCESS_KEY=hunter2S3CRET",
            "- +tracking.tags.AWS_SECRET_ACCESS_KEY=***",
        ),
        ("sqlite:////tmp/mlflow.db", "sqlite:////tmp/mlflow.db"),
        ("http://127.0.0.1:5000 and git@github.com", "http://127.0.0.1:5000 and git@github.com"),
        ("bypass_cache: true", "bypass_cache: true"),
    ],
)
def test_redact_text_strips_uri_passwords_and_secret_values(text: str, expected: str) -> None:
    from happysad.errors import redact_text

    assert redact_text(text) == expected
    assert redact_text(expected) == expected  # idempotent


def test_redact_walks_configs_by_key_name() -> None:
    from happysad.errors import redact

    cfg = {
        "tracking": {"uri": f"https://u:{SECRET}@h", "tags": {"api_token": 12345, "team": "cv"}},
        "db": [{"password": SECRET}],
        "unset_secret": None,
    }
    out = redact(cfg)
    assert SECRET not in json.dumps(out) and "12345" not in json.dumps(out)
    assert out["tracking"]["tags"]["team"] == "cv" and out["unset_secret"] is None


def test_log_lines_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from happysad.errors import RedactingFilter

    logger = logging.getLogger("happysad.test_redact")
    handler = logging.Handler()
    seen: list[str] = []
    handler.emit = lambda record: seen.append(record.getMessage())  # type: ignore[method-assign]
    handler.addFilter(RedactingFilter())
    logger.addHandler(handler)
    try:
        logger.warning("MLflow run in %s", f"https://u:{SECRET}@h")
    finally:
        logger.removeHandler(handler)
    assert seen == ["MLflow run in https://u:***@h"]


def test_tracker_writes_no_secret_to_the_store(tmp_path: Path) -> None:
    """Params, tags and the run name, through a real local MLflow store."""
    from omegaconf import OmegaConf

    from happysad.tracking.tracker import Tracker, flatten

    db = tmp_path / "mlflow.db"
    cfg = OmegaConf.create(
        {
            "enabled": True,
            "uri": f"sqlite:///{db}",
            "experiment": "redact",
            "artifact_location": str(tmp_path / "artifacts"),
            "tags": {"api_token": SECRET},
        }
    )
    tracker = Tracker(cfg)
    with tracker.run(f"tracking.uri=https://u:{SECRET}@h", {"note": f"https://u:{SECRET}@h"}):
        tracker.log_params(
            flatten({"tracking": {"uri": f"https://alice:{SECRET}@host"}, "db_password": SECRET})
        )
        tracker.set_tags({"storage": f"postgresql://u:{SECRET}@db/optuna"})
    import mlflow

    run = mlflow.MlflowClient(f"sqlite:///{db}").get_run(tracker.run_id)
    blob = json.dumps([run.data.params, run.data.tags, run.info.run_name])
    assert SECRET not in blob, blob
    assert run.data.params["tracking.uri"] == "https://alice:***@host"
    assert SECRET.encode() not in db.read_bytes()


# --- CSV reports: no spreadsheet formulas -----------------------------------------------------


def test_csv_reports_escape_formula_cells(tmp_path: Path) -> None:
    import csv

    from happysad.data.split import split_records

    root = tmp_path / "data"
    for cls in ("=HYPERLINK(1)", "+sad"):
        for i in range(4):
            write_image(root / cls / f"@x{i}.png", _face(i + (9 if cls[0] == "+" else 0)))
    (root / "+sad" / "-bad.png").write_text("=1+1")
    res = scan_folder(root, extensions=[".png"])
    splits = split_records(
        res.records, res.class_names, {"train": 0.5, "val": 0.25, "test": 0.25}, seed=0
    )
    cells = []
    for path in (
        res.write_report(tmp_path / "cleaning_report.csv"),
        splits.write_manifest(tmp_path / "split_manifest.csv"),
    ):
        with path.open(newline="") as fh:
            cells += [c for row in csv.reader(fh) for c in row]
    assert "'=HYPERLINK(1)" in cells and "'+sad" in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]
    from happysad.errors import csv_cell

    assert csv_cell("-0.5") == "-0.5" and csv_cell(-1) == -1


# --- end to end: a hostile folder and a URI with a password, one real training run ------------


def _grep_tree(root: Path, needle: bytes) -> list[str]:
    hits = []
    for p in root.rglob("*"):
        if p.is_file() and not p.is_symlink():
            try:
                if needle in p.read_bytes():
                    hits.append(str(p))
            except OSError:
                pass
    return hits


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_hostile_folder_trains_and_no_secret_is_written(tmp_path: Path, mlflow_server) -> None:
    from .conftest import run_cli, tiny_train_args

    root = tmp_path / "data"
    for cls in ("happy", "sad"):
        for i in range(12):
            write_image(root / cls / f"{cls}{i}.png", _face(i + (30 if cls == "sad" else 0), 24))
    write_image(root / "happy" / "cost_$5_to_$10.png", _face(77, 24))
    os.mkfifo(root / "happy" / "pipe.jpg")
    (root / "sad" / "zero.jpg").symlink_to("/dev/zero")
    (root / "sad" / "out.png").symlink_to(write_image(tmp_path / "elsewhere" / "o.png", _face(5)))
    (root / "sad" / "=HYPERLINK(1).png").write_text("not an image")
    before = hash_tree(root)
    user_uri = mlflow_server.uri.replace("http://", f"http://alice:{SECRET}@")
    out = tmp_path / "out"
    res = run_cli(
        "happysad-train",
        *tiny_train_args(out, root, "data.extensions=[.png,.jpg]", "trainer.epochs=1"),
        f"tracking.uri={user_uri}",
        f"+tracking.tags.api_token={SECRET}",
        "insight.gradcam=false",
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert hash_tree(root) == before
    run_dirs = [p.parent for p in out.rglob("happysad_run.json")]
    assert len(run_dirs) == 1
    run_dir = run_dirs[0]
    with (run_dir / "data" / "cleaning_report.csv").open() as fh:
        report = fh.read()
    for reason in (
        "named pipe",
        "character device",
        "symlink outside data.root",
        "=HYPERLINK(1).png",
    ):
        assert reason in report, report
    assert any(run_dir.rglob("MLmodel"))
    needle = SECRET.encode()
    assert SECRET not in res.stdout + res.stderr
    assert not _grep_tree(out, needle), _grep_tree(out, needle)
    assert not _grep_tree(mlflow_server.workdir, needle), _grep_tree(mlflow_server.workdir, needle)
    import mlflow

    client = mlflow.MlflowClient(mlflow_server.uri)
    (run,) = client.search_runs(client.get_experiment_by_name("happysad").experiment_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["tracking.uri"] == mlflow_server.uri.replace(
        "http://", "http://alice:***@"
    )


# --- reused folders: never delete what we did not write, never mix two runs ----------------


def test_save_model_refuses_to_replace_a_folder_it_did_not_write(tmp_path: Path) -> None:
    from happysad.data.image import Preprocessing
    from happysad.errors import HappysadError
    from happysad.serving.packaging import ModelMetadata, save_model

    users = tmp_path / "model"
    (users / "thesis").mkdir(parents=True)
    (users / "thesis" / "chapter1.tex").write_text("years of work")
    before = hash_tree(users)

    class NeverSaved:
        def save(self, path: object) -> None:  # pragma: no cover - must not be reached
            raise AssertionError("the model was saved before the folder was checked")

    meta = ModelMetadata(class_names=["a", "b"], preprocessing=Preprocessing())
    with pytest.raises(HappysadError, match="not a happysad model folder") as info:
        save_model(NeverSaved(), meta, users)
    assert str(users) in str(info.value) and "\n" not in str(info.value)
    assert hash_tree(users) == before


def test_a_run_dir_that_holds_a_run_is_refused_unless_resuming(compose, tmp_path: Path) -> None:
    from happysad.errors import ConfigError
    from happysad.training.stages import refuse_reused_run_dir

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    refuse_reused_run_dir(run_dir)  # a fresh (or empty) dir is fine
    (run_dir / "history.csv").write_text("epoch,loss\n0,0.5\n")
    (run_dir / "backup").mkdir()
    before = hash_tree(run_dir)
    with pytest.raises(ConfigError, match=r"trainer\.resume=") as info:
        refuse_reused_run_dir(run_dir)
    assert str(info.value).startswith("hydra.run.dir=") and "history.csv" in str(info.value)
    assert hash_tree(run_dir) == before


def test_sweep_dirs_have_sub_second_resolution(compose) -> None:
    from omegaconf import OmegaConf

    cfg = compose(hydra_cfg=True)
    raw = OmegaConf.to_container(cfg.hydra.sweep, resolve=False)
    assert "%f" in raw["dir"] or "uuid" in raw["dir"], raw["dir"]


# --- quarantine guards ----------------------------------------------------------------------


def test_quarantine_inside_the_data_root_is_refused(tmp_path: Path) -> None:
    from happysad.errors import DataError

    root = _two_classes(tmp_path / "data")
    (root / "happy" / "bad.png").write_text("x")
    before = hash_tree(root)
    with pytest.raises(DataError, match=r"data\.quarantine_dir=") as info:
        scan_folder(root, extensions=[".png"], quarantine_dir=root / "_quarantine")
    assert "inside data.root" in str(info.value)
    assert hash_tree(root) == before


@pytest.mark.parametrize("where", ["/", "~"])
def test_quarantine_refuses_a_filesystem_root_or_home(tmp_path: Path, where: str) -> None:
    from happysad.data import scan as scan_mod
    from happysad.errors import DataError

    root = Path(os.path.realpath(os.path.expanduser(where)))
    with pytest.raises(DataError, match="filesystem root or home"):
        scan_mod._check_quarantine(root, tmp_path / "q")


def test_quarantine_never_overwrites_and_reports_failures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _two_classes(tmp_path / "data")
    bad = root / "happy" / "bad.png"
    bad.write_text("new bad file")
    q = tmp_path / "q"
    (q / "happy").mkdir(parents=True)
    (q / "happy" / "bad.png").write_text("an earlier run's file")
    link = root / "sad" / "rel.png"
    link.symlink_to("../happy/bad.png")  # a relative link: moved, it would dangle
    res = scan_folder(root, extensions=[".png"], quarantine_dir=q)
    assert (q / "happy" / "bad.png").read_text() == "an earlier run's file"
    assert (q / "happy" / "bad.1.png").read_text() == "new bad file"
    assert link.is_symlink()  # reported, not moved
    reasons = {Path(r.path).name: (r.reason, r.action) for r in res.rejected}
    assert reasons["bad.png"][1] == "quarantined"
    # A read-only data folder (simulated: root may write anywhere): one line per file, no
    # traceback, and nothing left behind in the quarantine.
    locked = root / "sad" / "locked.png"
    locked.write_text("bad")
    real_unlink = os.unlink

    def unlink(path: object, *args: object, **kwargs: object) -> None:
        if Path(str(path)) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink)
    res = scan_folder(root, extensions=[".png"], quarantine_dir=q)
    why, action = {Path(r.path).name: (r.reason, r.action) for r in res.rejected}["locked.png"]
    assert (
        action == "skipped" and why.endswith("(not moved: Permission denied)") and locked.exists()
    )
    assert not (q / "sad" / "locked.png").exists()


# --- serving: per-row errors, request caps, a pixel cap that holds, reduced decoding -------


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height pixels, with almost no data behind it."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def _encoded(rgb: np.ndarray, ext: str = ".png") -> bytes:
    import cv2

    ok, buf = cv2.imencode(ext, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    return buf.tobytes()


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real packaged model (untrained, 16x16 RGB, output depends on the pixels)."""
    import keras

    from happysad.data.image import Preprocessing
    from happysad.serving.packaging import ModelMetadata, save_model

    keras.utils.set_random_seed(0)
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x))
    meta = ModelMetadata(["happy", "sad"], Preprocessing(image_size=(16, 16)))
    return save_model(model, meta, tmp_path_factory.mktemp("served") / "model")


def _pyfunc(model_dir: Path):
    import mlflow

    return mlflow.pyfunc.load_model(str(model_dir))


def test_serving_answers_every_bad_row_with_its_own_error(
    served: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pandas as pd
    from mlflow.pyfunc import scoring_server

    from happysad.data.image import Preprocessing, preprocess_bytes
    from happysad.serving.packaging import load_model

    monkeypatch.setenv("HAPPYSAD_MAX_IMAGE_MB", "0.05")
    good_png = _encoded(_face(1, 40))
    good_jpg = _encoded(_face(2, 40), ".jpg")
    big = _encoded(_face(3, 200))  # random noise: ~120 KB as PNG, over the 0.05 MB cap
    assert len(big) > 0.05 * 2**20
    rows = [
        _b64(good_png),
        None,
        5,
        "",
        _b64(good_png[: len(good_png) // 2]),  # truncated
        "@@not base64@@",
        _b64(_png_claiming(20000, 20000)),
        _b64(big),
        _b64(good_jpg),
    ]
    out = _pyfunc(served).predict(pd.DataFrame({"image_b64": pd.Series(rows, dtype=object)}))
    assert list(out.columns) == ["class_name", "probability", "p_happy", "p_sad", "error"]
    errors = list(out["error"])
    assert errors[0] == "" and errors[8] == ""
    assert "got null" in errors[1] and "got a number" in errors[2]
    assert errors[3] == "empty image"
    assert errors[4] and errors[5].startswith("not valid base64")
    assert f"400000000 pixels > {2**27}" in errors[6]
    assert "HAPPYSAD_MAX_IMAGE_MB=0.05" in errors[7]
    for i in range(1, 8):
        assert out["class_name"][i] == "" and out["probability"][i] is None, i
    # The valid rows are predicted exactly as the model predicts them alone.
    loaded = load_model(str(served))
    prep = Preprocessing(image_size=(16, 16))
    batch = np.stack([preprocess_bytes(good_png, prep), preprocess_bytes(good_jpg, prep)])
    expected = loaded.model.predict(batch, verbose=0)[:, 0]
    np.testing.assert_allclose([out["p_sad"][0], out["p_sad"][8]], expected, rtol=1e-5)
    assert set(out["class_name"][[0, 8]]) <= {"happy", "sad"}
    # Through the scoring server's own request path: HTTP 200, strict JSON (null, not NaN).
    body = json.dumps({"dataframe_split": {"columns": ["image_b64"], "data": [[r] for r in rows]}})
    model = _pyfunc(served)
    res = scoring_server.invocations(
        body, "application/json", model, model.metadata.get_input_schema()
    )
    assert res.status == 200
    preds = json.loads(res.response, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    assert [p["error"] == "" for p in preds["predictions"]] == [
        True, False, False, False, False, False, False, False, True
    ]  # fmt: skip


def test_serving_caps_rows_without_decoding_and_answers_an_empty_frame(
    served: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pandas as pd
    from mlflow.pyfunc import scoring_server

    from happysad.serving import packaging, pyfunc

    model = _pyfunc(served)
    schema = model.metadata.get_input_schema()
    body = json.dumps({"dataframe_split": {"columns": ["image_b64"], "data": []}})
    res = scoring_server.invocations(body, "application/json", model, schema)
    assert res.status == 200 and json.loads(res.response) == {"predictions": []}
    empty = model.predict(pd.DataFrame({"image_b64": pd.Series([], dtype=object)}))
    assert len(empty) == 0
    assert list(empty.columns) == ["class_name", "probability", "p_happy", "p_sad", "error"]

    monkeypatch.setenv("HAPPYSAD_MAX_ROWS", "3")

    def no_decoding(*args: object) -> None:
        raise AssertionError("a row was decoded in a request over the row cap")

    monkeypatch.setattr(pyfunc, "preprocess_bytes", no_decoding)  # the served code's import
    good = _b64(_encoded(_face(1, 40)))
    out = model.predict(pd.DataFrame({"image_b64": [good] * 4}))
    assert len(out) == 4 and (out["class_name"] == "").all()
    assert all("4 rows > HAPPYSAD_MAX_ROWS=3" in e for e in out["error"])
    monkeypatch.setenv("HAPPYSAD_MAX_ROWS", "lots")
    from happysad.errors import ConfigError

    with pytest.raises(ConfigError, match=r"^HAPPYSAD_MAX_ROWS='lots': must be a positive int$"):
        packaging.ServingLimits.from_env()


def test_pixel_cap_is_happysads_own_whatever_imported_cv2_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from happysad.data.image import ImageDecodeError, decode

    # cv2 is long imported here: a cap set now is one OpenCV never sees; happysad's holds.
    monkeypatch.setenv("OPENCV_IO_MAX_IMAGE_PIXELS", "1000")
    small = _encoded(_face(1, 40))  # 1600 pixels
    with pytest.raises(ImageDecodeError, match=r"40x40 = 1600 pixels > 1000 \(OPENCV"):
        decode(small)
    for kind in (".jpg", ".bmp", ".webp", ".tiff"):
        with pytest.raises(ImageDecodeError, match="> 1000"):
            decode(_encoded(_face(1, 40), kind))
    monkeypatch.delenv("OPENCV_IO_MAX_IMAGE_PIXELS")
    # A process that imports cv2 before happysad: OpenCV's cap is then its default 2^30.
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_claiming(12000, 12000))  # 1.44e8 pixels: under 2^30, over 2^27
    code = (
        "import cv2\n"
        "from happysad.data.image import ImageDecodeError, decode\n"
        f"data = open({str(bomb)!r}, 'rb').read()\n"
        "try:\n    decode(data)\nexcept ImageDecodeError as err:\n    print(err)\n"
    )
    env = {k: v for k, v in CLI_ENV.items() if k != "OPENCV_IO_MAX_IMAGE_PIXELS"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), *filter(None, [env.get("PYTHONPATH")])])
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert f"12000x12000 = 144000000 pixels > {2**27}" in res.stdout, res.stdout


def test_large_jpegs_are_decoded_reduced_with_the_same_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import cv2
    from PIL import Image

    from happysad.data import image as image_mod
    from happysad.data.image import Preprocessing, decode, preprocess_bytes, resize

    rng = np.random.default_rng(0)
    smooth = cv2.resize(
        rng.integers(0, 255, (30, 40, 3), dtype=np.uint8),
        (2000, 1500),
        interpolation=cv2.INTER_CUBIC,
    )
    data = _encoded(smooth, ".jpg")
    flags: list[int] = []
    real = cv2.imdecode

    def spy(buf: np.ndarray, flag: int) -> np.ndarray:
        flags.append(flag)
        return real(buf, flag)

    monkeypatch.setattr(image_mod.cv2, "imdecode", spy)
    prep = Preprocessing(image_size=(64, 64))
    reduced = preprocess_bytes(data, prep)
    assert flags[-1] & cv2.IMREAD_REDUCED_COLOR_4 == cv2.IMREAD_REDUCED_COLOR_4  # 500x375
    full = resize(decode(data), prep)
    assert flags[-1] == cv2.IMREAD_UNCHANGED
    assert reduced.shape == full.shape == (64, 64, 3) and reduced.dtype == full.dtype == np.uint8
    assert np.abs(reduced.astype(int) - full).mean() < 1.0
    # Never below 4x the target; never for a face crop (the face may be a small part).
    preprocess_bytes(data, Preprocessing(image_size=(180, 180)))
    assert flags[-1] & cv2.IMREAD_REDUCED_COLOR_2 == cv2.IMREAD_REDUCED_COLOR_2
    preprocess_bytes(data, Preprocessing(image_size=(400, 400)))
    assert flags[-1] == cv2.IMREAD_UNCHANGED
    preprocess_bytes(data, Preprocessing(image_size=(64, 64), face_crop=True))
    assert flags[-1] == cv2.IMREAD_UNCHANGED
    # EXIF orientation is ignored in both paths (IMREAD_UNCHANGED ignores it).
    import io

    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90
    buf = io.BytesIO()
    Image.fromarray(smooth).save(buf, "JPEG", exif=exif)
    assert decode(buf.getvalue(), (64, 64)).shape == (1500 // 4, 2000 // 4, 3)
    assert decode(buf.getvalue()).shape == (1500, 2000, 3)


# --- untrusted model metadata, globs, the CLI's one-line errors -----------------------------


def _edited_model(served: Path, dest: Path, edit) -> Path:
    import shutil

    model_dir = Path(shutil.copytree(served, dest))
    meta_path = model_dir / "artifacts" / "happysad.json"
    meta = json.loads(meta_path.read_text())
    result = edit(meta)
    meta_path.write_text(result if isinstance(result, str) else json.dumps(meta))
    return model_dir


def _set(path: str, value: object):
    def edit(meta: dict) -> None:
        *parents, key = path.split(".")
        node = meta
        for p in parents:
            node = node[p]
        node[key] = value

    return edit


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (_set("preprocessing.image_size", [0, 16]), "preprocessing.image_size=[0, 16]: must be"),
        (
            _set("preprocessing.image_size", [99999, 99999]),
            "preprocessing.image_size=[99999, 99999]",
        ),
        (_set("preprocessing.image_size", "big"), "preprocessing.image_size='big'"),
        (
            _set("preprocessing.interpolation", "evil"),
            "preprocessing.interpolation='evil': must be",
        ),
        (_set("preprocessing.channels", 4), "preprocessing.channels=4: must be 1 or 3"),
        (_set("preprocessing.face_margin", "x"), "preprocessing.face_margin='x'"),
        (_set("class_names", ["happy"]), "class_names=['happy']: must be a list of at least 2"),
        (_set("class_names", ["a", "a"]), "class_names=['a', 'a']"),
        (_set("threshold", 7), "threshold=7: must be a number strictly between 0 and 1"),
        (lambda meta: "{not json", "not valid JSON"),
        (
            _set("preprocessing.image_size", [32, 32]),
            "preprocessing.image_size=[32, 32] and channels=3 do not match the model's input",
        ),
        (_set("class_names", ["a", "b", "c"]), "class_names has 3 names but the model has 1"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_untrusted_model_metadata_is_checked_on_load(
    served: Path, tmp_path: Path, edit, expected: str
) -> None:
    from happysad.errors import ModelLoadError
    from happysad.serving.packaging import load_model

    model_dir = _edited_model(served, tmp_path / "model", edit)
    with pytest.raises(ModelLoadError) as info:
        load_model(str(model_dir))
    msg = str(info.value)
    assert msg.startswith(str(model_dir / "artifacts" / "happysad.json") + ": "), msg
    assert expected in msg and "\n" not in msg


def test_a_served_model_with_bad_metadata_fails_at_load(served: Path, tmp_path: Path) -> None:
    from happysad.errors import ModelLoadError

    model_dir = _edited_model(served, tmp_path / "model", _set("preprocessing.channels", 7))
    with pytest.raises(ModelLoadError, match=r"happysad\.json: preprocessing\.channels=7"):
        _pyfunc(model_dir)


def test_recursive_globs_do_not_follow_symlink_loops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from happysad.serving.predict import expand_inputs

    shots = tmp_path / "shots"
    for rel in ("a.png", "sub/b.png", "sub/deep/c.png", "sub/.hidden/h.png", "sub/x.txt"):
        (shots / rel).parent.mkdir(parents=True, exist_ok=True)
        (shots / rel).write_bytes(b"x")
    (shots / "sub" / "loop").symlink_to("..")  # back to shots/: a loop
    (shots / "sub" / "deep" / "up").symlink_to("../..")  # a second one: 2^40 paths with glob
    (shots / "linked.png").symlink_to(shots / "a.png")  # a linked file is listed
    monkeypatch.chdir(tmp_path)
    t0 = time.monotonic()
    files, errors = expand_inputs(["shots/**/*.png"])
    assert time.monotonic() - t0 < 10
    assert not errors
    assert files == ["shots/a.png", "shots/linked.png", "shots/sub/b.png", "shots/sub/deep/c.png"]
    files, _ = expand_inputs([str(shots / "**" / "deep" / "*.png"), "shots/*/b.png"])
    assert files == [str(shots / "sub" / "deep" / "c.png"), "shots/sub/b.png"]


@pytest.mark.parametrize(
    "args",
    [
        ["model=nope", "model.weights=null"],
        ["model=nope", "model.weights=null", "hydra.run.dir={rd}"],
        ["--cfg", "job", "model=nope", "+model.extra=1"],
    ],
    ids=["plain", "with-hydra-override", "cfg-job"],
)
def test_a_missing_group_option_is_one_line_whatever_else_is_given(
    tmp_path: Path, args: list[str]
) -> None:
    from .conftest import no_tensorflow_env, run_cli

    env, marker = no_tensorflow_env(tmp_path)
    rd = tmp_path / "rd"
    res = run_cli(
        "happysad-train", f"paths.output_dir={tmp_path / 'out'}",
        *[a.format(rd=rd) for a in args], env=env, timeout=120,
    )  # fmt: skip
    assert res.returncode == 2, res.stderr[-2000:]
    assert res.stderr.startswith("error: model=nope: no such option in conf/model/")
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert not marker.exists() and not rd.exists() and not (tmp_path / "out").exists()


def test_a_reused_run_dir_is_refused_before_hydra_writes_into_it(tmp_path: Path) -> None:
    from .conftest import no_tensorflow_env, run_cli

    env, marker = no_tensorflow_env(tmp_path)
    rd = tmp_path / "earlier_run"
    (rd / ".hydra").mkdir(parents=True)
    (rd / ".hydra" / "config.yaml").write_text("the earlier run's config\n")
    (rd / ".hydra" / "overrides.yaml").write_text("- trainer.epochs=9\n")
    (rd / "history.csv").write_text("epoch,loss\n0,0.5\n")
    before = hash_tree(rd)
    res = run_cli(
        "happysad-train", f"hydra.run.dir={rd}", f"paths.output_dir={tmp_path / 'out'}",
        env=env, timeout=120,
    )  # fmt: skip
    assert res.returncode == 2, res.stderr[-2000:]
    assert res.stderr.strip() == (
        f"error: hydra.run.dir={rd}: already holds a run (history.csv); continue it with "
        f"trainer.resume={rd}, or pick a new run dir (nothing was changed)"
    )
    assert hash_tree(rd) == before and not (rd / "train.log").exists()
    assert not marker.exists()
