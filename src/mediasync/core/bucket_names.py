"""S3 bucket names: what can name a bucket, and what to write instead when a name cannot.

General purpose bucket names are 3-63 lowercase letters, digits, '.' and '-', begin
and end with a letter or digit, hold no '..' and are not IP addresses; buckets
created in us-east-1 before March 2018 may also have upper case letters and '_', up
to 255 characters, so those are accepted too.
https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
"""

from __future__ import annotations

import re

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]$")
_IP_ADDRESS = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
RULES = "3-63 lowercase letters, digits, '.' and '-', beginning and ending with a letter or digit"


def is_bucket_name(name: str) -> bool:
    return bool(_NAME.match(name)) and ".." not in name and not _IP_ADDRESS.match(name)


def bucket_name_problem(name: str) -> str | None:
    """None for a name a bucket can have; else what is wrong with it and what to give instead."""
    if is_bucket_name(name):
        return None
    if name.lower().startswith("s3:") or "://" in name:
        bucket, _, prefix = name.split(":", 1)[1].lstrip("/").partition("/")
        hint = f"give the bucket name alone ({bucket or 'BUCKET'})"
        return f"{name!r} is a URL, not a bucket name: {hint}" + (
            f" and the folder as the destination prefix ({prefix})" if prefix else "")
    if "/" in name:
        bucket, _, prefix = name.partition("/")
        return (f"{name!r} is not a bucket name: give the bucket alone ({bucket}) and the folder as the "
                f"destination prefix ({prefix}{'' if prefix.endswith('/') else '/'})")
    return f"{name!r} is not a bucket name: bucket names are {RULES}"
