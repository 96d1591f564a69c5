"""Keys are opaque S3 keys, never local paths; credentials and signatures never reach logs or reports."""

from __future__ import annotations

import io
import logging
import os

import boto3
import pytest

from mediasync.core.observability import logger
from mediasync.core.settings import CopyOptions, MiB
from mediasync.local.runner import JobRequest, run_job
from mediasync.local.runtime import LocalRuntime
from mediasync.manifests.reader import read_manifest
from mediasync.manifests.s3batch_csv import format_row
from tests.conftest import put_multipart
from tests.invariants import assert_invariants

HOSTILE_KEYS = [
    "../x",
    "../../../../etc/passwd",
    "/abs/olute.mov",
    "./dot/./seg/../x.mov",
    "back\\slash\\..\\x.mov",
    "ctrl\x01\x1f\x7f.mov",
    "tab\tnew\nline\rcr.mov",
    "~/home.mov",
    "NUL",
]


def test_keys_that_look_like_paths_are_copied_as_keys_and_never_touch_the_filesystem(runtime, s3, tmp_path,
                                                                                      monkeypatch):
    work = tmp_path / "work" / "deeper"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    s3.create_bucket(Bucket="keys-src")
    s3.create_bucket(Bucket="keys-dst")
    for n, key in enumerate(HOSTILE_KEYS):
        s3.put_object(Bucket="keys-src", Key=key, Body=f"object {n}".encode())
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("".join(format_row("keys-src", key) for key in HOSTILE_KEYS), encoding="utf-8")
    before = sorted(tmp_path.rglob("*"))

    report = tmp_path / "report.csv"
    run_job(runtime, read_manifest(manifest), JobRequest(CopyOptions(destination_bucket="keys-dst"), report, 4))

    rows = assert_invariants(s3, manifest, report, "keys-dst")
    assert [row["TaskStatus"] for row in rows] == ["succeeded"] * len(HOSTILE_KEYS), rows
    listed = s3.list_objects_v2(Bucket="keys-dst")["Contents"]
    assert sorted(item["Key"] for item in listed) == sorted(HOSTILE_KEYS)
    created = sorted(set(tmp_path.rglob("*")) - set(before))
    assert report in created and all(path.parent == tmp_path for path in created), created  # the report, its timings
    assert not (tmp_path / "x").exists() and not (tmp_path / "work" / "x").exists()


SECRET_MARKERS = ("X-Amz-Signature", "X-Amz-Credential", "Signature=", "AWSAccessKeyId", "x-amz-security-token")


def test_credentials_and_signatures_never_reach_logs_or_reports(tmp_path, capfd, monkeypatch, request):
    access_key = "AKIAMEDIASYNCLEAKTEST"
    secret_key = "leak/test+SECRET+" + os.urandom(8).hex()
    session_token = "SESSION-TOKEN-" + os.urandom(8).hex()
    credentials = {"aws_access_key_id": access_key, "aws_secret_access_key": secret_key,
                   "aws_session_token": session_token}
    monkeypatch.setenv("POWERTOOLS_LOGGER_LOG_EVENT", "true")  # even whole events logged carry none
    report = tmp_path / "report.csv"
    manifest = tmp_path / "manifest.csv"
    # Powertools' handler holds the sys.stdout of import time: read its records here too.
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(logger.registered_formatter)
    logger._logger.addHandler(handler)
    request.addfinalizer(lambda: logger._logger.removeHandler(handler))
    with LocalRuntime(s3_credentials=credentials, log_level="DEBUG") as runtime:
        s3 = boto3.client("s3", region_name=runtime.region)
        s3.create_bucket(Bucket="leak-src")
        s3.create_bucket(Bucket="leak-dst")
        s3.put_object(Bucket="leak-src", Key="small.mov", Body=b"x" * 100)
        put_multipart(s3, "leak-src", "large.mov", 2 * 5 * MiB + 1, 5 * MiB)
        manifest.write_text("".join(format_row(bucket, key) for bucket, key in [
            ("leak-src", "small.mov"), ("leak-src", "large.mov"), ("leak-src", "missing.mov"),
            ("no-such-bucket", "x.mov")]), encoding="utf-8")
        options = CopyOptions(destination_bucket="leak-dst", multipart_threshold=8 * MiB, part_size=5 * MiB)
        run_job(runtime, read_manifest(manifest), JobRequest(options, report, 2))
        rows = assert_invariants(s3, manifest, report, "leak-dst")
    assert sorted(row["TaskStatus"] for row in rows) == ["failed", "failed", "succeeded", "succeeded"]

    logs = captured.getvalue() + "".join(capfd.readouterr())
    assert "task finished" in logs and '"invocationSchemaVersion"' in logs and '"upload_id"' in logs, \
        "the logs were not captured: this test would prove nothing"
    written = logs + report.read_text() + "".join(path.read_text() for path in tmp_path.glob("*timings*"))
    for secret in (access_key, secret_key, session_token, *SECRET_MARKERS):
        assert secret not in written, f"{secret!r} appeared in the logs or the report"


@pytest.mark.parametrize("key", ["../x", "/abs/olute.mov", "a\x01b"])
def test_manifest_rows_keep_hostile_keys_verbatim(key, tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text(format_row("bkt", key), encoding="utf-8")
    [row] = read_manifest(manifest)
    assert (row.error, row.key) == (None, key)
