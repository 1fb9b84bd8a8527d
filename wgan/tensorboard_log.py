"""TensorBoard event files in the run directory: every scalar of ``metrics.jsonl``, the
fixed-noise sample picture and the config as text.  ``tensorboard --logdir runs`` then shows
the runs side by side.

The events are TensorBoard's own ``Event`` / ``Summary`` protos, serialised by protobuf and
framed (length, CRC32C) by TensorBoard's ``RecordWriter``, into a file named as TensorBoard's
writers name theirs.  Not tensorboardX: its ``SummaryWriter`` imports torch whenever torch is
installed (2.5 s at start, and wgan never imports torch).  Not TensorBoard's
``EventFileWriter`` either: it writes from a thread of its own, whose failure on a full disk
prints a traceback no caller can catch; here every write happens in the caller's thread, so
a failure is one warning.  TensorBoard's framework-free ``tensorboard.summary.Writer`` writes
scalars only, so the image and text values are filled in here, as ``torch.utils.tensorboard``
does.

Writes stay off the training step: :meth:`TensorBoardLog.add_scalars` only keeps the record,
and :meth:`TensorBoardLog.flush` (at sample and checkpoint steps and at the end) writes them.
A resumed run writes a new event file that starts with a ``SessionLog.START`` at the first
step it computes, which tells TensorBoard to drop the steps the interrupted process wrote
after its last checkpoint (the resumed run computes them again).
"""
from __future__ import annotations

import contextlib
import logging
import math
import os
import socket
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SAMPLES_TAG = "samples"
CONFIG_TAG = "config"


class TensorBoardUnavailable(RuntimeError):
    """The ``tensorboard`` package cannot be imported."""


def _modules():
    """TensorBoard's record writer and protos, imported on first use (0.4 s; not for ``--help``)."""
    try:
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.plugins.image import metadata as image_metadata
        from tensorboard.plugins.text import metadata as text_metadata
        from tensorboard.summary.writer.record_writer import RecordWriter
        from tensorboard.util import tensor_util
    except ImportError as exc:
        raise TensorBoardUnavailable(
            f"TensorBoard event files need the tensorboard package ({exc}); install it with "
            "`pip install tensorboard`, or train with --no-tensorboard") from None
    return event_pb2, summary_pb2, image_metadata, text_metadata, RecordWriter, tensor_util


class TensorBoardLog:
    """One event file in ``run_dir``; ``purge_from`` (a resumed run's first new step) makes
    TensorBoard drop what earlier files logged from that step on.

    With ``enabled=False`` (``--no-tensorboard``) every method does nothing.  A write that fails
    (a full disk) is logged once as a warning and turns the log off for the rest of the run:
    the event file is a view of metrics.jsonl and the pictures, not a record of its own, so it
    never stops a run; the files it mirrors report their own write errors.
    """

    def __init__(self, run_dir: Path, purge_from: int | None = None, enabled: bool = True):
        self.run_dir = Path(run_dir)
        self._writer = None
        self._pending: list[tuple[float, dict[str, Any]]] = []  # (wall time, metrics line)
        if not enabled:
            return
        (self._event_pb2, self._summary_pb2, self._image_metadata, self._text_metadata,
         record_writer, self._tensor_util) = _modules()
        try:
            self._writer = record_writer(open(self.run_dir / event_file_name(), "xb"))
        except OSError as exc:
            log.warning("warning: no TensorBoard events for this run: %s", exc)
            return
        self._add(self._event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2"))
        if purge_from is not None:
            start = self._event_pb2.SessionLog(status=self._event_pb2.SessionLog.START)
            self._add(self._event_pb2.Event(step=purge_from, wall_time=time.time(),
                                            session_log=start))

    @property
    def enabled(self) -> bool:
        """Whether events are still being written."""
        return self._writer is not None

    def add_scalars(self, record: dict[str, Any]) -> None:
        """Keep one metrics line (its ``step`` and numbers) for the next :meth:`flush`."""
        if self.enabled:
            self._pending.append((time.time(), record))

    def add_image(self, tag: str, png: Path, step: int) -> None:
        """The PNG file ``png`` as image ``tag`` at ``step`` (its bytes as written, not re-encoded)."""
        if not self.enabled:
            return
        import imageio.v3 as iio

        shape = iio.improps(png).shape  # (H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA
        image = self._summary_pb2.Summary.Image(
            height=shape[0], width=shape[1], colorspace=1 if len(shape) == 2 else shape[2],
            encoded_image_string=Path(png).read_bytes())
        metadata = self._image_metadata.create_summary_metadata(display_name=tag, description="")
        self._write(step, self._summary_pb2.Summary.Value(tag=tag, image=image, metadata=metadata))

    def add_text(self, tag: str, text: str, step: int) -> None:
        """``text`` (Markdown) as text summary ``tag`` at ``step``."""
        if not self.enabled:
            return
        import numpy as np

        tensor = self._tensor_util.make_tensor_proto(np.array([text]))
        metadata = self._text_metadata.create_summary_metadata(display_name=tag, description="")
        self._write(step, self._summary_pb2.Summary.Value(tag=tag, tensor=tensor, metadata=metadata))

    def flush(self) -> None:
        """Write the kept metrics lines (one event per step) and flush the file."""
        pending, self._pending = self._pending, []
        for wall_time, record in pending:
            values = [self._summary_pb2.Summary.Value(tag=key, simple_value=float(value))
                      for key, value in record.items() if key != "step" and _is_number(value)]
            self._write(record["step"], *values, wall_time=wall_time)
        self._guarded(lambda writer: writer.flush())

    def close(self) -> None:
        """Flush and close the file."""
        if self.enabled:
            self.flush()
        self._guarded(lambda writer: writer.close())
        self._writer = None

    def _write(self, step: int, *values, wall_time: float | None = None) -> None:
        if self.enabled:
            summary = self._summary_pb2.Summary(value=list(values))
            self._add(self._event_pb2.Event(
                step=int(step), wall_time=time.time() if wall_time is None else wall_time,
                summary=summary))

    def _add(self, event) -> None:
        self._guarded(lambda writer: writer.write(event.SerializeToString()))

    def _guarded(self, action) -> None:
        """``action(writer)``; on a failure, a warning and no more events."""
        if self._writer is None:
            return
        try:
            action(self._writer)
        except OSError as exc:
            log.warning("warning: TensorBoard events in %s stop here: %s", self.run_dir, exc)
            writer, self._writer = self._writer, None
            with contextlib.suppress(Exception):
                writer.close()


def event_file_name() -> str:
    """``events.out.tfevents.<seconds>.<host>.<pid>.<ns>``, TensorBoard's pattern: it reads a
    directory's event files in name order, so a resumed run's file sorts after the old one."""
    return (f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}."
            f"{time.monotonic_ns()}")


def _is_number(value: Any) -> bool:
    """A finite int or float, not a bool (non-finite values are null in metrics.jsonl)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def config_markdown(config_json: str) -> str:
    """config.json's text as a Markdown code block (TensorBoard's text tab renders Markdown)."""
    return "\n".join("    " + line for line in config_json.splitlines())
