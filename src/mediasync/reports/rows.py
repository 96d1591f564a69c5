"""Read a completion report, ours or S3 Batch Operations', and show it.

Both are CSV rows ``Bucket,Key,VersionId,TaskStatus,ErrorCode,HTTPStatusCode,ResultMessage``.
Our local runner writes the error code in the fifth column and the HTTP status in
the sixth; S3 Batch writes the HTTP status in the fifth and, for Lambda tasks, the
Lambda's result code in the sixth, with our ``resultString`` ("Code: message") as
the message. Columns are therefore told apart by content, and the cause of a
failure is our code wherever the message carries one.

S3 Batch's report is a ``manifest.json`` naming result CSVs; ours is one CSV, with
a sidecar ``<report>.timings.jsonl`` (written by the local runner) holding each
object's start and end, from which throughput over time is drawn.

Everything streams into a :class:`ReportSummary`: counts, bytes, a size histogram,
a per-second timeline and the slowest objects, never the rows themselves.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from mediasync.core.s3batch_task import copied_bytes, parse_result_string
from mediasync.manifests.locations import file_beside, is_s3_url, open_s3_object, split_s3_url
from mediasync.manifests.s3batch_csv import ManifestError, decode_key

TIMINGS_SUFFIX = ".timings.jsonl"
LEFT_OUT_SUFFIX = ".filters.json"
GENERIC_CODES = {"", "PermanentFailure", "TemporaryFailure", "Succeeded"}
SLOWEST = 10
SAMPLES_PER_CODE = 3


def timings_path(report_path: Path) -> Path:
    """Where the local runner writes per-object timings beside a report."""
    return report_path.with_name(report_path.name + TIMINGS_SUFFIX)


def left_out_path(report_path: Path) -> Path:
    """Where `run` writes what the filters of a listed source left out, beside a report."""
    return report_path.with_name(report_path.name + LEFT_OUT_SUFFIX)


def timing_record(row: Any) -> dict[str, Any]:
    """One sidecar line from a :class:`ReportRow` the local runner wrote."""
    return {
        "bucket": row.bucket, "key": row.key, "version_id": row.version_id, "status": row.status,
        "code": row.code, "bytes": row.bytes, "started": round(row.started, 6),
        "finished": round(row.finished, 6), "attempts": row.attempts,
    }


# S3 Batch Operations' completion report columns; ours has the same layout.
REPORT_COLUMNS = ("Bucket", "Key", "VersionId", "TaskStatus", "ErrorCode", "HTTPStatusCode", "ResultMessage")


@dataclass(frozen=True)
class ReportRow:
    """One task of a completion report: written by the local S3 Batch emulation, read
    back (ours or S3 Batch's) by ``report`` and ``status``. The timing fields exist
    only for rows this process ran; a report read from a file has none."""

    bucket: str
    key: str  # as in the manifest (URL-encoded)
    version_id: str
    status: str  # "succeeded" or "failed"
    code: str  # our outcome code ("Copied", "SourceMissing"...) or S3 Batch's
    http_status: str
    message: str
    bytes: int = 0
    started: float = 0.0
    finished: float = 0.0
    attempts: int = 1

    def as_csv(self) -> list[str]:
        return [self.bucket, self.key, self.version_id, self.status, self.code, str(self.http_status), self.message]


def parse_report_row(fields: list[str]) -> ReportRow | None:
    if len(fields) < 4:
        return None
    fields = fields + [""] * (7 - len(fields))
    bucket, key, version, status, fifth, sixth = fields[:6]
    message = ",".join(fields[6:]) if len(fields) > 7 else fields[6]
    if fifth.isdigit() and not sixth.isdigit():
        http_status, code = fifth, sixth  # S3 Batch Operations' layout
    else:
        code, http_status = fifth, sixth  # ours
    carried, text = parse_result_string(message)
    if carried and (code in GENERIC_CODES or not code):
        code, message = carried, text
    status = status.strip().lower()
    size = copied_bytes(message) if status == "succeeded" else 0
    return ReportRow(bucket, key, version, status, code, http_status, message, size)


def parse_report_lines(lines: Iterable[str]) -> Iterator[ReportRow]:
    for number, fields in enumerate(csv.reader(lines), 1):
        if not fields or (number == 1 and fields[:2] == ["Bucket", "Key"]):
            continue
        result = parse_report_row(fields)
        if result is None:
            raise ManifestError(f"report line {number} is not a completion report row: {fields!r}")
        yield result


def display_key(raw: str) -> str:
    try:
        return decode_key(raw)
    except (ValueError, UnicodeDecodeError):
        return raw


# -- reading ---------------------------------------------------------------------------


def _s3_text(s3: Any, bucket: str, key: str) -> io.TextIOBase:
    body = open_s3_object(s3, bucket, key)
    return io.TextIOWrapper(io.BufferedReader(body), encoding="utf-8", newline="")


def _result_files(document: dict[str, Any], location: str, s3: Any) -> Iterator[io.TextIOBase]:
    """The CSVs an S3 Batch report manifest.json names: beside it on disk, or in S3."""
    results = document.get("Results")
    if not isinstance(results, list):
        raise ManifestError(f"{location} is not an S3 Batch Operations report manifest (no Results list)")
    for item in results:
        key = str(item["Key"])
        local = file_beside(location, key, "results")
        if local is not None:
            yield local.open("r", encoding="utf-8", newline="")
        else:
            yield _s3_text(s3, item["Bucket"], key)


def read_report(source: str, s3: Any = None) -> Iterator[ReportRow]:
    """Rows of a report: a CSV or an S3 Batch ``manifest.json``, a local path or ``s3://bucket/key``."""
    if is_s3_url(source):
        try:
            bucket, key = split_s3_url(source)
        except ValueError as err:
            raise ManifestError(f"{source}: name the report object, s3://bucket/key") from err
        handle: io.TextIOBase = _s3_text(s3, bucket, key)
    else:
        try:
            handle = open(source, "r", encoding="utf-8", newline="")
        except OSError as err:
            raise ManifestError(f"cannot read report {source}: {err.strerror}") from err
    try:
        if source.lower().endswith(".json"):
            with handle:
                document = json.load(handle)
            for result_file in _result_files(document, source, s3):
                with result_file:
                    yield from parse_report_lines(result_file)
            return
        with handle:
            yield from parse_report_lines(handle)
    except UnicodeDecodeError as err:
        raise ManifestError(f"{source} is not a UTF-8 completion report ({err.reason})") from err
    except ValueError as err:  # json.JSONDecodeError
        raise ManifestError(f"{source} is not an S3 Batch report manifest.json: {err}") from err


def read_timings(path: Path) -> Iterator[dict[str, Any]]:
    """Records of a timings file; ManifestError naming the line when it is not one."""
    expected = f"expected the JSON lines `run` writes beside its report ({TIMINGS_SUFFIX})"
    try:
        with path.open("r", encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    float(record.get("started") or 0), float(record.get("finished") or 0), int(record.get("bytes") or 0)
                except (ValueError, TypeError, AttributeError):
                    raise ManifestError(f"{path} line {number} is not a timing record: {expected}") from None
                yield record
    except UnicodeDecodeError as err:
        raise ManifestError(f"{path} is not a UTF-8 timings file ({err.reason}): {expected}") from err
    except OSError as err:
        raise ManifestError(f"cannot read timings {path}: {err.strerror or err}") from err


