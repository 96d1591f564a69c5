"""Which proof a copy gets, from the two HeadObject answers alone (no server needed).

AWS rules modelled: SSE-KMS, DSSE-KMS and SSE-C ETags are not MD5s, so a copy's ETag
differs from its source's (https://docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html);
additional checksums survive encryption
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html).
"""

from __future__ import annotations

import pytest

from mediasync.core.errors import VerificationFailed
from mediasync.core.plan import plan_copy
from mediasync.core.settings import CopyOptions, MiB
from mediasync.core.source import ObjectRef, SourceObject
from mediasync.core.verify import already_copied, check_copy

DEST = ObjectRef("dst", "a.mov")
KMS = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "arn:aws:kms:us-east-1:111122223333:key/k"}


class Heads:
    """An S3 client that answers HeadObject with fixed headers, by PartNumber."""

    def __init__(self, head, part1=None):
        self.head, self.part1 = head, part1

    def head_object(self, **kwargs):
        return dict(self.part1 if kwargs.get("PartNumber") else self.head)


def source(**fields):
    base = {"bucket": "src", "key": "a.mov", "version_id": None, "size": 1000, "etag": '"' + "a" * 32 + '"'}
    return SourceObject(**{**base, **fields})


def verify(src, head, *, part1=None, expected_etag=None):
    plan = plan_copy(src.size, CopyOptions(multipart_threshold=16 * MiB), **src.plan_args())
    return check_copy(Heads(head, part1), src, DEST, plan, etag=head["ETag"], expected_etag=expected_etag)


def test_a_kms_copy_with_another_etag_is_proven_by_its_checksum():
    src = source(checksum_algorithm="CRC64NVME", checksum_value="AAAAAAAAAAA=", checksum_type="FULL_OBJECT",
                 encryption="aws:kms")
    head = {"ContentLength": 1000, "ETag": '"' + "b" * 32 + '"', "ChecksumCRC64NVME": "AAAAAAAAAAA=",
            "ChecksumType": "FULL_OBJECT", **KMS}
    result = verify(src, head)
    assert (result.method, result.message) == ("checksum-CRC64NVME", "full-object CRC64NVME checksum equals the source's")


def test_a_plain_source_copied_into_a_kms_bucket_is_not_judged_by_its_etag():
    head = {"ContentLength": 1000, "ETag": '"' + "b" * 32 + '"', **KMS}
    result = verify(source(), head)
    assert result.method == "size-and-layout"
    assert "content not provable" in result.message and "SSE-KMS/SSE-C ETags are not MD5s" in result.message


def test_a_checksum_mismatch_fails_whatever_the_etags_say():
    src = source(checksum_algorithm="CRC32", checksum_value="AAAAAA==", checksum_type="FULL_OBJECT")
    head = {"ContentLength": 1000, "ETag": src.etag, "ChecksumCRC32": "BBBBBB==", "ChecksumType": "FULL_OBJECT"}
    with pytest.raises(VerificationFailed, match="full-object CRC32 checksum BBBBBB== != source AAAAAA=="):
        verify(src, head)


def test_plain_etags_still_prove_plain_copies():
    assert verify(source(), {"ContentLength": 1000, "ETag": source().etag}).method == "etag"
    with pytest.raises(VerificationFailed, match="!= source"):
        verify(source(), {"ContentLength": 1000, "ETag": '"' + "c" * 32 + '"'})


def test_a_kms_multipart_copy_is_checked_against_the_etag_of_its_parts():
    src = source(size=24 * MiB, etag='"' + "a" * 32 + '-3"', part_count=3, part_size=8 * MiB, encryption="aws:kms")
    head = {"ContentLength": 24 * MiB, "ETag": '"' + "d" * 32 + '-3"', **KMS}
    result = verify(src, head, part1={"ContentLength": 8 * MiB, "PartsCount": 3}, expected_etag=head["ETag"])
    assert result.method == "composite-etag"
    with pytest.raises(VerificationFailed, match="part 1 is"):
        verify(src, head, part1={"ContentLength": 5 * MiB, "PartsCount": 3}, expected_etag=head["ETag"])


def test_checksums_of_another_type_are_not_compared():
    src = source(size=24 * MiB, etag='"' + "a" * 32 + '-3"', part_count=3, part_size=8 * MiB, encryption="aws:kms",
                 checksum_algorithm="CRC32", checksum_value="AAAAAA==-3", checksum_type="COMPOSITE")
    head = {"ContentLength": 24 * MiB, "ETag": '"' + "d" * 32 + '-3"', "ChecksumCRC32": "BBBBBB==",
            "ChecksumType": "FULL_OBJECT", **KMS}
    result = verify(src, head, part1={"ContentLength": 8 * MiB}, expected_etag=None)
    assert result.method == "size-and-layout"


def test_skip_existing_needs_content_proof():
    kms_copy = {"ContentLength": 1000, "ETag": '"' + "b" * 32 + '"', **KMS}
    assert already_copied(Heads(kms_copy), source(), DEST) is None  # same size, nothing proves the bytes
    with_checksum = source(checksum_algorithm="CRC32", checksum_value="AAAAAA==", checksum_type="FULL_OBJECT")
    proof = already_copied(Heads({**kms_copy, "ChecksumCRC32": "AAAAAA=="}), with_checksum, DEST)
    assert proof is not None and proof.method == "checksum-CRC32"
    assert already_copied(Heads({**kms_copy, "ChecksumCRC32": "BBBBBB=="}), with_checksum, DEST) is None
    assert already_copied(Heads({"ContentLength": 1000, "ETag": source().etag}), source(), DEST).method == "etag"
