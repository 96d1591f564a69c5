"""`mediasync run` as a user runs it: a subprocess with credentials in the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from mediasync.testing.servers import S3Server


def cli_env(server: S3Server | None = None, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    if server is not None:
        env.update(AWS_ACCESS_KEY_ID=server.access_key, AWS_SECRET_ACCESS_KEY=server.secret_key,
                   AWS_DEFAULT_REGION=server.region)
    env.update(extra)
    return env


def run_args(manifest: Path, destination: str, report: Path, endpoint_url: str | None, *options: str) -> list[str]:
    args = [sys.executable, "-m", "mediasync.cli", "run", "--manifest", str(manifest),
            "--destination-bucket", destination, "--report", str(report)]
    if endpoint_url:
        args += ["--endpoint-url", endpoint_url]
    return args + list(options)


def mediasync_run(server: S3Server | None, manifest: Path, destination: str, report: Path,
                  endpoint_url: str | None = None, *options: str, timeout: float = 600, **popen: Any
                  ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(run_args(manifest, destination, report, endpoint_url, *options),
                          env=popen.pop("env", None) or cli_env(server), capture_output=True, text=True,
                          timeout=timeout, **popen)
