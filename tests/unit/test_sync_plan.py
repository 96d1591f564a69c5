"""manifests.sync_plan: each decision from two listings, and what a plan counts."""

from __future__ import annotations

import datetime

import boto3
import pytest
from moto import mock_aws

from mediasync.core.settings import CopyOptions
from mediasync.manifests.listing import Listed
from mediasync.manifests.sync_plan import (
    ABSENT,
    ASKED_NOT_LISTED,
    CHECK,
    COPY,
    ETAG_DIFFERS,
    NOT_AS_ASKED,
    SAME,
    SAME_CONTENT,
    SIZE_DIFFERS,
    SOURCE_NEWER,
    Destination,
    DestinationNotListed,
    decide,
    plan_sync,
)

EARLY = datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc)
LATE = EARLY + datetime.timedelta(seconds=1)
SOURCE = Listed("src", "a.mov", 100, etag='"aa"', last_modified=EARLY)


@pytest.mark.parametrize("destination, action, reason", [
    (None, COPY, ABSENT),
    (Listed("dst", "a.mov", 99, etag='"aa"', last_modified=LATE), COPY, SIZE_DIFFERS),
    (Listed("dst", "a.mov", 100, etag='"bb"', last_modified=LATE), CHECK, ETAG_DIFFERS),
    (Listed("dst", "a.mov", 100, etag='"aa"', last_modified=EARLY - datetime.timedelta(seconds=1)), CHECK, SOURCE_NEWER),
    (Listed("dst", "a.mov", 100, etag='"aa"', last_modified=None), CHECK, SOURCE_NEWER),
    (Listed("dst", "a.mov", 100, etag='"aa"', last_modified=EARLY), SAME, SAME_CONTENT),
    (Listed("dst", "a.mov", 100, etag='"aa"', last_modified=LATE), SAME, SAME_CONTENT),
])
def test_decide(destination, action, reason):
    decision = decide(SOURCE, destination)
    assert (decision.action, decision.reason) == (action, reason)


def test_a_source_listed_without_an_etag_is_never_left_out():
    unknown = Listed("src", "a.mov", 100, etag="", last_modified=EARLY)
    assert decide(unknown, Listed("dst", "a.mov", 100, etag="", last_modified=LATE)).action == CHECK


@mock_aws
def test_plan_sync_maps_keys_and_counts_each_reason():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="src")
    s3.create_bucket(Bucket="dst")
    for key in ("in/a.mov", "in/b.mov", "in/deep/c.mov"):
        s3.put_object(Bucket="src", Key=key, Body=key.encode())
    s3.put_object(Bucket="dst", Key="out/a.mov", Body=b"in/a.mov")  # same bytes, written later
    s3.put_object(Bucket="dst", Key="out/b.mov", Body=b"other")
    seen = {}

    counts = plan_sync(s3, "src", "in/", Destination("dst", "out/", "in/"),
                       lambda source, decision: seen.__setitem__(source.key, decision.action))

    assert seen == {"in/a.mov": SAME, "in/b.mov": COPY, "in/deep/c.mov": COPY}
    assert counts.destination_listed == 2
    assert counts.by_reason(COPY) == {ABSENT: 1, SIZE_DIFFERS: 1}
    assert (counts.total(COPY), counts.bytes_of(COPY), counts.total(SAME), counts.bytes_of(SAME)) == (2, 8 + 13, 1, 8)


@mock_aws
def test_a_destination_that_cannot_be_listed_is_no_plan():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="src")
    with pytest.raises(DestinationNotListed, match="NoSuchBucket"):
        plan_sync(s3, "src", "", Destination("missing"), lambda source, decision: None)


@pytest.mark.parametrize("asks, listed_class, action, reason", [
    (CopyOptions(), None, SAME, SAME_CONTENT),
    (CopyOptions(storage_class="STANDARD_IA"), "STANDARD_IA", SAME, SAME_CONTENT),
    (CopyOptions(storage_class="STANDARD_IA"), "STANDARD", COPY, NOT_AS_ASKED),
    (CopyOptions(sse_kms_key_id="arn:aws:kms:us-east-1:111122223333:key/k"), "STANDARD", CHECK, ASKED_NOT_LISTED),
    (CopyOptions(acl="bucket-owner-full-control"), "STANDARD", CHECK, ASKED_NOT_LISTED),
])
def test_a_copy_is_left_out_only_when_it_holds_what_the_run_asks(asks, listed_class, action, reason):
    destination = Listed("dst", "a.mov", 100, etag='"aa"', last_modified=LATE, storage_class=listed_class)
    decision = decide(SOURCE, destination, asks=asks)
    assert (decision.action, decision.reason) == (action, reason)


@mock_aws
def test_a_rerun_asking_another_storage_class_copies_again():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="src")
    s3.create_bucket(Bucket="dst")
    s3.put_object(Bucket="src", Key="a.mov", Body=b"take")
    s3.copy_object(Bucket="dst", Key="a.mov", CopySource={"Bucket": "src", "Key": "a.mov"})  # the first run's copy
    seen = {}

    plan_sync(s3, "src", "", Destination.of(CopyOptions(destination_bucket="dst", storage_class="STANDARD_IA")),
              lambda source, decision: seen.__setitem__(source.key, decision))

    assert (seen["a.mov"].action, seen["a.mov"].reason) == (COPY, NOT_AS_ASKED)
