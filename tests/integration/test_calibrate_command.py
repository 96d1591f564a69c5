"""``mediasync calibrate`` end to end on moto's S3 server, sizes scaled down, and
``mediasync estimate --rates`` reading what it wrote."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from mediasync.cli import calibrate as calibrate_module
from mediasync.cli.calibrate import calibrate
from mediasync.cli.estimate import estimate
from mediasync.core.settings import MiB
from mediasync.model.rates import load_rates

SMALL = ["--sizes", "5MiB,6MiB", "--copy-object-sizes", "1MiB,2MiB", "--concurrency", "2,4", "--repeats", "2",
         "--head-repeats", "3"]


def env(server) -> dict[str, str | None]:
    return {"AWS_ACCESS_KEY_ID": server.access_key, "AWS_SECRET_ACCESS_KEY": server.secret_key,
            "AWS_DEFAULT_REGION": server.region, "AWS_PROFILE": None, "MEDIASYNC_S3_ENDPOINT_URL": None}


@pytest.fixture
def scratch(moto_server, request):
    s3 = moto_server.client()
    bucket = f"calibrate-{request.node.name[-20:].lower().replace('_', '-')}".rstrip("-")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="keep/me.mov", Body=b"the user's own object")
    return moto_server, s3, bucket


def run(server, bucket, *args, input=None):
    return CliRunner().invoke(calibrate, ["--bucket", bucket, "--endpoint-url", server.endpoint_url, *SMALL, *args],
                              env=env(server), input=input, catch_exceptions=False)


def left_behind(s3, bucket) -> tuple[list[str], list[str]]:
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    uploads = [upload["Key"] for upload in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]
    return keys, uploads


def test_calibrate_measures_fits_writes_rates_and_leaves_nothing_behind(scratch, tmp_path):
    server, s3, bucket = scratch
    rates_path = tmp_path / "rates.json"
    result = run(server, bucket, "--yes", "--output", str(rates_path))
    assert result.exit_code == 0, result.output
    assert "expected cost" in result.output and "removed every scratch object" in result.output
    assert left_behind(s3, bucket) == (["keep/me.mov"], [])

    rates, document = load_rates(rates_path)
    samples = document["samples"]

    def count(api: str, concurrency: int = 1) -> int:
        return sum(1 for s in samples if s["api"] == api and s["concurrency"] == concurrency)

    assert count("UploadPartCopy") == 2 * 2  # two sizes, twice each
    assert {s["bytes"] for s in samples if s["api"] == "UploadPartCopy" and s["concurrency"] == 1} == {5 * MiB, 6 * MiB}
    assert count("UploadPartCopy", 2) == 2 and count("UploadPartCopy", 4) == 4
    assert count("CopyObject") == 2 * 2 and count("HeadObject") == 3
    assert sorted(s["parts"] for s in samples if s["api"] == "CompleteMultipartUpload") == [2, 4]
    assert [run_["requests"] for run_ in document["concurrency"]] == [2, 4]
    assert document["measured"]["plan"]["source_size"] == 10 * MiB  # 5 MiB seed, doubled once
    assert set(document["rates"]) >= {"api_latency", "complete_seconds_per_part"}
    # moto copies at memory speed: 5 and 6 MiB may time alike. Then the file says so and keeps the defaults.
    if "copy_bytes_per_second" in document["rates"]:
        assert document["rates"]["copy_bytes_per_second"] == rates.copy_bytes_per_second > 0
    else:
        assert "not fitted" in document["warnings"][0]


def test_estimate_uses_the_rates_file_calibrate_wrote(scratch, tmp_path):
    server, s3, bucket = scratch
    rates_path = tmp_path / "rates.json"
    assert run(server, bucket, "--yes", "--output", str(rates_path)).exit_code == 0
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(f"{bucket},keep/me.mov\n", encoding="utf-8")
    report = tmp_path / "estimate.json"
    result = CliRunner().invoke(estimate, ["--manifest", str(manifest), "--endpoint-url", server.endpoint_url,
                                           "--rates", str(rates_path), "--region", "ap-southeast-2",
                                           "--json", str(report)], env=env(server), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "ASSUMED: S3 Batch Operations" in result.output
    document = json.loads(report.read_text())
    assert document["rates_source"].startswith(f"{rates_path}, measured ")
    measured = json.loads(rates_path.read_text())["rates"]
    for name, value in measured.items():
        assert document["rates"][name] == pytest.approx(value), name
    assert document["region"] == "ap-southeast-2" and document["quotas"]["state_transitions_per_second"] == 500
    assert any("ap-southeast-2" in note for note in document["assumptions"])


def test_an_interrupted_calibration_still_removes_everything(scratch, tmp_path, monkeypatch):
    server, s3, bucket = scratch

    def interrupted(scratch_, source, plan, tick):
        # The Ctrl-C lands with an upload open and parts copied into it.
        key, upload_id = scratch_.create_upload("concurrent-interrupted")
        calibrate_module._copy_range(scratch_, key, upload_id, 1, source, 0, 5 * MiB)
        raise KeyboardInterrupt

    monkeypatch.setattr(calibrate_module, "measure_concurrency", interrupted)
    result = run(server, bucket, "--yes", "--output", str(tmp_path / "rates.json"))
    assert result.exit_code == 1
    assert "interrupted" in result.output
    assert left_behind(s3, bucket) == (["keep/me.mov"], [])
    assert not (tmp_path / "rates.json").exists()


def test_an_upload_whose_id_was_lost_is_found_and_aborted(scratch, tmp_path, monkeypatch):
    server, s3, bucket = scratch

    def lost(scratch_, plan, tick):
        # CreateMultipartUpload reached S3 but its answer never reached us.
        s3.create_multipart_upload(Bucket=bucket, Key=scratch_.key("lost"))
        raise calibrate_module.CalibrationError("connection reset")

    monkeypatch.setattr(calibrate_module, "measure_copy_objects", lost)
    result = run(server, bucket, "--yes", "--output", str(tmp_path / "rates.json"))
    assert result.exit_code == 1 and "connection reset" in result.output
    assert left_behind(s3, bucket) == (["keep/me.mov"], [])


def test_calibrate_asks_before_it_starts_and_writes_nothing_when_told_no(scratch, tmp_path):
    server, s3, bucket = scratch
    result = run(server, bucket, "--output", str(tmp_path / "rates.json"), input="n\n")
    assert result.exit_code == 1  # click's Abort
    assert "expected cost" in result.output and "Start?" in result.output
    assert left_behind(s3, bucket) == (["keep/me.mov"], [])


@pytest.mark.parametrize("args,message", [
    (["--sizes", "6GiB"], "5.0 GiB"),
    (["--concurrency", "0"], "1 to 10,000"),
    (["--concurrent-part-size", "1MiB"], "5.0 MiB"),
])
def test_sizes_s3_would_refuse_are_usage_errors(args, message):
    result = CliRunner().invoke(calibrate, ["--bucket", "b", "--yes", *args])
    assert result.exit_code == 2 and message in result.output


def test_a_missing_bucket_is_a_usage_error(moto_server, tmp_path):
    result = run(moto_server, "no-such-bucket", "--yes", "--output", str(tmp_path / "rates.json"))
    assert result.exit_code == 2 and "cannot use bucket no-such-bucket" in result.output


def test_estimate_refuses_a_rates_file_it_cannot_use(tmp_path):
    bad = tmp_path / "rates.json"
    bad.write_text(json.dumps({"format": "mediasync-rates/1", "rates": {"copy_speed": 1}}), encoding="utf-8")
    manifest = tmp_path / "m.csv"
    manifest.write_text("b,k\n", encoding="utf-8")
    result = CliRunner().invoke(estimate, ["--manifest", str(manifest), "--rates", str(bad)])
    assert result.exit_code == 2 and "unknown rate" in result.output
