"""``benchmarks.end_to_end`` keeps working: its timers attribute time to the right step, and a
tiny run (batch 4, 16 real MNIST images) of both child processes writes its JSON and Markdown
with every part of the trainer timed. No timing is asserted beyond consistency."""
from __future__ import annotations

import json
import time
import types
from pathlib import Path

import pytest

from benchmarks import end_to_end

MNIST_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mnist"
needs_mnist = pytest.mark.skipif(not MNIST_DIR.is_dir(), reason=f"needs MNIST in {MNIST_DIR}")


def test_timers_attribute_each_call_to_the_step_in_progress():
    timers = end_to_end.Timers()
    owner = types.SimpleNamespace(work=lambda seconds: time.sleep(seconds) or seconds)
    timers.wrap(owner, "work", "work")
    owner.work(0.0)  # before the first step: phase 0
    timers.mark(1)
    assert owner.work(0.01) == 0.01  # the wrapped function's result passes through
    owner.work(0.0)
    timers.mark("end")
    work = timers.parts["work"]
    assert set(work) == {"0", "1"} and work["1"][2] == 2 and work["0"][2] == 1
    assert work["1"][0] >= 0.01 and [m[0] for m in timers.marks] == [1, "end"]


def test_bad_options_are_refused(capsys, monkeypatch):
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                 "NUMBA_NUM_THREADS"):
        monkeypatch.setenv(name, "1")  # main() pins them
    for argv in (["--batch-sizes", "4,x"], ["--steps", "0"], ["--batch-sizes", "0"]):
        with pytest.raises(SystemExit) as exc:
            end_to_end.parse_args(argv)
        assert exc.value.code == 2
    assert end_to_end.main(["--data-dir", "/nonexistent/mnist"]) == 2
    assert "--data-dir" in capsys.readouterr().err


@needs_mnist
def test_a_tiny_run_times_the_real_trainer_against_the_cycle(tmp_path, monkeypatch):
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                 "NUMBA_NUM_THREADS"):
        monkeypatch.setenv(name, "1")
    status = end_to_end.main(["--batch-sizes", "4", "--rounds", "1", "--steps", "2",
                              "--warmup", "1", "--limit-images", "16", "--data-dir",
                              str(MNIST_DIR), "--machine-kind", "test", "--out", str(tmp_path)])
    assert status == 0
    (json_path,) = tmp_path.glob("end_to_end_test_*_1t.json")
    result = json.loads(json_path.read_text())
    (row,) = result["rows"]
    assert row["batch"] == 4 and row["rounds"] == 1
    # the trainer ran with wgan.train's default outputs
    assert row["settings"] == {"sample_every": 100, "checkpoint_every": 100, "log_every": 1,
                               "tensorboard": True, "batch_size": 4, "n_critic": 5}
    (train,), (cycle,) = result["raw"]["4"]["train"], result["raw"]["4"]["cycle"]
    assert [s["step"] for s in train["steps"]] == [1, 2, 3]
    assert [s["step"] for s in cycle["steps"]] == [1, 2, 3]
    # every step ran 5 critic steps, 1 generator step, 5 real batches and one metrics line
    for step in ("1", "2", "3"):
        assert train["parts"]["  critic steps"][step][2] == 5
        assert train["parts"]["  generator step"][step][2] == 1
        assert train["parts"]["  data fetch (Batches.__next__)"][step][2] == 5
        assert train["parts"]["  metrics.jsonl line"][step][2] == 1
    # the run's end wrote one checkpoint and one picture, timed per call
    assert train["parts"]["checkpoint (_Run.checkpoint)"]["end"][2] == 1
    assert train["parts"]["sampling (_Run.sample)"]["end"][2] == 1
    for clock in ("cpu_s", "wall_s"):
        summary = row[clock]
        parts = summary["parts"]
        assert len(summary["train_samples"]) == len(summary["cycle_samples"]) == 2
        assert 0 < parts["algorithm (Trainer.train_step)"] <= summary["train_step"]
        assert parts["  critic steps"] + parts["  generator step"] <= (
            parts["algorithm (Trainer.train_step)"] * 1.001)
        assert summary["ratio"] == pytest.approx(summary["train_step"] / summary["cycle"])
        assert summary["train_step_amortised"] > summary["train_step"]
        assert summary["startup"] > 0
    markdown = next(tmp_path.glob("end_to_end_test_*.md")).read_text()
    assert "| 4 | CPU |" in markdown and "Goal (issue 12)" in markdown
