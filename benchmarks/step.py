"""``python -m benchmarks.step``: minigrad vs PyTorch on the WGAN-GP paper's MNIST training
iterations (``benchmarks.model``): the WGAN-GP critic iteration, the generator iteration, the
weight-clipping critic iteration, and a cycle of 5 critic + 1 generator iterations; and on
seed post 000's MLP WGAN (``mlp-critic``, ``mlp-generator``), whose cost is mostly per-op
Python.

``python -m benchmarks.step --help`` lists the options; the method is in ``benchmarks.harness``.
"""
from kernels.threads import pin_threads_from_argv

# OpenBLAS, Numba and OpenMP read their thread counts when loaded: as a program, pin them
# before any import that could load NumPy (imported as a module, e.g. by a test, leave the
# environment alone; main(argv) then reports that the pin came too late for NumPy).
THREADS = pin_threads_from_argv() if __name__ == "__main__" else None

import sys  # noqa: E402
from functools import lru_cache  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks import harness, model  # noqa: E402

PERTURBATION = 1e-3


@lru_cache(maxsize=4)
def _weights(dim: int, latent: int, seed: int) -> dict:
    return model.initial_weights(dim, latent, seed)


@lru_cache(maxsize=4)
def _mlp_weights(seed: int) -> dict:
    return model.initial_mlp_weights(seed)


class TrainingRunner:
    """One workload on one framework; ``snapshot`` gives losses, the gradients of the nets
    it trains and (float64 only) their parameters after the optimiser step.

    Parameters after an Adam step are not compared in float32: an exactly-zero gradient
    (the critic's last bias) comes out as rounding noise, which Adam's first step turns
    into +-lr, a difference that says nothing about the implementation.
    """

    def __init__(self, fw, workload: str, config: harness.Config, dtype: str, batch: int,
                 perturb: bool):
        if model.is_mlp(workload):
            weights, latent = _mlp_weights(config.seed), model.MLP_LATENT
        else:
            weights, latent = _weights(config.dim, config.latent, config.seed), config.latent
        if perturb:
            weights = {net: dict(w) for net, w in weights.items()}
            first = next(iter(weights["critic"]))  # the first layer's weight
            weights["critic"][first] = weights["critic"][first] * (1 + PERTURBATION)
        inputs = model.make_inputs(batch, model.batches_needed(workload), latent,
                                   config.seed + 1, dtype)
        self.fw, self.dtype = fw, dtype
        self.training = model.setup_training(fw, workload, weights, inputs, config.dim,
                                             config.latent, dtype)
        self.losses: dict = {}

    def run(self) -> None:
        self.losses = self.training.run()

    def snapshot(self) -> dict[str, np.ndarray]:
        fw = self.fw
        out = {f"loss/{k}": fw.to_numpy(v) for k, v in self.losses.items()}
        for net, module in self.training.trained().items():
            for name, p in module.named_parameters():
                out[f"grad/{net}/{name}"] = fw.to_numpy(p.grad)
                if self.dtype == "float64":
                    out[f"param/{net}/{name}"] = fw.to_numpy(p)
        return out


def cases(config: harness.Config) -> list[harness.Case]:
    out = []
    for batch in config.batch_sizes:
        for workload in model.WORKLOADS + model.MLP_WORKLOADS:
            def build(fw, dtype, b, perturb, workload=workload):
                return TrainingRunner(fw, workload, config, dtype, b, perturb)

            title = {**model.WORKLOAD_TITLES, **model.MLP_WORKLOAD_TITLES}[workload]
            out.append(harness.Case(workload, title, batch, build))
    return out


SUITE = harness.Suite(
    name="step",
    module="benchmarks.step",
    title="WGAN-GP MNIST training iterations",
    cases=cases,
    default_batch_sizes=(50, 64),
    default_repeats=10,
    default_warmup=2,
    min_sample_seconds=0.05,
    f64_batch=8,
    notes=(
        "Model: gan_mnist.py of gulrajani/improved_wgan_training (DIM 64, latent 128), built "
        "in benchmarks/model.py once for both frameworks; Adam(1e-4, (0.5, 0.9)), lambda 10; "
        "clip: RMSprop(5e-5), c = 0.01. Inputs precomputed (random images as 'real').",
        "critic-gp: G(z) without grad, D(real), D(fake), penalty ((||grad D(x_hat)|| - 1)^2 with "
        "create_graph), backward, Adam step. generator: D frozen (requires_grad_(False)), "
        "-D(G(z)).mean(), backward, Adam step. cycle: 5 critic-gp + 1 generator.",
        "mlp-critic / mlp-generator: seed post 000's MLP WGAN (critic 784-128-1, generator "
        "10-128-784 sigmoid; wgan.models.build_mlp), RMSprop(5e-5) for both; the critic step is "
        "critic-clip's (G(z) without grad, D(fake).mean() - D(real).mean(), clip to 0.01), the "
        "generator step generator's (D frozen, -D(G(z)).mean()). --dim and --latent do not apply.",
        "PyTorch has no strided SAME: its convs F.pad (1 top/left, 2 bottom/right) and its "
        "transposed convs use padding=1 and keep the first 2n pixels (benchmarks/frameworks.py).",
        "Float64 agreement at batch min(f64_batch, batch); parameters after the step compared "
        "in float64 only.",
    ),
)


def main(argv: list[str] | None = None) -> int:
    return harness.main(SUITE, argv, THREADS)


if __name__ == "__main__":
    sys.exit(main())
