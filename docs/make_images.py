"""Redraw every picture of docs/wgan-gp-walkthrough.md (and the README's) into docs/img/.

    python docs/make_images.py [--out DIR]

The four ``python -m minigrad.viz`` examples, plus the ``wgangp-mnist`` critic's penalty
graph collapsed to one box per module (it needs ``wgan``, which minigrad must not import).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

import minigrad as mg  # noqa: E402
from minigrad import viz  # noqa: E402
from minigrad.nn import functional as F  # noqa: E402
from minigrad.viz.examples import EXAMPLES, render_example  # noqa: E402
from wgan.models import build_wgangp_mnist  # noqa: E402


def render_wgangp_mnist_penalty(path: Path, batch: int = 2) -> Path:
    """The penalty graph of the wgangp-mnist critic at depth 1 (one box per layer and pass)."""
    _, critic = build_wgangp_mnist("wgan-gp", mg.Generator(0), mg.Generator(1))
    images = mg.Generator(2)
    real = mg.rand(batch, 1, 28, 28, generator=images)
    fake = mg.rand(batch, 1, 28, 28, generator=images)
    with viz.trace(critic) as t:
        penalty = F.gradient_penalty(critic, real, fake, generator=mg.Generator(3))
    return viz.render({"penalty": penalty}, path, trace=t, depth=1,
                      title="the wgangp-mnist critic's penalty, one box per layer and pass")


def make_images(out: Path) -> list[Path]:
    """Write every picture into ``out`` as SVG; returns their paths."""
    written = [render_example(name, out / f"{name}.svg") for name in EXAMPLES]
    written.append(render_wgangp_mnist_penalty(out / "wgangp-mnist-penalty.svg"))
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    args = parser.parse_args(argv)
    try:
        for path in make_images(args.out):
            print(f"wrote {path}")
    except RuntimeError as exc:  # no `dot`: the message says how to install it
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
