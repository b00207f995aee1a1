"""Tests for the synthetic demo dataset (small sizes: the whole file runs in a few seconds)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from happysad.data import demo
from happysad.data.demo import MARKER, ensure_demo_dataset, generate_demo_dataset

SMALL = {"per_class": 10, "image_size": 64}
SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "make_demo_data.py"


def _hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _decodes(path: Path) -> bool:
    # imdecode from bytes is the project's decode path (cv2.imread tolerates truncated JPEGs).
    data = np.frombuffer(path.read_bytes(), np.uint8)
    return data.size > 0 and cv2.imdecode(data, cv2.IMREAD_UNCHANGED) is not None


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("demo") / "data"
    return root, generate_demo_dataset(root, **SMALL, seed=3)


def test_deterministic_same_seed(tmp_path: Path) -> None:
    a = _hashes(Path(ensure_demo_dataset(tmp_path / "a", **SMALL, seed=5)))
    b = _hashes(Path(ensure_demo_dataset(tmp_path / "b", **SMALL, seed=5)))
    assert a == b
    c = _hashes(Path(ensure_demo_dataset(tmp_path / "c", **SMALL, seed=6)))
    shared = [k for k in a if k in c and k.startswith(("happy/happy_0", "sad/sad_0"))]
    assert shared and all(a[k] != c[k] for k in shared)


def test_layout_and_counts(dataset: tuple[Path, dict]) -> None:
    root, info = dataset
    assert sorted(p.name for p in root.iterdir()) == sorted([MARKER, "happy", "sad"])
    assert json.loads((root / MARKER).read_text()) == info
    assert info["version"] == demo.VERSION and info["args"]["seed"] == 3
    corrupt = set(info["corrupt_files"])
    for cls in ("happy", "sad"):
        images = [
            p
            for p in (root / cls).iterdir()
            if p.suffix in (".jpg", ".png") and f"{cls}/{p.name}" not in corrupt
        ]
        assert len(images) == info["counts"][cls] == 10
        assert all(p.name.startswith(f"{cls}_") for p in images)
    assert info["counts"]["jpg"] + info["counts"]["png"] == 20


def test_images_decode_to_requested_size(dataset: tuple[Path, dict]) -> None:
    root, info = dataset
    corrupt = set(info["corrupt_files"])
    seen = 0
    for p in root.glob("*/*"):
        if p.relative_to(root).as_posix() in corrupt:
            continue
        img = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
        assert img is not None and img.shape == (64, 64, 3) and img.dtype == np.uint8, p
        seen += 1
    assert seen == 20


def test_corrupt_files_planted(dataset: tuple[Path, dict]) -> None:
    root, info = dataset
    names = sorted(Path(f).name for f in info["corrupt_files"])
    assert names == ["happy_empty_00.jpg", "happy_truncated_00.jpg", "notes.txt", "sad_text_00.png"]
    assert {Path(f).parent.name for f in info["corrupt_files"]} == {"happy", "sad"}
    for rel in info["corrupt_files"]:
        assert (root / rel).is_file() and not _decodes(root / rel), rel
    assert (root / "happy" / "happy_empty_00.jpg").stat().st_size == 0
    assert (root / "happy" / "happy_truncated_00.jpg").read_bytes()[:2] == b"\xff\xd8"


def test_corrupt_counts_cycle(tmp_path: Path) -> None:
    none = generate_demo_dataset(tmp_path / "none", per_class=2, image_size=32, n_corrupt=0)
    assert none["corrupt_files"] == [] and none["counts"]["corrupt"] == 0
    many = generate_demo_dataset(tmp_path / "many", per_class=2, image_size=32, n_corrupt=6)
    assert len(set(many["corrupt_files"])) == 6
    assert all((tmp_path / "many" / f).is_file() for f in many["corrupt_files"])


def test_ensure_reuses_and_refuses_mismatch(tmp_path: Path) -> None:
    root = tmp_path / "data"
    assert ensure_demo_dataset(root, **SMALL) == root
    marker, image = root / MARKER, root / "happy" / "happy_00000.jpg"
    if not image.exists():
        image = root / "happy" / "happy_00000.png"
    before = (marker.stat().st_mtime_ns, image.stat().st_mtime_ns)
    assert ensure_demo_dataset(root, **SMALL) == root
    assert (marker.stat().st_mtime_ns, image.stat().st_mtime_ns) == before
    with pytest.raises(ValueError, match=r"delete it or choose another data\.root"):
        ensure_demo_dataset(root, per_class=11, image_size=64)
    assert (marker.stat().st_mtime_ns, image.stat().st_mtime_ns) == before

    user = tmp_path / "user"
    (user / "happy").mkdir(parents=True)
    (user / "happy" / "mine.jpg").write_bytes(b"x")
    with pytest.raises(ValueError, match="user"):
        ensure_demo_dataset(user, **SMALL)
    assert (user / "happy" / "mine.jpg").read_bytes() == b"x"
    assert not list(tmp_path.glob("*.tmp-*"))


@pytest.mark.parametrize("version", [4, 5])
def test_an_older_set_is_reused_without_twins_and_dots_only(tmp_path: Path, version: int) -> None:
    """Version 6 without twins or dots draws the images of versions 4 and 5, so a set made
    before an upgrade (a marker with version 4 and neither key, or version 5 without
    `dotted`) is reused, e.g. by a resumed run; with twins or dots it is another set."""
    root = tmp_path / f"v{version}"
    generate_demo_dataset(root, **SMALL, n_corrupt=0)
    info = json.loads((root / MARKER).read_text())
    info["version"] = version
    del info["args"]["style"]["dotted"]
    if version == 4:
        del info["args"]["style"]["twins"]
    (root / MARKER).write_text(json.dumps(info))
    before = _hashes(root)
    assert ensure_demo_dataset(root, **SMALL, n_corrupt=0) == root
    for other in ({"twins": True}, {"dotted": 0.3}):
        with pytest.raises(ValueError, match="other demo-dataset args"):
            ensure_demo_dataset(root, **SMALL, n_corrupt=0, style=other)
    info["version"] = 3  # an older drawing is never taken for the current one
    (root / MARKER).write_text(json.dumps(info))
    with pytest.raises(ValueError, match="other demo-dataset args"):
        ensure_demo_dataset(root, **SMALL, n_corrupt=0)
    assert {k: v for k, v in _hashes(root).items() if k != MARKER} == {
        k: v for k, v in before.items() if k != MARKER
    }


@pytest.mark.parametrize(
    ("version", "style", "reused"),
    [
        (5, {"twins": True}, True),  # version 5's twins are version 6's twins without dots
        (4, {"twins": False}, False),  # version 4 never wrote `twins`: not a version-4 marker
        (6, {}, False),  # version 6 always writes `dotted`
    ],
)
def test_older_markers_are_upgraded_only_where_the_images_match(
    tmp_path: Path, version: int, style: dict, reused: bool
) -> None:
    """Only a marker that version 6 would have drawn identically counts as current; the
    others are refused, and nothing in the folder is touched either way."""
    root = tmp_path / "set"
    generate_demo_dataset(root, **SMALL, n_corrupt=0, style={"twins": style.get("twins", False)})
    info = json.loads((root / MARKER).read_text())
    info["version"] = version
    del info["args"]["style"]["dotted"]
    (root / MARKER).write_text(json.dumps(info))
    before = _hashes(root)
    if reused:
        assert ensure_demo_dataset(root, **SMALL, n_corrupt=0, style=style) == root
    else:
        with pytest.raises(ValueError, match="other demo-dataset args"):
            ensure_demo_dataset(root, **SMALL, n_corrupt=0, style=style)
    assert _hashes(root) == before


def test_the_training_stage_draws_the_configured_twins_and_dots(compose, tmp_path: Path) -> None:
    """data.demo.twins and data.demo.dotted reach the generator through the training stage,
    and the data root names them, so sets that differ in either never share a folder."""
    from happysad.training.stages import ensure_demo_data

    roots = []
    for twins, dotted in ((True, 0.0), (False, 0.0), (False, 0.5)):
        cfg = compose(
            [
                f"paths.demo_dir={tmp_path}",
                "data.demo.per_class=2",
                "data.demo.image_size=64",
                "data.demo.n_corrupt=0",
                f"data.demo.twins={str(twins).lower()}",
                f"data.demo.dotted={dotted}",
            ]
        )
        ensure_demo_data(cfg)
        root = Path(cfg.data.root)
        assert f"twins{twins}_dots{dotted}" in root.name
        style = json.loads((root / MARKER).read_text())["args"]["style"]
        assert (style["twins"], style["dotted"]) == (twins, dotted)
        roots.append(root)
    assert len(set(roots)) == 3


def test_dotted_mouths_are_dots_along_the_same_curve() -> None:
    """A dotted mouth is drawn where the line would be (same curve, so the same sign), as
    separate dots; an open mouth stays open. Both classes, many random draws."""
    dotted_seen = 0
    for seed in range(24):
        masks = []
        for dotted in (0.0, 1.0):
            img = np.zeros((128, 128, 3), np.uint8)
            cv = demo._Canvas(img, 64.0, 64.0, 0.0)
            rng = np.random.default_rng(seed)
            demo._wide_mouth(
                rng, cv, seed % 2 == 0, 40.0, 48.0, (255, 255, 255), 3.0, 0.0, None, dotted
            )
            masks.append(img[..., 0] > 127)  # anti-aliased rims may touch
        line, dots = masks
        if (line == dots).all():  # an open mouth: never dotted
            continue
        dotted_seen += 1
        near_line = cv2.dilate(line.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
        assert dots.any() and (dots & ~near_line).sum() == 0
        n_parts, _ = cv2.connectedComponents(dots.astype(np.uint8))
        assert 5 <= n_parts - 1 <= 9  # background + 5-9 separate dots
    assert dotted_seen >= 12


def test_generate_refuses_nonempty_dir(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        generate_demo_dataset(tmp_path, **SMALL)
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_style_validation() -> None:
    with pytest.raises(ValueError, match="colour_scheme"):
        demo._resolve_style({"colour_scheme": "x"})
    with pytest.raises(ValueError, match="palette"):
        demo._resolve_style({"palette": "neon"})
    with pytest.raises(ValueError, match="scale_range"):
        demo._resolve_style({"scale_range": (0.9, 0.5)})
    with pytest.raises(ValueError, match="variety"):
        demo._resolve_style({"variety": "baroque"})
    with pytest.raises(ValueError, match="cues"):
        demo._resolve_style({"cues": 2})
    with pytest.raises(ValueError, match="twins"):
        demo._resolve_style({"twins": "yes"})
    with pytest.raises(ValueError, match="dotted"):
        demo._resolve_style({"dotted": 1.5})


def _read(path: Path) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), cv2.IMREAD_COLOR).astype(int)


def _differing_share(a: Path, b: Path) -> float:
    return float((np.abs(_read(a) - _read(b)).max(axis=2) > 24).mean())


def test_twins_differ_only_where_the_label_is_drawn(tmp_path: Path) -> None:
    """With twins, happy_i and sad_i share their draws (same file type, same face, same
    background): only the mouth (and a cue's sign) tells them apart. By default the classes
    draw from their own streams and the faces have nothing in common."""
    twins = generate_demo_dataset(
        tmp_path / "twins", **SMALL, seed=4, n_corrupt=0, style={"twins": True}
    )
    apart = generate_demo_dataset(tmp_path / "apart", **SMALL, seed=4, n_corrupt=0)
    assert twins["args"]["style"]["twins"] is True and apart["args"]["style"]["twins"] is False

    def names(root: Path, cls: str) -> list[Path]:
        return sorted((root / cls).iterdir())

    twin_dir, apart_dir = tmp_path / "twins", tmp_path / "apart"
    pairs = list(zip(names(twin_dir, "happy"), names(twin_dir, "sad"), strict=True))
    assert all(h.suffix == s.suffix for h, s in pairs)
    shares = [_differing_share(h, s) for h, s in pairs]
    assert max(shares) < 0.12 and min(shares) > 0.0, shares  # a mouth, never nothing
    apart_pairs = zip(names(apart_dir, "happy"), names(apart_dir, "sad"), strict=True)
    assert np.median([_differing_share(h, s) for h, s in apart_pairs]) > 0.3
    assert twins["counts"]["happy"] == twins["counts"]["sad"] == SMALL["per_class"]


def _pair(seed: int, style: dict | None = None, size: int = 64):
    st = demo._resolve_style(style)
    happy = demo._render_face(np.random.default_rng(seed), True, size, st)
    sad = demo._render_face(np.random.default_rng(seed), False, size, st)
    return happy, sad


@pytest.mark.parametrize("variety", ["wide", "classic"])
def test_mouth_is_the_label_signal(variety: str) -> None:
    """Same sub-seed, flipped label: only the mouth changes, and it curves the right way."""
    for seed in range(12):
        style = {"noise": 0.0, "variety": variety, "cues": 0.0}
        (h_img, h_meta), (s_img, s_meta) = _pair(seed, style)
        assert h_meta["curvature"] > 0 > s_meta["curvature"]
        assert h_meta["curvature"] == -s_meta["curvature"]
        for meta, happy in ((h_meta, True), (s_meta, False)):
            m = meta["mouth"]
            corners_y, centre_y = (m[0, 1] + m[-1, 1]) / 2, m[len(m) // 2, 1]
            assert (centre_y > corners_y) == happy  # image y grows downwards
        diff = np.abs(h_img.astype(int) - s_img.astype(int)).sum(axis=2) > 30
        ys, xs = np.nonzero(diff)
        assert ys.size > 0
        mouth = h_meta["mouth"]
        # every changed pixel lies near the mouth: nothing else depends on the label
        assert ys.min() >= mouth[:, 1].min() - 12 and ys.max() <= mouth[:, 1].max() + 12
        assert xs.min() >= mouth[:, 0].min() - 12 and xs.max() <= mouth[:, 0].max() + 12


def _above_mouth(img: np.ndarray, other: np.ndarray, mouth: np.ndarray) -> bool:
    diff = np.abs(img.astype(int) - other.astype(int)).sum(axis=2) > 30
    ys, _ = np.nonzero(diff)
    return bool(ys.size) and bool(ys.min() < mouth[:, 1].min() - 4)


def test_cues_come_in_both_classes_alike() -> None:
    """A cue is drawn on a happy face exactly when it is drawn on its sad twin (version 2 drew
    brows and tears on sad faces only: a shortcut that made cue-less sad faces look happy),
    and most cue kinds differ between the twins (eyes, brows) while a tear does not."""
    with_cue = differs = 0
    for seed in range(40):
        (h1, h_meta), (s1, _) = _pair(seed, {"noise": 0.0, "cues": 1.0})
        (h0, _), (s0, _) = _pair(seed, {"noise": 0.0, "cues": 0.0})
        mouth = h_meta["mouth"]
        h_cue, s_cue = _above_mouth(h1, h0, mouth), _above_mouth(s1, s0, mouth)
        assert h_cue == s_cue, seed
        with_cue += h_cue
        differs += _above_mouth(h1, s1, mouth)
    assert with_cue >= 28  # the rest are hidden (e.g. a tear under a low-contrast line drawing)
    assert 10 <= differs < with_cue


def _mouth_box(img: np.ndarray, mouth: np.ndarray, pad: int = 3) -> np.ndarray:
    x0, y0 = np.floor(mouth.min(axis=0)).astype(int) - pad
    x1, y1 = np.ceil(mouth.max(axis=0)).astype(int) + pad
    return img[max(y0, 0) : y1, max(x0, 0) : x1].astype(float)


def test_faint_mouths_come_in_both_classes_alike_with_less_contrast() -> None:
    """A faint mouth (close to the skin's tone) is drawn on a happy face exactly when on its
    sad twin, never on a barely curved mouth, and it changes nothing but the mouth: the same
    face with ``faint=0`` differs only there, and its mouth stands out more."""
    faint = lower = 0
    for seed in range(40):
        plain = {"noise": 0.0, "faint": 0.0}
        (h1, h_meta), (_, s_meta) = _pair(seed, {"noise": 0.0, "faint": 1.0}, size=128)
        (h0, h0_meta), _ = _pair(seed, plain, size=128)
        assert h_meta["faint"] == s_meta["faint"] == (not h_meta["hard"]), seed
        assert not h0_meta["faint"]
        if not h_meta["faint"]:
            assert np.array_equal(h1, h0)
            continue
        faint += 1
        mouth = h_meta["mouth"]
        diff = np.abs(h1.astype(int) - h0.astype(int)).sum(axis=2) > 0
        ys, xs = np.nonzero(diff)
        assert ys.min() >= mouth[:, 1].min() - 12 and ys.max() <= mouth[:, 1].max() + 12
        assert xs.min() >= mouth[:, 0].min() - 12 and xs.max() <= mouth[:, 0].max() + 12
        lower += _mouth_box(h1, mouth).std() < _mouth_box(h0, mouth).std()
    assert faint >= 25
    assert lower >= 0.9 * faint
    shares = []  # at a share in between, twins still agree and about that share is faint
    for seed in range(60):
        (_, h_meta), (_, s_meta) = _pair(seed, {"noise": 0.0, "faint": 0.5})
        assert h_meta["faint"] == s_meta["faint"], seed
        shares.append(h_meta["faint"])
    assert 0.25 <= np.mean(shares) <= 0.7


def test_wide_variety_draws_more_kinds_of_faces() -> None:
    """The wide variety spreads the nuisances: more spread of brightness and of face size."""

    def spread(variety: str) -> tuple[float, float]:
        imgs = [_pair(seed, {"variety": variety})[0][0] for seed in range(40)]
        grey = [float((img.std(axis=2) < 2).all()) for img in imgs]
        return float(np.std([img.mean() for img in imgs])), float(np.mean(grey))

    (wide_std, wide_grey), (classic_std, classic_grey) = spread("wide"), spread("classic")
    assert wide_std > classic_std
    assert wide_grey > 0 and classic_grey == 0


def test_alt_palette_changes_colours() -> None:
    for seed in range(5):
        (d_img, _), _ = _pair(seed, {"variety": "classic"})
        (a_img, _), _ = _pair(seed, {"palette": "alt", "variety": "classic"})
        assert np.abs(d_img.mean(axis=(0, 1)) - a_img.mean(axis=(0, 1))).max() > 10


def test_script_summary_and_refusal(tmp_path: Path) -> None:
    out = tmp_path / "cli"
    cmd = [sys.executable, str(SCRIPT), "--out", str(out), "--per-class", "3"]
    done = subprocess.run([*cmd, "--image-size", "32"], capture_output=True, text=True, check=True)
    summary = json.loads(done.stdout)
    assert summary["counts"]["happy"] == 3 and (out / MARKER).is_file()
    again = subprocess.run(cmd, capture_output=True, text=True)
    assert again.returncode == 2 and len(again.stderr.strip().splitlines()) == 1
