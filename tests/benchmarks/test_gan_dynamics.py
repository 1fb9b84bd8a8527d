"""benchmarks.gan_dynamics: minigrad and PyTorch, trained in lockstep as a plain GAN from the
weights wgan.train starts from, stay together in float64, and the script writes its table."""
from __future__ import annotations

import numpy as np
import pytest

from benchmarks import gan_dynamics

from ..wgan.conftest import MNIST_DIR, needs_mnist
from .test_harness import needs_torch, torch


@pytest.fixture
def torch_threads():
    """The script sets torch's thread count: restore it afterwards.  (Unlike test_harness's
    ``isolated`` this leaves NUMBA_NUM_THREADS alone: changing it once Numba's thread pool
    has started makes Numba's next compilation fail.)"""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


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
def test_frameworks_train_in_lockstep_in_float64(torch_threads):
    result = gan_dynamics.run(steps=3, every=1, batch=4, lr=2e-4, betas=(0.5, 0.999),
                              dtype="float64", seed=0, data_dir=str(MNIST_DIR), threads=1,
                              log=lambda line: None)
    assert [row["step"] for row in result["rows"]] == [1, 2, 3]
    for row in result["rows"]:
        for column in gan_dynamics.COLUMNS:
            ours, theirs = row["minigrad"][column], row["pytorch"][column]
            assert abs(ours - theirs) <= 1e-10 * max(1.0, abs(theirs)), (row["step"], column)
    assert result["parameter_gap"] < 1e-10


@needs_torch
@needs_mnist
def test_cli_prints_and_writes_the_table(tmp_path, torch_threads, capsys):
    out = tmp_path / "dynamics.md"
    assert gan_dynamics.main(["--steps", "1", "--batch", "2", "--data-dir", str(MNIST_DIR),
                              "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(gan_dynamics.header())
    assert "largest relative parameter difference after step 1:" in printed
    table = out.read_text()
    assert gan_dynamics.header() in table and "|     1 |" in table


def test_rejects_nonpositive_sizes(capsys):
    assert gan_dynamics.main(["--steps", "0"]) == 2
    assert "must be positive" in capsys.readouterr().err
