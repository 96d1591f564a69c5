"""Read any manifest: an S3 Batch CSV (s3batch_csv) or an S3 Inventory report's
manifest.json (inventory_report), told apart by the name; `probe_manifest` checks the
first rows before a job starts. The two formats do not import each other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from mediasync.manifests.s3batch_csv import NOT_UTF8, ManifestError, ManifestRow, read_rows

# How many leading rows may be unreadable before the file is judged not a manifest.
_PROBE_ROWS = 20


def read_manifest(path: str | Path) -> Iterator[ManifestRow]:
    if str(path).lower().endswith(".json"):  # an S3 Inventory report's manifest.json
        from mediasync.manifests.inventory_report import read_inventory_manifest

        yield from read_inventory_manifest(path)
        return
    path = Path(path)
    try:
        handle = path.open("rb")
    except OSError as err:
        raise ManifestError(f"cannot read manifest {path}: {err.strerror}") from err
    with handle:
        try:
            yield from read_rows(handle)
        except OSError as err:  # e.g. a directory, or a read error
            raise ManifestError(f"cannot read manifest {path}: {err.strerror}") from err


def probe_manifest(path: str | Path) -> None:
    """Raise ManifestError unless the first rows show an S3 Batch CSV manifest."""
    if str(path).lower().endswith(".json"):  # an S3 Inventory report's manifest.json
        from mediasync.manifests.inventory_report import probe_inventory_manifest

        probe_inventory_manifest(path)
        return
    rows = 0
    cited_error = ""
    for row in read_manifest(path):
        rows += 1
        if row.error is None:
            return
        # A binary file is best described by its bytes, not by the columns they happen to make.
        if not cited_error or (NOT_UTF8 in row.error and NOT_UTF8 not in cited_error):
            cited_error = row.error
        if rows >= _PROBE_ROWS:
            break
    if rows == 0:
        raise ManifestError(f"manifest {path} has no rows")
    raise ManifestError(
        f"{path} is not an S3 Batch Operations manifest: no usable row in its first {rows} rows "
        f"({cited_error}); expected CSV rows of bucket,url-encoded-key[,version-id]"
    )


