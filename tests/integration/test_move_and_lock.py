"""`run --move` and `run --object-lock` on real S3 servers (moto's server, SeaweedFS), on
single-part and multipart objects, through the command line as a user runs it.

What each server does with Object Lock (measured here; tests/integration/test_server_differences.py):
moto's server keeps a lock given on CopyObject and drops one given on CreateMultipartUpload;
SeaweedFS 4.48 the other way round, and it takes a lock on a CopyObject into a bucket
without Object Lock. Verify reads every locked copy back, so a server that drops a lock
fails that copy (and deletes it) instead of reporting it locked.
"""

from __future__ import annotations

import datetime
import subprocess
import sys
import uuid

import pytest
from botocore.exceptions import ClientError

from mediasync.core.settings import MiB
from tests.conftest import put_multipart
from tests.faults.cli import cli_env
from tests.invariants import report_rows

SIZES = ["--multipart-threshold", "16MiB", "--part-size", "8MiB"]


def _run(server, tmp_path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mediasync.cli", "run", "--endpoint-url", server.endpoint_url, *args],
                          env=cli_env(server), capture_output=True, text=True, timeout=600, cwd=tmp_path)


def _exists(s3, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError:
        return False
    return True


def test_run_source_moves_what_it_copies_and_what_its_plan_shows_already_copied(s3_server, tmp_path):
    """Each source is deleted once its copy is proved by its content; the one the sync plan
    shows already at the destination is proved by its task and moved too. A copy proved by
    less (SeaweedFS's multipart ETags are not MD5s of the parts) keeps its source, and says so."""
    s3 = s3_server.client()
    run_id = uuid.uuid4().hex[:8]
    source, destination = f"move-src-{run_id}", f"move-dst-{run_id}"
    s3.create_bucket(Bucket=source)
    s3.create_bucket(Bucket=destination)
    s3.put_object(Bucket=source, Key="cuts/small.mov", Body=b"s" * 1000)
    s3.put_object(Bucket=source, Key="cuts/done.mov", Body=b"d" * 1000)
    s3.copy_object(Bucket=destination, Key="cuts/done.mov", CopySource={"Bucket": source, "Key": "cuts/done.mov"})
    put_multipart(s3, source, "cuts/master.mov", 17 * MiB, 8 * MiB)

    result = _run(s3_server, tmp_path, "--source", f"s3://{source}/cuts/", "--destination-bucket", destination,
                  "--move", *SIZES, "--report", "report.csv")

    assert result.returncode == 0, result.stdout + result.stderr
    rows = {row["Key"]: row for row in report_rows(tmp_path / "report.csv")}
    assert set(rows) == {"cuts/small.mov", "cuts/done.mov", "cuts/master.mov"}
    for key, row in rows.items():
        assert row["TaskStatus"] == "succeeded" and _exists(s3, destination, key), row
        if row["ErrorCode"] == "Moved":
            assert not _exists(s3, source, key), f"{key} reported moved, its source still there"
        else:
            assert "source kept: the copy was verified by" in row["ResultMessage"] and _exists(s3, source, key), row
    assert rows["cuts/small.mov"]["ErrorCode"] == rows["cuts/done.mov"]["ErrorCode"] == "Moved"
    assert "already holds this object" in rows["cuts/done.mov"]["ResultMessage"]
    summary = " ".join(result.stdout.split())
    moved = sum(row["ErrorCode"] == "Moved" for row in rows.values())
    assert f"moved (source deleted) │ {moved}" in summary


def _lock_of(s3, bucket, key):
    head = s3.head_object(Bucket=bucket, Key=key)
    return head.get("ObjectLockMode"), head.get("ObjectLockLegalHoldStatus")


@pytest.mark.parametrize("server", ["moto_server", "seaweedfs"])
def test_a_lock_asked_on_each_server_is_set_or_its_copy_fails_never_reported_locked(request, server, tmp_path):
    s3_server = request.getfixturevalue(server)
    s3 = s3_server.client()
    source, vault = f"lock-src-{server[:4]}", f"lock-vault-{server[:4]}"
    for bucket in (source, vault):
        s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    s3.put_object(Bucket=source, Key="small.mov", Body=b"x" * 1000, ChecksumAlgorithm="SHA256")
    put_multipart(s3, source, "master.mov", 17 * MiB, 8 * MiB)
    until = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    result = _run(s3_server, tmp_path, "--source", f"s3://{source}/", "--destination-bucket", vault,
                  "--object-lock-mode", "GOVERNANCE", "--object-lock-retain-until", until, "--legal-hold", "on",
                  *SIZES, "--report", "report.csv")

    rows = {row["Key"]: row for row in report_rows(tmp_path / "report.csv")}
    # The route each server sets a lock on (module docstring); the other drops it.
    kept_on = {"moto_server": "small.mov", "seaweedfs": "master.mov"}[server]
    dropped_on = ({"small.mov", "master.mov"} - {kept_on}).pop()
    assert result.returncode == 1, result.stdout + result.stderr
    assert rows[kept_on]["TaskStatus"] == "succeeded", rows[kept_on]
    assert _lock_of(s3, vault, kept_on) == ("GOVERNANCE", "ON")
    assert rows[dropped_on]["ErrorCode"] == "VerificationFailed", rows[dropped_on]
    assert f"Object Lock no retention, asked GOVERNANCE until {until}" in rows[dropped_on]["ResultMessage"]
    assert not _exists(s3, vault, dropped_on), "a copy without the lock asked is not left"


def test_keep_copies_a_locked_sources_retention_and_legal_hold(moto_server, tmp_path):
    """On moto's server, whose CopyObject sets the lock it is given (AWS's rule)."""
    s3 = moto_server.client()
    for bucket in ("keep-src", "keep-vault"):
        s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    until = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    s3.put_object(Bucket="keep-src", Key="record.mov", Body=b"r" * 1000, ChecksumAlgorithm="SHA256",
                  ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=until, ObjectLockLegalHoldStatus="ON")
    s3.put_object(Bucket="keep-src", Key="free.mov", Body=b"f" * 1000, ChecksumAlgorithm="SHA256")

    result = _run(moto_server, tmp_path, "--source", "s3://keep-src/", "--destination-bucket", "keep-vault",
                  "--object-lock", "keep", "--report", "report.csv")

    assert result.returncode == 0, result.stdout + result.stderr
    assert _lock_of(s3, "keep-vault", "record.mov") == ("GOVERNANCE", "ON")
    assert _lock_of(s3, "keep-vault", "free.mov") == (None, None)


def test_a_destination_without_object_lock_is_refused_before_anything_is_copied(seaweedfs, tmp_path):
    """SeaweedFS itself takes a lock on a CopyObject into such a bucket, and keeps none:
    the run asks GetObjectLockConfiguration first."""
    s3 = seaweedfs.client()
    s3.create_bucket(Bucket="plain-src")
    s3.create_bucket(Bucket="plain-dst")
    s3.put_object(Bucket="plain-src", Key="a.mov", Body=b"a")

    result = _run(seaweedfs, tmp_path, "--source", "s3://plain-src/", "--destination-bucket", "plain-dst",
                  "--legal-hold", "on", "--report", "report.csv")

    assert result.returncode == 2, result.stdout + result.stderr
    assert ("error: destination bucket 'plain-dst' does not have Object Lock enabled" in
            " ".join(result.stderr.split()))
    assert s3.list_objects_v2(Bucket="plain-dst").get("KeyCount") == 0
