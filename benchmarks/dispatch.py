"""``python -m benchmarks.dispatch``: the fixed cost of one op, minigrad vs PyTorch, and how
many ops the MLP WGAN rows of ``benchmarks.step`` pay it for.

Two parts:

* **Tiny ops.** Ops on 1-element float32 tensors, where the arithmetic is nothing and the
  time is the framework's own: a + b without grad, a + b recorded (inputs that require
  grad: a graph node is built), a + b with its backward (``grad(a + b, (a, b), g)``), and
  ``F.linear`` of a (2, 4) input with a (3, 4) weight, forward and backward. Per call, CPU
  time (``time.process_time``: other processes on a shared machine barely change it), the
  two frameworks sampled alternately (A B A B), medians.
* **Op counts.** One step of ``mlp-critic`` and of ``mlp-generator`` (batch 64) on minigrad,
  with ``Function.apply`` wrapped to count: the ops applied in forward code (and how many of
  them were recorded as graph nodes), the ops the backward pass applies, and the nodes the
  walk runs. ops x the per-op cost above is what the step pays for dispatch.

Writes ``dispatch_<machine kind>_<date>_<threads>t.json`` and ``.md`` to ``--out``.
"""
from kernels.threads import pin_threads_from_argv

THREADS = pin_threads_from_argv() if __name__ == "__main__" else None

import argparse  # noqa: E402
import gc  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks import harness, model, report, step  # noqa: E402
from benchmarks.frameworks import FRAMEWORKS, make_framework  # noqa: E402
from kernels.threads import DEFAULT_THREADS  # noqa: E402

TINY_OPS = ("add, no grad", "add, recorded", "add, forward + backward",
            "linear (2, 4) x (3, 4), forward + backward")


class TinyOp:
    """One tiny-op row on one framework; ``run()`` is the timed call."""

    def __init__(self, fw, name: str):
        self.fw, self.name = fw, name
        one = np.ones(1, np.float32)
        self.a, self.b = fw.tensor(one), fw.tensor(2 * one)
        self.ra, self.rb = fw.tensor(one, True), fw.tensor(2 * one, True)
        self.g = fw.tensor(one)
        rng = np.random.default_rng(0)
        self.x = fw.tensor(rng.standard_normal((2, 4)).astype(np.float32), True)
        self.w = fw.tensor(rng.standard_normal((3, 4)).astype(np.float32), True)
        self.bias = fw.tensor(rng.standard_normal(3).astype(np.float32), True)
        self.gy = fw.tensor(np.ones((2, 3), np.float32))
        self.run = {TINY_OPS[0]: self.add, TINY_OPS[1]: self.add_recorded,
                    TINY_OPS[2]: self.add_backward, TINY_OPS[3]: self.linear_backward}[name]

    def add(self):
        return self.a + self.b

    def add_recorded(self):
        return self.ra + self.rb

    def add_backward(self):
        return self.fw.grad(self.ra + self.rb, (self.ra, self.rb), self.g)

    def linear_backward(self):
        y = self.fw.F.linear(self.x, self.w, self.bias)
        return self.fw.grad(y, (self.x, self.w, self.bias), self.gy)


def time_tiny(frameworks: dict, name: str, repeats: int, calls: int) -> dict:
    """Per-call CPU time of row ``name`` on each framework: ``repeats`` samples of ``calls``
    back-to-back calls, the frameworks alternating."""
    ops = {fw_name: TinyOp(fw, name) for fw_name, fw in frameworks.items()}
    for op in ops.values():
        for _ in range(calls // 10 + 1):
            op.run()
    samples: dict[str, list[float]] = {n: [] for n in ops}
    for _ in range(repeats):
        for n, op in ops.items():
            gc.collect()
            start = time.process_time()
            for _ in range(calls):
                op.run()
            samples[n].append((time.process_time() - start) / calls)
    stats = {n: {"median_s": statistics.median(s), "min_s": min(s), "max_s": max(s),
                 "samples_s": s, "calls_per_sample": calls} for n, s in samples.items()}
    return {"name": name, **stats,
            "ratio": stats["minigrad"]["median_s"] / stats["pytorch"]["median_s"]}


def count_ops(workload: str, config: harness.Config) -> dict:
    """Ops of one step of ``workload`` on minigrad (after one warm-up step), by phase."""
    from minigrad import autograd

    runner = step.TrainingRunner(make_framework("minigrad"), workload, config, "float32", 64,
                                 False)
    runner.run()
    counts, by_op = Counter(), Counter()
    apply, run_node = autograd.Function.__dict__["apply"], autograd._run_node

    def counting_apply(cls, *inputs, **params):
        phase = "backward" if autograd._arrays_handed_out is not None else "forward"
        out = apply.__func__(cls, *inputs, **params)
        first = out[0] if isinstance(out, tuple) else out
        counts[f"{phase}_ops"] += 1
        counts[f"{phase}_nodes_recorded"] += first.grad_fn is not None
        by_op[f"{phase} {cls.__name__}"] += 1
        return out

    def counting_run_node(*args):
        counts["nodes_walked"] += 1
        return run_node(*args)

    autograd.Function.apply = classmethod(counting_apply)
    autograd._run_node = counting_run_node
    try:
        runner.run()
    finally:
        autograd.Function.apply = apply
        autograd._run_node = run_node
    return {"workload": workload, "batch": 64,
            **{k: counts[k] for k in ("forward_ops", "forward_nodes_recorded", "backward_ops",
                                      "backward_nodes_recorded", "nodes_walked")},
            "ops": counts["forward_ops"] + counts["backward_ops"],
            "by_op": dict(by_op.most_common())}


def markdown(result: dict) -> str:
    from benchmarks.machine import summary_lines

    s = result["settings"]
    lines = [f"# {result['title']}", "", *summary_lines(result["machine"]),
             f"- load average at end: {result['machine']['load_average_end']}", "",
             f"Tiny ops (1-element float32 unless stated; CPU time per call, median [min, max] of "
             f"{s['repeats']} samples of {s['calls']} calls, frameworks alternating):", "",
             "| op | minigrad us | PyTorch us | minigrad / PyTorch |", "|---|---:|---:|---:|"]
    for r in result["tiny_ops"]:
        cells = [f"{r[n]['median_s'] * 1e6:.2f} [{r[n]['min_s'] * 1e6:.2f}, "
                 f"{r[n]['max_s'] * 1e6:.2f}]" for n in FRAMEWORKS]
        lines.append(f"| {r['name']} | {cells[0]} | {cells[1]} | **{r['ratio']:.2f}** |")
    lines += ["", "minigrad ops per step of the MLP WGAN rows (batch 64; `Function.apply` calls, "
              "graph nodes recorded, nodes run by the backward walk):", "",
              "| row | forward ops | recorded | backward ops | recorded in backward | "
              "nodes walked | ops in all |", "|---|---:|---:|---:|---:|---:|---:|"]
    for c in result["op_counts"]:
        lines.append(f"| {c['workload']} | {c['forward_ops']} | {c['forward_nodes_recorded']} | "
                     f"{c['backward_ops']} | {c['backward_nodes_recorded']} | "
                     f"{c['nodes_walked']} | {c['ops']} |")
    for c in result["op_counts"]:
        ops = ", ".join(f"{k} {v}" for k, v in c["by_op"].items())
        lines += ["", f"- {c['workload']}: {ops}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    threads = THREADS if THREADS is not None and argv is None else pin_threads_from_argv(argv)
    p = argparse.ArgumentParser(prog="python -m benchmarks.dispatch",
                                description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=15, help="samples per framework and row")
    p.add_argument("--calls", type=int, default=2000, help="calls per sample")
    p.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                   help=f"threads for OpenBLAS, Numba, OpenMP and torch (default {DEFAULT_THREADS}); "
                        "set before NumPy is imported")
    p.add_argument("--out", type=Path, default=harness.DEFAULT_OUT)
    p.add_argument("--machine-kind", default=None)
    args = p.parse_args(argv)
    if args.repeats < 1 or args.calls < 1:
        raise SystemExit("--repeats and --calls must be >= 1")
    from benchmarks import machine

    frameworks = {n: make_framework(n, "numpy", args.threads) for n in FRAMEWORKS}
    info = machine.machine_info("numpy", threads, frameworks["pytorch"].torch)
    tiny = [time_tiny(frameworks, name, args.repeats, args.calls) for name in TINY_OPS]
    config = harness.Config(model.DIM, model.LATENT, (64,), "float32", "numpy", args.threads, 0)
    counts = [count_ops(w, config) for w in model.MLP_WORKLOADS]
    info["load_average_end"] = list(os.getloadavg())
    result = {"suite": "dispatch", "title": "Per-op dispatch cost, minigrad vs PyTorch",
              "machine": info,
              "settings": {"repeats": args.repeats, "calls": args.calls, "threads": args.threads,
                           "clock": "time.process_time"},
              "tiny_ops": tiny, "op_counts": counts}
    stem = report.result_stem("dispatch", info, args.threads, args.machine_kind)
    report.publish(result, markdown(result), args.out, stem)
    return 0


if __name__ == "__main__":
    sys.exit(main())
