"""`plan --athena-workgroup`: the sync plan made in Athena, against moto's Athena.

moto's Athena accepts queries and walks them to SUCCEEDED; tests/athena_emulation.py
makes it run each text in DuckDB over moto's S3, so the queries MediaSync sends are
executed, not only recorded: the plan it writes must equal the one DuckDB makes here
from the same reports, and the join is the very SQL text the local engine runs.
"""

from __future__ import annotations

import boto3
import pytest
from click.testing import CliRunner
from moto import mock_aws
from moto.athena.models import athena_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_api import state_manager

from mediasync.cli import main
from mediasync.core import clients
from mediasync.manifests.inventory_report import FORMATS, load_inventory_manifest, read_inventory_manifest
from mediasync.manifests.sync_plan import CHECK, COPY, SAME, Destination
from mediasync.manifests.sync_sql import SideSchema, objects_sql, plan_sql
from mediasync.stack.athena_plan import AthenaPlace, AthenaPlanError, run_query
from mediasync.testing.inventory_reports import InventoryRow, write_inventory_report
from tests.athena_emulation import install, speak_json_to_moto
from tests.unit.test_sync_sql import run_plan

SOURCE = [InventoryRow("in/absent.mov", 300), InventoryRow("in/resized.mov", 300),
          InventoryRow("in/changed.mov", 300, etag="aa"), InventoryRow("in/same.mov", 300),
          InventoryRow("in/a b+c=é.mov", 10), InventoryRow("in/old.mov", 9, version_id="v1", is_latest=False)]
DESTINATION = [InventoryRow("out/resized.mov", 1), InventoryRow("out/changed.mov", 300, etag="bb"),
               InventoryRow("out/same.mov", 300), InventoryRow("out/a b+c=é.mov", 10)]
TARGET = Destination("archive", "out/", "in/")


def upload_report(s3, tmp_path, bucket: str, rows, file_format: str) -> str:
    """A report written as S3 Inventory writes it, uploaded into the inventory bucket."""
    manifest = write_inventory_report(tmp_path / bucket, bucket, rows, file_format=file_format)
    for path in (tmp_path / bucket / "data").iterdir():
        s3.put_object(Bucket="inventory", Key=f"{bucket}/all/data/{path.name}", Body=path.read_bytes())
    key = f"{bucket}/all/{manifest.parent.name}/manifest.json"
    s3.put_object(Bucket="inventory", Key=key, Body=manifest.read_bytes())
    return f"s3://inventory/{key}"


@pytest.fixture
def aws(monkeypatch):
    with mock_aws():
        clients.CLIENTS.reset()
        s3 = boto3.client("s3", region_name="us-east-1")
        for bucket in ("inventory", "jobs"):
            s3.create_bucket(Bucket=bucket)
        emulation = install(monkeypatch, s3)
        yield s3, emulation
        emulation.close()
        clients.CLIENTS.reset()


@pytest.mark.parametrize("file_format", ["CSV", "PARQUET"])
def test_the_plan_made_in_athena_is_the_plan_made_here(aws, tmp_path, file_format):
    s3, emulation = aws
    source = upload_report(s3, tmp_path, "media", SOURCE, file_format)
    destination = upload_report(s3, tmp_path, "archive", DESTINATION, file_format)

    result = CliRunner().invoke(main, [
        "plan", "--source-inventory", source, "--destination-inventory", destination, "--strip-prefix", "in/",
        "--destination-prefix", "out/", "--athena-workgroup", "primary", "--output", "s3://jobs/plan/sync.json"])

    assert result.exit_code == 0, result.output
    _, here = run_plan(tmp_path / "here", SOURCE, DESTINATION, TARGET, file_format=file_format, source_bucket="media")
    in_athena = {action: sorted((row.bucket, row.key, row.version_id)
                                for row in read_inventory_manifest(f"s3://jobs/plan/{name}", s3))
                 for action, name in ((COPY, "sync.json"), (CHECK, "sync.check.json"), (SAME, "sync.same.json"))}
    assert in_athena == {action: sorted(rows) for action, rows in here.items()}
    assert in_athena[SAME] == [("media", "in/a b+c=é.mov", None), ("media", "in/same.mov", None)]
    text = " ".join(result.stdout.split())
    assert "sync plan: 2 to copy, 600 B (1 absent at the destination, 1 size differs); 1 to check" in text
    assert "mediasync submit --manifest s3://jobs/plan/sync.json --destination-bucket archive" in text
    assert "Athena scanned" in text and "in 3 billed queries" in text

    # The join Athena ran is the text DuckDB runs here, over the two tables.
    queries = emulation.queries
    assert [query.split(" (")[0].split(" `")[0].split(' "')[0] for query in queries] == [
        "CREATE DATABASE IF NOT EXISTS", "CREATE EXTERNAL TABLE", "CREATE EXTERNAL TABLE", "CREATE TABLE", "UNLOAD",
        "SELECT action, reason, count(*) AS objects, coalesce(sum(size), 0) AS bytes FROM", "DROP TABLE IF EXISTS",
        "DROP TABLE IF EXISTS", "DROP TABLE IF EXISTS"]
    run = queries[1].split("`")[3].removesuffix("_source")
    schemas = {name: load_inventory_manifest(url, s3, formats=FORMATS) for name, url in
               (("source", source), ("destination", destination))}
    joined = plan_sql(*(objects_sql(f'"mediasync"."{run}_{name}"',
                                    SideSchema(schemas[name].file_format, schemas[name].field_names))
                        for name in ("source", "destination")), TARGET)
    assert queries[3].endswith(" AS " + joined)


def test_every_query_runs_in_the_workgroup_and_database_with_results_beside_the_output(aws, tmp_path):
    s3, _ = aws
    source = upload_report(s3, tmp_path, "media", SOURCE, "CSV")
    destination = upload_report(s3, tmp_path, "archive", DESTINATION, "CSV")
    athena = boto3.client("athena", region_name="us-east-1")
    athena.create_work_group(Name="plans", Configuration={})

    result = CliRunner().invoke(main, [
        "plan", "--source-inventory", source, "--destination-inventory", destination, "--athena-workgroup", "plans",
        "--athena-database", "sync_plans", "--output", "s3://jobs/plans/today.json"])

    assert result.exit_code == 0, result.output
    executions = athena_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].executions.values()
    assert len(executions) == 9
    assert {execution.workgroup.name for execution in executions} == {"plans"}
    assert {execution.context["Database"] for execution in executions} == {"sync_plans"}
    assert all(execution.config["OutputLocation"].startswith("s3://jobs/plans/athena/") for execution in executions)
    # The run's files (symlinks, decided table, manifest lines) live under the results folder.
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket="jobs", Prefix="plans/athena/")["Contents"]]
    assert any(key.endswith("/source/symlink.txt") for key in keys)
    assert any("/manifests/action=copy/" in key for key in keys)


def test_polling_backs_off_until_the_query_ends(monkeypatch):
    speak_json_to_moto(monkeypatch)
    with mock_aws():
        state_manager.set_transition(model_name="athena::execution", transition={"progression": "manual", "times": 4})
        try:
            athena = boto3.client("athena", region_name="us-east-1")
            waits: list[float] = []
            execution = run_query(athena, "SELECT 1", AthenaPlace("primary", "mediasync", "s3://jobs/athena/"),
                                  sleep=waits.append)
        finally:
            state_manager.unset_transition(model_name="athena::execution")
    assert execution["Status"]["State"] == "SUCCEEDED"
    # QUEUED and RUNNING each last four polls: the waits double, then stay at 5 s.
    assert waits == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0]


class FailingAthena:
    def start_query_execution(self, **request):
        self.request = request
        return {"QueryExecutionId": "q-1"}

    def get_query_execution(self, QueryExecutionId):
        return {"QueryExecution": {"QueryExecutionId": QueryExecutionId, "Status": {
            "State": "FAILED", "StateChangeReason": "HIVE_BAD_DATA: Error parsing field value"}}}


def test_a_failed_query_says_why():
    with pytest.raises(AthenaPlanError, match="q-1 failed: HIVE_BAD_DATA: Error parsing field value"):
        run_query(FailingAthena(), "SELECT 1", AthenaPlace("primary", "mediasync", "s3://jobs/a/"), sleep=lambda _: None)


def test_a_failed_query_leaves_no_manifest_and_drops_its_tables(aws, tmp_path, monkeypatch):
    s3, emulation = aws
    source = upload_report(s3, tmp_path, "media", SOURCE, "CSV")
    destination = upload_report(s3, tmp_path, "archive", DESTINATION, "CSV")
    import mediasync.stack.athena_plan as athena_plan

    original = athena_plan.run_query

    def failing(athena, sql, place, **kwargs):
        if sql.startswith("UNLOAD"):
            raise AthenaPlanError("Athena query q-9 failed: Access Denied")
        return original(athena, sql, place, **kwargs)

    monkeypatch.setattr(athena_plan, "run_query", failing)
    result = CliRunner().invoke(main, ["plan", "--source-inventory", source, "--destination-inventory", destination,
                                       "--athena-workgroup", "primary", "--output", "s3://jobs/plan/sync.json"])

    assert result.exit_code == 2, result.output
    assert "error: Athena query q-9 failed: Access Denied; no manifest written" in " ".join(result.stderr.split())
    assert not s3.list_objects_v2(Bucket="jobs", Prefix="plan/sync").get("Contents")
    assert [query for query in emulation.queries if query.startswith("DROP TABLE")], emulation.queries


@pytest.mark.parametrize("args, message", [
    (["--source-inventory", "{local}", "--destination-inventory", "{remote}", "--output", "s3://jobs/p.json"],
     "--athena-workgroup plans two S3 Inventory reports where they lie: give --source-inventory s3://"),
    (["--source-inventory", "{remote}", "--destination-inventory", "{remote}", "--output", "s3://jobs/p.csv"],
     "give s3://BUCKET/NAME.json"),
])
def test_athena_needs_reports_in_s3_and_a_json_output(aws, tmp_path, args, message):
    s3, _ = aws
    remote = upload_report(s3, tmp_path, "media", SOURCE, "CSV")
    local = str(write_inventory_report(tmp_path / "local", "media", SOURCE))
    args = [arg.format(local=local, remote=remote) for arg in args]

    result = CliRunner().invoke(main, ["plan", *args, "--athena-workgroup", "primary"])

    assert result.exit_code == 2, result.output
    assert message in " ".join(result.stderr.split())


def test_athena_bills_each_query_at_least_10_mb_rounded_up_to_the_mb():
    from mediasync.model.cost import athena_billed_bytes, athena_dollars

    assert athena_billed_bytes([0, 1, 10_000_001, 2_000_000_000_000]) == 10_000_000 * 2 + 11_000_000 + 2 * 10**12
    assert athena_dollars([10**12]) == pytest.approx(5.00)


def test_estimate_prices_a_plan_in_athena_from_the_manifests_alone(tmp_path):
    from mediasync.model.cost import athena_dollars

    source = write_inventory_report(tmp_path / "s", "media", SOURCE * 50)
    destination = write_inventory_report(tmp_path / "d", "archive", DESTINATION)
    scanned = sum(path.stat().st_size for side in ("s", "d") for path in (tmp_path / side / "data").iterdir())
    for side in ("s", "d"):  # nothing but the manifest.json is read
        for path in (tmp_path / side / "data").iterdir():
            path.unlink()

    result = CliRunner().invoke(main, ["estimate", "--sync-plan-inventories", str(source), str(destination)])

    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert f"the join scans {scanned:,} B" in text or f"the join scans {scanned} B" in text, text
    assert f"about ${athena_dollars([scanned, 10_000_000, 10_000_000]):,.4f} at $5.00 per TB" in text


def test_filters_leave_the_same_objects_out_in_athena_and_here(aws, tmp_path):
    """The filters' SQL runs in Athena's query as in DuckDB's: what they leave out is
    counted by flag and in no manifest."""
    s3, _ = aws
    source = upload_report(s3, tmp_path, "media", SOURCE, "CSV")
    destination = upload_report(s3, tmp_path, "archive", DESTINATION, "CSV")
    filters = ["--exclude", "*é*", "--min-size", "100"]

    result = CliRunner().invoke(main, [
        "plan", "--source-inventory", source, "--destination-inventory", destination, "--strip-prefix", "in/",
        "--destination-prefix", "out/", "--athena-workgroup", "primary", "--output", "s3://jobs/f/sync.json", *filters])
    here = CliRunner().invoke(main, [
        "plan", "--source-inventory", str(tmp_path / "media" / "2026-12-06T01-00Z" / "manifest.json"),
        "--destination-inventory", str(tmp_path / "archive" / "2026-12-06T01-00Z" / "manifest.json"),
        "--strip-prefix", "in/", "--destination-prefix", "out/", "--output", str(tmp_path / "sync.csv"), *filters])

    assert result.exit_code == 0 and here.exit_code == 0, result.output + here.output
    in_athena = sorted(row.key for name in ("sync.json", "sync.check.json", "sync.same.json")
                       for row in read_inventory_manifest(f"s3://jobs/f/{name}", s3))
    assert in_athena == ["in/absent.mov", "in/changed.mov", "in/resized.mov", "in/same.mov"]
    for output in (result.stdout, here.stdout):
        assert "1 left out by the filters, 10 B (1 --exclude '*é*')" in " ".join(output.split()), output
