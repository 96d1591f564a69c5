"""The walking product's acceptance run: embedded S3, moto's server and SeaweedFS alike."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import boto3

from mediasync.core.settings import CopyOptions
from mediasync.local.runner import JobRequest, run_job
from mediasync.local.runtime import LocalRuntime
from mediasync.manifests.reader import read_manifest
from tests.integration.acceptance import PART_SIZE, THRESHOLD, check_copy, seed
from tests.invariants import read_report


def test_acceptance_manifest_on_embedded_s3(tmp_path):
    with LocalRuntime() as runtime:
        s3 = boto3.client("s3", region_name=runtime.region)
        manifest = tmp_path / "manifest.csv"
        manifest.write_text(seed(s3, "accept-src", "accept-dst"), encoding="utf-8")
        options = CopyOptions(destination_bucket="accept-dst", multipart_threshold=THRESHOLD, part_size=PART_SIZE,
                              parts_per_group=2)
        summary = run_job(runtime, read_manifest(manifest), JobRequest(options, tmp_path / "report.csv", 8))
        assert (summary.succeeded, summary.failed) == (summary.tasks - 1, 1)
        with (tmp_path / "report.csv").open() as handle:
            check_copy(s3, "accept-src", "accept-dst", read_report(handle), etags_reproducible=True)


def test_acceptance_manifest_through_the_cli(s3_server, tmp_path):
    """`mediasync run --endpoint-url` against a real S3 server process."""
    s3 = s3_server.client()
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(seed(s3, "accept-src", "accept-dst"), encoding="utf-8")
    report = tmp_path / "report.csv"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": s3_server.access_key, "AWS_SECRET_ACCESS_KEY": s3_server.secret_key,
           "AWS_DEFAULT_REGION": s3_server.region}
    env.pop("AWS_PROFILE", None)
    result = subprocess.run(
        [sys.executable, "-m", "mediasync.cli", "run", "--manifest", str(manifest), "--destination-bucket", "accept-dst",
         "--endpoint-url", s3_server.endpoint_url, "--report", str(report),
         "--multipart-threshold", "16MiB", "--part-size", "8MiB", "--parts-per-group", "2", "--concurrency", "8"],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 1, result.stderr + result.stdout  # one missing key: some tasks failed
    assert "failed: SourceMissing" in result.stdout
    with Path(report).open() as handle:
        rows = read_report(handle)
    # SeaweedFS's UploadPartCopy part ETags are not MD5s: there the layout is checked instead.
    check_copy(s3, "accept-src", "accept-dst", rows, etags_reproducible=s3_server.name != "seaweedfs")
    if s3_server.name == "seaweedfs":
        layout_rows = [r for r in rows if "multipart/" in r["Key"] and r["TaskStatus"] == "succeeded"]
        assert layout_rows and all("verified by size-and-layout" in r["ResultMessage"] for r in layout_rows)
