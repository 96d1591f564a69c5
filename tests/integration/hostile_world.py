"""The world docs/hostile-input.md's table runs in: buckets on an S3 server, a folder,
and `mediasync` on PATH, so each row is the command a user would type."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

from mediasync.testing.servers import S3Server

OBJECTS = {"a.mov": b"the object a.mov", "a.mov ": b"the object a.mov with a space", "b.mov": b"the object b.mov"}


def make_world(server: S3Server, folder: Path) -> dict[str, str]:
    """Buckets hostile-src (OBJECTS), hostile-dst and hostile-empty; manifest.csv naming
    hostile-src/a.mov in ``folder``; the environment to run the table's commands in."""
    s3 = server.client()
    for bucket in ("hostile-src", "hostile-dst", "hostile-empty"):
        s3.create_bucket(Bucket=bucket)
    for key, body in OBJECTS.items():
        s3.put_object(Bucket="hostile-src", Key=key, Body=body)
    (folder / "manifest.csv").write_text("hostile-src,a.mov\n", encoding="utf-8")
    bin_dir = folder / ".bin"
    bin_dir.mkdir()
    launcher = bin_dir / "mediasync"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m mediasync.cli "$@"\n', encoding="utf-8")
    launcher.chmod(launcher.stat().st_mode | stat.S_IEXEC)
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=server.access_key, AWS_SECRET_ACCESS_KEY=server.secret_key,
               AWS_DEFAULT_REGION=server.region, AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null",
               AWS_EC2_METADATA_DISABLED="true", ENDPOINT=server.endpoint_url,
               MEDIASYNC_STATE_DIR=str(folder / ".state"), PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
               COLUMNS="200")
    return env


def run_row(command: str, folder: Path, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The command's exit status and output; one that hangs is killed with all it started (status -9)."""
    process = subprocess.Popen(["bash", "-c", command], cwd=folder, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        err += f"\n(hung: killed after {timeout:.0f} s)"
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def one_line(text: str) -> str:
    """Output as one line: rich wraps long messages at the terminal's width."""
    return " ".join(text.split())
