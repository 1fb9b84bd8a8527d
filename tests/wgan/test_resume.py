"""Checkpoints: a resumed run is bit-identical to an uninterrupted one; Ctrl-C / SIGTERM stop
cleanly with a checkpoint; a NaN stops the run and keeps the last good checkpoint."""
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from minigrad.serialization import load
from wgan import trainer as trainer_module

from .conftest import MNIST_DIR, MNIST_MISSING, REPO, TINY_MNIST, needs_mnist, read_jsonl


def assert_same_state(a, b, where="checkpoint"):
    """Every array (parameters, buffers, optimizer state) bit-identical; everything else equal."""
    if isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            assert_same_state(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same_state(x, y, f"{where}[{i}]")
    elif hasattr(a, "shape"):
        x, y = np.asarray(getattr(a, "array", a)), np.asarray(getattr(b, "array", b))
        assert x.dtype == y.dtype and np.array_equal(x, y), where
    else:
        assert a == b, where


def timeless(metrics):
    # the clocks differ between processes; everything the steps compute must not
    return [{k: v for k, v in m.items() if k not in ("sec_per_step", "train_seconds")}
            for m in metrics]


RESUME_CASES = {
    "mlp-wgan-gp": ["--model", "mlp", "--loss", "wgan-gp", *TINY_MNIST, "--n-critic", "2"],
    # batch norm buffers and dropout masks (the noise stream) must survive the checkpoint
    "dcgan-gan": ["--model", "dcgan", "--loss", "gan", *TINY_MNIST, "--batch-size", "2",
                  "--n-samples", "4"],
    "keras-critic-wgan": ["--model", "keras-critic", "--loss", "wgan", *TINY_MNIST,
                          "--batch-size", "2", "--n-critic", "2", "--n-samples", "4"],
    # real labels from the data stream, generated labels from the noise stream, two heads
    "acgan-wgan": ["--model", "acgan", "--loss", "wgan", *TINY_MNIST, "--batch-size", "2",
                   "--n-critic", "1", "--n-samples", "10"],
    # the 2-D sampler's NumPy stream, RMSprop, clipping
    "toy-wgan": ["--dataset", "25gaussians", "--loss", "wgan", "--batch-size", "16",
                 "--n-samples", "16", "--quiet"],
}


@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.slow) if c.startswith("acgan")
                                  else c for c in sorted(RESUME_CASES)])
def test_resumed_run_is_bit_identical(case, tmp_path, train_main):
    if case != "toy-wgan" and not MNIST_DIR.is_dir():
        pytest.skip(MNIST_MISSING)
    options = RESUME_CASES[case]
    total = 2 if case.startswith("acgan") else 4  # acgan's 28x28 convolutions are slow on a CPU
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert train_main(*options, "--iters", str(total), "--out", str(straight))[0] == 0
    assert train_main(*options, "--iters", str(total // 2), "--out", str(split))[0] == 0
    assert load(split / "checkpoint.npz")["step"] == total // 2
    code, _, err = train_main("--resume", str(split), "--iters", str(total), "--quiet")
    assert code == 0, err
    a, b = load(straight / "checkpoint.npz"), load(split / "checkpoint.npz")
    assert a["step"] == b["step"] == total
    a.pop("config"), b.pop("config")  # records --iters, which differs by design
    assert_same_state(a, b)
    assert timeless(read_jsonl(straight / "metrics.jsonl")) == timeless(read_jsonl(split / "metrics.jsonl"))


@needs_mnist
def test_resume_refuses_changed_settings_and_finished_runs_stay_finished(tmp_path, train_main):
    run = tmp_path / "run"
    assert train_main("--model", "mlp", "--loss", "wgan", "--iters", "1", "--out", str(run),
                      *TINY_MNIST)[0] == 0
    code, _, err = train_main("--resume", str(run), "--lr", "0.1")
    assert code == 2 and "--lr cannot change when resuming" in err
    code, _, err = train_main("--resume", str(run), "--quiet")  # nothing left to do
    assert code == 0 and "done: 1 generator steps" in err
    assert len(read_jsonl(run / "metrics.jsonl")) == 1


@needs_mnist
@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_writes_a_checkpoint_and_the_run_resumes_exactly(signum, tmp_path, train_main):
    run, straight = tmp_path / "run", tmp_path / "straight"
    options = ["--model", "mlp", "--loss", "wgan-gp", *TINY_MNIST, "--sample-every", "1000",
               "--checkpoint-every", "1000"]
    proc = subprocess.Popen([sys.executable, "-m", "wgan.train", *options, "--iters", "100000",
                             "--out", str(run)], cwd=REPO, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            metrics = run / "metrics.jsonl"
            if metrics.exists() and len(metrics.read_text().splitlines()) >= 3:
                break
            time.sleep(0.05)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signum, err
    assert f"stopped by {signal.Signals(signum).name}" in err and f"--resume {run}" in err
    assert "Traceback" not in err
    step = load(run / "checkpoint.npz")["step"]
    assert [m["step"] for m in read_jsonl(run / "metrics.jsonl")] == list(range(1, step + 1))

    code, _, err = train_main("--resume", str(run), "--iters", str(step + 2), "--quiet")
    assert code == 0, err
    assert train_main(*options, "--iters", str(step + 2), "--out", str(straight))[0] == 0
    a, b = load(run / "checkpoint.npz"), load(straight / "checkpoint.npz")
    a.pop("config"), b.pop("config")
    assert_same_state(a, b)
    assert timeless(read_jsonl(run / "metrics.jsonl")) == timeless(read_jsonl(straight / "metrics.jsonl"))


@needs_mnist
def test_nan_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path, train_main, monkeypatch):
    run = tmp_path / "run"
    calls = []
    real_critic_loss = trainer_module.losses.critic_loss

    def poisoned(loss, real, fake):
        calls.append(1)
        value = real_critic_loss(loss, real, fake)
        return value * float("nan") if len(calls) == 3 else value  # 1 critic step per gen step

    monkeypatch.setattr(trainer_module.losses, "critic_loss", poisoned)
    code, _, err = train_main("--model", "mlp", "--loss", "wgan-gp", "--n-critic", "1", "--iters",
                              "5", "--checkpoint-every", "1", "--out", str(run), *TINY_MNIST)
    assert code == 1
    assert "non-finite critic loss (nan) at generator step 3" in err
    assert f"last good checkpoint, {run / 'checkpoint.npz'}, is at step 2" in err
    assert load(run / "checkpoint.npz")["step"] == 2
    assert [m["step"] for m in read_jsonl(run / "metrics.jsonl")] == [1, 2]


@needs_mnist
def test_diverging_optimizer_is_caught_before_any_checkpoint(tmp_path, train_main):
    code, _, err = train_main("--model", "mlp", "--loss", "wgan-gp", "--optimizer", "sgd", "--lr",
                              "1e30", "--iters", "5", "--out", str(tmp_path / "run"), *TINY_MNIST)
    assert code == 1 and "non-finite" in err and "at generator step 1" in err
    assert "No checkpoint has been written yet" in err
    assert not (tmp_path / "run" / "checkpoint.npz").exists()
