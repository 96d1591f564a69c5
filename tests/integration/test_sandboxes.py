"""A local job split over sandbox processes (SeaweedFS): every object once, a dead sandbox fails only its tasks."""

from __future__ import annotations

import os
import signal

from click.testing import CliRunner

from mediasync.cli import main
from mediasync.core.settings import CopyOptions, MiB
from mediasync.local.runner import JobRequest, run_job
from mediasync.local.sandboxes import Sandboxes
from mediasync.manifests.reader import read_manifest
from mediasync.manifests.s3batch_csv import format_row
from tests.conftest import put_multipart
from tests.faults.cli import mediasync_run
from tests.invariants import assert_invariants

SMALL = [f"proxies/take {n:03d}.mp4" for n in range(40)]
LARGE = "masters/reel.mov"


def seed(s3, source: str, destination: str, tmp_path) -> object:
    s3.create_bucket(Bucket=source)
    s3.create_bucket(Bucket=destination)
    for n, key in enumerate(SMALL):
        s3.put_object(Bucket=source, Key=key, Body=os.urandom(2000 + n), Metadata={"take": str(n)})
    put_multipart(s3, source, LARGE, 3 * 5 * MiB, 5 * MiB, ContentType="video/quicktime")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("".join(format_row(source, key) for key in SMALL + [LARGE]), encoding="utf-8")
    return manifest


def credentials(server) -> dict[str, str]:
    return {"aws_access_key_id": server.access_key, "aws_secret_access_key": server.secret_key}


def test_a_job_split_over_two_sandboxes_copies_every_object_once_in_both(seaweedfs, tmp_path):
    s3 = seaweedfs.client()
    manifest = seed(s3, "box-src", "box-dst", tmp_path)
    options = CopyOptions(destination_bucket="box-dst", multipart_threshold=8 * MiB, part_size=5 * MiB,
                          parts_per_group=1)
    with Sandboxes(2, s3_endpoint_url=seaweedfs.endpoint_url, s3_credentials=credentials(seaweedfs), threads=4) as boxes:
        summary = run_job(boxes, read_manifest(manifest), JobRequest(options, tmp_path / "report.csv", 8))
        answered = [box.answered for box in boxes.sandboxes]
    assert summary.succeeded == len(SMALL) + 1, summary
    assert all(answered) and sum(answered) == len(SMALL) + 1, answered
    assert_invariants(s3, manifest, tmp_path / "report.csv", "box-dst")


def test_a_sandbox_that_dies_fails_the_tasks_sent_to_it_and_the_job_ends(seaweedfs, tmp_path):
    s3 = seaweedfs.client()
    manifest = seed(s3, "dead-src", "dead-dst", tmp_path)
    options = CopyOptions(destination_bucket="dead-dst", multipart_threshold=8 * MiB, part_size=5 * MiB)
    with Sandboxes(2, s3_endpoint_url=seaweedfs.endpoint_url, s3_credentials=credentials(seaweedfs), threads=4) as boxes:
        dead = boxes.sandboxes[1]
        os.kill(dead.process.pid, signal.SIGKILL)
        dead.process.join(10)
        summary = run_job(boxes, read_manifest(manifest), JobRequest(options, tmp_path / "report.csv", 8))
    rows = assert_invariants(s3, manifest, tmp_path / "report.csv", "dead-dst")
    failed = [row for row in rows if row["TaskStatus"] == "failed"]
    assert failed and summary.succeeded == len(rows) - len(failed) > 0
    assert all(row["ErrorCode"] == "LambdaFailed" and "sandbox process" in row["ResultMessage"] for row in failed), failed


def test_run_splits_a_job_over_sandbox_processes(seaweedfs, tmp_path):
    s3 = seaweedfs.client()
    manifest = seed(s3, "cli-box-src", "cli-box-dst", tmp_path)
    result = mediasync_run(seaweedfs, manifest, "cli-box-dst", tmp_path / "report.csv", seaweedfs.endpoint_url,
                           "--processes", "2", "--multipart-threshold", "8MiB", "--part-size", "5MiB")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 sandbox processes run batch_invoke" in result.stderr
    assert_invariants(s3, manifest, tmp_path / "report.csv", "cli-box-dst")


def test_run_refuses_sandboxes_on_the_embedded_s3(tmp_path):
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(format_row("media-src", "clip.mov"), encoding="utf-8")
    result = CliRunner().invoke(main, ["run", "--manifest", str(manifest), "--destination-bucket", "media-dst",
                                       "--processes", "2"])
    assert result.exit_code == 2, result.output
    assert "--processes above 1 needs --endpoint-url" in result.output
