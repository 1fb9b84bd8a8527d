"""wgan.study: the runs it plans, resuming after a kill, the report, and the Ray path."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from wgan import study

from .conftest import REPO

# a tiny 2-D study: toy-mlp, two seeds of the gan (the cheapest step), evaluated every 5 steps
TINY = ["--dataset", "8gaussians", "--variants", "gan", "--seeds", "2", "--iters", "10",
        "--eval-every", "5", "--eval-samples", "300", "--checkpoint-every", "2",
        "--sample-every", "5", "--batch-size", "16"]


def _settings(tmp_path, **given):
    return study.study_settings(tmp_path, {**{k: None for k in study.SETTINGS}, **given})


def test_specs_cover_variants_and_seeds(tmp_path):
    settings = _settings(tmp_path, variants=["gan", "wgan-bn"], seeds=2, data_dir="/data")
    specs = study.run_specs(settings, tmp_path)
    assert [s["name"] for s in specs] == ["gan-seed0", "gan-seed1", "wgan-bn-seed0", "wgan-bn-seed1"]
    assert specs[2]["options"]["model"] == "keras-critic" and specs[2]["options"]["loss"] == "wgan"
    assert specs[0]["options"]["model"] == study.SETTINGS["model"]
    command = study.train_command(specs[1])
    assert command[1:4] == ["-m", "wgan.train", "--out"]
    assert command[command.index("--seed") + 1] == "1"
    assert "--batch-size" not in command  # None: the model's own default


def test_toy_studies_drop_the_image_critics(tmp_path):
    settings = _settings(tmp_path, dataset="25gaussians")
    assert settings["variants"] == ["gan", "wgan", "wgan-gp"] and settings["model"] == "toy-mlp"
    assert "data-dir" not in study.run_specs(settings, tmp_path)[0]["options"]
    with pytest.raises(study.StudyError, match="image critics"):
        _settings(tmp_path / "other", dataset="25gaussians", variants=["wgan-bn"])
    with pytest.raises(study.StudyError, match="unknown variants"):
        _settings(tmp_path / "third", variants=["vae"])


def test_a_restarted_study_keeps_its_settings(tmp_path):
    _settings(tmp_path, iters=30)
    assert _settings(tmp_path)["iters"] == 30
    with pytest.raises(study.StudyError, match="other settings.*iters=30"):
        _settings(tmp_path, iters=40)


def test_train_command_resumes_from_a_checkpoint_and_restarts_without_one(tmp_path):
    spec = study.run_specs(_settings(tmp_path, dataset="8gaussians"), tmp_path)[0]
    run_dir = tmp_path / "runs" / spec["name"]
    run_dir.mkdir(parents=True)
    (run_dir / "config.json").write_text("{}")  # killed before its first checkpoint
    assert "--out" in study.train_command(spec) and not run_dir.exists()
    run_dir.mkdir()
    (run_dir / "checkpoint.npz").write_bytes(b"")
    assert study.train_command(spec)[3:5] == ["--resume", str(run_dir)]


def _study(out, *args, **popen):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-m", "wgan.study", "--out", str(out), *args],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, **popen)


def _config_meta(run_dir):
    return json.loads((run_dir / "config.json").read_text())["meta"]


def _wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_study_resumes_after_a_kill(tmp_path):
    """Killed (SIGKILL, workers included) once the first run is done and the second has a
    checkpoint: the restart skips the first and resumes the second from its checkpoint."""
    out = tmp_path / "study"
    runs = out / "runs"
    first, second = runs / "gan-seed0", runs / "gan-seed1"
    process = _study(out, *TINY, "--iters", "30", "--workers", "1", start_new_session=True)
    try:
        _wait_for(lambda: (first / study.DONE_FILE).is_file()
                  and (second / "checkpoint.npz").is_file(), 240, "a finished and a started run")
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert not (out / "report.md").exists() and not (second / study.DONE_FILE).exists()
    done_before = (first / study.DONE_FILE).read_text()
    restarted = _study(out, "--workers", "2")
    output, _ = restarted.communicate(timeout=600)
    assert restarted.returncode == 0, output
    assert (first / study.DONE_FILE).read_text() == done_before
    assert "resumed" not in _config_meta(first)
    assert _config_meta(second)["resumed"][0]["at_step"] > 0
    for run in runs.iterdir():
        steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
        assert steps == list(range(1, 31)), run.name  # every step once, none lost or repeated
    assert "| gan | 2 | 30 |" in (out / "report.md").read_text()
    results = json.loads((out / "results.json").read_text())
    assert results["quality"] == "sliced_wasserstein"
    assert {"curves.png", "quality_vs_time.png", "grids.png"} <= {p.name for p in out.iterdir()}


def test_failed_runs_are_reported(tmp_path, capsys):
    out = tmp_path / "bad"
    assert study.main(["--out", str(out), "--variants", "gan", "--seeds", "1", "--iters", "2",
                       "--data-dir", str(tmp_path / "no-data"), "--workers", "1"]) == 1
    err = capsys.readouterr().err
    assert "runs failed: gan-seed0" in err and "logs" in err
    assert not (out / "report.md").exists()


def test_ray_study_on_a_local_instance(tmp_path):
    ray = pytest.importorskip("ray", reason="Ray is the optional 'study' extra")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        assert study.main(["--out", str(tmp_path / "s"), *TINY, "--ray", "auto"]) == 0
    finally:
        ray.shutdown()
    runs = sorted(p.name for p in (tmp_path / "s" / "runs").iterdir())
    assert runs == ["gan-seed0", "gan-seed1"]
    assert all((tmp_path / "s" / "runs" / r / study.DONE_FILE).is_file() for r in runs)
    assert (tmp_path / "s" / "report.md").is_file()


def test_ray_missing_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    with pytest.raises(study.StudyError, match=r"pip install 'minigrad-wgan\[study\]'"):
        study.run_ray([], "auto")
