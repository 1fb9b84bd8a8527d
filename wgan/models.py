"""The generator / critic pairs of the seed posts and papers, and the registry ``MODELS``.

Every model is NCHW: images are (N, 1, 28, 28) float32 in the range its generator produces
(``ModelSpec.output_range``), 2-D points are (N, 2).  A critic maps a batch to scores (N,); the
class-conditional critic (``acgan``) returns ``(scores (N,), class_logits (N, 10))`` and its
generator takes ``(z, labels)``.  Layers are the minigrad.nn ones; each architecture is
initialised the way its source does, from an explicit ``minigrad.Generator`` (never a global
stream), and dropout draws its masks from the noise stream the trainer hands over, so a run is
reproducible and resumable bit for bit.

Sources, and what each one's initialisation is:

``mlp``
    wiseodd/generative-models wgan_tensorflow.py (seed post 000): critic 784-128-ReLU-1,
    generator z(10)-128-ReLU-784-sigmoid, z ~ U(-1, 1), its ``xavier_init``: weights
    N(0, 2 / fan_in), biases 0.  Batch 32.
``dcgan``
    The TensorFlow DCGAN tutorial (seed post 001).  Keras defaults: glorot-uniform kernels,
    zero biases, BatchNorm momentum 0.99 / eps 1e-3 (torch momentum 0.01), LeakyReLU 0.3,
    z ~ N(0, 1) of size 100, batch 256.  Dropout 0.3 in the critic for ``--loss gan`` only.
``wgangp-mnist``
    gan_mnist.py of gulrajani/improved_wgan_training (DIM 64, z 128, batch 50).  tflib's
    initialisation, U(-s*sqrt(3), s*sqrt(3)) with std s:
    Linear (default 'glorot'): s = sqrt(2 / (fan_in + fan_out));
    Conv2D (he_init): s = sqrt(4 / (fan_in + fan_out)), fan_in = C_in k^2,
    fan_out = C_out k^2 / stride^2;  Deconv2D (he_init, stride 2): s = sqrt(4 / (fan_in + fan_out)),
    fan_in = C_in k^2 / 4, fan_out = C_out k^2;
    biases 0.  As in that file, ``--loss wgan`` adds batch norm (generator after the Linear and
    the first two deconvs, critic after convs 2 and 3; eps 1e-5) and the other losses do not.
``keras-critic``
    The Keras critic of seed post 003 (3x3 stride-2 convs 32/64/128, LeakyReLU 0.01,
    BatchNorm for WGAN, LayerNorm for WGAN-GP, Dense 1), paired with the ``dcgan`` generator
    with that post's z of 128, batch 64.  Keras ``LayerNormalization()`` normalises the last
    (channel) axis of NHWC, so the LayerNorm here normalises over the channels of each pixel,
    eps 1e-3.  ``--loss gan`` uses the BatchNorm variant.
``acgan``
    The Keras AC-WGAN of seed post 004 (z 100, batch 100): generator embedding(10, 100,
    glorot-uniform) * z, Dense 1024, Dense 128*7*7 (LeakyReLU 0.3), two (upsample x2, 5x5
    conv 256/128, LeakyReLU) blocks, a 2x2 conv with tanh; critic 3x3 convs 32/64/128/256
    each with LeakyReLU 0.3 and Dropout 0.3, 2x2 max-pooling after the first and third (the
    post's ``MaxPool2D(pool_size=1)`` layers are identities and are left out), then a linear
    score head and a 10-way class-logit head.  Convs N(0, 0.02), Dense glorot-uniform.
``toy-mlp``
    gan_toy.py of the WGAN-GP paper: both networks 3 hidden ReLU layers of 512 (tflib 'he':
    s = sqrt(2 / fan_in)) and a linear output layer (tflib 'glorot'), z ~ N(0, 1) of size 2,
    batch 256.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import minigrad
from minigrad import nn
from minigrad.nn import functional as F
from minigrad.nn import init

IMAGE_SHAPE = (1, 28, 28)
NUM_CLASSES = 10


# ----------------------------------------------------------------------------- building blocks

class Dropout(nn.Module):
    """``nn.Dropout`` whose masks come from an explicit random stream ``rng`` (checkpointed by
    the trainer)."""

    def __init__(self, p: float, rng: minigrad.Generator):
        super().__init__()
        self.p, self.rng = p, rng

    def forward(self, x: minigrad.Tensor) -> minigrad.Tensor:
        return F.dropout(x, self.p, self.training, generator=self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class ChannelLayerNorm(nn.Module):
    """Keras ``LayerNormalization()`` on NCHW: normalise the C values of each pixel."""

    def __init__(self, channels: int, eps: float = 1e-3):
        super().__init__()
        self.norm = nn.LayerNorm(channels, eps=eps)

    def forward(self, x: minigrad.Tensor) -> minigrad.Tensor:
        return self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class Crop(nn.Module):
    """Keep the top-left ``size`` x ``size`` pixels (gan_mnist.py's ``output[:, :, :7, :7]``)."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def forward(self, x: minigrad.Tensor) -> minigrad.Tensor:
        return x[:, :, :self.size, :self.size]


class Squeeze(nn.Module):
    """(N, 1) scores -> (N,)."""

    def forward(self, x: minigrad.Tensor) -> minigrad.Tensor:
        return x.reshape(-1)


def _identity() -> nn.Module:
    """A no-op layer where a variant leaves one out (an empty Sequential: minigrad has no
    nn.Identity), so every variant of a model keeps the same layer indices."""
    return nn.Sequential()


def _keras_bn(channels: int, image: bool) -> nn.Module:
    """Keras BatchNormalization defaults (momentum 0.99 is torch's 0.01, eps 1e-3)."""
    return (nn.BatchNorm2d if image else nn.BatchNorm1d)(channels, eps=1e-3, momentum=0.01)


def _tflib_uniform(weight: minigrad.Tensor, std: float, rng: minigrad.Generator) -> None:
    bound = std * math.sqrt(3.0)
    init.uniform_(weight, -bound, bound, generator=rng)


def _weighted_layers(module: nn.Module) -> list[nn.Module]:
    return [m for m in module.modules() if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d))]


def _init_keras(module: nn.Module, rng: minigrad.Generator, conv_std: float | None = None) -> None:
    """Keras defaults: glorot-uniform kernels (or N(0, conv_std) for convs), zero biases."""
    for layer in _weighted_layers(module):
        is_conv = isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d))
        if is_conv and conv_std is not None:
            init.normal_(layer.weight, 0.0, conv_std, generator=rng)
        else:
            init.xavier_uniform_(layer.weight, generator=rng)
        if layer.bias is not None:
            init.zeros_(layer.bias)


# ----------------------------------------------------------------------------- mlp (seed 000)

class MLPGenerator(nn.Module):
    def __init__(self, latent_dim: int = 10, hidden: int = 128):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 784), nn.Sigmoid(), nn.Unflatten(1, IMAGE_SHAPE))

    def forward(self, z: minigrad.Tensor) -> minigrad.Tensor:
        return self.net(z)


class MLPCritic(nn.Module):
    def __init__(self, hidden: int = 128):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 1), Squeeze())

    def forward(self, x: minigrad.Tensor) -> minigrad.Tensor:
        return self.net(x)


def _init_wiseodd(module: nn.Module, rng: minigrad.Generator) -> None:
    """wgan_tensorflow.py's xavier_init: N(0, std^2) with std = 1 / sqrt(fan_in / 2); biases 0."""
    for layer in _weighted_layers(module):
        init.normal_(layer.weight, 0.0, math.sqrt(2.0 / layer.in_features), generator=rng)
        init.zeros_(layer.bias)


def build_mlp(loss: str, init_rng: minigrad.Generator, noise_rng: minigrad.Generator):
    generator, critic = MLPGenerator(), MLPCritic()
    _init_wiseodd(generator, init_rng)
    _init_wiseodd(critic, init_rng)
    return generator, critic


# ----------------------------------------------------------------------------- dcgan (seed 001)

class DCGANGenerator(nn.Module):
    """Dense 7*7*256 (no bias), BN, LeakyReLU; transposed 5x5 convs 128 (stride 1), 64, 1
    (stride 2), no biases, BN + LeakyReLU between, tanh out."""

    def __init__(self, latent_dim: int = 100):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(latent_dim, 7 * 7 * 256, bias=False), _keras_bn(7 * 7 * 256, image=False),
            nn.LeakyReLU(0.3), nn.Unflatten(1, (256, 7, 7)),
            nn.ConvTranspose2d(256, 128, 5, stride=1, padding="same", bias=False),
            _keras_bn(128, image=True), nn.LeakyReLU(0.3),
            nn.ConvTranspose2d(128, 64, 5, stride=2, padding="same", bias=False),
            _keras_bn(64, image=True), nn.LeakyReLU(0.3),
            nn.ConvTranspose2d(64, 1, 5, stride=2, padding="same", bias=False), nn.Tanh(),
        )

    def forward(self, z: minigrad.Tensor) -> minigrad.Tensor:
        return self.net(z)


class DCGANCritic(nn.Module):
    """5x5 stride-2 convs 64 and 128 with LeakyReLU (and Dropout 0.3 for the plain GAN), Dense 1."""

    def __init__(self, dropout: float, noise_rng: minigrad.Generator):
        super().__init__()
        drop = (lambda: Dropout(dropout, noise_rng)) if dropout else _identity
        self.net = nn.Sequential(
            nn.Conv2d(1, 64, 5, stride=2, padding="same"), nn.LeakyReLU(0.3), drop(),
            nn.Conv2d(64, 128, 5, stride=2, padding="same"), nn.LeakyReLU(0.3), drop(),
            nn.Flatten(), nn.Linear(128 * 7 * 7, 1), Squeeze(),
        )

    def forward(self, x: minigrad.Tensor) -> minigrad.Tensor:
        return self.net(x)


def build_dcgan(loss: str, init_rng: minigrad.Generator, noise_rng: minigrad.Generator,
                latent_dim: int = 100):
    generator = DCGANGenerator(latent_dim)
    critic = DCGANCritic(0.3 if loss == "gan" else 0.0, noise_rng)
    _init_keras(generator, init_rng)
    _init_keras(critic, init_rng)
    return generator, critic


# ----------------------------------------------------------------------------- wgangp-mnist

class WGANGPGenerator(nn.Module):
    """gan_mnist.py's Generator: Linear 128 -> 4*4*4*DIM, ReLU, deconvs 4DIM -> 2DIM (crop to
    7x7) -> DIM -> 1, ReLU between, sigmoid out; batch norm after each of the first three
    layers when ``batch_norm``."""

    def __init__(self, dim: int = 64, latent_dim: int = 128, batch_norm: bool = False):
        super().__init__()

        def bn(channels: int, image: bool = True) -> nn.Module:
            if not batch_norm:
                return _identity()
            return (nn.BatchNorm2d if image else nn.BatchNorm1d)(channels)

        self.net = nn.Sequential(
            nn.Linear(latent_dim, 4 * 4 * 4 * dim), bn(4 * 4 * 4 * dim, image=False), nn.ReLU(),
            nn.Unflatten(1, (4 * dim, 4, 4)),
            nn.ConvTranspose2d(4 * dim, 2 * dim, 5, stride=2, padding="same"), bn(2 * dim), nn.ReLU(),
            Crop(7),
            nn.ConvTranspose2d(2 * dim, dim, 5, stride=2, padding="same"), bn(dim), nn.ReLU(),
            nn.ConvTranspose2d(dim, 1, 5, stride=2, padding="same"), nn.Sigmoid(),
        )

    def forward(self, z: minigrad.Tensor) -> minigrad.Tensor:
        return self.net(z)


class WGANGPCritic(nn.Module):
    """gan_mnist.py's Discriminator: 5x5 stride-2 convs 1 -> DIM -> 2DIM -> 4DIM with
    LeakyReLU 0.2, Linear 4*4*4*DIM -> 1; batch norm after convs 2 and 3 when ``batch_norm``."""

    def __init__(self, dim: int = 64, batch_norm: bool = False):
        super().__init__()

        def bn(channels: int) -> nn.Module:
            return nn.BatchNorm2d(channels) if batch_norm else _identity()

        self.net = nn.Sequential(
            nn.Conv2d(1, dim, 5, stride=2, padding="same"), nn.LeakyReLU(0.2),
            nn.Conv2d(dim, 2 * dim, 5, stride=2, padding="same"), bn(2 * dim), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * dim, 4 * dim, 5, stride=2, padding="same"), bn(4 * dim), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(4 * 4 * 4 * dim, 1), Squeeze(),
        )

    def forward(self, x: minigrad.Tensor) -> minigrad.Tensor:
        return self.net(x)


def _init_tflib(module: nn.Module, rng: minigrad.Generator, linear: str = "glorot") -> None:
    """tflib's initialisation (see the module docstring); biases 0."""
    for layer in _weighted_layers(module):
        if isinstance(layer, nn.Linear):
            fan_in, fan_out = layer.in_features, layer.out_features
            std = math.sqrt(2.0 / fan_in) if linear == "he" else math.sqrt(2.0 / (fan_in + fan_out))
        else:
            k = layer.kernel_size[0] * layer.kernel_size[1]
            stride2 = layer.stride[0] * layer.stride[1]
            if isinstance(layer, nn.ConvTranspose2d):
                fan_in, fan_out = layer.in_channels * k / stride2, layer.out_channels * k
            else:
                fan_in, fan_out = layer.in_channels * k, layer.out_channels * k / stride2
            std = math.sqrt(4.0 / (fan_in + fan_out))
        _tflib_uniform(layer.weight, std, rng)
        if layer.bias is not None:
            init.zeros_(layer.bias)


def build_wgangp_mnist(loss: str, init_rng: minigrad.Generator, noise_rng: minigrad.Generator):
    batch_norm = loss == "wgan"
    generator, critic = WGANGPGenerator(batch_norm=batch_norm), WGANGPCritic(batch_norm=batch_norm)
    _init_tflib(generator, init_rng)
    _init_tflib(critic, init_rng)
    return generator, critic


# ----------------------------------------------------------------------------- keras-critic (seed 003)

class KerasCritic(nn.Module):
    """3x3 stride-2 convs 32, 64, 128 with LeakyReLU 0.01; BatchNorm (``norm='batch'``) or
    per-pixel LayerNorm (``norm='layer'``) after the last two; Dense 1."""

    def __init__(self, norm: str):
        super().__init__()

        def normalise(channels: int) -> nn.Module:
            return _keras_bn(channels, image=True) if norm == "batch" else ChannelLayerNorm(channels)

        self.net = nn.Sequential(
            nn.Conv2d(1, 32, 3, stride=2, padding="same"), nn.LeakyReLU(0.01),
            nn.Conv2d(32, 64, 3, stride=2, padding="same"), normalise(64), nn.LeakyReLU(0.01),
            nn.Conv2d(64, 128, 3, stride=2, padding="same"), normalise(128), nn.LeakyReLU(0.01),
            nn.Flatten(), nn.Linear(128 * 4 * 4, 1), Squeeze(),
        )

    def forward(self, x: minigrad.Tensor) -> minigrad.Tensor:
        return self.net(x)


def build_keras_critic(loss: str, init_rng: minigrad.Generator, noise_rng: minigrad.Generator):
    generator = DCGANGenerator(latent_dim=128)
    critic = KerasCritic("layer" if loss == "wgan-gp" else "batch")
    _init_keras(generator, init_rng)
    _init_keras(critic, init_rng)
    return generator, critic


# ----------------------------------------------------------------------------- acgan (seed 004)

class ACGenerator(nn.Module):
    """h = embedding(label) * z; Dense 1024, Dense 128*7*7, two (upsample, 5x5 conv) blocks,
    a 2x2 conv with tanh."""

    def __init__(self, latent_dim: int = 100):
        super().__init__()
        self.embedding = nn.Embedding(NUM_CLASSES, latent_dim)
        self.net = nn.Sequential(
            nn.Linear(latent_dim, 1024), nn.LeakyReLU(0.3),
            nn.Linear(1024, 128 * 7 * 7), nn.LeakyReLU(0.3), nn.Unflatten(1, (128, 7, 7)),
            nn.Upsample(scale_factor=2), nn.Conv2d(128, 256, 5, padding="same"), nn.LeakyReLU(0.3),
            nn.Upsample(scale_factor=2), nn.Conv2d(256, 128, 5, padding="same"), nn.LeakyReLU(0.3),
            nn.Conv2d(128, 1, 2, padding="same"), nn.Tanh(),
        )

    def forward(self, z: minigrad.Tensor, labels: minigrad.Tensor) -> minigrad.Tensor:
        return self.net(z * self.embedding(labels))


class ACCritic(nn.Module):
    """3x3 convs 32/64/128/256 with LeakyReLU and Dropout 0.3, max-pooling after the first and
    third; a Wasserstein score head (N,) and class logits (N, 10)."""

    def __init__(self, noise_rng: minigrad.Generator):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding="same"), nn.LeakyReLU(0.3), nn.MaxPool2d(2),
            Dropout(0.3, noise_rng),
            nn.Conv2d(32, 64, 3, padding="same"), nn.LeakyReLU(0.3), Dropout(0.3, noise_rng),
            nn.Conv2d(64, 128, 3, padding="same"), nn.MaxPool2d(2), nn.LeakyReLU(0.3),
            Dropout(0.3, noise_rng),
            nn.Conv2d(128, 256, 3, padding="same"), nn.LeakyReLU(0.3), Dropout(0.3, noise_rng),
            nn.Flatten(),
        )
        self.score = nn.Linear(256 * 7 * 7, 1)
        self.classes = nn.Linear(256 * 7 * 7, NUM_CLASSES)

    def forward(self, x: minigrad.Tensor) -> tuple[minigrad.Tensor, minigrad.Tensor]:
        h = self.features(x)
        return self.score(h).reshape(-1), self.classes(h)


def build_acgan(loss: str, init_rng: minigrad.Generator, noise_rng: minigrad.Generator):
    generator, critic = ACGenerator(), ACCritic(noise_rng)
    _init_keras(generator, init_rng, conv_std=0.02)
    init.xavier_uniform_(generator.embedding.weight, generator=init_rng)
    _init_keras(critic, init_rng, conv_std=0.02)
    return generator, critic


# ----------------------------------------------------------------------------- toy-mlp

class ToyMLP(nn.Module):
    """3 hidden ReLU layers of ``dim`` and a linear output; (N, in) -> (N, out), or (N,) scores."""

    def __init__(self, in_dim: int, out_dim: int, dim: int = 512):
        super().__init__()
        layers = [nn.Linear(in_dim, dim), nn.ReLU(), nn.Linear(dim, dim), nn.ReLU(),
                  nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, out_dim)]
        if out_dim == 1:
            layers.append(Squeeze())
        self.net = nn.Sequential(*layers)

    def forward(self, x: minigrad.Tensor) -> minigrad.Tensor:
        return self.net(x)


def _init_toy(module: ToyMLP, rng: minigrad.Generator) -> None:
    """tflib 'he' for the ReLU layers, 'glorot' for the output layer; biases 0."""
    layers = _weighted_layers(module)
    for layer in layers:
        fan_in, fan_out = layer.in_features, layer.out_features
        he = layer is not layers[-1]
        std = math.sqrt(2.0 / fan_in) if he else math.sqrt(2.0 / (fan_in + fan_out))
        _tflib_uniform(layer.weight, std, rng)
        init.zeros_(layer.bias)


def build_toy_mlp(loss: str, init_rng: minigrad.Generator, noise_rng: minigrad.Generator):
    generator, critic = ToyMLP(2, 2), ToyMLP(2, 1)
    _init_toy(generator, init_rng)
    _init_toy(critic, init_rng)
    return generator, critic


# ----------------------------------------------------------------------------- registry

@dataclass(frozen=True, kw_only=True)
class ModelSpec:
    """What the trainer needs to know about a generator / critic pair.

    ``build(loss, init_rng, noise_rng)`` returns ``(generator, critic)`` initialised from
    ``init_rng``; stochastic layers (dropout) draw from ``noise_rng``.
    """

    name: str
    summary: str
    data_kind: str                      # 'image' (MNIST-like) or 'toy' (2-D points)
    latent_dim: int
    latent: str                         # 'normal' N(0, 1) or 'uniform' U(-1, 1)
    output_range: tuple[float, float] | None  # pixel range of the generated images; None for 2-D
    conditional: bool                   # generator takes labels, critic returns class logits
    batch_size: int                     # the source's batch size: the --batch-size default
    build: Callable[[str, minigrad.Generator, minigrad.Generator], tuple[nn.Module, nn.Module]]

    def sample_latent(self, n: int, rng: minigrad.Generator) -> minigrad.Tensor:
        """(n, latent_dim) float32 latent codes drawn from ``rng``."""
        if self.latent == "uniform":
            return minigrad.rand(n, self.latent_dim, generator=rng) * 2.0 - 1.0
        return minigrad.randn(n, self.latent_dim, generator=rng)


MODELS: dict[str, ModelSpec] = {
    spec.name: spec for spec in (
        ModelSpec(name="mlp",
                  summary="MLP WGAN of seed post 000: critic 784-128-1, generator 10-128-784 sigmoid",
                  data_kind="image", latent_dim=10, latent="uniform", output_range=(0.0, 1.0),
                  conditional=False, batch_size=32, build=build_mlp),
        ModelSpec(name="dcgan", summary="TensorFlow DCGAN tutorial (seed post 001), tanh output",
                  data_kind="image", latent_dim=100, latent="normal", output_range=(-1.0, 1.0),
                  conditional=False, batch_size=256, build=build_dcgan),
        ModelSpec(name="wgangp-mnist",
                  summary="the WGAN-GP paper's MNIST model (gan_mnist.py, DIM 64)",
                  data_kind="image", latent_dim=128, latent="normal", output_range=(0.0, 1.0),
                  conditional=False, batch_size=50, build=build_wgangp_mnist),
        ModelSpec(name="keras-critic",
                  summary="Keras WGAN / WGAN-GP critic of seed post 003 + dcgan generator",
                  data_kind="image", latent_dim=128, latent="normal", output_range=(-1.0, 1.0),
                  conditional=False, batch_size=64, build=build_keras_critic),
        ModelSpec(name="acgan",
                  summary="Keras AC-WGAN of seed post 004: class-conditional, two-headed critic",
                  data_kind="image", latent_dim=100, latent="normal", output_range=(-1.0, 1.0),
                  conditional=True, batch_size=100, build=build_acgan),
        ModelSpec(name="toy-mlp",
                  summary="the WGAN-GP paper's 2-D toy MLPs (gan_toy.py, 3 x 512 ReLU)",
                  data_kind="toy", latent_dim=2, latent="normal", output_range=None,
                  conditional=False, batch_size=256, build=build_toy_mlp),
    )
}


def generate(generator: nn.Module, z: minigrad.Tensor, labels: minigrad.Tensor | None = None
             ) -> minigrad.Tensor:
    """Samples G(z[, labels]) without a graph, normalised with batch statistics.

    BatchNorm generators sample in training mode, as PyTorch's DCGAN example does: their
    running averages (Keras' momentum 0.99 in the DCGAN post) lag behind a generator that
    changes every step, and early in training eval-mode samples come out blank (measured:
    a DCGAN at step 400 gave all-black eval-mode grids and digit-like train-mode ones). The
    running statistics are restored afterwards, so sampling never changes the model.
    """
    saved = [(b, b.data.copy()) for b in generator.buffers()]
    was_training = generator.training
    generator.train()
    try:
        with minigrad.no_grad():
            return generator(z) if labels is None else generator(z, labels)
    finally:
        for buffer, data in saved:
            buffer.data[...] = data
        generator.train(was_training)
