"""Clean-up after a local run that was killed (kill -9, power loss) mid-job.

A killed runner leaves the multipart uploads of its in-flight large objects open
on the destination. Before a new run starts, abort the ones that belong to this
manifest's destination keys and were started before this run: anything else in
the bucket is not ours to touch.
"""

from __future__ import annotations

import datetime
from typing import Any, Iterable

from mediasync.core.errors import InvalidTask
from mediasync.core.s3batch_task import destination_key
from mediasync.manifests.s3batch_csv import ManifestRow


def open_uploads(s3: Any, bucket: str, prefix: str, before: datetime.datetime) -> dict[str, list[str]]:
    """Multipart uploads under ``prefix`` initiated before ``before``: key -> upload ids."""
    uploads: dict[str, list[str]] = {}
    for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=prefix):
        for upload in page.get("Uploads", []):
            initiated = upload.get("Initiated")
            if initiated is None or initiated < before:
                uploads.setdefault(upload["Key"], []).append(upload["UploadId"])
    return uploads


def abort_interrupted_uploads(
    s3: Any, bucket: str, prefix: str, rows: Iterable[ManifestRow], before: datetime.datetime, strip: str = ""
) -> int:
    """Abort open uploads left for this manifest's keys; returns how many were aborted."""
    uploads = open_uploads(s3, bucket, prefix, before)
    if not uploads:
        return 0
    aborted = 0
    for row in rows:
        if row.error:
            continue
        try:
            key = destination_key(prefix, row.key, strip)
        except InvalidTask:
            continue  # a key the job refuses to map is never copied: no upload of ours
        for upload_id in uploads.pop(key, []):
            s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            aborted += 1
        if not uploads:
            break
    return aborted
