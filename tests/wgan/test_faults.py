"""Faults a run survives: a full disk, read-only directories, other data on resume, a run
killed before its first checkpoint, stale temp files, divergence without NaNs.  Each ends in an
``error:`` line (exit status 1) or a clean continuation, never a traceback.

The full-disk and read-only tests mount a small tmpfs (they skip, saying why, where mounting is
not allowed); the simulated ones raise the same OSError from a patched write and run anywhere.
"""
import contextlib
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from minigrad.serialization import load
from wgan import outputs

from .conftest import MNIST_DIR, REPO, TINY_MNIST, needs_mnist, read_jsonl
from .test_resume import assert_same_state, timeless

MLP_WGAN = ["--model", "mlp", "--loss", "wgan", "--n-critic", "1", *TINY_MNIST]


def _mount(args: list[str]) -> None:
    result = subprocess.run(["mount", *args], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount here ({result.stderr.strip() or result.returncode}); "
                    "the simulated test covers the same path")


@contextlib.contextmanager
def tmpfs(path: Path, size: str = "8M", read_only: bool = False):
    """A fresh tmpfs of ``size`` at ``path`` (skips the test where mount is not allowed)."""
    path.mkdir()
    _mount(["-t", "tmpfs", "-o", f"size={size}" + (",ro" if read_only else ""), "tmpfs", str(path)])
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@contextlib.contextmanager
def read_only_view(source: Path, path: Path):
    """``source`` seen read-only at ``path`` (a bind mount)."""
    path.mkdir()
    _mount(["--bind", str(source), str(path)])
    try:
        result = subprocess.run(["mount", "-o", "remount,ro,bind", str(path)], capture_output=True)
        if result.returncode != 0:
            pytest.skip("cannot remount a bind mount read-only here")
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(disk: Path) -> Path:
    """Write zeros into ``disk`` until it is full; returns the filler file."""
    filler = disk / "filler"
    with contextlib.suppress(OSError), open(filler, "wb") as f:
        while True:
            f.write(b"\0" * (1 << 16))
            f.flush()
    return filler


def assert_error_line(code: int, err: str, *phrases: str) -> None:
    assert code == 1, err
    assert "Traceback" not in err and "error: " in err, err
    for phrase in phrases:
        assert phrase in err, (phrase, err)


# ----------------------------------------------------------------------------- a full disk

@needs_mnist
@pytest.mark.slow
def test_a_full_disk_stops_with_an_error_line_and_the_run_resumes(tmp_path, train_main):
    with tmpfs(tmp_path / "small") as disk:
        run = disk / "run"
        proc = subprocess.Popen(
            [sys.executable, "-m", "wgan.train", *MLP_WGAN, "--checkpoint-every", "20",
             "--sample-every", "20", "--iters", "1000000", "--out", str(run)],
            cwd=REPO, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 120
            while not (run / "checkpoint.npz").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            filler = fill(disk)
            _, err = proc.communicate(timeout=120)
        finally:
            proc.kill()
        step = load(run / "checkpoint.npz")["step"]
        assert_error_line(proc.returncode, err, "No space left on device",
                          f"is at step {step}", f"--resume {run}")
        filler.unlink()
        code, _, err = train_main("--resume", str(run), "--iters", str(step + 3), "--quiet",
                                  "--checkpoint-every", "1000")
        assert code == 0, err
        assert [m["step"] for m in read_jsonl(run / "metrics.jsonl")] == list(range(1, step + 4))
        assert not list(run.glob(".*.tmp*")) and not list((run / "samples").glob(".*.tmp*"))


def _fail_append_at(monkeypatch, failing_step: int) -> None:
    """metrics.jsonl appends hit a full disk at ``failing_step``, after writing half the line
    (what a plain ``write`` leaves; wgan.outputs itself cuts such a line back)."""
    real_append = outputs.append_metrics

    def append(run_dir, record):
        if record["step"] != failing_step:
            return real_append(run_dir, record)
        with open(Path(run_dir) / outputs.METRICS_FILE, "a") as f:
            f.write(json.dumps(record)[:20])
        raise OSError(errno.ENOSPC, "No space left on device",
                      str(Path(run_dir) / outputs.METRICS_FILE))

    monkeypatch.setattr(outputs, "append_metrics", append)


@needs_mnist
def test_disk_full_on_a_metrics_line_simulated(tmp_path, train_main, monkeypatch):
    run, straight = tmp_path / "run", tmp_path / "straight"
    options = [*MLP_WGAN, "--checkpoint-every", "4", "--iters", "10"]
    _fail_append_at(monkeypatch, 7)
    code, _, err = train_main(*options, "--out", str(run))
    assert_error_line(code, err, "cannot write", "metrics.jsonl", "No space left on device",
                      "is at step 4")
    monkeypatch.undo()
    assert load(run / "checkpoint.npz")["step"] == 4
    code, _, err = train_main("--resume", str(run), "--quiet")
    assert code == 0, err
    assert train_main(*options, "--out", str(straight))[0] == 0
    assert timeless(read_jsonl(run / "metrics.jsonl")) == timeless(read_jsonl(straight / "metrics.jsonl"))
    a, b = load(run / "checkpoint.npz"), load(straight / "checkpoint.npz")
    a.pop("config"), b.pop("config")
    assert_same_state(a, b)


@needs_mnist
def test_disk_full_during_a_checkpoint_keeps_the_old_one(tmp_path, train_main, monkeypatch):
    run = tmp_path / "run"
    real_savez, calls = np.savez, []

    def savez(file, **arrays):
        calls.append(1)
        if len(calls) == 2:
            file.write(b"PK\x03\x04 part of an archive")
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_savez(file, **arrays)

    monkeypatch.setattr(np, "savez", savez)
    code, _, err = train_main(*MLP_WGAN, "--checkpoint-every", "2", "--iters", "6",
                              "--out", str(run))
    assert_error_line(code, err, "checkpoint.npz", "No space left on device", "is at step 2")
    monkeypatch.undo()
    assert load(run / "checkpoint.npz")["step"] == 2
    assert not list(run.glob(".checkpoint.npz.*"))


@needs_mnist
def test_a_torn_metrics_line_does_not_block_resume(tmp_path, train_main):
    run = tmp_path / "run"
    assert train_main(*MLP_WGAN, "--iters", "3", "--out", str(run))[0] == 0
    with open(run / "metrics.jsonl", "a") as f:
        f.write('{"step": 4, "wasserstein": 0.0')
    code, _, err = train_main("--resume", str(run), "--iters", "5", "--quiet")
    assert code == 0, err
    assert [m["step"] for m in read_jsonl(run / "metrics.jsonl")] == [1, 2, 3, 4, 5]


# ----------------------------------------------------------------------------- read-only

@needs_mnist
def test_a_read_only_out_is_an_error_before_the_data_loads(tmp_path, train_main, monkeypatch):
    with tmpfs(tmp_path / "ro", size="1M", read_only=True) as ro:
        monkeypatch.setattr("wgan.data.read_idx", lambda *a, **k: pytest.fail("data loaded"))
        code, _, err = train_main(*MLP_WGAN, "--iters", "1", "--out", str(ro / "run"))
    assert_error_line(code, err, f"cannot create --out {ro / 'run'}", "Read-only file system")


@needs_mnist
def test_resume_of_a_read_only_run_directory(tmp_path, train_main):
    run = tmp_path / "run"
    assert train_main(*MLP_WGAN, "--iters", "1", "--out", str(run))[0] == 0
    with read_only_view(run, tmp_path / "ro") as ro:
        code, _, err = train_main("--resume", str(ro), "--iters", "2", "--quiet")
    assert_error_line(code, err, f"cannot resume {ro}", "Read-only file system")


# ----------------------------------------------------------------------------- which data

@needs_mnist
def test_config_records_the_data_and_resume_refuses_other_data(tmp_path, train_main):
    run = tmp_path / "run"
    assert train_main(*MLP_WGAN, "--iters", "1", "--out", str(run))[0] == 0
    record = json.loads((run / "config.json").read_text())["data"]
    assert record["dir"] == str(MNIST_DIR.resolve()) and record["images"] == 22699
    names = sorted(p.name for p in MNIST_DIR.glob("train-*"))
    assert sorted(record["files"]) == names
    for name in names:
        assert len(record["files"][name]["sha256"]) == 64
    other = tmp_path / "other"  # the test split under the training names: 10000 images
    other.mkdir()
    for split_name, train_name in (("t10k-images-idx3-ubyte.gz", "train-images-idx3-ubyte.gz"),
                                   ("t10k-labels-idx1-ubyte.gz", "train-labels-idx1-ubyte.gz")):
        shutil.copy(MNIST_DIR / split_name, other / train_name)
    code, _, err = train_main("--resume", str(run), "--iters", "2", "--data-dir", str(other),
                              "--quiet")
    assert_error_line(code, err, "the training data differ: train-images-idx3-ubyte.gz",
                      "10000 images now, 22699 then")
    assert "state is for n=" not in err


@needs_mnist
def test_a_relative_data_dir_still_works_from_another_folder(tmp_path, train_main, monkeypatch):
    monkeypatch.chdir(MNIST_DIR.parent)
    run = tmp_path / "run"
    options = [o if o != str(MNIST_DIR) else MNIST_DIR.name for o in MLP_WGAN]
    assert train_main(*options, "--iters", "1", "--out", str(run))[0] == 0
    monkeypatch.chdir(tmp_path)
    code, _, err = train_main("--resume", str(run), "--iters", "2", "--quiet")
    assert code == 0, err


def test_a_missing_data_dir_is_an_error(tmp_path, train_main):
    code, _, err = train_main("--model", "mlp", "--iters", "1", "--data-dir",
                              str(tmp_path / "nope"), "--out", str(tmp_path / "run"), "--quiet")
    assert_error_line(code, err, f"--data-dir {tmp_path / 'nope'} does not exist")
    assert not (tmp_path / "run").exists()


# ----------------------------------------------------------------------------- no checkpoint yet

@needs_mnist
def test_a_run_killed_before_its_first_checkpoint_starts_again(tmp_path, train_main):
    run, straight = tmp_path / "run", tmp_path / "straight"
    options = [*MLP_WGAN, "--checkpoint-every", "1000", "--sample-every", "1000"]
    proc = subprocess.Popen([sys.executable, "-m", "wgan.train", *options, "--iters", "1000000",
                             "--out", str(run)], cwd=REPO, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            metrics = run / "metrics.jsonl"
            if metrics.exists() and len(metrics.read_text().splitlines()) >= 2:
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        proc.kill()
    assert not (run / "checkpoint.npz").exists()
    stale = [run / ".checkpoint.npz.1a2b3c4d.tmp", run / "samples" / ".step_001000.png.9.tmp.png"]
    for path in stale:
        path.write_bytes(b"\0" * 1000)
    code, _, err = train_main("--resume", str(run), "--iters", "3", "--quiet")
    assert code == 0, err
    assert "no checkpoint yet: starting it again from step 0" in err
    assert "removed 2 stale temp files" in err
    assert not any(path.exists() for path in stale)
    assert train_main(*options, "--iters", "3", "--out", str(straight))[0] == 0
    assert timeless(read_jsonl(run / "metrics.jsonl")) == timeless(read_jsonl(straight / "metrics.jsonl"))
    a, b = load(run / "checkpoint.npz"), load(straight / "checkpoint.npz")
    a.pop("config"), b.pop("config")
    assert_same_state(a, b)


# ----------------------------------------------------------------------------- divergence

@needs_mnist
@pytest.mark.parametrize("loss", ["gan", "wgan"])
def test_a_diverged_run_stops_with_an_error_and_no_new_checkpoint(loss, tmp_path, train_main):
    run = tmp_path / "run"
    code, _, err = train_main("--model", "mlp", "--loss", loss, "--lr", "1e6", "--iters", "6",
                              "--checkpoint-every", "2", *TINY_MNIST, "--out", str(run))
    assert_error_line(code, err, "diverged", "--divergence-bound 1e+06",
                      "No checkpoint has been written yet")
    assert "warning: " in err
    assert not (run / "checkpoint.npz").exists()
    assert "diverged" in (run / "run.log").read_text()
    code, _, err = train_main("--model", "mlp", "--loss", loss, "--lr", "1e6", "--iters", "2",
                              *TINY_MNIST, "--divergence-bound", "inf", "--out", str(tmp_path / "b"))
    assert code == 0, err


@needs_mnist
def test_divergence_keeps_the_last_good_checkpoint(tmp_path, train_main):
    run = tmp_path / "run"
    assert train_main(*MLP_WGAN, "--iters", "4", "--checkpoint-every", "2", "--out", str(run))[0] == 0
    code, _, err = train_main("--resume", str(run), "--iters", "8", "--divergence-bound", "1e-9",
                              "--quiet")
    assert_error_line(code, err, "at generator step 5", "beyond the divergence bound",
                      "is at step 4")
    assert load(run / "checkpoint.npz")["step"] == 4


# ----------------------------------------------------------------------------- small ones

@needs_mnist
def test_run_files_follow_the_umask(tmp_path, train_main):
    old = os.umask(0o022)
    try:
        assert train_main(*MLP_WGAN, "--iters", "1", "--out", str(tmp_path / "run"))[0] == 0
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "run").iterdir() if p.is_file()}
    assert set(modes.values()) == {0o644}, modes


def test_out_naming_a_file_does_not_suggest_resume(tmp_path, train_main):
    path = tmp_path / "notes.txt"
    path.write_text("mine")
    code, _, err = train_main("--dataset", "8gaussians", "--iters", "1", "--out", str(path))
    assert_error_line(code, err, f"--out {path} is a file")
    assert "--resume" not in err and path.read_text() == "mine"


def test_an_empty_run_directory_says_what_to_do(tmp_path, train_main):
    run = tmp_path / "run"
    (run / "samples").mkdir(parents=True)  # what a run killed before writing config.json leaves
    code, _, err = train_main("--resume", str(run))
    assert_error_line(code, err, "holds no run yet", f"rm -r {run}", "start the run again")
    code, _, err = train_main("--resume", str(tmp_path))  # any other folder: not a run
    assert_error_line(code, err, "is not a run directory")
    assert "rm -r" not in err
