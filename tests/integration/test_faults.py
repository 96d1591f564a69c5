"""Faults on a real S3 server (SeaweedFS): nothing lost, nothing half-written, nothing orphaned."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mediasync.local.runtime import LocalRuntime
from mediasync.local.s3batch import read_report
from mediasync.settings import MiB
from tests.conftest import batch_event, put_multipart
from tests.faults.proxy import FaultProxy, FaultRules
from tests.integration.acceptance import check_copy, seed


def credentials(server):
    return {"aws_access_key_id": server.access_key, "aws_secret_access_key": server.secret_key}


def test_twenty_percent_of_requests_failing_still_copies_everything_intact(seaweedfs, tmp_path):
    s3 = seaweedfs.client()
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(seed(s3, "fault-src", "fault-dst"), encoding="utf-8")
    # About 20% of all requests fail; copy calls also get 200-with-<Error> bodies.
    rules = FaultRules(slow_down=0.14, internal_error=0.06, ok_with_error=0.25, seed=7)
    with FaultProxy(seaweedfs.endpoint_url, rules) as proxy:
        env = {**os.environ, "AWS_ACCESS_KEY_ID": seaweedfs.access_key,
               "AWS_SECRET_ACCESS_KEY": seaweedfs.secret_key, "AWS_DEFAULT_REGION": seaweedfs.region}
        env.pop("AWS_PROFILE", None)
        result = subprocess.run(
            [sys.executable, "-m", "mediasync.cli", "run", "--manifest", str(manifest), "--destination-bucket",
             "fault-dst", "--endpoint-url", proxy.endpoint_url, "--report", str(tmp_path / "report.csv"),
             "--multipart-threshold", "16MiB", "--part-size", "8MiB", "--parts-per-group", "2", "--concurrency", "8"],
            env=env, capture_output=True, text=True, timeout=900,
        )
    assert sum(proxy.injected.values()) >= 10, proxy.injected
    assert any(name.endswith("OkWithError") for name in proxy.injected), proxy.injected
    assert any(name.startswith(("UploadPartCopy", "CompleteMultipartUpload")) for name in proxy.injected), proxy.injected
    assert result.returncode == 1, result.stdout + result.stderr  # only the missing key fails
    with (tmp_path / "report.csv").open() as handle:
        check_copy(s3, "fault-src", "fault-dst", read_report(handle), etags_reproducible=False)


@pytest.fixture
def seaweed_runtime(seaweedfs):
    with LocalRuntime(s3_endpoint_url=seaweedfs.endpoint_url, s3_credentials=credentials(seaweedfs)) as runtime:
        yield runtime


def test_source_overwritten_mid_copy_fails_with_412_and_leaves_nothing(seaweedfs, seaweed_runtime):
    s3 = seaweedfs.client()
    s3.create_bucket(Bucket="changed-src")
    s3.create_bucket(Bucket="changed-dst")
    put_multipart(s3, "changed-src", "master.mov", 3 * 8 * MiB, 8 * MiB)

    def overwrite_source(name, event):
        if name == "copy_parts" and event["group"] == 1:
            s3.put_object(Bucket="changed-src", Key="master.mov", Body=b"a new take")

    seaweed_runtime.before_invoke = overwrite_source
    args = {"destinationBucket": "changed-dst", "multipartThreshold": str(16 * MiB), "partSize": str(8 * MiB),
            "partsPerGroup": "1", "maxConcurrency": "1"}
    result = seaweed_runtime.invoke("batch_invoke", batch_event("j", "t", "changed-src", "master.mov",
                                                                user_arguments=args))["results"][0]
    assert result["resultCode"] == "PermanentFailure"
    assert result["resultString"].startswith("SourceChanged:"), result
    assert s3.list_multipart_uploads(Bucket="changed-dst").get("Uploads", []) == []
    assert "Contents" not in s3.list_objects_v2(Bucket="changed-dst")
