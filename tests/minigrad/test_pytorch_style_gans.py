"""PyTorch users' GAN, WGAN and WGAN-GP scripts (``pytorch_style_gans.py``) run on minigrad with
only their imports pointing at it, and give PyTorch's losses from the same weights.

The script is executed from its source twice: as written (``import minigrad as torch``...)
and with ``minigrad`` replaced by ``torch`` in its import block. The PyTorch run copies its
weights from the minigrad models, through NumPy, before training.
"""
import re
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

SCRIPT = Path(__file__).with_name("pytorch_style_gans.py")
IMPORT_BLOCK = re.compile(r"(# --- imports:.*?\n)(.*?)(# --- end of imports ---)", re.S)
STEPS = 6


def load_script(framework: str) -> ModuleType:
    """The script as a module, its import block pointed at ``framework`` ('minigrad' or 'torch')."""
    source = SCRIPT.read_text()
    match = IMPORT_BLOCK.search(source)
    assert match, "the script lost its import block markers"
    imports = match[2]
    if framework == "torch":
        imports = imports.replace("import minigrad as torch", "import torch").replace("minigrad", "torch")
    module = ModuleType(f"pytorch_style_gans_{framework}")
    module.__file__ = str(SCRIPT)
    exec(compile(source[:match.start(2)] + imports + source[match.end(2):], str(SCRIPT), "exec"),
         module.__dict__)
    return module




@pytest.fixture(scope="module")
def minigrad_script():
    return load_script("minigrad")


@pytest.fixture(scope="module")
def torch_script():
    pytest.importorskip("torch")
    return load_script("torch")


def test_the_script_names_minigrad_only_in_its_import_block():
    source = SCRIPT.read_text()
    outside = IMPORT_BLOCK.sub("", source)
    code = "\n".join(line for line in outside.splitlines() if not line.lstrip().startswith("#"))
    assert "minigrad" not in code.split('"""', 2)[2]  # past the module docstring


def copy_weights(source_module, target_module, torch):
    """``target_module`` (PyTorch) gets ``source_module``'s (minigrad) parameters and buffers."""
    state = {name: torch.from_numpy(np.array(t.numpy())) for name, t in source_module.state_dict().items()}
    target_module.load_state_dict(state)


@pytest.mark.parametrize("kind", ["gan", "wgan", "wgan-gp"])
def test_the_script_trains_on_minigrad(minigrad_script, kind, tmp_path):
    netG, netD = minigrad_script.build(kind)
    losses = np.array(minigrad_script.TRAIN[kind](netG, netD, STEPS, seed=0, workdir=tmp_path))
    assert losses.shape[0] == STEPS and np.all(np.isfinite(losses))
    points = minigrad_script.sample(netG, 5, seed=1)
    assert points.shape == (5, 2) and points.dtype == np.float32


@pytest.mark.parametrize("kind", ["gan", "wgan", "wgan-gp"])
def test_minigrad_and_torch_give_the_same_losses_from_the_same_weights(minigrad_script, torch_script,
                                                                       kind, tmp_path):
    import torch

    ours_g, ours_d = minigrad_script.build(kind)
    theirs_g, theirs_d = torch_script.build(kind)
    copy_weights(ours_g, theirs_g, torch)
    copy_weights(ours_d, theirs_d, torch)
    ours = np.array(minigrad_script.TRAIN[kind](ours_g, ours_d, STEPS, seed=0, workdir=tmp_path))
    theirs = np.array(torch_script.TRAIN[kind](theirs_g, theirs_d, STEPS, seed=0, workdir=tmp_path))
    # float32 rounding differs (summation orders), and RMSprop's and Adam's normalised steps
    # turn a rounding difference in a small gradient into a larger one in the weights: a few
    # steps grow it from ~1e-7 to ~4e-6 of the losses' scale
    # (the generators' samples are not compared: where a gradient is about as small as its
    # rounding, Adam's first steps, ~lr * sign(g), differ in sign between the two, which moves
    # the small generated points by up to ~1% here while the losses stay within ~1e-6)
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=3e-5 * np.abs(theirs).max())


def test_the_functional_loss_matches_torch(minigrad_script, torch_script):
    p, t = np.array([0.2, 0.9, 0.5]), np.array([0.0, 1.0, 1.0])
    expected = torch_script.binary_loss_check(p, t)
    assert minigrad_script.binary_loss_check(p, t) == pytest.approx(expected, rel=1e-6)
