"""``python -m benchmarks.gan_dynamics``: train the plain GAN (``--loss gan``) on the WGAN-GP
paper's MNIST model in minigrad and in PyTorch side by side, from the same weights, on the same
real batches and noise, and print how the two runs go.

Why: ``python -m wgan.train --loss gan --model wgangp-mnist`` never learns. Within 200 steps
the discriminator wins (its logits reach +20 on real digits and -8 on generated ones) and the
sigmoid generator puts out black images. This script shows whether that is minigrad's doing
or the setup's. Both frameworks start from the weights ``wgan.models`` gives the run (tflib's
initialisation, seed 0). Each step is one discriminator update and one generator update, BCE
with logits (gan_mnist.py's 'dcgan' mode), Adam. The real batches are MNIST digits in [0, 1].

Per ``--every`` steps it prints, for each framework, the mean discriminator logit on the real
and on the generated batch and the mean generated pixel (real digits: about 0.13). At the end
it prints the largest relative difference between the two frameworks' parameters. In float64
they stay together for many steps. In float32 they drift apart, as any two float32 trainings
do (the ops are checked in ``benchmarks.step``'s agreement gate), so compare the course of
the two runs, not their digits. ``--out`` writes the table as Markdown.
"""
from kernels.threads import pin_threads_from_argv

THREADS = pin_threads_from_argv() if __name__ == "__main__" else None

import argparse  # noqa: E402
import sys  # noqa: E402
from datetime import date  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks import model  # noqa: E402
from benchmarks.frameworks import BackendUnavailable, make_framework  # noqa: E402

FRAMEWORKS = ("minigrad", "pytorch")
COLUMNS = ("d_real", "d_fake", "pixel_mean")


def initial_weights(seed: int) -> dict[str, dict[str, np.ndarray]]:
    """``wgan.models``' starting weights for ``--loss gan --model wgangp-mnist``, renamed to
    ``benchmarks.model``'s state-dict keys (the same layers, in the same order)."""
    import minigrad
    from wgan.models import build_wgangp_mnist
    from wgan.trainer import stream_seeds

    seeds = stream_seeds(seed)
    generator, critic = build_wgangp_mnist("gan", minigrad.Generator(seeds["init"]),
                                           minigrad.Generator(seeds["noise"]))
    fw = make_framework("minigrad")
    out = {}
    for net, ours, theirs in (("generator", generator, model.build_generator(fw)),
                              ("critic", critic, model.build_critic(fw))):
        src, dst = ours.state_dict(), theirs.state_dict()
        shapes = ([tuple(v.shape) for v in src.values()], [tuple(v.shape) for v in dst.values()])
        if shapes[0] != shapes[1]:
            raise RuntimeError(f"{net}: wgan.models and benchmarks.model differ: {shapes}")
        out[net] = {k: v.numpy().astype(np.float64) for k, v in zip(dst, src.values())}
    return out


def make_batches(steps: int, batch: int, seed: int, dtype: str, data_dir: str | None) -> list[dict]:
    """Per step: a real batch (MNIST in [0, 1]) and two noise batches (D's update, G's)."""
    from wgan.data import load_images

    images, _ = load_images("mnist", "train", data_dir)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(steps):
        idx = rng.choice(len(images), batch, replace=False)
        out.append({"real": (images[idx, None] / 255.0).astype(dtype),
                    "z_d": rng.standard_normal((batch, model.LATENT)).astype(dtype),
                    "z_g": rng.standard_normal((batch, model.LATENT)).astype(dtype)})
    return out


class GANTraining:
    """One framework's generator, discriminator and Adam optimisers."""

    def __init__(self, fw, weights: dict, dtype: str, lr: float, betas: tuple[float, float]):
        self.fw = fw
        self.G = fw.place(model.build_generator(fw), dtype)
        self.D = fw.place(model.build_critic(fw), dtype)
        fw.load_weights(self.G, weights["generator"])
        fw.load_weights(self.D, weights["critic"])
        self.opt_d = fw.optim.Adam(self.D.parameters(), lr=lr, betas=betas)
        self.opt_g = fw.optim.Adam(self.G.parameters(), lr=lr, betas=betas)

    def step(self, batch: dict) -> dict[str, float]:
        fw, G, D = self.fw, self.G, self.D
        bce = fw.F.binary_cross_entropy_with_logits
        real, z_d, z_g = (fw.tensor(batch[k]) for k in ("real", "z_d", "z_g"))
        n, dtype = len(batch["real"]), batch["real"].dtype
        ones, zeros = fw.tensor(np.ones(n, dtype)), fw.tensor(np.zeros(n, dtype))
        with fw.no_grad():
            fake = G(z_d)
        self.opt_d.zero_grad()
        d_real, d_fake = D(real)[:, 0], D(fake)[:, 0]
        loss = bce(d_real, ones) + bce(d_fake, zeros)
        loss.backward()
        self.opt_d.step()
        D.requires_grad_(False)
        self.opt_g.zero_grad()
        bce(D(G(z_g))[:, 0], ones).backward()
        self.opt_g.step()
        D.requires_grad_(True)
        value = lambda t: float(fw.to_numpy(t.mean()))  # noqa: E731
        return {"d_real": value(d_real), "d_fake": value(d_fake), "pixel_mean": value(fake)}

    def parameters(self) -> list[np.ndarray]:
        return [self.fw.to_numpy(p) for net in (self.G, self.D) for p in net.parameters()]


def run(steps: int, every: int, batch: int, lr: float, betas: tuple[float, float], dtype: str,
        seed: int, data_dir: str | None, threads: int | None, log=print) -> dict:
    """Train both frameworks in lockstep; returns the logged rows and the final parameter gap."""
    weights = initial_weights(seed)
    batches = make_batches(steps, batch, seed + 1, dtype, data_dir)
    runs = {name: GANTraining(make_framework(name, threads=threads), weights, dtype, lr, betas)
            for name in FRAMEWORKS}
    rows = []
    for step, b in enumerate(batches, 1):
        stats = {name: r.step(b) for name, r in runs.items()}
        if step % every == 0 or step == steps:
            rows.append({"step": step, **stats})
            log(format_row(rows[-1]))
    ours, theirs = (runs[name].parameters() for name in FRAMEWORKS)
    gap = max(float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-12)) for a, b in zip(ours, theirs))
    return {"rows": rows, "parameter_gap": gap}


def header() -> str:
    return "| step | " + " | ".join(f"{c} {name}" for c in COLUMNS for name in FRAMEWORKS) + " |"


def format_row(row: dict) -> str:
    cells = [f"{row[name][c]:8.4f}" for c in COLUMNS for name in FRAMEWORKS]
    return f"| {row['step']:5d} | " + " | ".join(cells) + " |"


def markdown(result: dict, args: argparse.Namespace, info: str) -> str:
    lines = [f"# GAN dynamics, minigrad vs PyTorch ({date.today().isoformat()})", "",
             f"`python -m benchmarks.gan_dynamics --steps {args.steps} --every {args.every} "
             f"--batch {args.batch} --lr {args.lr:g} --betas {args.betas[0]:g} {args.betas[1]:g} "
             f"--dtype {args.dtype}`", "", info, "",
             header(), "|---:|" + "---:|" * (len(COLUMNS) * len(FRAMEWORKS))]
    lines += [format_row(r) for r in result["rows"]]
    lines += ["", f"Largest relative parameter difference after step {args.steps}: "
                  f"{result['parameter_gap']:.2e}", ""]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.gan_dynamics",
                                description=__doc__.split("\n\n")[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=300, help="training steps (default: 300)")
    p.add_argument("--every", type=int, default=25, help="print every N steps (default: 25)")
    p.add_argument("--batch", type=int, default=50, help="batch size (default: 50, the paper's)")
    p.add_argument("--lr", type=float, default=2e-4, help="Adam learning rate (default: 2e-4)")
    p.add_argument("--betas", type=float, nargs=2, default=(0.5, 0.999), metavar=("B1", "B2"),
                   help="Adam betas (default: 0.5 0.999, gan_mnist.py's 'dcgan' mode)")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--seed", type=int, default=0, help="the run's seed (default: 0)")
    p.add_argument("--data-dir", metavar="DIR", help="where MNIST's IDX files are")
    p.add_argument("--threads", type=int, default=1, help="threads per framework (default: 1)")
    p.add_argument("--out", metavar="FILE.md", help="also write the table as Markdown")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.steps < 1 or args.every < 1 or args.batch < 1:
        print("error: --steps, --every and --batch must be positive", file=sys.stderr)
        return 2
    try:
        import torch  # noqa: F401
    except ImportError:
        print("error: PyTorch is not installed (pip install -e '.[bench]')", file=sys.stderr)
        return 4
    print(header())
    try:
        result = run(args.steps, args.every, args.batch, args.lr, tuple(args.betas), args.dtype,
                     args.seed, args.data_dir, args.threads)
    except (BackendUnavailable, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"largest relative parameter difference after step {args.steps}: "
          f"{result['parameter_gap']:.2e}")
    if args.out:
        from benchmarks.machine import cpu_model
        from wgan.outputs import write_text_atomic

        info = f"Machine: {cpu_model()}, {args.threads} thread(s) per framework."
        path = Path(args.out)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, markdown(result, args, info))
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
