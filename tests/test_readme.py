"""The README's worked example runs as written, and its gradient is right."""
import re
from pathlib import Path

import numpy as np

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
    assert "penalty" in capsys.readouterr().out
    W1, b1, W2 = scope["W1"], scope["b1"], scope["W2"]
    x_hat, critic = scope["x_hat"], scope["critic"]
    assert W1.grad is not None and np.all(np.isfinite(W1.grad.numpy()))

    def penalty_of(w1, bias, w2):
        def d(x):
            return ((x @ w1 + bias).tanh() @ w2).squeeze(1)

        (g,) = mg.grad(d(x_hat).sum(), x_hat, create_graph=True)
        return ((g.norm(dim=1) - 1.0) ** 2).mean()

    weights = [mg.tensor(t.detach().numpy(), requires_grad=True) for t in (W1, b1, W2)]
    # finite differences of the penalty agree with the double-backward gradients
    assert mg.gradcheck(penalty_of, weights)
    grads = mg.grad(penalty_of(*weights), weights)
    for ours, readme_grad in zip(grads, (W1.grad, b1.grad, W2.grad)):
        np.testing.assert_allclose(ours.numpy(), readme_grad.numpy(), rtol=1e-12)
    assert critic is not None


def test_the_setup_commands_say_how_long_the_main_run_takes():
    """Exactly two set-up commands at the top, and the text under them says that the first runs
    the default number of steps, for how long, and how to make it shorter."""
    from wgan.config import DEFAULT_ITERS

    text = README.read_text()
    first_block = re.search(r"```bash\n(.*?)```(.*?)\n## ", text, re.S)
    commands, explanation = first_block.group(1), " ".join(first_block.group(2).split())
    assert len(commands.strip().splitlines()) == 2
    assert "python -m wgan.train" in commands and "--iters" not in commands
    assert f"{DEFAULT_ITERS:,} generator steps" in explanation and "hours" in explanation
    assert "--iters 200" in explanation and "--resume runs/wgangp-mnist" in explanation
