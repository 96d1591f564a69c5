"""End to end on AWS: a deployed stack copies a small and a multipart object,
through batch_invoke directly and through a real S3 Batch Operations job.
When it runs: tests/aws/conftest.py.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any, Iterator

import pytest

from mediasync.core.settings import MiB
from tests.aws.conftest import AWS, JOB_ARGUMENTS, empty_prefix, run_s3_batch_job

pytestmark = AWS


@pytest.fixture(scope="module")
def objects(session, stack) -> Iterator[dict[str, Any]]:
    """A small object and a 3-part multipart object under a fresh prefix."""
    s3 = session.client("s3")
    source = stack["SourceBucketNames"].split(",")[0]
    destination = stack["DestinationBucketName"]
    prefix = f"mediasync-e2e/{uuid.uuid4().hex[:8]}/"
    small = s3.put_object(Bucket=source, Key=prefix + "proxy one.mp4", Body=b"proxy" * 100, Metadata={"take": "1"})
    big_key = prefix + "master.mov"
    body = os.urandom(12 * MiB)
    upload = s3.create_multipart_upload(Bucket=source, Key=big_key, ContentType="video/quicktime")["UploadId"]
    parts = [{"PartNumber": n, "ETag": s3.upload_part(Bucket=source, Key=big_key, UploadId=upload, PartNumber=n,
                                                     Body=body[start:start + 5 * MiB])["ETag"]}
             for n, start in enumerate(range(0, len(body), 5 * MiB), 1)]
    big = s3.complete_multipart_upload(Bucket=source, Key=big_key, UploadId=upload, MultipartUpload={"Parts": parts})
    yield {"source": source, "destination": destination, "prefix": prefix,
           "etags": {prefix + "proxy one.mp4": small["ETag"], big_key: big["ETag"]}}
    empty_prefix(s3, [source, destination, stack["ReportBucketName"], stack.get("ManifestBucketName")], prefix)


def _event(job: str, task: str, bucket: str, key: str, arguments: dict[str, str]) -> dict[str, Any]:
    from urllib.parse import quote_plus

    return {"invocationSchemaVersion": "2.0", "invocationId": f"inv-{task}",
            "job": {"id": job, "userArguments": arguments},
            "tasks": [{"taskId": task, "s3Bucket": bucket, "s3Key": quote_plus(key, safe="/"), "s3VersionId": None}]}


def test_batch_invoke_copies_small_and_multipart_objects_with_the_same_etag(session, stack, objects):
    lambda_client, s3 = session.client("lambda"), session.client("s3")
    arguments = {**JOB_ARGUMENTS, "destinationBucket": objects["destination"], "destinationPrefix": "direct/"}
    job = f"e2e-direct-{uuid.uuid4().hex[:8]}"
    for number, (key, etag) in enumerate(objects["etags"].items()):
        deadline = time.monotonic() + 900
        while True:
            response = lambda_client.invoke(FunctionName=stack["BatchInvokeFunctionArn"],
                                            Payload=json.dumps(_event(job, f"t{number}", objects["source"], key, arguments)))
            result = json.loads(response["Payload"].read())["results"][0]
            # TemporaryFailure "InProgress": a large copy still running; S3 Batch would call again.
            if result["resultCode"] != "TemporaryFailure" or time.monotonic() > deadline:
                break
            time.sleep(10)
        assert result["resultCode"] == "Succeeded", result
        copied = s3.head_object(Bucket=objects["destination"], Key="direct/" + key)
        assert copied["ETag"] == etag


def test_s3_batch_operations_job_reports_every_object_copied(session, stack, objects):
    s3 = session.client("s3")
    arguments = {**JOB_ARGUMENTS, "destinationBucket": objects["destination"], "destinationPrefix": "job/"}
    status, rows = run_s3_batch_job(session, stack, [(objects["source"], key) for key in objects["etags"]],
                                    arguments, objects["prefix"])
    assert status["Status"] == "Complete", status
    assert status["ProgressSummary"]["NumberOfTasksFailed"] == 0, status["ProgressSummary"]
    assert len(rows) == len(objects["etags"]) and all(row[3] == "succeeded" for row in rows), rows
    for key, etag in objects["etags"].items():
        assert s3.head_object(Bucket=objects["destination"], Key="job/" + key)["ETag"] == etag
