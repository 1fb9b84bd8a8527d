"""``python -m benchmarks.gpu_parity``: one float32 training iteration (5 critic steps and a
generator step of WGAN-GP on the paper's MNIST model, by default) on the CPU and on the GPU,
from the same weights, batches and noise, compared metric by metric and tensor by tensor.

Both runs draw their random numbers from the same host streams (the GPU trainer's noise
generator is given the CPU's PCG64 state), so the two differ only by floating-point rounding: cuBLAS and the CUDA kernels against OpenBLAS
and NumPy. Each quantity's difference is reported relative to its largest magnitude; the
exit status is 1 when one exceeds its tolerance. ``--out FILE`` writes the table as JSON.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

#: relative tolerances (to the largest magnitude of each quantity) in float32
TOLERANCE = {"metric": 1e-3, "grad": 1e-2, "param": 1e-2}


def training_iteration(backend: str, args: argparse.Namespace) -> dict[str, np.ndarray]:
    """Metrics, gradients and parameters after one ``train_step`` on ``backend``, on the host."""
    import minigrad
    from wgan.config import resolve_config
    from wgan.trainer import fetch_records, make_trainer, stream_seeds

    config = resolve_config(dict(loss=args.loss, model=args.model, backend=backend,
                                 batch_size=args.batch_size, n_critic=args.n_critic, seed=args.seed,
                                 data_dir=args.data_dir, limit_images=args.limit_images))
    trainer = make_trainer(config)
    # the GPU trainer's noise generator draws with Philox on the device; give it the CPU
    # trainer's PCG64 state, so both use the same z, eps and masks (drawn on the host)
    trainer.rng.set_state(minigrad.Generator(stream_seeds(args.seed)["noise"]).get_state())
    record = fetch_records([trainer.train_step()])[0]
    out = {f"metric/{k}": np.asarray(v) for k, v in record.items()
           if isinstance(v, float) and k != "sec_per_step"}
    for net in ("critic", "generator"):
        for name, p in getattr(trainer, net).named_parameters():
            out[f"param/{net}/{name}"] = p.detach().cpu().numpy()
            if p.grad is not None:
                out[f"grad/{net}/{name}"] = p.grad.cpu().numpy()
    return out


def compare(cpu: dict[str, np.ndarray], gpu: dict[str, np.ndarray]) -> list[dict]:
    """One row per quantity: its relative difference, tolerance and whether it passes."""
    rows = []
    for key in sorted(cpu):
        a, b = cpu[key].astype(np.float64), gpu[key].astype(np.float64)
        scale = max(float(np.max(np.abs(a), initial=0.0)), 1e-12)
        error = float(np.max(np.abs(a - b), initial=0.0)) / scale
        tolerance = TOLERANCE[key.split("/")[0]]
        rows.append({"quantity": key, "relative_difference": error, "tolerance": tolerance,
                     "ok": bool(error <= tolerance and np.isfinite(b).all())})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu_parity", description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", required=True, help="the MNIST IDX files")
    parser.add_argument("--loss", default="wgan-gp")
    parser.add_argument("--model", default="wgangp-mnist")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--n-critic", type=int, default=5)
    parser.add_argument("--limit-images", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="write the comparison as JSON here")
    args = parser.parse_args(argv)
    rows = compare(training_iteration("numpy", args), training_iteration("cupy", args))
    for row in rows:
        flag = "ok  " if row["ok"] else "FAIL"
        print(f"{flag} {row['relative_difference']:.2e} (tol {row['tolerance']:.0e})  {row['quantity']}")
    failed = [r["quantity"] for r in rows if not r["ok"]]
    print(f"{len(rows) - len(failed)}/{len(rows)} quantities agree" + (f"; failed: {failed}" if failed else ""))
    if args.out:
        args.out.write_text(json.dumps({"settings": vars(args) | {"out": str(args.out)}, "rows": rows},
                                       indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
