"""A small progress bar with ETA and the latest losses (no tqdm dependency).

On a terminal it redraws one line in place (at most ``refresh_s`` apart); otherwise (a log
file, a pipe, a test) it prints a full line every ``line_every_s`` seconds and at the end.
"""
from __future__ import annotations

import sys
import time
from typing import TextIO


def format_duration(seconds: float) -> str:
    """1:02:03 / 2:03 style."""
    if seconds != seconds or seconds == float("inf"):
        return "?"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ProgressBar:
    """``update(step, values)`` after each step; ``close()`` at the end.

    ``start`` is the step the run (re)starts from, so a resumed run's ETA uses only the
    steps timed in this process.
    """

    def __init__(self, total: int, start: int = 0, stream: TextIO | None = None,
                 enabled: bool = True, width: int = 24, refresh_s: float = 0.2,
                 line_every_s: float = 10.0):
        self.total, self.start = total, start
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.width, self.refresh_s, self.line_every_s = width, refresh_s, line_every_s
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.t0 = time.perf_counter()
        self.last_draw = -float("inf")
        self.step = start
        self.text = ""

    def render(self, step: int, values: dict[str, float]) -> str:
        done = step / self.total if self.total else 1.0
        filled = int(round(done * self.width))
        elapsed = time.perf_counter() - self.t0
        per_step = elapsed / (step - self.start) if step > self.start else float("nan")
        eta = per_step * (self.total - step) if step > self.start else float("nan")
        shown = " ".join(f"{k} {v:.4g}" for k, v in values.items() if v is not None)
        rate = f"{per_step:.2f}s/it" if per_step == per_step else "?s/it"
        return (f"[{'#' * filled}{'.' * (self.width - filled)}] {step}/{self.total} "
                f"{done:4.0%} {rate} ETA {format_duration(eta)}  {shown}").rstrip()

    def update(self, step: int, values: dict[str, float]) -> None:
        self.step = step
        if not self.enabled:
            return
        now = time.perf_counter()
        interval = self.refresh_s if self.tty else self.line_every_s
        if now - self.last_draw < interval and step < self.total:
            return
        self.last_draw = now
        self.text = self.render(step, values)
        if self.tty:
            self.stream.write("\r\033[K" + self.text)
        else:
            self.stream.write(self.text + "\n")
        self.stream.flush()

    def message(self, text: str) -> None:
        """Print a line without garbling the bar."""
        if not self.enabled:
            return
        if self.tty and self.text:
            self.stream.write("\r\033[K" + text + "\n" + self.text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.tty and self.text:
            self.stream.write("\n")
            self.stream.flush()
