"""A destination bucket whose default encryption is a customer managed KMS key the
stack was not given (tests/faults/kms_proxy.py, ``default_keys``).

AWS: writing into it needs kms:GenerateDataKey on that key
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html), and HeadObject
with ChecksumMode=ENABLED needs kms:Decrypt
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html). skip-existing's
HeadObject refused must not read as "absent": it named no cause and copied again.
"""

from __future__ import annotations

import uuid

from mediasync.core.settings import CopyOptions
from mediasync.local.runner import JobRequest, run_job
from mediasync.local.runtime import LocalRuntime
from mediasync.manifests.s3batch_csv import parse_lines
from tests.faults.kms_proxy import KmsProxy
from tests.invariants import report_rows

DEFAULT_KEY = "arn:aws:kms:us-east-1:111122223333:key/0000aaaa-bucket-default"


def test_a_refused_skip_existing_check_fails_the_object_naming_the_key_and_copies_nothing(seaweedfs, tmp_path):
    suffix = uuid.uuid4().hex[:8]
    source, destination = f"kmsdef-src-{suffix}", f"kmsdef-dst-{suffix}"
    admin = seaweedfs.client()
    for bucket in (source, destination):
        admin.create_bucket(Bucket=bucket)
    admin.put_object(Bucket=source, Key="a.mov", Body=b"take one")
    admin.put_object(Bucket=destination, Key="a.mov", Body=b"take one")  # copied by an earlier run
    credentials = {"aws_access_key_id": seaweedfs.access_key, "aws_secret_access_key": seaweedfs.secret_key}

    with KmsProxy(seaweedfs, default_keys={destination: DEFAULT_KEY}) as proxy, \
            LocalRuntime(s3_endpoint_url=proxy.endpoint_url, s3_credentials=credentials) as runtime:
        run_job(runtime, parse_lines([f"{source},a.mov"]),
                JobRequest(CopyOptions(destination_bucket=destination), tmp_path / "report.csv", 1))

    [row] = report_rows(tmp_path / "report.csv")
    assert (row["TaskStatus"], row["ErrorCode"]) == ("failed", "AccessDenied"), row
    assert f"access denied to destination s3://{destination}/a.mov: cannot tell whether it already holds this " \
        "object" in row["ResultMessage"]
    assert "kms:Decrypt" in row["ResultMessage"] and "DestinationKmsKeyArn" in row["ResultMessage"]
    assert proxy.denied == {"HeadObject": 1}, "no copy was tried blind"
