"""What a run tells its user: log lines (Python ``logging``, on the terminal and in the run's
``run.log``) and the progress bar (tqdm).

Everything is logged to the ``wgan`` logger.  :func:`terminal_logging` shows its INFO lines on
stderr, as the CLIs print them; :class:`RunLog` adds ``RUN/run.log`` with the same lines,
time-stamped, once the run directory is the run's own.  :func:`progress` draws a tqdm bar (on
a terminal in place, otherwise a line every 10 s) and routes the log lines around it, so a
line never lands in the middle of the bar.
"""
from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

LOGGER_NAME = "wgan"
RUN_LOG_FILE = "run.log"
log = logging.getLogger(LOGGER_NAME)


@contextlib.contextmanager
def terminal_logging(stream: TextIO | None = None) -> Iterator[logging.Handler]:
    """Show the ``wgan`` logger's INFO and higher lines, message only, on ``stream``
    (default: the current ``sys.stderr``) until the block ends."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    previous_level = log.level
    log.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        log.removeHandler(handler)
        log.setLevel(previous_level)


class _RunLogHandler(logging.FileHandler):
    """A FileHandler that goes quiet after its first failed write (a full disk): logging's
    default would print a traceback for every line."""

    failed = False

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging's name)
        self.failed = True
        with contextlib.suppress(OSError):
            self.close()

    def emit(self, record: logging.LogRecord) -> None:
        if not self.failed:
            super().emit(record)


class RunLog:
    """``RUN/run.log``: every ``wgan`` log line from :meth:`open` until :meth:`close`,
    appended (a resumed run continues the file), each with its time."""

    def __init__(self) -> None:
        self.handler: _RunLogHandler | None = None

    @property
    def path(self) -> Path | None:
        return None if self.handler is None else Path(self.handler.baseFilename)

    def open(self, run_dir: Path) -> None:
        """Start writing ``run_dir/run.log`` (an OSError if it cannot be opened)."""
        self.close()
        handler = _RunLogHandler(Path(run_dir) / RUN_LOG_FILE, mode="a", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%dT%H:%M:%S"))
        handler.setLevel(logging.INFO)
        log.addHandler(handler)
        if log.level == logging.NOTSET or log.level > logging.INFO:
            log.setLevel(logging.INFO)
        self.handler = handler

    def close(self) -> None:
        if self.handler is not None:
            log.removeHandler(self.handler)
            with contextlib.suppress(OSError):  # a full disk: the lines that fit are kept
                self.handler.close()
            self.handler = None

    def __enter__(self) -> RunLog:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def format_values(values: dict[str, float | None]) -> str:
    """'W 0.5 D -1.25' from {'W': 0.5, 'D': -1.25, 'GP': None}: the bar's latest losses."""
    return " ".join(f"{name} {value:.4g}" for name, value in values.items() if value is not None)


class _Lines:
    """A file for tqdm without a terminal: each redraw becomes one whole line (tqdm redraws
    with a carriage return, which a log file or a pipe would pile up on one line)."""

    def __init__(self, stream: TextIO):
        self.stream = stream

    def write(self, text: str) -> None:
        line = text.replace("\r", "").rstrip()
        if line:
            self.stream.write(line + "\n")

    def flush(self) -> None:
        self.stream.flush()


BAR_FORMAT = ("{percentage:3.0f}%|{bar:24}| {n_fmt}/{total_fmt} [{elapsed}, {rate_fmt}, "
              "ETA {remaining}]{postfix}")
LINE_EVERY_S = 10.0  # without a terminal, one line this often (and at the end)


@contextlib.contextmanager
def progress(total: int, initial: int = 0, enabled: bool = True, unit: str = "step"):
    """A tqdm bar from ``initial`` (a resumed run's step, so its rate and ETA count only this
    process's steps) to ``total`` on stderr.  On a terminal it redraws in place; without one it
    writes a whole line every ``LINE_EVERY_S`` seconds and at the end; ``enabled=False`` (the
    CLIs' ``--quiet``): nothing.  Set the position with ``bar.update(n)`` and the latest losses
    with ``bar.set_postfix_str(format_values(...), refresh=False)``.  Log lines are routed
    around the bar meanwhile."""
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    stream = sys.stderr
    terminal = bool(getattr(stream, "isatty", lambda: False)())
    bar = tqdm(total=total, initial=initial, unit=unit, bar_format=BAR_FORMAT,
               file=stream if terminal else _Lines(stream), ascii=None if terminal else True,
               dynamic_ncols=terminal, mininterval=0.2 if terminal else LINE_EVERY_S,
               smoothing=0.1, disable=not enabled)
    try:
        with logging_redirect_tqdm(loggers=[log]):
            yield bar
    finally:
        bar.close()
