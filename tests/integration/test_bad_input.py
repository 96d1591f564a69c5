"""Bad manifests through `mediasync run`, as a user meets them: clear errors, never a traceback."""

from __future__ import annotations

import pytest

from mediasync.manifests.reader import read_manifest
from tests.faults.cli import cli_env, mediasync_run
from tests.invariants import assert_invariants


def one_line(text: str) -> str:
    """rich wraps long messages at the terminal width."""
    return " ".join(text.split())


def test_bad_manifest_rows_each_fail_with_their_line_and_the_job_goes_on(moto_server, tmp_path):
    s3 = moto_server.client()
    s3.create_bucket(Bucket="bad-src")
    s3.create_bucket(Bucket="bad-dst")
    for key in ("good.mov", "crlf.mov"):
        s3.put_object(Bucket="bad-src", Key=key, Body=key.encode())
    manifest = tmp_path / "manifest.csv"
    manifest.write_bytes(
        "\ufeffbad-src,good.mov\n"  # a BOM before the first row
        "\n"
        "bad-src\n"  # line 3: one column
        "bad-src,a.mov,,extra\n"  # line 4: four columns
        "bad-src,bad%zz.mov\n"  # line 5: invalid URL encoding
        "bad-src,%E9t%E9.mov\n"  # line 6: escapes that are not UTF-8
        "Bad Bucket!,x.mov\n"  # line 7: a bucket name that cannot exist
        "ab,x.mov\n".encode()  # line 8: too short for a bucket
        + b"bad-src,caf\xe9.mov\n"  # line 9: Latin-1, not UTF-8
        + b"   \n"
        + b"bad-src,crlf.mov\r\n"
    )
    result = mediasync_run(moto_server, manifest, "bad-dst", tmp_path / "report.csv", moto_server.endpoint_url)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr

    rows = assert_invariants(s3, manifest, tmp_path / "report.csv", "bad-dst")
    assert len(rows) == 9
    by_row = {(row["Bucket"], row["Key"]): (row["TaskStatus"], row["ErrorCode"], row["ResultMessage"]) for row in rows}
    status = {row.line: by_row[row.bucket, row.raw_key] for row in read_manifest(manifest)}
    assert status[1][:2] == status[11][:2] == ("succeeded", "")
    reasons = {3: "found 1", 4: "found 4", 5: "not valid URL encoding", 6: "not valid URL encoding",
               7: "not a valid bucket name", 8: "not a valid bucket name", 9: "not a UTF-8 text line"}
    for line, reason in reasons.items():
        task_status, code, message = status[line]
        assert (task_status, code) == ("failed", "InvalidManifestRow"), status[line]
        assert message.startswith(f"manifest line {line}: ") and reason in message, status[line]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("movie.mov", bytes(range(256)) * 40, "not a UTF-8 text line"),
        ("garbage.csv", b'{"files": [1, 2, {"a": "b"}], "x": null}\n', "is not an S3 Batch Operations manifest"),
        ("garbage.json", b'{"files": 1}', "is not an S3 Inventory manifest.json"),
        ("empty.csv", b"", "has no rows"),
        ("blank.csv", b"\xef\xbb\xbf\n  \n\n", "has no rows"),
        ("one-long-line.csv", b"x" * 300_000, "longer than 65536 bytes"),
        ("missing.csv", None, "No such file or directory"),
    ],
)
def test_a_file_that_is_not_a_manifest_exits_2_with_one_clear_message(tmp_path, name, content, message):
    manifest = tmp_path / name
    if content is not None:
        manifest.write_bytes(content)
    result = mediasync_run(None, manifest, "dst", tmp_path / "report.csv", None, timeout=60)
    output = one_line(result.stdout + result.stderr)
    assert result.returncode == 2, output
    assert "Traceback" not in output
    assert output.startswith("error: ") and output.count("error:") == 1 and message in output, output
    assert not (tmp_path / "report.csv").exists()


def test_credentials_the_server_refuses_end_the_run_before_any_copy(seaweedfs, tmp_path):
    """SeaweedFS checks keys as S3 does: an unknown key is InvalidAccessKeyId, named, exit 2."""
    s3 = seaweedfs.client()
    s3.create_bucket(Bucket="creds-src")
    s3.create_bucket(Bucket="creds-dst")
    s3.put_object(Bucket="creds-src", Key="a.mov", Body=b"a")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("creds-src,a.mov\n", encoding="utf-8")
    wrong = cli_env(seaweedfs, AWS_ACCESS_KEY_ID="NOSUCHKEY")
    result = mediasync_run(seaweedfs, manifest, "creds-dst", tmp_path / "report.csv", seaweedfs.endpoint_url,
                           env=wrong, timeout=120)
    output = one_line(result.stdout + result.stderr)
    assert result.returncode == 2, output
    assert output.startswith(f"error: InvalidAccessKeyId: {seaweedfs.endpoint_url} "), output
    assert "refused these credentials (The access key ID you provided does not exist in our records.)" in output
    assert not (tmp_path / "report.csv").exists()
    assert s3.list_objects_v2(Bucket="creds-dst").get("KeyCount", 0) == 0
