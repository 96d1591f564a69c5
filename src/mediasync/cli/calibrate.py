"""``mediasync calibrate``: time server-side copies in your own account, for the scale model.

The scale model's largest unknowns are how fast one CopyObject or UploadPartCopy
moves bytes and what each request costs before it moves any (docs/performance.md).
This command measures them in the Region a job will run in, in a bucket the user
names, under a prefix of its own, and deletes everything it wrote:

1. a 5 MiB seed is uploaded, then doubled server-side (a multipart upload of two
   UploadPartCopy of the previous object) into a source of 5 GiB: nothing large
   crosses the user's network;
2. HeadObject, a few times (``api_latency``);
3. UploadPartCopy of 5 MiB to 5 GiB ranges of the source, each size several times,
   the sizes interleaved so that a drift over the hour does not fall on one size;
4. CopyObject of 5 MB and 150 MB objects (uploaded for it);
5. many UploadPartCopy at once from the one source (8, 100, 400 requests), then
   CompleteMultipartUpload of each (its time by part count).

Fits ``seconds = fixed + bytes / rate`` by least squares and writes a rates file that
``mediasync estimate --rates FILE`` reads. Nothing is deployed; the requests cost cents
(the command prints the figure and asks first). The fit and the plan's cost are pure, in
mediasync.model.calibration; the S3 measurements serve only this command, so they live here.
"""

from __future__ import annotations

import datetime
import os
import secrets
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import boto3
import click
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mediasync.cli.options import ENDPOINT
from mediasync.core.plan import MAX_PART_SIZE, MIN_PART_SIZE
from mediasync.core.settings import GiB, MiB, format_size, parse_size
from mediasync.core.timing import Rates
from mediasync.model.calibration import (
    BUDGET_DOLLARS,
    DEFAULT_CONCURRENCY,
    DEFAULT_COPY_OBJECT_SIZES,
    DEFAULT_SIZES,
    SEED_SIZE,
    CalibrationPlan,
    Sample,
    percentile,
    summarize,
)
from mediasync.model.rates import format_dollars, write_rates
from mediasync.model.scale import format_duration

console = Console(stderr=True)
out = Console()

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class CalibrationError(Exception):
    """The measurement could not go on (the scratch objects are removed all the same)."""


# -- the scratch objects ------------------------------------------------------------------------


@dataclass
class Scratch:
    """Everything the run writes, so that all of it goes whatever happens."""

    s3: Any
    bucket: str
    prefix: str
    uploads: dict[str, str] = field(default_factory=dict)  # upload id -> key

    def key(self, name: str) -> str:
        return self.prefix + name

    def create_upload(self, name: str) -> tuple[str, str]:
        key = self.key(name)
        upload_id = self.s3.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        self.uploads[upload_id] = key
        return key, upload_id

    def complete(self, key: str, upload_id: str, parts: list[dict[str, Any]]) -> None:
        self.s3.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                          MultipartUpload={"Parts": parts})
        self.uploads.pop(upload_id, None)

    def abort(self, key: str, upload_id: str) -> None:
        self.s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        self.uploads.pop(upload_id, None)

    def delete(self, *names: str) -> None:
        if names:
            self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": [{"Key": self.key(n)} for n in names],
                                                               "Quiet": True})

    def cleanup(self) -> list[str]:
        """Abort every upload and delete every object under the prefix; returns what is
        left (empty unless S3 refused). Uploads the run lost track of (Ctrl-C between
        CreateMultipartUpload and its answer) are found by listing."""
        for upload_id, key in list(self.uploads.items()):
            self._quietly(self.abort, key, upload_id)
        for upload in self._list_uploads():
            self._quietly(self.abort, upload["Key"], upload["UploadId"])
        keys = self._list_keys()
        for start in range(0, len(keys), 1000):
            self._quietly(self.s3.delete_objects, Bucket=self.bucket,
                          Delete={"Objects": [{"Key": key} for key in keys[start:start + 1000]], "Quiet": True})
        return self._list_keys() + [upload["Key"] for upload in self._list_uploads()]

    def _list_keys(self) -> list[str]:
        keys = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
            keys += [item["Key"] for item in page.get("Contents", [])]
        return keys

    def _list_uploads(self) -> list[dict[str, Any]]:
        uploads = []
        for page in self.s3.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=self.prefix):
            uploads += page.get("Uploads", [])
        return uploads

    @staticmethod
    def _quietly(call: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        try:
            call(*args, **kwargs)
        except (ClientError, BotoCoreError) as err:
            console.print(f"[yellow]cleanup:[/yellow] {err}")


# -- the measurements ---------------------------------------------------------------------------


def _timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    answer = call()
    return answer, time.perf_counter() - started


def _copy_range(scratch: Scratch, key: str, upload_id: str, part: int, source: str, offset: int,
                size: int) -> tuple[dict[str, Any], float]:
    answer, seconds = _timed(lambda: scratch.s3.upload_part_copy(
        Bucket=scratch.bucket, Key=key, UploadId=upload_id, PartNumber=part,
        CopySource={"Bucket": scratch.bucket, "Key": source}, CopySourceRange=f"bytes={offset}-{offset + size - 1}"))
    return {"PartNumber": part, "ETag": answer["CopyPartResult"]["ETag"]}, seconds


def _offset(index: int, size: int, source_size: int) -> int:
    """Ranges spread over the source, so that repeated copies do not read the same bytes."""
    return (index * size) % (source_size - size + 1)


def build_source(scratch: Scratch, plan: CalibrationPlan, tick: Callable[[], None]) -> str:
    """The seed, doubled server-side until it is ``plan.source_size``; returns its name."""
    name = "source-0"
    scratch.s3.put_object(Bucket=scratch.bucket, Key=scratch.key(name), Body=os.urandom(SEED_SIZE))
    tick()
    for step in range(1, plan.doublings + 1):
        previous, name = name, f"source-{step}"
        key, upload_id = scratch.create_upload(name)
        parts = [_copy_range(scratch, key, upload_id, part, scratch.key(previous), 0, SEED_SIZE * 2 ** (step - 1))[0]
                 for part in (1, 2)]
        scratch.complete(key, upload_id, parts)
        scratch.delete(previous)  # only the latest is needed: halves the storage
        tick()
    return scratch.key(name)


def measure_heads(scratch: Scratch, source: str, plan: CalibrationPlan, tick: Callable[[], None]) -> list[Sample]:
    samples = []
    for _ in range(plan.head_repeats):
        _, seconds = _timed(lambda: scratch.s3.head_object(Bucket=scratch.bucket, Key=source))
        samples.append(Sample("HeadObject", 0, seconds))
        tick()
    return samples


def measure_part_copies(scratch: Scratch, source: str, plan: CalibrationPlan,
                        tick: Callable[[], None]) -> list[Sample]:
    key, upload_id = scratch.create_upload("sweep")
    samples, part = [], 0
    for repeat in range(plan.repeats):
        for size in plan.sizes:
            part += 1
            _, seconds = _copy_range(scratch, key, upload_id, part, source,
                                     _offset(repeat, size, plan.source_size), size)
            samples.append(Sample("UploadPartCopy", size, seconds))
            tick()
    scratch.abort(key, upload_id)  # the parts were only ever timed
    return samples


def measure_copy_objects(scratch: Scratch, plan: CalibrationPlan, tick: Callable[[], None]) -> list[Sample]:
    samples = []
    for size in plan.copy_object_sizes:
        name = f"object-{size}"
        scratch.s3.put_object(Bucket=scratch.bucket, Key=scratch.key(name), Body=os.urandom(size))
        for repeat in range(plan.repeats):
            _, seconds = _timed(lambda: scratch.s3.copy_object(
                Bucket=scratch.bucket, Key=scratch.key(f"{name}-copy-{repeat}"),
                CopySource={"Bucket": scratch.bucket, "Key": scratch.key(name)}))
            samples.append(Sample("CopyObject", size, seconds))
            tick()
        scratch.delete(name, *(f"{name}-copy-{repeat}" for repeat in range(plan.repeats)))
    return samples


def measure_concurrency(scratch: Scratch, source: str, plan: CalibrationPlan,
                        tick: Callable[[], None]) -> tuple[list[Sample], list[dict[str, Any]]]:
    """``requests`` UploadPartCopy at once from the one source, then their
    CompleteMultipartUpload: per-request times under load, the aggregate rate, and
    completion time by part count."""
    samples, runs = [], []
    size = plan.concurrent_part_size
    for requests in plan.concurrency:
        name = f"concurrent-{requests}"
        key, upload_id = scratch.create_upload(name)
        pool = ThreadPoolExecutor(max_workers=requests)
        try:
            started = time.perf_counter()
            futures = [pool.submit(_copy_range, scratch, key, upload_id, index + 1, source,
                                   _offset(index, size, plan.source_size), size) for index in range(requests)]
            results = [future.result() for future in futures]
            wall = time.perf_counter() - started
        finally:
            # Ctrl-C or an error: the requests not yet sent are dropped, those in flight end.
            pool.shutdown(wait=True, cancel_futures=True)
        times = [seconds for _, seconds in results]
        samples += [Sample("UploadPartCopy", size, seconds, requests) for seconds in times]
        _, complete_seconds = _timed(lambda: scratch.complete(key, upload_id, [part for part, _ in results]))
        samples.append(Sample("CompleteMultipartUpload", 0, complete_seconds, 1, requests))
        scratch.delete(name)
        runs.append({"requests": requests, "part_size": size, "wall_seconds": wall,
                     "p50": percentile(times, 50), "p90": percentile(times, 90), "p99": percentile(times, 99),
                     "aggregate_bytes_per_second": requests * size / wall,
                     "complete_seconds": complete_seconds})
        tick()
    return samples, runs


# -- the command -----------------------------------------------------------------------------------


def _sizes(text: str, what: str, lowest: int = 1, highest: int = MAX_PART_SIZE) -> tuple[int, ...]:
    try:
        sizes = tuple(parse_size(item.strip()) for item in text.split(",") if item.strip())
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint=what) from None
    if not sizes or any(not lowest <= size <= highest for size in sizes):
        raise click.BadParameter(f"each size must be {format_size(lowest)} to {format_size(highest)}", param_hint=what)
    return sizes


def _counts(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(item) for item in text.split(",") if item.strip())
    except ValueError:
        raise click.BadParameter("a comma-separated list of whole numbers, e.g. 8,100,400",
                                 param_hint="--concurrency") from None
    if not counts or any(not 1 <= count <= 10_000 for count in counts):
        raise click.BadParameter("each count must be 1 to 10,000 (parts in one upload)", param_hint="--concurrency")
    return counts


def _s3_client(region: str | None, endpoint_url: str | None, connections: int) -> Any:
    config = Config(max_pool_connections=max(10, connections), retries={"mode": "standard", "max_attempts": 3},
                    s3={"addressing_style": "path"} if endpoint_url else {})
    return boto3.session.Session(region_name=region).client("s3", endpoint_url=endpoint_url, config=config)


def print_plan(plan: CalibrationPlan, bucket: str, prefix: str, region: str) -> None:
    table = Table(title=f"Calibration in {region}: s3://{bucket}/{prefix}", title_justify="left")
    table.add_column("step")
    table.add_column("requests", justify="right")
    table.add_row(f"seed upload {format_size(SEED_SIZE)}, doubled server-side to {format_size(plan.source_size)}",
                  f"{1 + 4 * plan.doublings}")
    table.add_row(f"HeadObject x {plan.head_repeats}", f"{plan.head_repeats}")
    table.add_row(f"UploadPartCopy of {', '.join(format_size(s) for s in plan.sizes)}, {plan.repeats} times each",
                  f"{len(plan.sizes) * plan.repeats}")
    table.add_row(f"CopyObject of {', '.join(f'{s:,} B' for s in plan.copy_object_sizes)} "
                  f"(uploaded first), {plan.repeats} times each", f"{len(plan.copy_object_sizes) * (plan.repeats + 1)}")
    table.add_row(f"{', '.join(str(c) for c in plan.concurrency)} UploadPartCopy of "
                  f"{format_size(plan.concurrent_part_size)} at once, each run completed",
                  f"{sum(plan.concurrency) + 2 * len(plan.concurrency)}")
    out.print(table)
    out.print(f"uploads {format_size(plan.upload_bytes())} from this machine; stores at most "
              f"{format_size(plan.peak_bytes())} for the run; deletes everything under the prefix at the end")
    dollars = plan.dollars()
    shown = "under $0.01" if dollars < 0.01 else f"about {format_dollars(dollars)}"
    out.print(f"expected cost: [bold]{shown}[/bold] (S3 requests and an hour of "
              f"storage at us-east-1 list prices); expected time: about "
              f"{format_duration(plan.expected_seconds())} at the model's rates")


@click.command("calibrate", short_help="Time server-side copies in your account; write a rates file.")
@click.option("--bucket", required=True, help="A bucket of yours to write scratch objects into (under their own "
              "prefix, all deleted at the end), in the Region the copy job will run in.")
@click.option("--region", default=None, help="The bucket's Region (default: your AWS configuration's).")
@click.option("--endpoint-url", default=None, type=ENDPOINT, help="An S3-compatible endpoint instead of Amazon S3 (for tests).")
@click.option("--prefix", default="mediasync-calibrate/", show_default=True,
              help="Scratch objects go under PREFIX<time>-<random>/: never anything already there.")
@click.option("--sizes", default=DEFAULT_SIZES, show_default=True, help="UploadPartCopy sizes to time.")
@click.option("--copy-object-sizes", default=DEFAULT_COPY_OBJECT_SIZES, show_default=True,
              help="CopyObject sizes to time (bytes, or with a binary unit).")
@click.option("--concurrency", default=DEFAULT_CONCURRENCY, show_default=True,
              help="Requests at once from one source object, one run each.")
@click.option("--concurrent-part-size", default=None,
              help="Part size of the concurrent runs [default: the largest --sizes up to 64MiB].")
@click.option("--repeats", type=click.IntRange(2, 50), default=5, show_default=True, help="Times each size is timed.")
@click.option("--head-repeats", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="HeadObject requests to time: the latency the model charges each request that moves no bytes.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("rates.json"),
              show_default=True, help="The rates file to write.")
@click.option("--yes", is_flag=True, help="Start without asking.")
def calibrate(bucket: str, region: str | None, endpoint_url: str | None, prefix: str, sizes: str,
              copy_object_sizes: str, concurrency: str, concurrent_part_size: str | None, repeats: int,
              head_repeats: int, output: Path, yes: bool) -> None:
    """Measure server-side copy in your account and Region, and write a rates file for
    `mediasync estimate --rates FILE`. About an hour and a few cents with the defaults;
    nothing is deployed.

    Exit status: 0 rates written, 1 the measurement failed or was interrupted (its scratch
    objects removed all the same), 2 bad usage.

    Example: mediasync calibrate --bucket my-scratch-bucket --region eu-west-1
    """
    part_sizes = _sizes(sizes, "--sizes")
    object_sizes = _sizes(copy_object_sizes, "--copy-object-sizes")
    counts = _counts(concurrency)
    default_part = max([size for size in part_sizes if size <= 64 * MiB] or [min(part_sizes)])
    part = _sizes(concurrent_part_size, "--concurrent-part-size", MIN_PART_SIZE)[0] if concurrent_part_size \
        else max(default_part, MIN_PART_SIZE)
    plan = CalibrationPlan(part_sizes, object_sizes, counts, part, repeats, head_repeats)
    s3 = _s3_client(region, endpoint_url, max(counts))
    region = region or s3.meta.region_name or "us-east-1"
    run_prefix = f"{prefix}{datetime.datetime.now(datetime.timezone.utc):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}/"
    print_plan(plan, bucket, run_prefix, region)
    if plan.dollars() > BUDGET_DOLLARS:
        console.print(f"[yellow]note:[/yellow] over the ${BUDGET_DOLLARS:.0f} this kit aims for: fewer or smaller sizes?")
    if not yes:
        click.confirm("Start?", abort=True, err=True)
    try:
        answer = s3.head_bucket(Bucket=bucket)
    except (ClientError, BotoCoreError) as err:
        console.print(f"[red]error:[/red] cannot use bucket {bucket}: {err}")
        sys.exit(EXIT_USAGE)
    bucket_region = answer.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("x-amz-bucket-region")
    if bucket_region and not endpoint_url and bucket_region != region:
        console.print(f"[yellow]note:[/yellow] {bucket} is in {bucket_region}, not {region}: "
                      "the timings are that Region's")
        region = bucket_region
    scratch = Scratch(s3, bucket, run_prefix)
    samples: list[Sample] = []
    runs: list[dict[str, Any]] = []
    failure = None
    started = time.perf_counter()
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console) as progress:
            def step(description: str, total: int) -> Callable[[], None]:
                task = progress.add_task(description, total=total)
                return lambda: progress.advance(task)

            source = build_source(scratch, plan, step("building the source", plan.doublings + 1))
            samples += measure_heads(scratch, source, plan, step("HeadObject", plan.head_repeats))
            samples += measure_part_copies(scratch, source, plan,
                                           step("UploadPartCopy by size", len(plan.sizes) * plan.repeats))
            samples += measure_copy_objects(scratch, plan,
                                            step("CopyObject by size", len(plan.copy_object_sizes) * plan.repeats))
            loaded, runs = measure_concurrency(scratch, source, plan,
                                               step("UploadPartCopy at once", len(plan.concurrency)))
            samples += loaded
    except KeyboardInterrupt:
        failure = "interrupted"
    except (ClientError, BotoCoreError, CalibrationError) as err:
        failure = str(err)
    finally:
        with console.status("removing the scratch objects"):
            left = scratch.cleanup()
        if left:
            console.print(f"[red]error:[/red] could not remove {len(left)} scratch item(s) under "
                          f"s3://{bucket}/{run_prefix}: {', '.join(left[:5])}")
        else:
            console.print(f"removed every scratch object and upload under s3://{bucket}/{run_prefix}")
    if failure:
        console.print(f"[red]calibration stopped:[/red] {failure}")
        sys.exit(EXIT_FAILED)
    about = {"at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), "region": region,
             "endpoint": endpoint_url, "bucket": bucket, "seconds": round(time.perf_counter() - started, 1),
             "plan": {**asdict(plan), "source_size": plan.source_size}}
    document = summarize(samples, runs, plan, about)
    write_rates(output, document)
    print_result(document)
    out.print(f"rates written to {output}: mediasync estimate --manifest ... --rates {output}")


def print_result(document: dict[str, Any]) -> None:
    rates, ranges = document["rates"], document["ranges"]
    table = Table(title="Measured rates (the model's defaults beside them)", title_justify="left")
    for column in ("rate", "measured", "measured range (p10-p90 fits)", "default"):
        table.add_column(column, justify="left" if column == "rate" else "right")
    defaults = Rates()
    for name, value in rates.items():
        low_high = ranges.get(name)
        shown = (lambda v: f"{v / MiB:,.1f} MiB/s") if name == "copy_bytes_per_second" else (lambda v: f"{v:.4g} s")
        table.add_row(name, shown(value), f"{shown(low_high[0])} - {shown(low_high[1])}" if low_high else "",
                      shown(getattr(defaults, name)))
    out.print(table)
    concurrency = Table(title="Requests at once from one source", title_justify="left")
    for column in ("requests", "p50", "p90", "p99", "aggregate", "CompleteMultipartUpload"):
        concurrency.add_column(column, justify="right")
    for run in document["concurrency"]:
        concurrency.add_row(f"{run['requests']:,}", f"{run['p50']:.2f} s", f"{run['p90']:.2f} s", f"{run['p99']:.2f} s",
                            f"{run['aggregate_bytes_per_second'] / GiB:,.2f} GiB/s", f"{run['complete_seconds']:.2f} s")
    out.print(concurrency)
    if document["rate_basis"]:
        out.print(f"copy_bytes_per_second from the {document['rate_basis']}")
    for warning in document["warnings"]:
        console.print(f"[yellow]warning:[/yellow] {warning}")
