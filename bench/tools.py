"""The copiers under test and the commands each runs for one bucket-to-bucket copy.

Every tool runs with its defaults, against the same server, from a clean
environment holding only that server's credentials. Two reference rows (floor.py)
are no peers: they show what the S3 requests alone cost from Python.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

BIN = Path(sys.executable).parent
BENCH = Path(__file__).resolve().parent


@dataclass(frozen=True)
class CopyJob:
    endpoint_url: str
    source_bucket: str
    destination_bucket: str
    destination_prefix: str  # ends with "/"
    workdir: Path  # for manifests and reports


@dataclass(frozen=True)
class Tool:
    name: str
    commands: Callable[[CopyJob], list[list[str]]]
    is_peer: bool = True
    reference: str = ""  # what a reference row stands for; references are never peers
    # Run again on a destination that holds every object already: its way to resume.
    resume: Callable[[CopyJob], list[list[str]]] | None = None


def clean_env(access_key: str, secret_key: str, workdir: Path) -> dict[str, str]:
    """Only what the tools need: no developer profile, config or credentials file leaks in."""
    empty = workdir / "empty.conf"
    empty.touch()
    # PYTHONPATH and MEDIASYNC_PROJECT_ROOT pass through, to measure another checkout's mediasync.
    passed = ("HOME", "LANG", "TMPDIR", "TERM", "PYTHONPATH", "MEDIASYNC_PROJECT_ROOT")
    keep = {name: os.environ[name] for name in passed if name in os.environ}
    return {
        **keep,
        "PATH": f"{BIN}:/usr/bin:/bin",
        "AWS_ACCESS_KEY_ID": access_key,
        "AWS_SECRET_ACCESS_KEY": secret_key,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(empty),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
        "RCLONE_CONFIG": str(empty),
        "RCLONE_CONFIG_BENCH_TYPE": "s3",
        "RCLONE_CONFIG_BENCH_PROVIDER": "SeaweedFS",
        "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID": access_key,
        "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY": secret_key,
        "RCLONE_CONFIG_BENCH_REGION": "us-east-1",
    }


def _mediasync(job: CopyJob) -> list[list[str]]:
    """One `run --source`: it lists the source bucket and copies, in one process."""
    destination = ["--destination-bucket", job.destination_bucket, "--destination-prefix", job.destination_prefix,
                   "--endpoint-url", job.endpoint_url, "--report", str(job.workdir / "report.csv")]
    return [[str(BIN / "mediasync"), "run", "--source", f"s3://{job.source_bucket}/", *destination]]


def _s5cmd(job: CopyJob, command: str = "cp") -> list[list[str]]:
    return [[str(BIN / "s5cmd"), "--endpoint-url", job.endpoint_url, command,
             f"s3://{job.source_bucket}/*", f"s3://{job.destination_bucket}/{job.destination_prefix}"]]


def _rclone(job: CopyJob) -> list[list[str]]:
    return [[str(BIN / "rclone"), "copy", f"bench:{job.source_bucket}",
             f"bench:{job.destination_bucket}/{job.destination_prefix.rstrip('/')}",
             "--s3-endpoint", job.endpoint_url]]


def _aws(job: CopyJob, command: tuple[str, ...] = ("cp", "--recursive")) -> list[list[str]]:
    return [[str(BIN / "aws"), "--endpoint-url", job.endpoint_url, "s3", *command, "--only-show-errors",
             f"s3://{job.source_bucket}/", f"s3://{job.destination_bucket}/{job.destination_prefix}"]]


# Objects at once for floor.py: the fastest of 8, 16, 32 and 64 on 2,000 x 64 KiB, two
# rounds on the shared 2-core machine (load 4-6). copy: 4.3-4.8, 4.2-4.3, 3.9-7.0, 4.2-4.7 s,
# all within the noise since boto3's CPU (3.3 s) bounds it; 16 was the steadiest. shape:
# 14.9-16.0, 14.2-16.4, 13.3-13.5, 12.4-12.7 s; 64 keeps more of its 4 requests per object
# in flight while the client waits on the server (its CPU fell too: 8.0 to 5.5 s).
FLOOR_CONCURRENCY = {"copy": 16, "shape": 64}


def _floor(requests: str) -> Callable[[CopyJob], list[list[str]]]:
    def commands(job: CopyJob) -> list[list[str]]:
        return [[str(BIN / "python"), str(BENCH / "floor.py"), job.endpoint_url, job.source_bucket,
                 job.destination_bucket, job.destination_prefix, "--requests", requests,
                 "--concurrency", str(FLOOR_CONCURRENCY[requests])]]

    return commands


TOOLS = {
    # A resumed job is the same command for MediaSync and rclone (both skip what is there);
    # s5cmd and aws cli resume with `sync`.
    "mediasync": Tool("mediasync", _mediasync, is_peer=False, resume=_mediasync),
    "s5cmd": Tool("s5cmd", _s5cmd, resume=lambda job: _s5cmd(job, "sync")),
    "rclone": Tool("rclone", _rclone, resume=_rclone),
    "aws-cli": Tool("aws-cli", _aws, resume=lambda job: _aws(job, ("sync",))),
    "py-copy": Tool("py-copy", _floor("copy"), is_peer=False, reference="python, one CopyObject"),
    "py-shape": Tool("py-shape", _floor("shape"), is_peer=False, reference="python, MediaSync's requests, no engine"),
}
