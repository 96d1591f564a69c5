"""`run --source`: list a bucket or prefix and copy it in one command (SeaweedFS)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from mediasync.cli import main
from mediasync.manifests.reader import read_manifest
from tests.faults.cli import cli_env
from tests.invariants import assert_invariants

KEYS = ["proxies/clip 1+2=3.mp4", "proxies/été 100%.mp4", "proxies/deep/take.mp4", "masters/feature.mov"]


def test_run_source_copies_every_object_under_the_prefix_and_keeps_its_manifest(seaweedfs, tmp_path):
    s3 = seaweedfs.client()
    s3.create_bucket(Bucket="source-src")
    s3.create_bucket(Bucket="source-dst")
    for n, key in enumerate(KEYS):
        s3.put_object(Bucket="source-src", Key=key, Body=b"x" * (100 + n), Metadata={"n": str(n)})
    report = tmp_path / "report.csv"
    result = subprocess.run(
        [sys.executable, "-m", "mediasync.cli", "run", "--source", "s3://source-src/proxies/",
         "--destination-bucket", "source-dst", "--endpoint-url", seaweedfs.endpoint_url, "--report", str(report)],
        env=cli_env(seaweedfs), capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = tmp_path / "report.manifest.csv"
    assert sorted(row.key for row in read_manifest(manifest)) == sorted(key for key in KEYS if key.startswith("proxies/"))
    assert_invariants(s3, manifest, report, "source-dst")


def test_run_source_with_strip_prefix_maps_the_listed_folder_onto_the_destination_prefix(seaweedfs, tmp_path):
    s3 = seaweedfs.client()
    s3.create_bucket(Bucket="strip-src")
    s3.create_bucket(Bucket="strip-dst")
    for n, key in enumerate(KEYS):
        s3.put_object(Bucket="strip-src", Key=key, Body=b"x" * (100 + n))
    report = tmp_path / "report.csv"
    # --requester-pays too: a real S3 server takes RequestPayer on the listing, HEADs and copies.
    result = subprocess.run(
        [sys.executable, "-m", "mediasync.cli", "run", "--source", "s3://strip-src/proxies/",
         "--strip-prefix", "proxies/", "--destination-prefix", "web/", "--requester-pays",
         "--destination-bucket", "strip-dst", "--endpoint-url", seaweedfs.endpoint_url, "--report", str(report)],
        env=cli_env(seaweedfs), capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert_invariants(s3, tmp_path / "report.manifest.csv", report, "strip-dst", prefix="web/", strip="proxies/")
    copied = sorted(item["Key"] for item in s3.list_objects_v2(Bucket="strip-dst")["Contents"])
    assert copied == ["web/clip 1+2=3.mp4", "web/deep/take.mp4", "web/été 100%.mp4"]


@pytest.mark.parametrize("args, message", [
    ([], "--manifest FILE or --source"),
    (["--manifest", "m.csv", "--source", "s3://media/"], "--manifest FILE or --source"),
    (["--source", "s3://media/"], "--source lists a bucket on the server --endpoint-url names"),
    (["--source", "media/masters", "--endpoint-url", "http://127.0.0.1:9"], "is not an s3://BUCKET[/PREFIX] URL"),
])
def test_run_says_what_to_copy_is_missing_or_wrong(tmp_path, args, message):
    result = CliRunner().invoke(main, ["run", "--destination-bucket", "archive", *args])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())


@pytest.mark.parametrize("server", ["moto_server", "seaweedfs"])
def test_a_first_run_asks_two_requests_per_small_object_and_a_resumed_one_copies_nothing(request, server, tmp_path):
    """One listing of the destination tells the absent objects, which are copied without
    a HeadObject there first; S3's answer to each CopyObject proves it (moto: its checksum,
    SeaweedFS: its MD5 ETag), so nothing is read back. A resumed run copies nothing."""
    from tests.faults.proxy import FaultProxy, FaultRules

    s3_server = request.getfixturevalue(server)
    s3 = s3_server.client()
    s3.create_bucket(Bucket="two-src")
    s3.create_bucket(Bucket="two-dst")
    count = 12
    for n in range(count):
        s3.put_object(Bucket="two-src", Key=f"clips/{n:02d}.mp4", Body=b"x" * (1000 + n))

    def run(report):
        with FaultProxy(s3_server.endpoint_url, FaultRules()) as proxy:
            result = subprocess.run(
                [sys.executable, "-m", "mediasync.cli", "run", "--source", "s3://two-src/clips/",
                 "--destination-bucket", "two-dst", "--endpoint-url", proxy.endpoint_url, "--report", str(report)],
                env=cli_env(s3_server), capture_output=True, text=True, timeout=600,
            )
            assert result.returncode == 0, result.stdout + result.stderr
            return dict(proxy.forwarded)

    first = run(tmp_path / "first.csv")
    per_object = {name: calls for name, calls in first.items() if name in ("HeadObject", "CopyObject")}
    assert per_object == {"HeadObject": count, "CopyObject": count}, first
    assert_invariants(s3, tmp_path / "first.manifest.csv", tmp_path / "first.csv", "two-dst")
    second = run(tmp_path / "second.csv")
    assert second.get("CopyObject", 0) == 0, second
    rows = assert_invariants(s3, tmp_path / "second.manifest.csv", tmp_path / "second.csv", "two-dst")
    assert all("not copied again" in row["ResultMessage"] for row in rows)
