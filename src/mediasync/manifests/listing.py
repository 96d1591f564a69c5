"""List a bucket into an S3 Batch CSV manifest, in parallel, streaming.

The key space is walked as a tree of common prefixes (``Delimiter='/'``): every
prefix found is listed by its own worker, so a bucket laid out in folders is
listed by many threads at once. Rows go to the output as each page arrives; what
is held in memory is the prefixes not yet listed, never the listing.

Keys are written URL-encoded (:func:`mediasync.manifests.s3batch_csv.format_row`) exactly as
S3 returned them: spaces, ``+``, ``=``, ``%``, NFC and NFD forms all survive.
botocore asks S3 for ``EncodingType=url`` and decodes, so even keys with
characters XML cannot carry come back intact.
"""

from __future__ import annotations

import datetime
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from mediasync.core.request_args import REQUESTER
from mediasync.manifests.filters import NO_FILTER, LeftOut, ObjectFilter
from mediasync.manifests.locations import is_s3_url, split_s3_url
from mediasync.manifests.s3batch_csv import format_row

DELIMITER = "/"
# An S3 output is uploaded in parts of this size as rows accumulate.
OUTPUT_PART_SIZE = 8 * 1024 * 1024


@dataclass(frozen=True)
class Listed:
    bucket: str
    key: str
    size: int
    version_id: str | None = None
    # As the listing gives them: what a sync plan compares (manifests.sync_plan).
    etag: str = ""
    last_modified: datetime.datetime | None = None
    # As listed: what --match-storage-class reads (manifests.filters).
    storage_class: str = ""

    @classmethod
    def from_listing(cls, bucket: str, item: dict[str, Any], version_id: str | None = None) -> "Listed":
        return cls(bucket, item["Key"], item.get("Size", 0), version_id, item.get("ETag", ""),
                   item.get("LastModified"), item.get("StorageClass", ""))


@dataclass
class ListingProgress:
    objects: int = 0
    bytes: int = 0
    prefixes_listed: int = 0
    prefixes_pending: int = 0
    delete_markers_skipped: int = 0
    older_versions_skipped: int = 0
    requests: int = 0  # list pages asked for: ListObjectsV2 (or ListObjectVersions) requests
    # Of the objects listed, those a filter left out (manifests.filters).
    left_out: LeftOut = field(default_factory=LeftOut)

    @property
    def kept(self) -> int:
        """The objects listed and not left out by a filter."""
        return self.objects - self.left_out.total

    @property
    def kept_bytes(self) -> int:
        return self.bytes - self.left_out.total_bytes


class ManifestSink(Protocol):
    def write(self, text: str) -> None: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...


class FileSink:
    """Writes ``<path>.partial`` and renames it on success: a manifest is whole or absent."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.partial = path.with_name(path.name + ".partial")
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = self.partial.open("w", encoding="utf-8", newline="")

    def write(self, text: str) -> None:
        self._handle.write(text)

    def close(self) -> None:
        self._handle.close()
        os.replace(self.partial, self.path)

    def abort(self) -> None:
        self._handle.close()
        self.partial.unlink(missing_ok=True)


class S3Sink:
    """Streams the manifest to ``s3://bucket/key`` with a multipart upload.

    Parts of OUTPUT_PART_SIZE are uploaded as rows accumulate; a small manifest is a
    single PutObject. Nothing appears at the key unless the listing finished.
    """

    def __init__(self, s3: Any, bucket: str, key: str, part_size: int = OUTPUT_PART_SIZE) -> None:
        self.s3, self.bucket, self.key, self.part_size = s3, bucket, key, part_size
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []

    def write(self, text: str) -> None:
        self._buffer += text.encode("utf-8")
        if len(self._buffer) >= self.part_size:
            self._upload_part()

    def _upload_part(self) -> None:
        if self._upload_id is None:
            self._upload_id = self.s3.create_multipart_upload(
                Bucket=self.bucket, Key=self.key, ContentType="text/csv")["UploadId"]
        number = len(self._parts) + 1
        etag = self.s3.upload_part(Bucket=self.bucket, Key=self.key, UploadId=self._upload_id, PartNumber=number,
                                   Body=bytes(self._buffer))["ETag"]
        self._parts.append({"PartNumber": number, "ETag": etag})
        self._buffer.clear()

    def close(self) -> None:
        if self._upload_id is None:
            self.s3.put_object(Bucket=self.bucket, Key=self.key, Body=bytes(self._buffer), ContentType="text/csv")
            return
        if self._buffer:
            self._upload_part()
        self.s3.complete_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self._upload_id,
                                          MultipartUpload={"Parts": self._parts})

    def abort(self) -> None:
        if self._upload_id is not None:
            self.s3.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self._upload_id)


class DiscardSink:
    """A manifest not kept: what a dry run lists is counted, never written."""

    def write(self, text: str) -> None:
        return None

    def close(self) -> None:
        return None

    def abort(self) -> None:
        return None


def open_sink(output: str, s3: Any) -> ManifestSink:
    if is_s3_url(output):
        try:
            bucket, key = split_s3_url(output)
        except ValueError as err:
            raise ValueError(f"{output!r}: an S3 output needs s3://bucket/key") from err
        return S3Sink(s3, bucket, key)
    return FileSink(Path(output))


class _Walker:
    """Lists prefixes on a thread pool; each listed prefix submits the prefixes it finds."""

    def __init__(self, s3: Any, bucket: str, *, versions: bool, latest_only: bool, workers: int,
                 emit: Callable[[Listed], None], progress: ListingProgress,
                 on_progress: Callable[[ListingProgress], None], requester_pays: bool = False) -> None:
        self.s3, self.bucket = s3, bucket
        self.request_args = dict(REQUESTER) if requester_pays else {}
        self.versions, self.latest_only = versions, latest_only
        self.emit, self.progress, self.on_progress = emit, progress, on_progress
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="inventory")
        self.lock = threading.Condition()
        self.pending = 0
        self.error: BaseException | None = None

    def submit(self, prefix: str) -> None:
        with self.lock:
            self.pending += 1
            self.progress.prefixes_pending += 1
        self.pool.submit(self._run, prefix)

    def _run(self, prefix: str) -> None:
        try:
            if self.error is None:
                self._list(prefix)
        except BaseException as error:  # reported once, by wait()
            with self.lock:
                self.error = self.error or error
        finally:
            with self.lock:
                self.pending -= 1
                self.progress.prefixes_pending -= 1
                self.progress.prefixes_listed += 1
                self.lock.notify_all()
            self.on_progress(self.progress)

    def _list(self, prefix: str) -> None:
        operation = "list_object_versions" if self.versions else "list_objects_v2"
        pages = self.s3.get_paginator(operation).paginate(Bucket=self.bucket, Prefix=prefix, Delimiter=DELIMITER,
                                                          **self.request_args)
        for page in pages:
            if self.error is not None:
                return
            for common in page.get("CommonPrefixes") or []:
                self.submit(common["Prefix"])
            listed: list[Listed] = []
            skipped_old = 0
            if self.versions:
                for version in page.get("Versions") or []:
                    if self.latest_only and not version.get("IsLatest"):
                        skipped_old += 1
                        continue
                    listed.append(Listed.from_listing(self.bucket, version, version["VersionId"]))
            else:
                listed = [Listed.from_listing(self.bucket, item) for item in page.get("Contents") or []]
            for item in listed:
                self.emit(item)
            with self.lock:
                self.progress.requests += 1
                self.progress.objects += len(listed)
                self.progress.bytes += sum(item.size for item in listed)
                self.progress.delete_markers_skipped += len(page.get("DeleteMarkers") or [])
                self.progress.older_versions_skipped += skipped_old
            self.on_progress(self.progress)

    def wait(self) -> None:
        try:
            with self.lock:
                while self.pending and self.error is None:
                    self.lock.wait(0.5)
        except BaseException as interrupt:  # Ctrl-C: workers stop after the page they are on
            self.error = self.error or interrupt
            raise
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)
        if self.error is not None:
            raise self.error


def list_bucket(
    s3: Any,
    bucket: str,
    prefix: str = "",
    *,
    versions: bool = False,
    latest_only: bool = False,
    workers: int = 16,
    emit: Callable[[Listed], None],
    on_progress: Callable[[ListingProgress], None] = lambda progress: None,
    requester_pays: bool = False,
    selected: ObjectFilter = NO_FILTER,
    on_left_out: Callable[[Listed, str], None] = lambda item, flag: None,
) -> ListingProgress:
    """Call ``emit`` (from one thread at a time) for every object under ``prefix``
    that ``selected`` keeps (its patterns matched below ``prefix``); ``on_left_out``
    gets the others with the flag that left each out, and the progress counts them.

    ``versions`` lists every version with its id (ListObjectVersions; delete
    markers skipped); ``latest_only`` keeps only the current version of each key.
    ``requester_pays`` lists a Requester Pays bucket at the caller's expense.
    Order is not defined: S3 Batch does not need one.
    """
    progress = ListingProgress()
    emit_lock = threading.Lock()
    selected = selected.under(prefix)

    def emit_one(item: Listed) -> None:
        flag = selected.left_out_by(item) if selected.active else None
        with emit_lock:
            if flag is None:
                emit(item)
                return
            progress.left_out.add(flag, item.size)
            on_left_out(item, flag)

    walker = _Walker(s3, bucket, versions=versions, latest_only=latest_only, workers=workers, emit=emit_one,
                     progress=progress, on_progress=on_progress, requester_pays=requester_pays)
    walker.submit(prefix)
    walker.wait()
    return progress


def write_inventory(
    s3: Any,
    bucket: str,
    sink: ManifestSink,
    prefix: str = "",
    *,
    versions: bool = False,
    latest_only: bool = False,
    workers: int = 16,
    on_progress: Callable[[ListingProgress], None] = lambda progress: None,
    requester_pays: bool = False,
    selected: ObjectFilter = NO_FILTER,
) -> ListingProgress:
    """List into ``sink`` as an S3 Batch CSV manifest (the objects ``selected`` keeps);
    the sink is closed, or aborted on error."""
    try:
        progress = list_bucket(
            s3, bucket, prefix, versions=versions, latest_only=latest_only, workers=workers,
            emit=lambda item: sink.write(format_row(item.bucket, item.key, item.version_id)),
            on_progress=on_progress, requester_pays=requester_pays, selected=selected,
        )
    except BaseException:
        sink.abort()
        raise
    sink.close()
    return progress
