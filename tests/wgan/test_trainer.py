"""The step functions: which gradients each update computes, float32, the random streams."""
import numpy as np
import pytest

import minigrad
from wgan import trainer as trainer_module
from wgan.config import resolve_config
from wgan.trainer import (ConditionalTrainer, NonFiniteError, Trainer, check_finite, make_trainer,
                          metric_floats, stream_seeds)

from .conftest import MNIST_DIR, MNIST_MISSING

TOY = {"dataset": "8gaussians", "batch_size": 8, "n_samples": 8, "iters": 3}


def grads(module):
    return {n: None if p.grad is None else p.grad.numpy().copy() for n, p in module.named_parameters()}


@pytest.mark.parametrize("loss", ["gan", "wgan", "wgan-gp"])
def test_each_update_touches_only_its_network(loss):
    trainer = Trainer(resolve_config({**TOY, "loss": loss}))
    trainer.critic_step()
    assert all(g is None for g in grads(trainer.generator).values())  # fake made under no_grad
    critic_grads = grads(trainer.critic)
    assert all(g is not None for g in critic_grads.values())
    trainer.generator_step()
    assert all(g is not None for g in grads(trainer.generator).values())
    after = grads(trainer.critic)  # the generator step accumulated nothing into the critic
    assert all(np.array_equal(critic_grads[n], after[n]) for n in critic_grads)
    assert all(p.requires_grad for p in trainer.critic.parameters())


def test_everything_is_float32():
    trainer = Trainer(resolve_config({**TOY, "loss": "wgan-gp"}))
    trainer.train_step()
    for module in (trainer.generator, trainer.critic):
        assert {p.dtype for p in module.parameters()} == {np.dtype("float32")}
        assert {p.grad.dtype for p in module.parameters()} == {np.dtype("float32")}
    assert trainer.samples().dtype == np.float32
    state = trainer.c_opt.state_dict()["state"]
    assert {a.dtype for entry in state.values() for a in entry.values() if hasattr(a, "dtype")} == \
        {np.dtype("float32")}


def test_weight_clipping_after_every_critic_step():
    trainer = Trainer(resolve_config({**TOY, "loss": "wgan", "clip": 0.003}))
    trainer.critic_step()
    assert max(np.abs(p.detach().numpy()).max() for p in trainer.critic.parameters()) <= 0.003


def test_metrics_of_a_step():
    trainer = Trainer(resolve_config({**TOY, "loss": "wgan-gp", "n_critic": 3}))
    record = metric_floats(trainer.train_step())
    assert record["step"] == 1 and record["critic_iters"] == 3 and trainer.critic_iterations == 3
    assert record["wasserstein"] == pytest.approx(record["d_real"] - record["d_fake"])
    assert record["critic_loss"] == pytest.approx(
        record["d_fake"] - record["d_real"] + 0.1 * record["gradient_penalty"], rel=1e-4, abs=1e-6)


def test_streams_are_independent_and_seeded():
    assert stream_seeds(0) == stream_seeds(0)
    assert len(set(stream_seeds(0).values())) == len(stream_seeds(0))
    assert stream_seeds(0) != stream_seeds(1)
    a = Trainer(resolve_config({**TOY, "seed": 4}))
    b = Trainer(resolve_config({**TOY, "seed": 4}))
    assert a.train_step()["critic_loss"] == b.train_step()["critic_loss"]
    assert np.array_equal(a.samples(), b.samples())


@pytest.mark.parametrize("options", [
    {**TOY, "loss": "wgan-gp"},
    {"model": "dcgan", "loss": "gan", "data_dir": str(MNIST_DIR), "limit_images": 16,  # dropout
     "batch_size": 2, "n_samples": 4},
])
def test_training_never_draws_from_the_global_generator(options):
    """Every draw (z, GP weights, dropout masks, data order) comes from the run's own streams."""
    from minigrad.random import default_generator

    if "data_dir" in options and not MNIST_DIR.is_dir():
        pytest.skip(MNIST_MISSING)
    trainer = Trainer(resolve_config(options))
    before = default_generator.get_state()
    trainer.train_step()
    trainer.samples()
    assert default_generator.get_state() == before


def test_a_step_returns_tensors_and_metric_floats_fetches_them():
    """The step keeps its metrics as 0-d tensors; metric_floats is where they become floats."""
    trainer = Trainer(resolve_config({**TOY, "loss": "wgan-gp"}))
    record = trainer.train_step()
    measured = [k for k in record if k not in ("step", "critic_iters", "sec_per_step")]
    assert measured and all(isinstance(record[k], minigrad.Tensor) and record[k].ndim == 0
                            for k in measured)
    assert not any(record[k].requires_grad for k in measured)  # no graph kept alive
    floats = metric_floats(record)
    assert list(floats) == list(record)
    assert all(type(floats[k]) is float for k in measured)
    assert floats["critic_loss"] == record["critic_loss"].item() and floats["step"] == 1


def test_the_guard_names_the_first_non_finite_metric_and_the_step():
    finite = {"critic_loss": minigrad.tensor(1.0), "critic_grad_norm": minigrad.tensor(2.0)}
    check_finite(finite, 3)
    with pytest.raises(NonFiniteError, match=r"non-finite gradient penalty \(nan\) at generator step 7"):
        check_finite({**finite, "gradient_penalty": minigrad.tensor(float("nan")),
                      "critic_grad_norm": minigrad.tensor(float("inf"))}, 7)
    with pytest.raises(NonFiniteError, match="generator gradient norm") as info:
        check_finite({"generator_loss": minigrad.tensor(0.5),
                      "generator_grad_norm": minigrad.tensor(float("-inf"))}, 1)
    note = "The last good checkpoint is at step 0."
    assert str(info.value.with_checkpoint(note)).endswith("without saving. " + note)


def test_a_nan_loss_is_never_applied(monkeypatch):
    trainer = Trainer(resolve_config({**TOY, "loss": "wgan"}))
    before = {n: p.detach().numpy().copy() for n, p in trainer.critic.named_parameters()}
    real_loss = trainer_module.losses.critic_loss
    monkeypatch.setattr(trainer_module.losses, "critic_loss",
                        lambda *args: real_loss(*args) * float("nan"))
    with pytest.raises(NonFiniteError, match="critic loss"):
        trainer.train_step()
    assert trainer.step == 0 and trainer.critic_iterations == 0
    assert all(np.array_equal(before[n], p.detach().numpy()) for n, p in trainer.critic.named_parameters())


def test_make_trainer_picks_the_conditional_trainer_and_each_refuses_the_other_models():
    assert type(make_trainer(resolve_config(TOY))) is Trainer
    with pytest.raises(TypeError, match="make_trainer"):
        Trainer(resolve_config({"model": "acgan"}))  # refused before any data is loaded
    with pytest.raises(TypeError, match="make_trainer"):
        ConditionalTrainer(resolve_config(TOY))


@pytest.mark.skipif(not MNIST_DIR.is_dir(), reason=f"MNIST not present at {MNIST_DIR}")
def test_the_conditional_trainer_trains_both_heads():
    config = resolve_config({"model": "acgan", "loss": "wgan-gp", "data_dir": str(MNIST_DIR),
                             "limit_images": 4, "batch_size": 2, "n_samples": 10, "n_critic": 1})
    trainer = make_trainer(config)
    assert isinstance(trainer, ConditionalTrainer)
    record = metric_floats(trainer.train_step())
    assert {"critic_class_loss", "generator_class_loss", "gradient_penalty"} <= set(record)
    assert all(p.grad is not None for p in trainer.critic.parameters())  # score and class heads
    assert trainer.samples().shape == (10, 1, 28, 28)
