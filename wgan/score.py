"""``python -m wgan.score RUN [RUN ...]``: which digit classes a run's fixed-noise grids show.

"Recognisable digits of all ten classes" is a judgment by eye; this makes it repeatable.  A
small CNN classifier, trained with minigrad on the real training images of the run's dataset
(and cached), labels every tile of every ``samples/step_XXXXXX.png`` grid the run wrote.  A
class counts as *shown* at a step when at least ``--min-count`` tiles are given that class
with probability >= ``--threshold``.  For each run it prints, and writes to ``RUN/scores.json``:

* per saved grid: the classes shown, the tiles per class, the confident fraction, and the
  training seconds up to that step (the sum of ``sec_per_step`` in ``metrics.jsonl``);
* the first step, and its training time, at which all ten classes are shown, and the step from
  which every later grid shows all ten (a run that drops and regains classes reaches the first
  long before the second);
* for class-conditional runs (``acgan``, one row per class), the label accuracy: the fraction of
  tiles the classifier gives the class their row asked for.

``--plot FILE`` draws classes shown against generator step for all the runs in one picture.
``--best FILE`` draws, for one run's grid (``--step``, default the last), each digit's most
confident tiles in a row of their own with their probability and place in the grid: the page to
look at when judging by eye whether every digit is really there.

A confident classifier is a proxy, not a person: it can be sure of a stroke no one would call
a 4.  Use it to find the step, then look at that grid's ``--best`` page (the README does both).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .data import NUM_CLASSES, cache_dir, load_images
from .outputs import CONFIG_FILE, SAMPLES_DIR, read_metrics, save_figure_atomic, write_text_atomic

SCORES_FILE = "scores.json"
CLASSIFIER_VERSION = 3  # 3: a 128-unit hidden layer (FID features), noise pictures, shifts
FEATURE_DIM = 128
IMAGE_SIZE = 28
GRID_PAD, GRID_SCALE = 2, 2  # as wgan.outputs.image_grid draws them


class ClassifierError(ValueError):
    """A --classifier file that is not a wgan.score classifier."""


# ----------------------------------------------------------------------------- the classifier

def build_classifier(seed: int = 0):
    """A small CNN: two 5x5 stride-2 convs (32, 64) with ReLU, Linear 3136 -> 128 (the features
    FID is computed on, see :func:`classifier_features`) with ReLU, then Linear 128 -> 10.
    Input (N, 1, 28, 28) in [0, 1]; output logits (N, 10)."""
    import minigrad
    from minigrad import nn

    minigrad.manual_seed(seed)  # PyTorch's default init draws from the global generator
    return nn.Sequential(
        nn.Conv2d(1, 32, 5, stride=2, padding=2), nn.ReLU(),
        nn.Conv2d(32, 64, 5, stride=2, padding=2), nn.ReLU(),
        nn.Flatten(), nn.Linear(64 * 7 * 7, FEATURE_DIM), nn.ReLU(),
        nn.Linear(FEATURE_DIM, NUM_CLASSES))


def _batched(function, images: np.ndarray, width: int, batch_size: int) -> np.ndarray:
    """``function`` (a minigrad Tensor -> Tensor map) over ``images`` in batches, without a
    graph; float64 (N, width)."""
    import minigrad

    out = []
    with minigrad.no_grad():
        for i in range(0, len(images), batch_size):
            x = minigrad.tensor(np.asarray(images[i:i + batch_size], np.float32))
            out.append(function(x).numpy().astype(np.float64))
    return np.concatenate(out) if out else np.zeros((0, width))


def predict_proba(model, images: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """Class probabilities (N, 10) float64 for images (N, 1, 28, 28) in [0, 1]."""
    import minigrad.nn.functional as F

    return _batched(lambda x: F.softmax(model(x), dim=1), images, NUM_CLASSES, batch_size)


def classifier_features(model, images: np.ndarray, batch_size: int = 500
                        ) -> tuple[np.ndarray, np.ndarray]:
    """(penultimate features (N, 128), class probabilities (N, 10)), float64, for images
    (N, 1, 28, 28) in [0, 1], in one pass.  The features are the hidden layer's outputs before
    its ReLU: after it, 99% of them are 0 for any picture that is no digit (the classifier
    learns to give those no class), so every early, noisy generator would get the same FID."""
    import minigrad
    import minigrad.nn.functional as F

    body, head = model[:-2], model[-2:]
    features = _batched(body, images, FEATURE_DIM, batch_size)
    with minigrad.no_grad():
        logits = head(minigrad.tensor(features.astype(np.float32)))
        probs = F.softmax(logits, dim=1).numpy().astype(np.float64)
    return features, probs


def _shifted(images: np.ndarray, rng: np.random.Generator, max_shift: int = 1) -> np.ndarray:
    """Each image (N, 1, 28, 28) moved by up to ``max_shift`` pixels in x and y (zero fill)."""
    out = np.zeros_like(images)
    size = images.shape[-1]
    for i, (dy, dx) in enumerate(rng.integers(-max_shift, max_shift + 1, size=(len(images), 2))):
        src = images[i, :, max(0, -dy):size - max(0, dy), max(0, -dx):size - max(0, dx)]
        out[i, :, max(0, dy):max(0, dy) + src.shape[1], max(0, dx):max(0, dx) + src.shape[2]] = src
    return out


def _not_digits(n: int, rng: np.random.Generator) -> np.ndarray:
    """n pictures (n, 1, 28, 28) float32 that are no digit: half pixel noise, half smooth blobs
    (7x7 noise enlarged 4x), the two kinds of output an untrained generator gives."""
    pixels = rng.random((n - n // 2, 1, 28, 28))
    blobs = np.kron(rng.random((n // 2, 1, 7, 7)), np.ones((1, 1, 4, 4)))
    return np.concatenate([pixels, blobs]).astype(np.float32)


def _batch_loss(model, x: np.ndarray, y: np.ndarray, n_other: int, rng: np.random.Generator):
    """Cross-entropy on the digits, plus, on ``n_other`` non-digits, the cross-entropy against
    a uniform class distribution, so that noise gets no confident class."""
    import minigrad
    import minigrad.nn.functional as F

    if not n_other:
        return F.cross_entropy(model(minigrad.tensor(x)), y)
    logits = model(minigrad.tensor(np.concatenate([x, _not_digits(n_other, rng)])))
    digits, others = logits[:len(x)], logits[len(x):]
    return F.cross_entropy(digits, y) - F.log_softmax(others, dim=1).mean()


def train_classifier(train_x: np.ndarray, train_y: np.ndarray, epochs: int = 12,
                     batch_size: int = 128, lr: float = 1e-3, decay: float = 0.8,
                     seed: int = 0, augment: bool = True, not_digits: int = 16,
                     progress: bool = False):
    """Fit :func:`build_classifier` with Adam on images (N, 1, 28, 28) in [0, 1] and labels
    (N,): cross-entropy, plus a uniform-target cross-entropy on ``not_digits`` noise pictures
    per batch (without them a classifier calls uniform noise an "8" with 99% confidence).  The
    learning rate falls by ``decay`` per epoch, and with ``augment`` every batch is randomly
    shifted by up to 1 pixel (the defaults: 98.88% on the MNIST test set from the 22,699-image
    subset; 98.29% with 8 epochs, decay 0.7, 2-pixel shifts, no noise).  Returns the model
    (eval mode).  ``progress``: a progress bar with ETA and the loss on stderr."""
    import minigrad

    from .logs import progress as progress_bar

    model = build_classifier(seed)
    opt = minigrad.optim.Adam(model.parameters(), lr=lr)
    order = np.random.default_rng(seed)
    per_epoch = -(-len(train_x) // batch_size)
    with progress_bar(epochs * per_epoch, enabled=progress, unit="batch") as bar:
        for epoch in range(epochs):
            opt.param_groups[0]["lr"] = lr * decay ** epoch
            perm = order.permutation(len(train_x))
            for i in range(0, len(perm), batch_size):
                idx = perm[i:i + batch_size]
                x = _shifted(train_x[idx], order) if augment else train_x[idx]
                loss = _batch_loss(model, x, train_y[idx], not_digits, order)
                opt.zero_grad()
                loss.backward()
                opt.step()
                bar.set_postfix_str(f"loss {loss.item():.4g}", refresh=False)
                bar.update(1)
    return model.eval()


def _unit(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 1, 28, 28) in [0, 1]."""
    return (images.astype(np.float32) / 255.0)[:, None]


def data_checksum(*arrays: np.ndarray) -> str:
    """The first 16 hex digits of the SHA-256 of the arrays' bytes (shapes included)."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(repr(array.shape).encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def classifier_cache_path(dataset: str, checksum: str) -> Path:
    """``~/.cache/wgan/<dataset>/classifier-v<CLASSIFIER_VERSION>-<checksum>.npz``: keyed by
    the training data and the code version, so new data or a new classifier never reuses an
    old file."""
    return cache_dir(dataset) / f"classifier-v{CLASSIFIER_VERSION}-{checksum}.npz"


def _load_saved(path: Path, dataset: str, checksum: str | None, log) -> tuple | None:
    """(model, test accuracy) saved at ``path`` if it is this version's classifier for
    ``dataset`` (and, given a ``checksum``, trained on that data); else None."""
    import minigrad

    if not path.is_file():
        return None
    saved = minigrad.load(path)  # a CheckpointError if it is no minigrad checkpoint
    if not isinstance(saved, dict) or not {"version", "dataset", "state"} <= set(saved):
        raise ClassifierError(f"{path} is a minigrad checkpoint but not a wgan.score "
                              "classifier; give another --classifier, or --retrain to "
                              "overwrite it")
    if (saved["version"] != CLASSIFIER_VERSION or saved["dataset"] != dataset
            or checksum not in (None, saved.get("data_checksum"))):
        log(f"{path}: classifier from another version, dataset or training data; "
            "training a new one")
        return None
    model = build_classifier()
    try:
        model.load_state_dict(saved["state"])
    except (KeyError, ValueError, TypeError) as exc:
        raise ClassifierError(f"{path}: not this version's classifier ({exc}); "
                              "--retrain replaces it") from None
    return model.eval(), saved["test_accuracy"]


def load_or_train_classifier(dataset: str, data_dir: str | None = None, path: Path | None = None,
                             retrain: bool = False, log=print):
    """The cached classifier for ``dataset`` (at :func:`classifier_cache_path` unless
    ``path``, which is used as it is), trained on that dataset's training images and checked
    on its test images first if it is missing, from another version or other data, or
    ``retrain``.  Returns (model, test accuracy)."""
    import minigrad

    if path is not None and not retrain and (found := _load_saved(Path(path), dataset, None, log)):
        return found
    train_images, train_labels = load_images(dataset, "train", data_dir)
    checksum = data_checksum(train_images, train_labels)
    path = Path(path) if path else classifier_cache_path(dataset, checksum)
    if not retrain and (found := _load_saved(path, dataset, checksum, log)):
        return found
    test_images, test_labels = load_images(dataset, "test", data_dir)
    log(f"training the {dataset} classifier on {len(train_images)} images (a few minutes)")
    model = train_classifier(_unit(train_images), train_labels, progress=True)
    accuracy = float((predict_proba(model, _unit(test_images)).argmax(1) == test_labels).mean())
    log(f"classifier test accuracy {accuracy:.4f} on {len(test_images)} images; saved to {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    minigrad.save({"version": CLASSIFIER_VERSION, "dataset": dataset, "test_accuracy": accuracy,
                   "train_images": len(train_images), "data_checksum": checksum,
                   "state": model.state_dict()}, path)
    return model, accuracy


# ----------------------------------------------------------------------------- the grids

def grid_shape(grid: np.ndarray, pad: int = GRID_PAD, scale: int = GRID_SCALE,
               size: int = IMAGE_SIZE) -> tuple[int, int]:
    """(rows, columns) of images in a picture drawn by ``wgan.outputs.image_grid``; a
    ValueError if it is not one."""
    grid = np.asarray(grid)
    if grid.ndim not in (2, 3) or grid.shape[0] % scale or grid.shape[1] % scale:
        raise ValueError(f"not a sample grid: shape {grid.shape} is not a 2-D picture "
                         f"enlarged {scale}x")
    cell = size + pad
    rows, cols = (grid.shape[0] // scale - pad) / cell, (grid.shape[1] // scale - pad) / cell
    if rows != int(rows) or cols != int(cols) or rows < 1 or cols < 1:
        raise ValueError(f"not a sample grid: {grid.shape} does not split into {size}x{size} "
                         f"images with {pad}-pixel borders enlarged {scale}x")
    return int(rows), int(cols)


def grid_tiles(grid: np.ndarray, pad: int = GRID_PAD, scale: int = GRID_SCALE,
               size: int = IMAGE_SIZE) -> np.ndarray:
    """Cut a picture drawn by ``wgan.outputs.image_grid`` back into its images: uint8 (rows,
    cols) -> float32 (N, 1, size, size) in [0, 1], row by row.  Empty cells of a last row
    that is not full are included (all zero)."""
    grid = np.asarray(grid)
    rows, cols = grid_shape(grid, pad, scale, size)
    if grid.ndim == 3:  # RGB(A) written by some other tool: take the first channel
        grid = grid[..., 0]
    small = grid[::scale, ::scale].astype(np.float32) / 255.0
    cell = size + pad
    tiles = [small[pad + r * cell:pad + r * cell + size, pad + c * cell:pad + c * cell + size]
             for r in range(rows) for c in range(cols)]
    return np.stack(tiles)[:, None]


def classify_grid(model, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(tiles (N, 1, 28, 28), class probabilities (N, 10)) of a sample grid."""
    tiles = grid_tiles(grid)
    return tiles, predict_proba(model, tiles)


@dataclass
class GridScore:
    step: int
    counts: list[int]          # tiles given each class with probability >= threshold
    confident: float           # fraction of tiles with some class >= threshold
    train_seconds: float | None
    label_accuracy: float | None = None  # class-conditional runs: tiles classified as their row

    def classes(self, min_count: int) -> list[int]:
        return [k for k, c in enumerate(self.counts) if c >= min_count]


def score_grid(model, grid: np.ndarray, threshold: float,
               conditional: bool = False) -> tuple[list[int], float, float | None]:
    """(confident tiles per class, confident fraction, label accuracy or None).  A conditional
    grid has one row per class, 0 to 9 from the top (as wgan.run draws it)."""
    tiles, probs = classify_grid(model, grid)
    sure = probs.max(1) >= threshold
    counts = np.bincount(probs.argmax(1)[sure], minlength=NUM_CLASSES)
    accuracy = None
    if conditional:
        if len(tiles) % NUM_CLASSES:
            raise ValueError(f"a class-conditional grid needs one row per class; "
                             f"{len(tiles)} tiles do not make {NUM_CLASSES} rows")
        rows = np.arange(len(tiles)) // (len(tiles) // NUM_CLASSES)
        accuracy = float((probs.argmax(1) == rows).mean())
    return counts.tolist(), float(sure.mean()), accuracy


def best_tiles(model, grid: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each class, the ``k`` tiles the classifier gives it most probability: (tiles (N, 1,
    28, 28), indices (10, k) into them, best first, and their probabilities (10, k))."""
    tiles, probs = classify_grid(model, grid)
    k = min(k, len(tiles))
    order = np.argsort(-probs.T, axis=1, kind="stable")[:, :k]
    return tiles, order, np.take_along_axis(probs.T, order, axis=1)


def save_best_tiles(path: Path, tiles: np.ndarray, order: np.ndarray, probs: np.ndarray,
                    ncol: int, title: str) -> None:
    """One row per class: its best tiles, each labelled with its probability and its
    (row, column) in a grid of ``ncol`` columns (counted from 1)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n_class, k = order.shape
    fig, axes = plt.subplots(n_class, k, figsize=(1.0 * k + 0.6, 1.1 * n_class), squeeze=False)
    for digit in range(n_class):
        for j in range(k):
            ax, i = axes[digit, j], order[digit, j]
            ax.imshow(tiles[i, 0], cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            r, c = divmod(int(i), ncol)
            ax.set_title(f"{probs[digit, j]:.0%} r{r + 1}c{c + 1}", fontsize=7)
            if j == 0:
                ax.set_ylabel(str(digit), rotation=0, fontsize=12, labelpad=10)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    save_figure_atomic(fig, path, dpi=100)
    plt.close(fig)


def sample_grids(run_dir: Path) -> list[tuple[int, Path]]:
    """(step, path) of the run's sample grids in step order."""
    found = []
    for path in sorted((Path(run_dir) / SAMPLES_DIR).glob("step_*.png")):
        try:
            found.append((int(path.stem[len("step_"):]), path))
        except ValueError:
            continue
    return found


def train_seconds_by_step(run_dir: Path) -> dict[int, float]:
    """Cumulative training seconds (sum of ``sec_per_step``) at each logged generator step."""
    total, out = 0.0, {}
    for record in sorted(read_metrics(run_dir), key=lambda r: r["step"]):
        total += record.get("sec_per_step") or 0.0
        out[record["step"]] = total
    return out


def score_run(run_dir: Path, model, threshold: float) -> list[GridScore]:
    import imageio.v2 as imageio

    conditional = read_config(run_dir).get("model", {}).get("conditional", False)
    seconds = train_seconds_by_step(run_dir)
    scores = []
    for step, path in sample_grids(run_dir):
        try:
            counts, confident, accuracy = score_grid(model, imageio.imread(path), threshold,
                                                     conditional)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from exc
        scores.append(GridScore(step, counts, confident, seconds.get(step), accuracy))
    return scores


def first_all_classes(scores: list[GridScore], min_count: int) -> GridScore | None:
    """The first grid that shows all ten classes."""
    return next((s for s in scores if len(s.classes(min_count)) == NUM_CLASSES), None)


def all_classes_from(scores: list[GridScore], min_count: int) -> GridScore | None:
    """The grid from which this and every later grid show all ten classes (None if the last
    grid does not)."""
    held = None
    for s in reversed(scores):
        if len(s.classes(min_count)) != NUM_CLASSES:
            break
        held = s
    return held


def read_config(run_dir: Path) -> dict:
    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        raise ValueError(f"{run_dir} is not a run directory (no {CONFIG_FILE})")
    return json.loads(path.read_text())


def run_dataset(run_dir: Path) -> str:
    """The run's dataset from its config.json, which must be an image dataset."""
    dataset = read_config(run_dir)["settings"]["dataset"]
    if dataset not in ("mnist", "fashion-mnist"):
        raise ValueError(f"{run_dir}: dataset {dataset!r} has no classes to score "
                         f"(only mnist and fashion-mnist runs)")
    return dataset


def save_plot(path: Path, results: dict[str, list[GridScore]], min_count: int,
              threshold: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for name, scores in results.items():
        ax.plot([s.step for s in scores], [len(s.classes(min_count)) for s in scores],
                marker=".", label=Path(name).name or name)
    ax.set_xlabel("generator step")
    ax.set_ylabel("digit classes shown")
    ax.set_ylim(0, NUM_CLASSES + 0.5)
    ax.set_yticks(range(0, NUM_CLASSES + 1, 2))
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(f"digit classes with {min_count}+ tiles at p >= {threshold:g} in the "
                 "fixed-noise grid")
    fig.tight_layout()
    save_figure_atomic(fig, path, dpi=100)
    plt.close(fig)


def _probability(text: str) -> float:
    value = float(text)
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a probability in (0, 1], got {text}")
    return value


def help_description() -> str:
    """The module docstring after its first line, for ``--help``: every paragraph, whole,
    without the reStructuredText double backquotes."""
    return __doc__.split("\n", 1)[1].strip().replace("``", "")


def build_parser() -> argparse.ArgumentParser:
    from .train import positive_int

    p = argparse.ArgumentParser(prog="python -m wgan.score", description=help_description(),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", metavar="RUN", help="run directories of wgan.train")
    p.add_argument("--threshold", type=_probability, default=0.9,
                   help="probability a tile needs to count for its class (default: 0.9)")
    p.add_argument("--min-count", type=positive_int, default=2,
                   help="tiles a class needs in one grid to count as shown (default: 2, so "
                        "that one lucky tile does not count)")
    p.add_argument("--data-dir", metavar="DIR",
                   help="where the dataset's IDX files are (to train the classifier)")
    p.add_argument("--classifier", metavar="FILE",
                   help="classifier file (default: ~/.cache/wgan/<dataset>/classifier-v<version>-<data "
                        "checksum>.npz)")
    p.add_argument("--retrain", action="store_true", help="train the classifier again")
    p.add_argument("--plot", metavar="FILE.png", help="plot classes shown against step")
    p.add_argument("--best", metavar="FILE.png",
                   help="one run only: draw each digit's most confident tiles of one grid, a "
                        "row per digit, to check by eye")
    p.add_argument("--step", type=int, metavar="N",
                   help="the grid --best draws (default: the run's last)")
    p.add_argument("--top", type=positive_int, default=8,
                   help="tiles per digit that --best draws (default: 8)")
    return p


def _at(score: GridScore | None) -> dict | None:
    return None if score is None else {"step": score.step, "train_seconds": score.train_seconds}


def _when(score: GridScore) -> str:
    return f"step {score.step}" + ("" if score.train_seconds is None else
                                   f" after {score.train_seconds / 60:.1f} min of training")


def _report(run: str, scores: list[GridScore], first: GridScore | None, held: GridScore | None,
            accuracy: float, min_count: int) -> None:
    """The per-run table ``main`` prints."""
    print(f"{run}: {len(scores)} grids; classifier test accuracy {accuracy:.4f}")
    for s in scores:
        shown = s.classes(min_count)
        secs = "" if s.train_seconds is None else f"  {s.train_seconds / 60:7.1f} min"
        labels = "" if s.label_accuracy is None else f"  label accuracy {s.label_accuracy:4.0%}"
        print(f"  step {s.step:6d}{secs}  {len(shown):2d} classes  {s.confident:4.0%} "
              f"confident{labels}  missing {sorted(set(range(NUM_CLASSES)) - set(shown))}")
    if first is None:
        print("  all ten classes: not yet")
        return
    print(f"  all ten classes: first at {_when(first)}")
    if held is None:
        print(f"  but the last grid, step {scores[-1].step}, misses some")
    else:
        print(f"  in every grid from {_when(held)} to the last, step {scores[-1].step}")


def main(argv: list[str] | None = None) -> int:
    from minigrad.serialization import CheckpointError

    parser = build_parser()
    args = parser.parse_args(argv)
    log = lambda msg: print(msg, file=sys.stderr)  # noqa: E731
    if args.best and len(args.runs) != 1:
        parser.error(f"--best draws one run's grid; got {len(args.runs)} runs")
    if args.step is not None and not args.best:
        parser.error("--step chooses the grid for --best; give --best FILE.png too")
    try:
        datasets = {run: run_dataset(Path(run)) for run in args.runs}
    except ValueError as exc:
        parser.error(str(exc))
    models, results = {}, {}
    for run, dataset in datasets.items():
        try:
            if dataset not in models:
                models[dataset] = load_or_train_classifier(dataset, args.data_dir,
                                                           args.classifier, args.retrain, log)
            model, accuracy = models[dataset]
            scores = score_run(Path(run), model, args.threshold)
        except (ValueError, OSError, CheckpointError) as exc:  # bad grid, IDX or classifier
            print(f"error: {exc}", file=sys.stderr)           # file, dataset not found
            return 1
        results[run] = scores
        first = first_all_classes(scores, args.min_count)
        held = all_classes_from(scores, args.min_count)
        summary = {"threshold": args.threshold, "min_count": args.min_count,
                   "classifier_test_accuracy": accuracy,
                   "first_all_classes": _at(first), "all_classes_from": _at(held),
                   "grids": [vars(s) for s in scores]}
        write_text_atomic(Path(run) / SCORES_FILE, json.dumps(summary, indent=1) + "\n")
        _report(run, scores, first, held, accuracy, args.min_count)
    if args.plot:
        save_plot(Path(args.plot), results, args.min_count, args.threshold)
        print(f"wrote {args.plot}")
    if args.best:
        return _draw_best(Path(args.runs[0]), models[datasets[args.runs[0]]][0], args)
    return 0


def _draw_best(run: Path, model, args) -> int:
    """``--best``: the chosen grid's most confident tiles per digit."""
    import imageio.v2 as imageio

    grids = dict(sample_grids(run))
    if not grids:
        print(f"error: {run} has no sample grids", file=sys.stderr)
        return 1
    step = max(grids) if args.step is None else args.step
    if step not in grids:
        print(f"error: {run} has no sample grid at step {step}; its grids are at steps "
              f"{min(grids)} to {max(grids)}", file=sys.stderr)
        return 1
    grid = imageio.imread(grids[step])
    tiles, order, probs = best_tiles(model, grid, args.top)
    save_best_tiles(Path(args.best), tiles, order, probs, grid_shape(grid)[1],
                    f"{run.name}, step {step}: each digit's {order.shape[1]} most confident tiles")
    print(f"wrote {args.best}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
