"""A whole local job: manifest -> S3 Batch emulation -> state machines -> report file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Collection, Iterable

from ..manifest import ManifestRow
from ..report_view import timing_record, timings_path
from ..settings import CopyOptions, camel_case
from .runtime import BATCH_INVOKE_FUNCTION, LocalRuntime
from .s3batch import JobSummary, ReportRow, ReportWriter, S3BatchJob


@dataclass(frozen=True)
class JobRequest:
    options: CopyOptions
    report_path: Path
    concurrency: int = 16


# Copy options a job sends only when they differ from the defaults: S3 Batch takes
# at most 10 user arguments, and the ones above already fill 9.
OPTIONAL_ARGUMENTS = ("strip_prefix", "storage_class", "sse_kms_key_id", "bucket_key_enabled", "acl", "requester_pays")


def argument_text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def user_arguments(options: CopyOptions, *, include: Collection[str] = ()) -> dict[str, str]:
    """S3 Batch userArguments are strings; camelCase as the console shows them.

    The options of OPTIONAL_ARGUMENTS appear when set away from their defaults, or
    when named in ``include`` (a job that turns one off against the stack's setting).
    """
    arguments = {
        "destinationBucket": options.destination_bucket,
        "destinationPrefix": options.destination_prefix,
        "multipartThreshold": str(options.multipart_threshold),
        "partSize": str(options.part_size),
        "partsPerGroup": str(options.parts_per_group),
        "worker": options.worker,
        "batchPartsPerGroup": str(options.batch_parts_per_group),
        "maxConcurrency": str(options.max_concurrency),
        "skipExisting": str(options.skip_existing).lower(),
    }
    defaults = CopyOptions()
    for name in OPTIONAL_ARGUMENTS:
        value = getattr(options, name)
        if value is not None and (value != getattr(defaults, name) or name in include):
            arguments[camel_case(name)] = argument_text(value)
    return arguments


def run_job(
    runtime: LocalRuntime,
    rows: Iterable[ManifestRow],
    request: JobRequest,
    on_row: Callable[[ReportRow], None] | None = None,
) -> JobSummary:
    request.report_path.parent.mkdir(parents=True, exist_ok=True)
    job = S3BatchJob(
        lambda event: runtime.invoke(BATCH_INVOKE_FUNCTION, event),
        user_arguments=user_arguments(request.options),
        concurrency=request.concurrency,
    )
    # Per-object timings beside the report, for `mediasync report --html` charts.
    with request.report_path.open("w", encoding="utf-8", newline="") as handle, \
            timings_path(request.report_path).open("w", encoding="utf-8") as timings:
        writer = ReportWriter(handle)

        def record(row: ReportRow) -> None:
            writer.write(row)
            timings.write(json.dumps(timing_record(row)) + "\n")
            if on_row:
                on_row(row)

        return job.run(rows, record)
