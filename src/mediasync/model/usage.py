"""What a workload consumes on AWS: requests by API, Lambda GB-seconds, executions,
state transitions, Map Runs, Batch jobs and Fargate hours, DescribeExecution polls.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from mediasync.core.object_lock import lock_requested
from mediasync.core.settings import CopyOptions, MiB
from mediasync.core.timing import (
    COPY_OBJECT,
    EXPRESS_COPY_STATES,
    EXPRESS_PARTS,
    FARGATE_MINIMUM_SECONDS,
    MAP_CHILD_STATES,
    PATH_LABELS,
    STANDARD_BATCH,
    STANDARD_PARENT_STATES,
    TOO_LARGE,
    Quotas,
    Rates,
    Resources,
    expected_execution_seconds,
    multipart_timing,
)
from mediasync.model.requests import (
    FREE_REQUESTS,
    TIER1_REQUESTS,
    copy_object_requests,
    copy_object_seconds,
    describe_polls,
    express_billed_seconds,
    inspect_requests,
    inspect_seconds,
    multipart_requests,
)
from mediasync.model.workload import Workload

# -- usage -------------------------------------------------------------------------------


@dataclass
class Usage:
    requests: Counter = field(default_factory=Counter)  # S3 API name -> calls
    lambda_invocations: Counter = field(default_factory=Counter)  # function -> invocations
    lambda_gb_seconds: Counter = field(default_factory=Counter)  # function -> GB-s
    lambda_seconds: Counter = field(default_factory=Counter)  # function -> seconds (concurrency demand)
    express_executions: int = 0
    express_seconds: float = 0.0  # summed duration (concurrency demand)
    express_gb_seconds: float = 0.0
    standard_executions: int = 0
    standard_transitions: int = 0
    map_runs: int = 0
    map_run_seconds: float = 0.0  # sum of the time each Map Run is open
    describe_calls: int = 0  # DescribeExecution polls by batch_invoke, unthrottled
    batch_jobs: int = 0
    fargate_vcpu_hours: float = 0.0
    fargate_gb_hours: float = 0.0
    s3_batch_tasks: int = 0
    generated_manifest_objects: int = 0  # objects S3 Batch's ManifestGenerator lists for the job
    transfer_bytes: int = 0  # bytes crossing Regions (cross-Region copies only)
    longest_object_seconds: float = 0.0
    longest_object: str = ""
    longest_object_path: str = ""

    @property
    def tier1_requests(self) -> int:
        return sum(self.requests[name] for name in TIER1_REQUESTS)

    @property
    def tier2_requests(self) -> int:
        return sum(count for name, count in self.requests.items() if name not in TIER1_REQUESTS + FREE_REQUESTS)

    @property
    def free_requests(self) -> int:
        return sum(self.requests[name] for name in FREE_REQUESTS)

    @property
    def lambda_gb_seconds_total(self) -> float:
        return sum(self.lambda_gb_seconds.values())


def usage(
    workload: Workload,
    options: CopyOptions,
    rates: Rates = Rates(),
    resources: Resources = Resources(),
    quotas: Quotas = Quotas(),
    *,
    cross_region: bool = False,
    copy_answers_prove: bool = True,
) -> Usage:
    """``copy_answers_prove``: whether S3's answers to the copies carry checksums that
    prove them (AWS for objects with checksums; not moto's CompleteMultipartUpload),
    so Verify reads nothing back. A copy asked to carry an Object Lock is always read back
    (no answer to a copy shows its lock); a move deletes each source copied (DeleteObject)."""
    result = Usage()
    locks = lock_requested(options)
    copy_answers_prove = copy_answers_prove and not locks
    result.s3_batch_tasks = workload.objects
    mp = workload.multipart_sources_by_path

    def lambda_use(function: str, invocations: float, seconds: float, mb: int) -> None:
        result.lambda_invocations[function] += int(round(invocations))
        result.lambda_seconds[function] += seconds
        result.lambda_gb_seconds[function] += seconds * mb / 1024

    def inspect(objects: int, multipart_sources: int, invocations_each: int = 1) -> float:
        """batch_invoke's inspections of ``objects``, each invocation; returns their seconds in all."""
        plain = objects - multipart_sources
        for multipart_source, count in ((False, plain), (True, multipart_sources)):
            calls = inspect_requests(multipart_source, options.skip_existing)
            result.requests.update({name: n * count * invocations_each for name, n in calls.items()})
        return (plain * inspect_seconds(False, options, rates)
                + multipart_sources * inspect_seconds(True, options, rates)) * invocations_each

    def longest(seconds: float, what: str, path: str) -> None:
        seconds += rates.lambda_cold_start  # batch_invoke's own
        if seconds > result.longest_object_seconds:
            result.longest_object_seconds, result.longest_object, result.longest_object_path = seconds, what, path

    # Single CopyObject on the EXPRESS machine; batch_invoke waits for it synchronously.
    small = workload.paths[COPY_OBJECT]
    if small.objects:
        n = small.objects
        copy_total = n * (rates.copy_call_latency + rates.lambda_overhead) + small.bytes / rates.copy_bytes_per_second
        verify_total = n * (rates.lambda_overhead + rates.api_latency)
        express_total = copy_total + verify_total + n * len(EXPRESS_COPY_STATES) * rates.express_state_overhead
        result.requests.update({name: calls * n for name, calls in copy_object_requests(copy_answers_prove).items()})
        lambda_use("copy_object", n, copy_total, resources.copy_object_mb)
        lambda_use("verify_copy", n, verify_total, resources.control_mb)
        lambda_use("batch_invoke", n, inspect(n, mp[COPY_OBJECT]) + express_total, resources.batch_invoke_mb)
        result.express_executions += n
        result.express_seconds += express_total
        result.express_gb_seconds += n * express_billed_seconds(express_total / n, resources) \
            * resources.express_billed_mb / 1024
        longest(inspect_seconds(False, options, rates) + copy_object_seconds(small.largest, rates),
                f"{small.largest:,} B by CopyObject", COPY_OBJECT)

    # Multipart copies, shape by shape.
    for shape, count in workload.shapes.items():
        timing = multipart_timing(shape, options, rates, quotas, resources)
        requests = multipart_requests(shape.part_count, copy_answers_prove)
        result.requests.update({name: calls * count for name, calls in requests.items()})
        lambda_use("create_upload", count, count * timing.create, resources.control_mb)
        lambda_use("complete_upload", count, count * timing.complete, resources.control_mb)
        lambda_use("verify_copy", count, count * timing.verify, resources.control_mb)
        multipart_sources = workload.multipart_sources_by_shape[shape]
        per_object_inspect = inspect_seconds(multipart_sources * 2 > count, options, rates)  # the majority's
        if shape.path == STANDARD_BATCH:
            result.batch_jobs += shape.group_count * count
            billed = sum(max(seconds, FARGATE_MINIMUM_SECONDS) for seconds in timing.task_seconds)
            hours = count * billed / 3600
            result.fargate_vcpu_hours += hours * resources.worker_vcpus
            result.fargate_gb_hours += hours * resources.worker_memory_gb
        else:
            lambda_use("copy_parts", shape.group_count * count, count * timing.group_seconds_total,
                       resources.copy_parts_mb)
        if shape.path == EXPRESS_PARTS:
            object_seconds = per_object_inspect + timing.execution_seconds
            result.express_executions += count
            result.express_seconds += count * timing.execution_seconds
            result.express_gb_seconds += count * express_billed_seconds(timing.execution_seconds, resources) \
                * resources.express_billed_mb / 1024
            seconds = inspect(count, multipart_sources) + count * timing.execution_seconds
            lambda_use("batch_invoke", count, seconds, resources.batch_invoke_mb)
        else:
            # batch_invoke expects what the defaults predict, whatever the real rates are.
            expected = expected_execution_seconds(shape, options)
            polls, invocations, seen_at = describe_polls(timing.execution_seconds, expected, rates)
            object_seconds = per_object_inspect * invocations + seen_at
            result.standard_executions += count
            result.map_runs += count
            result.map_run_seconds += count * timing.map_seconds
            result.standard_transitions += count * (len(STANDARD_PARENT_STATES) + shape.group_count * len(MAP_CHILD_STATES))
            result.describe_calls += count * polls
            # A re-invoked batch_invoke inspects again before attaching to the execution.
            seconds = inspect(count, multipart_sources, invocations) + count * seen_at
            lambda_use("batch_invoke", count * invocations, seconds, resources.batch_invoke_mb)
        longest(object_seconds, f"{shape.part_count:,} parts of {shape.part_size / MiB:,.0f} MiB in "
                                f"{shape.group_count:,} group(s), {timing.width:,} at a time ({PATH_LABELS[shape.path]})",
                shape.path)

    too_large = workload.paths[TOO_LARGE].objects
    if too_large:  # inspected, then refused
        lambda_use("batch_invoke", too_large, inspect(too_large, mp[TOO_LARGE]), resources.batch_invoke_mb)
    add_cold_starts(result, rates, resources, quotas)
    if options.move:
        result.requests["DeleteObject"] += workload.objects - too_large
    if locks:
        # batch_invoke asks once per execution environment whether the destination has Object Lock.
        result.requests["GetObjectLockConfiguration"] += int(min(result.lambda_invocations["batch_invoke"],
                                                                 quotas.lambda_concurrency.value))
    if cross_region:
        result.transfer_bytes = workload.bytes - workload.paths[TOO_LARGE].bytes
    return result


@dataclass(frozen=True)
class SourceListing:
    """How a listed source becomes the job's manifest (``submit --source``): S3 Batch's
    ManifestGenerator lists it (``generated``), or this machine does, in
    ``list_requests`` ListObjectsV2 pages, and uploads the manifest."""

    objects_listed: int  # every object under the prefix, the filters' left-outs included
    generated: bool
    list_requests: int = 0


def add_source_listing(result: Usage, listing: SourceListing) -> None:
    """What making the manifest costs: the generator bills every object it lists; a
    listing here is LIST requests and one PUT of the manifest (a multipart upload of a
    large one is a few more)."""
    if listing.generated:
        result.generated_manifest_objects += listing.objects_listed
    else:
        result.requests["ListObjectsV2"] += listing.list_requests
        result.requests["PutObject"] += 1


def add_cold_starts(result: Usage, rates: Rates, resources: Resources, quotas: Quotas) -> None:
    """One INIT per execution environment, billed since 2025-08-01 (the source is in
    :data:`mediasync.model.rates.RATE_BASIS`): a function needs about as many
    environments as it runs at once, at most the account's concurrency, however many
    times it is invoked. Billed only: spread over the job, INITs hold a negligible
    share of the concurrency (the critical path counts its own,
    :attr:`mediasync.core.timing.MultipartTiming.cold`)."""
    memory = {"batch_invoke": resources.batch_invoke_mb, "copy_object": resources.copy_object_mb,
              "copy_parts": resources.copy_parts_mb}
    for function, invocations in result.lambda_invocations.items():
        seconds = min(invocations, quotas.lambda_concurrency.value) * rates.lambda_cold_start
        result.lambda_gb_seconds[function] += seconds * memory.get(function, resources.control_mb) / 1024


