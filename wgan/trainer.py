"""The training loop: critic steps, the generator step, clipping, logging, checkpoints, resume.

One generator step ("iteration", as in the papers) is ``config.critic_steps(step)`` critic
updates followed by one generator update:

* critic update: a real batch; z (and, for ``acgan``, random labels) from the noise generator;
  the fake batch is generated under ``no_grad`` (no generator graph is built);
  loss = adversarial (+ lambda * GP) (+ class_weight * cross-entropy on real and fake);
  Adam / RMSprop / SGD step; then, for ``wgan``, every critic parameter clipped to [-c, c].
* generator update: the critic's parameters are set ``requires_grad_(False)`` so the backward
  pass computes no weight gradients for it (and accumulates none); loss = adversarial
  (+ class_weight * cross-entropy on the fake labels).

Reproducibility: every random draw comes from an explicit stream derived from ``--seed``:
``init`` (parameters), ``noise`` (z, labels, GP interpolation weights, dropout masks) and
``data`` (epoch permutations, or the 2-D sampler), plus a fixed ``samples`` stream for the
pictures.  The checkpoint holds both networks (parameters and batch-norm buffers), both
optimizers, the noise and data stream states and the counters, so a resumed run computes
exactly what the uninterrupted run would have, bit for bit.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import platform
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import minigrad
from minigrad import nn, optim
from minigrad.serialization import CheckpointError, load, save

from . import losses, outputs
from .config import RESUMABLE, Config, ConfigError, resume_config
from .data import Batches, load_images, scale_images, toy_batch
from .models import MODELS, ModelSpec
from .progress import ProgressBar

CHECKPOINT_FORMAT = "wgan-checkpoint-1"
STREAMS = ("init", "noise", "data", "samples", "viz")


class TrainingError(RuntimeError):
    """A run that cannot start or go on (bad run directory, checkpoint mismatch, ...)."""


class NonFiniteError(TrainingError):
    """A loss or gradient norm became NaN or infinite; the run stopped without saving."""

    def __init__(self, step: int, quantity: str, value: float, checkpoint: str):
        self.step, self.quantity, self.value = step, quantity, value
        super().__init__(f"non-finite {quantity} ({value}) at generator step {step}; training "
                         f"stopped without saving. {checkpoint}")


# ----------------------------------------------------------------------------- RNG streams

def stream_seeds(seed: int) -> dict[str, int]:
    """Independent 64-bit seeds for the named random streams, derived from ``seed``."""
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {name: int(child.generate_state(1, np.uint64)[0]) for name, child in zip(STREAMS, children)}


def _numpy_rng_state(rng: np.random.Generator) -> dict:
    state = rng.bit_generator.state
    return {"bit_generator": state["bit_generator"], "state": str(state["state"]["state"]),
            "inc": str(state["state"]["inc"]), "has_uint32": int(state["has_uint32"]),
            "uinteger": int(state["uinteger"])}


def _set_numpy_rng_state(rng: np.random.Generator, state: dict) -> None:
    rng.bit_generator.state = {
        "bit_generator": state["bit_generator"],
        "state": {"state": int(state["state"]), "inc": int(state["inc"])},
        "has_uint32": int(state["has_uint32"]), "uinteger": int(state["uinteger"])}


# ----------------------------------------------------------------------------- data streams

class ImageStream:
    """Shuffled minibatches of scaled images (B, 1, 28, 28) float32 and labels (B,) int64."""

    def __init__(self, config: Config, spec: ModelSpec, rng: np.random.Generator):
        images, labels = load_images(config.dataset, "train", data_dir=config.data_dir)
        if config.limit_images is not None:
            images, labels = images[:config.limit_images], labels[:config.limit_images]
        if config.batch_size > len(images):
            raise ConfigError(f"--batch-size {config.batch_size} is larger than the "
                              f"{len(images)} training images")
        self.n_images = len(images)
        self.batches = Batches(scale_images(images, spec.output_range), labels, config.batch_size, rng)

    def next(self) -> tuple[np.ndarray, np.ndarray | None]:
        return next(self.batches)

    def state_dict(self) -> dict:
        return self.batches.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.batches.load_state_dict(state)


class ToyStream:
    """Fresh 2-D batches (B, 2) float32 from the sampler of ``config.dataset``."""

    def __init__(self, config: Config, rng: np.random.Generator):
        self.name, self.batch_size, self.rng = config.dataset, config.batch_size, rng

    def next(self) -> tuple[np.ndarray, None]:
        return toy_batch(self.name, self.batch_size, self.rng), None

    def state_dict(self) -> dict:
        return _numpy_rng_state(self.rng)

    def load_state_dict(self, state: dict) -> None:
        _set_numpy_rng_state(self.rng, state)


# ----------------------------------------------------------------------------- the trainer

def _device(config: Config) -> str:
    """'cpu', or 'cuda' once the CuPy backend can be loaded (a clear error otherwise)."""
    if config.backend == "numpy":
        return "cpu"
    from minigrad.backends import cupy_backend

    try:
        cupy_backend()
    except Exception as exc:  # CuPy missing or broken: the message says what and how to install
        raise ConfigError(f"--backend cupy is not available: {exc}. Use --backend numpy to "
                          "train on the CPU") from None
    import cupy

    try:
        cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDA driver / runtime errors: no usable GPU
        raise ConfigError(f"--backend cupy is not available: CuPy found no usable NVIDIA GPU "
                          f"({type(exc).__name__}: {exc}). Use --backend numpy to train on the "
                          "CPU") from None
    return "cuda"


def _grad_norm(module: nn.Module) -> float:
    """The L2 norm of all parameter gradients of ``module`` together."""
    total = 0.0
    for p in module.parameters():
        if p.grad is not None:
            total += float(p._backend.xp.linalg.norm(p.grad.data.ravel())) ** 2
    return math.sqrt(total)


def _make_optimizer(config: Config, params) -> optim.Optimizer:
    if config.optimizer == "adam":
        return optim.Adam(params, lr=config.lr, betas=config.betas)
    if config.optimizer == "rmsprop":
        return optim.RMSprop(params, lr=config.lr)
    return optim.SGD(params, lr=config.lr)


class Trainer:
    """The networks, optimizers, random streams and data of one run, and its step function.

    ``train_step()`` performs one generator step (with its critic steps) and returns that
    step's metrics; ``state_dict()`` / ``load_state_dict()`` capture everything a resumed run
    needs.  Raises :class:`NonFiniteError` (before any update is applied with it) when a
    loss or gradient norm is NaN or infinite.
    """

    def __init__(self, config: Config):
        self.config = config
        self.spec = MODELS[config.model]
        self.device = _device(config)
        seeds = stream_seeds(config.seed)
        self.noise = minigrad.Generator(seeds["noise"])
        self.generator, self.critic = self.spec.build(config.loss, minigrad.Generator(seeds["init"]),
                                                      self.noise)
        self.generator.to(self.device)
        self.critic.to(self.device)
        self.g_opt = _make_optimizer(config, self.generator.parameters())
        self.c_opt = _make_optimizer(config, self.critic.parameters())
        data_rng = np.random.default_rng(seeds["data"])
        self.data = (ToyStream(config, data_rng) if self.spec.data_kind == "toy"
                     else ImageStream(config, self.spec, data_rng))
        self.step = 0
        self.critic_iterations = 0
        self.checkpoint_note = "No checkpoint has been written yet."  # for NonFiniteError
        self.fixed_z = self.spec.sample_latent(config.n_samples, minigrad.Generator(seeds["samples"]))
        self.fixed_z = self.fixed_z.to(self.device)
        self.fixed_labels = None
        if self.spec.conditional:
            per_class = config.n_samples // 10
            self.fixed_labels = minigrad.tensor(np.repeat(np.arange(10), per_class), device=self.device)
        if self.spec.data_kind == "toy":
            self.viz_real = toy_batch(config.dataset, config.n_samples, np.random.default_rng(seeds["viz"]))

    # ----- pieces of a step ----------------------------------------------------------------
    def _tensor(self, array: np.ndarray) -> minigrad.Tensor:
        return minigrad.tensor(array, device=self.device)

    def _generate(self, n: int) -> tuple[minigrad.Tensor, minigrad.Tensor | None]:
        """(samples, labels or None) from fresh noise; records a graph only if grad mode is on."""
        z = self.spec.sample_latent(n, self.noise).to(self.device)
        if not self.spec.conditional:
            return self.generator(z), None
        labels = minigrad.randint(0, 10, (n,), generator=self.noise, device=self.device)
        return self.generator(z, labels), labels

    def _critic(self, x: minigrad.Tensor) -> tuple[minigrad.Tensor, minigrad.Tensor | None]:
        out = self.critic(x)
        return out if self.spec.conditional else (out, None)

    def _check(self, quantity: str, value: float) -> float:
        """``value``, or NonFiniteError naming the generator step in progress (1-based)."""
        if not math.isfinite(value):
            raise NonFiniteError(self.step + 1, quantity, value, self.checkpoint_note)
        return value

    def critic_step(self) -> dict[str, Any]:
        """One critic update; returns its metrics."""
        cfg = self.config
        real_np, real_labels_np = self.data.next()
        real = self._tensor(real_np)
        with minigrad.no_grad():
            fake, fake_labels = self._generate(cfg.batch_size)
        real_scores, real_logits = self._critic(real)
        fake_scores, fake_logits = self._critic(fake)
        loss = losses.critic_loss(cfg.loss, real_scores, fake_scores)
        record: dict[str, Any] = {"d_real": float(real_scores.detach().mean().item()),
                                  "d_fake": float(fake_scores.detach().mean().item())}
        if cfg.loss == "wgan-gp":
            penalty, norms = losses.gradient_penalty(lambda x: self._critic(x)[0], real, fake, self.noise)
            loss = loss + cfg.gp_lambda * penalty
            record["gradient_penalty"] = self._check("gradient penalty", float(penalty.item()))
            record["gp_grad_norm"] = float(norms.mean().item())
        if self.spec.conditional:
            real_labels = self._tensor(real_labels_np)
            class_loss = (losses.class_loss(real_logits, real_labels)
                          + losses.class_loss(fake_logits, fake_labels))
            loss = loss + cfg.class_weight * class_loss
            record["critic_class_loss"] = float(class_loss.item())
        record["critic_loss"] = self._check("critic loss", float(loss.item()))
        self.c_opt.zero_grad()
        loss.backward()
        record["critic_grad_norm"] = self._check("critic gradient norm", _grad_norm(self.critic))
        self.c_opt.step()
        if cfg.clip is not None:
            optim.clip_weights_(self.critic.parameters(), cfg.clip)
        self.critic_iterations += 1
        return record

    def generator_step(self) -> dict[str, Any]:
        """One generator update through a critic whose weights take no gradient."""
        cfg = self.config
        self.critic.requires_grad_(False)
        try:
            fake, labels = self._generate(cfg.batch_size)
            scores, logits = self._critic(fake)
            loss = losses.generator_loss(cfg.loss, scores)
            record: dict[str, Any] = {}
            if self.spec.conditional:
                class_loss = losses.class_loss(logits, labels)
                loss = loss + cfg.class_weight * class_loss
                record["generator_class_loss"] = float(class_loss.item())
            record["generator_loss"] = self._check("generator loss", float(loss.item()))
            self.g_opt.zero_grad()
            loss.backward()
        finally:
            self.critic.requires_grad_(True)
        record["generator_grad_norm"] = self._check("generator gradient norm", _grad_norm(self.generator))
        self.g_opt.step()
        return record

    def train_step(self) -> dict[str, Any]:
        """One generator step with its critic steps; returns the metrics line for it."""
        start = time.perf_counter()
        n_critic = self.config.critic_steps(self.step)
        # overflow shows up as a non-finite loss or gradient norm, which _check reports
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for _ in range(n_critic):
                critic = self.critic_step()
            gen = self.generator_step()
        self.step += 1
        record = {"step": self.step, "critic_iters": n_critic,
                  "wasserstein": critic["d_real"] - critic["d_fake"], **critic, **gen,
                  "sec_per_step": time.perf_counter() - start}
        return record

    # ----- samples -------------------------------------------------------------------------
    def samples(self) -> np.ndarray:
        """The generator's output for the fixed noise (see ``generate``): images
        (N, 1, 28, 28) in [0, 1] or points (N, 2)."""
        x = generate(self.generator, self.fixed_z, self.fixed_labels if self.spec.conditional else None)
        x = x.cpu().numpy()
        return x if self.spec.data_kind == "toy" else outputs.to_unit_range(x, self.spec.output_range)

    def critic_map(self, points: np.ndarray) -> np.ndarray:
        """Critic scores (M,) of 2-D points (M, 2), eval mode."""
        self.critic.eval()
        try:
            with minigrad.no_grad():
                scores, _ = self._critic(self._tensor(points))
        finally:
            self.critic.train()
        return scores.cpu().numpy()

    def save_samples(self, path: Path) -> None:
        """Write the fixed-noise picture for the current step."""
        if self.spec.data_kind == "toy":
            _, grid = outputs.toy_grid()
            outputs.save_toy_plot(path, self.critic_map(grid), self.viz_real, self.samples(),
                                  f"{self.config.dataset} {self.config.loss}, step {self.step}")
        else:
            ncol = self.config.n_samples // 10 if self.spec.conditional else None
            outputs.save_image_grid(path, self.samples(), ncol)

    # ----- checkpoint state ------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "config": json.dumps(self.config.to_dict(), sort_keys=True),
            "step": self.step,
            "critic_iterations": self.critic_iterations,
            "generator": self.generator.state_dict(),
            "critic": self.critic.state_dict(),
            "generator_optimizer": self.g_opt.state_dict(),
            "critic_optimizer": self.c_opt.state_dict(),
            "noise_rng": self.noise.get_state(),
            "data": self.data.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("format") != CHECKPOINT_FORMAT:
            raise TrainingError(f"not a wgan checkpoint (format {state.get('format')!r})")
        saved = Config.from_dict(json.loads(state["config"]))
        mismatched = [k for k, v in saved.to_dict().items()
                      if k not in RESUMABLE and v != self.config.to_dict()[k]]
        if mismatched:
            raise TrainingError("the checkpoint was written with different settings: "
                                + ", ".join(f"{k}={saved.to_dict()[k]!r}" for k in mismatched))
        self.generator.load_state_dict(state["generator"])
        self.critic.load_state_dict(state["critic"])
        self.g_opt.load_state_dict(state["generator_optimizer"])
        self.c_opt.load_state_dict(state["critic_optimizer"])
        self.noise.set_state(state["noise_rng"])
        self.data.load_state_dict(state["data"])
        self.step = int(state["step"])
        self.critic_iterations = int(state["critic_iterations"])


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


# ----------------------------------------------------------------------------- a whole run

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


def _shown(record: dict) -> dict[str, float]:
    keys = (("W", "wasserstein"), ("D", "critic_loss"), ("G", "generator_loss"),
            ("GP", "gradient_penalty"))
    return {short: record[key] for short, key in keys if record.get(key) is not None}


def _last_good(run_dir: Path, step: int) -> str:
    return (f"The last good checkpoint, {run_dir / outputs.CHECKPOINT_FILE}, is at step {step}; "
            f"resume with --resume {run_dir}.")


def _start(config: Config, run_dir: Path, command: list[str]) -> Trainer:
    """A new run: refuse an existing directory, build everything, then write config + step 0."""
    if run_dir.exists():
        raise TrainingError(f"--out {run_dir} already exists; refusing to overwrite it. "
                            f"Continue that run with --resume {run_dir}, or pick a new --out")
    trainer = Trainer(config)  # data and models first: a failure leaves no directory behind
    run_dir.mkdir(parents=True)
    (run_dir / outputs.SAMPLES_DIR).mkdir()
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    _write_config(run_dir, config, {"created": now, "command": command, "versions": _versions()})
    trainer.save_samples(outputs.sample_path(run_dir, 0))
    return trainer


def _resume(run_dir: Path, overrides: dict[str, Any], command: list[str]) -> Trainer:
    """A resumed run: its config (with allowed overrides) and checkpoint; metrics written after
    the checkpoint by the interrupted process are dropped (they will be recomputed)."""
    config = resume_config(read_run_config(run_dir), overrides)
    meta = json.loads((run_dir / outputs.CONFIG_FILE).read_text()).get("meta", {})
    state = load_checkpoint(run_dir)
    trainer = Trainer(config)
    trainer.load_state_dict(state)
    trainer.checkpoint_note = _last_good(run_dir, trainer.step)
    outputs.truncate_metrics(run_dir, trainer.step)
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    meta.setdefault("resumed", []).append({"at_step": trainer.step, "time": now, "command": command})
    _write_config(run_dir, config, meta)
    return trainer


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

    def checkpoint() -> None:
        nonlocal saved_step
        save(trainer.state_dict(), run_dir / outputs.CHECKPOINT_FILE)
        saved_step = trainer.step
        trainer.checkpoint_note = _last_good(run_dir, trainer.step)
        outputs.save_loss_plot(run_dir, title)

    bar = ProgressBar(config.iters, start=trainer.step, enabled=progress)
    try:
        while trainer.step < config.iters and not stop:
            record = trainer.train_step()
            outputs.append_metrics(run_dir, record)
            bar.update(trainer.step, _shown(record))
            if trainer.step % config.sample_every == 0:
                trainer.save_samples(outputs.sample_path(run_dir, trainer.step))
                sampled_step = trainer.step
            if trainer.step % config.checkpoint_every == 0:
                checkpoint()
    finally:
        bar.close()
    if saved_step != trainer.step:
        checkpoint()
    if sampled_step != trainer.step:
        trainer.save_samples(outputs.sample_path(run_dir, trainer.step))
    outputs.save_gif(run_dir)
    if stop:
        return RunResult("interrupted", trainer.step, run_dir, stop.signum)
    return RunResult("completed", trainer.step, run_dir)


def generate(generator: nn.Module, z: minigrad.Tensor, labels: minigrad.Tensor | None = None
             ) -> minigrad.Tensor:
    """Samples G(z[, labels]) without a graph, normalised with batch statistics.

    BatchNorm generators sample in training mode, as PyTorch's DCGAN example does: their
    running averages (Keras' momentum 0.99 in the DCGAN post) lag behind a generator that
    changes every step, and early in training eval-mode samples come out blank (measured:
    a DCGAN at step 400 gave all-black eval-mode grids and digit-like train-mode ones). The
    running statistics are restored afterwards, so sampling never changes the model.
    """
    saved = [(b, b.data.copy()) for b in generator.buffers()]
    was_training = generator.training
    generator.train()
    try:
        with minigrad.no_grad():
            return generator(z) if labels is None else generator(z, labels)
    finally:
        for buffer, data in saved:
            buffer.data[...] = data
        generator.train(was_training)


def load_generator(run_dir: str | Path) -> tuple[Config, ModelSpec, nn.Module]:
    """The trained generator of a run (its latest checkpoint), in eval mode, on the CPU."""
    config = read_run_config(Path(run_dir))
    spec = MODELS[config.model]
    state = load_checkpoint(Path(run_dir))
    generator, _ = spec.build(config.loss, minigrad.Generator(0), minigrad.Generator(0))
    generator.load_state_dict(state["generator"])
    generator.eval()
    return config, spec, generator
