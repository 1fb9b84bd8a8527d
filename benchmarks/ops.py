"""``python -m benchmarks.ops``: minigrad vs PyTorch on single ops at the WGAN-GP MNIST model's
shapes (batch 64 by default): its SAME convolutions and transposed convolutions, linear
layers and leaky ReLU, batch_norm and layer_norm on a critic activation, each as forward,
backward and double backward; and the optimiser updates over the model's parameters.

Stages, each timed on its own:

* ``fwd``   y = f(inputs), recording the graph (inputs require grad, as in training).
* ``bwd``   grad(y, inputs, gy) on a graph built once (retain_graph=True).
* ``2bwd``  the penalty's pattern: with gy a leaf that requires grad, g = grad(y, inputs, gy,
  create_graph=True) is built once; timed is grad(sum_i <g_i, v_i>, inputs + [gy]), which
  differentiates every backward formula of the op in all its arguments.

Optimiser rows time ``opt.step()`` (and ``clip_weights_``) with fixed gradients.
"""
from kernels.threads import pin_threads_from_argv

# before NumPy is imported when run as a program; see benchmarks/step.py and threads.py
THREADS = pin_threads_from_argv() if __name__ == "__main__" else None

import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks import harness, model  # noqa: E402

STAGES = ("fwd", "bwd", "2bwd")
PERTURBATION = 1e-3


@dataclass(frozen=True)
class OpSpec:
    """An op on the model's shapes: ``arrays(batch, rng)`` gives the input 'x' and the
    parameters; ``make(fw, tensors, dtype)`` returns ``(module_or_None, f)``, ``f()`` the op."""

    name: str
    group: str
    arrays: Callable[[int, np.random.Generator], dict[str, np.ndarray]]
    make: Callable


def _uniform(rng, shape, fan_in):
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, shape)


def _layer(kind: str, cin: int, cout: int, hw: int) -> OpSpec:
    """A SAME 5x5 stride-2 conv / transposed conv layer, or a linear layer (hw = 0)."""
    def arrays(batch, rng):
        if kind == "linear":
            return {"x": rng.standard_normal((batch, cin)),
                    "weight": _uniform(rng, (cout, cin), cin), "bias": _uniform(rng, (cout,), cin)}
        wshape = (cout, cin, 5, 5) if kind == "conv2d" else (cin, cout, 5, 5)
        fan_in = wshape[1] * 25
        return {"x": rng.standard_normal((batch, cin, hw, hw)),
                "weight": _uniform(rng, wshape, fan_in), "bias": _uniform(rng, (cout,), fan_in)}

    def make(fw, t, dtype):
        if kind == "linear":
            layer = fw.nn.Linear(cin, cout)
        elif kind == "conv2d":
            layer = fw.same_conv2d(cin, cout, 5, 2)
        else:
            layer = fw.same_conv_transpose2d(cin, cout, 5, 2)
        layer = fw.place(layer, dtype)
        fw.load_weights(layer, {"weight": fw.to_numpy(t["weight"]), "bias": fw.to_numpy(t["bias"])})
        return layer, lambda: layer(t["x"])

    if kind == "linear":
        name = f"linear {cin}->{cout}"
    else:
        out_hw = hw * 2 if kind == "conv_transpose2d" else -(-hw // 2)
        name = f"{kind} {cin}->{cout} {hw}->{out_hw}"
    return OpSpec(name, kind, arrays, make)


def _functional(name: str, group: str, shape_of: Callable[[int], tuple], params: bool,
                call: Callable) -> OpSpec:
    def arrays(batch, rng):
        shape = shape_of(batch)
        out = {"x": rng.standard_normal(shape)}
        if params:
            pshape = (shape[1],) if group == "batch_norm" else shape[1:]
            out["weight"] = 1 + 0.1 * rng.standard_normal(pshape)
            out["bias"] = 0.1 * rng.standard_normal(pshape)
        return out

    def make(fw, t, dtype):
        return None, lambda: call(fw, t)

    return OpSpec(name, group, arrays, make)


def op_specs(dim: int) -> list[OpSpec]:
    d = dim
    act = lambda n: (n, 2 * d, 7, 7)  # noqa: E731 - the critic's second activation
    return [
        _layer("conv2d", 1, d, 28), _layer("conv2d", d, 2 * d, 14),
        _layer("conv2d", 2 * d, 4 * d, 7),
        _layer("conv_transpose2d", 4 * d, 2 * d, 4), _layer("conv_transpose2d", 2 * d, d, 7),
        _layer("conv_transpose2d", d, 1, 14),
        _layer("linear", 4 * 4 * 4 * d, 1, 0), _layer("linear", 128, 4 * 4 * 4 * d, 0),
        _functional(f"leaky_relu {d}x14x14", "leaky_relu", lambda n: (n, d, 14, 14), False,
                    lambda fw, t: fw.F.leaky_relu(t["x"], 0.2)),
        _functional(f"batch_norm {2 * d}x7x7", "batch_norm", act, True,
                    lambda fw, t: fw.F.batch_norm(t["x"], None, None, t["weight"], t["bias"],
                                                  training=True)),
        _functional(f"layer_norm {2 * d}x7x7", "layer_norm", act, True,
                    lambda fw, t: fw.F.layer_norm(t["x"], tuple(t["x"].shape[1:]), t["weight"],
                                                  t["bias"])),
    ]


class OpRunner:
    """One op and stage on one framework; snapshot = the stage's result as numpy arrays."""

    def __init__(self, fw, spec: OpSpec, stage: str, dtype: str, batch: int, seed: int,
                 perturb: bool):
        rng = np.random.default_rng(seed)
        arrays = {k: v.astype(dtype) for k, v in spec.arrays(batch, rng).items()}
        if perturb:
            arrays["x"] = arrays["x"] * (1 + PERTURBATION)
        self.fw, self.stage = fw, stage
        t = {k: fw.tensor(v, requires_grad=True) for k, v in arrays.items()}
        module, self.f = spec.make(fw, t, dtype)
        params = list(module.parameters()) if module is not None else []
        self.inputs = [t["x"]] + (params or [t[k] for k in ("weight", "bias") if k in t])
        self.names = ["x"] + ([n for n, _ in module.named_parameters()] if module is not None
                              else [k for k in ("weight", "bias") if k in t])
        self.result: list = []
        if stage == "fwd":
            return
        y = self.f()
        self.gy = fw.tensor(rng.standard_normal(tuple(y.shape)).astype(dtype),
                            requires_grad=stage == "2bwd")
        if stage == "bwd":
            self.y = y
            return
        gs = fw.grad(y, self.inputs, self.gy, create_graph=True, allow_unused=True)
        vs = [rng.standard_normal(tuple(p.shape)).astype(dtype) for p in self.inputs]
        terms = [(g * fw.tensor(v)).sum() for g, v in zip(gs, vs)
                 if g is not None and g.requires_grad]
        self.s = terms[0]
        for term in terms[1:]:
            self.s = self.s + term

    def run(self) -> None:
        fw = self.fw
        if self.stage == "fwd":
            self.result = [self.f()]
        elif self.stage == "bwd":
            self.result = list(fw.grad(self.y, self.inputs, self.gy, retain_graph=True))
        else:
            self.result = list(fw.grad(self.s, self.inputs + [self.gy], retain_graph=True,
                                       allow_unused=True))

    def snapshot(self) -> dict[str, np.ndarray]:
        fw = self.fw
        if self.stage == "fwd":
            return {"out/y/y": fw.to_numpy(self.result[0])}
        names = self.names + (["grad_output"] if self.stage == "2bwd" else [])
        sources = self.inputs + ([self.gy] if self.stage == "2bwd" else [])
        return {f"{self.stage}/{n}/{n}": (np.zeros(tuple(src.shape)) if g is None
                                          else fw.to_numpy(g))
                for n, g, src in zip(names, self.result, sources)}


class OptimizerRunner:
    """``step()`` of an optimiser (or clip_weights_) over one net's parameters."""

    def __init__(self, fw, net: str, rule: str, config: harness.Config, dtype: str,
                 perturb: bool):
        weights = model.initial_weights(config.dim, config.latent, config.seed)[net]
        rng = np.random.default_rng(config.seed + 2)
        self.fw, self.rule = fw, rule
        self.params = []
        for i, (name, w) in enumerate(weights.items()):
            w = w * (1 + PERTURBATION) if perturb and i == 0 else w
            p = fw.tensor(w.astype(dtype), requires_grad=True)
            p.grad = fw.tensor(rng.standard_normal(w.shape).astype(dtype))
            self.params.append((name, p))
        tensors = [p for _, p in self.params]
        if rule == "adam":
            self.opt = fw.optim.Adam(tensors, **model.ADAM)
        elif rule == "rmsprop":
            self.opt = fw.optim.RMSprop(tensors, **model.RMSPROP)

    def run(self) -> None:
        if self.rule == "clip":
            self.fw.clip_weights_([p for _, p in self.params], model.CLIP_VALUE)
        else:
            self.opt.step()

    def snapshot(self) -> dict[str, np.ndarray]:
        return {f"param/{self.rule}/{name}": self.fw.to_numpy(p) for name, p in self.params}


OPTIMIZER_ROWS = (("adam", "critic"), ("adam", "generator"), ("rmsprop", "critic"),
                  ("clip", "critic"))


def cases(config: harness.Config) -> list[harness.Case]:
    out = []
    for batch in config.batch_sizes:
        for spec in op_specs(config.dim):
            for stage in STAGES:
                def build(fw, dtype, b, perturb, spec=spec, stage=stage):
                    return OpRunner(fw, spec, stage, dtype, b, config.seed, perturb)

                out.append(harness.Case(f"{spec.name} / {stage}", spec.group, batch, build))
    for rule, net in OPTIMIZER_ROWS:
        def build(fw, dtype, b, perturb, rule=rule, net=net):
            return OptimizerRunner(fw, net, rule, config, dtype, perturb)

        label = "clip_weights_" if rule == "clip" else f"{rule} step"
        out.append(harness.Case(f"{label} ({net} params)", "optimizer", 0, build))
    return out


SUITE = harness.Suite(
    name="ops",
    module="benchmarks.ops",
    title="single ops at the WGAN-GP MNIST model's shapes",
    cases=cases,
    default_batch_sizes=(64,),
    default_repeats=15,
    default_warmup=3,
    min_sample_seconds=0.05,
    f64_batch=None,
    notes=(
        "Layers are the model's: SAME 5x5 stride-2 convolutions (PyTorch: F.pad + conv) and "
        "transposed convolutions (PyTorch: padding 1 + crop), named 'C_in->C_out H_in->H_out'.",
        "fwd records the graph; bwd = grad(y, inputs, gy) on a retained graph; 2bwd = "
        "grad(sum <g_i, v_i>, inputs + [gy]) where g = grad(y, inputs, gy, create_graph=True).",
        "Optimiser rows (no batch): one update of all the net's parameters with fixed "
        "gradients; Adam(1e-4, (0.5, 0.9)), RMSprop(5e-5), clip c = 0.01.",
    ),
)


def main(argv: list[str] | None = None) -> int:
    return harness.main(SUITE, argv, THREADS)


if __name__ == "__main__":
    sys.exit(main())
