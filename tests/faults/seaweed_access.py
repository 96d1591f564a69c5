"""Identities with per-bucket permissions on a running SeaweedFS, so AccessDenied is real.

SeaweedFS enforces ``Read:<bucket>``, ``Write:<bucket>``... actions per access key.
``weed shell s3.configure -apply`` adds an identity to the running server (the
``-s3.config`` file is read only at start).
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

from mediasync.testing.servers import S3Server, find_weed


def _launch_command(server: S3Server, search: Path) -> str:
    """The logged ``weed server`` command line of ``server`` (first line of its weed.log)."""
    port = urlsplit(server.endpoint_url).port
    for log in search.glob("**/weed.log"):
        first = log.read_text(encoding="utf-8", errors="replace").split("\n", 1)[0]
        if f"-s3.port={port} " in first:
            return first
    raise LookupError(f"no weed.log under {search} for the server at {server.endpoint_url}")


def add_identity(server: S3Server, search: Path, name: str, actions: list[str]) -> S3Server:
    """Add identity ``name`` allowed only ``actions``; returns the server as that identity."""
    command = _launch_command(server, search)

    def address(role: str) -> str:
        http = re.search(rf"-{role}\.port=(\d+)", command).group(1)
        grpc = re.search(rf"-{role}\.port\.grpc=(\d+)", command).group(1)
        return f"127.0.0.1:{http}.{grpc}"

    access_key, secret_key = f"{name.upper()}KEY", f"{name}-secret-key"
    configure = (f"s3.configure -user={name} -access_key={access_key} -secret_key={secret_key} "
                 f"-actions={','.join(actions)} -apply\nexit\n")
    subprocess.run([str(find_weed()), "shell", f"-master={address('master')}", f"-filer={address('filer')}"],
                   input=configure, capture_output=True, text=True, timeout=60, check=True)
    identity = S3Server(f"{server.name}-{name}", server.endpoint_url, access_key, secret_key, server.region)
    client = identity.client(retries={"max_attempts": 1})
    deadline = time.monotonic() + 20
    while True:  # the gateway learns of the identity from the filer, asynchronously
        try:
            client.list_buckets()
            return identity
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
