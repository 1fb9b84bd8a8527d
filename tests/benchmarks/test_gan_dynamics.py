"""benchmarks.gan_dynamics: minigrad and PyTorch, trained in lockstep as a plain GAN from the
weights wgan.train starts from, stay together in float64, and the script writes its table."""
from __future__ import annotations

import numpy as np

from benchmarks import gan_dynamics

from ..wgan.conftest import MNIST_DIR, needs_mnist
from .test_harness import isolated, needs_torch  # noqa: F401 (a fixture)


def test_initial_weights_give_the_wgan_runs_networks():
    """benchmarks.model's nets with these weights compute what wgan.train's nets compute."""
    import minigrad
    from benchmarks import model
    from benchmarks.frameworks import make_framework
    from wgan.models import build_wgangp_mnist
    from wgan.trainer import stream_seeds

    weights = gan_dynamics.initial_weights(seed=3)
    seeds = stream_seeds(3)
    generator, critic = build_wgangp_mnist("gan", minigrad.Generator(seeds["init"]),
                                           minigrad.Generator(seeds["noise"]))
    fw = make_framework("minigrad")
    G, D = model.build_generator(fw), model.build_critic(fw)
    fw.load_weights(G, {k: v.astype(np.float32) for k, v in weights["generator"].items()})
    fw.load_weights(D, {k: v.astype(np.float32) for k, v in weights["critic"].items()})
    z = minigrad.randn(3, model.LATENT)
    with minigrad.no_grad():
        images = generator(z)
        np.testing.assert_array_equal(G(z).numpy(), images.numpy())
        np.testing.assert_array_equal(D(images).numpy()[:, 0], critic(images).numpy())


@needs_torch
@needs_mnist
def test_frameworks_train_in_lockstep_in_float64(tmp_path, isolated, capsys):  # noqa: F811
    out = tmp_path / "dynamics.md"
    assert gan_dynamics.main(["--steps", "3", "--every", "1", "--batch", "4", "--dtype",
                              "float64", "--data-dir", str(MNIST_DIR), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    gap = float(printed.split("difference after step 3: ")[1].split()[0])
    assert gap < 1e-10
    rows = [line for line in printed.splitlines() if line.startswith("|     ")]
    assert len(rows) == 3
    for row in rows:  # each quantity printed equal for both frameworks
        cells = [c.strip() for c in row.strip("|").split("|")][1:]
        assert cells[0::2] == cells[1::2]
    assert "| step |" in out.read_text()


def test_rejects_nonpositive_sizes(capsys):
    assert gan_dynamics.main(["--steps", "0"]) == 2
    assert "must be positive" in capsys.readouterr().err
