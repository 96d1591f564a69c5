"""Threads for the work that must not hold up the state it runs for.

A Task's call runs on a worker so that its state can give up on it (TimeoutSeconds,
the execution's end) without stopping it, as Step Functions does: the Lambda
function goes on. Map iterations, Parallel branches and STANDARD executions run on
workers too. Threads are kept for reuse and made only when none is idle, so
a blocked call never holds up another; idle ones end after a while.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Callable


class RelayEvent(threading.Event):
    """An Event that, when set, also sets the events relayed to it: one waiter can then
    wait for "this call ended, or my execution was stopped" on a single event."""

    def __init__(self) -> None:
        super().__init__()
        self._relays: list[threading.Event] = []
        self._relay_lock = threading.Lock()

    def relay(self, waker: threading.Event) -> None:
        with self._relay_lock:
            if self.is_set():
                waker.set()
            else:
                self._relays.append(waker)

    def set(self) -> None:
        with self._relay_lock:
            super().set()
            relays, self._relays = self._relays, []
        for waker in relays:
            waker.set()


class Job:
    """A call handed to a worker: ``done`` is set when it has returned or raised."""

    __slots__ = ("function", "arguments", "done", "value", "error")

    def __init__(self, function: Callable[..., Any], arguments: tuple[Any, ...]) -> None:
        self.function = function
        self.arguments = arguments
        self.done = RelayEvent()
        self.value: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.value = self.function(*self.arguments)
        except BaseException as error:  # handed to whoever reads the result
            self.error = error
        finally:
            self.done.set()

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


class Workers:
    def __init__(self, idle_seconds: float = 30.0, name: str = "asl") -> None:
        self._jobs: queue.SimpleQueue[Job] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0
        self._count = 0
        self._idle_seconds = idle_seconds
        self._name = name

    def submit(self, function: Callable[..., Any], *arguments: Any) -> Job:
        job = Job(function, arguments)
        with self._lock:
            if self._idle:
                self._idle -= 1
                self._jobs.put(job)
                return job
            self._count += 1
            number = self._count
        threading.Thread(target=self._serve, args=(job,), name=f"{self._name}-{number}", daemon=True).start()
        return job

    def _serve(self, job: Job) -> None:
        while True:
            job.run()
            with self._lock:
                self._idle += 1
            while True:
                try:
                    job = self._jobs.get(timeout=self._idle_seconds)
                    break
                except queue.Empty:
                    with self._lock:
                        # A job handed to an idle worker is in the queue before the
                        # count drops: leave only when none is promised.
                        if self._jobs.empty():
                            self._idle -= 1
                            return
