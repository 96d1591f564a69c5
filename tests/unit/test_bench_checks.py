"""The benchmark's destination check: what it calls verified and preserved must be true.

The benchmark itself (`make bench`) is too long for the test suite; its judge is not.
"""

from __future__ import annotations

import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from destinations import check_destination, empty_prefix  # noqa: E402
from workloads import KiB, MiB, Workload, seed, source_facts  # noqa: E402

SMALL = Workload("small", "src-small", 6, 8 * KiB, None, prefixes=2)
LARGE = Workload("large", "src-large", 1, 12 * MiB, 5 * MiB)


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="dst")
        yield client


def _copy_all(s3, workload: Workload, prefix: str, **copy_args) -> None:
    for index in range(workload.objects):
        key = workload.key(index)
        s3.copy_object(Bucket="dst", Key=prefix + key, CopySource={"Bucket": workload.bucket, "Key": key}, **copy_args)


def test_faithful_copies_are_verified_with_everything_preserved(s3):
    seed(s3, SMALL)
    _copy_all(s3, SMALL, "run/")
    check = check_destination(s3, "dst", "run/", source_facts(s3, SMALL))
    assert check.verified and check.problems == []
    assert all(check.preserved().values()), check.kept


def test_dropped_metadata_and_tags_are_reported_as_not_preserved(s3):
    seed(s3, SMALL)
    _copy_all(s3, SMALL, "run/", MetadataDirective="REPLACE", TaggingDirective="REPLACE", ContentType="video/mp4")
    preserved = check_destination(s3, "dst", "run/", source_facts(s3, SMALL)).preserved()
    assert preserved == {"etag": True, "layout": True, "metadata": False, "content_type": True, "tags": False}


def test_a_missing_object_fails_verification(s3):
    seed(s3, SMALL)
    _copy_all(s3, SMALL, "run/")
    s3.delete_object(Bucket="dst", Key="run/" + SMALL.key(3))
    check = check_destination(s3, "dst", "run/", source_facts(s3, SMALL))
    assert not check.verified
    assert check.found == SMALL.objects - 1
    assert not any(check.preserved().values())


def test_a_single_part_copy_of_a_multipart_source_loses_its_etag_and_layout(s3):
    seed(s3, LARGE)
    facts = source_facts(s3, LARGE)
    assert facts[LARGE.key(0)].part_count == 3 and facts[LARGE.key(0)].part_size == 5 * MiB
    _copy_all(s3, LARGE, "run/")  # CopyObject: one part, the ETag of the whole body
    preserved = check_destination(s3, "dst", "run/", facts).preserved()
    assert not preserved["etag"] and not preserved["layout"]
    assert preserved["metadata"] and preserved["tags"]


def test_emptying_a_prefix_removes_objects_and_open_uploads(s3):
    seed(s3, SMALL)
    _copy_all(s3, SMALL, "run/")
    s3.create_multipart_upload(Bucket="dst", Key="run/half-done")
    empty_prefix(s3, "dst", "run/")
    assert s3.list_objects_v2(Bucket="dst", Prefix="run/").get("KeyCount") == 0
    assert s3.list_multipart_uploads(Bucket="dst", Prefix="run/").get("Uploads", []) == []
