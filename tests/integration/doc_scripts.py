"""A documentation page's shell walkthrough, run as a user runs it from the checkout.

The script starts in an empty stand-in for the checkout (which it must leave empty) with
TMPDIR pointing at an empty folder for its `mktemp -d`; its process group (a server it
started included) is killed however it ends, and it is bounded in time.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Walkthrough:
    returncode: int
    output: str  # stdout and stderr, interleaved
    checkout: Path  # where it started: left empty
    work: Path | None  # the one folder its `mktemp -d` made


def run_walkthrough(script: str, port: str, tmp_path: Path, **env_extra: str) -> Walkthrough:
    """``script`` with ``port`` replaced by a free one and `$PWD/.venv/bin` by this interpreter's."""
    script = script.replace(port, str(free_port())).replace("$PWD/.venv/bin", str(Path(sys.executable).parent))
    checkout, throwaway = tmp_path / "checkout", tmp_path / "tmp"
    checkout.mkdir()
    throwaway.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(TMPDIR=str(throwaway), **env_extra)
    process = subprocess.Popen(["bash", "-euo", "pipefail", "-c", script], cwd=checkout, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=300)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    made = list(throwaway.iterdir())
    return Walkthrough(process.returncode, output, checkout, made[0] if len(made) == 1 else None)
