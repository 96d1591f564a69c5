"""Where manifests and reports live: ``s3://`` URLs, S3 objects, files beside a ``manifest.json``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mediasync.manifests.s3batch_csv import ManifestError


def split_s3_url(url: str, *, key_required: bool = True) -> tuple[str, str]:
    """``s3://bucket/key`` (or ``s3:/bucket/key`` after a trip through Path) -> (bucket, key).

    With ``key_required=False`` a bucket alone or a prefix is fine: ``s3://bucket`` -> (bucket, "").
    """
    rest = url.split(":", 1)[1].lstrip("/")
    bucket, _, key = rest.partition("/")
    if not bucket or (key_required and not key):
        raise ValueError(f"{url!r} is not an s3://bucket/key URL")
    return bucket, key


def is_s3_url(path: str | Path) -> bool:
    return str(path).startswith("s3:/")


def file_beside(manifest_location: str, key: str, *folders: str) -> Path | None:
    """An object a ``manifest.json`` names, found on disk when the prefix was downloaded
    beside it (``aws s3 cp --recursive`` keeps the key layout): the key under the
    manifest's folder or any folder above it, else its file name in the manifest's
    folder or in one of ``folders`` (relative to the manifest's folder).

    S3 Inventory reports name their gzip data files, S3 Batch completion reports their
    result CSVs; both are read from disk this way before S3 is asked.
    """
    if is_s3_url(manifest_location):
        return None
    here = Path(manifest_location).resolve().parent
    name = key.rsplit("/", 1)[-1]
    candidates = [ancestor / key for ancestor in (here, *here.parents)]
    candidates += [here / name, *((here / folder / name) for folder in folders)]
    return next((path for path in candidates if path.is_file()), None)


def open_s3_object(s3: Any, bucket: str, key: str) -> Any:
    """The streaming body of an object (``s3`` None: the process's client), or ManifestError."""
    from botocore.exceptions import BotoCoreError, ClientError

    from mediasync.core import clients

    try:
        return (s3 or clients.s3()).get_object(Bucket=bucket, Key=key)["Body"]
    except ClientError as err:
        error = err.response.get("Error", {})
        raise ManifestError(f"cannot read s3://{bucket}/{key}: {error.get('Code')} {error.get('Message', '')}") from err
    except BotoCoreError as err:
        raise ManifestError(f"cannot read s3://{bucket}/{key}: {err}") from err


