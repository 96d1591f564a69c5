"""``mediasync estimate`` on real S3 servers, and the model's request counts against real copies."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from collections import Counter
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from mediasync.cli.estimate import estimate
from mediasync.core import clients
from mediasync.core.settings import CopyOptions, MiB, reset_settings
from mediasync.core.timing import COPY_OBJECT, EXPRESS_PARTS, STANDARD_BATCH, STANDARD_LAMBDA
from mediasync.manifests.s3batch_csv import encode_key
from mediasync.model.scale import SCALE_BEGIN
from mediasync.model.usage import usage
from mediasync.model.workload import ObjectSpec, tally
from mediasync.testing.servers import free_port
from tests.conftest import batch_event, put_multipart


def server_env(server) -> dict[str, str | None]:
    return {"AWS_ACCESS_KEY_ID": server.access_key, "AWS_SECRET_ACCESS_KEY": server.secret_key,
            "AWS_DEFAULT_REGION": server.region, "AWS_PROFILE": None, "MEDIASYNC_S3_ENDPOINT_URL": None}


def run_estimate(*args: str, env: dict[str, str | None] | None = None):
    return CliRunner().invoke(estimate, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def media(s3_server, tmp_path):
    """A source bucket with a proxy, a multipart master and a space-and-plus key; a manifest
    listing them plus a missing key and a malformed row."""
    s3 = s3_server.client()
    bucket = f"est-{tmp_path.name[-20:].lower().replace('_', '-')}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="proxies/clip 1+2.mp4", Body=b"p" * 1000)
    put_multipart(s3, bucket, "masters/take.mov", 17 * MiB + 5, 6 * MiB)
    s3.put_object(Bucket=bucket, Key="stills/frame.jpg", Body=b"j" * 70_000)
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        "".join(f"{bucket},{encode_key(key)}\n" for key in
                ["proxies/clip 1+2.mp4", "masters/take.mov", "stills/frame.jpg", "masters/gone.mov"])
        + "not a row\n", encoding="utf-8")
    return s3_server, bucket, manifest


def test_estimate_sizes_every_row_and_lists_those_it_cannot(media, tmp_path):
    server, bucket, manifest = media
    report = tmp_path / "estimate.json"
    result = run_estimate("--manifest", str(manifest), "--endpoint-url", server.endpoint_url,
                          "--multipart-threshold", "16MiB", "--json", str(report), env=server_env(server))
    assert result.exit_code == 1, result.output  # two rows could not be sized
    assert "Cost in US dollars" in result.output and "modeled wall time" in result.output
    document = json.loads(report.read_text())
    assert document["objects"] == 3
    assert document["bytes"] == 1000 + 17 * MiB + 5 + 70_000
    assert document["paths"][COPY_OBJECT]["objects"] == 2
    # The master keeps its own 6 MiB layout: three parts, STANDARD machine (above 16 MiB).
    assert document["paths"][STANDARD_LAMBDA] == {"objects": 1, "bytes": 17 * MiB + 5, "parts": 3,
                                                  "groups": 1, "largest": 17 * MiB + 5}
    assert document["requests"]["UploadPartCopy"] == 3 and document["requests"]["CopyObject"] == 2
    assert document["dollars"] > 0.25  # the S3 Batch job fee and more
    assert document["unsized_by_code"] == {"SourceMissing": 1, "InvalidManifestRow": 1}
    assert [(row["line"], row["code"]) for row in document["unsized"]] == [(4, "SourceMissing"),
                                                                          (5, "InvalidManifestRow")]
    assert document["prefixes"] == 3


def test_estimate_exits_zero_when_every_row_is_sized(moto_server, tmp_path):
    s3 = moto_server.client()
    s3.create_bucket(Bucket="est-all")
    s3.put_object(Bucket="est-all", Key="a.mov", Body=b"a" * 10)
    manifest = tmp_path / "m.csv"
    manifest.write_text("est-all,a.mov\n", encoding="utf-8")
    result = run_estimate("--manifest", str(manifest), "--endpoint-url", moto_server.endpoint_url,
                          env=server_env(moto_server))
    assert result.exit_code == 0, result.output
    assert "EXPRESS, CopyObject" in result.output


def write_local_inventory(directory: Path, bucket: str, rows: list[tuple[str, str, str]]) -> Path:
    """An S3 Inventory report downloaded beside its manifest.json: (key, size, etag) rows."""
    text = io.StringIO()
    writer = csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for key, size, etag in rows:
        writer.writerow([bucket, encode_key(key), "", "true", "false", size, "2026-11-24T00:00:00.000Z", etag,
                         "STANDARD"])
    body = gzip.compress(text.getvalue().encode())
    (directory / "data").mkdir()
    (directory / "data" / "0000.csv.gz").write_bytes(body)
    manifest = directory / "manifest.json"
    manifest.write_text(json.dumps({
        "sourceBucket": bucket, "destinationBucket": "arn:aws:s3:::inventory", "version": "2016-11-30",
        "fileFormat": "CSV", "fileSchema": "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, "
                                           "LastModifiedDate, ETag, StorageClass",
        "files": [{"key": "src/daily/data/0000.csv.gz", "size": len(body), "MD5checksum": hashlib.md5(body).hexdigest()}],
    }))
    return manifest


def test_inventory_sizes_are_used_without_asking_s3(tmp_path):
    manifest = write_local_inventory(tmp_path, "src", [
        ("masters/a.mov", str(600 * 10**9), "0123456789abcdef0123456789abcdef-1000"),
        ("proxies/b.mp4", "1000", "0123456789abcdef0123456789abcdef"),
    ])
    report = tmp_path / "e.json"
    # Nothing listens on this endpoint: a single HEAD would end the command with status 2.
    result = run_estimate("--manifest", str(manifest), "--endpoint-url", f"http://127.0.0.1:{free_port()}",
                          "--worker", "auto", "--json", str(report),
                          env={"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"})
    assert result.exit_code == 0, result.output
    document = json.loads(report.read_text())
    assert document["objects"] == 2 and document["bytes"] == 600 * 10**9 + 1000
    # 1,000 parts inferred from the ETag: the layout (600 MB parts) is reused, on Batch (auto, >= 500 GiB).
    assert document["paths"][STANDARD_BATCH]["parts"] == 1000
    assert document["paths"][COPY_OBJECT]["objects"] == 1


def test_inventory_rows_without_size_are_headed(moto_server, tmp_path):
    s3 = moto_server.client()
    s3.create_bucket(Bucket="est-inv")
    s3.put_object(Bucket="est-inv", Key="c.mov", Body=b"c" * 4096)
    manifest = write_local_inventory(tmp_path, "est-inv", [("c.mov", "", ""), ("gone.mov", "", "")])
    report = tmp_path / "e.json"
    result = run_estimate("--manifest", str(manifest), "--endpoint-url", moto_server.endpoint_url,
                          "--json", str(report), env=server_env(moto_server))
    assert result.exit_code == 1, result.output
    document = json.loads(report.read_text())
    assert (document["objects"], document["bytes"]) == (1, 4096)
    assert document["unsized_by_code"] == {"SourceMissing": 1}


def test_unreachable_endpoint_is_a_usage_error_not_a_list_of_failures(tmp_path, monkeypatch):
    manifest = tmp_path / "m.csv"
    manifest.write_text("src,a.mov\n", encoding="utf-8")
    monkeypatch.setenv("MEDIASYNC_S3_MAX_ATTEMPTS", "1")  # no retry backoff in the test
    reset_settings()
    try:
        result = run_estimate("--manifest", str(manifest), "--endpoint-url", f"http://127.0.0.1:{free_port()}",
                              env={"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"})
    finally:
        reset_settings()
    assert result.exit_code == 2
    assert "cannot ask http://127.0.0.1" in result.output


@pytest.mark.parametrize("content", [b"\xff\xfe\x00binary", b"not,a,manifest,at,all\n" * 30])
def test_unreadable_manifest_exits_2_with_the_reason(tmp_path, content):
    manifest = tmp_path / "m.csv"
    manifest.write_bytes(content)
    result = run_estimate("--manifest", str(manifest), "--endpoint-url", "http://127.0.0.1:1")
    assert result.exit_code == 2
    assert "error:" in result.output and "m.csv" in result.output


def test_bad_quota_override_and_missing_manifest_are_usage_errors(tmp_path):
    assert run_estimate("--quota", "lambda_concurrency=5000").exit_code == 2  # no --manifest
    result = run_estimate("--manifest", str(tmp_path / "m.csv"), "--quota", "lambda_concurency=5")
    assert result.exit_code == 2 and "lambda_concurrency" in result.output


def test_without_endpoint_the_objects_are_looked_up_on_amazon_s3(tmp_path, monkeypatch):
    from moto import mock_aws

    for name in ("AWS_PROFILE", "MEDIASYNC_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    reset_settings()
    clients.CLIENTS.reset()
    manifest = tmp_path / "m.csv"
    manifest.write_text("on-aws,clip.mp4\n", encoding="utf-8")
    with mock_aws():  # stands in for Amazon S3: the command is given no endpoint
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="on-aws")
        boto3.client("s3", region_name="us-east-1").put_object(Bucket="on-aws", Key="clip.mp4", Body=b"x" * 123)
        result = run_estimate("--manifest", str(manifest), "--json", str(tmp_path / "e.json"))
    clients.CLIENTS.reset()
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "e.json").read_text())["bytes"] == 123


def test_scale_table_flag_prints_the_generated_doc_block():
    result = run_estimate("--scale-table")
    assert result.exit_code == 0
    assert result.output.startswith(SCALE_BEGIN)


# -- the model's request and invocation counts are those of real copies -------------------------


ARGS = {"destinationBucket": "dst", "multipartThreshold": str(16 * MiB), "partSize": str(8 * MiB),
        "partsPerGroup": "1", "maxConcurrency": "4"}
OPTIONS = CopyOptions(destination_bucket="dst", multipart_threshold=16 * MiB, part_size=8 * MiB, parts_per_group=1,
                      max_concurrency=4)


def _source(s3, kind: str) -> ObjectSpec:
    if kind == COPY_OBJECT:
        s3.put_object(Bucket="src", Key="obj", Body=b"x" * 5000)
        return ObjectSpec(5000)
    if kind == EXPRESS_PARTS:
        put_multipart(s3, "src", "obj", 12 * MiB, 5 * MiB)
        return ObjectSpec(12 * MiB, 3, 5 * MiB)
    put_multipart(s3, "src", "obj", 19 * MiB + 3, 7 * MiB)
    return ObjectSpec(19 * MiB + 3, 3, 7 * MiB)


@pytest.mark.parametrize("kind,worker", [(COPY_OBJECT, "auto"), (EXPRESS_PARTS, "auto"),
                                         (STANDARD_LAMBDA, "lambda"), (STANDARD_BATCH, "batch")])
def test_model_counts_the_s3_calls_and_invocations_a_real_copy_makes(runtime, s3, kind, worker):
    s3.create_bucket(Bucket="src")
    s3.create_bucket(Bucket="dst")
    spec = _source(s3, kind)
    calls: Counter = Counter()
    clients.s3().meta.events.register("before-call.s3", lambda model, **_: calls.update([model.name]))
    event = batch_event("job-1", "t1", "src", "obj", user_arguments={**ARGS, "worker": worker})
    assert runtime.invoke("batch_invoke", event)["results"][0]["resultCode"] == "Succeeded"

    options = CopyOptions(**{**OPTIONS.__dict__, "worker": worker})
    workload = tally([spec], options)
    assert workload.paths[kind].objects == 1
    # moto's CompleteMultipartUpload answer carries no checksum: those copies are read back.
    used = usage(workload, options, copy_answers_prove=kind == COPY_OBJECT)
    assert dict(calls) == +Counter(used.requests)
    invoked = {name: count for name, count in runtime.invocations.items() if name != "worker"}
    assert invoked == dict(used.lambda_invocations)
    assert runtime.invocations.get("worker", 0) == used.batch_jobs
