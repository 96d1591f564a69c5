"""The KMS proxy answers as an SSE-KMS bucket on AWS does, in front of moto's server and SeaweedFS.

AWS: the ETag of an SSE-KMS object is not the MD5 of its data, a copy gets another
ETag, part ETags are opaque, a multipart ETag is md5(concat(binary part ETags))-N
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html, ETag), and the
additional checksums are the same on the copy
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObjectResult.html).
"""

from __future__ import annotations

import hashlib
import os
import uuid
from typing import Any

import pytest

from tests.faults.kms_proxy import KMS_KEY_ARN, aws_multipart_etag, corrupted
from tests.integration.test_server_differences import by_server, outcome, quoted_md5

MiB = 1 << 20
PARTS = [(0, 5 * MiB), (5 * MiB, 10 * MiB), (10 * MiB, 10 * MiB + 1000)]


@pytest.fixture
def s3(kms_s3) -> Any:
    return kms_s3.client()


@pytest.fixture
def upstream(kms_s3) -> Any:
    return kms_s3.upstream.client()


@pytest.fixture
def bucket(s3) -> str:
    name = f"kms-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def unquoted(etag: str) -> str:
    return etag.strip('"')


def encryption(answer: dict[str, Any]) -> tuple[str | None, str | None]:
    return answer.get("ServerSideEncryption"), answer.get("SSEKMSKeyId")


def upload_in_parts(s3: Any, bucket: str, key: str, body: bytes, **extra: Any) -> tuple[dict[str, Any], list[str]]:
    created = s3.create_multipart_upload(Bucket=bucket, Key=key, **extra)
    assert encryption(created) == ("aws:kms", KMS_KEY_ARN)
    upload = created["UploadId"]
    etags = [s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=n, Body=body[start:end])["ETag"]
             for n, (start, end) in enumerate(PARTS, 1)]
    listed = [p["ETag"] for p in s3.list_parts(Bucket=bucket, Key=key, UploadId=upload)["Parts"]]
    assert listed == etags, "ListParts shows the part ETags UploadPart returned"
    completed = s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]})
    return completed, etags


def test_put_object_etag_is_not_the_md5_of_the_data(s3, upstream, bucket):
    put = s3.put_object(Bucket=bucket, Key="clip.mov", Body=b"media bytes")
    head = s3.head_object(Bucket=bucket, Key="clip.mov")
    get = s3.get_object(Bucket=bucket, Key="clip.mov")

    assert put["ETag"] == head["ETag"] == get["ETag"] != quoted_md5(b"media bytes")
    assert len(unquoted(put["ETag"])) == 32
    assert upstream.head_object(Bucket=bucket, Key="clip.mov")["ETag"] == quoted_md5(b"media bytes")
    assert get["Body"].read() == b"media bytes"
    for answer in (put, head, get):
        assert encryption(answer) == ("aws:kms", KMS_KEY_ARN)


def test_a_copy_of_the_same_bytes_gets_another_etag(s3, upstream, bucket):
    source = s3.put_object(Bucket=bucket, Key="source", Body=b"same bytes")["ETag"]
    copied = s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "source"})

    copy_etag = s3.head_object(Bucket=bucket, Key="copy")["ETag"]
    assert unquoted(copied["CopyObjectResult"]["ETag"]) == unquoted(copy_etag) != unquoted(source)
    assert encryption(copied) == ("aws:kms", KMS_KEY_ARN)
    # Stable: asking again gives the same value; upstream both are the data's MD5.
    assert s3.head_object(Bucket=bucket, Key="copy")["ETag"] == copy_etag
    real = {upstream.head_object(Bucket=bucket, Key=key)["ETag"] for key in ("source", "copy")}
    assert real == {quoted_md5(b"same bytes")}
    listed = {o["Key"]: o["ETag"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert listed == {"source": source, "copy": copy_etag}


def test_copy_source_if_match_takes_the_opaque_etag(kms_s3, s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="source", Body=b"guarded")["ETag"]
    source = {"Bucket": bucket, "Key": "source"}
    resigned = kms_s3.proxy.resigned

    assert outcome(lambda: s3.copy_object(Bucket=bucket, Key="copy", CopySource=source,
                                          CopySourceIfMatch=etag)) == "accepted"
    assert kms_s3.proxy.resigned > resigned, "the translated request was signed again"
    # A wrong ETag, and the data's MD5 (an ETag this object does not have here), fail
    # where the server checks the condition at all (moto accepts any: see DESIGN.md).
    for wrong in ('"0123456789abcdef0123456789abcdef"', quoted_md5(b"guarded")):
        assert outcome(lambda: s3.copy_object(Bucket=bucket, Key="copy", CopySource=source,
                                              CopySourceIfMatch=wrong)) == by_server(
            kms_s3, moto="accepted", seaweedfs="PreconditionFailed")


def test_if_match_on_head_and_get_takes_the_opaque_etag(kms_s3, s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="object", Body=b"conditional")["ETag"]

    assert s3.head_object(Bucket=bucket, Key="object", IfMatch=etag)["ETag"] == etag
    assert s3.get_object(Bucket=bucket, Key="object", IfMatch=etag)["Body"].read() == b"conditional"
    assert outcome(lambda: s3.head_object(Bucket=bucket, Key="object", IfMatch=quoted_md5(b"conditional"))) == "412"


def test_multipart_etag_is_the_md5_of_the_opaque_part_etags(s3, upstream, bucket):
    body = os.urandom(PARTS[-1][1])
    completed, part_etags = upload_in_parts(s3, bucket, "multipart", body)

    assert all(unquoted(e) != hashlib.md5(body[a:b]).hexdigest() for e, (a, b) in zip(part_etags, PARTS))
    assert unquoted(completed["ETag"]) == aws_multipart_etag(part_etags)
    assert completed["ETag"].endswith('-3"')
    assert unquoted(s3.head_object(Bucket=bucket, Key="multipart")["ETag"]) == aws_multipart_etag(part_etags)
    assert upstream.head_object(Bucket=bucket, Key="multipart")["ETag"] != completed["ETag"]
    assert encryption(completed) == ("aws:kms", KMS_KEY_ARN)
    assert s3.get_object(Bucket=bucket, Key="multipart", IfMatch=completed["ETag"])["Body"].read() == body


def test_upload_part_copy_part_etags_are_opaque_and_complete_the_upload(s3, bucket):
    body = os.urandom(PARTS[-1][1])
    source = s3.put_object(Bucket=bucket, Key="source", Body=body)["ETag"]
    upload = s3.create_multipart_upload(Bucket=bucket, Key="copy")["UploadId"]
    copied = [s3.upload_part_copy(Bucket=bucket, Key="copy", UploadId=upload, PartNumber=n,
                                  CopySource={"Bucket": bucket, "Key": "source"}, CopySourceIfMatch=source,
                                  CopySourceRange=f"bytes={start}-{end - 1}")
              for n, (start, end) in enumerate(PARTS, 1)]
    etags = [answer["CopyPartResult"]["ETag"] for answer in copied]
    completed = s3.complete_multipart_upload(
        Bucket=bucket, Key="copy", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]})

    assert all(encryption(answer) == ("aws:kms", KMS_KEY_ARN) for answer in copied)
    assert all(len(unquoted(etag)) == 32 for etag in etags)
    assert unquoted(completed["ETag"]) == aws_multipart_etag(etags)
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == body


def test_checksums_pass_through_unchanged(s3, upstream, bucket):
    put = s3.put_object(Bucket=bucket, Key="source", Body=b"checked", ChecksumAlgorithm="CRC32")
    copied = s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "source"},
                            ChecksumAlgorithm="CRC32")

    real = upstream.head_object(Bucket=bucket, Key="copy", ChecksumMode="ENABLED")["ChecksumCRC32"]
    seen = s3.head_object(Bucket=bucket, Key="copy", ChecksumMode="ENABLED")["ChecksumCRC32"]
    assert put["ChecksumCRC32"] == real == seen
    # SeaweedFS leaves the checksum out of CopyObjectResult (test_server_differences.py).
    assert copied["CopyObjectResult"].get("ChecksumCRC32") in (real, None)


def test_corrupt_checksum_alters_only_the_matching_objects_checksums(kms_s3, s3, upstream, bucket):
    kms_s3.proxy.corrupt_checksum = lambda b, key: b == bucket and key.startswith("bad/")
    s3.put_object(Bucket=bucket, Key="source", Body=b"checked", ChecksumAlgorithm="CRC32")
    copied = s3.copy_object(Bucket=bucket, Key="bad/copy", CopySource={"Bucket": bucket, "Key": "source"},
                            ChecksumAlgorithm="CRC32")
    completed, _ = upload_in_parts(s3, bucket, "bad/multipart", os.urandom(PARTS[-1][1]),
                                   ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT")

    def checksum(client: Any, key: str) -> str:
        return client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")["ChecksumCRC32"]

    assert checksum(s3, "source") == checksum(upstream, "source")
    for key in ("bad/copy", "bad/multipart"):
        assert checksum(s3, key) == corrupted(checksum(upstream, key)) != checksum(upstream, key)
    if "ChecksumCRC32" in copied["CopyObjectResult"]:
        assert copied["CopyObjectResult"]["ChecksumCRC32"] == corrupted(checksum(upstream, "bad/copy"))
    if "ChecksumCRC32" in completed:
        assert completed["ChecksumCRC32"] == corrupted(checksum(upstream, "bad/multipart"))


def test_a_second_proxy_with_the_same_ledger_knows_the_first_ones_etags(kms_s3, s3, bucket):
    body = os.urandom(PARTS[-1][1])
    single = s3.put_object(Bucket=bucket, Key="single", Body=b"x")["ETag"]
    multipart = upload_in_parts(s3, bucket, "multipart", body)[0]["ETag"]

    with kms_s3.another_proxy() as proxy:
        again = type(kms_s3)(kms_s3.upstream, proxy).client()
        assert again.head_object(Bucket=bucket, Key="single", IfMatch=single)["ETag"] == single
        assert again.head_object(Bucket=bucket, Key="multipart", IfMatch=multipart)["ETag"] == multipart
