"""A copy refused because of its source is reported as the source's fault, on every route.

AWS rules modeled (tests/faults/aws_rules.py): without s3:ListBucket on the source bucket
a missing key answers 403 AccessDenied, naming no bucket
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html), which read as
"access denied to destination"; a source KMS key refusing kms:Decrypt answers
AccessDenied naming the key (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html).
"""

from __future__ import annotations

import pytest

from mediasync.core.settings import MiB
from tests.conftest import batch_event, put_multipart
from tests.faults.aws_rules import missing_sources_denied_without_list, on_handler_clients, source_kms_key_denied

ARGS = {"destinationBucket": "dst", "multipartThreshold": str(16 * MiB), "partSize": str(8 * MiB)}
SOURCE_KEY = "arn:aws:kms:us-east-1:123456789012:key/source-key"
ROUTES = [pytest.param(1000, id="CopyObject"), pytest.param(13 * MiB, id="EXPRESS-parts"),
          pytest.param(17 * MiB, id="STANDARD-parts")]


def put_source(s3, size, **extra):
    if size > 5 * MiB:
        put_multipart(s3, "src", "clip.mov", size, 5 * MiB if size < 16 * MiB else 8 * MiB, **extra)
    else:
        s3.put_object(Bucket="src", Key="clip.mov", Body=b"x" * size, **extra)


@pytest.mark.parametrize("size", ROUTES)
def test_a_source_deleted_mid_copy_is_reported_missing(runtime, buckets, size):
    put_source(buckets, size)

    def delete_source_once_inspected(name, event):
        if name in ("copy_object", "copy_parts"):
            buckets.delete_object(Bucket="src", Key="clip.mov")

    runtime.before_invoke = delete_source_once_inspected
    with on_handler_clients("s3", missing_sources_denied_without_list):
        [result] = runtime.invoke("batch_invoke", batch_event("j", "t1", "src", "clip.mov", user_arguments=ARGS))["results"]

    assert result["resultCode"] == "PermanentFailure", result
    assert result["resultString"].startswith("SourceMissing: "), result
    assert buckets.list_multipart_uploads(Bucket="dst").get("Uploads", []) == []


# On the STANDARD route a failed group fails its Map Run, whose error names no item's
# (States.ExceedToleratedFailureThreshold): AbortUpload's diagnosis finds the source
# unchanged, and S3 Batch's redrives try again.
@pytest.mark.parametrize("size", ROUTES[:2])
def test_a_source_kms_key_refused_is_named(runtime, buckets, size):
    put_source(buckets, size, ServerSideEncryption="aws:kms", SSEKMSKeyId=SOURCE_KEY)

    with on_handler_clients("s3", source_kms_key_denied(SOURCE_KEY, {("src", "clip.mov")})):
        [result] = runtime.invoke("batch_invoke", batch_event("j", "t1", "src", "clip.mov", user_arguments=ARGS))["results"]

    assert result["resultCode"] == "PermanentFailure", result
    assert "access denied to the KMS key of source s3://src/clip.mov" in result["resultString"], result
    assert "destination" not in result["resultString"]
