"""A runner killed with kill -9 mid-job, then started again on the same manifest.

On SeaweedFS, and through the KMS proxy (tests/faults/kms_proxy.py) on moto's server
and SeaweedFS, where ETags are not MD5s and a copy's ETag differs from its source's.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from mediasync.core.settings import MiB
from mediasync.manifests.s3batch_csv import format_row
from mediasync.testing.servers import S3Server
from tests.conftest import put_multipart
from tests.faults.cli import cli_env, mediasync_run, run_args
from tests.faults.kms_proxy import EtagLedger, KmsProxy
from tests.faults.proxy import FaultProxy, FaultRules
from tests.invariants import assert_invariants

SMALL = [f"proxies/clip {n:02d}.mp4" for n in range(6)]
LARGE = "masters/feature.mov"
OPTIONS = ("--multipart-threshold", "8MiB", "--part-size", "5MiB", "--parts-per-group", "1",
           "--max-concurrency", "1", "--concurrency", "4")


def wait_for(condition, what: str, process: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(f"the runner ended before {what}:\n{out.decode()}\n{err.decode()[-2000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def copied(s3, bucket: str, keys: list[str]) -> bool:
    present = {item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    return set(keys) <= present


@dataclass
class Target:
    """The server the runner copies on, and the proxy it reaches it through."""

    server: S3Server
    proxy: Callable[[FaultRules], FaultProxy]


@pytest.fixture(params=["seaweedfs", "kms-moto-server", "kms-seaweedfs"])
def target(request: pytest.FixtureRequest) -> Target:
    name = request.param.removeprefix("kms-")
    server = request.getfixturevalue({"moto-server": "moto_server", "seaweedfs": "seaweedfs"}[name])
    if not request.param.startswith("kms-"):
        return Target(server, lambda rules: FaultProxy(server.endpoint_url, rules))
    ledger = EtagLedger()  # one for both runs: the second proxy knows the ETags the first handed out
    return Target(server, lambda rules: KmsProxy(server, rules, ledger=ledger))


def test_runner_killed_mid_job_resumes_skips_verified_objects_and_leaves_no_upload(target, tmp_path):
    s3 = target.server.client()  # the server itself: bytes and uploads as they are
    suffix = uuid.uuid4().hex[:8]
    source, destination = f"resume-src-{suffix}", f"resume-dst-{suffix}"
    s3.create_bucket(Bucket=source)
    s3.create_bucket(Bucket=destination)
    for n, key in enumerate(SMALL):
        s3.put_object(Bucket=source, Key=key, Body=os.urandom(1000 + n), Metadata={"n": str(n)})
    put_multipart(s3, source, LARGE, 6 * 5 * MiB, 5 * MiB, ContentType="video/quicktime")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("".join(format_row(source, key) for key in SMALL + [LARGE]), encoding="utf-8")

    # Slow part copies keep the large object in flight long enough to kill the runner there.
    slow = FaultRules(delay_seconds=0.5, delay_operations={"UploadPartCopy"})
    with target.proxy(slow) as proxy:
        runner = subprocess.Popen(
            run_args(manifest, destination, tmp_path / "first.csv", proxy.endpoint_url, *OPTIONS),
            env=cli_env(target.server), stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        )
        try:
            wait_for(lambda: copied(s3, destination, SMALL) and proxy.forwarded["UploadPartCopy"] >= 2,
                     "the small objects to land and the large one to be mid-copy", runner)
        finally:
            with contextlib.suppress(ProcessLookupError):  # it may have ended on its own
                os.killpg(runner.pid, signal.SIGKILL)
            runner.communicate()
    assert len(s3.list_multipart_uploads(Bucket=destination).get("Uploads", [])) == 1, "killed mid-copy"
    assert not copied(s3, destination, [LARGE])

    with target.proxy(FaultRules()) as proxy:
        result = mediasync_run(target.server, manifest, destination, tmp_path / "second.csv", proxy.endpoint_url,
                               *OPTIONS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "aborted 1 multipart uploads left open by an interrupted run" in result.stderr
    assert proxy.forwarded["CopyObject"] == 0, "objects verified by the killed run were copied again"

    rows = assert_invariants(s3, manifest, tmp_path / "second.csv", destination)
    messages = {row["Key"]: row["ResultMessage"] for row in rows}
    assert all("not copied again" in messages[format_row(source, key).split(",")[1].strip()] for key in SMALL)
    assert "verified" in messages[format_row(source, LARGE).split(",")[1].strip()]
