"""``python -m wgan.study --out DIR``: GAN vs WGAN vs WGAN-GP (and seed post 003's BatchNorm and
LayerNorm critics), over several seeds, measured with :mod:`wgan.metrics`, in a Markdown report.

Every run is one ``python -m wgan.train ... --eval-every N`` process with its own run directory
``DIR/runs/<variant>-seed<k>``.  Runs execute in local worker processes (``--workers``, one
BLAS thread each: one core per run), or with ``--ray ADDRESS`` (``auto`` for a running local
cluster) one Ray task per run (``pip install '.[study]'``; the run directories must be on a
filesystem the Ray workers share).

The report compares the variants at equal generator steps (curves against the step, and a
table at the last step every run evaluated) and at equal wall-clock budgets (curves against
the training clock of :mod:`wgan.run`, evaluation excluded, and a table at the budget).  With
``--budget-seconds S`` every run trains until its clock reaches S (``wgan.train
--budget-seconds``; ``--iters`` stays an upper bound) and is evaluated where it stops; without
it every run trains ``--iters`` steps and the budget is read off them: the smallest mean
training time of any variant, each run scored at its last evaluation within it.

Killed and started again with the same ``--out``, the study skips finished runs (those with a
``study_done.json``), resumes unfinished ones from their checkpoints (``wgan.train --resume``)
and restarts those killed before their first checkpoint.  The report is written atomically
(``report.md``, ``results.json`` and the PNGs beside them), from the run directories, after
every run has finished; ``--report-only`` rewrites it from what is there.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .data import IMAGE_DATASETS
from .outputs import write_text_atomic

# variant -> (loss, model or None for --model): seed post 003's critics are keras-critic,
# BatchNorm for wgan and LayerNorm for wgan-gp
VARIANTS = {"gan": ("gan", None), "wgan": ("wgan", None), "wgan-gp": ("wgan-gp", None),
            "wgan-bn": ("wgan", "keras-critic"), "wgan-gp-ln": ("wgan-gp", "keras-critic")}
DONE_FILE, STUDY_FILE = "study_done.json", "study.json"
# the study's settings, with their defaults; saved in study.json, reused on a restart
SETTINGS = {"dataset": "mnist", "model": "wgangp-mnist", "variants": list(VARIANTS), "seeds": 2,
            "iters": 1000, "eval_every": 100, "eval_samples": 1000, "batch_size": None,
            "limit_images": None, "data_dir": None, "checkpoint_every": 50, "sample_every": 50,
            "budget_seconds": None}


class StudyError(RuntimeError):
    """A study that cannot start or finish; the message says why."""


# ----------------------------------------------------------------------------- the runs

def run_specs(settings: dict, out: Path) -> list[dict]:
    """One spec per (variant, seed): its name, run directory and ``wgan.train`` options."""
    specs = []
    for variant in settings["variants"]:
        loss, model = VARIANTS[variant]
        options = {"dataset": settings["dataset"], "loss": loss, "model": model or settings["model"],
                   "iters": settings["iters"], "eval-every": settings["eval_every"],
                   "eval-samples": settings["eval_samples"],
                   "checkpoint-every": settings["checkpoint_every"],
                   "sample-every": settings["sample_every"], "batch-size": settings["batch_size"],
                   "budget-seconds": settings.get("budget_seconds")}
        if settings["dataset"] in IMAGE_DATASETS:
            options.update({"data-dir": settings["data_dir"], "limit-images": settings["limit_images"]})
        for seed in range(settings["seeds"]):
            name = f"{variant}-seed{seed}"
            specs.append({"name": name, "variant": variant, "seed": seed,
                          "run_dir": str(out / "runs" / name),
                          "options": {**options, "seed": seed}})
    return specs


def train_command(spec: dict) -> list[str]:
    """The ``wgan.train`` command line for a run: a fresh start, or ``--resume`` from its
    checkpoint (removing a directory killed before its first checkpoint, which has none)."""
    run_dir = Path(spec["run_dir"])
    if (run_dir / "checkpoint.npz").is_file():
        command = [sys.executable, "-m", "wgan.train", "--resume", str(run_dir), "--quiet",
                   "--iters", str(spec["options"]["iters"])]
        budget = spec["options"].get("budget-seconds")
        return command + (["--budget-seconds", str(budget)] if budget is not None else [])
    if run_dir.exists():
        shutil.rmtree(run_dir)
    command = [sys.executable, "-m", "wgan.train", "--out", str(run_dir), "--quiet"]
    for key, value in spec["options"].items():
        if value is not None:
            command += [f"--{key}", str(value)]
    return command


def _child_env() -> dict:
    """One BLAS / Numba thread per run (one core each) and this copy of the package first."""
    package_root = str(Path(__file__).resolve().parents[1])
    return dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
                NUMBA_NUM_THREADS="1",
                PYTHONPATH=package_root + os.pathsep + os.environ.get("PYTHONPATH", ""))


def execute_run(spec: dict, children: set | None = None) -> dict:
    """Train one run to completion (resuming it if it was started before); returns
    ``{"name", "returncode", "seconds"}`` and marks it done (``study_done.json``) on success.
    ``children``: a set the running process is kept in while it runs (to forward a stop).
    Used both by the local workers and as the Ray task."""
    run_dir = Path(spec["run_dir"])
    if (run_dir / DONE_FILE).is_file():
        return {"name": spec["name"], "returncode": 0, "seconds": 0.0, "skipped": True}
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    log_path = run_dir.parent.parent / "logs" / f"{spec['name']}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with open(log_path, "a") as log:
        process = subprocess.Popen(train_command(spec), stdout=log, stderr=subprocess.STDOUT,
                                   env=_child_env())
        if children is not None:
            children.add(process)
        try:
            returncode = process.wait()
        finally:
            if children is not None:
                children.discard(process)
    result = {"name": spec["name"], "returncode": returncode,
              "seconds": time.perf_counter() - start, "skipped": False}
    if returncode == 0:
        write_text_atomic(run_dir / DONE_FILE, json.dumps(result) + "\n")
    return result


def run_local(specs: list[dict], workers: int) -> list[dict]:
    """The runs in ``workers`` local worker processes at a time.  SIGINT / SIGTERM are passed on
    to the running trainings, which checkpoint and stop; unstarted runs are not started."""
    children: set = set()
    stopping = threading.Event()

    def forward(signum, frame):
        stopping.set()
        for process in list(children):
            process.send_signal(signum)

    def work(spec):
        return None if stopping.is_set() else execute_run(spec, children)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(work, specs))
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if stopping.is_set():
        raise StudyError("stopped; run the same command again to resume")
    return results


def run_ray(specs: list[dict], address: str) -> list[dict]:
    """The runs as Ray tasks (one CPU each) on the cluster at ``address``."""
    try:
        import ray
    except ImportError:
        raise StudyError("--ray needs Ray: pip install 'minigrad-wgan[study]' (or pip install "
                         "ray)") from None
    ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
    task = ray.remote(num_cpus=1)(execute_run)
    return ray.get([task.remote(spec) for spec in specs])


# ----------------------------------------------------------------------------- settings

def study_settings(out: Path, given: dict) -> dict:
    """The study's settings: ``study.json``'s when the study was started before (an option given
    with another value is an error), else the defaults overridden by ``given``."""
    given = {k: v for k, v in given.items() if v is not None}
    path = out / STUDY_FILE
    if path.is_file():
        saved = json.loads(path.read_text())
        changed = {k: v for k, v in given.items() if saved.get(k) != v}
        if changed:
            raise StudyError(f"{out} is a study started with other settings "
                             f"({', '.join(f'{k}={saved.get(k)!r}' for k in changed)}); "
                             "resume it without them, or choose a new --out")
        return {**SETTINGS, **saved}  # a study.json from before a setting existed: its default
    settings = {**SETTINGS, **given}
    unknown = sorted(set(settings["variants"]) - set(VARIANTS))
    if unknown:
        raise StudyError(f"unknown variants {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
    if settings["dataset"] not in IMAGE_DATASETS:
        dropped = [v for v in settings["variants"] if VARIANTS[v][1] is not None]
        if dropped and "variants" in given:
            raise StudyError(f"variants {', '.join(dropped)} use image critics; not for "
                             f"{settings['dataset']}")
        settings["variants"] = [v for v in settings["variants"] if v not in dropped]
        if settings["model"] == SETTINGS["model"]:
            settings["model"] = "toy-mlp"
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(settings, indent=1) + "\n")
    return settings


# ----------------------------------------------------------------------------- the CLI

def _csv(text: str) -> list[str]:
    return [part for part in text.split(",") if part]


def build_parser() -> argparse.ArgumentParser:
    from .train import positive_int, positive_seconds

    p = argparse.ArgumentParser(
        prog="python -m wgan.study",
        description="GAN vs WGAN vs WGAN-GP (plus seed post 003's BatchNorm / LayerNorm "
                    "critics) over several seeds, scored with wgan.metrics during training; "
                    "writes DIR/report.md. Run again with the same --out to resume.",
        epilog=f"variants: {', '.join(f'{k} ({v[0]}, ' + (v[1] or '--model') + ')' for k, v in VARIANTS.items())}. "
               "Options left out take study.json's values on a restart, else the defaults.")
    p.add_argument("--out", required=True, metavar="DIR", help="the study directory")
    p.add_argument("--dataset", help=f"(default: {SETTINGS['dataset']}; a 2-D set drops the "
                                     "keras-critic variants)")
    p.add_argument("--model", help=f"model of gan, wgan, wgan-gp (default: {SETTINGS['model']})")
    p.add_argument("--variants", type=_csv, help="comma-separated (default: all)")
    p.add_argument("--seeds", type=positive_int, help=f"seeds 0..K-1 (default: {SETTINGS['seeds']})")
    p.add_argument("--iters", type=positive_int,
                   help=f"generator steps of every run (default: {SETTINGS['iters']})")
    p.add_argument("--budget-seconds", type=positive_seconds, metavar="S",
                   help="train every run until S seconds of training (wgan.train "
                        "--budget-seconds; --iters is the upper bound) and compare the "
                        "variants at that budget (default: every run trains --iters steps)")
    p.add_argument("--eval-every", type=positive_int, help=f"(default: {SETTINGS['eval_every']})")
    p.add_argument("--eval-samples", type=positive_int, help=f"(default: {SETTINGS['eval_samples']})")
    p.add_argument("--checkpoint-every", type=positive_int,
                   help=f"(default: {SETTINGS['checkpoint_every']})")
    p.add_argument("--sample-every", type=positive_int, help=f"(default: {SETTINGS['sample_every']})")
    p.add_argument("--batch-size", type=positive_int, help="for every run (default: each model's)")
    p.add_argument("--limit-images", type=positive_int, help="train on the first N images")
    p.add_argument("--data-dir", metavar="DIR", help="where the MNIST IDX files are")
    p.add_argument("--workers", type=positive_int, default=os.cpu_count() or 1,
                   help="local worker processes, one core each (default: the CPU count)")
    p.add_argument("--ray", metavar="ADDRESS", help="run on a Ray cluster ('auto': a running one)")
    p.add_argument("--grid-steps", type=lambda t: [int(s) for s in _csv(t)],
                   help="steps of the side-by-side grids (default: first, middle, last)")
    p.add_argument("--report-only", action="store_true", help="only rewrite the report")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    out = Path(args.out)
    given = {name: getattr(args, name) for name in SETTINGS}
    if given["data_dir"] is not None:
        given["data_dir"] = str(Path(given["data_dir"]).resolve())
    from .study_report import write_report

    start = time.perf_counter()
    try:
        settings = study_settings(out, given)
        specs = run_specs(settings, out.resolve())
        if not args.report_only:
            results = run_ray(specs, args.ray) if args.ray else run_local(specs, args.workers)
            failed = [r["name"] for r in results if r["returncode"] != 0]
            if failed:
                raise StudyError(f"runs failed: {', '.join(failed)} (see {out / 'logs'}); "
                                 "run the same command again to retry them")
        report = write_report(out, settings, specs, args.grid_steps,
                              None if args.report_only else time.perf_counter() - start)
    except StudyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {report}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
