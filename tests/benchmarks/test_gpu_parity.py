"""benchmarks.gpu_parity, run here through the CuPy test double (on a GPU by gpu_check.sh)."""
import json

import pytest

from benchmarks import gpu_parity
from tests.wgan.conftest import MNIST_DIR, needs_mnist


@needs_mnist
def test_the_parity_check_compares_every_metric_gradient_and_parameter(tmp_path, cupy_double, capsys):
    out = tmp_path / "parity.json"
    code = gpu_parity.main(["--data-dir", str(MNIST_DIR), "--model", "mlp", "--batch-size", "4",
                            "--n-critic", "2", "--limit-images", "16", "--out", str(out)])
    assert code == 0, capsys.readouterr().out
    rows = json.loads(out.read_text())["rows"]
    kinds = {row["quantity"].split("/")[0] for row in rows}
    assert kinds == {"metric", "grad", "param"} and all(row["ok"] for row in rows)


def test_a_difference_beyond_the_tolerance_fails():
    import numpy as np

    rows = gpu_parity.compare({"metric/w": np.array(1.0)}, {"metric/w": np.array(1.1)})
    assert rows[0]["relative_difference"] == pytest.approx(0.1) and not rows[0]["ok"]
