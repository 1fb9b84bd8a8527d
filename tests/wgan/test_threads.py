"""``wgan.train --threads N``: the thread variables are set before NumPy and Numba load."""
import json
import os
import subprocess
import sys

import pytest

from kernels.threads import THREAD_VARIABLES, pin_threads_for_training
from tests.wgan.conftest import REPO, run_module


@pytest.fixture
def clean_env(monkeypatch):
    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_threads_option_sets_every_variable(clean_env):
    clean_env.setenv("OPENBLAS_NUM_THREADS", "4")
    assert pin_threads_for_training(["--loss", "wgan", "--threads", "3"]) == 3
    assert {name: os.environ[name] for name in THREAD_VARIABLES} == dict.fromkeys(THREAD_VARIABLES, "3")
    assert pin_threads_for_training(["--threads=2"]) == 2
    assert os.environ["NUMBA_NUM_THREADS"] == "2"


def test_default_is_one_thread_but_keeps_what_the_environment_sets(clean_env):
    clean_env.setenv("OPENBLAS_NUM_THREADS", "2")
    assert pin_threads_for_training(["--loss", "wgan"]) is None
    assert os.environ["OPENBLAS_NUM_THREADS"] == "2"
    assert all(os.environ[name] == "1" for name in THREAD_VARIABLES if name != "OPENBLAS_NUM_THREADS")


@pytest.mark.parametrize("bad", [["--threads", "0"], ["--threads", "two"], ["--threads=-1"]])
def test_a_bad_value_is_left_to_argparse(clean_env, bad):
    assert pin_threads_for_training(bad) is None
    assert all(os.environ[name] == "1" for name in THREAD_VARIABLES)  # the default, not the value


def test_cli_records_its_threads(tmp_path, clean_env):
    run = tmp_path / "toy"
    result = run_module("wgan.train", "--dataset", "8gaussians", "--iters", "1", "--batch-size", "16",
                        "--threads", "3", "--quiet", "--no-tensorboard", "--out", str(run))
    assert result.returncode == 0, result.stderr
    threads = json.loads((run / "config.json").read_text())["meta"]["threads"]
    assert threads == dict.fromkeys(THREAD_VARIABLES, "3")
    assert "3 BLAS/Numba threads" in (run / "run.log").read_text()


def test_the_pools_take_the_count_because_it_is_set_before_numpy_loads(tmp_path, clean_env):
    """OpenBLAS reads its variable once, when NumPy loads it: the pin must come first. The
    environment says 2 (OpenBLAS caps the count at the cores, so 2 is what a pin too late
    would leave); --threads 1 must win."""
    for name in THREAD_VARIABLES:
        clean_env.setenv(name, "2")
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['wgan.train', '--threads', '1', '--dataset', '8gaussians', '--iters', '1', "
        f"'--batch-size', '16', '--quiet', '--no-tensorboard', '--out', {str(tmp_path / 'run')!r}]\n"
        "try:\n"
        "    runpy.run_module('wgan.train', run_name='__main__', alter_sys=True)\n"
        "except SystemExit:\n"
        "    pass\n"
        "assert 'numpy' in sys.modules\n"
        "import numba\n"
        "from benchmarks.machine import openblas_info\n"
        "print(numba.config.NUMBA_NUM_THREADS, openblas_info().get('threads'))\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=str(REPO)), timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["1", "1"]


def test_cli_refuses_a_bad_thread_count():
    result = run_module("wgan.train", "--threads", "0")
    assert result.returncode == 2
    assert "--threads: expected a positive integer, got '0'" in result.stderr
