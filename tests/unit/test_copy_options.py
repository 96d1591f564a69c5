"""Copy options AWS users need: where each comes from, and what each S3 call then sends."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from mediasync.cli import main
from mediasync.core.errors import InvalidTask
from mediasync.core.request_args import destination_write_args, source_request_args
from mediasync.core.s3batch_task import destination_key
from mediasync.core.settings import CopyOptions, Settings
from mediasync.core.source import SourceObject
from mediasync.local.runner import user_arguments
from mediasync.manifests.listing import FileSink, write_inventory
from mediasync.stack.submit import ManifestLocation
from tests.unit.test_inventory import KEYS, FolderS3

KEY = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def source(storage_class: str = "STANDARD") -> SourceObject:
    return SourceObject("src", "a/b/x.mov", None, 10, '"e"', storage_class=storage_class)


# -- request_args ------------------------------------------------------------------


def test_source_calls_carry_request_payer_only_for_requester_pays_sources():
    assert source_request_args(None) == {}
    assert source_request_args(CopyOptions()) == {}
    assert source_request_args(CopyOptions(requester_pays=True)) == {"RequestPayer": "requester"}


def test_by_default_a_copy_keeps_the_source_class_and_sends_nothing_else():
    assert destination_write_args(None, source()) == {}
    assert destination_write_args(CopyOptions(), source("STANDARD_IA")) == {"StorageClass": "STANDARD_IA"}


def test_a_storage_class_override_replaces_the_source_class():
    assert destination_write_args(CopyOptions(storage_class="GLACIER_IR"), source("STANDARD_IA")) == {
        "StorageClass": "GLACIER_IR"}
    # STANDARD is what S3 writes when no class is named: nothing to send, and the
    # source's STANDARD_IA must not leak through.
    assert destination_write_args(CopyOptions(storage_class="STANDARD"), source("STANDARD_IA")) == {}


def test_sse_kms_sends_the_key_with_aws_kms_and_the_bucket_key_only_when_chosen():
    assert destination_write_args(CopyOptions(sse_kms_key_id=KEY), source()) == {
        "ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KEY}
    assert destination_write_args(CopyOptions(sse_kms_key_id=KEY, bucket_key_enabled=False), source()) == {
        "ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KEY, "BucketKeyEnabled": False}


def test_the_acl_option_sends_the_canned_acl():
    assert destination_write_args(CopyOptions(acl="bucket-owner-full-control"), source()) == {
        "ACL": "bucket-owner-full-control"}


# -- where the options come from ----------------------------------------------------


def test_user_arguments_in_camel_case_override_the_environment():
    env = {"MEDIASYNC_STORAGE_CLASS": "STANDARD_IA", "MEDIASYNC_REQUESTER_PAYS": "true",
           "MEDIASYNC_SSE_KMS_KEY_ID": KEY, "MEDIASYNC_BUCKET_KEY_ENABLED": "true",
           "MEDIASYNC_ACL": "bucket-owner-full-control", "MEDIASYNC_STRIP_PREFIX": "a/b/"}
    defaults = Settings.from_env(env).defaults
    assert (defaults.storage_class, defaults.requester_pays, defaults.sse_kms_key_id, defaults.bucket_key_enabled,
            defaults.acl, defaults.strip_prefix) == ("STANDARD_IA", True, KEY, True, "bucket-owner-full-control", "a/b/")

    job = defaults.merged({"storageClass": "deep_archive", "requesterPays": "false", "bucketKeyEnabled": "false",
                           "stripPrefix": "a/"})
    assert (job.storage_class, job.requester_pays, job.bucket_key_enabled, job.strip_prefix) == (
        "DEEP_ARCHIVE", False, False, "a/")


def test_the_template_empty_strings_leave_the_defaults():
    env = {"MEDIASYNC_STORAGE_CLASS": "", "MEDIASYNC_ACL": "", "MEDIASYNC_SSE_KMS_KEY_ID": "",
           "MEDIASYNC_BUCKET_KEY_ENABLED": "", "MEDIASYNC_REQUESTER_PAYS": "false"}
    assert Settings.from_env(env).defaults == CopyOptions()


def test_options_survive_the_state_machine_input():
    options = CopyOptions(destination_bucket="dst", storage_class="GLACIER", sse_kms_key_id=KEY,
                          bucket_key_enabled=True, acl="bucket-owner-full-control", requester_pays=True,
                          strip_prefix="a/")
    assert CopyOptions.from_event(json.loads(json.dumps(options.to_event()))) == options


@pytest.mark.parametrize(("arguments", "message"), [
    ({"storageClass": "COLD"}, "storage_class must be one of STANDARD, STANDARD_IA"),
    ({"acl": "public-read"}, "acl must be bucket-owner-full-control"),
    ({"bucketKeyEnabled": "true"}, "bucket_key_enabled needs sse_kms_key_id"),
    ({"requesterPays": "maybe"}, "not a boolean"),
])
def test_bad_values_are_refused_with_what_is_allowed(arguments, message):
    with pytest.raises(ValueError, match=message):
        CopyOptions().merged(arguments)


# -- key mapping ----------------------------------------------------------------------


def test_strip_prefix_maps_one_folder_onto_another():
    assert destination_key("c/", "a/b/x.mov", "a/b/") == "c/x.mov"
    assert destination_key("", "a/b/x.mov", "a/b/") == "x.mov"
    assert destination_key("c/", "a/b/x.mov") == "c/a/b/x.mov"  # today's mapping, unchanged
    # Keys are strings, not paths: a strip without its slash strips exactly that.
    assert destination_key("", "a/bc.mov", "a/b") == "c.mov"


def test_a_key_outside_the_strip_prefix_is_an_invalid_task_not_another_key():
    with pytest.raises(InvalidTask, match="does not start with the prefix to strip"):
        destination_key("c/", "other/x.mov", "a/b/")
    with pytest.raises(InvalidTask, match="leaves no destination key"):
        destination_key("", "a/b/", "a/b/")
    assert destination_key("c/", "a/b/", "a/b/") == "c/"  # a folder marker maps onto a folder marker


@given(prefix=st.text(max_size=20), strip=st.text(max_size=20), rest=st.text(min_size=1, max_size=40))
def test_mapping_is_prefix_plus_what_follows_the_strip(prefix, strip, rest):
    assert destination_key(prefix, strip + rest, strip) == prefix + rest


# -- the job's user arguments ---------------------------------------------------------


def test_new_options_are_user_arguments_only_when_set_so_a_job_stays_within_ten():
    plain = user_arguments(CopyOptions(destination_bucket="dst"))
    assert len(plain) == 9 and "storageClass" not in plain and "requesterPays" not in plain
    chosen = user_arguments(CopyOptions(destination_bucket="dst", storage_class="GLACIER_IR", requester_pays=True))
    assert (chosen["storageClass"], chosen["requesterPays"]) == ("GLACIER_IR", "true")
    # Turned off explicitly against a stack that turns it on: sent.
    assert user_arguments(CopyOptions(), include=["requester_pays"])["requesterPays"] == "false"


def test_submit_sends_each_copy_option_given_on_the_command_line(monkeypatch):
    monkeypatch.setattr("mediasync.stack.submit.aws_client", lambda service, region=None: object())
    monkeypatch.setattr("mediasync.stack.submit.locate_manifest",
                        lambda s3, url: ManifestLocation("jobs", "m.csv", "abc", None, ("Bucket", "Key")))
    result = CliRunner().invoke(main, [
        "submit", "--manifest", "s3://jobs/m.csv", "--destination-bucket", "archive", "--report-bucket", "jobs",
        "--function-arn", "arn:aws:lambda:eu-west-1:111122223333:function:f", "--role-arn", "arn:aws:iam::1:role/r",
        "--dry-run", "--strip-prefix", "a/b/", "--destination-prefix", "c/", "--storage-class", "GLACIER_IR",
        "--sse-kms-key-id", KEY, "--bucket-key-enabled", "--acl", "bucket-owner-full-control", "--no-requester-pays",
    ])
    assert result.exit_code == 0, result.output
    request = json.loads(result.stdout[:result.stdout.rindex("}") + 1])
    assert request["Operation"]["LambdaInvoke"]["UserArguments"] == {
        "destinationBucket": "archive", "destinationPrefix": "c/", "stripPrefix": "a/b/",
        "storageClass": "GLACIER_IR", "sseKmsKeyId": KEY, "bucketKeyEnabled": "true",
        "acl": "bucket-owner-full-control", "requesterPays": "false"}


def test_a_bad_storage_class_on_the_command_line_is_a_usage_error():
    result = CliRunner().invoke(main, ["run", "--manifest", "m.csv", "--destination-bucket", "dst",
                                       "--storage-class", "COLD"])
    assert result.exit_code == 2 and "STANDARD_IA" in result.output


# -- listing a Requester Pays source --------------------------------------------------


class RecordingFolderS3(FolderS3):
    def __init__(self, keys: list[str]) -> None:
        super().__init__(keys)
        self.extra: list[dict] = []

    def paginate(self, Bucket: str, Prefix: str, Delimiter: str, **extra):
        self.extra.append(extra)
        return super().paginate(Bucket, Prefix, Delimiter)


def test_listing_a_requester_pays_bucket_sends_request_payer_on_every_page_request(tmp_path):
    s3 = RecordingFolderS3(KEYS)
    write_inventory(s3, "media", FileSink(tmp_path / "m.csv"), workers=2, requester_pays=True)
    assert len(s3.extra) == 6 and all(extra == {"RequestPayer": "requester"} for extra in s3.extra)

    plain = RecordingFolderS3(KEYS)
    write_inventory(plain, "media", FileSink(tmp_path / "n.csv"), workers=2)
    assert all(extra == {} for extra in plain.extra)
