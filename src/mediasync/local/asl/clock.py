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

    def wait(self, event: threading.Event, timeout: float | None, *, work: bool) -> bool:
        """Wait until ``event`` is set or ``timeout`` passes; whether it was set.
        ``work``: the event marks the end of a call (a task), not only a wake-up."""


class RealClock:
    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def wait(self, event: threading.Event, timeout: float | None, *, work: bool) -> bool:
        return event.wait(timeout)


class VirtualClock:
    """A clock that moves only when told: sleeps return at once, having moved it.

    A task that should take time calls ``advance``. Waiting for a task's end waits
    (really) for the task, then reads how far it moved the clock: past the timeout, the
    wait ends at the timeout, as on a real clock. Meant for one execution at a time.
    """

    EPOCH = 1_767_225_600.0  # 2026-01-01T00:00:00Z

    def __init__(self, real_limit: float = 30.0) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()
        self._real_limit = real_limit

    def time(self) -> float:
        return self.EPOCH + self.now

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds

    def wait(self, event: threading.Event, timeout: float | None, *, work: bool) -> bool:
        if event.is_set():
            return True
        if not work:
            if timeout is None:
                raise RuntimeError("a virtual clock cannot wait forever for a wake-up")
            self.sleeps.append(timeout)
            self.advance(timeout)
            return event.is_set()
        started = self.now
        if not event.wait(self._real_limit):
            raise RuntimeError(f"a task did not end within {self._real_limit} s of real time")
        if timeout is not None and self.now - started > timeout:
            with self._lock:
                self.now = started + timeout
            return False
        return True
