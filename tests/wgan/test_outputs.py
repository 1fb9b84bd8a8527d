"""Pictures, metrics files and the progress bar, without training."""
import io
import json

import imageio.v3 as iio
import numpy as np

from wgan import outputs
from wgan.progress import ProgressBar, format_duration


def test_image_grid_layout():
    images = np.zeros((5, 1, 2, 3), np.float32)
    images[4] = 1.0
    grid = outputs.image_grid(images, ncol=2, pad=1, scale=1)
    assert grid.shape == (3 * 3 + 1, 2 * 4 + 1) and grid.dtype == np.uint8
    assert (grid[7:9, 1:4] == 255).all()  # image 4: third row, first column
    assert grid.sum() == 255 * 6


def test_to_unit_range():
    x = np.array([-1.0, 0.0, 1.0, 2.0], np.float32)
    assert np.array_equal(outputs.to_unit_range(x, (-1.0, 1.0)), [0.0, 0.5, 1.0, 1.0])


def test_metrics_append_and_truncate(tmp_path):
    for step in range(1, 6):
        outputs.append_metrics(tmp_path, {"step": step, "loss": float("nan") if step == 2 else 1.0})
    assert outputs.read_metrics(tmp_path)[1]["loss"] is None  # strict JSON, no NaN token
    outputs.truncate_metrics(tmp_path, 3)
    assert [r["step"] for r in outputs.read_metrics(tmp_path)] == [1, 2, 3]
    json.loads((tmp_path / outputs.METRICS_FILE).read_text().splitlines()[1])


def test_gif_from_sample_frames(tmp_path):
    for step, value in ((0, 0.0), (10, 0.5), (20, 1.0)):
        images = np.full((4, 1, 28, 28), value, np.float32)
        outputs.save_image_grid(outputs.sample_path(tmp_path, step), images)
    gif = outputs.save_gif(tmp_path)
    assert iio.improps(gif, index=None).n_images == 3
    assert [iio.immeta(gif, index=i)["duration"] for i in range(3)] == [250, 250, 1000]  # last x4
    assert iio.immeta(gif)["loop"] == 0


def test_loss_plot(tmp_path):
    for step in range(1, 120):
        outputs.append_metrics(tmp_path, {"step": step, "critic_loss": -1.0 / step,
                                          "generator_loss": 0.5, "wasserstein": 1.0 / step})
    path = outputs.save_loss_plot(tmp_path, "test")
    assert iio.improps(path).shape[:2] == (600, 900)  # (height, width)


def test_progress_bar_lines_without_a_terminal():
    stream = io.StringIO()
    bar = ProgressBar(10, stream=stream, line_every_s=3600)
    for step in range(1, 11):
        bar.update(step, {"W": 0.5, "D": -1.25, "GP": None})
    bar.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2  # the first update, then the final one (rate limited in between)
    assert lines[-1].startswith("[########################] 10/10 100%")
    assert "ETA 0:00" in lines[-1] and "W 0.5 D -1.25" in lines[-1] and "GP" not in lines[-1]


def test_format_duration():
    assert [format_duration(s) for s in (5, 65, 3725, float("nan"))] == ["0:05", "1:05", "1:02:05", "?"]
