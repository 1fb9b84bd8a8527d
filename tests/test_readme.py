"""The README's worked example runs as written, and its gradient is right."""
import re
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_example(name: str) -> str:
    text = README.read_text()
    match = re.search(rf"<!-- readme-example: {name} -->\s*```python\n(.*?)```", text, re.S)
    assert match, f"README has no example named {name}"
    return match.group(1)


def test_gradient_penalty_example_runs_and_its_weight_gradient_is_right(capsys):
    scope: dict = {}
    exec(readme_example("gradient-penalty"), scope)
    printed = capsys.readouterr().out
    numbers = re.fullmatch(r"penalty (\S+), \|dP/dW1\| (\S+)\n", printed)
    assert numbers, f"the example printed {printed!r}"
    W1, b1, W2, x_hat = scope["W1"], scope["b1"], scope["W2"], scope["x_hat"]

    def penalty_of(w1, bias, w2):
        def d(x):
            return ((x @ w1 + bias).tanh() @ w2).squeeze(1)

        (g,) = mg.grad(d(x_hat).sum(), x_hat, create_graph=True)
        return ((g.norm(dim=1) - 1.0) ** 2).mean()

    weights = [mg.tensor(t.detach().numpy(), requires_grad=True) for t in (W1, b1, W2)]
    # finite differences of the penalty agree with the double-backward gradients
    assert mg.gradcheck(penalty_of, weights)
    penalty = penalty_of(*weights)
    grads = mg.grad(penalty, weights)
    for ours, readme_grad in zip(grads, (W1.grad, b1.grad, W2.grad), strict=True):
        np.testing.assert_allclose(ours.numpy(), readme_grad.numpy(), rtol=1e-12)
    # what the example prints is the recomputed penalty and |dP/dW1|, to its 4 decimals
    assert float(numbers[1]) == pytest.approx(penalty.item(), abs=5e-5)
    assert float(numbers[2]) == pytest.approx(float(np.linalg.norm(grads[0].numpy())), abs=5e-5)
    assert float(numbers[2]) > 0.01, "no gradient reaches W1"


def test_add_an_op_example_defines_a_differentiable_exported_op():
    from minigrad import Function, Tensor
    from minigrad.ops._export import EXPORTED, export

    scope = {"Function": Function, "Tensor": Tensor, "export": export}
    exec(readme_example("add-an-op"), scope)
    softsign = scope["softsign"]
    assert getattr(softsign, EXPORTED) == {"top": (), "method": (), "functional": ("softsign",)}
    x = mg.tensor([[-2.0, -0.5, -0.1], [0.3, 1.0, 4.0]], dtype="float64", requires_grad=True)  # |x| has a kink at 0
    np.testing.assert_allclose(softsign(x).detach().numpy(), x.detach().numpy() / (1 + abs(x.detach().numpy())))
    assert mg.gradcheck_order(softsign, [x], order=3)


def _run_pytorch_example(framework: str) -> str:
    source = readme_example("pytorch-wgan-gp")
    if framework == "torch":
        source = source.replace("import minigrad as torch", "import torch").replace("minigrad", "torch")
    scope: dict = {}
    exec(source, scope)
    return scope


def test_pytorch_wgan_gp_example_trains_on_minigrad(capsys):
    scope = _run_pytorch_example("minigrad")
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["iter 0", "iter 10", "iter 20"]
    assert np.isfinite(scope["loss_d"].item()) and np.isfinite(scope["loss_g"].item())
    assert scope["sched_g"].get_last_lr() == [0.0]  # decayed linearly to 0
    # the critic learned something: real points score above generated ones
    with mg.no_grad():
        real, fake = scope["real_batch"](), scope["G"](mg.randn(64, 2))
        assert scope["D"](real).mean().item() > scope["D"](fake).mean().item()


def test_pytorch_wgan_gp_example_is_pytorch_code(capsys):
    pytest.importorskip("torch")
    scope = _run_pytorch_example("torch")
    assert len(capsys.readouterr().out.splitlines()) == 3
    assert np.isfinite(scope["loss_d"].item())
