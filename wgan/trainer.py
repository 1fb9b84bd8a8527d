"""The training algorithm: one generator step of GAN, WGAN or WGAN-GP, and the state it needs.

A generator step ("iteration", as in the papers) is Algorithm 1 of WGAN-GP (Gulrajani et al.,
2017) with the objective and the constraint of the chosen ``--loss``::

    for t = 1, ..., config.critic_steps(step):             (1) update the critic
        sample real x ~ P_r, latent z ~ p(z)
        x_tilde = G(z)                                     no graph is built through G
        L = critic_loss(D(x), D(x_tilde))                  wgan, wgan-gp: D(x_tilde) - D(x)
            + lambda (||grad D(x_hat)||_2 - 1)^2           wgan-gp: x_hat = eps x + (1 - eps) x_tilde
        w <- optimizer step on L                           wgan: then clip w to [-c, c]
    sample z ~ p(z)                                        (2) update the generator
    theta <- optimizer step on generator_loss(D(G(z)))     D's weights take no gradient

The class-conditional model (``acgan``, :class:`ConditionalTrainer`) adds the auxiliary
classifier's cross-entropy to both objectives.  On the CPU, before every optimizer step the
NaN/inf guard (:func:`check_finite`) stops the run, so a non-finite loss or gradient is never
applied.  On a GPU a step never waits for the device: the steps return their metrics as 0-d
device tensors, :func:`fetch_records` fetches those of ``--log-every`` steps in one transfer
(the one place they become Python floats), and the run loop runs the guard on them there, and
before every checkpoint, so a checkpoint never holds a non-finite step.

Every random draw comes from a stream derived from ``--seed``: ``init`` (parameters), ``noise``
(``Trainer.rng``: z, labels, GP weights eps, dropout masks), ``data`` (epoch permutations or the
2-D sampler) and ``samples`` (the pictures' fixed z).  :meth:`Trainer.state_dict` holds both
networks, both optimizers, the noise and data streams and the counters, so a resumed run is
bit-identical to an uninterrupted one.  The run around the trainer is :mod:`wgan.run`.
"""
from __future__ import annotations

import contextlib
import json
import math
import time
from typing import Any

import numpy as np

import minigrad
from minigrad import nn, optim
from minigrad.backends import device_for_backend

from . import losses, outputs
from .config import NUM_CLASSES, RESUMABLE, Config, ConfigError
from .data import Batches, ToyStream, load_images, scale_images, toy_batch
from .models import MODELS, ModelSpec, generate

CHECKPOINT_FORMAT = "wgan-checkpoint-1"
STREAMS = ("init", "noise", "data", "samples", "viz")

Metrics = dict[str, minigrad.Tensor]  # name -> 0-d tensor, read with metric_floats


class TrainingError(RuntimeError):
    """A run that cannot start or go on (bad run directory, checkpoint mismatch, ...)."""


class NonFiniteError(TrainingError):
    """A loss or gradient norm became NaN or infinite; the run stopped without saving.
    ``fetched_at``: on a GPU, the step after which the metrics were fetched and checked (the
    guard then runs on the metrics of steps ``step`` .. ``fetched_at``, not inside a step)."""

    def __init__(self, step: int, quantity: str, value: float, checkpoint: str = "",
                 fetched_at: int | None = None):
        self.step, self.quantity, self.value, self.fetched_at = step, quantity, value, fetched_at
        message = f"non-finite {quantity} ({value}) at generator step {step}"
        if fetched_at is not None and fetched_at != step:
            message += (f" (found when the metrics of the steps up to {fetched_at} were fetched; "
                        f"steps {step}-{fetched_at} were computed on it)")
        super().__init__(f"{message}; training stopped without saving. {checkpoint}".rstrip())

    def with_checkpoint(self, checkpoint: str) -> NonFiniteError:
        """The same error, its message ending with where the last good checkpoint is."""
        return NonFiniteError(self.step, self.quantity, self.value, checkpoint, self.fetched_at)


GUARDED = (("gradient_penalty", "gradient penalty"), ("critic_loss", "critic loss"),
           ("critic_grad_norm", "critic gradient norm"), ("generator_loss", "generator loss"),
           ("generator_grad_norm", "generator gradient norm"))


def check_finite(metrics: dict[str, Any], step: int, fetched_at: int | None = None) -> None:
    """The NaN/inf guard: NonFiniteError naming the first metric of ``GUARDED`` (the order
    they are computed in) that is not finite, and the generator ``step`` (1-based) in progress.
    The metrics are 0-d tensors (read here, a sync on a GPU) or fetched floats."""
    for key, quantity in GUARDED:
        if key in metrics:
            value = metrics[key]
            value = float(value.item()) if isinstance(value, minigrad.Tensor) else float(value)
            if not math.isfinite(value):
                raise NonFiniteError(step, quantity, value, fetched_at=fetched_at)


def metric_floats(record: dict[str, Any]) -> dict[str, Any]:
    """A step's record with its 0-d tensors fetched as Python floats, for the logs.  Counters
    and timings pass through."""
    return fetch_records([record])[0]


def fetch_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records of several steps with their 0-d tensors as Python floats, fetched from the
    device in one transfer (one sync on a GPU, however many steps and metrics): the one place
    metrics leave the device.  Each value is its tensor's, exactly (float32 widens to float64
    without rounding)."""
    found = [(i, key, value) for i, record in enumerate(records) for key, value in record.items()
             if isinstance(value, minigrad.Tensor)]
    out = [dict(record) for record in records]
    if found:
        values = minigrad.stack([v.detach().reshape(()).double() for _, _, v in found]).cpu().numpy()
        for (i, key, _), value in zip(found, values.tolist()):
            out[i][key] = value
    return out


def stream_seeds(seed: int) -> dict[str, int]:
    """Independent 64-bit seeds for the named random streams, derived from ``seed``."""
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {name: int(child.generate_state(1, np.uint64)[0]) for name, child in zip(STREAMS, children)}


# ----------------------------------------------------------------------------- building blocks

def _device(config: Config) -> str:
    try:
        return device_for_backend(config.backend)
    except RuntimeError as exc:
        raise ConfigError(f"--backend {config.backend} is not available: {exc}. Use --backend "
                          "numpy to train on the CPU") from None


def _data_stream(config: Config, spec: ModelSpec, rng: np.random.Generator,
                 device: minigrad.device) -> Batches | ToyStream:
    """The run's endless training batches ``(x, labels or None)``, drawn from ``rng``.  The
    images (and labels) are put on ``device`` once, so batches are gathered there."""
    if spec.data_kind == "toy":
        return ToyStream(config.dataset, config.batch_size, rng)
    # an explicit --data-dir is the only place looked in: never silently the cache or a download
    images, labels = load_images(config.dataset, "train", data_dir=config.data_dir,
                                 only_data_dir=config.data_dir is not None)
    images, labels = images[:config.limit_images], labels[:config.limit_images]
    if config.batch_size > len(images):
        raise ConfigError(f"--batch-size {config.batch_size} is larger than the "
                          f"{len(images)} training images")
    x = minigrad.tensor(scale_images(images, spec.output_range), device=device).array
    y = minigrad.tensor(labels, device=device).array if spec.conditional else None
    return Batches(x, y, config.batch_size, rng)


def _make_optimizer(config: Config, params) -> optim.Optimizer:
    if config.optimizer == "adam":
        return optim.Adam(params, lr=config.lr, betas=config.betas)
    if config.optimizer == "rmsprop":
        return optim.RMSprop(params, lr=config.lr)
    return optim.SGD(params, lr=config.lr)


def grad_norm(module: nn.Module) -> minigrad.Tensor:
    """The L2 norm of all parameter gradients of ``module`` together: a float64 0-d tensor,
    computed on the module's device without a sync."""
    return nn.utils.get_total_norm([p.grad for p in module.parameters() if p.grad is not None])


@contextlib.contextmanager
def _frozen(module: nn.Module):
    """``module``'s parameters take no gradient (none is computed or accumulated) inside."""
    module.requires_grad_(False)
    try:
        yield
    finally:
        module.requires_grad_(True)


# ----------------------------------------------------------------------------- the trainer

class Trainer:
    """The networks, optimizers, random streams and data of one run, and its step function
    ``train_step``; ``state_dict`` holds what a resumed run needs.  Unconditional models
    only: :func:`make_trainer` picks :class:`ConditionalTrainer` for ``acgan``."""

    conditional = False

    def __init__(self, config: Config):
        self.config = config
        self.spec = MODELS[config.model]
        if self.spec.conditional != self.conditional:
            raise TypeError(f"{type(self).__name__} cannot train --model {config.model}; "
                            "make_trainer(config) picks the trainer for a model")
        self.device = _device(config)
        # On the CPU the guard reads each step's metrics before its updates (free there). On a
        # GPU that read is a host sync that stalls the kernel queue twice a step, so the run
        # loop checks the fetched metrics every --log-every steps instead (wgan.run.train)
        self.guard_in_step = self.device.type == "cpu"
        seeds = stream_seeds(config.seed)
        self.rng = minigrad.Generator(seeds["noise"], device=self.device)  # draws on the device
        self.generator, self.critic = self.spec.build(config.loss, minigrad.Generator(seeds["init"]),
                                                      self.rng)
        self.generator.to(self.device)
        self.critic.to(self.device)
        self.g_opt = _make_optimizer(config, self.generator.parameters())
        self.c_opt = _make_optimizer(config, self.critic.parameters())
        self.data = _data_stream(config, self.spec, np.random.default_rng(seeds["data"]), self.device)
        self.step = 0
        self.critic_iterations = 0
        self.fixed_z = self.spec.sample_latent(config.n_samples,
                                               minigrad.Generator(seeds["samples"])).to(self.device)
        if self.spec.data_kind == "toy":
            self.viz_real = toy_batch(config.dataset, config.n_samples, np.random.default_rng(seeds["viz"]))

    # ----- the algorithm -------------------------------------------------------------------
    def train_step(self) -> dict[str, Any]:
        """One generator step with its critic steps; returns its record: ``step``,
        ``critic_iters``, the metrics of the last critic update and of the generator update
        (0-d tensors, see :func:`metric_floats`) and ``sec_per_step``.  Raises
        :class:`NonFiniteError` before an update with a NaN / inf loss or gradient is applied."""
        start = time.perf_counter()
        n_critic = self.config.critic_steps(self.step)
        # overflow shows up as a non-finite loss or gradient norm, which check_finite reports
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for _ in range(n_critic):  # (1) Update the critic
                critic_metrics = self.critic_step()
            generator_metrics = self.generator_step()  # (2) Update the generator
        self.step += 1
        wasserstein = critic_metrics["d_real"].double() - critic_metrics["d_fake"].double()
        return {"step": self.step, "critic_iters": n_critic, "wasserstein": wasserstein,
                **critic_metrics, **generator_metrics, "sec_per_step": time.perf_counter() - start}

    def critic_step(self) -> Metrics:
        """(1) One critic update on a real batch x and a generated batch x_tilde = G(z)."""
        real, _ = next(self.data)  # x ~ P_r
        x = self._tensor(real)
        with minigrad.no_grad():  # z ~ p(z); the critic's update needs no graph through G
            x_tilde = self.generator(self._latent())
        # L = D(x_tilde) - D(x) [+ lambda (||grad D(x_hat)||_2 - 1)^2], or the GAN's cross-entropy
        loss, metrics = self._critic_objective(x, x_tilde, self.critic(x), self.critic(x_tilde))
        self._update_critic(loss, metrics)  # w <- optimizer step on grad_w L; wgan: clip w
        return metrics

    def generator_step(self) -> Metrics:
        """(2) One generator update through a critic whose weights take no gradient."""
        metrics: Metrics = {}
        with _frozen(self.critic):
            scores = self.critic(self.generator(self._latent()))  # D(G(z)), z ~ p(z)
            self._descend(self.generator, self.g_opt, losses.generator_loss(self.config.loss, scores),
                          metrics, "generator")
        return metrics

    def score(self, x: minigrad.Tensor) -> minigrad.Tensor:
        """The critic's scores D(x) (N,)."""
        return self.critic(x)

    # ----- pieces of the steps ---------------------------------------------------------------
    def _tensor(self, array) -> minigrad.Tensor:
        """A batch (already on the device when it comes from the data stream) as a tensor."""
        return minigrad.as_tensor(array, device=self.device)

    def _latent(self) -> minigrad.Tensor:
        """A batch of latent codes z (batch_size, latent_dim) from ``rng``."""
        return self.spec.sample_latent(self.config.batch_size, self.rng).to(self.device)

    def _critic_objective(self, x: minigrad.Tensor, x_tilde: minigrad.Tensor, d_real: minigrad.Tensor,
                          d_fake: minigrad.Tensor) -> tuple[minigrad.Tensor, Metrics]:
        """L = critic_loss(D(x), D(x_tilde)), + lambda * GP for wgan-gp; and its metrics."""
        cfg = self.config
        loss = losses.critic_loss(cfg.loss, d_real, d_fake)
        metrics = {"d_real": d_real.detach().mean(), "d_fake": d_fake.detach().mean()}
        if cfg.loss == "wgan-gp":  # on x_hat = eps x + (1 - eps) x_tilde, eps ~ U[0, 1) from rng
            penalty, norms = losses.gradient_penalty(self.score, x, x_tilde, self.rng)
            loss = loss + cfg.gp_lambda * penalty
            metrics.update(gradient_penalty=penalty.detach(), gp_grad_norm=norms.mean())
        return loss, metrics

    def _update_critic(self, loss: minigrad.Tensor, metrics: Metrics) -> None:
        """The critic's optimizer step on ``loss``; then, for wgan, weight clipping."""
        self._descend(self.critic, self.c_opt, loss, metrics, "critic")
        if self.config.clip is not None:
            optim.clip_weights_(self.critic.parameters(), self.config.clip)
        self.critic_iterations += 1

    def _descend(self, network: nn.Module, optimizer: optim.Optimizer, loss: minigrad.Tensor,
                 metrics: Metrics, name: str) -> None:
        """One optimizer step of ``network`` on ``loss``, unless the guard finds a NaN / inf;
        adds ``<name>_loss`` and ``<name>_grad_norm`` to ``metrics``."""
        metrics[f"{name}_loss"] = loss.detach()
        optimizer.zero_grad()
        loss.backward()
        metrics[f"{name}_grad_norm"] = grad_norm(network)
        if self.guard_in_step:  # the NaN/inf guard: nothing non-finite is applied
            check_finite(metrics, self.step + 1)
        optimizer.step()

    # ----- samples -------------------------------------------------------------------------
    def samples(self) -> np.ndarray:
        """The generator's output for the fixed noise (see :func:`generate`): images
        (N, 1, 28, 28) in [0, 1] or points (N, 2)."""
        x = self._fixed_samples().cpu().numpy()
        return x if self.spec.data_kind == "toy" else outputs.to_unit_range(x, self.spec.output_range)

    def _fixed_samples(self) -> minigrad.Tensor:
        return generate(self.generator, self.fixed_z)

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
            "noise_rng": self.rng.get_state(),  # the on-disk name of the noise stream
            "data": self.data.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("format") != CHECKPOINT_FORMAT:
            raise TrainingError(f"not a wgan checkpoint (format {state.get('format')!r})")
        saved = Config.from_dict(json.loads(state["config"])).to_dict()
        mismatched = [k for k, v in saved.items() if k not in RESUMABLE and v != self.config.to_dict()[k]]
        if mismatched:
            raise TrainingError("the checkpoint was written with different settings: "
                                + ", ".join(f"{k}={saved[k]!r}" for k in mismatched))
        self.generator.load_state_dict(state["generator"])
        self.critic.load_state_dict(state["critic"])
        self.g_opt.load_state_dict(state["generator_optimizer"])
        self.c_opt.load_state_dict(state["critic_optimizer"])
        self.rng.set_state(state["noise_rng"])
        try:
            self.data.load_state_dict(state["data"])
        except ValueError as exc:  # other data than the checkpoint's (a run from before data records)
            raise TrainingError(f"the checkpoint does not fit this run's data: {exc}") from None
        self.step = int(state["step"])
        self.critic_iterations = int(state["critic_iterations"])


class ConditionalTrainer(Trainer):
    """The class-conditional pair (``acgan``): G(z, labels), and D(x) -> (scores, class logits).

    Both objectives gain the auxiliary classifier's cross-entropy, times ``class_weight``: the
    critic's on the real labels and on the labels the fakes were made for, the generator's on
    its labels.
    """

    conditional = True

    def __init__(self, config: Config):
        super().__init__(config)
        per_class = config.n_samples // NUM_CLASSES
        self.fixed_labels = self._tensor(np.repeat(np.arange(NUM_CLASSES), per_class))

    def critic_step(self) -> Metrics:
        """(1) One critic update on real (x, y) and generated (x_tilde = G(z, y_tilde), y_tilde)."""
        real, real_labels = next(self.data)
        x, y = self._tensor(real), self._tensor(real_labels)
        with minigrad.no_grad():
            x_tilde, y_tilde = self._generate()
        (d_real, logits_real), (d_fake, logits_fake) = self.critic(x), self.critic(x_tilde)
        loss, metrics = self._critic_objective(x, x_tilde, d_real, d_fake)
        class_loss = losses.class_loss(logits_real, y) + losses.class_loss(logits_fake, y_tilde)
        metrics["critic_class_loss"] = class_loss.detach()
        self._update_critic(loss + self.config.class_weight * class_loss, metrics)
        return metrics

    def generator_step(self) -> Metrics:
        """(2) One generator update: adversarial loss + class loss on the labels it was given."""
        cfg = self.config
        with _frozen(self.critic):
            x_tilde, y_tilde = self._generate()
            scores, logits = self.critic(x_tilde)
            class_loss = losses.class_loss(logits, y_tilde)
            metrics = {"generator_class_loss": class_loss.detach()}
            loss = losses.generator_loss(cfg.loss, scores) + cfg.class_weight * class_loss
            self._descend(self.generator, self.g_opt, loss, metrics, "generator")
        return metrics

    def score(self, x: minigrad.Tensor) -> minigrad.Tensor:
        return self.critic(x)[0]

    def _generate(self) -> tuple[minigrad.Tensor, minigrad.Tensor]:
        """(G(z, labels), labels) for fresh z and uniformly random labels from ``rng``."""
        z = self._latent()
        labels = minigrad.randint(0, NUM_CLASSES, (len(z),), generator=self.rng, device=self.device)
        return self.generator(z, labels), labels

    def _fixed_samples(self) -> minigrad.Tensor:
        return generate(self.generator, self.fixed_z, self.fixed_labels)


def make_trainer(config: Config) -> Trainer:
    """The trainer for ``config``'s model: :class:`ConditionalTrainer` for a class-conditional
    one, else :class:`Trainer`."""
    return (ConditionalTrainer if MODELS[config.model].conditional else Trainer)(config)
