"""Issue 24's filters, S3-generated manifests and dry run, end to end on moto's server.

- ``inventory`` (filtered in memory while listing) and ``plan`` (filtered in DuckDB's
  SQL) keep the same objects and count the same left-outs by flag;
- ``run --source`` with filters copies what they keep, through the real state machines,
  and its summary and report say what each filter left out;
- ``run --dry-run`` prints what a run would do and sends no write to the server (a
  counting proxy sees every request), then the run does just that;
- ``submit --source`` asks S3 Batch's ManifestGenerator for the same objects: the
  request it prints is run by the S3 Batch emulation (list, filter as AWS documents,
  write the generated manifest) and the manifest copied by ``run``;
- every new flag's bad input: one line, exit 2, nothing written.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mediasync.cli import main
from mediasync.local.s3batch import generate_manifest
from mediasync.manifests.reader import read_manifest
from mediasync.reports.summary import summarize
from tests.faults.cli import cli_env
from tests.invariants import assert_invariants, report_rows

MiB = 1024 * 1024
OBJECTS = {  # key: (size, storage class)
    "media/a.mov": (2000, "STANDARD"),
    "media/b.tmp": (10, "STANDARD"),
    "media/sub/c.mov": (50, "STANDARD"),
    "media/sub/d.wav": (3000, "STANDARD_IA"),
    "media/e.mov": (4000, "GLACIER"),
    "media-old/f.mov": (60, "STANDARD"),
    "other/g.mov": (70, "STANDARD"),
}
FILTERS = ["--exclude", "*.tmp", "--min-size", "100", "--match-storage-class", "STANDARD",
           "--match-storage-class", "standard_ia"]
KEPT = ["media/a.mov", "media/sub/d.wav"]
ARNS = ["--function-arn", "arn:aws:lambda:us-east-1:111122223333:function:mediasync-batch-invoke",
        "--role-arn", "arn:aws:iam::111122223333:role/mediasync-batch", "--account-id", "111122223333"]


def mediasync(server, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mediasync.cli", *args], env=cli_env(server, **env),
                          capture_output=True, text=True, timeout=600)


def fill(s3, bucket: str, objects=OBJECTS) -> None:
    s3.create_bucket(Bucket=bucket)
    for key, (size, storage_class) in objects.items():
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode()[:1] * size, StorageClass=storage_class)


def keys_of(manifest: Path | str) -> list[str]:
    return sorted(row.key for row in read_manifest(manifest))


def test_inventory_in_memory_and_plan_in_duckdb_keep_the_same_objects(moto_server, tmp_path):
    s3 = moto_server.client()
    fill(s3, "filter-src")
    s3.create_bucket(Bucket="filter-dst")

    listed = mediasync(moto_server, "inventory", "--bucket", "filter-src", "--prefix", "media/", *FILTERS,
                       "--output", str(tmp_path / "inventory.csv"), "--endpoint-url", moto_server.endpoint_url)
    planned = mediasync(moto_server, "plan", "--source", "s3://filter-src/media/", "--destination-bucket", "filter-dst",
                        *FILTERS, "--output", str(tmp_path / "plan.csv"), "--endpoint-url", moto_server.endpoint_url)

    assert listed.returncode == 0 and planned.returncode == 0, listed.stderr + planned.stderr
    assert keys_of(tmp_path / "inventory.csv") == keys_of(tmp_path / "plan.csv") == KEPT
    for output in (listed.stdout, " ".join(planned.stdout.split())):
        assert "--exclude '*.tmp': 1 object" in output or "1 --exclude '*.tmp'" in output, output
        assert "--min-size 100: 1 object" in output or "1 --min-size 100" in output, output
    assert "--match-storage-class STANDARD --match-storage-class STANDARD_IA: 1 object" in listed.stdout


def test_run_source_copies_what_the_filters_keep_and_says_what_each_left_out(s3_server, tmp_path):
    """On moto's server and on SeaweedFS (both list storage classes)."""
    s3 = s3_server.client()
    fill(s3, "run-filter-src")
    s3.create_bucket(Bucket="run-filter-dst")
    report = tmp_path / "report.csv"

    result = mediasync(s3_server, "run", "--source", "s3://run-filter-src/media", *FILTERS, "--destination-bucket",
                       "run-filter-dst", "--endpoint-url", s3_server.endpoint_url, "--report", str(report))

    assert result.returncode == 0, result.stdout + result.stderr
    rows = assert_invariants(s3, tmp_path / "report.manifest.csv", report, "run-filter-dst")
    assert sorted(row["Key"] for row in rows) == ["media/a.mov", "media/sub/d.wav"]
    assert sorted(item["Key"] for item in s3.list_objects_v2(Bucket="run-filter-dst")["Contents"]) == KEPT
    summary = " ".join(result.stdout.split())
    # "media" lists media-old/ too; the patterns match below "media/", so its key matches none.
    assert "left out by --min-size 100 │ 2 (" in summary and "left out by --exclude '*.tmp' │ 1 (" in summary, summary
    again = mediasync(s3_server, "report", "--report", str(report))
    assert again.returncode == 0 and "left out by --min-size 100" in again.stdout, again.stdout
    assert summarize(str(report)).filtered.objects == {
        "--exclude '*.tmp'": 1, "--min-size 100": 2, "--match-storage-class STANDARD --match-storage-class STANDARD_IA": 1}


READS = {"ListObjects", "ListObjectVersions", "HeadObject", "HeadBucket", "GetObject", "GetObjectTagging",
         "GetObjectAttributes"}


def test_dry_run_sends_no_write_and_the_run_then_does_what_it_said(s3_server, tmp_path):
    from tests.faults.proxy import FaultProxy, FaultRules

    s3 = s3_server.client()
    fill(s3, "dry-src")
    s3.create_bucket(Bucket="dry-dst")
    s3.put_object(Bucket="dry-dst", Key="media/a.mov", Body=b"m" * 2000)  # the same bytes: left out by the plan
    work = tmp_path / "work"
    work.mkdir()
    args = ["run", "--source", "s3://dry-src/media/", "--exclude", "*.tmp", "--destination-bucket", "dry-dst",
            "--report", str(work / "report.csv"), "--multipart-threshold", "5MiB"]
    manifest = tmp_path / "m.csv"
    manifest.write_text("dry-src,media/sub/c.mov\ndry-src,media/no-such.mov\n")

    with FaultProxy(s3_server.endpoint_url, FaultRules()) as proxy:
        dry = mediasync(s3_server, *args, "--endpoint-url", proxy.endpoint_url, "--dry-run")
        listed = mediasync(s3_server, "run", "--manifest", str(manifest), "--destination-bucket", "dry-dst",
                           "--endpoint-url", proxy.endpoint_url, "--dry-run")
        forwarded = dict(proxy.forwarded)

    assert dry.returncode == 0 and listed.returncode == 0, dry.stderr + listed.stderr
    assert set(forwarded) <= READS, forwarded
    assert not list(work.iterdir()), "a dry run wrote beside the report"
    assert s3.list_objects_v2(Bucket="dry-dst")["KeyCount"] == 1
    said = dry.stdout
    assert "would be copied: 3 objects, 6.9 KiB" in said, said
    assert "left out: the listings show the destination already holds them: 1 object" in said
    assert "left out by the filters: 1 object, 10 B" in said and "s3://dry-src/media/b.tmp (10 B): --exclude '*.tmp'" in said
    assert "would be checked at the destination, and copied unless already there: 2 objects" in listed.stdout

    done = mediasync(s3_server, *args, "--endpoint-url", s3_server.endpoint_url)
    rows = report_rows(work / "report.csv")
    copied = [row["Key"] for row in rows if "not copied again" not in row["ResultMessage"]]
    assert sorted(copied) == ["media/e.mov", "media/sub/c.mov", "media/sub/d.wav"], done.stdout + done.stderr


def test_submit_source_asks_the_generator_for_what_the_filters_keep_and_the_emulated_job_copies_it(moto_server,
                                                                                                  tmp_path):
    s3 = moto_server.client()
    objects = dict(OBJECTS)
    objects["media/master.mov"] = (0, "STANDARD")
    fill(s3, "gen-src", {key: value for key, value in objects.items() if key != "media/master.mov"})
    upload = s3.create_multipart_upload(Bucket="gen-src", Key="media/master.mov")["UploadId"]
    parts = [{"PartNumber": n, "ETag": s3.upload_part(Bucket="gen-src", Key="media/master.mov", UploadId=upload,
                                                      PartNumber=n, Body=bytes([n]) * (5 * MiB))["ETag"]}
             for n in (1, 2)]
    s3.complete_multipart_upload(Bucket="gen-src", Key="media/master.mov", UploadId=upload,
                                 MultipartUpload={"Parts": parts})
    for bucket in ("gen-dst", "jobs"):
        s3.create_bucket(Bucket=bucket)
    filters = ["--exclude", "*", "--include", "*.mov", "--min-size", "100", "--max-size", "20MiB"]

    submitted = mediasync(moto_server, "submit", "--source", "s3://gen-src/media/", *filters, "--destination-bucket",
                          "gen-dst", "--report-bucket", "jobs", *ARNS, "--dry-run",
                          AWS_ENDPOINT_URL_S3=moto_server.endpoint_url)
    assert submitted.returncode == 0, submitted.stderr
    request = json.loads(submitted.stdout)
    assert "Manifest" not in request and request["ManifestGenerator"]["S3JobManifestGenerator"]["Filter"] == {
        "KeyNameConstraint": {"MatchAnySuffix": [".mov"], "MatchAnyPrefix": ["media/"]},
        "ObjectSizeGreaterThanBytes": 99, "ObjectSizeLessThanBytes": 20 * MiB + 1}

    generated = generate_manifest(s3, request["ManifestGenerator"], "job-1")
    listed = mediasync(moto_server, "inventory", "--bucket", "gen-src", "--prefix", "media/", *filters,
                       "--output", str(tmp_path / "listed.csv"), "--endpoint-url", moto_server.endpoint_url)
    report = tmp_path / "report.csv"
    ran = mediasync(moto_server, "run", "--manifest", generated, "--destination-bucket", "gen-dst",
                    "--endpoint-url", moto_server.endpoint_url, "--report", str(report), "--multipart-threshold", "8MiB")

    assert generated.startswith("s3://jobs/mediasync-manifests/job-job-1/") and generated.endswith("/manifest.json")
    # 1: the GLACIER object is in the job and fails, named (SourceArchived).
    assert listed.returncode == 0 and ran.returncode == 1, listed.stderr + ran.stdout + ran.stderr
    expected = keys_of(tmp_path / "listed.csv")
    assert expected == ["media/a.mov", "media/e.mov", "media/master.mov"]
    rows = report_rows(report)
    assert sorted((row["Key"], row["TaskStatus"]) for row in rows) == [
        ("media/a.mov", "succeeded"), ("media/e.mov", "failed"), ("media/master.mov", "succeeded")]
    assert next(row for row in rows if row["Key"] == "media/e.mov")["ErrorCode"] == "SourceArchived"
    copied = s3.head_object(Bucket="gen-dst", Key="media/master.mov")
    assert copied["ETag"] == s3.head_object(Bucket="gen-src", Key="media/master.mov")["ETag"]  # part layout kept


def test_submit_source_lists_here_what_the_generator_cannot_express(moto_server, tmp_path):
    s3 = moto_server.client()
    fill(s3, "gen-here-src")
    s3.create_bucket(Bucket="jobs-here")

    submitted = mediasync(moto_server, "submit", "--source", "s3://gen-here-src/media/", "--exclude", "*.tmp",
                          "--destination-bucket", "archive", "--report-bucket", "jobs-here", *ARNS, "--dry-run",
                          AWS_ENDPOINT_URL_S3=moto_server.endpoint_url)

    assert submitted.returncode == 0, submitted.stderr
    request = json.loads(submitted.stdout)
    assert "ManifestGenerator" not in request
    assert request["Manifest"]["Location"]["ObjectArn"].startswith(
        "arn:aws:s3:::jobs-here/mediasync-manifests/gen-here-src-")
    said = " ".join(submitted.stderr.split())
    assert "--exclude '*.tmp': S3 Batch's manifest generator matches one prefix, suffix or substring" in said
    assert "here instead" in said and "4 objects, 8.8 KiB, would go into the manifest (nothing written)" in said
    assert s3.list_objects_v2(Bucket="jobs-here")["KeyCount"] == 0, "a dry run wrote the manifest"


@pytest.mark.parametrize("args, message", [
    (["--min-size", "lots"], "Invalid value for '--min-size'"),
    (["--max-size", "-1"], "Invalid value for '--max-size'"),
    (["--modified-after", "yesterday"], "is not a time: give ISO 8601"),
    (["--modified-before", "2026-01-01T00:00:00.000001Z"], "S3 keeps times to the millisecond"),
    (["--match-storage-class", "COLD"], "Invalid value for '--match-storage-class'"),
    (["--min-size", "2MiB", "--max-size", "1MiB"], "is above --max-size"),
    (["--modified-after", "2026-02-01", "--modified-before", "2026-01-01"], "is not before --modified-before"),
    (["--exclude", "/tmp/*"], "without the leading '/'"),
])
@pytest.mark.parametrize("command", ["inventory", "run", "plan", "submit", "estimate"])
def test_bad_filters_are_refused_in_one_line_and_nothing_is_written(tmp_path, monkeypatch, command, args, message):
    monkeypatch.chdir(tmp_path)
    common = {
        "inventory": ["inventory", "--bucket", "media", "--output", "out.csv"],
        "run": ["run", "--source", "s3://media/", "--destination-bucket", "archive", "--endpoint-url",
                "http://127.0.0.1:9", "--report", "report.csv"],
        "plan": ["plan", "--source", "s3://media/", "--destination-bucket", "archive", "--output", "plan.csv"],
        "submit": ["submit", "--source", "s3://media/", "--destination-bucket", "archive", "--report-bucket", "jobs",
                   *ARNS],
        "estimate": ["estimate", "--source", "s3://media/"],
    }[command]

    result = CliRunner().invoke(main, [*common, *args])

    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and message in " ".join(result.output.split()), result.output
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("command", [
    ["run", "--manifest", "m.csv", "--destination-bucket", "archive"],
    ["submit", "--manifest", "s3://jobs/m.csv", "--destination-bucket", "archive", "--report-bucket", "jobs", *ARNS],
    ["estimate", "--manifest", "m.csv"],
])
def test_filters_with_a_manifest_are_refused(tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, [*command, "--exclude", "*.tmp"])
    assert result.exit_code == 2 and "already chosen" in " ".join(result.output.split()), result.output


@pytest.mark.parametrize("args, message", [
    (["--source", "media/masters/"], "--source 'media/masters/' is not an s3://BUCKET[/PREFIX] URL"),
    (["--source", "s3://media/", "--manifest-output", "jobs/manifests"],
     "--manifest-output 'jobs/manifests' is not an s3://BUCKET[/PREFIX] URL"),
    (["--source", "s3://media/", "--manifest", "s3://jobs/m.csv"], "(one of them)"),
])
def test_submit_source_refuses_what_is_not_a_place_in_s3_before_asking_aws(tmp_path, monkeypatch, args, message):
    """No stack, no credentials: the URLs are refused before anything is asked of AWS."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["submit", "--destination-bucket", "archive", "--report-bucket", "jobs", *args])
    assert result.exit_code == 2 and message in " ".join(result.output.split()), result.output


def test_a_source_the_filters_leave_empty_is_a_run_with_nothing_to_do(moto_server, tmp_path):
    s3 = moto_server.client()
    fill(s3, "empty-filter-src")
    s3.create_bucket(Bucket="empty-filter-dst")
    report = tmp_path / "report.csv"

    result = mediasync(moto_server, "run", "--source", "s3://empty-filter-src/media/", "--exclude", "*",
                       "--destination-bucket", "empty-filter-dst", "--endpoint-url", moto_server.endpoint_url,
                       "--report", str(report))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "nothing to copy: the filters left out all 5 objects" in " ".join(result.stdout.split())
    assert report.read_text() == "" and s3.list_objects_v2(Bucket="empty-filter-dst")["KeyCount"] == 0
    assert summarize(str(report)).filtered.objects == {"--exclude '*'": 5}
