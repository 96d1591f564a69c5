"""`mediasync plan` over S3 Inventory reports: the three manifests, the time the plan is
true as of, and bad input refused in one line with nothing written."""

from __future__ import annotations

import datetime
import gzip
import json
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner
from moto import mock_aws

from mediasync.cli import main
from mediasync.core import clients
from mediasync.manifests.reader import read_manifest
from mediasync.testing.inventory_reports import REPORT_TIME, InventoryRow, write_inventory_report

EARLY = REPORT_TIME - datetime.timedelta(days=2)
SOURCE = [InventoryRow("in/absent.mov", 300), InventoryRow("in/resized.mov", 300), InventoryRow("in/changed.mov", 300),
          InventoryRow("in/same.mov", 300, last_modified=EARLY), InventoryRow("in/sub/a b+c.mov", 10)]
DESTINATION = [InventoryRow("out/resized.mov", 1), InventoryRow("out/changed.mov", 300, etag="other"),
               InventoryRow("out/same.mov", 300), InventoryRow("elsewhere.mov", 5)]


def reports(tmp_path: Path, *, destination_created: datetime.datetime = REPORT_TIME) -> tuple[Path, Path]:
    return (write_inventory_report(tmp_path / "inv-src", "media", SOURCE),
            write_inventory_report(tmp_path / "inv-dst", "archive", DESTINATION, created=destination_created))


def plan(*args: str):
    return CliRunner().invoke(main, ["plan", *args])


def test_two_reports_give_the_three_manifests_the_time_they_are_true_as_of_and_the_jobs(tmp_path):
    source, destination = reports(tmp_path, destination_created=REPORT_TIME - datetime.timedelta(hours=2))
    output = tmp_path / "plan" / "sync.csv"

    result = plan("--source-inventory", str(source), "--destination-inventory", str(destination),
                  "--strip-prefix", "in/", "--destination-prefix", "out/", "--output", str(output))

    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert ("sync plan: 3 to copy, 610 B (2 absent at the destination, 1 size differs); 1 to check object by object, "
            "300 B (1 same size, ETag differs); 1 left out, 300 B (1 same size and ETag, destination no older)") in text
    # The older report says when the plan is true; the destination bucket is the one its report lists.
    assert "true as of 2026-12-05 23:00 UTC (the destination's report)" in text
    assert ("mediasync submit --manifest " + str(output) + " --destination-bucket archive --destination-prefix out/ "
            "--strip-prefix in/ --no-skip-existing") in text
    assert "warning" not in result.stderr
    plans = {name: sorted(row.key for row in read_manifest(output.parent / name))
             for name in ("sync.csv", "sync.check.csv", "sync.same.csv")}
    assert plans["sync.csv"] == ["in/absent.mov", "in/resized.mov", "in/sub/a b+c.mov"]
    assert plans["sync.check.csv"] == ["in/changed.mov"] and plans["sync.same.csv"] == ["in/same.mov"]
    assert sorted(path.name for path in output.parent.iterdir()) == ["sync.check.csv", "sync.csv", "sync.same.csv"]


def test_a_moving_plan_prints_jobs_that_move_and_one_that_moves_what_it_left_out(tmp_path, monkeypatch):
    source, destination = reports(tmp_path)
    monkeypatch.chdir(tmp_path)  # short paths: rich does not wrap them
    output = Path("plan") / "sync.csv"

    result = plan("--source-inventory", str(source), "--destination-inventory", str(destination),
                  "--strip-prefix", "in/", "--destination-prefix", "out/", "--output", str(output), "--move")

    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    commands = [f"mediasync submit{command}" for command in text.split("mediasync submit")[1:]]
    assert [command.split(" --manifest ")[1].split()[0] for command in commands] == [
        str(output), str(output.parent / "sync.check.csv"), str(output.parent / "sync.same.csv")]
    assert all(" --move " in command for command in commands)
    assert " --no-skip-existing " not in commands[2], "the left-out objects' tasks prove them before deleting"
    assert f"already copied, moved by the last job: {output.parent / 'sync.same.csv'}" in text


def test_reports_days_apart_are_warned_of(tmp_path):
    source, destination = reports(tmp_path, destination_created=REPORT_TIME - datetime.timedelta(days=3))

    result = plan("--source-inventory", str(source), "--destination-inventory", str(destination),
                  "--strip-prefix", "in/", "--destination-prefix", "out/", "--output", str(tmp_path / "p.csv"))

    assert result.exit_code == 0, result.output
    warning = " ".join(result.stderr.split())
    assert "warning: the two sides are 72 hours apart" in warning and "seen only on the source's side" in warning


def _nothing_written(folder: Path) -> bool:
    return not list(folder.glob("p*"))


@pytest.mark.parametrize("change, message", [
    (lambda src, dst: ["--source-inventory", str(src.parent / "missing.json")], "cannot read manifest"),
    (lambda src, dst: ["--source-inventory", str(_orc(src))], "ORC inventory, which DuckDB does not read here"),
    (lambda src, dst: ["--source-inventory", str(_corrupt(src))], "the inventory data could not be read, no manifest written: IO Error: Input is not a GZIP stream"),
    (lambda src, dst: ["--source-inventory", str(_wrong_md5(src))], "does not match the MD5"),
    (lambda src, dst: ["--source-inventory", str(src), "--destination-inventory", str(dst), "--destination-bucket",
                       "other"], "--destination-bucket other is not the bucket"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, change, message):
    source, destination = reports(tmp_path)
    args = change(source, destination)
    if "--destination-inventory" not in args:
        args += ["--destination-inventory", str(destination)]

    result = plan(*args, "--output", str(tmp_path / "p.csv"))

    assert result.exit_code == 2, result.output
    assert message in " ".join(result.stderr.split()), result.stderr
    assert result.stderr.count("error:") == 1
    assert _nothing_written(tmp_path), list(tmp_path.iterdir())


def _orc(manifest: Path) -> Path:
    document = json.loads(manifest.read_text())
    document.update(fileFormat="ORC", fileSchema="struct<bucket:string,key:string,size:bigint>")
    manifest.write_text(json.dumps(document))
    return manifest


def _corrupt(manifest: Path) -> Path:
    document = json.loads(manifest.read_text())
    data = manifest.parent.parent / "data" / document["files"][0]["key"].rsplit("/", 1)[-1]
    data.write_bytes(b"not gzip at all")
    document["files"][0].pop("MD5checksum")
    manifest.write_text(json.dumps(document))
    return manifest


def _wrong_md5(manifest: Path) -> Path:
    document = json.loads(manifest.read_text())
    document["files"][0]["MD5checksum"] = "0" * 32
    manifest.write_text(json.dumps(document))
    return manifest


@pytest.mark.parametrize("args, message", [
    (["--destination-bucket", "b", "--output", "p.csv"], "give the source"),
    (["--source", "s3://a/", "--source-inventory", "m.json", "--destination-bucket", "b", "--output", "p.csv"],
     "give the source"),
    (["--source", "s3://a/", "--output", "p.csv"], "give the destination"),
    (["--source", "a/b", "--destination-bucket", "b", "--output", "p.csv"], "is not an s3://BUCKET[/PREFIX] URL"),
    (["--source", "s3://a/", "--source-prefix", "x/", "--destination-bucket", "b", "--output", "p.csv"],
     "--source-prefix narrows --source-inventory"),
])
def test_usage_errors_name_what_is_missing(args, message):
    result = plan(*args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())


@mock_aws
def test_reports_in_s3_are_read_from_s3_and_the_plan_streams_to_s3(tmp_path):
    """Data files not on disk are downloaded (MD5 checked) before DuckDB reads them."""
    clients.CLIENTS.reset()
    s3 = boto3.client("s3", region_name="us-east-1")
    for bucket in ("inventory", "jobs"):
        s3.create_bucket(Bucket=bucket)
    urls = []
    for manifest in reports(tmp_path):
        document = json.loads(manifest.read_text())
        for item in document["files"]:
            body = (manifest.parent.parent / "data" / item["key"].rsplit("/", 1)[-1]).read_bytes()
            assert gzip.decompress(body)
            s3.put_object(Bucket="inventory", Key=item["key"], Body=body)
        key = f"{document['sourceBucket']}/all/2026-12-06T01-00Z/manifest.json"
        s3.put_object(Bucket="inventory", Key=key, Body=manifest.read_bytes())
        urls.append(f"s3://inventory/{key}")
    try:
        result = plan("--source-inventory", urls[0], "--destination-inventory", urls[1], "--strip-prefix", "in/",
                      "--destination-prefix", "out/", "--output", "s3://jobs/plan/sync.csv")
    finally:
        clients.CLIENTS.reset()

    assert result.exit_code == 0, result.output
    copies = s3.get_object(Bucket="jobs", Key="plan/sync.csv")["Body"].read().decode()
    assert sorted(copies.splitlines()) == ["media,in/absent.mov", "media,in/resized.mov", "media,in/sub/a+b%2Bc.mov"]
    assert s3.get_object(Bucket="jobs", Key="plan/sync.same.csv")["Body"].read() == b"media,in/same.mov\n"


@mock_aws
def test_a_listed_source_against_a_destination_report_compares_etags_without_their_quotes(tmp_path):
    """A listing quotes ETags and an inventory does not: the same content is the same."""
    clients.CLIENTS.reset()
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="media")
    etags = {key: s3.put_object(Bucket="media", Key=key, Body=body)["ETag"].strip('"')
             for key, body in (("in/same.mov", b"s" * 300), ("in/changed.mov", b"c" * 300), ("in/new.mov", b"n"))}
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    destination = write_inventory_report(tmp_path / "inv-dst", "archive", [
        InventoryRow("out/same.mov", 300, etags["in/same.mov"], later),
        InventoryRow("out/changed.mov", 300, "0" * 32, later)], created=later)
    output = tmp_path / "p.csv"
    try:
        result = plan("--source", "s3://media/in/", "--destination-inventory", str(destination), "--strip-prefix",
                      "in/", "--destination-prefix", "out/", "--output", str(output))
    finally:
        clients.CLIENTS.reset()

    assert result.exit_code == 0, result.output
    assert [row.key for row in read_manifest(output)] == ["in/new.mov"]
    assert [row.key for row in read_manifest(tmp_path / "p.check.csv")] == ["in/changed.mov"]
    assert [row.key for row in read_manifest(tmp_path / "p.same.csv")] == ["in/same.mov"]
    assert "(the source's listing)" in " ".join(result.stdout.split())


def test_a_memory_limit_that_is_not_a_size_is_refused():
    result = plan("--source", "s3://a/", "--destination-bucket", "b", "--output", "p.csv", "--memory-limit", "lots")
    assert result.exit_code == 2 and "'lots' is not a size such as 600MB or 2GB" in result.output


def test_a_filters_brackets_are_shown_not_read_as_markup():
    """`--exclude '[ab]*'` is a glob; rich would take '[ab]' for a style and drop it."""
    from rich.console import Console

    from mediasync.cli.plan import describe_plan
    from mediasync.manifests.listing import Listed
    from mediasync.manifests.sync_plan import SyncCounts

    counts = SyncCounts()
    counts.add_left_out(Listed("media", "a.mov", 4), "--exclude '[ab]*'")
    console = Console(record=True, width=200)
    console.print(describe_plan(counts))

    assert "1 --exclude '[ab]*'" in console.export_text()
