"""List a bucket into an S3 Batch CSV manifest (used when `mediasync inventory` is absent).

Usage: list_manifest.py ENDPOINT_URL BUCKET OUTPUT
"""

from __future__ import annotations

import sys

import boto3
from botocore.config import Config

from mediasync.manifests.s3batch_csv import format_row


def main(endpoint_url: str, bucket: str, output: str) -> None:
    s3 = boto3.client("s3", endpoint_url=endpoint_url, config=Config(s3={"addressing_style": "path"}))
    with open(output, "w", encoding="utf-8") as handle:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            handle.writelines(format_row(bucket, item["Key"]) for item in page.get("Contents", []))


if __name__ == "__main__":
    main(*sys.argv[1:4])
