"""``python -m wgan.train``: train a GAN, WGAN, WGAN-GP or AC-WGAN; see ``--help``.

Exit status: 0 finished; 1 error (bad data, a NaN/inf loss, divergence, a full disk, an unusable
run directory); 2 bad command line; 130 / 143 stopped by SIGINT (Ctrl-C) / SIGTERM after writing a
checkpoint.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import logging
import math
import signal
import sys
from pathlib import Path

if __name__ == "__main__":  # before NumPy (OpenBLAS) and Numba start their thread pools
    from kernels.threads import pin_threads_for_training

    pin_threads_for_training(sys.argv[1:])

from .config import (BACKENDS, DEFAULT_EVAL_EVERY, DEFAULT_EVAL_SAMPLES, DEFAULT_ITERS, LOSSES,
                     OPTIMIZERS, RESUMABLE, Config, ConfigError, resolve_config)
from .data import DATASETS, DatasetNotFoundError, IdxFormatError
from .guards import DEFAULT_DIVERGENCE_BOUND
from .models import MODELS

log = logging.getLogger("wgan.train")

EPILOG = """\
defaults per loss (each overridable):
  gan      Adam lr 1e-4, betas (0.9, 0.999), --n-critic 1          (TensorFlow DCGAN tutorial)
  wgan     RMSprop lr 5e-5, --clip 0.01, --n-critic 5              (WGAN paper)
  wgan-gp  Adam lr 1e-4, betas (0.5, 0.9), --gp-lambda 10, --n-critic 5  (WGAN-GP paper;
           --gp-lambda 0.1 on the 2-D datasets, as its gan_toy.py)
--batch-size defaults to the model's source: mlp 32, dcgan 256, wgangp-mnist 50,
keras-critic 64, acgan 100, toy-mlp 256.

models:
{models}

the run directory (--out):
  config.json         every resolved setting, versions, seed
  metrics.jsonl       one line per generator step: wasserstein (= E[D(real)] - E[D(fake)] of
                      the last critic step; for gan a logit gap), d_real, d_fake, critic_loss,
                      generator_loss, gradient_penalty, gp_grad_norm (mean ||grad_x D||),
                      critic/generator_grad_norm, class losses (acgan), sec_per_step,
                      train_seconds (the training clock at that step; see --budget-seconds)
  samples/step_XXXXXX.png   fixed-noise samples (rows by class for acgan; critic contours
                      with real and generated points for the 2-D datasets)
  losses.png, samples.gif, checkpoint.npz
  summary.json        how the run ended: steps reached, training / evaluation seconds, and
                      whether --iters or --budget-seconds stopped it
  run.log             what the terminal showed: start, resume, checkpoints, warnings, the end
  events.out.tfevents.*   TensorBoard: the metrics, the samples, the config
                      (tensorboard --logdir runs; --no-tensorboard: none)
config.json also records the data: its absolute directory, the files' names, SHA-256 and
image count; --resume refuses other data, naming the file that differs.

examples:
  python -m wgan.train --loss wgan-gp --model wgangp-mnist --iters 20000 --out runs/wgangp
  python -m wgan.train --loss wgan --model mlp --iters 5000 --out runs/mlp-wgan
  python -m wgan.train --loss gan --model dcgan --out runs/dcgan-gan
  python -m wgan.train --model acgan --loss wgan --critic-boost --out runs/acgan
  python -m wgan.train --dataset 8gaussians --loss wgan-gp --out runs/8g
  python -m wgan.train --resume runs/wgangp --iters 40000      # continue, bit-exact
  python -m wgan.train --loss wgan --model mlp --budget-seconds 600 --iters 100000 --out runs/10min

exit status: 0 done; 1 error (data, a NaN/inf loss or divergence beyond --divergence-bound:
the last good checkpoint is kept; a full disk, an unusable run directory); 2 bad options;
130 / 143 stopped by Ctrl-C / SIGTERM after writing a checkpoint.
"""


def _int_at_least(minimum: int, what: str):
    """An argparse type: an integer >= ``minimum``, else a message naming ``what`` it must be."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected a {what} integer, got {text!r}")
        return value

    parse.__name__ = f"{what} integer"
    return parse


positive_int = _int_at_least(1, "positive")
non_negative_int = _int_at_least(0, "non-negative")


def positive_seconds(text: str) -> float:
    """An argparse type: a finite number of seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    models = "\n".join(f"  {name:<13} {spec.summary}" for name, spec in MODELS.items())
    p = argparse.ArgumentParser(
        prog="python -m wgan.train",
        description="Train a GAN, WGAN (weight clipping), WGAN-GP or AC-WGAN on MNIST, "
                    "Fashion-MNIST or a 2-D toy distribution, on the minigrad autodiff engine. "
                    "Options left out take the defaults of the chosen --loss and --model "
                    "(listed below); an option that does not apply to them is an error.",
        epilog=EPILOG.format(models=models), formatter_class=argparse.RawDescriptionHelpFormatter)
    # Every option defaults to None: "not given", so the config layer can tell a default from
    # a choice (and refuse contradictions and changes on --resume).
    data = p.add_argument_group("data")
    data.add_argument("--dataset", choices=DATASETS, help="training data (default: mnist)")
    data.add_argument("--data-dir", metavar="DIR",
                      help="directory with the IDX files (default: $WGAN_DATA_DIR, "
                           "~/.cache/wgan/<dataset>, else download)")
    data.add_argument("--limit-images", type=positive_int, metavar="N",
                      help="train on the first N images only (quick experiments, tests)")

    model = p.add_argument_group("model and loss")
    model.add_argument("--model", choices=tuple(MODELS),
                       help="generator/critic pair (default: wgangp-mnist; toy-mlp for 2-D data)")
    model.add_argument("--loss", choices=LOSSES, help="objective (default: wgan-gp)")
    model.add_argument("--n-critic", type=positive_int, metavar="N",
                       help="critic updates per generator update (default: 5; gan: 1)")
    model.add_argument("--critic-boost", action="store_true", default=None,
                       help="the original WGAN schedule: 100 critic updates for the first 25 "
                            "generator steps and every 500th")
    model.add_argument("--clip", type=float, metavar="C",
                       help="wgan only: clip critic weights to [-C, C] after every critic "
                            "update (default: 0.01)")
    model.add_argument("--gp-lambda", type=float, metavar="L",
                       help="wgan-gp only: gradient penalty weight (default: 10; 0.1 on 2-D data)")
    model.add_argument("--class-weight", type=float, metavar="W",
                       help="acgan only: weight of the auxiliary class cross-entropy (default: 1)")

    opt = p.add_argument_group("optimisation")
    opt.add_argument("--optimizer", choices=OPTIMIZERS,
                     help="for both networks (default: rmsprop for wgan, adam otherwise)")
    opt.add_argument("--lr", type=float, help="learning rate of both networks "
                                              "(default: 5e-5 for wgan, 1e-4 otherwise)")
    opt.add_argument("--betas", type=float, nargs=2, metavar=("B1", "B2"),
                     help="adam only (default: 0.5 0.9 for wgan-gp, 0.9 0.999 otherwise)")
    opt.add_argument("--batch-size", type=positive_int, metavar="N",
                     help="minibatch size (default: the model's, see below)")
    opt.add_argument("--iters", type=positive_int, metavar="N",
                     help=f"generator steps to train for (default: {DEFAULT_ITERS})")
    opt.add_argument("--budget-seconds", type=positive_seconds, metavar="S",
                     help="also stop (cleanly: final checkpoint, samples, evaluation, summary.json) "
                          "once the run has trained for S seconds of wall-clock time, counted "
                          "across resumes; evaluation (--eval-every) is not counted. --iters "
                          "stays an upper bound")
    opt.add_argument("--seed", type=non_negative_int,
                     help="seed of every random stream: init, noise, data order (default: 0)")
    opt.add_argument("--backend", choices=BACKENDS,
                     help="array backend: numpy (CPU) or cupy (NVIDIA GPU) (default: numpy)")
    opt.add_argument("--threads", type=positive_int, metavar="N",
                     help="threads of OpenBLAS, OpenMP and Numba, set before they start "
                          "(default: 1, or what OPENBLAS_NUM_THREADS etc. already say). Two "
                          "runs on one machine should share its cores: N = cores / runs")

    out = p.add_argument_group("output")
    out.add_argument("--out", metavar="DIR",
                     help="run directory to create; an existing one is refused "
                          "(default: runs/<loss>-<model>-<dataset>-<time>)")
    out.add_argument("--resume", metavar="DIR",
                     help="continue the run in DIR from its checkpoint; only "
                          + ", ".join("--" + n.replace("_", "-") for n in RESUMABLE)
                          + " may be given with a new value")
    out.add_argument("--sample-every", type=positive_int, metavar="N",
                     help="write samples/step_XXXXXX.png every N generator steps (default: 100)")
    out.add_argument("--checkpoint-every", type=positive_int, metavar="N",
                     help="write checkpoint.npz and losses.png every N generator steps "
                          "(default: 100); also written at the end and on Ctrl-C / SIGTERM")
    out.add_argument("--log-every", type=positive_int, metavar="N",
                     help="fetch the metrics (metrics.jsonl, progress bar, NaN/inf guard on a GPU) "
                          "every N generator steps (default: 1; 25 with --backend cupy, where each "
                          "fetch is a device sync); metrics.jsonl still has one line per step")
    out.add_argument("--n-samples", type=positive_int, metavar="N",
                     help="fixed-noise samples per picture (default: 64; acgan 100, a row per "
                          "class; 2-D data 512 points)")
    out.add_argument("--tensorboard", action=argparse.BooleanOptionalAction,
                     help="write TensorBoard event files (scalars, sample pictures, config) into "
                          "the run directory; view with tensorboard --logdir runs "
                          "(default: --tensorboard)")
    out.add_argument("--divergence-bound", type=float, metavar="B",
                     help="stop the run, keeping its last good checkpoint, when a loss or critic "
                          f"score, or a network weight, exceeds B in absolute value (default: "
                          f"{DEFAULT_DIVERGENCE_BOUND:g}; inf: never)")
    out.add_argument("--eval-every", type=positive_int, nargs="?", const=DEFAULT_EVAL_EVERY,
                     metavar="N", help="every N generator steps (N defaults to "
                     f"{DEFAULT_EVAL_EVERY}) score --eval-samples samples with wgan.metrics: "
                     "FID, IS, modes (toy sets: modes, high-quality share, sliced Wasserstein) "
                     "into metrics.jsonl; quality.png and quality.json (Spearman of W and FID)")
    out.add_argument("--eval-samples", type=positive_int, metavar="N",
                     help=f"samples per evaluation (default: {DEFAULT_EVAL_SAMPLES})")
    out.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


# The options that are settings of the run: one per Config field, so a new field cannot be
# forgotten here (tests/wgan/test_train_cli.py checks that each has its option).
SETTINGS = tuple(field.name for field in dataclasses.fields(Config))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    explicit = {name: getattr(args, name) for name in SETTINGS}
    if explicit["betas"] is not None:
        explicit["betas"] = tuple(explicit["betas"])
    from .logs import RunLog, terminal_logging  # heavy imports after --help
    from .trainer import TrainingError

    with terminal_logging(), RunLog() as run_log:  # the last line goes into run.log too
        try:
            result = _run(parser, args, argv, explicit, run_log)
        except ConfigError as exc:
            parser.error(str(exc))
        except (TrainingError, DatasetNotFoundError, IdxFormatError) as exc:
            log.error("error: %s", exc)
            return 1
        if result.status == "interrupted":
            name = signal.Signals(result.signum).name
            log.info("stopped by %s at step %d; checkpoint saved in %s. Continue with: "
                     "python -m wgan.train --resume %s", name, result.step, result.run_dir,
                     result.run_dir)
            return 128 + result.signum
        if result.status == "budget":
            log.info("done: the budget of %g s reached at generator step %d (of --iters %d); "
                     "outputs in %s", result.budget_seconds, result.step, result.iters,
                     result.run_dir)
            return 0
        log.info("done: %d generator steps; outputs in %s", result.step, result.run_dir)
        return 0


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace, argv: list[str] | None,
         explicit: dict, run_log):
    """Start or resume the run the command line asks for; its RunResult."""
    from .run import stop_on_signals, train
    if args.resume:
        if args.out and Path(args.out).resolve() != Path(args.resume).resolve():
            parser.error("--out and --resume name different directories; "
                         "a resumed run continues in its own directory")
        config, run_dir, resume = None, Path(args.resume), True
    else:
        config = resolve_config(explicit)
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        run_dir = Path(args.out or f"runs/{config.loss}-{config.model}-{config.dataset}-{stamp}")
        resume = False
    with stop_on_signals() as stop:
        return train(config, run_dir, resume=resume, overrides=explicit if resume else None,
                     progress=not args.quiet, stop=stop, run_log=run_log,
                     command=["python", "-m", "wgan.train", *(argv or sys.argv[1:])])


if __name__ == "__main__":
    sys.exit(main())
