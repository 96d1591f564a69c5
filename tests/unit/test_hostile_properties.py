"""Generated hostile input (docs/hostile-input.md): manifests of arbitrary bytes to the
CSV reader, S3 Batch events of any shape to functions/batch_invoke/app.py.

No exception escapes, every row or task is answered, and nothing is asked of the
copier that the input did not ask for: a well-formed row decodes to exactly its
key, a task runs only from a sound event and only as it names it.
"""

from __future__ import annotations

import io
from pathlib import Path
from unittest import mock
from urllib.parse import unquote_plus

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mediasync.core.bucket_names import is_bucket_name
from mediasync.core.s3batch_task import PERMANENT_FAILURE, SUCCEEDED, TEMPORARY_FAILURE, TaskOutcome
from mediasync.core.settings import CopyOptions, camel_case
from mediasync.local.runtime import LocalLambdaContext, load_handler
from mediasync.manifests.s3batch_csv import format_row, read_rows

ROOT = Path(__file__).resolve().parents[2]
# Modest counts: these run in every CI build.
EXAMPLES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

buckets = st.from_regex(r"[a-z0-9][a-z0-9.-]{1,20}[a-z0-9]", fullmatch=True).filter(is_bucket_name)
keys = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40)
versions = st.none() | st.from_regex(r"[A-Za-z0-9._]{1,32}", fullmatch=True)
junk = st.binary(max_size=80).map(lambda data: data.replace(b"\n", b""))
entries = st.lists(
    st.one_of(
        st.tuples(st.just("row"), buckets, keys, versions),
        st.tuples(st.just("junk"), junk),
        st.tuples(st.just("blank"), st.sampled_from([b"", b" ", b"\t", b"  \r"])),
        st.tuples(st.just("quoted"), buckets, keys),  # commas and quotes inside a quoted field
        # Written as is, not URL-encoded: spaces at either end are part of the key.
        st.tuples(st.just("literal"), buckets, st.text(st.sampled_from("ab. _-/é"), min_size=1, max_size=12)
                  .filter(str.strip)),
    ),
    max_size=12,
)


def serialize(entry: tuple, newline: bytes) -> bytes:
    kind = entry[0]
    if kind == "row":
        return format_row(*entry[1:]).rstrip("\n").encode("utf-8") + newline
    if kind == "literal":
        return f"{entry[1]},{entry[2]}".encode() + newline
    if kind == "quoted":
        _, bucket, key = entry
        return f'"{bucket}","{format_row(bucket, key).split(",", 1)[1].strip()}"'.encode() + newline
    return entry[1] + newline


@EXAMPLES
@given(entries=entries, bom=st.booleans(), crlf=st.booleans())
@example(entries=[("literal", "bkt-1", "a.mov "), ("quoted", "bkt-1", " b, \"c\".mov")], bom=True, crlf=True)
def test_any_manifest_bytes_answer_every_line_and_keep_every_key_exact(entries, bom, crlf):
    newline = b"\r\n" if crlf else b"\n"
    data = (b"\xef\xbb\xbf" if bom else b"") + b"".join(serialize(entry, newline) for entry in entries)

    rows = list(read_rows(io.BytesIO(data)))

    by_line = {row.line: row for row in rows}
    assert len(by_line) == len(rows), "one answer per line"
    assert set(by_line) <= set(range(1, len(entries) + 1))
    for line, entry in enumerate(entries, 1):
        if entry[0] in ("row", "quoted", "literal"):
            row = by_line[line]
            version = entry[3] if entry[0] == "row" else None
            assert (row.error, row.bucket, row.key, row.version_id) == (None, entry[1], entry[2], version)
        elif entry[0] == "blank":
            assert line not in by_line
        else:  # junk: answered unless it holds nothing but blanks; never a traceback
            assert line in by_line or not entry[1].decode("utf-8", errors="replace").replace("\ufeff", "").strip()


@EXAMPLES
@given(data=st.binary(max_size=400), encoding=st.sampled_from(["utf-16", "latin-1", "utf-8"]))
def test_a_manifest_in_any_encoding_is_answered_line_by_line(data, encoding):
    text = data.decode("latin-1")
    rows = list(read_rows(io.BytesIO(text.encode(encoding, errors="replace"))))
    assert [row.line for row in rows] == sorted({row.line for row in rows})
    assert all(row.error is None or row.error.startswith(f"manifest line {row.line}: ") for row in rows)


ARGUMENT_NAMES = [camel_case(name) for name in CopyOptions().to_event()]
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=5), inner,
                                                                                         max_size=2),
                           max_leaves=4)
arguments = st.dictionaries(st.sampled_from(ARGUMENT_NAMES) | st.text(max_size=12),
                            st.sampled_from(["archive", "1KiB", "64MiB", "true", "GLACIER", "s3://x", ""])
                            | json_values, max_size=4)
encoded_keys = keys.map(lambda key: format_row("b-1", key).split(",", 1)[1].strip()) | st.text(max_size=12)


tasks = st.fixed_dictionaries({}, optional={
    "taskId": st.text(min_size=1, max_size=8) | json_values,
    "s3Bucket": buckets | json_values,
    "s3BucketArn": buckets.map(lambda bucket: f"arn:aws:s3:::{bucket}") | json_values,
    "s3Key": encoded_keys | json_values,
    "s3VersionId": versions | json_values,
})
events = st.fixed_dictionaries({}, optional={
    "invocationSchemaVersion": st.sampled_from(["1.0", "2.0", "3.0", ""]) | json_values,
    "invocationId": st.text(min_size=1, max_size=8) | json_values,
    "job": st.fixed_dictionaries({}, optional={"id": st.text(min_size=1, max_size=8) | json_values,
                                               "userArguments": arguments | json_values}) | json_values,
    "tasks": st.lists(tasks | json_values, max_size=3) | json_values,
}) | json_values

string_arguments = st.dictionaries(st.sampled_from(ARGUMENT_NAMES) | st.text(max_size=12),
                                   st.sampled_from(["archive", "1KiB", "64MiB", "true", "GLACIER", "s3://x", ""]),
                                   max_size=3)


@st.composite
def sound_events(draw):
    """Events as S3 Batch sends them (either schema), some with a change S3 Batch would not make."""
    schema = draw(st.sampled_from(["1.0", "2.0"]))
    bucket = draw(buckets)
    task = {"taskId": draw(st.text(min_size=1, max_size=8)), "s3Key": draw(encoded_keys.filter(bool)),
            "s3VersionId": draw(versions)}
    task.update({"s3Bucket": bucket} if schema == "2.0" else {"s3BucketArn": f"arn:aws:s3:::{bucket}"})
    job = {"id": draw(st.text(min_size=1, max_size=8))}
    if schema == "2.0":
        job["userArguments"] = draw(string_arguments)
    event = {"invocationSchemaVersion": schema, "invocationId": draw(st.text(min_size=1, max_size=8)),
             "job": job, "tasks": [task]}
    change = draw(st.sampled_from(["none", "drop", "replace", "second task"]))
    if change == "second task":
        event["tasks"].append(dict(task, taskId=task["taskId"] + "-2"))
    elif change != "none":
        holder = draw(st.sampled_from([event, job, task]))
        name = draw(st.sampled_from(sorted(holder)))
        if change == "drop":
            del holder[name]
        else:
            holder[name] = draw(json_values)
    return event


events = sound_events() | events
HANDLER = load_handler(ROOT, "batch_invoke")


def sound(event) -> bool:
    """What S3 Batch sends: schema 1.0/2.0, ids, one task with id, bucket and key, argument strings."""
    if not isinstance(event, dict) or event.get("invocationSchemaVersion") not in ("1.0", "2.0"):
        return False
    job, task_list = event.get("job"), event.get("tasks")
    if not (isinstance(job, dict) and isinstance(job.get("id"), str) and job["id"]
            and isinstance(event.get("invocationId"), str) and event["invocationId"]
            and isinstance(task_list, list) and len(task_list) == 1 and isinstance(task_list[0], dict)):
        return False
    user_arguments = job.get("userArguments") if event["invocationSchemaVersion"] == "2.0" else None
    if user_arguments is not None and not (isinstance(user_arguments, dict)
                                           and all(isinstance(value, str) for value in user_arguments.values())):
        return False
    return True


@EXAMPLES
@given(event=events)
def test_any_event_is_answered_task_by_task_and_runs_only_what_it_names(event):
    ran = []

    def run(runner, task, remaining_ms):
        ran.append(task)
        return TaskOutcome(SUCCEEDED, "Copied", "ran", 200)

    with mock.patch("mediasync.core.s3batch_task.TaskRunner.run", run):
        response = HANDLER(event, LocalLambdaContext("batch_invoke", 900.0))

    named = [str(task["taskId"]) for task in (event.get("tasks") if isinstance(event, dict) else None) or []
             if isinstance(task, dict) and task.get("taskId") is not None] \
        if isinstance(event, dict) and isinstance(event.get("tasks"), list) else []
    assert [result["taskId"] for result in response["results"]] == named
    assert all(result["resultCode"] in (SUCCEEDED, TEMPORARY_FAILURE, PERMANENT_FAILURE)
               for result in response["results"])
    assert response["treatMissingKeysAs"] == PERMANENT_FAILURE
    if ran:
        [task] = ran
        assert sound(event)
        [asked] = event["tasks"]
        bucket = asked.get("s3Bucket") if isinstance(asked.get("s3Bucket"), str) and asked.get("s3Bucket") \
            else str(asked.get("s3BucketArn")).rpartition(":::")[2]
        assert (task.task_id, task.bucket, task.key) == (asked["taskId"], bucket, unquote_plus(asked["s3Key"]))
        assert task.version_id == (asked.get("s3VersionId") or None)
    else:
        assert all(result["resultCode"] == PERMANENT_FAILURE for result in response["results"])
