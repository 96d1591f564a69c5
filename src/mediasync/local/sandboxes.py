"""batch_invoke in several processes, as S3 Batch invokes Lambda in separate sandboxes.

One local runtime is one Python process: its state machines, handlers and S3
requests share one GIL, so a job of small objects uses one core however many tasks
run at once. Each sandbox here is a process with its own LocalRuntime (its own
engine, state machines and clients) against the same S3 endpoint; the S3 Batch
emulation stays in the calling process and hands each invocation to a sandbox.

A task always goes to the same sandbox, picked from its task id: when S3 Batch asks
again about a copy still running, the STANDARD execution it attaches to lives in
that sandbox's engine. Only a shared S3 server can be used this way; the embedded S3
lives inside one process.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any

from mediasync.local.runtime import BATCH_INVOKE_FUNCTION, LocalRuntime

# A sandbox's start-up (imports, deploying its state machines) takes under a second of CPU
# on the strict engine, a few seconds on moto's.
READY_TIMEOUT = 120.0


class SandboxFailed(RuntimeError):
    """A sandbox could not start, or its process ended while it held invocations."""


class Sandbox:
    """One worker process and the invocations it holds."""

    def __init__(self, context: Any, index: int, runtime_options: dict[str, Any], threads: int) -> None:
        self.index = index
        self._connection, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, runtime_options, threads),
                                       name=f"mediasync-sandbox-{index}", daemon=True)
        self._child = child
        self._send_lock = threading.Lock()
        self._pending: dict[int, Future] = {}
        self._pending_lock = threading.Lock()
        self._next_id = 0
        self._gone: SandboxFailed | None = None
        self.answered = 0  # invocations this sandbox answered
        self._receiver = threading.Thread(target=self._receive, name=f"sandbox-{index}-answers", daemon=True)
        self._ready: Future = Future()

    def start(self) -> None:
        self.process.start()
        self._child.close()  # the child's end lives in the child now: EOF here when it exits
        self._receiver.start()

    def wait_ready(self, timeout: float) -> None:
        try:
            self._ready.result(timeout)
        except TimeoutError as error:
            raise SandboxFailed(f"sandbox {self.index} was not ready after {timeout:.0f} s") from error

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        answer: Future = Future()
        with self._pending_lock:
            if self._gone is not None:
                raise self._gone
            request_id = self._next_id
            self._next_id += 1
            self._pending[request_id] = answer
        try:
            with self._send_lock:
                self._connection.send((request_id, event))
        except (OSError, ValueError) as error:
            self._forget(request_id)
            raise SandboxFailed(f"sandbox {self.index} is gone: {error}") from error
        return answer.result()

    def stop(self, timeout: float) -> None:
        try:
            with self._send_lock:
                self._connection.send(None)
        except (OSError, ValueError):
            pass  # already gone
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout)
        self._connection.close()

    def _forget(self, request_id: int) -> None:
        with self._pending_lock:
            self._pending.pop(request_id, None)

    def _receive(self) -> None:
        while True:
            try:
                message = self._connection.recv()
            except (EOFError, OSError):
                break
            kind, request_id, value = message
            if kind == "ready":
                self._ready.set_result(None)
            elif kind == "failed-to-start":
                self._ready.set_exception(SandboxFailed(value))
            else:
                with self._pending_lock:
                    answer = self._pending.pop(request_id, None)
                    self.answered += 1
                if answer is not None:
                    if kind == "ok":
                        answer.set_result(value)
                    else:
                        answer.set_exception(SandboxFailed(value))
        # The process ended: whatever it held will never be answered.
        gone = SandboxFailed(f"sandbox process {self.process.pid} ended (exit code {self.process.exitcode})")
        if not self._ready.done():
            self._ready.set_exception(gone)
        with self._pending_lock:
            self._gone = gone
            pending, self._pending = self._pending, {}
        for answer in pending.values():
            answer.set_exception(gone)


class Sandboxes:
    """Context manager: ``processes`` sandboxes; ``invoke(name, event)`` as LocalRuntime has it."""

    def __init__(self, processes: int, *, s3_endpoint_url: str, s3_credentials: dict[str, str] | None,
                 threads: int = 16, region: str = "us-east-1") -> None:
        if processes < 1:
            raise ValueError("at least one sandbox process is needed")
        # spawn, not fork: the caller may already run threads (progress display, clients).
        context = multiprocessing.get_context("spawn")
        options = {"s3_endpoint_url": s3_endpoint_url, "s3_credentials": s3_credentials, "region": region}
        self.sandboxes = [Sandbox(context, index, options, threads) for index in range(processes)]

    def __enter__(self) -> "Sandboxes":
        try:
            for sandbox in self.sandboxes:
                sandbox.start()
            for sandbox in self.sandboxes:
                sandbox.wait_ready(READY_TIMEOUT)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, exc_type: Any = None, *exc: Any) -> None:
        # Interrupted (Ctrl-C, SIGTERM): the copies in flight stop now, not after they finish.
        interrupted = exc_type is not None and issubclass(exc_type, KeyboardInterrupt)
        for sandbox in self.sandboxes:
            if interrupted:
                sandbox.process.terminate()
            sandbox.stop(timeout=10.0)

    def sandbox_for(self, event: dict[str, Any]) -> Sandbox:
        task = event["tasks"][0]["taskId"]
        return self.sandboxes[zlib.crc32(task.encode()) % len(self.sandboxes)]

    def invoke(self, name: str, event: dict[str, Any]) -> dict[str, Any]:
        if name != BATCH_INVOKE_FUNCTION:
            raise ValueError(f"sandboxes answer {BATCH_INVOKE_FUNCTION} only, not {name}")
        return self.sandbox_for(event).invoke(event)


def _serve(connection: Connection, runtime_options: dict[str, Any], threads: int) -> None:
    """A sandbox process: a LocalRuntime answering batch_invoke events until told to stop."""
    # Ctrl-C reaches the whole process group: the parent decides, the sandbox follows.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    send_lock = threading.Lock()

    def send(message: tuple[str, int, Any]) -> None:
        with send_lock:
            connection.send(message)

    try:
        runtime = LocalRuntime(**runtime_options).__enter__()
    except Exception as error:
        send(("failed-to-start", -1, f"{type(error).__name__}: {error}"))
        return

    def answer(request_id: int, event: dict[str, Any]) -> None:
        try:
            send(("ok", request_id, runtime.invoke(BATCH_INVOKE_FUNCTION, event)))
        except Exception as error:  # the Lambda failed: S3 Batch sees an invocation error
            send(("error", request_id, f"{type(error).__name__}: {error}"))

    send(("ready", -1, None))
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sandbox") as pool:
        while True:
            try:
                message = connection.recv()
            except (EOFError, OSError):
                # The parent is gone (killed): stop now, as a killed job's Lambdas would.
                os._exit(1)
            if message is None:
                break
            pool.submit(answer, *message)
    runtime.__exit__(None, None, None)
