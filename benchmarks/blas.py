"""``python -m benchmarks.blas``: NumPy matmul GFLOP/s on the convolution GEMMs of the WGAN-GP
MNIST model, per OpenBLAS kernel (OPENBLAS_CORETYPE unset / SkylakeX / Haswell), and
torch.matmul (MKL) on the same operands as a reference.

OpenBLAS picks its kernel once, when the library loads, so each setting runs in its own child
process; the children are interleaved (round 1: default, SkylakeX, Haswell; round 2 in a
rotated order; ...) so machine load hits every setting alike. Each child reports its kernel
(``scipy_openblas_get_corename64_``) and, per GEMM, the median of its samples; the parent
reports the median over rounds.

The GEMMs are the im2col ones of ``kernels/conv.py`` with their memory layouts: for a conv
with M = N*Ho*Wo output pixels, K = kH*kW*C_in and O output channels

    forward        cols (M, K) @ w (K, O)          both C-contiguous
    input grad     gy (M, O) @ w.T (O, K)          B a transposed view
    weight grad    gy.T (O, M) @ cols (M, K)       A a transposed view

and the model's three geometries (the generator's transposed convs are the adjoints of the
critic's convs, so they share them), plus the two linear layers.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from .harness import DEFAULT_OUT, REPO_ROOT

CORETYPES = ("default", "SkylakeX", "Haswell")
TORCH = "torch"  # a setting that runs the same GEMMs with torch.matmul (MKL), for reference
TAG = "BLAS-RESULT "


def gemm_shapes(batch: int = 64, dim: int = 64) -> list[tuple[str, int, int, int, str]]:
    """(name, M, K, O, layout) for each GEMM; layout: 'nn', 'nt' (B transposed), 'tn'."""
    geometries = [(1, dim, 14), (dim, 2 * dim, 7), (2 * dim, 4 * dim, 4)]  # C_in, O, Ho
    out = []
    for c, o, ho in geometries:
        m, k = batch * ho * ho, 25 * c
        label = f"conv {c}->{o} (M {m}, K {k}, O {o})"
        out += [(f"{label} fwd", m, k, o, "nn"), (f"{label} input-grad", m, o, k, "nt"),
                (f"{label} weight-grad", o, m, k, "tn")]
    out += [(f"linear {4 * 4 * 4 * dim}->1 fwd", batch, 4 * 4 * 4 * dim, 1, "nt"),
            (f"linear 128->{4 * 4 * 4 * dim} fwd", batch, 128, 4 * 4 * 4 * dim, "nt")]
    return out


def _operands(np, m: int, k: int, n: int, layout: str, dtype: str):
    """A (m, k) and B (k, n) stored as the kernels store them."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((k, m) if layout == "tn" else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if layout == "nt" else (k, n)).astype(dtype)
    return (a.T if layout == "tn" else a), (b.T if layout == "nt" else b)


def child(args: argparse.Namespace) -> int:
    """Time every GEMM in this process (its OpenBLAS kernel is already chosen)."""
    import numpy as np

    from .machine import openblas_info

    torch = None
    if args.engine == TORCH:
        import torch

        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    results = {}
    for name, m, k, n, layout in gemm_shapes(args.batch, args.dim):
        a, b = _operands(np, m, k, n, layout, args.dtype)
        if torch is not None:
            a, b = torch.from_numpy(a), torch.from_numpy(b)  # views keep the layout
        for _ in range(2):
            a @ b
        start = time.perf_counter()
        a @ b
        once = max(time.perf_counter() - start, 1e-7)
        number = max(1, int(args.min_sample_seconds / once))
        samples = []
        for _ in range(args.samples):
            start = time.perf_counter()
            for _ in range(number):
                a @ b
            samples.append((time.perf_counter() - start) / number)
        t = statistics.median(samples)
        results[name] = {"seconds": t, "gflops": 2.0 * m * k * n / t / 1e9}
    if torch is not None:
        blas = {"corename": f"torch {torch.__version__} (MKL)"}
    else:
        blas = openblas_info()
    print(TAG + json.dumps({"openblas": blas, "results": results}), flush=True)
    return 0


def _run_child(args: argparse.Namespace, coretype: str) -> dict:
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(args.threads),
               OMP_NUM_THREADS=str(args.threads))
    env.pop("OPENBLAS_CORETYPE", None)
    if coretype not in ("default", TORCH):
        env["OPENBLAS_CORETYPE"] = coretype
    cmd = [sys.executable, "-m", "benchmarks.blas", "--child", "--engine",
           TORCH if coretype == TORCH else "numpy", "--batch", str(args.batch),
           "--dim", str(args.dim), "--dtype", args.dtype, "--samples", str(args.samples)]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith(TAG):
            return json.loads(line[len(TAG):])
    raise RuntimeError(f"blas child ({coretype}) failed: {proc.stderr.strip()[-500:]}")


def markdown(result: dict) -> str:
    s = result["settings"]
    kernels = result["kernels"]
    lines = [
        "# NumPy matmul GFLOP/s on the model's conv GEMMs, per OpenBLAS kernel",
        "",
        f"{result['time']}; {result['cpu']}; {s['dtype']}, batch {s['batch']}, DIM {s['dim']}, "
        f"{s['threads']} threads, {s['rounds']} interleaved rounds x {s['samples']} samples; "
        f"load average {result['load_average']} -> {result['load_average_end']}.",
        "",
        "Kernel OpenBLAS reports per setting: "
        + ", ".join(f"{c}: **{k}**" for c, k in kernels.items()) + ".",
        "",
        "| GEMM | layout | " + " | ".join(f"{c} GFLOP/s" for c in result["coretypes"])
        + " | SkylakeX / Haswell |",
        "|---|---|" + "---:|" * (len(result["coretypes"]) + 1),
    ]
    for name, row in result["gemms"].items():
        cells = " | ".join(f"{row[c]:.1f}" for c in result["coretypes"])
        ratio = row["SkylakeX"] / row["Haswell"] if "Haswell" in row and "SkylakeX" in row else None
        lines.append(f"| {name} | {row['layout']} | {cells} | "
                     f"{'-' if ratio is None else f'{ratio:.2f}'} |")
    lines += ["", "Layouts: nn = both C-contiguous, nt = B is a transposed view, tn = A is a "
              "transposed view (as in kernels/conv.py). Median over rounds of each child's "
              "median.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.blas",
                                description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    p.add_argument("--samples", type=int, default=5, help="samples per GEMM per child")
    p.add_argument("--threads", type=int, default=2, help="OPENBLAS_NUM_THREADS (default 2)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--coretypes", default=",".join((*CORETYPES, TORCH)),
                   help="comma-separated OPENBLAS_CORETYPE values ('default' = unset; 'torch' = "
                        f"torch.matmul instead of NumPy; default {','.join((*CORETYPES, TORCH))})")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--machine-kind", default=None)
    p.add_argument("--min-sample-seconds", type=float, default=0.05, help=argparse.SUPPRESS)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--engine", choices=("numpy", TORCH), default="numpy", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        return child(args)

    from .machine import cpu_flags, cpu_model, machine_kind

    coretypes = [c.strip() for c in args.coretypes.split(",") if c.strip()]
    runs: dict[str, list[dict]] = {c: [] for c in coretypes}
    start_load = list(os.getloadavg())
    for r in range(args.rounds):
        order = coretypes[r % len(coretypes):] + coretypes[:r % len(coretypes)]
        for c in order:
            runs[c].append(_run_child(args, c))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    gemms: dict[str, dict] = {}
    for name, m, k, n, layout in gemm_shapes(args.batch, args.dim):
        gemms[name] = {"layout": layout, "m": m, "k": k, "n": n}
        for c in coretypes:
            values = [run["results"][name]["gflops"] for run in runs[c]]
            gemms[name][c] = statistics.median(values)
            gemms[name][f"{c}_all"] = values
    info = {"cpu": cpu_model(), "cpu_flags": cpu_flags(),
            "usable_cpus": len(os.sched_getaffinity(0)), "logical_cpus": os.cpu_count()}
    result = {
        "time": _dt.datetime.now().isoformat(timespec="seconds"), **info,
        "load_average": start_load, "load_average_end": list(os.getloadavg()),
        "settings": {"rounds": args.rounds, "samples": args.samples, "threads": args.threads,
                     "batch": args.batch, "dim": args.dim, "dtype": args.dtype},
        "coretypes": coretypes,
        "kernels": {c: runs[c][0]["openblas"].get("corename") for c in coretypes},
        "openblas": runs[coretypes[0]][0]["openblas"],
        "gemms": gemms,
    }
    kind = args.machine_kind or machine_kind({**info, "backend": "numpy"})
    stem = f"blas_{kind}_{_dt.date.today().isoformat()}_{args.dtype}_{args.threads}t"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{stem}.json").write_text(json.dumps(result, indent=1) + "\n")
    (args.out / f"{stem}.md").write_text(markdown(result))
    print(markdown(result))
    print(f"wrote {args.out / stem}.json, .md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
