"""`run --source`: list a bucket or prefix and copy it in one command (SeaweedFS)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from mediasync.cli import main
from mediasync.manifests.reader import read_manifest
from tests.faults.cli import cli_env
from tests.faults.seaweed_access import add_identity
from tests.invariants import assert_invariants, report_rows

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


def _counted_run(s3_server, source: str, destination: str, report, *flags: str) -> dict[str, int]:
    """`run --source` through a proxy that counts the requests it forwards, by operation."""
    from tests.faults.proxy import FaultProxy, FaultRules

    with FaultProxy(s3_server.endpoint_url, FaultRules()) as proxy:
        result = subprocess.run(
            [sys.executable, "-m", "mediasync.cli", "run", "--source", source, "--destination-bucket", destination,
             "--endpoint-url", proxy.endpoint_url, "--report", str(report), *flags],
            env=cli_env(s3_server), capture_output=True, text=True, timeout=600,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return dict(proxy.forwarded)


PER_OBJECT = ("HeadObject", "CopyObject", "GetObject", "GetObjectAttributes")


@pytest.mark.parametrize("server", ["moto_server", "seaweedfs"])
def test_a_first_run_asks_two_requests_per_small_object_and_a_resumed_one_none(request, server, tmp_path):
    """One listing of the destination tells the absent objects, which are copied without
    a HeadObject there first; S3's answer to each CopyObject proves it (moto: its checksum,
    SeaweedFS: its MD5 ETag), so nothing is read back. A resumed run decides from the two
    listings alone: no request for any object, and every object reported as verified."""
    s3_server = request.getfixturevalue(server)
    s3 = s3_server.client()
    s3.create_bucket(Bucket="two-src")
    s3.create_bucket(Bucket="two-dst")
    count = 12
    for n in range(count):
        s3.put_object(Bucket="two-src", Key=f"clips/{n:02d}.mp4", Body=b"x" * (1000 + n))

    first = _counted_run(s3_server, "s3://two-src/clips/", "two-dst", tmp_path / "first.csv")
    per_object = {name: calls for name, calls in first.items() if name in PER_OBJECT}
    assert per_object == {"HeadObject": count, "CopyObject": count}, first
    assert_invariants(s3, tmp_path / "first.manifest.csv", tmp_path / "first.csv", "two-dst")

    second = _counted_run(s3_server, "s3://two-src/clips/", "two-dst", tmp_path / "second.csv")
    assert not {name for name in second if name in PER_OBJECT}, second
    rows = assert_invariants(s3, tmp_path / "second.manifest.csv", tmp_path / "second.csv", "two-dst")
    assert len(rows) == count
    assert all("verified by listing-etag" in row["ResultMessage"] and "not copied again" in row["ResultMessage"]
               for row in rows), rows


@pytest.mark.parametrize("server", ["moto_server", "seaweedfs"])
def test_the_sync_plan_copies_what_differs_checks_what_the_listings_cannot_settle_and_leaves_the_rest(
        request, server, tmp_path):
    """Each case of manifests.sync_plan.decide, on a real server, seen in the requests
    made and in the report: absent and resized objects are copied without a look at the
    destination; an object of the same size with another ETag, and one whose source was
    rewritten (same bytes) after its copy, are checked object by object: the first is
    copied again, the second proved by its ETag and left; the rest cost no request."""
    s3_server = request.getfixturevalue(server)
    s3 = s3_server.client()
    s3.create_bucket(Bucket="plan-src")
    s3.create_bucket(Bucket="plan-dst")
    bodies = {f"media/{name}.mov": name.encode() * 500 for name in ("absent", "resized", "changed", "rewritten", "same")}
    for key, body in bodies.items():
        s3.put_object(Bucket="plan-src", Key=key, Body=body, ContentType="video/quicktime")
    _counted_run(s3_server, "s3://plan-src/media/", "plan-dst", tmp_path / "first.csv")
    s3.delete_object(Bucket="plan-dst", Key="media/absent.mov")
    s3.put_object(Bucket="plan-dst", Key="media/resized.mov", Body=b"short")
    changed = bytearray(bodies["media/changed.mov"])
    changed[0] ^= 1
    s3.put_object(Bucket="plan-dst", Key="media/changed.mov", Body=bytes(changed), ContentType="video/quicktime")
    time.sleep(1.1)  # LastModified has a resolution of one second on some servers
    s3.copy_object(Bucket="plan-src", Key="media/rewritten.mov", MetadataDirective="REPLACE",
                   CopySource={"Bucket": "plan-src", "Key": "media/rewritten.mov"}, ContentType="video/quicktime")

    counted = _counted_run(s3_server, "s3://plan-src/media/", "plan-dst", tmp_path / "second.csv")
    # Inspect HEADs the 4 sources it copies or checks; the skip-existing check HEADs the 2 checked destinations.
    assert counted.get("HeadObject") == 4 + 2, counted
    assert counted.get("CopyObject") == 3, counted
    rows = assert_invariants(s3, tmp_path / "second.manifest.csv", tmp_path / "second.csv", "plan-dst")
    outcome = {row["Key"]: "left" if "not copied again" in row["ResultMessage"] else "copied" for row in rows}
    assert outcome == {"media/absent.mov": "copied", "media/resized.mov": "copied", "media/changed.mov": "copied",
                       "media/rewritten.mov": "left", "media/same.mov": "left"}, rows
    messages = {row["Key"]: row["ResultMessage"] for row in rows}
    assert "verified by listing-etag" in messages["media/same.mov"]
    assert "verified by listing-etag" not in messages["media/rewritten.mov"]


def test_no_sync_plan_checks_every_present_object_alone(moto_server, tmp_path):
    s3 = moto_server.client()
    s3.create_bucket(Bucket="full-src")
    s3.create_bucket(Bucket="full-dst")
    for n in range(3):
        s3.put_object(Bucket="full-src", Key=f"a/{n}.mp4", Body=b"y" * (10 + n))
    _counted_run(moto_server, "s3://full-src/a/", "full-dst", tmp_path / "first.csv")
    counted = _counted_run(moto_server, "s3://full-src/a/", "full-dst", tmp_path / "second.csv", "--no-sync-plan")
    assert counted.get("HeadObject") == 3 + 3 and not counted.get("CopyObject"), counted
    rows = assert_invariants(s3, tmp_path / "second.manifest.csv", tmp_path / "second.csv", "full-dst")
    assert all("not copied again" in row["ResultMessage"] and "listing-etag" not in row["ResultMessage"]
               for row in rows), rows


def test_a_destination_that_cannot_be_listed_is_checked_object_by_object(seaweedfs, tmp_path_factory, tmp_path):
    """No plan without the destination's listing (an identity that may write there but
    not list it): the run says so and goes on, each object checked as without a plan."""
    s3 = seaweedfs.client()
    for bucket in ("unlisted-src", "unlisted-dst"):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket="unlisted-src", Key="a.mp4", Body=b"z" * 10)
    copier = add_identity(seaweedfs, tmp_path_factory.getbasetemp(), "nolist",
                          ["Read:unlisted-src", "List:unlisted-src", "Tagging:unlisted-src",
                           "Read:unlisted-dst", "Write:unlisted-dst", "Tagging:unlisted-dst"])
    report = tmp_path / "report.csv"
    result = subprocess.run(
        [sys.executable, "-m", "mediasync.cli", "run", "--source", "s3://unlisted-src/",
         "--destination-bucket", "unlisted-dst", "--endpoint-url", seaweedfs.endpoint_url,
         "--report", str(report)],
        env=cli_env(copier), capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "could not list the destination" in " ".join(result.stderr.split())
    rows = report_rows(report)
    assert [(row["Key"], row["TaskStatus"]) for row in rows] == [("a.mp4", "succeeded")], rows
