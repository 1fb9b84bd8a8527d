"""Shared helpers for the wgan tests: the real MNIST subset and ways to run the CLIs."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MNIST_DIR = REPO.parent / "shared" / "data" / "mnist"

# the data is shared by the worktrees, beside (not inside) the repository
MNIST_MISSING = f"needs ../shared/data/mnist (the MNIST IDX files); not found at {MNIST_DIR}"
needs_mnist = pytest.mark.skipif(not MNIST_DIR.is_dir(), reason=MNIST_MISSING)

# tiny but real: the first 16 training images, batches of 4
TINY_MNIST = ["--data-dir", str(MNIST_DIR), "--limit-images", "16", "--batch-size", "4", "--quiet"]


def run_module(module: str, *args: str, timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
    """``python -m <module> args`` from the repository root, output captured as text."""
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", module, *args], cwd=REPO, env=env, text=True,
                          capture_output=True, timeout=timeout, **kwargs)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


@pytest.fixture
def train_main(capsys):
    """Run ``wgan.train.main(argv)`` in-process: (exit code, stdout, stderr).

    argparse errors (SystemExit) are turned into their exit code as well.
    """
    from wgan.train import main

    def run(*argv: str) -> tuple[int, str, str]:
        try:
            code = main(list(argv))
        except SystemExit as exc:
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return run
