"""Time as the engine sees it: the real clock, or a virtual one for tests.

Retry backoff reaches minutes (30-120 s on the Batch path) and the EXPRESS ceiling is
5 minutes: tests run them on a ``VirtualClock``, where a sleep takes no time and a
task "takes" the time it ``advance``s.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def time(self) -> float:
        """Seconds since the epoch (start and stop dates, the context object's times)."""

    def monotonic(self) -> float:
        """Seconds for deadlines and timeouts."""

    def wait(self, waker: threading.Event, timeout: float, *, work: threading.Event | None) -> None:
        """Wait until ``waker`` is set or ``timeout`` passes. ``work``: the event marking the end
        of the call being waited for (it also sets ``waker``), None for a plain sleep."""


class RealClock:
    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def wait(self, waker: threading.Event, timeout: float, *, work: threading.Event | None) -> None:
        waker.wait(timeout)


class VirtualClock:
    """A clock that moves only when told: sleeps return at once, having moved it.

    A fake task that should take time calls ``took(seconds)``; waiting for that task
    waits (really) for it to return, then moves the clock by what it took, or only
    by the wait's timeout when it took longer, as a real clock would have. Meant for
    one call in flight at a time.
    """

    EPOCH = 1_767_225_600.0  # 2026-01-01T00:00:00Z

    def __init__(self, real_limit: float = 30.0) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self._took: list[float] = []
        self._lock = threading.Lock()
        self._real_limit = real_limit

    def time(self) -> float:
        return self.EPOCH + self.now

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds

    def took(self, seconds: float) -> None:
        """Called by a fake task: the call it is in takes ``seconds``."""
        with self._lock:
            self._took.append(seconds)

    def wait(self, waker: threading.Event, timeout: float, *, work: threading.Event | None) -> None:
        if work is None:
            if not waker.is_set():
                self.sleeps.append(timeout)
                self.advance(timeout)
            return
        if not work.wait(self._real_limit):
            raise RuntimeError(f"a task did not end within {self._real_limit} s of real time")
        with self._lock:
            took = self._took.pop(0) if self._took else 0.0
        self.advance(min(took, timeout))
