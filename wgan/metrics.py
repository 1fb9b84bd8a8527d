"""Sample quality as numbers: FID, Inception-style score, mode coverage, and the 2-D toy measures.

``python -m wgan.metrics SAMPLES.npz --data-dir DIR [--json]`` scores saved samples;
``python -m wgan.metrics RUN --n 10000`` draws them from a run's checkpoint first.

Image measures use the MNIST classifier of :mod:`wgan.score` (trained with minigrad, cached):

* ``fid``: the Frechet distance between Gaussians fitted to the classifier's 128 penultimate
  features (before their ReLU, see :func:`wgan.score.classifier_features`) of the samples and of the real *test* digits (held out from the classifier's and the
  GAN's training).  It is printed beside ``fid_floor``, the FID of as many real *training*
  digits against the same test statistics: the best a generator can hope for at this ``n``
  (FID is biased upwards at small ``n``, so only compare figures computed with the same ``n``).
* ``inception_score``: exp(E_x KL(p(y|x) || p(y))) with the classifier's probabilities; 1 for
  a single class, 10 for ten equally frequent, confidently classified classes.
* ``modes``: classes that get at least ``MODE_SHARE`` (2%, a fifth of the uniform share) of
  the samples by the classifier's argmax; ``kl_uniform``: KL(p(y) || uniform) of those shares.

2-D toy measures (:func:`toy_measures`), the VEEGAN / PacGAN protocol on ``8gaussians`` and
``25gaussians``: a sample is *high quality* within 3 standard deviations of its nearest mixture
centre, and a mode is *captured* when at least ``min_count`` high-quality samples are nearest to
it.  For every toy set, ``sliced_wasserstein``: the sliced 1-Wasserstein distance to as many
real samples (the only measure for ``swissroll``, which has no modes).

During training (``wgan.train --eval-every N``), :class:`QualityMonitor` adds these measures to
the step's metrics record (so they land in ``metrics.jsonl`` with every other scalar) and keeps
``quality.png`` (FID and the W estimate against steps) and ``quality.json`` (the Spearman rank
correlation of the W estimate with FID over the run) up to date.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .data import GAUSSIAN_MIXTURES, IMAGE_DATASETS, TOY_DATASETS, load_images, toy_batch
from .outputs import read_metrics, save_figure_atomic, write_text_atomic

MODE_SHARE = 0.02  # a class is a mode with >= 2% of the samples: a fifth of the uniform 10%
MIN_FID_SAMPLES = 256  # twice the feature dimension: fewer and the covariance is near singular
EVAL_SEED = 12345  # eval noise: the same z at every step, never drawn from the trainer's streams
QUALITY_FILE, QUALITY_PLOT = "quality.json", "quality.png"

# Published figures to print beside ours (different classifiers and sample sizes: a guide only)
ANCHORS = {
    "inception_score": "real MNIST test digits score about 9.9 with a strong classifier",
    "25gaussians": "PacGAN (Lin et al. 2018): 24.8 of 25 modes, 93.6% high-quality samples",
}

# The toy mixtures of wgan.data.toy_batch: (centres, standard deviation) of the sampled points
TOY_MIXTURES = {name: mix.normalised() for name, mix in GAUSSIAN_MIXTURES.items()}


class MetricsError(ValueError):
    """Samples or a run that cannot be scored; the message names the file and the problem."""


# ----------------------------------------------------------------------------- the measures

def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean (D,), covariance (D, D)) of features (N, D), float64, unbiased covariance."""
    features = np.asarray(features, np.float64)
    return features.mean(0), np.cov(features, rowvar=False)


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric positive semi-definite matrix; eigenvalues that
    round-off made slightly negative count as zero."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray) -> float:
    """||mu1 - mu2||^2 + tr(C1) + tr(C2) - 2 tr((C1 C2)^(1/2)) for means (D,), covariances (D, D).

    tr((C1 C2)^(1/2)) is computed as the sum of the square roots of the eigenvalues of the
    symmetric PSD matrix C1^(1/2) C2 C1^(1/2), which has the same eigenvalues as C1 C2: real
    and non-negative by construction, so no complex parts to discard as with a general sqrtm.
    """
    root1 = _psd_sqrt(cov1)
    middle = root1 @ cov2 @ root1
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum()
    diff = np.asarray(mu1) - np.asarray(mu2)
    return float(max(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2 * trace_sqrt, 0.0))


def inception_score(probs: np.ndarray) -> float:
    """exp(mean_x KL(p(y|x) || p(y))) of class probabilities (N, K)."""
    probs = np.clip(np.asarray(probs, np.float64), 1e-12, 1.0)
    marginal = probs.mean(0)
    return float(np.exp((probs * (np.log(probs) - np.log(marginal))).sum(1).mean()))


def class_measures(probs: np.ndarray, mode_share: float = MODE_SHARE) -> dict:
    """``modes`` (classes with >= ``mode_share`` of the argmax labels), ``kl_uniform``
    (KL(p(y) || uniform) of those label shares, 0 for a uniform spread, log K for one class)
    and ``class_shares`` (K,) of class probabilities (N, K)."""
    k = probs.shape[1]
    shares = np.bincount(probs.argmax(1), minlength=k) / len(probs)
    nonzero = shares[shares > 0]
    return {"modes": int((shares >= mode_share).sum()),
            "kl_uniform": float((nonzero * np.log(nonzero * k)).sum()),
            "class_shares": [round(float(s), 4) for s in shares]}


def toy_mode_measures(points: np.ndarray, centers: np.ndarray, std: float,
                      min_count: int = 1) -> dict:
    """``modes`` captured and ``high_quality`` share of points (N, 2) for a mixture with
    ``centers`` (M, 2) and standard deviation ``std``: a point is high quality within 3 std of
    its nearest centre; a mode is captured when >= ``min_count`` high-quality points are nearest
    to it (VEEGAN's definition, which PacGAN's 24.8 / 93.6% figures use)."""
    distances = np.linalg.norm(points[:, None, :] - centers[None, :, :], axis=2)
    nearest, closest = distances.argmin(1), distances.min(1)
    good = closest <= 3 * std
    counts = np.bincount(nearest[good], minlength=len(centers))
    return {"modes": int((counts >= min_count).sum()), "modes_of": len(centers),
            "high_quality": float(good.mean())}


def sliced_wasserstein(a: np.ndarray, b: np.ndarray, n_projections: int = 256,
                       seed: int = 0) -> float:
    """The sliced 1-Wasserstein distance between point sets a (N, D) and b (N, D) of equal size:
    the mean over random unit directions of the 1-D Wasserstein distance of the projections
    (sorted projections matched in order)."""
    if len(a) != len(b):
        raise ValueError(f"sliced_wasserstein needs equal sample counts, got {len(a)} and {len(b)}")
    directions = np.random.default_rng(seed).standard_normal((a.shape[1], n_projections))
    directions /= np.linalg.norm(directions, axis=0)
    pa, pb = np.sort(a @ directions, axis=0), np.sort(b @ directions, axis=0)
    return float(np.abs(pa - pb).mean())


def toy_measures(points: np.ndarray, dataset: str, seed: int = 0) -> dict:
    """The toy measures of points (N, 2) from ``dataset``'s generator: ``sliced_wasserstein`` to
    N fresh real samples, plus ``modes`` / ``high_quality`` for the Gaussian mixtures."""
    if dataset not in TOY_DATASETS:
        raise MetricsError(f"{dataset!r} is not a 2-D toy dataset ({', '.join(TOY_DATASETS)})")
    points = np.asarray(points, np.float64)
    real = toy_batch(dataset, len(points), np.random.default_rng(seed)).astype(np.float64)
    out = {"n": len(points), "sliced_wasserstein": sliced_wasserstein(points, real, seed=seed)}
    if dataset in TOY_MIXTURES:
        out.update(toy_mode_measures(points, *TOY_MIXTURES[dataset]))
    return out


def spearman(x, y) -> float | None:
    """Spearman's rank correlation of two equal-length sequences (average ranks for ties);
    None with fewer than 3 pairs or a constant sequence."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if len(x) < 3:
        return None
    rx, ry = _ranks(x), _ranks(y)
    if rx.std() == 0 or ry.std() == 0:
        return None
    return float(np.corrcoef(rx, ry)[0, 1])


def _ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values), dtype=np.float64)
    for value in np.unique(values):  # ties share their mean rank
        tied = values == value
        ranks[tied] = ranks[tied].mean()
    return ranks


# ----------------------------------------------------------------------------- image scorer

@dataclass
class ImageScorer:
    """The classifier and the real test digits' feature statistics, to score image samples."""

    model: object
    classifier_accuracy: float
    test_mu: np.ndarray
    test_cov: np.ndarray
    train_x: np.ndarray  # real training digits (N, 1, 28, 28) in [0, 1], for the FID floor
    test_inception_score: float  # of the real test digits, beside the published anchor

    @classmethod
    def load(cls, dataset: str = "mnist", data_dir: str | None = None,
             classifier: str | Path | None = None, log=print) -> ImageScorer:
        """The cached classifier of ``dataset`` (trained first if missing, see
        :func:`wgan.score.load_or_train_classifier`) and its features of the test digits."""
        from .score import _unit, classifier_features, load_or_train_classifier

        model, accuracy = load_or_train_classifier(dataset, data_dir, classifier, log=log)
        test_images, _ = load_images(dataset, "test", data_dir)
        train_images, _ = load_images(dataset, "train", data_dir)
        features, probs = classifier_features(model, _unit(test_images))
        mu, cov = gaussian_stats(features)
        return cls(model, accuracy, mu, cov, _unit(train_images), inception_score(probs))

    def score(self, images: np.ndarray, floor: bool = True) -> dict:
        """The image measures of samples (N, 1, 28, 28) in [0, 1], N >= ``MIN_FID_SAMPLES``;
        with ``floor`` also ``fid_floor``, the FID of N real training digits."""
        from .score import classifier_features

        if len(images) < MIN_FID_SAMPLES:
            raise MetricsError(f"FID needs at least {MIN_FID_SAMPLES} samples (twice the "
                               f"{self.test_mu.size} features), got {len(images)}")
        features, probs = classifier_features(self.model, images)
        out = {"n": len(images), "fid": self._fid(features),
               "inception_score": inception_score(probs), **class_measures(probs)}
        if floor:
            out["fid_floor"] = self.fid_of(self.train_x[:len(images)])
            out["real_test_inception_score"] = self.test_inception_score
        out["classifier_test_accuracy"] = float(self.classifier_accuracy)
        return out

    def fid_of(self, images: np.ndarray) -> float:
        """FID of images (N, 1, 28, 28) in [0, 1] against the test digits."""
        from .score import classifier_features

        return self._fid(classifier_features(self.model, images)[0])

    def _fid(self, features: np.ndarray) -> float:
        return frechet_distance(*gaussian_stats(features), self.test_mu, self.test_cov)


# ----------------------------------------------------------------------------- reading samples

def load_samples(path: str | Path) -> np.ndarray:
    """The first array of an ``.npz`` file as float64: images (N, 1, 28, 28) in [0, 1] (from
    N x 1 x 28 x 28, N x 28 x 28 or N x 784) or points (N, 2); MetricsError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise MetricsError(f"{path}: no such samples file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = [(name, archive[name]) for name in archive.files[:1]]
    except (OSError, ValueError) as exc:  # not a zip, a pickled array, a truncated file
        raise MetricsError(f"{path}: not a readable .npz file ({exc})") from None
    if not arrays:
        raise MetricsError(f"{path}: the .npz file holds no arrays")
    (name, array), = arrays
    if array.ndim == 2 and array.shape[1] == 2:
        return array.astype(np.float64)
    shapes = {(1, 28, 28), (28, 28), (784,)}
    if array.ndim < 2 or tuple(array.shape[1:]) not in shapes or not np.issubdtype(array.dtype, np.floating):
        raise MetricsError(f"{path}: array {name!r} has shape {array.shape} and dtype {array.dtype}; "
                           "expected float images N x 1 x 28 x 28, N x 28 x 28 or N x 784 "
                           "(or 2-D points N x 2)")
    if not np.isfinite(array).all():
        raise MetricsError(f"{path}: array {name!r} has NaN or infinite values")
    if array.min() < 0 or array.max() > 1:
        raise MetricsError(f"{path}: array {name!r} has values in [{array.min():.3g}, "
                           f"{array.max():.3g}]; images must be in [0, 1]")
    return array.reshape(len(array), 1, 28, 28).astype(np.float64)


def samples_from_run(run_dir: str | Path, n: int, step: int | None = None,
                     seed: int = 0) -> tuple[np.ndarray, str]:
    """(n samples, dataset) from a run's checkpoint: images (n, 1, 28, 28) in [0, 1] or points
    (n, 2).  ``step``: the checkpoint must be at that step (only the latest is kept)."""
    from .run import load_checkpoint, read_run_config
    from .sample import generate
    from .trainer import TrainingError

    run_dir = Path(run_dir)
    try:
        config = read_run_config(run_dir)
        saved_step = int(load_checkpoint(run_dir)["step"])
        if step is not None and step != saved_step:
            raise MetricsError(f"{run_dir}: its checkpoint is at step {saved_step}, not {step} "
                               "(a run keeps only its latest checkpoint)")
        samples, _, _ = generate(run_dir, n, None, seed)
    except TrainingError as exc:
        raise MetricsError(str(exc)) from None
    return np.asarray(samples, np.float64), config.dataset


# ----------------------------------------------------------------------------- during training

class QualityMonitor:
    """``wgan.train --eval-every N``: the quality measures of ``eval_samples`` samples from a
    fixed noise (seed ``EVAL_SEED``, never the trainer's own random streams, so a run with and
    without evaluation trains identically) at every N-th generator step.

    :meth:`update` adds them to that step's metrics record, before the run writes it: the
    measures go to ``metrics.jsonl`` (and wherever else the run sends its scalars) with the
    losses.  It also rewrites ``quality.png`` and ``quality.json`` (the Spearman correlation of
    the W estimate with the quality measure, the FID floor, evaluation's share of the time).
    """

    def __init__(self, config, run_dir: str | Path, scorer: ImageScorer | None = None):
        self.config, self.run_dir = config, Path(run_dir)
        self.toy = config.dataset in TOY_DATASETS
        self.scorer = scorer
        self.fid_floor = None

    @classmethod
    def for_run(cls, config, run_dir: str | Path) -> QualityMonitor | None:
        """A monitor when ``config.eval_every`` is set, else None."""
        return cls(config, run_dir) if config.eval_every else None

    def update(self, trainer, record: dict, force: bool = False) -> None:
        """At an evaluation step (or any step with ``force``: the last of a wall-clock
        budget), add the measures and ``eval_seconds`` to ``record``."""
        if trainer.step % self.config.eval_every and not force:
            return
        start = time.perf_counter()
        samples = self._samples(trainer)
        if self.toy:
            measures = toy_measures(samples, self.config.dataset, seed=EVAL_SEED)
            measures.pop("modes_of", None)
        else:
            measures = self._image_scorer().score(samples, floor=False)
            measures.pop("class_shares")
            measures.pop("classifier_test_accuracy")
        measures.pop("n")
        record.update(measures)
        record["eval_seconds"] = time.perf_counter() - start
        self._write_summary(read_metrics(self.run_dir) + [record])

    def _image_scorer(self) -> ImageScorer:
        if self.scorer is None:
            self.scorer = ImageScorer.load(self.config.dataset, self.config.data_dir,
                                           log=lambda msg: print(msg, file=sys.stderr))
        if self.fid_floor is None:
            self.fid_floor = self.scorer.fid_of(self.scorer.train_x[:self.config.eval_samples])
        return self.scorer

    def _samples(self, trainer) -> np.ndarray:
        import minigrad

        from .models import generate
        from .outputs import to_unit_range

        n, spec = self.config.eval_samples, trainer.spec
        z = spec.sample_latent(n, minigrad.Generator(EVAL_SEED)).to(trainer.device)
        labels = None
        if spec.conditional:
            labels = minigrad.tensor(np.arange(n) % 10, device=trainer.device)
        x = generate(trainer.generator, z, labels).cpu().numpy().astype(np.float64)
        return x if self.toy else to_unit_range(x, spec.output_range)

    def _write_summary(self, records: list[dict]) -> None:
        summary = quality_summary(records, self.config.eval_every)
        if not self.toy:
            summary["fid_floor"] = self.fid_floor
        summary["eval_samples"] = self.config.eval_samples
        write_text_atomic(self.run_dir / QUALITY_FILE, json.dumps(summary, indent=1) + "\n")
        save_quality_plot(self.run_dir / QUALITY_PLOT, summary,
                          f"{self.config.loss} / {self.config.model} / {self.config.dataset}")


def quality_key(records: list[dict]) -> str:
    """The measure the W estimate is compared with: ``fid`` for images, else the toy sets'
    ``sliced_wasserstein``."""
    return "fid" if any("fid" in r for r in records) else "sliced_wasserstein"


def quality_summary(records: list[dict], eval_every: int) -> dict:
    """From a run's metrics records: the evaluated steps, the quality measure there, the W
    estimate averaged over the ``eval_every`` steps up to each (one critic batch is noisy),
    their Spearman correlation, and training / evaluation seconds."""
    key = quality_key(records)
    by_step = {r["step"]: r for r in records}
    evals = [r for r in sorted(by_step.values(), key=lambda r: r["step"]) if key in r]
    w_avg = []
    for r in evals:
        window = [by_step[s]["wasserstein"] for s in range(r["step"] - eval_every + 1, r["step"] + 1)
                  if s in by_step and by_step[s].get("wasserstein") is not None]
        w_avg.append(float(np.mean(window)) if window else math.nan)
    return {"measure": key, "steps": [r["step"] for r in evals],
            "values": [r[key] for r in evals], "wasserstein_avg": w_avg,
            "spearman_w_vs_" + key: spearman(w_avg, [r[key] for r in evals]),
            "train_seconds": _train_seconds(by_step),
            "eval_seconds": float(sum(r.get("eval_seconds") or 0 for r in by_step.values()))}


def _train_seconds(by_step: dict[int, dict]) -> float:
    """The training clock at the last step (``train_seconds``, see wgan.run), or for records
    without it the sum of ``sec_per_step``."""
    last = by_step[max(by_step)] if by_step else {}
    if last.get("train_seconds") is not None:
        return float(last["train_seconds"])
    return float(sum(r.get("sec_per_step") or 0 for r in by_step.values()))


def save_quality_plot(path: Path, summary: dict, title: str) -> None:
    """The quality measure and the averaged W estimate against generator steps, two y-axes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(summary["steps"], summary["values"], "o-", color="C0")
    ax.set_xlabel("generator step")
    ax.set_ylabel(summary["measure"], color="C0")
    twin = ax.twinx()
    twin.plot(summary["steps"], summary["wasserstein_avg"], "s--", color="C1")
    twin.set_ylabel("W estimate (mean since the last evaluation)", color="C1")
    rho = summary["spearman_w_vs_" + summary["measure"]]
    ax.set_title(f"{title}: Spearman(W, {summary['measure']}) = "
                 + ("n/a" if rho is None else f"{rho:.2f}"), fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure_atomic(fig, path, dpi=100)
    plt.close(fig)


# ----------------------------------------------------------------------------- the CLI

def build_parser() -> argparse.ArgumentParser:
    from .train import positive_int

    p = argparse.ArgumentParser(
        prog="python -m wgan.metrics",
        description="Sample quality as numbers: FID, Inception-style score, modes and "
                    "KL(p(y) || uniform) with a minigrad MNIST classifier; modes, high-quality "
                    "share and sliced Wasserstein distance for the 2-D toy sets.",
        epilog=f"A class is a mode when it gets >= {MODE_SHARE:.0%} of the samples. FID needs "
               f">= {MIN_FID_SAMPLES} samples and is compared only at equal n.")
    p.add_argument("source", metavar="SAMPLES.npz|RUN",
                   help="an .npz whose first array is float images in [0, 1] (N x 1 x 28 x 28, "
                        "N x 28 x 28 or N x 784) or points N x 2; or a run directory")
    p.add_argument("--data-dir", metavar="DIR", help="where the MNIST IDX files are")
    p.add_argument("--dataset", choices=IMAGE_DATASETS + TOY_DATASETS,
                   help="what the samples are of (default: mnist for images; a run's own)")
    p.add_argument("--n", type=positive_int, default=10_000,
                   help="RUN only: samples to draw from its checkpoint (default: 10000)")
    p.add_argument("--step", type=int, metavar="N",
                   help="RUN only: the step the checkpoint must be at")
    p.add_argument("--seed", type=int, default=0, help="RUN only: seed of the latent noise")
    p.add_argument("--classifier", metavar="FILE", help="classifier file (default: the cache)")
    p.add_argument("--out", metavar="FILE.json", help="also write the result here (atomically)")
    p.add_argument("--json", action="store_true",
                   help="print the result as one JSON object on the last line")
    return p


def measure(source: str | Path, args) -> dict:
    """The measures of ``source`` (samples file or run directory) for the parsed CLI ``args``."""
    if Path(source).is_dir():
        samples, dataset = samples_from_run(source, args.n, args.step, args.seed)
        dataset = args.dataset or dataset
    else:
        samples = load_samples(source)
        dataset = args.dataset or ("mnist" if samples.ndim == 4 else None)
    if samples.ndim == 2:
        if dataset not in TOY_DATASETS:
            raise MetricsError(f"{source}: 2-D points need --dataset, one of {', '.join(TOY_DATASETS)}")
        return {"dataset": dataset, **toy_measures(samples, dataset)}
    if dataset not in IMAGE_DATASETS:
        raise MetricsError(f"{source}: images cannot be scored as the 2-D dataset {dataset!r}")
    scorer = ImageScorer.load(dataset, args.data_dir, args.classifier,
                              log=lambda msg: print(msg, file=sys.stderr))
    return {"dataset": dataset, **scorer.score(samples)}


def describe(result: dict) -> list[str]:
    """The human-readable lines for a result of :func:`measure`, anchors beside the figures."""
    lines = [f"{result['dataset']}: {result['n']} samples"]
    if "fid" in result:
        lines += [f"  FID {result['fid']:.3f}   (floor, {result['n']} real training digits "
                  f"against the test digits: {result['fid_floor']:.3f})",
                  f"  IS  {result['inception_score']:.3f}   (real test digits with this "
                  f"classifier: {result['real_test_inception_score']:.3f}; "
                  f"{ANCHORS['inception_score']})",
                  f"  modes {result['modes']} of 10 (classes with >= {MODE_SHARE:.0%} of the "
                  f"samples), KL(p(y) || uniform) {result['kl_uniform']:.4f}",
                  f"  classifier test accuracy {result['classifier_test_accuracy']:.4f}"]
    else:
        if "modes" in result:
            anchor = f"   ({ANCHORS['25gaussians']})" if result["dataset"] == "25gaussians" else ""
            lines.append(f"  modes {result['modes']} of {result['modes_of']}, high-quality "
                         f"{result['high_quality']:.1%}{anchor}")
        lines.append(f"  sliced Wasserstein distance to real samples {result['sliced_wasserstein']:.4f}")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result = measure(args.source, args)
    except (MetricsError, OSError) as exc:  # OSError: the dataset's IDX files are missing
        print(f"error: {exc}", file=sys.stderr)
        return 1
    text = json.dumps(result)
    if args.out:
        write_text_atomic(Path(args.out), text + "\n")
    print("\n".join(describe(result)))
    if args.json:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
