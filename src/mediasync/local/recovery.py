"""Clean-up after a local run that was killed (kill -9, power loss) or stopped mid-job.

A killed runner leaves the multipart uploads of its in-flight large objects open
on the destination. Before a new run starts, abort the ones that belong to this
manifest's destination keys and were started before this run (when no other run
on this machine is writing there: local.run_registry): anything else in the
bucket is not ours to touch. A run stopped by Ctrl-C or SIGTERM aborts the
uploads it opened itself: those on its unfinished keys that were not open when
it began.
"""

from __future__ import annotations

import datetime
from typing import Any, Iterable

from mediasync.core.errors import InvalidTask
from mediasync.core.s3batch_task import destination_key
from mediasync.manifests.s3batch_csv import ManifestRow


def open_uploads(s3: Any, bucket: str, prefix: str, before: datetime.datetime | None = None) -> dict[str, list[str]]:
    """Multipart uploads under ``prefix`` (initiated before ``before``, if given): key -> upload ids."""
    uploads: dict[str, list[str]] = {}
    for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=prefix):
        for upload in page.get("Uploads", []):
            initiated = upload.get("Initiated")
            if before is None or initiated is None or initiated < before:
                uploads.setdefault(upload["Key"], []).append(upload["UploadId"])
    return uploads


def abort_interrupted_uploads(
    s3: Any, bucket: str, prefix: str, rows: Iterable[ManifestRow], before: datetime.datetime, strip: str = "",
    *, abort: bool = True,
) -> int:
    """Abort open uploads left for this manifest's keys; returns how many were aborted.
    With ``abort`` False (another run may be using them) only counts them."""
    uploads = open_uploads(s3, bucket, prefix, before)
    if not uploads:
        return 0
    found = 0
    for row in rows:
        if row.error:
            continue
        try:
            key = destination_key(prefix, row.key, strip)
        except InvalidTask:
            continue  # a key the job refuses to map is never copied: no upload of ours
        for upload_id in uploads.pop(key, []):
            if abort:
                s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            found += 1
        if not uploads:
            break
    return found


def open_upload_ids(s3: Any, bucket: str, prefix: str) -> set[str]:
    """Every multipart upload open under ``prefix`` now: not this run's, whatever happens later."""
    return {upload_id for ids in open_uploads(s3, bucket, prefix).values() for upload_id in ids}


def abort_own_uploads(s3: Any, bucket: str, keys: Iterable[str], others: set[str]) -> int:
    """Abort the uploads open on ``keys`` except ``others`` (open before this run began):
    what a stopped run leaves of its own copies."""
    aborted = 0
    for key in set(keys):
        for upload_id in open_uploads(s3, bucket, key).get(key, []):
            if upload_id not in others:
                s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
                aborted += 1
    return aborted
