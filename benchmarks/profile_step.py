"""``python -m benchmarks.profile_step``: where minigrad's WGAN-GP critic iteration spends its time.

Three views of the same iterations (batch 64, DIM 64 by default, after warm-up):

* **conv kernel calls by shape**, timed without a profiler: which layer and which member of
  the conv trio (forward, input gradient, weight gradient) the time goes to.

* **cProfile**, aggregated three ways: by op (each ``Function`` subclass's ``forward``: the
  op's array compute, kernels included; its ``backward``: cumulative, so including the ops
  it calls), by kernel (``kernels/``: im2col + GEMM + col2im), and self time by file
  (engine, tensor, ops, kernels, NumPy). Python-level: a ``@`` inside a kernel counts as
  that kernel's self time.
* **py-spy** (``--py-spy``, if installed): sampled native stacks of the main thread, so the
  GEMM kernel (e.g. ``sgemm_kernel_SKYLAKEX``), Numba's loops and NumPy's ufunc loops show by
  name; aggregated by leaf function and by the innermost minigrad op on the stack.

Writes ``profile_<workload>_<machine kind>_<date>_<threads>t.txt`` to ``--out``.
"""
from kernels.threads import pin_threads_from_argv

THREADS = pin_threads_from_argv() if __name__ == "__main__" else None

import argparse  # noqa: E402
import cProfile  # noqa: E402
import collections  # noqa: E402
import datetime as _dt  # noqa: E402
import io  # noqa: E402
import os  # noqa: E402
import pstats  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from benchmarks import model  # noqa: E402
from benchmarks.harness import DEFAULT_OUT, REPO_ROOT  # noqa: E402


def _function_classes():
    from minigrad.autograd import Function

    seen, stack = [], list(Function.__subclasses__())
    while stack:
        cls = stack.pop()
        if cls not in seen:
            seen.append(cls)
            stack.extend(cls.__subclasses__())
    return seen


def _op_label(cls) -> str:
    return f"{cls.__module__.rsplit('.', 1)[-1]}.{cls.__name__}"


def op_code_map() -> dict[tuple[str, int, str], str]:
    """(file, first line, name) of every op's forward/backward -> 'module.Class.method'."""
    out = {}
    for cls in _function_classes():
        for meth in ("forward", "backward"):
            fn = cls.__dict__.get(meth)
            if fn is not None and hasattr(fn, "__code__"):
                code = fn.__code__
                out[(code.co_filename, code.co_firstlineno, code.co_name)] = \
                    f"{_op_label(cls)}.{meth}"
    return out


def op_line_ranges() -> dict[str, list[tuple[int, int, str]]]:
    """file -> [(first line, last line, 'module.Class.method')] for py-spy's frames."""
    out: dict[str, list] = collections.defaultdict(list)
    for cls in _function_classes():
        for meth in ("forward", "backward"):
            fn = cls.__dict__.get(meth)
            if fn is not None and hasattr(fn, "__code__"):
                code = fn.__code__
                last = max((line for _, _, line in code.co_lines() if line), default=0)
                out[os.path.realpath(code.co_filename)].append(
                    (code.co_firstlineno, last, f"{_op_label(cls)}.{meth}"))
    return out


def _file_group(path: str) -> str:
    p = path.replace(os.sep, "/")
    for marker in ("/minigrad/", "/kernels/", "/benchmarks/"):
        if marker in p:
            return marker.strip("/") + "/" + p.split(marker, 1)[1]
    if "/numpy/" in p:
        return "numpy (Python parts)"
    if p.startswith("~") or p == "<built-in>":
        return "builtins / C functions (np.zeros, ascontiguousarray, ...)"
    return "other Python"


def _build(args):
    from benchmarks.frameworks import MinigradFramework

    fw = MinigradFramework("numpy")
    weights = model.initial_weights(args.dim, model.LATENT, 0)
    inputs = model.make_inputs(args.batch, model.batches_needed(args.workload), model.LATENT, 1,
                               "float32")
    training = model.setup_training(fw, args.workload, weights, inputs, args.dim, model.LATENT,
                                    "float32")
    for _ in range(args.warmup):
        training.run()
    return training


def _table(title: str, header: tuple, rows: list[tuple], total: float) -> str:
    out = [title, "  " + "  ".join(f"{h:>10}" for h in header[:-1]) + f"  {header[-1]}"]
    for row in rows:
        *nums, label = row
        cells = []
        for v in nums:
            cells.append(f"{v:>10d}" if isinstance(v, int) else f"{v:>10.3f}")
        share = f"{100 * nums[-1] / total:5.1f}%" if total else ""
        out.append("  " + "  ".join(cells) + f"  {share}  {label}")
    return "\n".join(out)


def cprofile_report(args) -> str:
    training = _build(args)
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    for _ in range(args.iterations):
        training.run()
    profiler.disable()
    wall = time.perf_counter() - start
    stats = pstats.Stats(profiler).stats
    per_it = 1.0 / args.iterations
    total = wall * per_it
    codes = op_code_map()

    forwards, backwards, kernels = [], [], []
    by_file: dict[str, float] = collections.defaultdict(float)
    for (path, line, name), (_, ncalls, tottime, cumtime, _) in stats.items():
        by_file[_file_group(path)] += tottime * per_it
        label = codes.get((path, line, name))
        row = (ncalls // args.iterations, tottime * per_it, cumtime * per_it)
        if label and label.endswith(".forward"):
            forwards.append((*row, label))
        elif label:
            backwards.append((*row, label))
        elif "/kernels/" in path.replace(os.sep, "/"):
            kernels.append((*row, f"{_file_group(path)}:{name}"))
    forward_total = sum(r[2] for r in forwards)
    key = lambda r: -r[2]  # noqa: E731
    header = ("calls", "self s", "cum s", "share of cum s, op")
    parts = [
        f"cProfile: {args.workload}, batch {args.batch}, DIM {args.dim}, float32, "
        f"{args.iterations} iterations after {args.warmup} warm-up; per iteration {total:.3f} s "
        f"under the profiler (its overhead inflates Python-heavy parts).",
        "",
        _table("Op forwards (the array compute of each op, kernels included), per iteration:",
               header, sorted(forwards, key=key)[:args.top], total),
        f"  sum of op forwards: {forward_total:.3f} s = {100 * forward_total / total:.1f}% "
        f"of the iteration; the rest ({total - forward_total:.3f} s) is the engine, "
        "backward formulas' own Python, module calls and the optimiser.",
        "",
        _table("Kernels (kernels/: im2col/col2im + the GEMM inside conv2d*), per iteration:",
               header, sorted(kernels, key=key)[:args.top], total),
        "",
        _table("Op backwards (cumulative: includes the ops each backward applies):",
               header, sorted(backwards, key=key)[:args.top], total),
        "",
        "Self time by file, per iteration:",
    ]
    for group, t in sorted(by_file.items(), key=lambda kv: -kv[1])[:args.top]:
        parts.append(f"  {t:10.3f}  {100 * t / total:5.1f}%  {group}")
    buf = io.StringIO()
    pstats.Stats(profiler, stream=buf).sort_stats("tottime").print_stats(args.top)
    parts += ["", "Top functions by self time (pstats, totals over all iterations):",
              buf.getvalue().split("\n\n", 1)[-1].rstrip()]
    return "\n".join(parts)


def kernel_shape_report(args) -> str:
    """Wall time of each conv kernel call, by kernel and operand shapes (no profiler running:
    the three kernel functions are wrapped with a timer for the duration)."""
    from kernels import conv

    training = _build(args)
    totals: dict[tuple, list] = collections.defaultdict(lambda: [0, 0.0])
    names = ("conv2d", "conv2d_input_grad", "conv2d_weight_grad")
    originals = {name: getattr(conv, name) for name in names}

    def timed(name, fn):
        def wrapper(a, b, geom, **kw):
            start = time.perf_counter()
            out = fn(a, b, geom, **kw)
            entry = totals[(name, tuple(a.shape), tuple(b.shape))]
            entry[0] += 1
            entry[1] += time.perf_counter() - start
            return out
        return wrapper

    for name in names:
        setattr(conv, name, timed(name, originals[name]))
    try:
        start = time.perf_counter()
        for _ in range(args.iterations):
            training.run()
        wall = (time.perf_counter() - start) / args.iterations
    finally:
        for name, fn in originals.items():
            setattr(conv, name, fn)
    kernel_total = sum(t for _, t in totals.values()) / args.iterations
    lines = [f"Conv kernel calls by shape (wall, no profiler): iteration {wall:.3f} s, of which "
             f"conv kernels {kernel_total:.3f} s ({100 * kernel_total / wall:.1f}%).",
             "   calls/it    ms/it  share  kernel (first operand, second operand)"]
    for (name, a, b), (calls, t) in sorted(totals.items(), key=lambda kv: -kv[1][1]):
        ms = 1e3 * t / args.iterations
        lines.append(f"  {calls / args.iterations:9.1f} {ms:8.1f} {100 * ms / 1e3 / wall:5.1f}%  "
                     f"{name} {a} {b}")
    return "\n".join(lines)


def _parse_frame(frame: str) -> tuple[str, str, int | None]:
    """'name (file:line)' -> (name, file, line); native frames have '(library.so)'."""
    name, _, rest = frame.rpartition(" (")
    rest = rest.rstrip(")")
    path, _, line = rest.rpartition(":")
    if line.isdigit():
        return name, path, int(line)
    return name or frame, rest, None


def py_spy_report(args) -> str:
    exe = shutil.which("py-spy")
    if exe is None:
        return "py-spy: not installed (pip install py-spy), skipped."
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "stacks.txt"
        cmd = [exe, "record", "--native", "--threads", "--format", "raw", "--rate", str(args.rate),
               "-o", str(raw), "--", sys.executable, "-m", "benchmarks.profile_step",
               "--sampled-child", "--batch", str(args.batch), "--dim", str(args.dim),
               "--iterations", str(args.iterations), "--warmup", str(args.warmup),
               "--threads", str(args.threads), "--workload", args.workload]
        proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True)
        if proc.returncode != 0 or not raw.exists():
            return f"py-spy: failed ({proc.stderr.strip()[-400:]}), skipped."
        lines = raw.read_text().splitlines()
    ranges = op_line_ranges()
    stacks = []
    for line in lines:
        stack, _, count = line.rpartition(" ")
        if count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    # the main thread is the one that runs the iterations
    threads = collections.Counter()
    for frames, n in stacks:
        if any("_timed_iterations" in f for f in frames):
            threads[frames[0]] += n
    main = threads.most_common(1)[0][0] if threads else None
    leaf: collections.Counter = collections.Counter()
    by_op: collections.Counter = collections.Counter()
    total = 0
    for frames, n in stacks:
        if frames[0] != main or not any("_timed_iterations" in f for f in frames):
            continue
        total += n
        name, path, _ = _parse_frame(frames[-1])
        leaf[f"{name} ({os.path.basename(path)})"] += n
        op = "outside any op (engine, modules, optimiser)"
        for frame in reversed(frames):
            fname, fpath, fline = _parse_frame(frame)
            if fline is None:
                continue
            full = fpath if os.path.isabs(fpath) else os.path.realpath(REPO_ROOT / fpath)
            hit = next((label for lo, hi, label in ranges.get(full, ())
                        if lo <= fline <= hi and label.endswith(".forward")), None)
            if hit:
                op = hit
                break
        by_op[op] += n
    if not total:
        return "py-spy: no samples of the timed iterations, skipped."
    parts = [f"py-spy (native stacks, main thread, {args.rate} Hz): {total} samples of "
             f"{args.iterations} iterations.", "", "By innermost op forward on the stack:"]
    parts += [f"  {100 * n / total:5.1f}%  {op}" for op, n in by_op.most_common(args.top)]
    parts += ["", "By leaf function (where the CPU actually was):"]
    parts += [f"  {100 * n / total:5.1f}%  {fn}" for fn, n in leaf.most_common(args.top)]
    return "\n".join(parts)


def _timed_iterations(training, iterations: int) -> None:
    for _ in range(iterations):
        training.run()


def main(argv: list[str] | None = None) -> int:
    threads = THREADS if THREADS is not None and argv is None else pin_threads_from_argv(argv)
    p = argparse.ArgumentParser(prog="python -m benchmarks.profile_step",
                                description=__doc__.split("\n")[0])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--dim", type=int, default=model.DIM)
    p.add_argument("--workload", choices=model.WORKLOADS, default="critic-gp")
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--top", type=int, default=25, help="rows per table")
    p.add_argument("--py-spy", action="store_true", help="also sample native stacks with py-spy")
    p.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--machine-kind", default=None)
    p.add_argument("--sampled-child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.sampled_child:
        _timed_iterations(_build(args), args.iterations)
        return 0

    from benchmarks.machine import machine_info, machine_kind, summary_lines

    info = machine_info("numpy", threads)
    text = "\n".join([f"# Profile of minigrad's {args.workload} iteration ({info['time']})", "",
                      *summary_lines(info), "", kernel_shape_report(args), "",
                      cprofile_report(args), ""])
    if args.py_spy:
        text += "\n" + py_spy_report(args) + "\n"
    kind = args.machine_kind or machine_kind(info)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / (f"profile_{args.workload}_{kind}_{_dt.date.today().isoformat()}_"
                       f"{args.threads}t.txt")
    path.write_text(text)
    print(text)
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
