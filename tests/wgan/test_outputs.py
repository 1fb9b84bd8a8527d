"""Pictures and metrics files, without training (the progress bar: tests/wgan/test_logs.py)."""
import errno
import json
import os

import imageio.v3 as iio
import numpy as np
import pytest

from wgan import outputs


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


def test_a_torn_last_line_is_left_out_and_dropped_on_truncate(tmp_path):
    for step in range(1, 4):
        outputs.append_metrics(tmp_path, {"step": step})
    path = tmp_path / outputs.METRICS_FILE
    with path.open("a") as f:
        f.write('{"step": 4, "critic_lo')  # what a write cut short by a full disk leaves
    assert [r["step"] for r in outputs.read_metrics(tmp_path)] == [1, 2, 3]
    outputs.truncate_metrics(tmp_path, 3)
    assert path.read_text().endswith("}\n") and len(path.read_text().splitlines()) == 3


def test_damage_before_the_last_line_names_the_file_and_line(tmp_path):
    (tmp_path / outputs.METRICS_FILE).write_text('{"step": 1}\n{"st\n{"step": 3}\n')
    with pytest.raises(outputs.MetricsError, match=r"metrics.jsonl: line 2 is not a JSON record"):
        outputs.read_metrics(tmp_path)


def test_a_failed_append_leaves_whole_lines(tmp_path, monkeypatch):
    outputs.append_metrics(tmp_path, {"step": 1})
    real_write = os.write

    def half_then_full(fd, data):  # the kernel wrote part of the line, then the disk filled
        real_write(fd, data[:len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", half_then_full)
    with pytest.raises(OSError, match="metrics.jsonl") as exc:
        outputs.append_metrics(tmp_path, {"step": 2, "critic_loss": 1.5})
    assert exc.value.errno == errno.ENOSPC
    monkeypatch.undo()
    assert (tmp_path / outputs.METRICS_FILE).read_text() == '{"step": 1}\n'


def test_stale_temp_files_are_removed(tmp_path):
    (tmp_path / "samples").mkdir()
    stale = [tmp_path / ".checkpoint.npz.3f2a9c1d.tmp", tmp_path / ".config.json.1234.tmp",
             tmp_path / "samples" / ".step_000100.png.tmp.png", tmp_path / ".losses.png.tmp.png"]
    kept = [tmp_path / "checkpoint.npz", tmp_path / "samples" / "step_000100.png",
            tmp_path / "metrics.jsonl"]
    for path in stale + kept:
        path.write_bytes(b"x")
    assert sorted(outputs.remove_stale_temps(tmp_path)) == sorted(stale)
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file()) == sorted(kept)


def test_gif_from_sample_frames(tmp_path):
    for step, value in ((0, 0.0), (10, 0.5), (20, 1.0)):
        images = np.full((4, 1, 28, 28), value, np.float32)
        outputs.save_image_grid(outputs.sample_path(tmp_path, step), images)
    gif = outputs.save_gif(tmp_path)
    assert iio.improps(gif, index=None).n_images == 3
    assert [iio.immeta(gif, index=i)["duration"] for i in range(3)] == [250, 250, 1000]  # last x4
    assert iio.immeta(gif)["loop"] == 0



def test_gif_of_one_frame(tmp_path):
    """A run stopped at step 0 has one sample picture; its GIF is that frame."""
    outputs.save_image_grid(outputs.sample_path(tmp_path, 0), np.zeros((4, 1, 28, 28), np.float32))
    gif = outputs.save_gif(tmp_path)
    assert iio.improps(gif, index=None).n_images == 1
    assert iio.immeta(gif, index=0)["duration"] == 1000

def test_loss_plot(tmp_path):
    for step in range(1, 120):
        outputs.append_metrics(tmp_path, {"step": step, "critic_loss": -1.0 / step,
                                          "generator_loss": 0.5, "wasserstein": 1.0 / step})
    path = outputs.save_loss_plot(tmp_path, "test")
    assert iio.improps(path).shape[:2] == (600, 900)  # (height, width)


def test_a_failed_atomic_write_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    path = tmp_path / "losses.png"
    path.write_bytes(b"old")
    with pytest.raises(OSError, match="No space"):
        with outputs.replacing(path) as tmp:
            tmp.write_bytes(b"half")
            raise OSError(errno.ENOSPC, "No space left on device")
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["losses.png"]


def test_check_writable_names_the_directory(tmp_path, monkeypatch):
    outputs.check_writable(tmp_path)
    assert os.listdir(tmp_path) == []

    def read_only(self, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(type(tmp_path), "touch", read_only)
    with pytest.raises(OSError, match=f"Read-only file system: '{tmp_path}'"):
        outputs.check_writable(tmp_path)
