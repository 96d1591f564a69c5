"""AccessDenied enforced by a real server (SeaweedFS identities): a per-object failure naming the side."""

from __future__ import annotations

from mediasync.core.settings import CopyOptions, MiB
from mediasync.local.runner import JobRequest, run_job
from mediasync.local.runtime import LocalRuntime
from mediasync.manifests.reader import read_manifest
from mediasync.manifests.s3batch_csv import format_row
from tests.conftest import put_multipart
from tests.faults.seaweed_access import add_identity
from tests.invariants import assert_invariants

# The copier may read acl-src and write acl-dst; acl-secret and acl-locked are someone else's.
ACTIONS = [f"{action}:{bucket}" for bucket in ("acl-src", "acl-dst") for action in ("Read", "List", "Tagging")]
ACTIONS.append("Write:acl-dst")


def test_access_denied_on_source_or_destination_fails_that_object_naming_the_side(seaweedfs, tmp_path_factory,
                                                                                   tmp_path):
    admin = seaweedfs.client()
    for bucket in ("acl-src", "acl-secret", "acl-dst", "acl-locked"):
        admin.create_bucket(Bucket=bucket)
    admin.put_object(Bucket="acl-src", Key="ok.mov", Body=b"readable", Metadata={"a": "1"})
    admin.put_object(Bucket="acl-secret", Key="hidden.mov", Body=b"not for us")
    put_multipart(admin, "acl-src", "big.mov", 2 * 5 * MiB + 1, 5 * MiB)
    copier = add_identity(seaweedfs, tmp_path_factory.getbasetemp(), "copier", ACTIONS)

    to_dst = tmp_path / "to-dst.csv"
    to_dst.write_text(format_row("acl-src", "ok.mov") + format_row("acl-secret", "hidden.mov"), encoding="utf-8")
    to_locked = tmp_path / "to-locked.csv"
    to_locked.write_text(format_row("acl-src", "ok.mov") + format_row("acl-src", "big.mov"), encoding="utf-8")
    credentials = {"aws_access_key_id": copier.access_key, "aws_secret_access_key": copier.secret_key}
    with LocalRuntime(s3_endpoint_url=seaweedfs.endpoint_url, s3_credentials=credentials) as runtime:
        for manifest, destination in ((to_dst, "acl-dst"), (to_locked, "acl-locked")):
            options = CopyOptions(destination_bucket=destination, multipart_threshold=8 * MiB, part_size=5 * MiB)
            run_job(runtime, read_manifest(manifest), JobRequest(options, tmp_path / f"{destination}.csv", 2))

    reported = assert_invariants(admin, to_dst, tmp_path / "acl-dst.csv", "acl-dst")
    rows = {(row["Bucket"], row["Key"]): row for row in reported}
    assert rows["acl-src", "ok.mov"]["TaskStatus"] == "succeeded", rows
    denied = rows["acl-secret", "hidden.mov"]
    assert (denied["TaskStatus"], denied["ErrorCode"], denied["HTTPStatusCode"]) == ("failed", "AccessDenied", "403")
    assert "access denied to source s3://acl-secret/hidden.mov" in denied["ResultMessage"], denied

    rows = assert_invariants(admin, to_locked, tmp_path / "acl-locked.csv", "acl-locked")
    assert sorted((row["Key"], row["ErrorCode"]) for row in rows) == [("big.mov", "AccessDenied"),
                                                                      ("ok.mov", "AccessDenied")]
    for row in rows:
        assert f"access denied to destination s3://acl-locked/{row['Key']}" in row["ResultMessage"], row
    for report in ("acl-dst.csv", "acl-locked.csv"):
        assert copier.secret_key not in (tmp_path / report).read_text()
