"""A training run's lifecycle around the :class:`~wgan.trainer.Trainer`: start or resume it in
its run directory, loop over the generator steps writing metrics, pictures and checkpoints,
stop cleanly on SIGINT / SIGTERM, and load a finished run's generator.

The run directory (see :mod:`wgan.outputs`) holds ``config.json`` (the resolved settings and
where they came from), the metrics, the pictures and ``checkpoint.npz`` (the trainer's
``state_dict``, written atomically).  A new run never overwrites an existing directory; a
resumed one continues from its checkpoint and computes what the uninterrupted run would have.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import platform
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import minigrad
from minigrad import nn
from minigrad.serialization import CheckpointError, load, save

from . import outputs
from .config import NUM_CLASSES, Config, resume_config
from .models import MODELS, ModelSpec
from .progress import ProgressBar
from .trainer import NonFiniteError, Trainer, TrainingError, check_finite, fetch_records, make_trainer

NO_CHECKPOINT = "No checkpoint has been written yet."


# ----------------------------------------------------------------------------- signals

class StopRequest:
    """Set by a signal handler; the loop checkpoints and returns at the next step boundary."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def __bool__(self) -> bool:
        return self.signum is not None


@contextlib.contextmanager
def stop_on_signals(signals: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM)):
    """Install handlers that request a clean stop (a second signal interrupts at once);
    restores the previous handlers on exit.  Outside the main thread: no handlers."""
    request = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield request
        return

    def handler(signum, frame):
        if request.signum is not None:
            raise KeyboardInterrupt
        request.signum = signum

    previous = {s: signal.signal(s, handler) for s in signals}
    try:
        yield request
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


# ----------------------------------------------------------------------------- the run directory

@dataclass
class RunResult:
    """How a run ended: 'completed' or 'interrupted' (by ``signum``) at ``step``."""

    status: str
    step: int
    run_dir: Path
    signum: int | None = None


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    found = {"python": platform.python_version(), "numpy": np.__version__,
             "minigrad": getattr(minigrad, "__version__", "?")}
    for package in ("minigrad-wgan", "matplotlib", "imageio", "numba"):
        try:
            found[package] = md.version(package)
        except md.PackageNotFoundError:
            pass
    return found


def read_run_config(run_dir: Path) -> Config:
    path = Path(run_dir) / outputs.CONFIG_FILE
    if not path.is_file():
        raise TrainingError(f"{run_dir} is not a run directory (no {outputs.CONFIG_FILE})")
    try:
        return Config.from_dict(json.loads(path.read_text())["settings"])
    except (ValueError, KeyError, TypeError) as exc:
        raise TrainingError(f"{path} is not a valid run config: {exc}") from exc


def load_checkpoint(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / outputs.CHECKPOINT_FILE
    if not path.is_file():
        raise TrainingError(f"{run_dir} has no {outputs.CHECKPOINT_FILE} to resume from")
    try:
        return load(path)
    except CheckpointError as exc:
        raise TrainingError(str(exc)) from exc


def _write_config(run_dir: Path, config: Config, meta: dict) -> None:
    spec = MODELS[config.model]
    text = json.dumps({"settings": config.to_dict(), "model": {"summary": spec.summary,
                       "latent_dim": spec.latent_dim, "latent": spec.latent,
                       "output_range": spec.output_range, "conditional": spec.conditional},
                       "meta": meta}, indent=2)
    outputs.write_text_atomic(Path(run_dir) / outputs.CONFIG_FILE, text + "\n")


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _start(config: Config, run_dir: Path, command: list[str]) -> Trainer:
    """A new run: refuse an existing directory, build everything, then write config + step 0."""
    if run_dir.exists():
        raise TrainingError(f"--out {run_dir} already exists; refusing to overwrite it. "
                            f"Continue that run with --resume {run_dir}, or pick a new --out")
    trainer = make_trainer(config)  # data and models first: a failure leaves no directory behind
    run_dir.mkdir(parents=True)
    (run_dir / outputs.SAMPLES_DIR).mkdir()
    _write_config(run_dir, config, {"created": _now(), "command": command, "versions": _versions()})
    save_samples(trainer, outputs.sample_path(run_dir, 0))
    return trainer


def _resume(run_dir: Path, overrides: dict[str, Any], command: list[str]) -> Trainer:
    """A resumed run: its config (with allowed overrides) and checkpoint; metrics written after
    the checkpoint by the interrupted process are dropped (they will be recomputed)."""
    config = resume_config(read_run_config(run_dir), overrides)
    meta = json.loads((run_dir / outputs.CONFIG_FILE).read_text()).get("meta", {})
    state = load_checkpoint(run_dir)
    trainer = make_trainer(config)
    trainer.load_state_dict(state)
    outputs.truncate_metrics(run_dir, trainer.step)
    meta.setdefault("resumed", []).append({"at_step": trainer.step, "time": _now(), "command": command})
    _write_config(run_dir, config, meta)
    return trainer


# ----------------------------------------------------------------------------- pictures

def critic_map(trainer: Trainer, points: np.ndarray) -> np.ndarray:
    """The critic's scores (M,) of 2-D points (M, 2), in eval mode."""
    trainer.critic.eval()
    try:
        with minigrad.no_grad():
            scores = trainer.score(minigrad.tensor(points, device=trainer.device))
    finally:
        trainer.critic.train()
    return scores.cpu().numpy()


def save_samples(trainer: Trainer, path: Path) -> None:
    """Write the fixed-noise picture of the trainer's current step: an image grid (a row per
    class for a conditional model), or for 2-D data the critic's contours with real and
    generated points."""
    config = trainer.config
    if trainer.spec.data_kind == "toy":
        _, grid = outputs.toy_grid()
        outputs.save_toy_plot(path, critic_map(trainer, grid), trainer.viz_real, trainer.samples(),
                              f"{config.dataset} {config.loss}, step {trainer.step}")
    else:
        columns = config.n_samples // NUM_CLASSES if trainer.conditional else None
        outputs.save_image_grid(path, trainer.samples(), columns)


# ----------------------------------------------------------------------------- a whole run

def _shown(record: dict) -> dict[str, float]:
    keys = (("W", "wasserstein"), ("D", "critic_loss"), ("G", "generator_loss"),
            ("GP", "gradient_penalty"))
    return {short: record[key] for short, key in keys if record.get(key) is not None}


def _last_good(run_dir: Path, step: int | None) -> str:
    if step is None:
        return NO_CHECKPOINT
    return (f"The last good checkpoint, {run_dir / outputs.CHECKPOINT_FILE}, is at step {step}; "
            f"resume with --resume {run_dir}.")


def train(config: Config | None, run_dir: str | Path, *, resume: bool = False,
          overrides: dict[str, Any] | None = None, progress: bool = True,
          stop: StopRequest | None = None, command: list[str] | None = None) -> RunResult:
    """Run (or, with ``resume``, continue) a training run in ``run_dir``.

    A new run needs ``config`` and a ``run_dir`` that does not exist yet (an existing one is
    never overwritten).  A resumed run reads ``run_dir``'s config and checkpoint; ``overrides``
    may change the settings listed in ``wgan.config.RESUMABLE`` (e.g. a larger ``iters``).
    Stops cleanly, with a checkpoint, at the first step boundary after ``stop`` becomes true.
    Raises :class:`NonFiniteError` (the last checkpoint is left as it was) on a NaN / inf.
    """
    run_dir = Path(run_dir)
    stop = stop if stop is not None else StopRequest()
    command = command or sys.argv
    if resume:
        trainer = _resume(run_dir, overrides or {}, command)
    elif config is None:
        raise TrainingError("a new run needs a config")
    else:
        trainer = _start(config, run_dir, command)
    config = trainer.config
    title = f"{config.loss} / {config.model} / {config.dataset}"
    saved_step = trainer.step if resume else None
    sampled_step = trainer.step

    pending: list[dict] = []  # records of steps whose metrics are still on the device

    def log_pending() -> None:
        """Fetch the pending steps' metrics (one sync), guard them, write them."""
        try:
            for record in fetch_records(pending):
                if not trainer.guard_in_step:
                    check_finite(record, record["step"], fetched_at=trainer.step)
                outputs.append_metrics(run_dir, record)
                bar.update(record["step"], _shown(record))
        except NonFiniteError as exc:
            raise exc.with_checkpoint(_last_good(run_dir, saved_step)) from None
        finally:
            pending.clear()

    def checkpoint() -> None:
        nonlocal saved_step
        log_pending()  # a checkpoint follows only steps the guard has passed
        save(trainer.state_dict(), run_dir / outputs.CHECKPOINT_FILE)
        saved_step = trainer.step
        outputs.save_loss_plot(run_dir, title)

    bar = ProgressBar(config.iters, start=trainer.step, enabled=progress)
    try:
        while trainer.step < config.iters and not stop:
            try:
                pending.append(trainer.train_step())
            except NonFiniteError as exc:
                raise exc.with_checkpoint(_last_good(run_dir, saved_step)) from None
            except MemoryError as exc:  # CuPy's OutOfMemoryError is a MemoryError
                raise TrainingError(
                    f"out of memory in generator step {trainer.step + 1} with --batch-size "
                    f"{config.batch_size} on {trainer.device} ({type(exc).__name__}: {exc}); try "
                    f"a smaller --batch-size. {_last_good(run_dir, saved_step)}") from None
            if trainer.step % config.log_every == 0:
                log_pending()
            if trainer.step % config.sample_every == 0:
                save_samples(trainer, outputs.sample_path(run_dir, trainer.step))
                sampled_step = trainer.step
            if trainer.step % config.checkpoint_every == 0:
                checkpoint()
        log_pending()
    finally:
        bar.close()
    if saved_step != trainer.step:
        checkpoint()
    if sampled_step != trainer.step:
        save_samples(trainer, outputs.sample_path(run_dir, trainer.step))
    outputs.save_gif(run_dir)
    if stop:
        return RunResult("interrupted", trainer.step, run_dir, stop.signum)
    return RunResult("completed", trainer.step, run_dir)


def load_generator(run_dir: str | Path) -> tuple[Config, ModelSpec, nn.Module]:
    """The trained generator of a run (its latest checkpoint), in eval mode, on the CPU."""
    config = read_run_config(Path(run_dir))
    spec = MODELS[config.model]
    state = load_checkpoint(Path(run_dir))
    generator, _ = spec.build(config.loss, minigrad.Generator(0), minigrad.Generator(0))
    generator.load_state_dict(state["generator"])
    generator.eval()
    return config, spec, generator
