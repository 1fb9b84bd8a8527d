"""What a run writes besides checkpoints: image grids, 2-D critic maps, the loss plot, the GIF,
and the line-per-step metrics file.  Plain NumPy in, files out; matplotlib (Agg) and imageio.

The run directory::

    config.json            every resolved setting, versions, seed
    metrics.jsonl          one JSON object per generator step
    samples/step_XXXXXX.png  fixed-noise samples (image grid, or critic contours for 2-D data)
    losses.png             critic / generator losses and the Wasserstein estimate
    samples.gif            the sample pictures in step order
    checkpoint.npz         the latest checkpoint (see wgan.run)
"""
from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.jsonl"
SAMPLES_DIR = "samples"
LOSS_PLOT = "losses.png"
GIF_FILE = "samples.gif"
CHECKPOINT_FILE = "checkpoint.npz"
MAX_GIF_FRAMES = 200
TOY_RANGE, TOY_GRID = 3.0, 128  # gan_toy.py's critic map: [-3, 3]^2 on a 128 x 128 grid


def sample_path(run_dir: Path, step: int) -> Path:
    return Path(run_dir) / SAMPLES_DIR / f"step_{step:06d}.png"


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temp path ``.NAME.PID.tmpSUFFIX`` beside ``path`` to write; renamed over ``path`` when
    the block ends, deleted if it fails, so ``path`` is always the old file or the whole new
    one (and nothing is left behind but what a killed process leaves: see
    :func:`remove_stale_temps`)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temp file and rename, so readers never see half a file."""
    with replacing(path) as tmp:
        tmp.write_text(text)


def save_figure_atomic(fig, path: Path, **savefig_kwargs) -> None:
    """Write a matplotlib figure via a temp file and rename (the caller closes the figure)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as tmp:
        fig.savefig(tmp, **savefig_kwargs)


def _write_png_atomic(path: Path, image: np.ndarray) -> None:
    import imageio.v2 as imageio

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as tmp:
        imageio.imwrite(tmp, image)


def check_writable(directory: Path) -> None:
    """An OSError (naming ``directory``) unless a file can be created in it: a run checks
    before it loads its data, not at its first write."""
    probe = Path(directory) / f".write-test.{os.getpid()}.tmp"
    try:
        probe.touch()
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(directory)) from None
    probe.unlink()


def remove_stale_temps(run_dir: Path) -> list[Path]:
    """Delete the temp files (``.NAME.*tmp*``) that writers of a killed process left in the
    run directory and its samples folder (a checkpoint's is tens of MB); returns them.
    Call it only while no other process writes to the run."""
    run_dir = Path(run_dir)
    stale = [p for folder in (run_dir, run_dir / SAMPLES_DIR) if folder.is_dir()
             for p in folder.glob(".*.tmp*") if p.is_file()]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


# ----------------------------------------------------------------------------- metrics

class MetricsError(ValueError):
    """metrics.jsonl is damaged somewhere other than a torn last line."""


def append_metrics(run_dir: Path, record: dict) -> None:
    """Append one JSON line (non-finite floats written as null) to metrics.jsonl.

    The line goes in whole or not at all: if the write fails part way (a full disk), the file
    is cut back to its old length before the OSError (naming the file) is raised.
    """
    clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in record.items()}
    line = (json.dumps(clean) + "\n").encode()
    path = Path(run_dir) / METRICS_FILE
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        size = os.fstat(fd).st_size
        try:
            written = 0
            while written < len(line):
                written += os.write(fd, line[written:])
        except OSError as exc:
            os.ftruncate(fd, size)
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
    finally:
        os.close(fd)


def _parse_metrics(path: Path) -> tuple[list[dict], bool]:
    """(the records, whether a torn last line was left out).  A last line without its newline
    is what a process killed or out of disk space mid-write leaves; anything else that is
    not JSON is a :class:`MetricsError` naming the file and line."""
    text = path.read_text()
    lines = text.split("\n")
    torn = lines[-1] != ""  # a complete file ends in a newline
    records = []
    for number, line in enumerate(lines[:-1], 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError as exc:
            raise MetricsError(f"{path}: line {number} is not a JSON record ({exc})") from None
    return records, torn


def read_metrics(run_dir: Path) -> list[dict]:
    """The records of metrics.jsonl in file order; a torn last line is left out."""
    path = Path(run_dir) / METRICS_FILE
    if not path.exists():
        return []
    return _parse_metrics(path)[0]


def truncate_metrics(run_dir: Path, last_step: int) -> None:
    """Drop the lines after generator step ``last_step`` (written after the checkpoint a run
    resumes from), and a torn last line, so the resumed run's lines follow without duplicates."""
    kept = [r for r in read_metrics(run_dir) if r["step"] <= last_step]
    write_text_atomic(Path(run_dir) / METRICS_FILE, "".join(json.dumps(r) + "\n" for r in kept))



# ----------------------------------------------------------------------------- pictures

def to_unit_range(images: np.ndarray, value_range: tuple[float, float]) -> np.ndarray:
    """Map images from ``value_range`` onto [0, 1] (clipped), float32."""
    lo, hi = value_range
    return np.clip((np.asarray(images, np.float32) - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)


def image_grid(images: np.ndarray, ncol: int, pad: int = 2, scale: int = 2) -> np.ndarray:
    """(N, 1, H, W) in [0, 1] -> one uint8 (rows, cols) picture, ``ncol`` images per row,
    ``pad`` dark pixels around each, enlarged ``scale`` times (nearest neighbour).

    Written here rather than taken from a library: torchvision's ``make_grid`` needs torch,
    scikit-image's ``montage`` would add a large dependency for these lines, and
    ``wgan.score`` cuts saved grids back into tiles by exactly this geometry."""
    n, _, h, w = images.shape
    nrow = math.ceil(n / ncol)
    grid = np.zeros((nrow * (h + pad) + pad, ncol * (w + pad) + pad), np.float32)
    for i in range(n):
        r, c = divmod(i, ncol)
        top, left = pad + r * (h + pad), pad + c * (w + pad)
        grid[top:top + h, left:left + w] = images[i, 0]
    grid = np.repeat(np.repeat(grid, scale, axis=0), scale, axis=1)
    return np.round(grid * 255).astype(np.uint8)


def save_image_grid(path: Path, images: np.ndarray, ncol: int | None = None) -> None:
    """Write images (N, 1, H, W) in [0, 1] as a PNG grid (``ncol`` default: square-ish)."""
    ncol = ncol or math.ceil(math.sqrt(len(images)))
    _write_png_atomic(Path(path), image_grid(images, ncol))


def toy_grid() -> tuple[np.ndarray, np.ndarray]:
    """The critic-map grid: (axis values (G,), points (G*G, 2) float32, x-major)."""
    axis = np.linspace(-TOY_RANGE, TOY_RANGE, TOY_GRID)
    points = np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1).reshape(-1, 2)
    return axis, points.astype(np.float32)


def save_toy_plot(path: Path, critic_map: np.ndarray, real: np.ndarray, fake: np.ndarray,
                  title: str) -> None:
    """Critic contours over the :func:`toy_grid` (``critic_map`` (G*G,)), real points (orange)
    and generated points (green), as gan_toy.py draws them.  Fixed size, so frames make a GIF."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    axis, _ = toy_grid()
    fig, ax = plt.subplots(figsize=(5, 5), dpi=80)
    try:
        ax.contour(axis, axis, critic_map.reshape(len(axis), len(axis)).T, levels=12)
        ax.scatter(real[:, 0], real[:, 1], c="orange", marker="+", s=12, label="real")
        ax.scatter(fake[:, 0], fake[:, 1], c="green", marker="+", s=12, label="generated")
        ax.set_xlim(-TOY_RANGE, TOY_RANGE)
        ax.set_ylim(-TOY_RANGE, TOY_RANGE)
        ax.set_aspect("equal")
        ax.set_title(title)
        ax.legend(loc="upper right", fontsize=8)
        save_figure_atomic(fig, path)
    finally:
        plt.close(fig)


def save_points_plot(path: Path, points: np.ndarray, title: str) -> None:
    """A scatter plot of 2-D points (N, 2)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5), dpi=80)
    try:
        ax.scatter(points[:, 0], points[:, 1], c="green", marker="+", s=12)
        ax.set_xlim(-TOY_RANGE, TOY_RANGE)
        ax.set_ylim(-TOY_RANGE, TOY_RANGE)
        ax.set_aspect("equal")
        ax.set_title(title)
        save_figure_atomic(fig, path)
    finally:
        plt.close(fig)


def _moving_average(values: np.ndarray, window: int) -> np.ndarray:
    if window <= 1 or len(values) < window:
        return values
    kernel = np.ones(window) / window
    return np.convolve(values, kernel, mode="valid")


def save_loss_plot(run_dir: Path, title: str) -> Path | None:
    """Plot metrics.jsonl: critic and generator losses (top) and the Wasserstein estimate
    E[D(real)] - E[D(fake)] (bottom), raw and smoothed.  Returns the PNG path, or None when
    there is nothing to plot yet."""
    records = read_metrics(run_dir)
    if not records:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    steps = np.array([r["step"] for r in records])

    def series(key: str) -> np.ndarray:
        return np.array([np.nan if r.get(key) is None else r[key] for r in records], float)

    window = max(1, len(records) // 50)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True, dpi=100)
    try:
        for ax, keys in ((top, ("critic_loss", "generator_loss")), (bottom, ("wasserstein",))):
            for key in keys:
                values = series(key)
                if np.all(np.isnan(values)):
                    continue
                line, = ax.plot(steps, values, alpha=0.3 if window > 1 else 1.0, lw=0.8)
                smooth = _moving_average(values, window)
                label = key.replace("_", " ")
                if smooth is not values:
                    ax.plot(steps[window - 1:], smooth, color=line.get_color(), lw=1.5, label=label)
                else:
                    line.set_label(label)
            ax.grid(alpha=0.3)
            ax.legend(loc="best")
        top.set_ylabel("loss")
        bottom.set_ylabel("E[D(real)] - E[D(fake)]")
        bottom.set_xlabel("generator step")
        bottom.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        top.set_title(title)
        fig.tight_layout()
        path = Path(run_dir) / LOSS_PLOT
        save_figure_atomic(fig, path)
    finally:
        plt.close(fig)
    return path


def sample_frames(run_dir: Path) -> list[Path]:
    """The sample pictures of a run, in step order."""
    return sorted((Path(run_dir) / SAMPLES_DIR).glob("step_*.png"))


def save_gif(run_dir: Path, frames: Iterable[Path] | None = None, ms_per_frame: int = 250) -> Path | None:
    """Assemble the sample pictures into samples.gif (at most MAX_GIF_FRAMES, evenly spaced,
    the last always included and shown four times as long).  None if there are no frames."""
    import imageio.v3 as iio

    frames = list(sample_frames(run_dir) if frames is None else frames)
    if not frames:
        return None
    if len(frames) > MAX_GIF_FRAMES:
        keep = np.unique(np.linspace(0, len(frames) - 1, MAX_GIF_FRAMES).round().astype(int))
        frames = [frames[i] for i in keep]
    images = [_rgb(iio.imread(f)) for f in frames]
    durations = [ms_per_frame] * (len(images) - 1) + [4 * ms_per_frame]
    path = Path(run_dir) / GIF_FILE
    with replacing(path) as tmp:  # one frame: a number, since imageio's writer cannot take [d]
        iio.imwrite(tmp, np.stack(images), extension=".gif", loop=0,
                    duration=durations if len(images) > 1 else durations[0])
    return path


def _rgb(image: np.ndarray) -> np.ndarray:
    """Grey (H, W) or RGBA (H, W, 4) uint8 -> RGB (H, W, 3), so every GIF frame has one mode."""
    if image.ndim == 2:
        return np.repeat(image[:, :, None], 3, axis=2)
    return image[:, :, :3]
