"""An error the AWS SDK raises on this side (botocore's ParamValidationError, any
BotoCoreError) ends as a named failure carrying its message, in a step and in batch_invoke.

Why it happens on AWS: the Lambda runtime's own boto3 varies by runtime version and
Region (https://docs.aws.amazon.com/lambda/latest/dg/lambda-python.html); a botocore
before 1.36 has no ChecksumType parameter and refuses CreateMultipartUpload with it.
Modeled by raising, on the handlers' clients, what such a botocore raises.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ParamValidationError

from mediasync.core.settings import MiB
from tests.conftest import batch_event, put_multipart
from tests.faults.aws_rules import on_handler_clients

ARGS = {"destinationBucket": "dst", "multipartThreshold": str(16 * MiB), "partSize": str(8 * MiB)}
OLD_MODEL = 'Unknown parameter in input: "ChecksumType", must be one of: ACL, Bucket, CacheControl'


def refuses(operation):
    def rule(client):
        def refuse(**_):
            raise ParamValidationError(report=OLD_MODEL)

        client.meta.events.register(f"before-parameter-build.s3.{operation}", refuse)
        return client

    return rule


@pytest.mark.parametrize("operation, size", [
    ("CreateMultipartUpload", 13 * MiB),  # in a step of the EXPRESS machine
    ("CreateMultipartUpload", 17 * MiB),  # in a step of the STANDARD machine
    ("HeadObject", 1000),  # in batch_invoke itself
])
def test_an_sdk_side_error_is_a_named_failure_with_its_message(runtime, buckets, operation, size):
    if size > 5 * MiB:
        put_multipart(buckets, "src", "clip.mov", size, 5 * MiB if size < 16 * MiB else 8 * MiB)
    else:
        buckets.put_object(Bucket="src", Key="clip.mov", Body=b"x" * size)

    with on_handler_clients("s3", refuses(operation)):
        [result] = runtime.invoke("batch_invoke", batch_event("j", "t1", "src", "clip.mov", user_arguments=ARGS))["results"]

    assert result["resultCode"] == "PermanentFailure", result
    assert result["resultString"].startswith("AwsSdkError: ParamValidationError from botocore "), result
    assert "ChecksumType" in result["resultString"]
    assert buckets.list_multipart_uploads(Bucket="dst").get("Uploads", []) == []
