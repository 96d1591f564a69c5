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


def local_data_file(manifest: InventoryManifest, item: InventoryFile) -> Path | None:
    """The data file on disk, if the report was downloaded beside its manifest.json."""
    if is_s3_url(manifest.location):
        return None
    here = Path(manifest.location).resolve().parent
    name = item.key.rsplit("/", 1)[-1]
    candidates = [ancestor / item.key for ancestor in (here, *here.parents)]
    candidates += [here / name, here / "data" / name, here.parent / "data" / name]
    return next((path for path in candidates if path.is_file()), None)


def open_s3_object(s3: Any, bucket: str, key: str) -> Any:
    """The streaming body of an object (``s3`` None: the process's client), or ManifestError."""
    from botocore.exceptions import BotoCoreError, ClientError

    from . import clients

    try:
        return (s3 or clients.s3()).get_object(Bucket=bucket, Key=key)["Body"]
    except ClientError as err:
        error = err.response.get("Error", {})
        raise ManifestError(f"cannot read s3://{bucket}/{key}: {error.get('Code')} {error.get('Message', '')}") from err
    except BotoCoreError as err:
        raise ManifestError(f"cannot read s3://{bucket}/{key}: {err}") from err


