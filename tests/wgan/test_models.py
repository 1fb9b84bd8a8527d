"""The model zoo: shapes, ranges, the architecture details each source prescribes, init."""
import math

import numpy as np
import pytest

import minigrad
from minigrad import nn
from wgan import losses
from wgan.models import MODELS, ChannelLayerNorm, Dropout

LOSSES = ("gan", "wgan", "wgan-gp")


def build(name, loss, seed=0, noise_seed=1):
    return MODELS[name].build(loss, minigrad.Generator(seed), minigrad.Generator(noise_seed))


def generate(name, generator, n, seed=2):
    spec = MODELS[name]
    z = spec.sample_latent(n, minigrad.Generator(seed))
    if spec.conditional:
        return generator(z, minigrad.tensor(np.arange(n) % 10))
    return generator(z)


def layer_types(module):
    return [type(m).__name__ for m in module.modules() if not list(m.children())]


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("name", sorted(MODELS))
def test_shapes_and_output_range(name, loss):
    spec = MODELS[name]
    generator, critic = build(name, loss)
    x = generate(name, generator, 3)
    if spec.data_kind == "toy":
        assert x.shape == (3, 2)
    else:
        assert x.shape == (3, 1, 28, 28) and x.dtype == np.float32
        lo, hi = spec.output_range
        assert lo <= x.detach().numpy().min() and x.detach().numpy().max() <= hi
    out = critic(x)
    if spec.conditional:
        scores, logits = out
        assert scores.shape == (3,) and logits.shape == (3, 10)
    else:
        assert out.shape == (3,)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_init_is_reproducible_from_the_generator(name):
    a, b, c = build(name, "wgan-gp", seed=5), build(name, "wgan-gp", seed=5), build(name, "wgan-gp", seed=6)
    for (ka, va), (kb, vb), (_, vc) in zip(a[0].state_dict().items(), b[0].state_dict().items(),
                                           c[0].state_dict().items(), strict=True):
        assert ka == kb and np.array_equal(va.numpy(), vb.numpy())
    assert any(not np.array_equal(va.numpy(), vc.numpy()) for va, vc in
               zip(a[1].state_dict().values(), c[1].state_dict().values(), strict=True))


def test_wgangp_mnist_is_gan_mnist_layer_for_layer():
    generator, critic = build("wgangp-mnist", "wgan-gp")
    assert layer_types(generator) == [
        "Linear", "Sequential", "ReLU", "Unflatten",
        "ConvTranspose2d", "Sequential", "ReLU", "Crop",
        "ConvTranspose2d", "Sequential", "ReLU",
        "ConvTranspose2d", "Sigmoid"]
    shapes = [tuple(p.shape) for p in generator.parameters()]
    assert shapes == [(4096, 128), (4096,), (256, 128, 5, 5), (128,), (128, 64, 5, 5), (64,),
                      (64, 1, 5, 5), (1,)]
    assert [tuple(p.shape) for p in critic.parameters()] == [
        (64, 1, 5, 5), (64,), (128, 64, 5, 5), (128,), (256, 128, 5, 5), (256,), (1, 4096), (1,)]
    leaky = [m.negative_slope for m in critic.modules() if isinstance(m, nn.LeakyReLU)]
    assert leaky == [0.2, 0.2, 0.2]
    # intermediate sizes: 4x4 -> 8x8, cropped to 7x7 -> 14x14 -> 28x28
    x = MODELS["wgangp-mnist"].sample_latent(2, minigrad.Generator(0))
    sizes = []
    for layer in generator.net:
        x = layer(x)
        if x.ndim == 4:
            sizes.append(x.shape[2])
    assert sizes == [4, 8, 8, 8, 7, 14, 14, 14, 28, 28]


def test_wgangp_mnist_batch_norm_only_for_wgan_as_in_its_source():
    for loss in LOSSES:
        generator, critic = build("wgangp-mnist", loss)
        bns = [m for m in [*generator.modules(), *critic.modules()]
               if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))]
        assert len(bns) == (5 if loss == "wgan" else 0)


def test_wgangp_mnist_uses_tflib_initialisation():
    generator, critic = build("wgangp-mnist", "wgan-gp", seed=3)

    def check(w, std):
        bound = std * math.sqrt(3)
        w = w.detach().numpy()
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
        assert abs(w.std() / std - 1) < 0.05

    conv1 = critic.net[0]  # 1 -> 64, 5x5, stride 2: fan_in 25, fan_out 64 * 25 / 4
    check(conv1.weight, math.sqrt(4 / (25 + 400)))
    deconv = generator.net[4]  # 256 -> 128, 5x5, stride 2: fan_in 256 * 25 / 4, fan_out 128 * 25
    check(deconv.weight, math.sqrt(4 / (1600 + 3200)))
    dense = generator.net[0]  # 'glorot' Linear 128 -> 4096
    check(dense.weight, math.sqrt(2 / (128 + 4096)))
    assert all(not p.detach().numpy().any() for n, p in critic.named_parameters() if n.endswith("bias"))


def test_toy_mlp_is_three_hidden_layers_of_512_with_he_init():
    generator, critic = build("toy-mlp", "wgan-gp")
    assert [tuple(p.shape) for p in critic.parameters()] == [
        (512, 2), (512,), (512, 512), (512,), (512, 512), (512,), (1, 512), (1,)]
    hidden = critic.net[2].weight.detach().numpy()
    assert abs(hidden.std() / math.sqrt(2 / 512) - 1) < 0.05


def test_dcgan_dropout_only_for_the_plain_gan():
    for loss in LOSSES:
        _, critic = build("dcgan", loss)
        assert sum(isinstance(m, Dropout) for m in critic.modules()) == (2 if loss == "gan" else 0)
    generator, _ = build("dcgan", "gan")
    assert generator.net[0].bias is None
    assert [m.out_channels for m in generator.modules() if isinstance(m, nn.ConvTranspose2d)] == [128, 64, 1]


def test_keras_critic_batch_norm_for_wgan_layer_norm_for_wgan_gp():
    _, wgan = build("keras-critic", "wgan")
    _, wgangp = build("keras-critic", "wgan-gp")
    assert sum(isinstance(m, nn.BatchNorm2d) for m in wgan.modules()) == 2
    assert sum(isinstance(m, ChannelLayerNorm) for m in wgangp.modules()) == 2
    assert not any(isinstance(m, nn.BatchNorm2d) for m in wgangp.modules())
    generator, _ = build("keras-critic", "wgan")
    assert generator.net[0].in_features == 128  # the post's z_dim


def test_acgan_generator_depends_on_the_label_and_dropout_on_the_noise_stream():
    generator, critic = build("acgan", "wgan")
    z = MODELS["acgan"].sample_latent(2, minigrad.Generator(0))
    a = generator(z, minigrad.tensor([1, 1])).detach().numpy()
    b = generator(z, minigrad.tensor([1, 7])).detach().numpy()
    assert np.array_equal(a[0], b[0]) and not np.array_equal(a[1], b[1])
    x = minigrad.rand(2, 1, 28, 28, generator=minigrad.Generator(0))
    _, twin = build("acgan", "wgan")  # same init, its own noise stream in the same state

    def scores(c):
        return c(x)[0].detach().numpy()

    first = scores(critic)
    assert np.array_equal(first, scores(twin))
    assert not np.array_equal(first, scores(critic))  # fresh dropout masks from the stream
    critic.eval()
    assert np.array_equal(scores(critic), scores(critic))


def test_mlp_latent_is_uniform():
    z = MODELS["mlp"].sample_latent(1000, minigrad.Generator(0)).numpy()
    assert z.shape == (1000, 10) and -1 <= z.min() < -0.99 and 0.99 < z.max() <= 1


@pytest.mark.parametrize("name", sorted(MODELS))
def test_gradient_penalty_trains_every_critic(name):
    """The double backward of WGAN-GP reaches every critic weight of every architecture."""
    spec = MODELS[name]
    generator, critic = build(name, "wgan-gp")
    with minigrad.no_grad():
        fake = generate(name, generator, 2)
    real = minigrad.rand(*fake.shape, generator=minigrad.Generator(9))
    score = (lambda x: critic(x)[0]) if spec.conditional else critic
    penalty, norms = losses.gradient_penalty(score, real, fake, minigrad.Generator(4))
    assert norms.shape == (2,) and math.isfinite(penalty.item())
    penalty.backward()
    weights = [p for n, p in critic.named_parameters() if n.endswith("weight")]
    if spec.conditional:  # the class head does not enter the score
        weights = [p for n, p in critic.named_parameters() if n.endswith("weight") and "classes" not in n]
    assert all(p.grad is not None and np.isfinite(p.grad.numpy()).all() for p in weights)
