"""One critic pass on cat(x, x_tilde): the same losses and gradients as the two passes D(x),
D(x_tilde) (float64, to 1e-12), and only for critics that score each sample on its own."""
import numpy as np
import pytest

import minigrad
from minigrad import nn
from wgan import losses
from wgan.config import resolve_config
from wgan.trainer import make_trainer, scores_each_sample_alone

TOY = {"dataset": "8gaussians", "batch_size": 8, "n_samples": 8, "iters": 3}
IMAGES = {"limit_images": 16, "batch_size": 4, "n_samples": 4}


def _trainer(options, monkeypatch):
    """A trainer on fake MNIST-shaped data when the model needs images (no files read)."""
    from wgan import trainer as trainer_module

    if options.get("dataset", "mnist") == "mnist":
        rng = np.random.default_rng(0)
        images = rng.integers(0, 256, (16, 28, 28), dtype=np.uint8)
        monkeypatch.setattr(trainer_module, "load_images",
                            lambda *a, **k: (images, rng.integers(0, 10, 16)))
    return make_trainer(resolve_config(options))


@pytest.mark.parametrize("options, one_pass", [
    ({"model": "wgangp-mnist", "loss": "wgan-gp"}, True),    # no norm layer
    ({"model": "wgangp-mnist", "loss": "gan"}, True),
    ({"model": "wgangp-mnist", "loss": "wgan"}, False),      # BatchNorm2d in the critic
    ({"model": "keras-critic", "loss": "wgan-gp"}, True),    # per-pixel LayerNorm
    ({"model": "keras-critic", "loss": "wgan"}, False),      # BatchNorm
    ({"model": "dcgan", "loss": "gan"}, False),              # dropout
    ({"model": "acgan", "loss": "wgan", "n_samples": 10}, False),  # dropout
    ({**TOY, "loss": "wgan-gp"}, True),
])
def test_one_pass_only_for_critics_that_score_each_sample_alone(options, one_pass, monkeypatch):
    trainer = _trainer({**IMAGES, **options} if "dataset" not in options else options, monkeypatch)
    assert trainer.one_critic_pass is one_pass
    assert scores_each_sample_alone(trainer.critic) is one_pass


def _objective_and_grads(trainer, x, x_tilde, one_pass):
    trainer.one_critic_pass = one_pass
    trainer.c_opt.zero_grad()
    pair = trainer._critic_pair(x, x_tilde)
    if trainer.conditional:
        (d_real, logits_real), (d_fake, logits_fake) = pair
        labels = minigrad.tensor(np.arange(len(x)) % 10)
        loss = (losses.critic_loss(trainer.config.loss, d_real, d_fake)
                + losses.class_loss(logits_real, labels) + losses.class_loss(logits_fake, labels))
    else:
        d_real, d_fake = pair
        loss = losses.critic_loss(trainer.config.loss, d_real, d_fake)
    loss.backward()
    return (loss.item(), d_real.detach().numpy().copy(), d_fake.detach().numpy().copy(),
            {n: p.grad.numpy().copy() for n, p in trainer.critic.named_parameters()})


@pytest.mark.parametrize("options", [
    {**IMAGES, "model": "wgangp-mnist", "loss": "wgan-gp"},
    {**IMAGES, "model": "wgangp-mnist", "loss": "gan"},
    {**IMAGES, "model": "keras-critic", "loss": "wgan-gp"},
    {**TOY, "loss": "wgan"},
    {**IMAGES, "model": "acgan", "loss": "wgan", "n_samples": 10},  # two heads; eval: no dropout
])
def test_one_pass_gives_the_two_passes_losses_and_gradients_in_float64(options, monkeypatch):
    trainer = _trainer(options, monkeypatch)
    trainer.critic.double()
    if trainer.conditional:
        trainer.critic.eval()  # its dropout off, so that one pass may be compared with two
    shape = (options["batch_size"], *((1, 28, 28) if "model" in options else (2,)))
    rng = np.random.default_rng(1)
    x = minigrad.tensor(rng.random(shape))
    x_tilde = minigrad.tensor(rng.random(shape))
    one = _objective_and_grads(trainer, x, x_tilde, True)
    two = _objective_and_grads(trainer, x, x_tilde, False)
    assert one[0] == pytest.approx(two[0], rel=1e-12, abs=1e-12)
    for a, b in zip(one[1:3], two[1:3]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    assert one[3].keys() == two[3].keys()
    for name in two[3]:
        scale = max(np.abs(two[3][name]).max(), 1e-300)
        assert np.abs(one[3][name] - two[3][name]).max() / scale <= 1e-12, name


def test_a_critic_step_makes_one_pass_on_real_and_fake_plus_the_penalty_pass(monkeypatch):
    trainer = _trainer(dict(TOY, loss="wgan-gp"), monkeypatch)
    batches = []

    class Recording(nn.Module):  # the critic, recording the batch size of each pass
        def __init__(self, critic):
            super().__init__()
            self.critic = critic

        def forward(self, x):
            batches.append(len(x))
            return self.critic(x)

    trainer.critic = Recording(trainer.critic)
    trainer.critic_step()
    assert batches == [16, 8]  # cat(x, x_tilde), then x_hat for the gradient penalty
    batches.clear()
    trainer.one_critic_pass = False
    trainer.critic_step()
    assert batches == [8, 8, 8]
