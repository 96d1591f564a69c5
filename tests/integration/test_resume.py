"""A runner killed with kill -9 mid-job, then started again on the same manifest (SeaweedFS)."""

from __future__ import annotations

import os
import signal
import subprocess
import time

from mediasync.manifest import format_row
from mediasync.settings import MiB
from tests.conftest import put_multipart
from tests.faults.cli import cli_env, mediasync_run, run_args
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
            raise AssertionError(f"the runner ended before {what}: {process.communicate()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def copied(s3, bucket: str, keys: list[str]) -> bool:
    present = {item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    return set(keys) <= present


def test_runner_killed_mid_job_resumes_skips_verified_objects_and_leaves_no_upload(seaweedfs, tmp_path):
    s3 = seaweedfs.client()
    s3.create_bucket(Bucket="resume-src")
    s3.create_bucket(Bucket="resume-dst")
    for n, key in enumerate(SMALL):
        s3.put_object(Bucket="resume-src", Key=key, Body=os.urandom(1000 + n), Metadata={"n": str(n)})
    put_multipart(s3, "resume-src", LARGE, 6 * 5 * MiB, 5 * MiB, ContentType="video/quicktime")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("".join(format_row("resume-src", key) for key in SMALL + [LARGE]), encoding="utf-8")

    # Slow part copies keep the large object in flight long enough to kill the runner there.
    slow = FaultRules(delay_seconds=0.5, delay_operations={"UploadPartCopy"})
    with FaultProxy(seaweedfs.endpoint_url, slow) as proxy:
        runner = subprocess.Popen(
            run_args(manifest, "resume-dst", tmp_path / "first.csv", proxy.endpoint_url, *OPTIONS),
            env=cli_env(seaweedfs), stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        )
        try:
            wait_for(lambda: copied(s3, "resume-dst", SMALL) and proxy.forwarded["UploadPartCopy"] >= 2,
                     "the small objects to land and the large one to be mid-copy", runner)
        finally:
            os.killpg(runner.pid, signal.SIGKILL)
            runner.communicate()
    assert len(s3.list_multipart_uploads(Bucket="resume-dst").get("Uploads", [])) == 1, "killed mid-copy"
    assert not copied(s3, "resume-dst", [LARGE])

    with FaultProxy(seaweedfs.endpoint_url, FaultRules()) as proxy:
        result = mediasync_run(seaweedfs, manifest, "resume-dst", tmp_path / "second.csv", proxy.endpoint_url, *OPTIONS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "aborted 1 multipart uploads left open by an interrupted run" in result.stderr
    assert proxy.forwarded["CopyObject"] == 0, "objects verified by the killed run were copied again"

    rows = assert_invariants(s3, manifest, tmp_path / "second.csv", "resume-dst")
    messages = {row["Key"]: row["ResultMessage"] for row in rows}
    assert all("not copied again" in messages[format_row("resume-src", key).split(",")[1].strip()] for key in SMALL)
    assert "verified" in messages[format_row("resume-src", LARGE).split(",")[1].strip()]
