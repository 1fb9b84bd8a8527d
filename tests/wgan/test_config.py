"""Settings: defaults per loss / model / dataset, contradictions refused, resume rules, JSON."""
import pytest

from wgan.config import Config, ConfigError, resolve_config, resume_config


@pytest.mark.parametrize("loss,optimizer,lr,betas,clip,gp_lambda,n_critic", [
    ("gan", "adam", 1e-4, (0.9, 0.999), None, None, 1),
    ("wgan", "rmsprop", 5e-5, None, 0.01, None, 5),
    ("wgan-gp", "adam", 1e-4, (0.5, 0.9), None, 10.0, 5),
])
def test_defaults_per_loss(loss, optimizer, lr, betas, clip, gp_lambda, n_critic):
    c = resolve_config({"loss": loss})
    assert (c.optimizer, c.lr, c.betas, c.clip, c.gp_lambda, c.n_critic) == \
        (optimizer, lr, betas, clip, gp_lambda, n_critic)


def test_defaults_follow_model_and_dataset():
    c = resolve_config({})
    assert (c.dataset, c.model, c.loss, c.batch_size) == ("mnist", "wgangp-mnist", "wgan-gp", 50)
    toy = resolve_config({"dataset": "8gaussians"})
    assert (toy.model, toy.gp_lambda, toy.batch_size, toy.n_samples) == ("toy-mlp", 0.1, 256, 512)
    ac = resolve_config({"model": "acgan", "loss": "wgan"})
    assert (ac.batch_size, ac.class_weight, ac.n_samples) == (100, 1.0, 100)
    assert resolve_config({"model": "mlp"}).batch_size == 32


def test_explicit_values_override_defaults():
    c = resolve_config({"loss": "wgan", "optimizer": "adam", "betas": (0.0, 0.9), "clip": 0.05,
                        "lr": 2e-4, "n_critic": 3})
    assert (c.optimizer, c.betas, c.clip, c.lr, c.n_critic) == ("adam", (0.0, 0.9), 0.05, 2e-4, 3)


@pytest.mark.parametrize("options,message", [
    ({"loss": "wgan-gp", "clip": 0.01}, "--clip (weight clipping) applies only to --loss wgan"),
    ({"loss": "gan", "clip": 0.01}, "--clip"),
    ({"loss": "wgan", "gp_lambda": 10.0}, "--gp-lambda"),
    ({"loss": "wgan", "betas": (0.5, 0.9)}, "--betas applies only to --optimizer adam"),
    ({"model": "mlp", "class_weight": 1.0}, "--class-weight applies only"),
    ({"dataset": "mnist", "model": "toy-mlp"}, "--model toy-mlp is for the datasets"),
    ({"dataset": "swissroll", "model": "dcgan"}, "models for 'swissroll': toy-mlp"),
    ({"dataset": "8gaussians", "limit_images": 10}, "--limit-images applies only"),
    ({"dataset": "8gaussians", "data_dir": "x"}, "--data-dir applies only"),
    ({"model": "nope"}, "unknown model 'nope'; valid choices are: mlp, dcgan"),
    ({"loss": "lsgan"}, "valid choices are: gan, wgan, wgan-gp"),
    ({"lr": -1.0}, "--lr must be a finite number > 0"),
    ({"lr": float("nan")}, "--lr"),
    ({"betas": (0.5, 1.0)}, "--betas must be two numbers in [0, 1)"),
    ({"batch_size": 0}, "--batch-size must be a positive integer"),
    ({"limit_images": 8, "batch_size": 16}, "smaller than --batch-size"),
    ({"model": "acgan", "n_samples": 64}, "multiple of 10"),
])
def test_invalid_or_contradictory_options_are_errors(options, message):
    with pytest.raises(ConfigError) as info:
        resolve_config(options)
    assert message in str(info.value)


def test_critic_boost_schedule():
    plain = resolve_config({"loss": "wgan"})
    boosted = resolve_config({"loss": "wgan", "critic_boost": True})
    assert [plain.critic_steps(s) for s in (0, 24, 25, 500)] == [5, 5, 5, 5]
    assert [boosted.critic_steps(s) for s in (0, 24, 25, 26, 499, 500, 501, 1000)] == \
        [100, 100, 5, 5, 5, 100, 5, 100]


def test_json_round_trip():
    for options in ({}, {"loss": "wgan"}, {"model": "acgan", "loss": "gan"}, {"dataset": "25gaussians"}):
        c = resolve_config(options)
        assert Config.from_dict(c.to_dict()) == c


def test_resume_may_change_only_how_far_and_what_is_written():
    saved = resolve_config({"loss": "wgan", "iters": 10})
    longer = resume_config(saved, {"iters": 20, "sample_every": 5, "lr": 5e-5, "loss": "wgan"})
    assert (longer.iters, longer.sample_every, longer.lr) == (20, 5, 5e-5)
    with pytest.raises(ConfigError, match="--lr cannot change when resuming"):
        resume_config(saved, {"lr": 1e-3})
    with pytest.raises(ConfigError, match="--seed cannot change"):
        resume_config(saved, {"seed": 3})
