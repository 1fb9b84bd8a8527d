"""``python -m wgan.sample --run DIR [--n 64] [--label k] [--seed s] --out FILE``.

Draws samples from the latest checkpoint of a run.  ``FILE.png``: an image grid (for the
2-D datasets a scatter plot).  ``FILE.npz``: raw samples for outside evaluation, ``images``
(N, 1, 28, 28) float32 in [0, 1] (plus ``labels`` (N,) int64 for class-conditional models),
or ``points`` (N, 2) float32 for the 2-D datasets.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

from .train import positive_int

SUFFIXES = (".png", ".npz")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m wgan.sample",
                                description="Generate samples from a trained run's checkpoint.")
    p.add_argument("--run", required=True, metavar="DIR", help="a run directory of wgan.train")
    p.add_argument("--out", required=True, metavar="FILE",
                   help="output: .png (grid / scatter plot) or .npz (raw samples)")
    p.add_argument("--n", type=positive_int, default=64, help="number of samples (default: 64)")
    p.add_argument("--label", type=int, metavar="K",
                   help="class-conditional models only: generate digit K (0-9); without it "
                        "the labels cycle 0..9, one row per class in a PNG")
    p.add_argument("--seed", type=int, default=0, help="seed of the latent noise (default: 0)")
    return p


def generate(run_dir: Path, n: int, label: int | None,
             seed: int) -> tuple[np.ndarray, np.ndarray | None, str]:
    """(samples, labels or None, data kind): images (n, 1, 28, 28) in [0, 1] or points (n, 2)."""
    import minigrad

    from .outputs import to_unit_range
    from .models import generate
    from .run import load_generator

    config, spec, generator = load_generator(run_dir)
    if label is not None and not spec.conditional:
        raise ValueError(f"--label needs a class-conditional model; this run's model is "
                         f"{config.model!r} (conditional: acgan)")
    if label is not None and not 0 <= label <= 9:
        raise ValueError(f"--label must be a digit 0..9, got {label}")
    z = spec.sample_latent(n, minigrad.Generator(seed))
    labels = None
    if spec.conditional:
        labels = np.full(n, label) if label is not None else np.arange(n) % 10
        x = generate(generator, z, minigrad.tensor(labels.astype(np.int64)))
    else:
        x = generate(generator, z)
    x = x.numpy()
    if spec.data_kind == "toy":
        return x.astype(np.float32), None, "toy"
    return to_unit_range(x, spec.output_range), labels, "image"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    out = Path(args.out)
    if out.suffix not in SUFFIXES:
        parser.error(f"--out must end in {' or '.join(SUFFIXES)}, got {out.name!r}")
    from .outputs import save_image_grid, save_points_plot
    from .run import TrainingError

    try:
        samples, labels, kind = generate(Path(args.run), args.n, args.label, args.seed)
    except ValueError as exc:
        parser.error(str(exc))
    except TrainingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npz":
        arrays = {"points": samples} if kind == "toy" else {"images": samples}
        if labels is not None:
            arrays["labels"] = labels.astype(np.int64)
        np.savez(out, **arrays)
    elif kind == "toy":
        save_points_plot(out, samples, f"{args.n} samples from {args.run}")
    else:
        ncol = None
        if labels is not None and args.label is None:  # one row per class
            samples, ncol = samples[np.argsort(labels, kind="stable")], math.ceil(args.n / 10)
        save_image_grid(out, samples, ncol)
    print(f"wrote {len(samples)} samples to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
