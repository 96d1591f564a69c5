"""`run` starts as many sandbox processes as the objects left to the job warrant."""

from __future__ import annotations

import pytest

from mediasync.cli import run as run_command
from mediasync.core import clients


class _Started:
    def __init__(self, started: list[int], processes: int) -> None:
        started.append(processes)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


@pytest.mark.parametrize("tasks, processes", [(None, 8), (600, 2), (10, 1), (0, 1)])
def test_sandboxes_follow_the_objects_left_to_the_job(monkeypatch, tmp_path, tasks, processes):
    started: list[int] = []
    monkeypatch.setattr("mediasync.local.sandboxes.Sandboxes",
                        lambda count, **_: _Started(started, count))
    monkeypatch.setattr("mediasync.local.runtime.LocalRuntime", lambda **_: _Started(started, 1))
    monkeypatch.setattr(run_command.os, "cpu_count", lambda: 8)
    monkeypatch.setattr("mediasync.cli.common.refuse_unreachable", lambda endpoint_url: None)  # no server here
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("".join(f"media,clip{n}.mp4\n" for n in range(2_000)))
    try:
        with run_command._local_runtime(str(manifest), "http://127.0.0.1:9", 0, 16, tasks=tasks):
            pass
    finally:
        clients.CLIENTS.reset()
    assert started == [processes]
