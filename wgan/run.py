"""A training run's lifecycle around the :class:`~wgan.trainer.Trainer`: start or resume it in
its run directory, loop over the generator steps writing metrics, pictures and checkpoints,
stop cleanly on SIGINT / SIGTERM, and load a finished run's generator.

The run directory (see :mod:`wgan.outputs`) holds ``config.json`` (the resolved settings, where
they came from and which data files, by SHA-256, the run trains on), the metrics, the pictures,
``run.log`` (what the terminal showed), the TensorBoard event files and ``checkpoint.npz`` (the
trainer's ``state_dict``, written atomically).  A new run never overwrites an existing
directory; a resumed one continues from its checkpoint and computes what the uninterrupted run
would have, on the same data (checked), or starts again from its ``config.json`` when it was
stopped before its first checkpoint.

``--budget-seconds S`` stops a run like reaching ``--iters`` (final checkpoint, picture,
evaluation and ``summary.json``) once its training clock reaches S.  The clock
(:class:`TrainingClock`) is the wall-clock time of the training loop (the steps, their pictures,
checkpoints and metrics lines) without start-up and without the evaluations of
``--eval-every`` (nor the quality summary and plot they rewrite).  Each metrics line records it
as ``train_seconds``, and a resumed run continues from the value at its checkpoint's step, so
the budget covers all the run's processes together.

What stops a run, each an ``error:`` line from the CLI (exit status 1) with the last good
checkpoint left as it was: a NaN / inf (:class:`~wgan.trainer.NonFiniteError`), divergence
beyond ``--divergence-bound`` (:class:`DivergedError`, see :mod:`wgan.guards`), and a write
that fails (a full disk, a read-only directory), reported naming the file.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import logging
import platform
import shutil
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import minigrad
from kernels.threads import thread_settings
from minigrad import nn
from minigrad.serialization import CheckpointError, load, save

from . import guards, outputs, provenance
from .config import NUM_CLASSES, Config, resume_config
from .data import DatasetNotFoundError
from .logs import RunLog, format_values
from .logs import progress as progress_bar
from .metrics import QualityMonitor
from .models import MODELS, ModelSpec
from .tensorboard_log import CONFIG_TAG, SAMPLES_TAG, TensorBoardLog, config_markdown
from .trainer import (NonFiniteError, Trainer, TrainingError, check_finite, fetch_records,
                      make_trainer)

log = logging.getLogger(__name__)
#: how the run ended (the steps reached, the training clock, what stopped it); see _Run.finish
SUMMARY_FILE = "summary.json"
# errno values that mean "this cannot be written", as opposed to a file that cannot be read
WRITE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG, errno.EACCES, errno.EPERM)


class DivergedError(TrainingError):
    """A loss, critic score or weight went beyond ``--divergence-bound``; stopped without saving."""


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
    """How a run ended at ``step``: 'completed' (``iters`` reached), 'budget' (its
    ``budget_seconds`` reached first) or 'interrupted' (by ``signum``)."""

    status: str
    step: int
    run_dir: Path
    signum: int | None = None
    iters: int | None = None
    budget_seconds: float | None = None


class TrainingClock:
    """A run's training seconds: the wall-clock time since :meth:`start` less the evaluations
    (:meth:`exclude`), plus ``before`` (the seconds of the processes a resumed run continues)."""

    def __init__(self, before: float = 0.0):
        self.before, self.excluded = before, 0.0
        self.started: float | None = None

    def start(self) -> None:
        self.started = time.perf_counter()

    def exclude(self, seconds: float) -> None:
        self.excluded += seconds

    def seconds(self) -> float:
        if self.started is None:
            return self.before
        return self.before + time.perf_counter() - self.started - self.excluded


def trained_seconds(run_dir: Path, step: int) -> float:
    """The training clock at ``step`` (a checkpoint's), from metrics.jsonl: that step's
    ``train_seconds``; for a run from before the clock, the sum of ``sec_per_step``."""
    if step == 0:
        return 0.0
    records = [r for r in outputs.read_metrics(run_dir) if r["step"] <= step]
    at_step = [r["train_seconds"] for r in records
               if r["step"] == step and r.get("train_seconds") is not None]
    if at_step:
        return float(at_step[-1])
    return float(sum(r.get("sec_per_step") or 0.0 for r in records))


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    found = {"python": platform.python_version(), "numpy": np.__version__,
             "minigrad": getattr(minigrad, "__version__", "?")}
    for package in ("minigrad-wgan", "matplotlib", "imageio", "numba", "tensorboard", "tqdm"):
        try:
            found[package] = md.version(package)
        except md.PackageNotFoundError:
            pass
    return found


def read_run_info(run_dir: Path) -> dict[str, Any]:
    """The whole of ``run_dir/config.json`` (settings, model, data, meta)."""
    path = Path(run_dir) / outputs.CONFIG_FILE
    if _is_empty_run_dir(Path(run_dir)):
        raise TrainingError(f"{run_dir} holds no run yet (a run stopped as it started leaves "
                            f"such an empty directory); remove it (rm -r {run_dir}) and start "
                            "the run again")
    if not path.is_file():
        raise TrainingError(f"{run_dir} is not a run directory (no {outputs.CONFIG_FILE})")
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise TrainingError(f"{path} is not a valid run config: {exc}") from exc


def _is_empty_run_dir(run_dir: Path) -> bool:
    """What :func:`_create_run_dir` made and nothing more: an empty samples folder."""
    samples = run_dir / outputs.SAMPLES_DIR
    return (run_dir.is_dir() and [p.name for p in run_dir.iterdir()] == [outputs.SAMPLES_DIR]
            and samples.is_dir() and not any(samples.iterdir()))


def read_run_config(run_dir: Path) -> Config:
    try:
        return Config.from_dict(read_run_info(run_dir)["settings"])
    except (ValueError, KeyError, TypeError) as exc:
        raise TrainingError(f"{Path(run_dir) / outputs.CONFIG_FILE} is not a valid run config: "
                            f"{exc}") from exc


def load_checkpoint(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / outputs.CHECKPOINT_FILE
    if not path.is_file():
        raise TrainingError(f"{run_dir} has no {outputs.CHECKPOINT_FILE} to resume from")
    try:
        return load(path)
    except CheckpointError as exc:
        raise TrainingError(str(exc)) from exc


def _write_config(run_dir: Path, config: Config, meta: dict, data: dict | None) -> str:
    """Write config.json; returns its text (TensorBoard shows it too)."""
    spec = MODELS[config.model]
    text = json.dumps({"settings": config.to_dict(), "model": {"summary": spec.summary,
                       "latent_dim": spec.latent_dim, "latent": spec.latent,
                       "output_range": spec.output_range, "conditional": spec.conditional},
                       "data": data, "meta": meta}, indent=2)
    outputs.write_text_atomic(Path(run_dir) / outputs.CONFIG_FILE, text + "\n")
    return text


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _data_record(config: Config) -> dict | None:
    """Which files the run trains on (None for the 2-D datasets, which are sampled)."""
    if config.data_kind == "toy":
        return None
    return provenance.data_record(config.dataset, config.data_dir,
                                  only_data_dir=config.data_dir is not None)


def _create_run_dir(run_dir: Path) -> Path:
    """Make a new run's directory (and its samples folder), before anything slow; returns the
    topmost directory created, for removal if the start fails."""
    if run_dir.exists() and not run_dir.is_dir():
        raise TrainingError(f"--out {run_dir} is a file, not a directory; pick a new --out")
    if run_dir.exists():
        raise TrainingError(f"--out {run_dir} already exists; refusing to overwrite it. "
                            f"Continue that run with --resume {run_dir}, or pick a new --out")
    topmost = [p for p in (run_dir, *run_dir.parents) if not p.exists()][-1]
    try:
        (run_dir / outputs.SAMPLES_DIR).mkdir(parents=True)
    except OSError as exc:
        shutil.rmtree(topmost, ignore_errors=True)
        raise TrainingError(f"cannot create --out {run_dir}: {exc.strerror or exc}") from None
    return topmost


def _start(config: Config, run_dir: Path, command: list[str], run_log: RunLog) -> tuple[Trainer, str]:
    """A new run: refuse an existing directory, create it, build everything (a failure removes
    the directory again), then write config + step 0.  Returns (trainer, config.json text)."""
    topmost = _create_run_dir(run_dir)
    try:
        trainer = make_trainer(config)
        data = _data_record(config)
    except BaseException:
        shutil.rmtree(topmost, ignore_errors=True)
        raise
    run_log.open(run_dir)
    log.info("started %s: %s / %s / %s, %d generator steps, %s BLAS/Numba threads", run_dir,
             config.loss, config.model, config.dataset, config.iters,
             thread_settings()["OPENBLAS_NUM_THREADS"] or "default")
    text = _write_config(run_dir, config, {"created": _now(), "command": command,
                                           "versions": _versions(),
                                           "threads": thread_settings()}, data)
    save_samples(trainer, outputs.sample_path(run_dir, 0))
    return trainer, text


def _resume_overrides(overrides: dict[str, Any], saved: Config, data: dict | None) -> dict[str, Any]:
    """The resume's options, with a relative ``data_dir`` of the run replaced by the absolute
    directory its files were found in at the start (the resume may run from another folder)."""
    if overrides.get("data_dir") is None and saved.data_dir is not None and data is not None:
        if not Path(saved.data_dir).expanduser().is_absolute():
            return dict(overrides, data_dir=data["dir"])
    return overrides


def _prepare_resume(run_dir: Path, run_log: RunLog) -> dict[str, Any]:
    """Check that a run directory can be resumed (a run, writable), start its run.log, remove
    what a killed process left; returns its config.json."""
    info = read_run_info(run_dir)
    try:
        outputs.check_writable(run_dir)
    except OSError as exc:
        raise TrainingError(f"cannot resume {run_dir}: {exc.strerror or exc}; a resumed run "
                            "writes to its directory. Copy it somewhere writable and resume "
                            "the copy") from None
    run_log.open(run_dir)
    stale = outputs.remove_stale_temps(run_dir)
    if stale:
        log.info("removed %d stale temp files left by a killed process: %s", len(stale),
                 ", ".join(p.name for p in stale))
    return info


def _resume(run_dir: Path, overrides: dict[str, Any], command: list[str],
            run_log: RunLog) -> tuple[Trainer, int | None, str]:
    """A resumed run: its config (with allowed overrides), the same data (checked) and its
    checkpoint, or, without one, its start again.  Metrics written after the checkpoint by
    the interrupted process are dropped (they will be recomputed).  Returns (trainer, the
    checkpoint's step or None, config.json text)."""
    info = _prepare_resume(run_dir, run_log)
    saved = read_run_config(run_dir)
    config = resume_config(saved, _resume_overrides(overrides, saved, info.get("data")))
    trainer = make_trainer(config)
    data = _data_record(config)
    if info.get("data") is not None and data is not None:
        try:
            provenance.check_same_data(info["data"], data)
        except provenance.DataMismatchError as exc:
            raise TrainingError(f"cannot resume {run_dir}: {exc}") from None
    elif data is not None:
        log.warning("warning: %s records no data files (an older run); the data are not checked",
                    outputs.CONFIG_FILE)
    checkpoint_step = None
    if (run_dir / outputs.CHECKPOINT_FILE).is_file():
        trainer.load_state_dict(load_checkpoint(run_dir))
        checkpoint_step = trainer.step
        log.info("resumed %s at step %d of %d", run_dir, trainer.step, config.iters)
    else:
        log.warning("warning: %s has no checkpoint yet: starting it again from step 0 with "
                    "its %s", run_dir, outputs.CONFIG_FILE)
        _clear_outputs(run_dir)
        save_samples(trainer, outputs.sample_path(run_dir, 0))
    try:
        outputs.truncate_metrics(run_dir, trainer.step)
    except outputs.MetricsError as exc:
        raise TrainingError(f"cannot resume {run_dir}: {exc}") from None
    meta = info.get("meta", {})
    meta.setdefault("resumed", []).append({"at_step": trainer.step, "time": _now(), "command": command})
    return trainer, checkpoint_step, _write_config(run_dir, config, meta, data)


def _clear_outputs(run_dir: Path) -> None:
    """Remove a run's pictures and event files, for its start again (run.log stays)."""
    for path in [*outputs.sample_frames(run_dir), *run_dir.glob("events.out.tfevents.*"),
                 run_dir / outputs.LOSS_PLOT, run_dir / outputs.GIF_FILE]:
        path.unlink(missing_ok=True)


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
        return (f"No checkpoint has been written yet; --resume {run_dir} starts the run again "
                "from its config.json.")
    return (f"The last good checkpoint, {run_dir / outputs.CHECKPOINT_FILE}, is at step {step}; "
            f"resume with --resume {run_dir}.")


@contextlib.contextmanager
def _naming(path: Path):
    """Give an OSError raised without a file name (numpy, matplotlib, os.write) ``path``."""
    try:
        yield
    except OSError as exc:
        if exc.filename is not None:
            raise
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc


class _Run:
    """A run in progress: its trainer, where it writes, and what it wrote last."""

    def __init__(self, trainer: Trainer, run_dir: Path, checkpoint_step: int | None,
                 board: TensorBoardLog, clock: TrainingClock):
        self.trainer, self.config, self.run_dir, self.board = trainer, trainer.config, run_dir, board
        self.saved_step, self.sampled_step = checkpoint_step, trainer.step
        self.clock = clock
        self.out_of_budget = self._budget_spent()
        self.pending: list[dict[str, Any]] = []  # steps whose metrics are still on the device
        self.quality = QualityMonitor.for_run(self.config, run_dir)  # --eval-every; None without
        self.title = f"{self.config.loss} / {self.config.model} / {self.config.dataset}"

    def last_good(self) -> str:
        return _last_good(self.run_dir, self.saved_step)

    def _budget_spent(self) -> bool:
        budget = self.config.budget_seconds
        return budget is not None and self.clock.seconds() >= budget

    def step(self) -> dict[str, Any] | None:
        """One generator step. Its metrics stay on the device until every ``--log-every``-th
        step, when the pending steps' lines are fetched, guarded and written (the last one is
        returned; None between fetches).  The step that spends the budget is evaluated and
        fetched at once (it is the run's last)."""
        try:
            record = self.trainer.train_step()
            record["train_seconds"] = self.clock.seconds()
            self.pending.append(record)
        except NonFiniteError as exc:  # the in-step guard (CPU): nothing non-finite applied
            raise exc.with_checkpoint(self.last_good()) from None
        except MemoryError as exc:  # CuPy's OutOfMemoryError is a MemoryError
            raise TrainingError(
                f"out of memory in generator step {self.trainer.step + 1} with --batch-size "
                f"{self.config.batch_size} on {self.trainer.device} ({type(exc).__name__}: "
                f"{exc}); try a smaller --batch-size. {self.last_good()}") from None
        step, config = self.trainer.step, self.config
        self.out_of_budget = self._budget_spent()
        evaluates = self.quality is not None and (step % config.eval_every == 0 or self.out_of_budget)
        return self.log_pending() if step % config.log_every == 0 or evaluates else None

    def log_pending(self) -> dict[str, Any] | None:
        """Fetch the pending steps' metrics (one sync on a GPU), run the guards on them (a
        NonFiniteError or DivergedError before a bad line is written), and write them."""
        records, self.pending = fetch_records(self.pending), []
        for record in records:
            if not self.trainer.guard_in_step:
                try:
                    check_finite(record, record["step"], fetched_at=self.trainer.step)
                except NonFiniteError as exc:
                    raise exc.with_checkpoint(self.last_good()) from None
            beyond = guards.beyond_bound(record, self.config.divergence_bound)
            if beyond is not None:
                self.diverged(*beyond)
            if self.quality is not None and record["step"] == self.trainer.step:
                # FID, IS, modes ... at eval steps and at the end of the budget; off the
                # training clock with quality.json and quality.png, which it rewrites
                started = time.perf_counter()
                self.quality.update(self.trainer, record, force=self.out_of_budget)
                self.clock.exclude(time.perf_counter() - started)
            outputs.append_metrics(self.run_dir, record)
            self.board.add_scalars(record)
        return records[-1] if records else None

    def check_weights(self) -> None:
        """The divergence bound on both networks' parameters (before they are saved)."""
        for network in ("generator", "critic"):
            name, value = guards.largest_parameter(getattr(self.trainer, network).named_parameters())
            if value > self.config.divergence_bound:
                self.diverged(f"{network} weight {name}", value)

    def diverged(self, quantity: str, value: float) -> None:
        bound, step = self.config.divergence_bound, self.trainer.step
        log.warning("warning: %s is %.3g at generator step %d, beyond the divergence bound %g",
                    quantity, value, step, bound)
        raise DivergedError(f"the run diverged: {quantity} reached {value:.3g} at generator step "
                            f"{step}, beyond the divergence bound {bound:g} (--divergence-bound "
                            f"{bound:g}; inf turns the check off); training stopped without "
                            f"saving. {self.last_good()}")

    def sample(self) -> None:
        """The fixed-noise picture of this step, into samples/ and TensorBoard."""
        self.log_pending()  # the guards pass every step before anything is saved
        self.check_weights()
        path = outputs.sample_path(self.run_dir, self.trainer.step)
        with _naming(path):
            save_samples(self.trainer, path)
        self.sampled_step = self.trainer.step
        self.board.add_image(SAMPLES_TAG, path, self.trainer.step)
        self.board.flush()

    def checkpoint(self, record: dict[str, Any] | None) -> None:
        """checkpoint.npz and losses.png of this step, logged with ``record``'s losses."""
        record = self.log_pending() or record  # the guards pass every step before it is saved
        self.check_weights()
        path = self.run_dir / outputs.CHECKPOINT_FILE
        with _naming(path):
            save(self.trainer.state_dict(), path)
        self.saved_step = self.trainer.step
        with _naming(self.run_dir / outputs.LOSS_PLOT):
            outputs.save_loss_plot(self.run_dir, self.title)
        self.board.flush()
        shown = f": {format_values(_shown(record))}" if record else ""
        log.info("checkpoint at step %d%s", self.trainer.step, shown)

    def loop(self, stop: StopRequest, show_progress: bool) -> None:
        """Generator steps until ``iters``, the budget or a stop request, sampling and
        checkpointing."""
        trainer, config = self.trainer, self.config
        self.clock.start()
        with progress_bar(config.iters, initial=trainer.step, enabled=show_progress) as bar:
            while trainer.step < config.iters and not self.out_of_budget and not stop:
                record = self.step()
                if record is not None:
                    bar.set_postfix_str(format_values(_shown(record)), refresh=False)
                bar.update(1)
                if trainer.step % config.sample_every == 0:
                    self.sample()
                if trainer.step % config.checkpoint_every == 0:
                    self.checkpoint(record)

    def finish(self) -> None:
        """The last checkpoint and picture (unless written at this step), the GIF and
        summary.json."""
        self.log_pending()
        if self.saved_step != self.trainer.step:
            self.checkpoint(None)
        if self.sampled_step != self.trainer.step:
            self.sample()
        with _naming(self.run_dir / outputs.GIF_FILE):
            outputs.save_gif(self.run_dir)
        self.write_summary()

    def write_summary(self) -> None:
        """summary.json: the steps reached, the training clock there and what stopped the run."""
        records = outputs.read_metrics(self.run_dir)
        last = next((r for r in reversed(records) if r["step"] == self.trainer.step), {})
        config = self.config
        stopped_by = ("budget" if self.out_of_budget else
                      "iters" if self.trainer.step >= config.iters else "signal")
        summary = {"stopped_by": stopped_by,
                   "step": self.trainer.step, "iters": config.iters,
                   "budget_seconds": config.budget_seconds,
                   "train_seconds": last.get("train_seconds", self.clock.seconds()),
                   "eval_seconds": float(sum(r.get("eval_seconds") or 0.0 for r in records)),
                   "clock": "wall-clock seconds of the training loop (steps, pictures, "
                            "checkpoints), evaluation and start-up excluded, summed over resumes"}
        path = self.run_dir / SUMMARY_FILE
        with _naming(path):
            outputs.write_text_atomic(path, json.dumps(summary, indent=1) + "\n")
        if self.out_of_budget:
            log.info("the budget of %g s is spent at generator step %d (%.1f s of training)",
                     config.budget_seconds, self.trainer.step, summary["train_seconds"])


def _write_error(exc: OSError, run_dir: Path, checkpoint_step: int | None) -> TrainingError:
    """The error line for a failed write: the file, what the system said, the last checkpoint."""
    what = "cannot write" if exc.errno in WRITE_ERRNOS else "cannot use"
    return TrainingError(f"{what} {exc.filename or run_dir}: {exc.strerror or exc}. "
                         + _last_good(run_dir, checkpoint_step))


def train(config: Config | None, run_dir: str | Path, *, resume: bool = False,
          overrides: dict[str, Any] | None = None, progress: bool = True,
          stop: StopRequest | None = None, command: list[str] | None = None,
          run_log: RunLog | None = None) -> RunResult:
    """Run (or, with ``resume``, continue) a training run in ``run_dir``.

    A new run needs ``config`` and a ``run_dir`` that does not exist yet (an existing one is
    never overwritten).  A resumed run reads ``run_dir``'s config and checkpoint; ``overrides``
    may change the settings listed in ``wgan.config.RESUMABLE`` (e.g. a larger ``iters``).
    Stops cleanly, with a checkpoint, at the first step boundary after ``stop`` becomes true.
    ``run_log`` (the CLI's, so that its last line lands there too) is opened on ``run_dir``
    once the directory is the run's; without one, ``run.log`` is closed on return.  Raises
    :class:`TrainingError` (the last checkpoint is left as it was) for a NaN / inf
    (:class:`NonFiniteError`), divergence (:class:`DivergedError`) and a failed write.
    """
    run_dir = Path(run_dir)
    stop = stop if stop is not None else StopRequest()
    own_log = run_log is None
    run_log = run_log if run_log is not None else RunLog()
    run = None
    try:
        run = _open_run(config, run_dir, resume, overrides or {}, command or sys.argv, run_log)
        run.loop(stop, progress)
        run.finish()
    except DatasetNotFoundError:
        raise
    except OSError as exc:
        raise _write_error(exc, run_dir, run.saved_step if run else None) from exc
    finally:
        if run is not None:
            run.board.close()
        if own_log:
            run_log.close()
    config = run.config
    if stop:
        return RunResult("interrupted", run.trainer.step, run_dir, stop.signum, config.iters,
                         config.budget_seconds)
    return RunResult("budget" if run.out_of_budget else "completed", run.trainer.step, run_dir,
                     None, config.iters, config.budget_seconds)


def _open_run(config: Config | None, run_dir: Path, resume: bool, overrides: dict[str, Any],
              command: list[str], run_log: RunLog) -> _Run:
    """Start or resume the run; its TensorBoard log opened, with the config as text."""
    if resume:
        trainer, checkpoint_step, text = _resume(run_dir, overrides, command, run_log)
    elif config is None:
        raise TrainingError("a new run needs a config")
    else:
        (trainer, text), checkpoint_step = _start(config, run_dir, command, run_log), None
    purge_from = None if checkpoint_step is None else checkpoint_step + 1
    board = TensorBoardLog(run_dir, purge_from, enabled=trainer.config.tensorboard)
    board.add_text(CONFIG_TAG, config_markdown(text), trainer.step)
    if trainer.step == 0:
        board.add_image(SAMPLES_TAG, outputs.sample_path(run_dir, 0), 0)
    clock = TrainingClock(trained_seconds(run_dir, trainer.step))
    return _Run(trainer, run_dir, checkpoint_step, board, clock)


def load_generator(run_dir: str | Path) -> tuple[Config, ModelSpec, nn.Module]:
    """The trained generator of a run (its latest checkpoint), in eval mode, on the CPU."""
    config = read_run_config(Path(run_dir))
    spec = MODELS[config.model]
    state = load_checkpoint(Path(run_dir))
    generator, _ = spec.build(config.loss, minigrad.Generator(0), minigrad.Generator(0))
    generator.load_state_dict(state["generator"])
    generator.eval()
    return config, spec, generator
