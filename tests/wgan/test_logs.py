"""wgan.logs (log lines, run.log, the tqdm bar) and wgan.tensorboard_log (event files read
back with TensorBoard's own reader)."""
import io
import json
import logging
import sys

import numpy as np
import pytest

from wgan import logs, outputs

from .conftest import MNIST_DIR, TINY_MNIST, read_jsonl

log = logging.getLogger("wgan.test")


def test_run_log_holds_what_the_terminal_shows(tmp_path):
    terminal = io.StringIO()
    with logs.terminal_logging(terminal), logs.RunLog() as run_log:
        log.info("before the run directory is ours")
        run_log.open(tmp_path)
        log.info("started: step 0")
        log.warning("warning: something odd")
        log.debug("not shown")
    log.info("after: nowhere")
    assert terminal.getvalue().splitlines() == ["before the run directory is ours",
                                                "started: step 0", "warning: something odd"]
    lines = (tmp_path / logs.RUN_LOG_FILE).read_text().splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == ["started: step 0", "warning: something odd"]
    assert lines[0][:4].isdigit() and "T" in lines[0].split(" ")[0]  # 2026-12-01T22:50:01


class FullDisk(io.StringIO):
    def write(self, text):
        raise OSError(28, "No space left on device")

    def flush(self):
        raise OSError(28, "No space left on device")


def test_run_log_appends_and_goes_quiet_when_the_disk_fails(tmp_path, capsys):
    with logs.RunLog() as run_log:
        run_log.open(tmp_path)
        log.info("first")
    with logs.RunLog() as run_log:
        run_log.open(tmp_path)
        log.info("resumed")
        run_log.handler.flush()
        run_log.handler.stream = FullDisk()  # every later write fails
        log.info("lost")
        log.info("lost too")
        assert run_log.handler is not None and run_log.handler.failed
    assert "Traceback" not in capsys.readouterr().err
    assert [l.split(" ", 1)[1] for l in (tmp_path / "run.log").read_text().splitlines()] == [
        "first", "resumed"]


def test_format_values_skips_missing_ones():
    assert logs.format_values({"W": 0.5, "D": -1.25, "GP": None, "G": 123456.0}) == \
        "W 0.5 D -1.25 G 1.235e+05"


def test_progress_without_a_terminal_writes_whole_lines(capsys, monkeypatch):
    monkeypatch.setattr(logs, "LINE_EVERY_S", 0.0)
    with logs.progress(10, initial=6) as bar:  # a resumed run: from step 6
        for _ in range(4):
            bar.set_postfix_str(logs.format_values({"W": 0.5, "D": -1.25, "GP": None}),
                                refresh=False)
            bar.update(1)
    lines = capsys.readouterr().err.splitlines()
    assert "\r" not in "".join(lines) and lines[0].startswith(" 60%|") and "6/10" in lines[0]
    assert lines[-1].startswith("100%|########################| 10/10 [")
    assert "ETA 00:00" in lines[-1] and lines[-1].endswith(", W 0.5 D -1.25")


def test_progress_on_a_terminal_and_quiet(capsys, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with logs.terminal_logging(), logs.progress(3) as bar:
        bar.update(1)
        logging.getLogger("wgan.test").info("checkpoint at step 1")
        bar.update(2)
    shown = terminal.getvalue()
    assert "\r" in shown and "3/3" in shown and "checkpoint at step 1\n" in shown
    monkeypatch.undo()
    with logs.progress(3, enabled=False) as bar:
        bar.update(3)
    assert capsys.readouterr().err == ""


# ----------------------------------------------------------------------------- TensorBoard

def read_events(run_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run_dir), size_guidance={"scalars": 0, "images": 0,
                                                           "tensors": 0})
    events.Reload()
    return events


def test_tensorboard_log_reads_back_scalars_image_and_text(tmp_path):
    pytest.importorskip("tensorboard")
    from wgan.tensorboard_log import TensorBoardLog

    grid = tmp_path / "grid.png"
    outputs.save_image_grid(grid, np.full((4, 1, 28, 28), 0.5, np.float32))
    board = TensorBoardLog(tmp_path)
    board.add_text("config", "    {\"loss\": \"wgan\"}", 0)
    board.add_image("samples", grid, 0)
    for step in range(1, 6):
        board.add_scalars({"step": step, "critic_loss": -0.5 * step, "gradient_penalty": None,
                           "critic_iters": 5})
    assert read_events(tmp_path).Tags()["scalars"] == []  # kept until the next flush
    board.close()
    events = read_events(tmp_path)
    assert sorted(events.Tags()["scalars"]) == ["critic_iters", "critic_loss"]  # None: no point
    assert [(s.step, s.value) for s in events.Scalars("critic_loss")] == [
        (k, -0.5 * k) for k in range(1, 6)]
    image = events.Images("samples")[0]
    assert (image.step, image.width, image.height) == (0, 124, 124)
    assert image.encoded_image_string == grid.read_bytes()
    from tensorboard.util import tensor_util

    text = tensor_util.make_ndarray(events.Tensors("config")[0].tensor_proto)
    assert text.tolist() == [b'    {"loss": "wgan"}']


def test_a_resumed_log_replaces_the_steps_after_the_checkpoint(tmp_path):
    pytest.importorskip("tensorboard")
    from wgan.tensorboard_log import TensorBoardLog

    first = TensorBoardLog(tmp_path)
    for step in range(1, 8):  # killed at step 7, last checkpoint at step 4
        first.add_scalars({"step": step, "critic_loss": 1.0})
    first.close()
    resumed = TensorBoardLog(tmp_path, purge_from=5)
    for step in range(5, 10):
        resumed.add_scalars({"step": step, "critic_loss": 2.0})
    resumed.close()
    points = [(s.step, s.value) for s in read_events(tmp_path).Scalars("critic_loss")]
    assert points == [(k, 1.0) for k in range(1, 5)] + [(k, 2.0) for k in range(5, 10)]


def test_a_failing_event_file_warns_once_and_stops_logging(tmp_path, caplog):
    pytest.importorskip("tensorboard")
    from wgan.tensorboard_log import TensorBoardLog

    board = TensorBoardLog(tmp_path)

    def full_disk(data):
        raise OSError(28, "No space left on device")

    board._writer.write = full_disk
    board.add_scalars({"step": 1, "critic_loss": 1.0})
    with caplog.at_level(logging.WARNING, logger="wgan"):
        board.flush()
        board.add_scalars({"step": 2, "critic_loss": 1.0})
        board.close()
    assert not board.enabled
    assert [r.getMessage() for r in caplog.records] == [
        f"warning: TensorBoard events in {tmp_path} stop here: [Errno 28] No space left on device"]


def test_a_disabled_log_writes_nothing(tmp_path):
    from wgan.tensorboard_log import TensorBoardLog

    board = TensorBoardLog(tmp_path, purge_from=3, enabled=False)
    board.add_scalars({"step": 1, "critic_loss": 1.0})
    board.add_text("config", "x", 0)
    board.close()
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- a real run

def _float32(value):
    return float(np.float32(value))


@pytest.mark.skipif(not MNIST_DIR.is_dir(), reason=f"MNIST not present at {MNIST_DIR}")
def test_a_short_run_opens_in_tensorboard_and_logs_to_run_log(tmp_path, train_main):
    pytest.importorskip("tensorboard")
    runs = tmp_path / "runs"
    options = ["--model", "mlp", "--loss", "wgan-gp", "--n-critic", "1", *TINY_MNIST,
               "--sample-every", "2", "--checkpoint-every", "2"]
    run = runs / "a"
    assert train_main(*options, "--iters", "4", "--out", str(run))[0] == 0
    code, _, err = train_main("--resume", str(run), "--iters", "6", "--quiet")
    assert code == 0, err
    metrics = read_jsonl(run / "metrics.jsonl")
    events = read_events(run)
    numeric = {k for m in metrics for k, v in m.items() if k != "step" and v is not None}
    assert set(events.Tags()["scalars"]) == numeric and "gradient_penalty" in numeric
    for key in numeric:  # every step once, across both processes, as in metrics.jsonl
        assert [(s.step, s.value) for s in events.Scalars(key)] == [
            (m["step"], _float32(m[key])) for m in metrics]
    images = events.Images("samples")
    assert [i.step for i in images] == [0, 2, 4, 6]
    assert images[-1].encoded_image_string == (run / "samples" / "step_000006.png").read_bytes()
    from tensorboard.util import tensor_util

    texts = [tensor_util.make_ndarray(t.tensor_proto)[0].decode() for t in events.Tensors("config")]
    assert len(texts) == 2 and '"loss": "wgan-gp"' in texts[0] and '"iters": 6' in texts[1]

    lines = [line.split(" ", 1)[1] for line in (run / "run.log").read_text().splitlines()]
    assert lines[0].startswith(f"started {run}: wgan-gp / mlp / mnist, 4 generator steps")
    assert [l.split(":")[0] for l in lines if l.startswith("checkpoint")] == [
        "checkpoint at step 2", "checkpoint at step 4", "checkpoint at step 6"]
    assert f"done: 4 generator steps; outputs in {run}" in lines
    assert f"resumed {run} at step 4 of 6" in lines and lines[-1].startswith("done: 6")

    assert train_main(*options, "--iters", "2", "--out", str(runs / "b"))[0] == 0
    from tensorboard.backend.event_processing.event_multiplexer import EventMultiplexer

    both = EventMultiplexer().AddRunsFromDirectory(str(runs))
    both.Reload()
    assert sorted(both.Runs()) == ["a", "b"]  # tensorboard --logdir runs: side by side


@pytest.mark.skipif(not MNIST_DIR.is_dir(), reason=f"MNIST not present at {MNIST_DIR}")
def test_no_tensorboard_writes_no_events(tmp_path, train_main):
    run = tmp_path / "run"
    assert train_main("--model", "mlp", "--loss", "wgan", *TINY_MNIST, "--iters", "2",
                      "--no-tensorboard", "--out", str(run))[0] == 0
    assert not list(run.glob("events.out.tfevents.*"))
    assert json.loads((run / "config.json").read_text())["settings"]["tensorboard"] is False
