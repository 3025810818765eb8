"""How the CLI shows long work (wait-rollout polls, copy-artifact downloads) to people.

The library reports progress through callbacks; this renders them two ways:

* on a terminal, one live status line rewritten in place (``\\r`` and erase-line), with events
  printed above it;
* in a log (Jenkins console, a pipe), a line only when something changed, plus a heartbeat line
  every :data:`HEARTBEAT_SECONDS` while nothing does -- so 15 minutes of polling is a handful of
  lines, not 90 identical ones per service.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

HEARTBEAT_SECONDS = 60.0
LIVE_REFRESH_SECONDS = 0.2


def format_elapsed(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}m{whole % 60:02d}s" if whole >= 60 else f"{whole}s"


class ProgressRenderer:
    """Change-only lines with a heartbeat (``live=False``) or one live line (``live=True``).

    ``update(key, text)`` reports the state of one thing (a service, a download); ``text``
    must not hold the elapsed time (that would make every update a change). ``event(text)``
    prints a line that always matters (an ECS event, a finished file). Thread-safe.
    """

    def __init__(
        self,
        write: Callable[[str], None],
        *,
        live: bool,
        heartbeat: float = HEARTBEAT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        width: int = 120,
    ) -> None:
        self._write = write
        self._live = live
        self._heartbeat = heartbeat
        self._clock = clock
        self._width = width
        self._start = clock()
        self._lock = threading.Lock()
        self._state: dict[str, str] = {}
        self._printed: dict[str, tuple[str, float]] = {}
        self._drawn = 0.0
        self._line_shown = False

    def _stamp(self) -> str:
        return f"[{format_elapsed(self._clock() - self._start)}]"

    def update(self, key: str, text: str) -> None:
        with self._lock:
            self._state[key] = text
            now = self._clock()
            if self._live:
                if now - self._drawn >= LIVE_REFRESH_SECONDS or key not in self._printed:
                    self._printed[key] = (text, now)
                    self._redraw(now)
                return
            last = self._printed.get(key)
            if last is None or last[0] != text:
                self._write(f"{self._stamp()} {text}\n")
                self._printed[key] = (text, now)
            elif now - last[1] >= self._heartbeat:
                self._write(
                    f"{self._stamp()} {text} (no change for {format_elapsed(now - last[1])})\n"
                )
                self._printed[key] = (text, now)

    def event(self, text: str) -> None:
        with self._lock:
            if self._live and self._line_shown:
                self._write("\r\x1b[K")
            self._write(f"{text}\n")
            if self._live:
                self._redraw(self._clock())

    def close(self) -> None:
        with self._lock:
            if self._live and self._line_shown:
                self._redraw(self._clock())
                self._write("\n")
                self._line_shown = False

    def _redraw(self, now: float) -> None:
        if not self._state:
            return
        line = f"{self._stamp()} " + " | ".join(self._state.values())
        if len(line) > self._width - 1:
            line = line[: self._width - 2] + "\u2026"
        self._write(f"\r\x1b[K{line}")
        self._line_shown = True
        self._drawn = now
