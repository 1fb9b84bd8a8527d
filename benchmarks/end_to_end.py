"""``python -m benchmarks.end_to_end``: what one generator step of ``python -m wgan.train`` costs
against the benchmark's cycle (``benchmarks.step``, row ``cycle``: 5 WGAN-GP critic iterations +
1 generator iteration of ``benchmarks.model``) at the same batch and threads.

Two kinds of child process, run alternately (train, cycle, cycle, train, ... : ABBA), so load
from other users of a shared machine hits both alike:

* **train**: the real CLI, ``wgan.train.main`` with ``--model wgangp-mnist --loss wgan-gp
  --batch-size B --iters W+N`` on the real MNIST and every other setting at its default
  (metrics every step, TensorBoard, samples and checkpoints every 100 steps, the progress bar).
  Timers are wrapped around the run loop's pieces (``wgan.run._Run.step`` / ``sample`` /
  ``checkpoint`` / ``log_pending``, the trainer's steps, the batch stream, ...) before it starts;
  a wrapper costs about a microsecond a call, which is nothing at seconds per step. One
  generator step is the time from one ``_Run.step`` call to the next (so it holds the step,
  the metrics line, the bar and, every 100 steps, the sample and the checkpoint).
* **cycle**: ``benchmarks.step``'s ``cycle`` row on minigrad (``TrainingRunner``, float32,
  precomputed inputs), timed as ``benchmarks.harness`` times it: ``gc.collect()`` outside the
  clock, then one call.

Each child runs W warm-up steps (or cycles), then N measured ones; start-up (imports, data,
JIT, the first picture) is before the first step and is not counted. Both clocks are taken:
wall (``perf_counter``) and CPU (``process_time``; at 1 thread the one a busy machine barely
moves). Reported per batch: the median over every measured step of all rounds, and the
ratio train / cycle of those medians (> 1: the trainer is slower). The median step has no
sample or checkpoint in it; those are timed per call (each child writes one of each at the
end of its run) and added back, amortised at their defaults (every 100 steps), in the
"amortised" row, which is what the goal (train / cycle <= 1.10) is judged on.
"""
import sys

from kernels.threads import pin_threads, threads_from_argv

DEFAULT_THREADS = 1  # wgan.train's default, unlike the other benchmarks' 2


def pin_threads_of(argv: list[str]) -> dict[str, object]:
    """Pin the thread variables to ``--threads`` of ``argv`` (default 1)."""
    given = any(a == "--threads" or a.startswith("--threads=") for a in argv)
    return pin_threads(threads_from_argv(argv) if given else DEFAULT_THREADS)


# OpenBLAS and Numba read their thread counts when loaded: pin before NumPy is imported
THREADS = pin_threads_of(sys.argv[1:]) if __name__ == "__main__" else None

import argparse  # noqa: E402
import functools  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = Path(__file__).resolve().parent / "results"
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "mnist"
GOAL = 1.10  # issue 12: the trainer's step within 10% of the cycle

# The trainer's pieces that get a timer: (module, owner or None for a module function, name,
# label). Nested pieces overlap (data fetch is inside the critic steps, inside the algorithm).
TIMED = (
    ("wgan.trainer", "Trainer", "train_step", "algorithm (Trainer.train_step)"),
    ("wgan.trainer", "Trainer", "critic_step", "  critic steps"),
    ("wgan.trainer", "Trainer", "generator_step", "  generator step"),
    ("wgan.data", "Batches", "__next__", "  data fetch (Batches.__next__)"),
    ("wgan.trainer", "Trainer", "_latent", "  latent draws z"),
    ("wgan.trainer", None, "grad_norm", "  gradient norms (metrics)"),
    ("wgan.trainer", None, "check_finite", "  NaN/inf guard"),
    ("wgan.run", "_Run", "log_pending", "logging (_Run.log_pending)"),
    ("wgan.run", None, "fetch_records", "  metrics to floats"),
    ("wgan.outputs", None, "append_metrics", "  metrics.jsonl line"),
    ("wgan.tensorboard_log", "TensorBoardLog", "add_scalars", "  TensorBoard scalars"),
    ("tqdm.std", "tqdm", "update", "progress bar"),
    ("tqdm.std", "tqdm", "set_postfix_str", "progress bar"),
    ("wgan.run", "_Run", "sample", "sampling (_Run.sample)"),
    ("wgan.run", "_Run", "checkpoint", "checkpoint (_Run.checkpoint)"),
    ("wgan.run", None, "save", "  checkpoint.npz"),
    ("wgan.outputs", None, "save_loss_plot", "  losses.png"),
    ("wgan.outputs", None, "save_gif", "samples.gif (once, at the end)"),
)
PER_CALL = ("sampling (_Run.sample)", "checkpoint (_Run.checkpoint)", "  checkpoint.npz",
            "  losses.png", "samples.gif (once, at the end)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.end_to_end",
        description="Seconds per generator step of python -m wgan.train (wgangp-mnist, "
                    "wgan-gp, real MNIST, default outputs) against benchmarks.step's cycle "
                    "(5 critic-gp + 1 generator iterations) at the same batch and threads, "
                    "in alternating child processes; with the trainer's overhead by part.",
        epilog="Results go to OUT/end_to_end_<machine kind>_<date>_<threads>t.{json,md}; "
               "see benchmarks/README.md for the method.")
    p.add_argument("--batch-sizes", default="50,64",
                   help="comma-separated (default 50,64; 50 is wgangp-mnist's default)")
    p.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                   help="threads of OpenBLAS, Numba, OpenMP, set before NumPy is imported "
                        "(default 1, wgan.train's default)")
    p.add_argument("--rounds", type=int, default=3,
                   help="train/cycle child pairs per batch size, in ABBA order (default 3)")
    p.add_argument("--steps", type=int, default=8,
                   help="measured generator steps (and cycles) per child (default 8)")
    p.add_argument("--warmup", type=int, default=2,
                   help="steps (and cycles) per child before the measured ones (default 2)")
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA,
                   help=f"the MNIST IDX files (default {DEFAULT_DATA})")
    p.add_argument("--limit-images", type=int, default=None,
                   help="train on the first N images only (tests; default: all 60,000)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"results folder ({DEFAULT_OUT})")
    p.add_argument("--machine-kind", default=None,
                   help="name used in the result file names (default: from the CPU)")
    p.add_argument("--child", choices=("train", "cycle"), default=None, help=argparse.SUPPRESS)
    p.add_argument("--batch", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--result", type=Path, default=None, help=argparse.SUPPRESS)
    return p


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.batch_sizes = [int(x) for x in args.batch_sizes.split(",") if x.strip()]
    except ValueError:
        parser.error(f"--batch-sizes: expected comma-separated integers, got {args.batch_sizes!r}")
    if not args.batch_sizes or min(args.batch_sizes) < 1:
        parser.error("--batch-sizes must be positive")
    if args.threads < 1 or args.rounds < 1 or args.steps < 1 or args.warmup < 0:
        parser.error("--threads, --rounds and --steps must be >= 1, --warmup >= 0")
    return args


# ----- the children -------------------------------------------------------------------------------
class Timers:
    """Wall and CPU seconds of each timed piece, per generator step (the step number in
    progress, 0 before the first, ``"end"`` after the loop); and each step's start."""

    def __init__(self) -> None:
        self.phase: int | str = 0
        self.parts: dict[str, dict[str, list[float]]] = {}  # label -> phase -> [wall, cpu, calls]
        self.marks: list[tuple[int | str, float, float]] = []  # (step, wall, cpu) at each start

    def mark(self, phase: int | str) -> None:
        self.phase = phase
        self.marks.append((phase, time.perf_counter(), time.process_time()))

    def wrap(self, owner, name: str, label: str) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(*a, **k):
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return original(*a, **k)
            finally:
                entry = self.parts.setdefault(label, {}).setdefault(str(self.phase), [0.0, 0.0, 0])
                entry[0] += time.perf_counter() - wall
                entry[1] += time.process_time() - cpu
                entry[2] += 1

        setattr(owner, name, timed)


def train_child(args: argparse.Namespace) -> dict:
    """Run the real ``wgan.train`` CLI with timers; its steps, parts and start-up."""
    import importlib

    started = (time.perf_counter(), time.process_time())
    import wgan.run
    import wgan.train

    timers = Timers()
    for module, owner, name, label in TIMED:
        target = importlib.import_module(module)
        timers.wrap(getattr(target, owner) if owner else target, name, label)
    step, loop = wgan.run._Run.step, wgan.run._Run.loop

    def marked_step(run):
        timers.mark(run.trainer.step + 1)
        return step(run)

    def marked_loop(run, *a, **k):
        try:
            return loop(run, *a, **k)
        finally:
            timers.mark("end")

    wgan.run._Run.step, wgan.run._Run.loop = marked_step, marked_loop
    with tempfile.TemporaryDirectory(prefix="end_to_end_") as tmp:
        run_dir = Path(tmp) / "run"
        argv = ["--model", "wgangp-mnist", "--loss", "wgan-gp", "--data-dir", str(args.data_dir),
                "--batch-size", str(args.batch), "--iters", str(args.warmup + args.steps),
                "--threads", str(args.threads), "--out", str(run_dir)]
        if args.limit_images:
            argv += ["--limit-images", str(args.limit_images)]
        status = wgan.train.main(argv)
        if status != 0:
            raise SystemExit(f"wgan.train exited with {status}")
        settings = json.loads((run_dir / "config.json").read_text())["settings"]
    marks = timers.marks
    steps = [{"step": a[0], "wall_s": b[1] - a[1], "cpu_s": b[2] - a[2]}
             for a, b in zip(marks, marks[1:])]
    return {"kind": "train", "batch": args.batch, "steps": steps, "parts": timers.parts,
            "startup": {"wall_s": marks[0][1] - started[0], "cpu_s": marks[0][2] - started[1]},
            "settings": {k: settings[k] for k in ("sample_every", "checkpoint_every", "log_every",
                                                  "tensorboard", "batch_size", "n_critic")}}


def cycle_child(args: argparse.Namespace) -> dict:
    """``benchmarks.step``'s cycle row on minigrad, timed one call at a time as the harness does."""
    from benchmarks import harness
    from benchmarks.frameworks import MinigradFramework
    from benchmarks.step import TrainingRunner

    config = harness.Config(dim=64, latent=128, batch_sizes=(args.batch,), dtype="float32",
                            backend="numpy", threads=args.threads, seed=0)
    runner = TrainingRunner(MinigradFramework("numpy"), "cycle", config, "float32", args.batch,
                            False)
    steps = []
    for i in range(args.warmup + args.steps):
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        runner.run()
        steps.append({"step": i + 1, "wall_s": time.perf_counter() - wall,
                      "cpu_s": time.process_time() - cpu})
    return {"kind": "cycle", "batch": args.batch, "steps": steps}


def child(args: argparse.Namespace) -> int:
    result = (train_child if args.child == "train" else cycle_child)(args)
    result["load_average"] = list(os.getloadavg())
    args.result.write_text(json.dumps(result))
    return 0


def run_child(kind: str, batch: int, args: argparse.Namespace) -> dict:
    """One child process (``python -m benchmarks.end_to_end --child KIND``); its result."""
    with tempfile.TemporaryDirectory(prefix="end_to_end_child_") as tmp:
        result_path = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", "benchmarks.end_to_end", "--child", kind, "--batch",
               str(batch), "--threads", str(args.threads), "--steps", str(args.steps),
               "--warmup", str(args.warmup), "--data-dir", str(args.data_dir),
               "--result", str(result_path)]
        if args.limit_images:
            cmd += ["--limit-images", str(args.limit_images)]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(REPO_ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
        proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
        if proc.returncode != 0 or not result_path.is_file():
            tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
            raise RuntimeError(f"{kind} child (batch {batch}) exited {proc.returncode}: {tail}")
        return json.loads(result_path.read_text())


# ----- the summary --------------------------------------------------------------------------------
def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _measured(result: dict, warmup: int) -> list[dict]:
    return [s for s in result["steps"] if isinstance(s["step"], int) and s["step"] > warmup]


def summarise(batch: int, trains: list[dict], cycles: list[dict], warmup: int) -> dict:
    """One batch size's medians, ratios and the trainer's parts (seconds)."""
    out: dict = {"batch": batch, "rounds": len(trains)}
    for clock in ("wall_s", "cpu_s"):
        train_steps = [s[clock] for r in trains for s in _measured(r, warmup)]
        cycle_steps = [s[clock] for r in cycles for s in _measured(r, warmup)]
        parts: dict[str, float] = {}
        for label in dict.fromkeys(label for *_, label in TIMED):
            if label in PER_CALL:  # seconds per call, over every call in the run
                index = 0 if clock == "wall_s" else 1
                calls = [(e[index], e[2]) for r in trains
                         for e in r["parts"].get(label, {}).values()]
                parts[label] = _median([t / n for t, n in calls if n]) or 0.0
            else:  # seconds per measured step, median over the steps
                index = 0 if clock == "wall_s" else 1
                per_step = [r["parts"].get(label, {}).get(str(s["step"]), [0.0, 0.0, 0])[index]
                            for r in trains for s in _measured(r, warmup)]
                parts[label] = _median(per_step) or 0.0
        settings = trains[0]["settings"]
        amortised = (parts["sampling (_Run.sample)"] / settings["sample_every"]
                     + parts["checkpoint (_Run.checkpoint)"] / settings["checkpoint_every"])
        train, cycle = _median(train_steps), _median(cycle_steps)
        round_ratios = [_median([s[clock] for s in _measured(t, warmup)])
                        / _median([s[clock] for s in _measured(c, warmup)])
                        for t, c in zip(trains, cycles)]
        algorithm = parts["algorithm (Trainer.train_step)"]
        out[clock] = {
            "train_step": train, "train_step_amortised": train + amortised,
            "sample_checkpoint_amortised": amortised, "cycle": cycle,
            "ratio": train / cycle, "ratio_amortised": (train + amortised) / cycle,
            "ratio_algorithm": algorithm / cycle, "round_ratios": round_ratios,
            "overhead_share": 1 - algorithm / (train + amortised),
            "startup": _median([r["startup"][clock] for r in trains]),
            "parts": parts, "train_samples": train_steps, "cycle_samples": cycle_steps,
        }
    out["settings"] = trains[0]["settings"]
    out["load_average"] = [r["load_average"] for r in trains + cycles]
    return out


def markdown(result: dict) -> str:
    s, info = result["settings"], result["machine"]
    from .machine import summary_lines

    lines = [
        "# python -m wgan.train vs benchmarks.step's cycle, seconds per generator step", "",
        f"{info['time']}; wgangp-mnist, wgan-gp, real MNIST, float32, {s['threads']} threads; "
        f"{s['rounds']} rounds (train / cycle child processes, ABBA) of {s['warmup']} warm-up + "
        f"{s['steps']} measured steps each.", "",
        *[line for line in summary_lines(info) if "PyTorch" not in line],
        f"- load average at end: {info.get('load_average_end')}", "",
        "| batch | clock | wgan.train s/step (median) | + samples, checkpoints (amortised) "
        "| cycle s | train / cycle | amortised / cycle | algorithm / cycle | per-round ratios |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in result["rows"]:
        for clock, name in (("cpu_s", "CPU"), ("wall_s", "wall")):
            r = row[clock]
            lines.append(
                f"| {row['batch']} | {name} | {r['train_step']:.3f} | {r['train_step_amortised']:.3f} "
                f"| {r['cycle']:.3f} | {r['ratio']:.3f} | **{r['ratio_amortised']:.3f}** | "
                f"{r['ratio_algorithm']:.3f} | {', '.join(f'{x:.3f}' for x in r['round_ratios'])} |")
    lines += ["", "Where a trainer step goes (CPU seconds; per step: median over the measured "
              "steps; sampling, checkpoint and GIF: per call, the amortised row divides by the "
              "default every-100 steps):", "",
              "| part | " + " | ".join(f"batch {row['batch']}" for row in result["rows"]) + " |",
              "|---|" + "---:|" * len(result["rows"])]
    for label in result["rows"][0]["cpu_s"]["parts"]:
        unit = " (per call)" if label in PER_CALL else ""
        cells = []
        for row in result["rows"]:
            value = row["cpu_s"]["parts"][label]
            share = value / row["cpu_s"]["train_step"] if not unit else None
            cells.append(f"{value:.4f}" + (f" ({share:.1%})" if share is not None else ""))
        lines.append(f"| {label.replace('  ', '&nbsp;&nbsp;')}{unit} | " + " | ".join(cells) + " |")
    for key, name in (("sample_checkpoint_amortised", "samples + checkpoints, amortised"),
                      ("startup", "start-up (not counted)")):
        lines.append(f"| {name} | " + " | ".join(f"{row['cpu_s'][key]:.4f}"
                                                 for row in result["rows"]) + " |")
    lines.append("| overhead share of the amortised step (1 - algorithm / step) | "
                 + " | ".join(f"{row['cpu_s']['overhead_share']:.1%}" for row in result["rows"])
                 + " |")
    lines += ["", f"Goal (issue 12): amortised / cycle <= {GOAL:.2f}: "
              + ", ".join(f"batch {row['batch']} {'met' if row['cpu_s']['ratio_amortised'] <= GOAL else 'NOT met'}"
                          f" (CPU {row['cpu_s']['ratio_amortised']:.3f}, wall "
                          f"{row['wall_s']['ratio_amortised']:.3f})" for row in result["rows"]),
              "", *[f"- {note}" for note in result["notes"]], ""]
    return "\n".join(lines)


NOTES = (
    "train: the real CLI (wgan.train.main) with every output setting at its default; one step "
    "= from one _Run.step call to the next; its parts are timed by wrappers installed before "
    "the run starts. cycle: benchmarks.step's TrainingRunner('cycle'), gc.collect() outside "
    "the clock before each call, as benchmarks.harness does.",
    "The trainer draws its z, eps and real batches (real MNIST) inside the step; the cycle "
    "takes precomputed inputs (random images): those draws are part of the trainer's cost.",
    "Nested parts overlap: data fetch, latent draws, gradient norms and the guard are inside "
    "the algorithm; the logging parts are inside logging.",
)


def main(argv: list[str] | None = None) -> int:
    threads = THREADS if THREADS is not None and argv is None else pin_threads_of(argv or [])
    args = parse_args(argv)
    if args.child:
        return child(args)
    if not args.data_dir.is_dir():
        print(f"error: --data-dir {args.data_dir} is not a directory (the MNIST IDX files)",
              file=sys.stderr)
        return 2
    from . import machine, report

    info = machine.machine_info("numpy", threads)
    collected = {b: {"train": [], "cycle": []} for b in args.batch_sizes}
    for round_ in range(args.rounds):
        for batch in args.batch_sizes:
            order = ("train", "cycle") if round_ % 2 == 0 else ("cycle", "train")
            for kind in order:
                result = run_child(kind, batch, args)
                collected[batch][kind].append(result)
                measured = [s["cpu_s"] for s in _measured(result, args.warmup)]
                print(f"round {round_ + 1}/{args.rounds} batch {batch} {kind}: median "
                      f"{_median(measured):.3f} CPU s/step, load {result['load_average'][0]:.2f}",
                      file=sys.stderr, flush=True)
    info["load_average_end"] = list(os.getloadavg())
    rows = [summarise(b, c["train"], c["cycle"], args.warmup) for b, c in collected.items()]
    result = {"suite": "end_to_end", "machine": info, "notes": list(NOTES), "rows": rows,
              "settings": {"batch_sizes": args.batch_sizes, "threads": args.threads,
                           "rounds": args.rounds, "steps": args.steps, "warmup": args.warmup,
                           "data_dir": str(args.data_dir), "limit_images": args.limit_images},
              "raw": {str(b): c for b, c in collected.items()}}
    stem = report.result_stem("end_to_end", info, args.threads, args.machine_kind)
    report.publish(result, markdown(result), args.out, stem)
    return 0


if __name__ == "__main__":
    sys.exit(main())
