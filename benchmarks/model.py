"""The WGAN-GP paper's MNIST model, seed post 000's MLP WGAN, and their training iterations,
written once for both frameworks.

The model is ``gan_mnist.py`` of gulrajani/improved_wgan_training (MODE 'wgan-gp': no batch
norm), images kept as (N, 1, 28, 28) instead of flat 784-vectors (the same computation):

    generator  z (N, 128) -> Linear(128, 4*4*4*DIM) -> ReLU -> (N, 4*DIM, 4, 4)
               -> ConvT 5x5/2 SAME 4*DIM -> 2*DIM (8x8) -> ReLU -> crop 7x7
               -> ConvT 2*DIM -> DIM (14x14) -> ReLU -> ConvT DIM -> 1 (28x28) -> sigmoid
    critic     x (N, 1, 28, 28) -> Conv 5x5/2 SAME 1 -> DIM (14) -> LeakyReLU(0.2)
               -> DIM -> 2*DIM (7) -> LReLU -> 2*DIM -> 4*DIM (4) -> LReLU
               -> flatten -> Linear(4*4*4*DIM, 1)

and its optimisers: Adam(lr 1e-4, betas (0.5, 0.9)) for both nets, lambda = 10, 5 critic
iterations per generator iteration; for the weight-clipping critic RMSprop(lr 5e-5), c = 0.01
(the WGAN paper). Every iteration takes its inputs (z, real, alpha) precomputed, so both
frameworks see the same numbers and random-number generation is not timed.

The MLP WGAN is ``build_mlp`` of ``wgan/models.py`` (wiseodd/generative-models
wgan_tensorflow.py, seed post 000), rebuilt here from each framework's layers:

    generator  z (N, 10) -> Linear(10, 128) -> ReLU -> Linear(128, 784) -> sigmoid
               -> (N, 1, 28, 28)
    critic     x (N, 1, 28, 28) -> flatten -> Linear(784, 128) -> ReLU -> Linear(128, 1)
               -> (N,)

with RMSprop(lr 5e-5) for both nets and weights clipped to [-0.01, 0.01] after each critic
step. Its layers are small, so its cost is mostly the per-op Python of the framework.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

DIM = 64
LATENT = 128
GP_LAMBDA = 10.0
CRITIC_ITERS = 5
ADAM = {"lr": 1e-4, "betas": (0.5, 0.9)}
RMSPROP = {"lr": 5e-5}
CLIP_VALUE = 0.01
IMAGE = (1, 28, 28)
MLP_LATENT = 10
MLP_HIDDEN = 128

WORKLOADS = ("critic-gp", "generator", "critic-clip", "cycle")
WORKLOAD_TITLES = {
    "critic-gp": "WGAN-GP critic iteration",
    "generator": "generator iteration",
    "critic-clip": "weight-clipping critic iteration",
    "cycle": f"cycle: {CRITIC_ITERS} critic-gp + 1 generator",
}
MLP_WORKLOADS = ("mlp-critic", "mlp-generator")
MLP_WORKLOAD_TITLES = {
    "mlp-critic": "MLP WGAN critic iteration (seed 000)",
    "mlp-generator": "MLP WGAN generator iteration (seed 000)",
}


def build_generator(fw, dim: int = DIM, latent: int = LATENT):
    """(N, latent) -> (N, 1, 28, 28) in [0, 1]. State-dict keys are '0.weight', ... in both."""
    nn = fw.nn
    return nn.Sequential(
        nn.Linear(latent, 4 * 4 * 4 * dim), nn.ReLU(), nn.Unflatten(1, (4 * dim, 4, 4)),
        fw.same_conv_transpose2d(4 * dim, 2 * dim, 5, 2), nn.ReLU(), fw.crop(7),
        fw.same_conv_transpose2d(2 * dim, dim, 5, 2), nn.ReLU(),
        fw.same_conv_transpose2d(dim, 1, 5, 2), nn.Sigmoid(),
    )


def build_critic(fw, dim: int = DIM):
    """(N, 1, 28, 28) -> scores (N, 1)."""
    nn = fw.nn
    return nn.Sequential(
        fw.same_conv2d(1, dim, 5, 2), nn.LeakyReLU(0.2),
        fw.same_conv2d(dim, 2 * dim, 5, 2), nn.LeakyReLU(0.2),
        fw.same_conv2d(2 * dim, 4 * dim, 5, 2), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(4 * 4 * 4 * dim, 1),
    )


def build_mlp_generator(fw, latent: int = MLP_LATENT, hidden: int = MLP_HIDDEN):
    """(N, latent) -> (N, 1, 28, 28) in [0, 1], as wgan.models.MLPGenerator."""
    nn = fw.nn
    return nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, 784),
                         nn.Sigmoid(), nn.Unflatten(1, IMAGE))


def build_mlp_critic(fw, hidden: int = MLP_HIDDEN):
    """(N, 1, 28, 28) -> scores (N,), as wgan.models.MLPCritic (its Squeeze is Flatten(0))."""
    nn = fw.nn
    return nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, 1),
                         nn.Flatten(0))


def is_mlp(workload: str) -> bool:
    return workload in MLP_WORKLOADS


def initial_mlp_weights(seed: int) -> dict[str, dict[str, np.ndarray]]:
    """Float64 starting weights of the MLP WGAN (minigrad's PyTorch-style default init)."""
    from .frameworks import MinigradFramework

    fw = MinigradFramework("numpy")
    fw.manual_seed(seed)
    return {"generator": fw.weights(fw.place(build_mlp_generator(fw), "float64")),
            "critic": fw.weights(fw.place(build_mlp_critic(fw), "float64"))}


def initial_weights(dim: int, latent: int, seed: int) -> dict[str, dict[str, np.ndarray]]:
    """Float64 starting weights of both nets (minigrad's PyTorch-style default init)."""
    from .frameworks import MinigradFramework

    fw = MinigradFramework("numpy")
    fw.manual_seed(seed)
    return {"generator": fw.weights(fw.place(build_generator(fw, dim, latent), "float64")),
            "critic": fw.weights(fw.place(build_critic(fw, dim), "float64"))}


def make_inputs(batch: int, count: int, latent: int, seed: int, dtype: str) -> list[dict]:
    """``count`` batches of numpy inputs: z ~ N(0, 1), real ~ U[0, 1) images, alpha ~ U[0, 1).

    The 'real' images are random: the cost does not depend on the pixels, and the harness
    needs no data set.
    """
    rng = np.random.default_rng(seed)
    return [{"z": rng.standard_normal((batch, latent)).astype(dtype),
             "real": rng.random((batch, *IMAGE)).astype(dtype),
             "alpha": rng.random((batch, 1, 1, 1)).astype(dtype)} for _ in range(count)]


# ----- the iterations (framework-agnostic: fw is a benchmarks.frameworks adapter) --------------
def critic_gp_iteration(fw, G, D, opt, batch) -> dict[str, Any]:
    """One WGAN-GP critic update: D(fake) - D(real) + lambda (||grad D(x_hat)|| - 1)^2."""
    with fw.no_grad():
        fake = G(batch["z"])
    opt.zero_grad()
    d_real = D(batch["real"]).mean()
    d_fake = D(fake).mean()
    alpha = batch["alpha"]
    x_hat = (alpha * batch["real"] + (1 - alpha) * fake).requires_grad_(True)
    (g,) = fw.grad(D(x_hat).sum(), x_hat, create_graph=True)
    slopes = (g * g).sum((1, 2, 3)).sqrt()
    penalty = ((slopes - 1.0) ** 2).mean()
    loss = d_fake - d_real + GP_LAMBDA * penalty
    loss.backward()
    opt.step()
    return {"d_real": d_real, "d_fake": d_fake, "penalty": penalty, "critic_loss": loss}


def generator_iteration(fw, G, D, opt, batch) -> dict[str, Any]:
    """One generator update: -D(G(z)); the critic's weights get no gradient (frozen)."""
    D.requires_grad_(False)
    opt.zero_grad()
    loss = -D(G(batch["z"])).mean()
    loss.backward()
    opt.step()
    D.requires_grad_(True)
    return {"generator_loss": loss}


def critic_clip_iteration(fw, G, D, opt, batch) -> dict[str, Any]:
    """One WGAN critic update with RMSprop and weight clipping to [-c, c]."""
    with fw.no_grad():
        fake = G(batch["z"])
    opt.zero_grad()
    loss = D(fake).mean() - D(batch["real"]).mean()
    loss.backward()
    opt.step()
    fw.clip_weights_(D.parameters(), CLIP_VALUE)
    return {"clip_critic_loss": loss}


@dataclass
class Training:
    """One framework's models, optimisers and input batches for one workload."""

    fw: Any
    workload: str
    G: Any
    D: Any
    opt: Any
    opt_g: Any
    batches: list
    step: int = 0
    losses: dict = field(default_factory=dict)

    def next_batch(self):
        batch = self.batches[self.step % len(self.batches)]
        self.step += 1
        return batch

    def run(self) -> dict[str, Any]:
        """One iteration of the workload (for 'cycle': 5 critic-gp + 1 generator)."""
        fw, G, D = self.fw, self.G, self.D
        if self.workload == "critic-gp":
            return critic_gp_iteration(fw, G, D, self.opt, self.next_batch())
        if self.workload in ("generator", "mlp-generator"):
            return generator_iteration(fw, G, D, self.opt_g, self.next_batch())
        if self.workload in ("critic-clip", "mlp-critic"):
            return critic_clip_iteration(fw, G, D, self.opt, self.next_batch())
        losses = {}
        for _ in range(CRITIC_ITERS):
            losses = critic_gp_iteration(fw, G, D, self.opt, self.next_batch())
        losses.update(generator_iteration(fw, G, D, self.opt_g, self.next_batch()))
        return losses

    def trained(self):
        """The nets whose gradients the workload computes (compared by the agreement gate)."""
        if self.workload in ("generator", "mlp-generator"):
            return {"generator": self.G}
        if self.workload == "cycle":
            return {"critic": self.D, "generator": self.G}
        return {"critic": self.D}


def setup_training(fw, workload: str, weights: dict, inputs: list[dict], dim: int, latent: int,
                   dtype: str) -> Training:
    """Models with ``weights``, fresh optimisers and the input batches, on ``fw``'s device.
    The MLP workloads ignore ``dim`` and ``latent`` (their nets have fixed sizes)."""
    if workload not in WORKLOADS + MLP_WORKLOADS:
        raise ValueError(f"unknown workload {workload!r}; expected one of "
                         f"{WORKLOADS + MLP_WORKLOADS}")
    if is_mlp(workload):
        G, D = fw.place(build_mlp_generator(fw), dtype), fw.place(build_mlp_critic(fw), dtype)
    else:
        G = fw.place(build_generator(fw, dim, latent), dtype)
        D = fw.place(build_critic(fw, dim), dtype)
    fw.load_weights(G, weights["generator"])
    fw.load_weights(D, weights["critic"])
    if workload == "critic-clip" or is_mlp(workload):
        opt = fw.optim.RMSprop(D.parameters(), **RMSPROP)
    else:
        opt = fw.optim.Adam(D.parameters(), **ADAM)
    if is_mlp(workload):  # the seed trains both nets with RMSprop
        opt_g = fw.optim.RMSprop(G.parameters(), **RMSPROP)
    else:
        opt_g = fw.optim.Adam(G.parameters(), **ADAM)
    batches = [{k: fw.tensor(v) for k, v in b.items()} for b in inputs]
    return Training(fw, workload, G, D, opt, opt_g, batches)


def batches_needed(workload: str) -> int:
    """Distinct input batches one iteration of ``workload`` consumes."""
    return CRITIC_ITERS + 1 if workload == "cycle" else 1
