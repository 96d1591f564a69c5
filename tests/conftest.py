"""Fixtures shared by every layer of the test pyramid."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import boto3
import pytest

from mediasync.local.runtime import LocalRuntime

# Tests never talk to AWS: even code that forgets an endpoint must fail, not bill.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def runtime():
    """MediaSync deployed into a private moto, with moto's in-process S3."""
    with LocalRuntime() as local:
        yield local


@pytest.fixture
def s3(runtime):
    return boto3.client("s3", region_name=runtime.region)


def put_multipart(s3: Any, bucket: str, key: str, size: int, part_size: int, **extra: Any) -> str:
    """Upload ``size`` random bytes in parts of ``part_size``; returns the ETag."""
    sizes = [min(part_size, size - start) for start in range(0, size, part_size)]
    return put_parts(s3, bucket, key, sizes, **extra)[0]


def put_parts(s3: Any, bucket: str, key: str, sizes: list[int], **extra: Any) -> tuple[str, bytes]:
    """Upload random bytes in parts of these ``sizes`` (S3 does not require them equal);
    returns the ETag and the bytes."""
    body = os.urandom(sum(sizes))
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key, **extra)["UploadId"]
    parts, start = [], 0
    for number, size in enumerate(sizes, 1):
        etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=number,
                              Body=body[start:start + size])["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
        start += size
    etag = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload,
                                        MultipartUpload={"Parts": parts})["ETag"]
    return etag, body


def md5_of(s3: Any, bucket: str, key: str, **extra: Any) -> str:
    digest = hashlib.md5()
    for chunk in s3.get_object(Bucket=bucket, Key=key, **extra)["Body"].iter_chunks(1 << 20):
        digest.update(chunk)
    return digest.hexdigest()


def batch_event(job_id: str, task_id: str, bucket: str, raw_key: str, *, user_arguments: dict | None = None,
                version_id: str | None = None, schema: str = "2.0") -> dict:
    """An S3 Batch Operations Lambda event, as the service sends it."""
    if schema == "1.0":
        return {
            "invocationSchemaVersion": "1.0",
            "invocationId": f"inv-{task_id}",
            "job": {"id": job_id},
            "tasks": [{"taskId": task_id, "s3Key": raw_key, "s3VersionId": version_id,
                       "s3BucketArn": f"arn:aws:s3:::{bucket}"}],
        }
    return {
        "invocationSchemaVersion": "2.0",
        "invocationId": f"inv-{task_id}",
        "job": {"id": job_id, "userArguments": user_arguments or {}},
        "tasks": [{"taskId": task_id, "s3Bucket": bucket, "s3Key": raw_key, "s3VersionId": version_id}],
    }
