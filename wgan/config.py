"""Every setting of a training run: one frozen dataclass, its defaults, its validation, its JSON.

``resolve_config(explicit)`` is the only way a :class:`Config` is made from user input: it takes
the options the user actually gave (everything else ``None``), fills in the defaults of the chosen
loss, model and dataset, and rejects contradictions (``--clip`` with ``wgan-gp``, an image model
on a 2-D dataset, ...) instead of silently ignoring an option.  Defaults follow the papers and
posts each setting comes from:

==========  =========  ==========  ============  ======  ==========  ========
loss        optimizer  lr          betas         clip    gp-lambda   n-critic
==========  =========  ==========  ============  ======  ==========  ========
gan         adam       1e-4        (0.9, 0.999)  -       -           1
wgan        rmsprop    5e-5        -             0.01    -           5
wgan-gp     adam       1e-4        (0.5, 0.9)    -       10 (0.1*)   5
==========  =========  ==========  ============  ======  ==========  ========

(*) 0.1 on the 2-D datasets, as the WGAN-GP paper's gan_toy.py.  ``gan`` follows the TensorFlow
DCGAN tutorial (Adam 1e-4, one discriminator step per generator step), ``wgan`` the WGAN paper
(RMSProp 5e-5, clipping to 0.01, 5 critic steps), ``wgan-gp`` the WGAN-GP paper (Adam 1e-4,
betas (0.5, 0.9), lambda 10, 5 critic steps).  The batch size defaults to the one of the model's
source (see :mod:`wgan.models`).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from .data import DATASETS, IMAGE_DATASETS, TOY_DATASETS
from .guards import DEFAULT_DIVERGENCE_BOUND
from .metrics import MIN_FID_SAMPLES
from .models import MODELS

LOSSES = ("gan", "wgan", "wgan-gp")
OPTIMIZERS = ("adam", "rmsprop", "sgd")
BACKENDS = ("numpy", "cupy")
NUM_CLASSES = 10

DEFAULT_OPTIMIZER = {"gan": "adam", "wgan": "rmsprop", "wgan-gp": "adam"}
DEFAULT_LR = {"gan": 1e-4, "wgan": 5e-5, "wgan-gp": 1e-4}
DEFAULT_BETAS = {"gan": (0.9, 0.999), "wgan": (0.9, 0.999), "wgan-gp": (0.5, 0.9)}
DEFAULT_N_CRITIC = {"gan": 1, "wgan": 5, "wgan-gp": 5}
DEFAULT_CLIP = 0.01
DEFAULT_GP_LAMBDA = {"image": 10.0, "toy": 0.1}
DEFAULT_CLASS_WEIGHT = 1.0
DEFAULT_ITERS = 10_000
DEFAULT_N_SAMPLES = {"image": 64, "toy": 512}
DEFAULT_N_SAMPLES_CONDITIONAL = 100  # a 10 x 10 grid, one row per class
DEFAULT_EVAL_EVERY = 500  # --eval-every without a number
DEFAULT_EVAL_SAMPLES = 1000

# Settings that may differ when a run is resumed: they change how far it goes and what it
# writes, never what a finished step computes (evaluation draws from its own fixed noise).
# (A resumed run's data must still be the same files, by checksum, wherever --data-dir now
# finds them.)
RESUMABLE = ("iters", "sample_every", "checkpoint_every", "log_every", "data_dir",
             "divergence_bound", "tensorboard", "eval_every", "eval_samples",
             "backend", "budget_seconds")
#: steps between metric fetches: every step on the CPU (as before); on a GPU a fetch is a host
#: sync that stalls the queue of kernels, so the metrics of 25 steps are fetched at once
DEFAULT_LOG_EVERY = {"numpy": 1, "cupy": 25}


class ConfigError(ValueError):
    """Options that are invalid or contradict each other."""


@dataclass(frozen=True)
class Config:
    """A fully resolved training run (see the module docstring for the defaults)."""

    dataset: str = "mnist"
    model: str = "wgangp-mnist"
    loss: str = "wgan-gp"
    optimizer: str = "adam"
    lr: float = 1e-4
    betas: tuple[float, float] | None = (0.5, 0.9)
    clip: float | None = None
    gp_lambda: float | None = 10.0
    n_critic: int = 5
    critic_boost: bool = False
    class_weight: float | None = None
    batch_size: int = 50
    iters: int = DEFAULT_ITERS
    seed: int = 0
    backend: str = "numpy"
    data_dir: str | None = None
    limit_images: int | None = None
    sample_every: int = 100
    checkpoint_every: int = 100
    n_samples: int = 64
    divergence_bound: float = DEFAULT_DIVERGENCE_BOUND  # see wgan.guards; inf: no check
    tensorboard: bool = True  # write TensorBoard event files into the run directory
    log_every: int = 1
    eval_every: int | None = None  # quality measures (wgan.metrics) every N steps; None: never
    eval_samples: int = DEFAULT_EVAL_SAMPLES
    # stop once the run's training clock (wgan.run: the loop's wall-clock time, evaluation
    # excluded, counted across resumes) reaches this many seconds; None: only --iters stops it
    budget_seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able settings (tuples become lists)."""
        d = dataclasses.asdict(self)
        if d["betas"] is not None:
            d["betas"] = list(d["betas"])
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Config:
        """Inverse of :meth:`to_dict`; unknown keys are an error (a config from another version)."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ConfigError(f"unknown settings in saved config: {', '.join(unknown)}")
        d = dict(d)
        if d.get("betas") is not None:
            d["betas"] = tuple(float(b) for b in d["betas"])
        return cls(**d)

    @property
    def data_kind(self) -> str:
        """'image' or 'toy'."""
        return "toy" if self.dataset in TOY_DATASETS else "image"

    def critic_steps(self, step: int) -> int:
        """Critic iterations before generator step ``step`` (0-based).

        With ``critic_boost`` the original WGAN schedule: 100 for the first 25 generator steps
        and for every 500th, ``n_critic`` otherwise.
        """
        if self.critic_boost and (step < 25 or step % 500 == 0):
            return 100
        return self.n_critic


def _choice(value: str, valid: tuple[str, ...], what: str) -> str:
    if value not in valid:
        raise ConfigError(f"unknown {what} {value!r}; valid choices are: {', '.join(valid)}")
    return value


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"--{name.replace('_', '-')} must be a positive integer, got {value!r}")
    return value


def _positive_float(name: str, value: Any, allow_zero: bool = False) -> float:
    value = float(value)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"--{name.replace('_', '-')} must be a finite number {bound}, got {value!r}")
    return value


def resolve_config(explicit: dict[str, Any]) -> Config:
    """Build a :class:`Config` from the options the user gave (others absent or ``None``).

    Raises :class:`ConfigError` naming the option for unknown choices, out-of-range values and
    contradictions.
    """
    given = {k: v for k, v in explicit.items() if v is not None}
    names = {f.name for f in dataclasses.fields(Config)}
    unknown = sorted(set(given) - names)
    if unknown:
        raise ConfigError(f"unknown settings: {', '.join(unknown)}")

    dataset = _choice(given.get("dataset", "mnist"), DATASETS, "dataset")
    kind = "toy" if dataset in TOY_DATASETS else "image"
    model = _choice(given.get("model", "toy-mlp" if kind == "toy" else "wgangp-mnist"),
                    tuple(MODELS), "model")
    spec = MODELS[model]
    if spec.data_kind != kind:
        fits = [name for name, s in MODELS.items() if s.data_kind == kind]
        datasets = TOY_DATASETS if spec.data_kind == "toy" else IMAGE_DATASETS
        raise ConfigError(f"--model {model} is for the datasets {', '.join(datasets)}, not "
                          f"{dataset!r}; models for {dataset!r}: {', '.join(fits)}")
    loss = _choice(given.get("loss", "wgan-gp"), LOSSES, "loss")
    optimizer = _choice(given.get("optimizer", DEFAULT_OPTIMIZER[loss]), OPTIMIZERS, "optimizer")
    backend = _choice(given.get("backend", "numpy"), BACKENDS, "backend")

    if "clip" in given and loss != "wgan":
        raise ConfigError(f"--clip (weight clipping) applies only to --loss wgan, not {loss!r}"
                          + ("; wgan-gp enforces the Lipschitz constraint with --gp-lambda"
                             if loss == "wgan-gp" else ""))
    if "gp_lambda" in given and loss != "wgan-gp":
        raise ConfigError(f"--gp-lambda (the gradient penalty weight) applies only to --loss "
                          f"wgan-gp, not {loss!r}")
    if "betas" in given and optimizer != "adam":
        raise ConfigError(f"--betas applies only to --optimizer adam, not {optimizer!r}")
    if "class_weight" in given and not spec.conditional:
        conditional = [n for n, s in MODELS.items() if s.conditional]
        raise ConfigError(f"--class-weight applies only to the class-conditional models "
                          f"({', '.join(conditional)}), not --model {model}")
    for option in ("limit_images", "data_dir"):
        if option in given and kind == "toy":
            raise ConfigError(f"--{option.replace('_', '-')} applies only to the image datasets "
                              f"({', '.join(IMAGE_DATASETS)}), not {dataset!r}")

    lr = _positive_float("lr", given.get("lr", DEFAULT_LR[loss]))
    betas = None
    if optimizer == "adam":
        betas = tuple(float(b) for b in given.get("betas", DEFAULT_BETAS[loss]))
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise ConfigError(f"--betas must be two numbers in [0, 1), got {given.get('betas')!r}")
    clip = _positive_float("clip", given.get("clip", DEFAULT_CLIP)) if loss == "wgan" else None
    gp_lambda = (_positive_float("gp_lambda", given.get("gp_lambda", DEFAULT_GP_LAMBDA[kind]),
                                 allow_zero=True) if loss == "wgan-gp" else None)
    class_weight = (_positive_float("class_weight", given.get("class_weight", DEFAULT_CLASS_WEIGHT),
                                    allow_zero=True) if spec.conditional else None)
    n_samples_default = (DEFAULT_N_SAMPLES_CONDITIONAL if spec.conditional
                         else DEFAULT_N_SAMPLES[kind])
    n_samples = _positive_int("n_samples", given.get("n_samples", n_samples_default))
    if spec.conditional and n_samples % NUM_CLASSES:
        raise ConfigError(f"--n-samples must be a multiple of {NUM_CLASSES} for --model {model} "
                          f"(one row per class), got {n_samples}")
    seed = given.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"--seed must be a non-negative integer, got {seed!r}")
    limit = given.get("limit_images")
    if limit is not None:
        limit = _positive_int("limit_images", limit)
    bound = float(given.get("divergence_bound", DEFAULT_DIVERGENCE_BOUND))
    if not bound > 0:  # inf is allowed: it turns the check off
        raise ConfigError(f"--divergence-bound must be a number > 0 (inf: no check), got {bound!r}")

    config = Config(
        dataset=dataset, model=model, loss=loss, optimizer=optimizer, lr=lr, betas=betas,
        clip=clip, gp_lambda=gp_lambda,
        n_critic=_positive_int("n_critic", given.get("n_critic", DEFAULT_N_CRITIC[loss])),
        critic_boost=bool(given.get("critic_boost", False)), class_weight=class_weight,
        batch_size=_positive_int("batch_size", given.get("batch_size", spec.batch_size)),
        iters=_positive_int("iters", given.get("iters", DEFAULT_ITERS)), seed=seed,
        backend=backend, data_dir=None if given.get("data_dir") is None else str(given["data_dir"]),
        limit_images=limit,
        sample_every=_positive_int("sample_every", given.get("sample_every", 100)),
        checkpoint_every=_positive_int("checkpoint_every", given.get("checkpoint_every", 100)),
        n_samples=n_samples, divergence_bound=bound,
        tensorboard=bool(given.get("tensorboard", True)),
        log_every=_positive_int("log_every", given.get("log_every", DEFAULT_LOG_EVERY[backend])),
        eval_every=(None if given.get("eval_every") is None
                    else _positive_int("eval_every", given["eval_every"])),
        eval_samples=_positive_int("eval_samples", given.get("eval_samples", DEFAULT_EVAL_SAMPLES)),
        budget_seconds=(None if given.get("budget_seconds") is None
                        else _positive_float("budget_seconds", given["budget_seconds"])),
    )
    if kind == "image" and config.eval_every and config.eval_samples < MIN_FID_SAMPLES:
        raise ConfigError(f"--eval-samples {config.eval_samples} is too few for FID, which "
                          f"needs at least {MIN_FID_SAMPLES}")
    if limit is not None and limit < config.batch_size:
        raise ConfigError(f"--limit-images {limit} is smaller than --batch-size "
                          f"{config.batch_size}; a batch needs at least that many images")
    return config


def resume_config(saved: Config, explicit: dict[str, Any]) -> Config:
    """The saved run's config with the options that may change on resume replaced.

    Any other option given with a value different from the saved one is an error: a resumed
    run must compute exactly what the uninterrupted run would have.
    """
    current = saved.to_dict()
    changes = {}
    for name, value in explicit.items():
        if value is None:
            continue
        if name not in current:
            raise ConfigError(f"unknown setting {name!r}")
        old = current[name]
        new = list(value) if isinstance(value, tuple) else value
        if isinstance(old, float) or isinstance(new, float):
            same = old is not None and new is not None and float(old) == float(new)
        else:
            same = old == new
        if same:
            continue
        if name not in RESUMABLE:
            allowed = ", ".join("--" + n.replace("_", "-") for n in RESUMABLE)
            raise ConfigError(
                f"--{name.replace('_', '-')} cannot change when resuming (the run has "
                f"{old!r}, got {new!r}); only {allowed} may")
        changes[name] = value
    merged = dict(current, **changes)
    return resolve_config(_explicit_from_saved(merged))


def _explicit_from_saved(d: dict[str, Any]) -> dict[str, Any]:
    """A saved config as 'explicit' options, dropping the ones its loss/model do not take."""
    d = dict(d)
    for name in ("clip", "gp_lambda", "betas", "class_weight"):
        if d.get(name) is None:
            d.pop(name, None)
    return d
