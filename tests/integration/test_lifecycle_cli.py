"""The job lifecycle commands on real S3 servers: inventory, run of an inventory, report, submit.

In-process commands (click's CliRunner) talk to the servers with --endpoint-url; a
``run`` goes through a subprocess, because its embedded runtime would reset the
moto server this process hosts.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import ANY, Stubber
from click.testing import CliRunner

from mediasync.cli import main
from mediasync.core import clients
from mediasync.manifests.reader import read_manifest
from mediasync.manifests.s3batch_csv import encode_key
from tests.invariants import read_report, report_rows

# Every character class that broke the tool we replace, in prefixes and in names.
AWKWARD_PREFIXES = ["plain/", "with space/", "a+b=c/", "100% done/", "café/", unicodedata.normalize("NFD", "café") + "/",
                    "x%2By/", "deep/er/"]
AWKWARD_NAMES = ["clip {n}.mov", "a+b {n}.txt", "k={n}&v=1.json", "50% {n}.wav", "100%25 {n}.txt",
                 "été {n}.jpg", unicodedata.normalize("NFD", "été {n}.jpg"), "日本語 {n}.srt", "tab{n}=+%20.bin",
                 "#hash? {n}.txt", "~tilde' {n}\".txt", "plus+{n}+.mp4"]
ROUND_TRIP_OBJECTS = 1536
# Every listed key is copied (about 15 s here); a smaller count, which still covers every
# awkward prefix and name, makes a quicker local loop.
ROUND_TRIP_COPIES = int(os.environ.get("MEDIASYNC_TEST_ROUND_TRIP_COPIES", str(ROUND_TRIP_OBJECTS)))


def awkward_keys(count: int) -> list[str]:
    keys = []
    for index in range(count):
        prefix = AWKWARD_PREFIXES[index % len(AWKWARD_PREFIXES)]
        name = AWKWARD_NAMES[(index // len(AWKWARD_PREFIXES)) % len(AWKWARD_NAMES)]
        keys.append(prefix + name.format(n=index))
    return keys


def upload(s3: Any, bucket: str, keys: list[str]) -> None:
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda key: s3.put_object(Bucket=bucket, Key=key, Body=key.encode()), keys))


def listing(s3: Any, bucket: str) -> dict[str, tuple[int, str]]:
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            found[item["Key"]] = (item["Size"], item["ETag"])
    return found


@pytest.fixture
def server_env(s3_server, monkeypatch):
    """Credentials for the server in the environment, as a user would have them."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "MEDIASYNC_S3_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", s3_server.region)
    yield s3_server
    clients.CLIENTS.reset()  # the commands pointed the process's S3 client at the server


def cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def run_cli(server: Any, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": server.access_key, "AWS_SECRET_ACCESS_KEY": server.secret_key,
           "AWS_DEFAULT_REGION": server.region}
    env.pop("AWS_PROFILE", None)
    return subprocess.run([sys.executable, "-m", "mediasync.cli", *args, "--endpoint-url", server.endpoint_url],
                          env=env, capture_output=True, text=True, timeout=600)


# -- inventory ---------------------------------------------------------------------------


def test_inventory_lists_every_awkward_key_url_encoded(server_env, tmp_path):
    """Every prefix and name pattern on both servers; the 1,536-key listing is the round trip's."""
    s3 = server_env.client(max_pool_connections=16)
    s3.create_bucket(Bucket="inv-awkward")
    keys = awkward_keys(len(AWKWARD_PREFIXES) * len(AWKWARD_NAMES))
    assert len(set(keys)) == len(keys)
    upload(s3, "inv-awkward", keys)
    manifest = tmp_path / "manifest.csv"

    result = cli("inventory", "--bucket", "inv-awkward", "--output", str(manifest),
                 "--endpoint-url", server_env.endpoint_url, "--workers", "8")

    assert result.exit_code == 0, result.output
    assert f"wrote {len(keys):,} objects" in result.output
    rows = list(read_manifest(manifest))
    assert [row.error for row in rows if row.error] == []
    assert sorted(row.key for row in rows) == sorted(keys)
    assert all(row.raw_key == encode_key(row.key) and row.bucket == "inv-awkward" for row in rows)
    assert not (tmp_path / "manifest.csv.partial").exists()


def test_inventory_prefix_limits_the_listing(server_env, tmp_path):
    s3 = server_env.client()
    s3.create_bucket(Bucket="inv-prefix")
    upload(s3, "inv-prefix", ["keep/a b.txt", "keep/sub/c+d.txt", "keeper.txt", "other/e.txt"])
    manifest = tmp_path / "m.csv"

    result = cli("inventory", "--bucket", "inv-prefix", "--prefix", "keep/", "--output", str(manifest),
                 "--endpoint-url", server_env.endpoint_url)

    assert result.exit_code == 0, result.output
    assert sorted(row.key for row in read_manifest(manifest)) == ["keep/a b.txt", "keep/sub/c+d.txt"]


def test_inventory_versions_pins_current_versions_and_leaves_deleted_keys_out(server_env, tmp_path):
    s3 = server_env.client()
    s3.create_bucket(Bucket="inv-versions")
    s3.put_bucket_versioning(Bucket="inv-versions", VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket="inv-versions", Key="master 1.mov", Body=b"old")
    current = s3.put_object(Bucket="inv-versions", Key="master 1.mov", Body=b"new")["VersionId"]
    s3.put_object(Bucket="inv-versions", Key="gone/x.txt", Body=b"x")
    s3.delete_object(Bucket="inv-versions", Key="gone/x.txt")
    manifest = tmp_path / "versions.csv"

    result = cli("inventory", "--bucket", "inv-versions", "--versions", "--output", str(manifest),
                 "--endpoint-url", server_env.endpoint_url)

    assert result.exit_code == 0, result.output
    rows = list(read_manifest(manifest))
    assert [(row.key, row.version_id) for row in rows] == [("master 1.mov", current)]


def test_inventory_streams_to_an_s3_output(server_env):
    s3 = server_env.client()
    s3.create_bucket(Bucket="inv-out-src")
    s3.create_bucket(Bucket="inv-out-jobs")
    upload(s3, "inv-out-src", ["a=1/b c.txt", "d%e.txt"])

    result = cli("inventory", "--bucket", "inv-out-src", "--output", "s3://inv-out-jobs/manifests/all.csv",
                 "--endpoint-url", server_env.endpoint_url)

    assert result.exit_code == 0, result.output
    body = s3.get_object(Bucket="inv-out-jobs", Key="manifests/all.csv")["Body"].read().decode()
    assert sorted(body.splitlines()) == ["inv-out-src,a%3D1/b+c.txt", "inv-out-src,d%25e.txt"]


def test_inventory_of_a_missing_bucket_is_bad_usage_and_writes_nothing(server_env, tmp_path):
    manifest = tmp_path / "m.csv"

    result = cli("inventory", "--bucket", "inv-no-such-bucket", "--output", str(manifest),
                 "--endpoint-url", server_env.endpoint_url)

    assert result.exit_code == 2
    assert "NoSuchBucket" in result.output and "no manifest written" in result.output
    assert not manifest.exists() and not (tmp_path / "m.csv.partial").exists()


def test_inventory_manifest_is_copied_exactly_by_run(seaweedfs, monkeypatch, tmp_path):
    """The issue's round trip: inventory of awkward keys, then `mediasync run` of that manifest."""
    s3 = seaweedfs.client(max_pool_connections=16)
    s3.create_bucket(Bucket="trip-src")
    s3.create_bucket(Bucket="trip-dst")
    keys = awkward_keys(ROUND_TRIP_OBJECTS)
    upload(s3, "trip-src", keys)
    for name, value in (("AWS_ACCESS_KEY_ID", seaweedfs.access_key), ("AWS_SECRET_ACCESS_KEY", seaweedfs.secret_key)):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    manifest = tmp_path / "manifest.csv"
    try:
        listed = cli("inventory", "--bucket", "trip-src", "--output", str(manifest), "--endpoint-url",
                     seaweedfs.endpoint_url)
    finally:
        clients.CLIENTS.reset()
    assert listed.exit_code == 0, listed.output
    lines = manifest.read_text(encoding="utf-8").splitlines(keepends=True)
    assert sorted(row.key for row in read_manifest(manifest)) == sorted(keys)
    # The first keys cover every prefix and name pattern (see ROUND_TRIP_COPIES).
    first = set(keys[:ROUND_TRIP_COPIES])
    copied_manifest = tmp_path / "copied.csv"
    copied_manifest.write_text("".join(line for line, row in zip(lines, read_manifest(manifest)) if row.key in first),
                               encoding="utf-8")
    report = tmp_path / "report.csv"

    result = run_cli(seaweedfs, "run", "--manifest", str(copied_manifest), "--destination-bucket", "trip-dst",
                     "--report", str(report), "--concurrency", "32", "--no-skip-existing")

    assert result.returncode == 0, result.stderr + result.stdout
    expected = {row.key for row in read_manifest(copied_manifest)}
    source, destination = listing(s3, "trip-src"), listing(s3, "trip-dst")
    assert destination == {key: source[key] for key in expected}
    with report.open(encoding="utf-8", newline="") as handle:
        rows = read_report(handle)
    assert sorted(row["Key"] for row in rows) == sorted(encode_key(key) for key in expected)
    assert (tmp_path / "report.csv.timings.jsonl").read_text().count("\n") == len(expected)


# -- S3 Inventory manifest.json in S3, run through the CLI -------------------------------


# A current-versions inventory: an all-versions one (IsLatest, IsDeleteMarker) has an empty
# VersionId for objects written without versioning, and S3 Batch fails those rows
# (tests/asl/test_all_versions.py).
INVENTORY_SCHEMA = "Bucket, Key, VersionId, Size, LastModifiedDate, ETag, StorageClass"


def inventory_data_file(rows: list[list[str]]) -> bytes:
    text = io.StringIO()
    csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    return gzip.compress(text.getvalue().encode("utf-8"))


def write_s3_inventory(s3: Any, source_bucket: str, inventory_bucket: str, keys: list[str]) -> str:
    """An S3 Inventory report as AWS writes it: manifest.json and gzip CSV data files; returns its URL."""
    prefix = f"{source_bucket}/daily/2026-11-25T01-00Z"
    rows = [[source_bucket, encode_key(key), "", str(len(key.encode())), "2026-11-24T00:00:00.000Z",
             hashlib.md5(key.encode()).hexdigest(), "STANDARD"] for key in keys]
    files = []
    for number, chunk in enumerate((rows[: len(rows) // 2], rows[len(rows) // 2:])):
        body = inventory_data_file(chunk)
        key = f"{source_bucket}/daily/data/{number:04d}.csv.gz"
        s3.put_object(Bucket=inventory_bucket, Key=key, Body=body)
        files.append({"key": key, "size": len(body), "MD5checksum": hashlib.md5(body).hexdigest()})
    manifest = {"sourceBucket": source_bucket, "destinationBucket": f"arn:aws:s3:::{inventory_bucket}",
                "version": "2016-11-30", "creationTimestamp": "1764032400000", "fileFormat": "CSV",
                "fileSchema": INVENTORY_SCHEMA, "files": files}
    s3.put_object(Bucket=inventory_bucket, Key=f"{prefix}/manifest.json", Body=json.dumps(manifest).encode())
    return f"s3://{inventory_bucket}/{prefix}/manifest.json"


def test_s3_inventory_manifest_json_in_s3_is_run(seaweedfs, tmp_path):
    s3 = seaweedfs.client()
    for bucket in ("s3inv-src", "s3inv-dst", "s3inv-reports"):
        s3.create_bucket(Bucket=bucket)
    keys = ["a b/c+d.mov", "x=1&y=2.txt", "50%.wav", unicodedata.normalize("NFD", "été.jpg"), "été.jpg"]
    upload(s3, "s3inv-src", keys)
    url = write_s3_inventory(s3, "s3inv-src", "s3inv-reports", keys)
    report = tmp_path / "report.csv"

    result = run_cli(seaweedfs, "run", "--manifest", url, "--destination-bucket", "s3inv-dst", "--report", str(report))

    assert result.returncode == 0, result.stderr + result.stdout
    assert listing(s3, "s3inv-dst") == listing(s3, "s3inv-src")


# -- report from S3 ----------------------------------------------------------------------


def test_report_reads_an_s3_batch_report_from_s3(server_env, tmp_path):
    s3 = server_env.client()
    s3.create_bucket(Bucket="rep-jobs")
    results = ("src,a+b.mov,,succeeded,200,,\"Copied: s3://dst/a b.mov ETag \"\"e\"\", 2048 bytes; verified by etag\"\n"
               "src,gone.txt,,failed,404,PermanentFailure,\"SourceMissing: s3://src/gone.txt does not exist\"\n")
    s3.put_object(Bucket="rep-jobs", Key="reports/job-1/results/r1.csv", Body=results.encode())
    s3.put_object(Bucket="rep-jobs", Key="reports/job-1/manifest.json", Body=json.dumps({
        "Format": "Report_CSV_20180820", "ReportCreationDate": "2026-11-25T00:00:00Z",
        "Results": [{"TaskExecutionStatus": "succeeded", "Bucket": "rep-jobs", "MD5Checksum": "x",
                     "Key": "reports/job-1/results/r1.csv"}], "ReportSchema": "Bucket, Key, VersionId, TaskStatus, "
                     "ErrorCode, HTTPStatusCode, ResultMessage"}).encode())
    html = tmp_path / "report.html"

    result = cli("report", "--report", "s3://rep-jobs/reports/job-1/manifest.json", "--html", str(html),
                 "--endpoint-url", server_env.endpoint_url)

    assert result.exit_code == 1, result.output  # one task failed
    assert "SourceMissing" in result.output and "2.0 KiB" in result.output
    assert 'data-chart="outcomes"' in html.read_text(encoding="utf-8")


# -- submit: the manifest read from S3, create_job checked with a Stubber ----------------


class FakeAws:
    """aws_client() for submit: the real S3 server for the manifest, stubs for the rest."""

    def __init__(self, s3: Any, outputs: dict[str, str]) -> None:
        import boto3

        self.s3 = s3
        session = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")
        self.cloudformation = session.client("cloudformation")
        self.s3control = session.client("s3control")
        self.stubs = {"cloudformation": Stubber(self.cloudformation), "s3control": Stubber(self.s3control)}
        self.stubs["cloudformation"].add_response("describe_stacks", {"Stacks": [{
            "StackName": "mediasync", "CreationTime": "2026-11-01T00:00:00Z", "StackStatus": "CREATE_COMPLETE",
            "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()]}]}, {"StackName": "mediasync"})
        for stub in self.stubs.values():
            stub.activate()

    def __call__(self, service: str, region: str | None = None) -> Any:
        return {"s3": self.s3, "cloudformation": self.cloudformation, "s3control": self.s3control}[service]


FUNCTION = "arn:aws:lambda:us-east-1:111122223333:function:mediasync-batch-invoke"
ROLE = "arn:aws:iam::111122223333:role/mediasync-batch-operations"


def test_submit_creates_the_job_from_the_stack_outputs(server_env, monkeypatch):
    s3 = server_env.client()
    s3.create_bucket(Bucket="sub-jobs")
    etag = s3.put_object(Bucket="sub-jobs", Key="manifests/m.csv", Body=b"src,a+b.mov\nsrc,c.txt\n")["ETag"].strip('"')
    aws = FakeAws(s3, {"BatchInvokeFunctionArn": FUNCTION, "BatchOperationsRoleArn": ROLE})
    monkeypatch.setattr("mediasync.stack.submit.aws_client", aws)
    aws.stubs["s3control"].add_response("create_job", {"JobId": "job-0123"}, {
        "AccountId": "111122223333", "ConfirmationRequired": False, "ClientRequestToken": ANY,
        "Operation": {"LambdaInvoke": {"FunctionArn": FUNCTION, "InvocationSchemaVersion": "2.0", "UserArguments": {
            "destinationBucket": "archive", "partSize": str(128 * 2**20)}}},
        "Report": {"Bucket": "arn:aws:s3:::sub-jobs", "Format": "Report_CSV_20180820", "Enabled": True,
                   "Prefix": "mediasync-reports", "ReportScope": "AllTasks"},
        "Manifest": {"Spec": {"Format": "S3BatchOperations_CSV_20180820", "Fields": ["Bucket", "Key"]},
                     "Location": {"ObjectArn": "arn:aws:s3:::sub-jobs/manifests/m.csv", "ETag": etag}},
        "Description": "mediasync copy to s3://archive/", "Priority": 10, "RoleArn": ROLE,
    })

    result = cli("submit", "--manifest", "s3://sub-jobs/manifests/m.csv", "--destination-bucket", "archive",
                 "--report-bucket", "sub-jobs", "--part-size", "128MiB")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == "job-0123"
    aws.stubs["s3control"].assert_no_pending_responses()


def test_submit_dry_run_prints_the_request_for_an_inventory_manifest(server_env, monkeypatch):
    s3 = server_env.client()
    s3.create_bucket(Bucket="sub-inv")
    url = write_s3_inventory(s3, "sub-src", "sub-inv", ["a b.mov"])
    aws = FakeAws(s3, {})
    monkeypatch.setattr("mediasync.stack.submit.aws_client", aws)

    result = cli("submit", "--manifest", url, "--destination-bucket", "archive", "--report-bucket", "sub-inv",
                 "--function-arn", FUNCTION, "--role-arn", ROLE, "--dry-run")

    assert result.exit_code == 0, result.output
    request = json.loads(result.stdout)  # nothing but the request on stdout: pipe it to jq or a file
    assert request["Manifest"]["Spec"] == {"Format": "S3InventoryReport_CSV_20161130"}
    assert request["Manifest"]["Location"]["ObjectArn"] == "arn:aws:s3:::" + url[len("s3://"):]
    assert "dry run: no job created" in result.stderr


def test_submit_of_a_manifest_missing_from_s3_is_bad_usage(server_env, monkeypatch):
    s3 = server_env.client()
    s3.create_bucket(Bucket="sub-empty")
    monkeypatch.setattr("mediasync.stack.submit.aws_client", FakeAws(s3, {}))

    result = cli("submit", "--manifest", "s3://sub-empty/nothing.csv", "--destination-bucket", "archive",
                 "--report-bucket", "sub-empty", "--function-arn", FUNCTION, "--role-arn", ROLE)

    assert result.exit_code == 2
    assert "cannot read manifest s3://sub-empty/nothing.csv" in result.stderr


# -- sync plan: inventory against the destination, then the jobs it names ------------------


def test_sync_plan_writes_the_jobs_to_run_and_what_it_left_out_and_the_jobs_leave_both_sides_equal(
        server_env, monkeypatch, tmp_path):
    """inventory --destination-bucket lists both sides once and writes three manifests to
    S3; the copy manifest's S3 Batch job is told not to look at the destination
    (skipExisting false), the check manifest's job is not; run here, the two jobs leave
    the destination equal to the source, with a report row for every object they carry."""
    s3 = server_env.client()
    for bucket in ("sync-src", "sync-dst", "sync-jobs"):
        s3.create_bucket(Bucket=bucket)
    bodies = {"in/absent.mov": b"a" * 300, "in/resized.mov": b"r" * 300, "in/changed.mov": b"c" * 300,
              "in/same.mov": b"s" * 300, "in/sub/absent too.mov": b"t" * 10}
    for key, body in bodies.items():
        s3.put_object(Bucket="sync-src", Key=key, Body=body)
    s3.put_object(Bucket="sync-dst", Key="out/resized.mov", Body=b"r")
    s3.put_object(Bucket="sync-dst", Key="out/changed.mov", Body=b"C" * 300)
    s3.put_object(Bucket="sync-dst", Key="out/same.mov", Body=b"s" * 300)
    s3.put_object(Bucket="sync-dst", Key="elsewhere.mov", Body=b"not under the prefix")

    result = cli("inventory", "--bucket", "sync-src", "--prefix", "in/", "--destination-bucket", "sync-dst",
                 "--strip-prefix", "in/", "--destination-prefix", "out/", "--output", "s3://sync-jobs/plan/sync.csv",
                 "--endpoint-url", server_env.endpoint_url)

    assert result.exit_code == 0, result.output
    output = " ".join(result.stdout.split())
    assert ("sync plan: 3 to copy, 610 B (2 absent at the destination, 1 size differs); 1 to check object by "
            "object, 300 B (1 same size, ETag differs); 1 left out, 300 B (1 same size and ETag, destination "
            "no older)") in output
    assert ("mediasync submit --manifest s3://sync-jobs/plan/sync.csv --destination-bucket sync-dst "
            "--destination-prefix out/ --strip-prefix in/ --no-skip-existing") in output
    assert "mediasync submit --manifest s3://sync-jobs/plan/sync.check.csv" in output

    def manifest(key: str) -> Path:
        path = tmp_path / key.rsplit("/", 1)[-1]
        path.write_bytes(s3.get_object(Bucket="sync-jobs", Key=key)["Body"].read())
        return path

    plan = {name: sorted(row.key for row in read_manifest(manifest(f"plan/{name}")))
            for name in ("sync.csv", "sync.check.csv", "sync.same.csv")}
    assert plan == {"sync.csv": ["in/absent.mov", "in/resized.mov", "in/sub/absent too.mov"],
                    "sync.check.csv": ["in/changed.mov"], "sync.same.csv": ["in/same.mov"]}

    aws = FakeAws(s3, {})
    monkeypatch.setattr("mediasync.stack.submit.aws_client", aws)
    result = cli("submit", "--manifest", "s3://sync-jobs/plan/sync.csv", "--destination-bucket", "sync-dst",
                 "--destination-prefix", "out/", "--strip-prefix", "in/", "--no-skip-existing",
                 "--report-bucket", "sync-jobs", "--function-arn", FUNCTION, "--role-arn", ROLE, "--dry-run")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["Operation"]["LambdaInvoke"]["UserArguments"]["skipExisting"] == "false"

    where = ("--destination-prefix", "out/", "--strip-prefix", "in/")
    for name, flags in (("sync.csv", ("--no-skip-existing",)), ("sync.check.csv", ())):
        report = tmp_path / f"{name}.report.csv"
        done = run_cli(server_env, "run", "--manifest", str(tmp_path / name), "--destination-bucket", "sync-dst",
                       *where, *flags, "--report", str(report))
        assert done.returncode == 0, done.stdout + done.stderr
        rows = report_rows(report)
        assert sorted(row["Key"] for row in rows) == sorted(row.raw_key for row in read_manifest(tmp_path / name))
        assert all(row["TaskStatus"] == "succeeded" and "verified by" in row["ResultMessage"] for row in rows), rows
    for key, body in bodies.items():
        assert s3.get_object(Bucket="sync-dst", Key="out/" + key[3:])["Body"].read() == body, key

    # One summary of the plan's two jobs and what it left out: every source object once.
    result = cli("report", "--report", str(tmp_path / "sync.csv.report.csv"),
                 "--report", str(tmp_path / "sync.check.csv.report.csv"), "--left-out", str(tmp_path / "sync.same.csv"))
    assert result.exit_code == 0, result.output
    totals = " ".join(result.stdout.translate(str.maketrans("", "", "│┃")).split())
    assert "objects 5" in totals and "succeeded 5" in totals and "of which left out by the sync plan 1" in totals
    assert "listing-etag 1" in totals


def test_sync_plan_options_need_a_destination_bucket(tmp_path):
    result = CliRunner().invoke(main, ["inventory", "--bucket", "media", "--output", str(tmp_path / "m.csv"),
                                       "--strip-prefix", "in/"])
    assert result.exit_code == 2
    assert "give --destination-bucket too" in result.output


# -- the embedded S3, in this process ----------------------------------------------------


def test_embedded_s3_inventory_then_run_of_an_inventory_report_on_disk_then_report(tmp_path):
    """Inside a LocalRuntime, the commands without --endpoint-url see its embedded S3."""
    import boto3

    from mediasync.core.settings import CopyOptions
    from mediasync.local.runner import JobRequest, run_job
    from mediasync.local.runtime import LocalRuntime

    keys = awkward_keys(len(AWKWARD_PREFIXES) * len(AWKWARD_NAMES))
    with LocalRuntime() as runtime:
        s3 = boto3.client("s3", region_name=runtime.region)
        s3.create_bucket(Bucket="emb-src")
        s3.create_bucket(Bucket="emb-dst")
        upload(s3, "emb-src", keys)
        manifest = tmp_path / "manifest.csv"

        listed = cli("inventory", "--bucket", "emb-src", "--output", str(manifest))

        assert listed.exit_code == 0, listed.output
        assert sorted(row.key for row in read_manifest(manifest)) == sorted(keys)

        copied = keys[:: len(AWKWARD_NAMES) - 1][:24]  # every prefix, every name pattern at least once
        inventory = write_local_inventory(tmp_path / "inventory", "emb-src", copied)
        report = tmp_path / "report.csv"
        summary = run_job(runtime, read_manifest(inventory),
                          JobRequest(CopyOptions(destination_bucket="emb-dst"), report, 8))

        assert (summary.succeeded, summary.failed) == (len(copied), 0)
        source = listing(s3, "emb-src")
        assert listing(s3, "emb-dst") == {key: source[key] for key in copied}

    html = tmp_path / "report.html"
    result = cli("report", "--report", str(report), "--html", str(html))
    assert result.exit_code == 0, result.output
    assert f"{len(copied)}" in result.output and 'data-chart="throughput"' in html.read_text(encoding="utf-8")


def write_local_inventory(folder: Path, source_bucket: str, keys: list[str]) -> Path:
    """An S3 Inventory report as `aws s3 cp --recursive` downloads it: manifest.json and data/ on disk."""
    rows = [[source_bucket, encode_key(key), "", str(len(key.encode())), "", "", "STANDARD"] for key in keys]
    body = inventory_data_file(rows)
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "0001.csv.gz").write_bytes(body)
    dated = folder / "2026-11-25T01-00Z"
    dated.mkdir()
    (dated / "manifest.json").write_text(json.dumps({
        "sourceBucket": source_bucket, "destinationBucket": "arn:aws:s3:::inventory", "fileFormat": "CSV",
        "fileSchema": INVENTORY_SCHEMA, "files": [{"key": f"{source_bucket}/all/data/0001.csv.gz", "size": len(body),
                                                  "MD5checksum": hashlib.md5(body).hexdigest()}]}))
    return dated / "manifest.json"
