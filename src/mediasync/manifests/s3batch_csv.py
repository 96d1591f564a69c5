"""S3 Batch Operations CSV manifests: ``bucket,url-encoded-key[,version-id]``.

Rows are streamed, never held in memory. A bad row becomes a row with an
``error`` (reported failed, the job goes on); a file that is not a manifest at
all raises ManifestError.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import BinaryIO, Iterable, Iterator
from urllib.parse import quote_plus, unquote_plus

from mediasync.core.bucket_names import is_bucket_name

_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
# A row is a bucket, a URL-encoded key of at most 1,024 bytes and a version id: a
# longer line is not a row (and a binary file without newlines is not read whole).
_MAX_LINE = 64 * 1024
NOT_UTF8 = "not a UTF-8 text line"


class ManifestError(Exception):
    """The file as a whole is not an S3 Batch CSV manifest."""


@dataclass(frozen=True)
class ManifestRow:
    line: int
    bucket: str
    raw_key: str  # as written in the manifest (URL-encoded): what the report repeats
    key: str  # decoded
    version_id: str | None = None
    error: str | None = None


def encode_key(key: str) -> str:
    """URL-encode a key the way S3 Inventory and S3 Batch manifests do ('+' for space)."""
    return quote_plus(key, safe="/")


def decode_key(raw: str) -> str:
    if _BAD_ESCAPE.search(raw):
        raise ValueError("'%' not followed by two hex digits")
    return unquote_plus(raw, encoding="utf-8", errors="strict")


def parse_row(line: int, fields: list[str]) -> ManifestRow:
    """One row's fields exactly as written: a key is opaque bytes, so ``a.mov `` (with
    its space) names another object than ``a.mov`` and is never trimmed."""
    bucket = fields[0] if fields else ""
    raw_key = fields[1] if len(fields) > 1 else ""
    version = fields[2] if len(fields) > 2 and fields[2] else None

    def bad(reason: str) -> ManifestRow:
        return ManifestRow(line, bucket, raw_key, raw_key, version, f"manifest line {line}: {reason}")

    if len(fields) not in (2, 3):
        return bad(f"expected 2 or 3 columns (bucket,key[,version]), found {len(fields)}")
    if not is_bucket_name(bucket):
        return bad(f"{bucket!r} is not a valid bucket name")
    if not raw_key:
        return bad("empty key")
    try:
        key = decode_key(raw_key)
    except (ValueError, UnicodeDecodeError) as err:
        return bad(f"key {raw_key!r} is not valid URL encoding ({err}); keys must be URL-encoded UTF-8")
    return ManifestRow(line, bucket, raw_key, key, version)


def parse_lines(lines: Iterable[str]) -> Iterator[ManifestRow]:
    """Rows from text lines; blank lines are skipped, a leading BOM ignored."""
    for line_number, text in enumerate(lines, 1):
        row = _parse_text(line_number, text)
        if row is not None:
            yield row


def _parse_text(line_number: int, text: str) -> ManifestRow | None:
    if line_number == 1:
        text = text.lstrip("\ufeff")
    if not text.strip():
        return None
    try:
        fields = next(csv.reader([text]), [])
    except csv.Error as err:
        return _unreadable(line_number, f"not a CSV row ({err})")
    return parse_row(line_number, fields)


def _unreadable(line_number: int, reason: str) -> ManifestRow:
    return ManifestRow(line_number, "", "", "", None, f"manifest line {line_number}: {reason}")


def read_rows(handle: BinaryIO) -> Iterator[ManifestRow]:
    """Lines decoded one at a time: a bad byte or an endless line spoils its own row, not the job."""
    for line_number, line in enumerate(iter(lambda: handle.readline(_MAX_LINE), b""), 1):
        if len(line) == _MAX_LINE and not line.endswith(b"\n"):
            while (rest := handle.readline(_MAX_LINE)) and not rest.endswith(b"\n"):
                pass
            yield _unreadable(line_number, f"longer than {_MAX_LINE} bytes: not a bucket,key[,version] row")
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as err:
            yield _unreadable(line_number, f"{NOT_UTF8} ({err.reason} at byte {err.start})")
            continue
        row = _parse_text(line_number, text)
        if row is not None:
            yield row


def format_row(bucket: str, key: str, version_id: str | None = None) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([bucket, encode_key(key)] + ([version_id] if version_id else []))
    return buffer.getvalue()
