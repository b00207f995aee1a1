"""Sweeps: grid and Optuna multiruns grouped in MLflow, parallel jobs, launchers, compare.

The slow tests run the real CLI (real training on tiny data, a real SQLite store per test);
the others check composition, the search space, the sweeper's study handling and the
comparison helpers without TensorFlow.
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from pathlib import Path
from typing import Any

import pytest
from omegaconf import OmegaConf, open_dict

from happysad.evaluate import objective_value
from happysad.resources import available_cpus
from happysad.tracking import compare

from .conftest import run_cli, tiny_train_args

EPOCHS = 2


def _client(out: Path):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=f"sqlite:///{out / 'mlflow.db'}")


def _sweep_runs(out: Path) -> tuple[Any, list[Any]]:
    """(the one sweep parent, its trial runs sorted by trial number)."""
    client = _client(out)
    exp = client.get_experiment_by_name("happysad")
    runs = client.search_runs([exp.experiment_id], max_results=1000)
    parents = [r for r in runs if r.data.tags.get("happysad.role") == "sweep"]
    assert len(parents) == 1, [r.info.run_name for r in runs]
    trials = [r for r in runs if r is not parents[0]]
    trials.sort(key=lambda r: int(r.data.tags["happysad.trial"]))
    return parents[0], trials


def _artifacts(client: Any, run_id: str, path: str = "") -> set[str]:
    out = set()
    for f in client.list_artifacts(run_id, path):
        out |= _artifacts(client, run_id, f.path) if f.is_dir else {f.path}
    return out


def _output(res: Any) -> str:
    return (res.stdout or "")[-4000:] + (res.stderr or "")[-4000:]


def _base_args(out: Path, data: Path, *extra: str) -> list[str]:
    """tiny_train_args without the fixed model (the grid sweeps it)."""
    return [a for a in tiny_train_args(out, data) if not a.startswith("model=")] + list(extra)


def _check_grouped(parent: Any, trials: list[Any]) -> None:
    sweep_id = parent.data.tags["happysad.sweep_id"]
    for t in trials:
        assert t.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert t.data.tags["happysad.sweep_id"] == sweep_id
        assert t.data.tags["happysad.role"] == "trial"


# --- slow: real sweeps -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory, demo_data: Path):
    out = tmp_path_factory.mktemp("grid")
    res = run_cli(
        "happysad-train",
        "-m",
        *_base_args(out, demo_data, "tracking.log_model=false", "callbacks.tensorboard=null"),
        "optimizer.lr=0.001,0.003",
        "model=tiny_cnn,small_cnn",
    )
    assert res.returncode == 0, _output(res)
    return out, res


@pytest.mark.slow
def test_grid_sweep_makes_one_grouped_run_per_job(grid) -> None:
    out, _ = grid
    client = _client(out)
    parent, trials = _sweep_runs(out)
    assert len(trials) == 4
    assert all(t.info.status == "FINISHED" for t in trials)
    _check_grouped(parent, trials)
    combos = {(t.data.params["optimizer.lr"], t.data.params["model.name"]) for t in trials}
    assert combos == {(lr, m) for lr in ("0.001", "0.003") for m in ("tiny_cnn", "small_cnn")}
    for t in trials:
        # Run name = trial number + what this job varies; the overrides also as tags.
        lr, model = t.data.params["optimizer.lr"], t.data.params["model.name"]
        assert (
            t.info.run_name == f"#{t.data.tags['happysad.trial']} optimizer.lr={lr} model={model}"
        )
        own = json.loads(t.data.tags["happysad.overrides_json"])
        assert f"optimizer.lr={lr}" in own and f"model={model}" in own
        assert f"optimizer.lr={lr}" in t.data.tags["happysad.overrides"]
        # No per-run path among the params: the compare view's parallel coordinates pick
        # what varies, and the paths (the job dirs) vary in every job.
        leaks = [k for k, v in t.data.params.items() if str(out) in v and k != "data.root"]
        assert not leaks and "/" not in t.info.run_name
        # The objective (default: best val_accuracy over the epochs) is logged per run.
        hist = [m.value for m in client.get_metric_history(t.info.run_id, "val_accuracy")]
        assert len(hist) == EPOCHS
        assert t.data.metrics["objective"] == pytest.approx(max(hist))
    # The parent records the sweep's config and, at the end, the best trial.
    assert parent.info.status == "FINISHED"
    p = parent.data.params
    assert "optimizer.lr=0.001,0.003" in p["sweep.overrides"]
    assert "model=tiny_cnn,small_cnn" in p["sweep.overrides"]
    assert str(out) not in p["sweep.overrides"]  # paths: in the happysad.overrides tag
    assert f"paths.output_dir={out}" in parent.data.tags["happysad.overrides"]
    assert (p["sweep.sweeper"], p["sweep.launcher"]) == ("BasicSweeper", "BasicLauncher")
    assert (p["objective"], p["objective_direction"]) == ("val_accuracy", "maximize")
    assert parent.info.run_name == "sweep: optimizer.lr=0.001,0.003 model=tiny_cnn,small_cnn"
    best = max(
        trials, key=lambda t: (t.data.metrics["objective"], -int(t.data.tags["happysad.trial"]))
    )
    assert parent.data.tags["best_run_id"] == best.info.run_id
    assert parent.data.tags["best_trial"] == best.data.tags["happysad.trial"]
    assert parent.data.metrics["best_objective"] == pytest.approx(best.data.metrics["objective"])
    assert p["best.optimizer.lr"] == best.data.params["optimizer.lr"]
    assert p["best.model"] == best.data.params["model.name"]
    assert parent.data.metrics["n_trials"] == 4 and parent.data.metrics["n_failed"] == 0
    steps = client.get_metric_history(parent.info.run_id, "trial_objective")
    assert sorted(m.step for m in steps) == [0, 1, 2, 3]
    assert {"sweep/multirun.yaml", "sweep/trials.csv"} <= _artifacts(client, parent.info.run_id)


@pytest.mark.slow
def test_compare_prints_the_sweep_sorted_by_objective(grid, tmp_path: Path) -> None:
    out, _ = grid
    parent, trials = _sweep_runs(out)
    uri = f"sqlite:///{out / 'mlflow.db'}"
    res = run_cli(
        "python",
        "-m",
        "happysad.cli.compare",
        "--tracking-uri",
        uri,
        "--sweep",
        "latest",
        "--format",
        "csv",
    )
    assert res.returncode == 0, _output(res)
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert len(rows) == 4
    # Only what varies is a param column; metrics follow; best first.
    assert list(rows[0])[:6] == ["rank", "trial", "run_id", "status", "optimizer.lr", "model"]
    objectives = [float(r["objective"]) for r in rows]
    assert objectives == sorted(objectives, reverse=True)
    by_id = {t.info.run_id[:8]: t for t in trials}
    for r in rows:
        t = by_id[r["run_id"]]
        assert r["optimizer.lr"] == t.data.params["optimizer.lr"]
        assert r["model"] == t.data.params["model.name"]
        assert r["trial"] == t.data.tags["happysad.trial"]
        assert float(r["objective"]) == pytest.approx(t.data.metrics["objective"], abs=1e-4)
    assert rows[0]["run_id"] == parent.data.tags["best_run_id"][:8]

    # The human table: a header line naming the sweep, one line per run, the best trial.
    sid = parent.data.tags["happysad.sweep_id"]
    res = run_cli(
        "python",
        "-m",
        "happysad.cli.compare",
        "--tracking-uri",
        uri,
        "--sweep",
        sid,
        "--plot",
        str(tmp_path / "lr.png"),
        "--x",
        "optimizer.lr",
    )
    assert res.returncode == 0, _output(res)
    lines = res.stdout.splitlines()
    assert lines[0].startswith(f"sweep {sid} ") and "4 runs (4 finished)" in lines[0]
    assert lines[1].split()[:6] == ["rank", "trial", "run_id", "status", "optimizer.lr", "model"]
    assert [line.split()[2] for line in lines[2:6]] == [r["run_id"] for r in rows]
    assert lines[6].startswith("best trial (recorded on the parent run)")
    assert (tmp_path / "lr.png").stat().st_size > 5000

    # The whole experiment (the parent is not a run to compare) and the curves plot.
    res = run_cli(
        "python",
        "-m",
        "happysad.cli.compare",
        "--tracking-uri",
        uri,
        "--top",
        "2",
        "--metric",
        "test_accuracy",
        "--plot",
        str(tmp_path / "curves.png"),
    )
    assert res.returncode == 0, _output(res)
    lines = res.stdout.splitlines()
    assert "experiment 'happysad': 4 runs" in lines[0] and "test_accuracy (maximize)" in lines[0]
    assert len(lines) == 2 + 2 + 1  # header, columns, 2 runs, "2 more runs not shown"
    assert (tmp_path / "curves.png").stat().st_size > 5000

    res = run_cli("python", "-m", "happysad.cli.compare", "--tracking-uri", uri, "--sweep", "nope")
    assert res.returncode == 2 and "no sweep 'nope'" in res.stderr


@pytest.mark.slow
def test_optuna_sweep_returns_objective_and_parent_records_best(
    tmp_path: Path, demo_data: Path
) -> None:
    import optuna

    out = tmp_path / "optuna"
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    res = run_cli(
        "happysad-train",
        "hparams_search=optuna",  # a multirun by itself, no -m
        "hydra.sweeper.n_trials=3",
        "hydra.sweeper.sampler.seed=7",
        f"hydra.sweeper.storage={storage}",
        "hydra.sweeper.study_name=t",
        "data=folder",
        f"data.root={demo_data}",
        f"paths.output_dir={out}",
        f"trainer.epochs={EPOCHS}",
        "trainer.verbose=2",
        "data.image_size=[32,32]",  # a fixed value takes the key out of the search space
        "callbacks.model_checkpoint=null",
        "tracking.log_model=false",
    )
    assert res.returncode == 0, _output(res)
    parent, trials = _sweep_runs(out)
    assert len(trials) == 3 and all(t.info.status == "FINISHED" for t in trials)
    _check_grouped(parent, trials)
    # What each job returned is what Optuna recorded: the run's objective metric.
    study = optuna.load_study(study_name="t", storage=storage)
    assert [tr.state.name for tr in study.trials] == ["COMPLETE"] * 3
    for tr, run in zip(study.trials, trials, strict=True):
        assert tr.value == pytest.approx(run.data.metrics["objective"])
        assert tr.params["optimizer.lr"] == pytest.approx(float(run.data.params["optimizer.lr"]))
        assert "data.image_size" not in tr.params
        assert run.data.params["data.image_size"] == "[32, 32]"
        assert 1e-4 <= tr.params["optimizer.lr"] <= 1e-2
        assert run.data.params["model.name"] == "small_cnn"
    # The parent: search space, best trial's id, params and objective.
    p = parent.data.params
    assert p["sweep.sweeper"] == "HappysadOptunaSweeper" and p["sweep.n_trials"] == "3"
    assert p["sweep.direction"] == "maximize"
    assert p["sweep.params.optimizer.lr"] == "tag(log, interval(1e-4, 1e-2))"
    best_run = next(t for t in trials if t.info.run_id == parent.data.tags["best_run_id"])
    assert parent.data.metrics["best_objective"] == pytest.approx(study.best_value)
    assert best_run.data.metrics["objective"] == pytest.approx(study.best_value)
    assert float(p["best.optimizer.lr"]) == pytest.approx(study.best_params["optimizer.lr"])
    assert p["best.model.layers.0.filters"] == str(study.best_params["model.layers.0.filters"])
    results = OmegaConf.load(next(out.rglob("optimization_results.yaml")))
    assert results.best_value == pytest.approx(study.best_value)
    assert "sweep/optimization_results.yaml" in _artifacts(_client(out), parent.info.run_id)


@pytest.mark.slow
def test_parallel_joblib_sweep_loses_nothing_and_isolates_a_failed_job(
    tmp_path: Path, demo_data: Path
) -> None:
    out = tmp_path / "par"
    missing = tmp_path / "no_such_folder"
    args = tiny_train_args(out, demo_data, "callbacks.tensorboard=null")
    res = run_cli(
        "happysad-train",
        "-m",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=3",
        # Job 0 fails at once (its data folder is missing: a bad config value would be refused
        # by the precheck before the sweep starts); its worker then takes job 3 (reused).
        *(a for a in args if not a.startswith("data.root=")),
        f"data.root={missing},{demo_data},{demo_data},{demo_data}",
    )
    # One failed job fails the multirun (exit 1) but not the other jobs, and is named.
    assert res.returncode == 1, _output(res)
    text = res.stdout + res.stderr
    assert "job 0 failed" in text and "folder does not exist" in text, _output(res)
    client = _client(out)
    parent, trials = _sweep_runs(out)
    assert [t.data.tags["happysad.trial"] for t in trials] == ["1", "2", "3"]
    assert all(t.info.status == "FINISHED" for t in trials)
    _check_grouped(parent, trials)
    expected = {
        "config/config_resolved.yaml",
        "data/split_manifest.csv",
        "plots/curves.png",
        "plots/confusion_matrix.png",
        "metrics.json",
    }
    threads = str(max(1, available_cpus() // 3))
    for t in trials:
        for key in ("loss", "val_loss", "accuracy", "val_accuracy", "lr"):
            steps = [m.step for m in client.get_metric_history(t.info.run_id, key)]
            assert sorted(steps) == list(range(1, EPOCHS + 1)), (t.info.run_name, key)
        assert expected <= _artifacts(client, t.info.run_id), t.info.run_name
        (model,) = t.outputs.model_outputs  # the logged MLflow model, complete
        assert "MLmodel" in {a.path for a in client.list_logged_model_artifacts(model.model_id)}
        assert "test_accuracy" in t.data.metrics and "objective" in t.data.metrics
        # TensorFlow threads per job: the cores shared between the 3 workers.
        assert t.data.params["trainer.intra_op_threads"] == threads
        assert t.data.params["trainer.inter_op_threads"] == threads
    # The three trainings really ran at the same time.
    spans = [(t.info.start_time, t.info.end_time) for t in trials]
    assert max(sum(s <= t0 < e for s, e in spans) for t0, _ in spans) >= 2
    # The parent is closed even though Hydra stopped early, and counts the failure.
    assert parent.info.status == "FAILED"
    assert parent.data.metrics["n_failed"] == 1 and parent.data.metrics["n_finished"] == 3
    assert parent.data.tags["best_run_id"] in {t.info.run_id for t in trials}


# --- fast: composition -----------------------------------------------------------------------


def _as_job(cfg: Any) -> Any:
    """Make the composed config look like a running multirun job to HydraConfig."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    with open_dict(cfg):
        cfg.hydra.mode = RunMode.MULTIRUN
    HydraConfig.instance().set_config(cfg)
    return cfg


@pytest.fixture
def hydra_config_reset():
    from hydra.core.hydra_config import HydraConfig

    yield
    HydraConfig.instance().cfg = None


@pytest.mark.parametrize(
    ("overrides", "target", "threads"),
    [
        (["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"], "JoblibLauncher", "cpus//2"),
        (["hydra/launcher=joblib"], "JoblibLauncher", "1"),  # n_jobs=-1: one worker per CPU
        (["hydra/launcher=slurm", "hydra.launcher.partition=gpu"], "SlurmLauncher", "4"),
        (["hydra/launcher=submitit_slurm", "hydra.launcher.cpus_per_task=6"], "SlurmLauncher", "6"),
        (["hydra/launcher=submitit_local"], "LocalLauncher", "0"),
        (["hydra/launcher=ray", "hydra.launcher.ray.remote.num_cpus=3"], "RayLauncher", "3"),
        ([], "BasicLauncher", "0"),
    ],
)
def test_launcher_configs_compose_and_set_threads_per_job(
    compose, hydra_config_reset, overrides: list[str], target: str, threads: str
) -> None:
    from happysad.config import validate

    cfg = _as_job(compose(overrides, hydra_cfg=True))
    assert cfg.hydra.launcher._target_.endswith(target)
    validate(cfg)
    want = max(1, available_cpus() // 2) if threads == "cpus//2" else int(threads)
    assert cfg.trainer.intra_op_threads == want
    assert cfg.trainer.inter_op_threads == want


def test_slurm_and_ray_presets_carry_cluster_settings(compose, monkeypatch) -> None:
    slurm = compose(["hydra/launcher=slurm", "hydra.launcher.partition=gpu"], hydra_cfg=True)
    lc = slurm.hydra.launcher
    assert (lc.partition, lc.tasks_per_node, lc.nodes, lc.timeout_min) == ("gpu", 1, 1, 120)
    raw = OmegaConf.to_container(lc, resolve=False)
    assert raw["submitit_folder"] == "${hydra.sweep.dir}/.submitit/%j"
    ray = compose(["hydra/launcher=ray"], hydra_cfg=True).hydra.launcher
    assert ray.ray.remote.max_calls == 1  # a fresh process per job
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert ray.ray.init.address == "auto"
    monkeypatch.setenv("RAY_ADDRESS", "ray://head:10001")
    assert ray.ray.init.address == "ray://head:10001"


def test_single_run_keeps_tensorflow_default_threads(compose, hydra_config_reset) -> None:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    cfg = compose(["hydra/launcher=joblib"], hydra_cfg=True)
    with open_dict(cfg):
        cfg.hydra.mode = RunMode.RUN
    HydraConfig.instance().set_config(cfg)
    assert cfg.trainer.intra_op_threads == 0
    assert compose().trainer.intra_op_threads == 0  # outside any app


def test_optuna_preset_composes_with_the_objective_direction(compose) -> None:
    cfg = compose(["hparams_search=optuna", "trainer.objective_direction=minimize"], hydra_cfg=True)
    sw = cfg.hydra.sweeper
    assert sw._target_.endswith("HappysadOptunaSweeper")
    assert str(cfg.hydra.mode) == "RunMode.MULTIRUN"
    assert sw.direction == "minimize"  # follows trainer.objective_direction
    assert cfg.model.name == "small_cnn"
    keys = set(sw.params)
    assert {"optimizer.lr", "model.layers.20.rate", "data.batch_size", "data.image_size"} <= keys
    # Every searched layer index exists in the model and holds the field it searches.
    for key in keys:
        if key.startswith("model.layers."):
            _, _, idx, field = key.split(".")
            assert field in cfg.model.layers[int(idx)], key


def test_bad_objective_direction_is_a_config_error(compose) -> None:
    from happysad.config import validate
    from happysad.errors import ConfigError

    with pytest.raises(ConfigError, match=r"^trainer.objective_direction='up'"):
        validate(compose(["trainer.objective_direction=up"]))


def test_cfg_shows_the_optuna_sweeper_and_a_changed_search_space() -> None:
    # The README's way to change the space: merge a dict (its keys contain dots).
    res = run_cli(
        "happysad-train",
        "hparams_search=optuna",
        '++hydra.sweeper.params={optimizer.lr:"interval(1e-3,1e-2)",trainer.epochs:"choice(10,20)"}',
        "--cfg",
        "hydra",
        "--package",
        "hydra.sweeper",
    )
    assert res.returncode == 0, res.stderr
    assert "HappysadOptunaSweeper" in res.stdout
    assert "optimizer.lr: interval(1e-3,1e-2)" in res.stdout
    assert "trainer.epochs: choice(10,20)" in res.stdout
    assert "data.batch_size: choice(16, 32, 64)" in res.stdout  # the rest kept


# --- fast: the Optuna sweeper without training -------------------------------------------------


def test_search_space_expressions_map_to_optuna_distributions() -> None:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    from happysad.sweeps.optuna_search import parse_search_space

    space, fixed = parse_search_space(
        [
            "optimizer.lr=tag(log, interval(1e-4, 1e-2))",
            "model.layers.20.rate=interval(0.0, 0.5)",
            "data.batch_size=choice(16, 32)",
            "data.image_size=choice([48,48], [64,64])",
            "trainer.epochs=range(2, 11, 4)",
            "model.layers.0.filters=int(interval(8, 32))",
            "seed=1",
            "data.batch_size=8",  # a fixed value wins over the range
        ]
    )
    assert space["optimizer.lr"] == FloatDistribution(1e-4, 1e-2, log=True)
    assert space["model.layers.20.rate"] == FloatDistribution(0.0, 0.5)
    assert space["data.image_size"] == CategoricalDistribution(["[48,48]", "[64,64]"])
    assert space["trainer.epochs"] == IntDistribution(2, 10, step=4)  # range excludes 11
    assert space["model.layers.0.filters"] == IntDistribution(8, 32)
    assert "data.batch_size" not in space
    assert fixed == {"seed": "seed=1", "data.batch_size": "data.batch_size=8"}


class _FakeLauncher:
    """Stands in for Hydra's launcher: 'trains' by computing a value from the overrides."""

    def __init__(self, fail_when: str | None = None) -> None:
        self.calls: list[list[tuple[str, ...]]] = []
        self.fail_when = fail_when

    def launch(self, job_overrides, initial_job_idx):
        from hydra.core.utils import JobReturn, JobStatus

        self.calls.append([tuple(o) for o in job_overrides])
        out = []
        for ov in job_overrides:
            kv = dict(o.split("=", 1) for o in ov)
            ret = JobReturn(overrides=list(ov), status=JobStatus.COMPLETED)
            if self.fail_when and any(self.fail_when in o for o in ov):
                ret.status, ret._return_value = JobStatus.FAILED, ValueError("boom")
            else:
                ret._return_value = -((math.log10(float(kv["optimizer.lr"])) + 3) ** 2)
            out.append(ret)
        return out


def _search(tmp_path: Path, launcher: _FakeLauncher, **kw: Any):
    from happysad.sweeps.optuna_search import OptunaSearch

    s = OptunaSearch(
        sampler={"_target_": "optuna.samplers.RandomSampler", "seed": 0},
        direction="maximize",
        storage=f"sqlite:///{tmp_path / 'studies' / 'o.db'}",
        study_name="s",
        params={
            "optimizer.lr": "tag(log, interval(1e-5, 1e-1))",
            "data.batch_size": "choice(8, 16)",
        },
        **kw,
    )
    s.config = OmegaConf.create(
        {"hydra": {"sweep": {"dir": str(tmp_path / "sweep")}, "launcher": {"_target_": "x"}}}
    )
    s.launcher = launcher
    return s


def test_optuna_study_persists_and_a_rerun_continues_it(tmp_path: Path) -> None:
    import optuna

    launcher = _FakeLauncher()
    first = _search(tmp_path, launcher, n_trials=4, n_jobs=2).sweep(["seed=3"])
    assert [len(b) for b in launcher.calls] == [2, 2]  # n_jobs trials per launcher batch
    assert all("seed=3" in ov for batch in launcher.calls for ov in batch)
    assert first["n_trials_in_study"] == 4
    second = _search(tmp_path, launcher, n_trials=3, n_jobs=1).sweep([])
    assert second["n_trials_this_sweep"] == 3 and second["n_trials_in_study"] == 7
    study = optuna.load_study(study_name="s", storage=f"sqlite:///{tmp_path / 'studies' / 'o.db'}")
    assert len(study.trials) == 7
    assert second["best_value"] == pytest.approx(max(t.value for t in study.trials))
    saved = OmegaConf.load(tmp_path / "sweep" / "optimization_results.yaml")
    assert saved.best_value == pytest.approx(second["best_value"])


def test_optuna_failed_trials_are_recorded_and_too_many_stop_the_study(tmp_path: Path) -> None:
    import optuna

    ok = _search(
        tmp_path,
        _FakeLauncher(fail_when="data.batch_size=8"),
        n_trials=4,
        n_jobs=4,
        max_failure_rate=1.0,
    )
    result = ok.sweep([])
    study = optuna.load_study(study_name="s", storage=f"sqlite:///{tmp_path / 'studies' / 'o.db'}")
    states = [t.state.name for t in study.trials]
    assert set(states) <= {"COMPLETE", "FAIL"} and "FAIL" in states
    assert result["best_params"]["data.batch_size"] == 16
    strict = _search(
        tmp_path,
        _FakeLauncher(fail_when="data.batch_size"),
        n_trials=2,
        n_jobs=2,
        max_failure_rate=0.0,
    )
    with pytest.raises(ValueError, match="boom"):
        strict.sweep([])


# --- fast: objective and comparison helpers ----------------------------------------------------


def test_objective_is_the_best_epoch_or_a_final_metric() -> None:
    hist = {"val_accuracy": [0.5, 0.9, 0.7], "val_loss": [0.9, 0.3, float("nan")]}
    final = {"test_f1": 0.8, "epochs_run": 3}
    t = OmegaConf.create({"objective": "val_accuracy", "objective_direction": "maximize"})
    assert objective_value(t, hist, final) == 0.9
    t = OmegaConf.create({"objective": "val_loss", "objective_direction": "minimize"})
    assert objective_value(t, hist, final) == 0.3
    t = OmegaConf.create({"objective": "test_f1", "objective_direction": "maximize"})
    assert objective_value(t, hist, final) == 0.8
    t = OmegaConf.create({"objective": "val_auc", "objective_direction": "maximize"})
    assert objective_value(t, hist, final) is None


def _run(i: int, obj: float | None, overrides: list[str], **params: str) -> compare.RunInfo:
    tags = {"happysad.overrides": " ".join(overrides), "happysad.trial": str(i)}
    return compare.RunInfo(
        run_id=f"{i:032x}",
        name=f"#{i}",
        status="FINISHED",
        start_time=i,
        params={"trainer.objective_direction": "maximize", **params},
        metrics={} if obj is None else {"objective": obj},
        tags=tags,
        overrides=compare.parse_overrides(tags),
    )


def test_compare_table_shows_what_differs_best_first() -> None:
    runs = [
        _run(
            0,
            0.7,
            ["data.image_size=[48, 48]", "model=tiny_cnn"],
            **{"model.name": "tiny_cnn", "seed": "1"},
        ),
        _run(
            1,
            0.9,
            ["data.image_size=[64, 64]", "model=tiny_cnn"],
            **{"model.name": "tiny_cnn", "seed": "1"},
        ),
        _run(
            2,
            None,
            ["+callbacks.x=1", "model=small_cnn"],
            **{"model.name": "small_cnn", "seed": "2"},
        ),
        _run(
            3,
            0.9,
            ["data.image_size=[64, 64]", "model=tiny_cnn"],
            **{"model.name": "tiny_cnn", "seed": "1"},
        ),
    ]
    assert runs[0].overrides == {"data.image_size": "[48, 48]", "model": "tiny_cnn"}
    assert compare.direction_for("objective", runs) == "maximize"
    assert compare.direction_for("val_loss") == "minimize"
    header, rows = compare.build_table(runs, "objective", "maximize", metrics=["objective"])
    assert header == [
        "rank",
        "trial",
        "run_id",
        "status",
        "data.image_size",
        "model",
        "callbacks.x",
        "objective",
    ]
    assert [r[1] for r in rows] == ["1", "3", "0", "2"]  # ties: lower trial first; no value last
    assert rows[0][4:] == ["[64, 64]", "tiny_cnn", "-", "0.9000"]
    assert rows[3][4:] == ["-", "small_cnn", "1", "-"]
    text = compare.format_table(header, rows)
    assert [line.split()[1] for line in text.splitlines()[1:]] == ["1", "3", "0", "2"]
    header, rows = compare.build_table(
        runs, "objective", "maximize", metrics=["objective"], all_params=True
    )
    assert header[-3:] == ["model.name", "seed", "objective"]
    assert rows[3][-2] == "2"  # seed differs though no override set it
    assert compare.best_run(runs, "objective", "maximize") is runs[1]


def test_compare_reads_an_older_runs_paths_without_its_run_dir() -> None:
    """Runs logged before params left per-run paths out hold their run dir in some params:
    with the run dir (the `happysad.run_dir` tag) taken out, those values do not differ."""
    from happysad.tracking.tracker import TAG_RUN_DIR

    runs = []
    for i, lr in enumerate(("0.001", "0.003")):
        run = _run(i, 0.5, [f"optimizer.lr={lr}"], **{"optimizer.lr": lr})
        run_dir = f"/x/outputs/runs/2024-01-0{i + 1}/12-00-00"
        run.tags[TAG_RUN_DIR] = run_dir
        run.params["callbacks.model_checkpoint.filepath"] = f"{run_dir}/checkpoints/best.keras"
        run.params["paths.run_dir"] = run_dir
        runs.append(run)
    assert compare.varying_params(runs) == ["optimizer.lr"]
    runs[1].tags.pop(TAG_RUN_DIR)  # without the tag, the paths differ
    assert compare.varying_params(runs) == ["callbacks.model_checkpoint.filepath", "optimizer.lr"]


def test_a_tracking_yaml_without_the_schema_still_gets_the_sweeps_parent_run(
    compose, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user's tracking (and trainer) YAML that does not start from `schema` lacks keys
    (enabled, tags, artifact_location, objective...): the sweep reads their defaults from the
    schemas, as each job does, and still opens the parent run."""
    from happysad.sweeps.runs import SWEEP_FILE, finish_sweep, start_sweep
    from happysad.tracking.tracker import TAG_ROLE

    # artifact_location null: MLflow's own default, ./mlruns of the working directory
    monkeypatch.chdir(tmp_path)

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    cfg = compose([f"paths.output_dir={tmp_path}"], hydra_cfg=True)
    with open_dict(cfg):
        cfg.tracking = OmegaConf.create({"uri": uri, "experiment": "mine"})  # no schema
        cfg.trainer = OmegaConf.create({"epochs": 1})
        cfg.hydra.sweep.dir = str(tmp_path / "sweep" / "${now:%H-%M-%S-%f}")  # as conf/ has it
        cfg.hydra.overrides.task = ["optimizer.lr=0.001,0.003"]
    OmegaConf.set_readonly(cfg.hydra, True)  # as Hydra hands it to callbacks
    state = start_sweep(cfg)
    assert state["parent_run_id"] and state["experiment"] == "mine"
    run = _client(tmp_path).get_run(state["parent_run_id"])
    assert run.data.tags[TAG_ROLE] == "sweep"
    assert run.data.params["objective"] == "val_accuracy"  # the schema's default
    # The launcher reads the jobs' folder from the same config object later: the same folder,
    # where the jobs find the sweep file (`${now:}` resolves once per config object).
    time.sleep(0.01)
    assert str(cfg.hydra.sweep.dir) == state["sweep_dir"]
    sweep_file = Path(str(cfg.hydra.sweep.dir)) / SWEEP_FILE
    assert json.loads(sweep_file.read_text())["direction"] == "maximize"
    finish_sweep(state, completed=True)  # no trial ran: the parent ends FAILED, not RUNNING
    assert _client(tmp_path).get_run(state["parent_run_id"]).info.status == "FAILED"


def test_compare_prints_a_metric_not_measured_yet_as_a_dash() -> None:
    """test_accuracy is NaN until a run is evaluated (the compare view's placeholder, step -1):
    happysad-compare shows '-' for it, as for a metric never logged."""
    assert compare._fmt_metric(float("nan"), "test_accuracy") == "-"
    assert compare._fmt_metric(None) == "-"
    assert compare._fmt_metric(0.5, "test_accuracy") == "0.5000"
