"""The harness shared by ``benchmarks.step`` and ``benchmarks.ops``.

A suite is a list of :class:`Case` rows. Each row is built on both frameworks from the same
numbers and run as follows:

1. **Agreement gate** (all rows, before any timing): one run on each framework, snapshots
   compared (``benchmarks.agreement``) in the timed dtype at the row's batch and in float64
   (at ``--f64-batch`` for the training iterations, whose float64 cost is large). A float32
   row that differs is judged against PyTorch's float64 result at its batch (float32 can be
   ill-conditioned at activation kinks; see agreement.py). One failure and nothing is timed
   or written; the exit status is 3.
2. **Timing**, interleaved: warm-up calls on both, then for each repeat one sample of
   minigrad followed by one sample of PyTorch (A B A B ...), so load from the other users of
   a shared machine hits both alike. A sample is ``number`` back-to-back calls (calibrated so
   a sample lasts at least ``min_sample_seconds``) divided by ``number``; devices are
   synchronised at both ends; ``gc.collect()`` runs between samples, outside the clock.
   Reported: median, min and max per call, and minigrad median / PyTorch median.
3. **Peak memory**, one child process per row and framework (``--memory-child``): the
   child builds only that framework's row, runs it once (imports, JIT, optimiser state),
   returns freed heap to the OS (``malloc_trim``), resets the kernel's RSS high-water mark
   (``/proc/self/clear_refs``), runs a few more calls and reads ``VmHWM``. Reported: that
   peak RSS of the process during the calls and its growth over the RSS just before them
   (the working set of one call: activations, the graph, temporaries). The same method for
   both frameworks (tracemalloc sees NumPy's allocations but not PyTorch's); the minigrad
   child never imports torch. On CUDA it adds the device peak (PyTorch:
   max_memory_allocated; CuPy: memory-pool total, an upper bound).
"""
from __future__ import annotations

import argparse
import gc
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from . import agreement
from .frameworks import FRAMEWORKS, BackendUnavailable, make_framework, require_backend
from kernels.threads import DEFAULT_THREADS, pin_threads_from_argv

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = Path(__file__).resolve().parent / "results"
EXIT_MISMATCH = 3
EXIT_BACKEND = 4
MEMORY_TAG = "MEMORY-RESULT "


class Runner(Protocol):
    """One row built on one framework."""

    def run(self) -> Any:
        """The timed call."""

    def snapshot(self) -> dict[str, Any]:
        """What the gate compares after one ``run()``: 'kind/model/name' -> numpy array."""


@dataclass(frozen=True)
class Config:
    dim: int
    latent: int
    batch_sizes: tuple[int, ...]
    dtype: str
    backend: str
    threads: int
    seed: int


@dataclass(frozen=True)
class Case:
    """One row: ``build(fw, dtype, batch, perturb)`` makes its :class:`Runner` on ``fw``.

    ``perturb=True`` (only ever for PyTorch, by ``--inject-mismatch``) must change one
    number of the computation by a relative 1e-3, to prove that the gate refuses.
    """

    name: str
    group: str
    batch: int  # 0: the row has no batch (optimiser updates)
    build: Callable[..., Runner]

    @property
    def key(self) -> str:
        return f"{self.name} | batch {self.batch}" if self.batch else self.name


@dataclass(frozen=True)
class Suite:
    name: str
    module: str
    title: str
    cases: Callable[[Config], list[Case]]
    default_batch_sizes: tuple[int, ...]
    default_repeats: int
    default_warmup: int
    min_sample_seconds: float
    f64_batch: int | None  # None: float64 gate at the row's own batch
    notes: tuple[str, ...] = field(default_factory=tuple)


# ----- command line ----------------------------------------------------------------------------
def _batch_sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"batch sizes must be positive, got {text!r}")
    return sizes


def parser(suite: Suite) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=f"python -m {suite.module}", description=suite.title,
        epilog="Results go to OUT/<suite>_<machine kind>_<date>_<threads>t.{json,md,png}; "
               "see benchmarks/README.md for the method.")
    p.add_argument("--batch-sizes", type=_batch_sizes, default=None,
                   help=f"comma-separated (default {','.join(map(str, suite.default_batch_sizes))};"
                        " --quick: the last one)")
    p.add_argument("--repeats", type=int, default=None,
                   help=f"timed samples per framework and row (default {suite.default_repeats}; "
                        "--quick: 3)")
    p.add_argument("--warmup", type=int, default=None,
                   help=f"untimed calls per framework first (default {suite.default_warmup}; "
                        "--quick: 1)")
    p.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                   help="threads for OpenBLAS, Numba, OpenMP and torch.set_num_threads "
                        f"(default {DEFAULT_THREADS}); set before NumPy is imported")
    p.add_argument("--quick", action="store_true", help="fewer repeats and batch sizes")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"results folder ({DEFAULT_OUT})")
    p.add_argument("--backend", choices=("numpy", "cupy"), default="numpy",
                   help="numpy: minigrad on NumPy vs PyTorch CPU; cupy: minigrad on CuPy vs "
                        "PyTorch CUDA (needs a GPU)")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                   help="timed dtype (the gate also checks float64)")
    p.add_argument("--dim", type=int, default=64, help="the model's DIM (default 64)")
    p.add_argument("--latent", type=int, default=128, help="latent size (default 128)")
    p.add_argument("--f64-batch", type=int, default=suite.f64_batch,
                   help="batch of the float64 agreement check (default: "
                        + ("the row's batch" if suite.f64_batch is None else str(suite.f64_batch))
                        + ")")
    p.add_argument("--only", action="append", default=None, metavar="TEXT",
                   help="keep rows whose name contains TEXT (repeatable)")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory children")
    p.add_argument("--memory-iterations", type=int, default=None,
                   help="calls per memory child after one warm-up (default 3; --quick: 1)")
    p.add_argument("--machine-kind", default=None,
                   help="name used in the result file names (default: from the CPU / GPU)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--inject-mismatch", action="store_true",
                   help="self-test of the gate: perturb PyTorch's copy by 1e-3; the run must "
                        f"refuse (exit {EXIT_MISMATCH}) and write nothing")
    p.add_argument("--memory-child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--memory-framework", choices=FRAMEWORKS, default=None, help=argparse.SUPPRESS)
    return p


def parse_args(suite: Suite, argv: list[str] | None) -> argparse.Namespace:
    """The command line with the --quick and per-suite defaults filled in."""
    args = parser(suite).parse_args(argv)
    if args.batch_sizes is None:
        sizes = suite.default_batch_sizes
        args.batch_sizes = sizes[-1:] if args.quick else sizes
    if args.repeats is None:
        args.repeats = 3 if args.quick else suite.default_repeats
    if args.warmup is None:
        args.warmup = 1 if args.quick else suite.default_warmup
    if args.memory_iterations is None:
        args.memory_iterations = 1 if args.quick else 3
    if args.repeats < 1 or args.warmup < 0 or args.memory_iterations < 1:
        raise SystemExit("--repeats and --memory-iterations must be >= 1, --warmup >= 0")
    return args


def config_of(args: argparse.Namespace) -> Config:
    return Config(args.dim, args.latent, tuple(args.batch_sizes), args.dtype, args.backend,
                  args.threads, args.seed)


def _select(cases: list[Case], only: list[str] | None) -> list[Case]:
    if not only:
        return cases
    return [c for c in cases if any(text in c.name for text in only)]


# ----- timing ---------------------------------------------------------------------------------
def _sample(runner: Runner, fw, number: int) -> float:
    gc.collect()
    fw.synchronize()
    start = time.perf_counter()
    for _ in range(number):
        runner.run()
    fw.synchronize()
    return (time.perf_counter() - start) / number


def time_interleaved(runners: dict[str, Runner], frameworks: dict[str, Any], warmup: int,
                     repeats: int, min_sample_seconds: float) -> dict[str, dict]:
    """Warm up, calibrate, then alternate one sample per framework per repeat (A B A B ...)."""
    names = list(runners)
    for _ in range(warmup):
        for n in names:
            runners[n].run()
    number = {}
    for n in names:  # one timed call each to size the samples
        once = _sample(runners[n], frameworks[n], 1)
        number[n] = max(1, math.ceil(min_sample_seconds / max(once, 1e-9)))
    samples: dict[str, list[float]] = {n: [] for n in names}
    for _ in range(repeats):
        for n in names:
            samples[n].append(_sample(runners[n], frameworks[n], number[n]))
    return {n: {"median_s": statistics.median(s), "min_s": min(s), "max_s": max(s),
                "samples_s": s, "calls_per_sample": number[n]} for n, s in samples.items()}


# ----- memory children ---------------------------------------------------------------------------
def _proc_status_kib(field_name: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak_rss() -> bool:
    """Reset the kernel's RSS high-water mark (VmHWM) to the current RSS (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _trim_heap() -> None:
    """Hand freed heap memory back to the OS (glibc ``malloc_trim``), so the RSS before the
    measured calls is the live set, not what the warm-up call left in malloc's free lists."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def memory_child(suite: Suite, args: argparse.Namespace) -> int:
    """Build one row on one framework, run it, print its peak RSS as one JSON line.

    ru_maxrss is no use here: a child started by fork + exec inherits its parent's maximum.
    The kernel's per-process VmHWM is used instead, reset after set-up and one warm-up call
    (imports, JIT compilation, optimiser state) and a ``malloc_trim``, so it measures the
    calls themselves.
    """
    config = config_of(args)
    matches = [c for c in suite.cases(config) if c.key == args.memory_child]
    if len(matches) != 1:
        raise SystemExit(f"memory child: no single row {args.memory_child!r}")
    fw = make_framework(args.memory_framework, args.backend, args.threads)
    runner = matches[0].build(fw, args.dtype, matches[0].batch, False)
    runner.run()
    fw.synchronize()
    gc.collect()
    _trim_heap()
    setup_peak = _proc_status_kib("VmHWM")
    before = _proc_status_kib("VmRSS")
    reset = _reset_peak_rss()
    fw.reset_peak_device_memory()
    for _ in range(args.memory_iterations):
        runner.run()
    fw.synchronize()
    peak = _proc_status_kib("VmHWM")
    if peak is None or before is None:
        print(f"memory child: no /proc/self/status on {sys.platform}", file=sys.stderr)
        return 1
    result = {"peak_rss_mib": peak / 1024, "growth_mib": (peak - before) / 1024,
              "rss_before_mib": before / 1024, "setup_peak_mib": setup_peak / 1024,
              "peak_reset": reset, "calls": args.memory_iterations}
    device = fw.peak_device_memory()
    if device is not None:
        result["device_peak_mib"] = device / 2**20
    print(MEMORY_TAG + json.dumps(result), flush=True)
    return 0


def measure_memory(suite: Suite, args: argparse.Namespace, case: Case, framework: str) -> dict:
    """Run :func:`memory_child` in a fresh interpreter and parse its result."""
    cmd = [sys.executable, "-m", suite.module, "--memory-child", case.key,
           "--memory-framework", framework,
           *(["--batch-sizes", str(case.batch)] if case.batch else []),
           "--threads", str(args.threads), "--backend", args.backend, "--dtype", args.dtype,
           "--dim", str(args.dim), "--latent", str(args.latent), "--seed", str(args.seed),
           "--memory-iterations", str(args.memory_iterations)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(REPO_ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith(MEMORY_TAG):
            return json.loads(line[len(MEMORY_TAG):])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
    return {"error": f"memory child exited {proc.returncode}: {' | '.join(tail)}"}


# ----- the run -----------------------------------------------------------------------------------
def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _snapshot(case: Case, fw, dtype: str, batch: int, perturb: bool) -> dict:
    runner = case.build(fw, dtype, batch, perturb)
    runner.run()
    fw.synchronize()
    return runner.snapshot()


def check_agreement(cases: list[Case], frameworks: dict[str, Any], dtype: str,
                    f64_batch: int | None, perturb: bool) -> list[agreement.Comparison]:
    """Run every row once on both frameworks in ``dtype`` and in float64; compare."""
    comparisons = []
    for case in cases:
        mine = []
        checks = [(dtype, case.batch)]
        if dtype != "float64":
            f64 = case.batch if f64_batch is None else min(f64_batch, case.batch)
            checks.append(("float64", f64))
        for check_dtype, batch in checks:
            snaps = {name: _snapshot(case, fw, check_dtype, batch, perturb and name == "pytorch")
                     for name, fw in frameworks.items()}
            label = case.key if batch == case.batch else f"{case.name} | batch {batch}"
            found = agreement.compare(label, check_dtype, snaps["minigrad"], snaps["pytorch"])
            if check_dtype != "float64" and not all(c.ok for c in found):
                _log(f"  {label}: {check_dtype} differs by up to "
                     f"{max(c.error for c in found):.1e}; judging both against float64")
                reference = _snapshot(case, frameworks["pytorch"], "float64", batch, perturb)
                found = agreement.compare_to_reference(label, check_dtype, snaps["minigrad"],
                                                       snaps["pytorch"], reference)
            mine += found
        errors = ", ".join(f"{d} {max(c.error for c in mine if c.dtype == d):.1e}"
                           for d in dict.fromkeys(c.dtype for c in mine))
        _log(f"  agreement {case.key}: worst error {errors}")
        comparisons += mine
    return comparisons


def main(suite: Suite, argv: list[str] | None, pinned_at_import: dict | None) -> int:
    """An entry point's ``main``: ``pinned_at_import`` is the thread pinning its module did
    before NumPy loaded (``python -m``, argv None); called with an argv (tests), pin from it."""
    threads = (pinned_at_import if pinned_at_import is not None and argv is None
               else pin_threads_from_argv(argv))
    return run(suite, argv, threads)


def run(suite: Suite, argv: list[str] | None, threads_info: dict) -> int:
    """Parse ``argv`` and run the suite; returns the exit status."""
    args = parse_args(suite, argv)
    if args.memory_child:
        return memory_child(suite, args)
    try:
        require_backend(args.backend)
    except BackendUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BACKEND
    from . import machine, report

    frameworks = {name: make_framework(name, args.backend, args.threads) for name in FRAMEWORKS}
    info = machine.machine_info(args.backend, threads_info, frameworks["pytorch"].torch)
    config = config_of(args)
    cases = _select(suite.cases(config), args.only)
    if not cases:
        print(f"error: no row matches --only {args.only}", file=sys.stderr)
        return 2

    _log(f"{suite.title}: {len(cases)} rows; agreement gate first")
    comparisons = check_agreement(cases, frameworks, args.dtype, args.f64_batch,
                                  args.inject_mismatch)
    try:
        agreement.gate(comparisons)
    except agreement.AgreementError as exc:
        print(f"REFUSED: {exc}", file=sys.stderr)
        return EXIT_MISMATCH

    rows = []
    for case in cases:
        runners = {name: case.build(fw, args.dtype, case.batch, False)
                   for name, fw in frameworks.items()}
        timing = time_interleaved(runners, frameworks, args.warmup, args.repeats,
                                  suite.min_sample_seconds)
        del runners
        row = {"name": case.name, "group": case.group, "batch": case.batch, **timing,
               "ratio": timing["minigrad"]["median_s"] / timing["pytorch"]["median_s"],
               "ratio_of_min": timing["minigrad"]["min_s"] / timing["pytorch"]["min_s"]}
        _log(f"  {case.key}: minigrad {timing['minigrad']['median_s'] * 1e3:.2f} ms, PyTorch "
             f"{timing['pytorch']['median_s'] * 1e3:.2f} ms, ratio {row['ratio']:.2f}")
        rows.append(row)
    gc.collect()

    if not args.no_memory:
        _log("peak memory (one child process per row and framework)")
        for case, row in zip(cases, rows):
            for name in FRAMEWORKS:
                row[name]["memory"] = measure_memory(suite, args, case, name)

    info["load_average_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    result = {
        "suite": suite.name, "title": suite.title, "machine": info,
        "settings": {"batch_sizes": list(args.batch_sizes), "repeats": args.repeats,
                     "warmup": args.warmup, "threads": args.threads, "dtype": args.dtype,
                     "backend": args.backend, "dim": args.dim, "latent": args.latent,
                     "f64_batch": args.f64_batch, "min_sample_seconds": suite.min_sample_seconds,
                     "memory_iterations": None if args.no_memory else args.memory_iterations,
                     "quick": args.quick, "only": args.only, "seed": args.seed},
        "agreement": {"tolerance": agreement.TOLERANCE, "floor_fraction": agreement.FLOOR_FRACTION,
                      "worst": agreement.worst(comparisons),
                      "comparisons": [c.as_dict() for c in comparisons]},
        "notes": list(suite.notes),
        "rows": rows,
    }
    dtype = "" if args.dtype == "float32" else f"_{args.dtype}"
    stem = report.result_stem(suite.name, info, args.threads, args.machine_kind, dtype)
    paths = report.write_all(result, args.out, stem)
    print(report.markdown(result))
    for p in paths:
        _log(f"wrote {p}")
    return 0
