"""Reference copiers for the bench: S3 requests from Python with no engine around them.

    floor.py ENDPOINT_URL SOURCE_BUCKET DESTINATION_BUCKET DESTINATION_PREFIX --requests copy|shape [--concurrency N]

``--requests copy`` makes one CopyObject per object, as s5cmd and rclone do: what
Python and boto3 alone cost against the same server. ``--requests shape`` makes the
requests MediaSync makes per object, in its order: `run --source`'s listing of the
destination, batch_invoke's inspection and (for keys listed there) skip-existing
check, then the state machine's copy and Verify (read back only where S3's answer to
the copy does not prove it). It calls MediaSync's
own S3 functions, so the requests cannot drift from MediaSync's, but without S3 Batch,
Step Functions, the handlers or the local runtime. The gap between the two rows is
the cost of the requests; the gap to MediaSync's row is the cost of its engine.

Credentials come from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).
Exits 1, naming the objects, when any copy or its check fails.
"""

from __future__ import annotations

import argparse
import functools
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from mediasync.core.copy import complete_upload, copy_part_group, copy_single, create_upload
from mediasync.core.plan import MAX_SINGLE_COPY, plan_copy
from mediasync.core.settings import CopyOptions
from mediasync.core.source import ObjectRef, etag_part_count, inspect_source, quoted_etag
from mediasync.core.verify import already_copied, check_copy, proof_from_response

# Per object: "copied" or "skipped" (the destination already held it); anything else raises.
Copier = Callable[[Any, str, dict[str, Any], ObjectRef], str]


class CopyFailed(Exception):
    pass


def make_client(endpoint_url: str, concurrency: int) -> Any:
    config = Config(signature_version="s3v4", s3={"addressing_style": "path"}, max_pool_connections=concurrency,
                    retries={"mode": "standard"})
    return boto3.client("s3", endpoint_url=endpoint_url, config=config)


def copy_request(s3: Any, bucket: str, item: dict[str, Any], dest: ObjectRef) -> str:
    """One CopyObject, nothing before or after it."""
    if item["Size"] > MAX_SINGLE_COPY:
        raise CopyFailed(f"{item['Key']}: {item['Size']} bytes, over CopyObject's 5 GiB")
    response = s3.copy_object(Bucket=dest.bucket, Key=dest.key, CopySource={"Bucket": bucket, "Key": item["Key"]},
                              MetadataDirective="COPY", TaggingDirective="COPY")
    etag, source_etag = quoted_etag(response["CopyObjectResult"]["ETag"]), quoted_etag(item["ETag"])
    # A multipart source's copy may carry a new ETag (AWS computes one for the whole body).
    if not etag_part_count(source_etag) and etag != source_etag:
        raise CopyFailed(f"{item['Key']}: copy ETag {etag} != source {source_etag}")
    return "copied"


def mediasync_requests(s3: Any, bucket: str, item: dict[str, Any], dest: ObjectRef,
                       present: frozenset[str] | None = None) -> str:
    """batch.TaskRunner._run, then the state machine's tasks (steps.py), called in line.

    ``present``: the destination keys one listing found, as `run --source` lists them;
    a key absent there is copied without the skip-existing check."""
    options = CopyOptions(destination_bucket=dest.bucket)
    source = inspect_source(s3, ObjectRef(bucket, item["Key"]))
    checks_destination = options.skip_existing and (present is None or dest.key in present)
    if checks_destination and already_copied(s3, source, dest):
        return "skipped"
    plan = plan_copy(source.size, options, **source.plan_args())
    if plan.route == "single":
        result = copy_single(s3, source, dest, checksum_algorithm=plan.checksum_algorithm)
    else:
        upload_id = create_upload(s3, source, dest, checksum_algorithm=plan.checksum_algorithm,
                                  checksum_type=plan.checksum_type)
        # The Map state runs part groups side by side, each with part_concurrency parts at once.
        with ThreadPoolExecutor(max_workers=min(plan.group_count, options.max_concurrency)) as pool:
            groups = [pool.submit(copy_part_group, s3, source, dest, upload_id, plan.layout, plan.grouping, group,
                                  concurrency=options.part_concurrency) for group in range(plan.group_count)]
            for group in groups:
                group.result()
        result = complete_upload(s3, dest, upload_id, plan.layout, checksum_algorithm=plan.checksum_algorithm,
                                 source=source if plan.reuses_source_layout else None)
    copied = result.to_state()
    if proof_from_response(source, plan, copied) is None:
        check_copy(s3, source, ObjectRef(dest.bucket, dest.key, copied["version_id"]), plan,
                   etag=copied["etag"], expected_etag=copied["expected_etag"])
    return "copied"


COPIERS: dict[str, Copier] = {"copy": copy_request, "shape": mediasync_requests}


def copy_bucket(s3: Any, source_bucket: str, destination_bucket: str, prefix: str, copier: Copier,
                concurrency: int) -> tuple[dict[str, int], list[str]]:
    """Copy every object of the bucket, starting copies while the listing goes on; count outcomes."""
    counts: dict[str, int] = {"listed": 0, "copied": 0, "skipped": 0}
    problems: list[str] = []
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures: list[tuple[str, Future[str]]] = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=source_bucket):
            for item in page.get("Contents", []):
                dest = ObjectRef(destination_bucket, prefix + item["Key"])
                futures.append((item["Key"], pool.submit(copier, s3, source_bucket, item, dest)))
        counts["listed"] = len(futures)
        for key, future in futures:
            try:
                counts[future.result()] += 1
            except Exception as error:
                problems.append(f"{key}: {type(error).__name__}: {error}")
    return counts, problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("endpoint_url")
    parser.add_argument("source_bucket")
    parser.add_argument("destination_bucket")
    parser.add_argument("destination_prefix", help="prepended to each source key (end it with /)")
    parser.add_argument("--requests", choices=sorted(COPIERS), required=True,
                        help="copy: one CopyObject per object; shape: MediaSync's requests per object")
    parser.add_argument("--concurrency", type=int, default=32, help="objects copied at once [default: 32]")
    args = parser.parse_args(argv)
    s3 = make_client(args.endpoint_url, args.concurrency)
    copier = COPIERS[args.requests]
    if copier is mediasync_requests:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=args.destination_bucket,
                                                             Prefix=args.destination_prefix)
        try:
            present = frozenset(item["Key"] for page in pages for item in page.get("Contents", []))
        except ClientError:
            present = None  # as `run`: every object is then checked alone (and fails alone)
        copier = functools.partial(mediasync_requests, present=present)
    counts, problems = copy_bucket(s3, args.source_bucket, args.destination_bucket, args.destination_prefix,
                                   copier, args.concurrency)
    print(f"{counts['listed']} objects listed, {counts['copied']} copied, {counts['skipped']} already there, "
          f"{len(problems)} failed")
    for problem in problems[:10]:
        print(f"  {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
