"""How long one copy takes on AWS, and the rates, deployment sizes and quotas that say so.

batch_invoke (core.s3batch_task) sleeps until a STANDARD execution's expected end
before its first DescribeExecution (core.polling): :func:`expected_execution_seconds`,
the critical path of :func:`multipart_timing` at the default :class:`Rates` and
:class:`Quotas`. The cost and time model (mediasync.model) builds on the same
functions, so the Lambda and ``mediasync estimate`` never disagree about a copy's
duration; they live here because the Lambda layer ships core only. The sources and
ranges of the rates are in mediasync.model.rates, which only the model reads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from mediasync.core.plan import Plan
from mediasync.core.settings import CopyOptions, MiB, Settings

# How an object is copied: the paths of the design.
COPY_OBJECT = "express-copy"  # EXPRESS machine, one CopyObject
EXPRESS_PARTS = "express-parts"  # EXPRESS machine, inline Map of UploadPartCopy (small multipart sources)
STANDARD_LAMBDA = "standard-lambda"  # STANDARD machine, Distributed Map, groups on Lambda copy_parts
STANDARD_BATCH = "standard-batch"  # STANDARD machine, Distributed Map, groups on AWS Batch (Fargate Spot)
TOO_LARGE = "too-large"  # over 5 TiB: inspected, then refused with ObjectTooLarge
PATHS = (COPY_OBJECT, EXPRESS_PARTS, STANDARD_LAMBDA, STANDARD_BATCH, TOO_LARGE)
PATH_LABELS = {
    COPY_OBJECT: "EXPRESS, CopyObject",
    EXPRESS_PARTS: "EXPRESS, parts (inline Map)",
    STANDARD_LAMBDA: "STANDARD, groups on Lambda",
    STANDARD_BATCH: "STANDARD, groups on Batch",
    TOO_LARGE: "too large (> 5 TiB)",
}

def path_of(plan: Plan) -> str:
    if plan.route == "single":
        return COPY_OBJECT
    if plan.machine == "express":
        return EXPRESS_PARTS
    return STANDARD_BATCH if plan.worker == "batch" else STANDARD_LAMBDA


@dataclass(frozen=True)
class Shape:
    """A multipart copy without its exact size: objects of one shape behave alike."""

    path: str
    part_size: int
    part_count: int
    parts_per_group: int
    group_count: int

    @property
    def last_group_parts(self) -> int:
        return self.part_count - (self.group_count - 1) * self.parts_per_group


def shape_of(plan: Plan) -> Shape:
    return Shape(path_of(plan), plan.part_size, plan.part_count, plan.parts_per_group, plan.group_count)


# -- calibration, deployment, quotas, prices -----------------------------------------------



@dataclass(frozen=True)
class Rates:
    """Latencies and throughputs on AWS, same Region.

    Each default is the best-supported public figure, cited in
    :data:`mediasync.model.rates.RATE_BASIS`, with its low and high ends in
    :data:`mediasync.model.rates.RATE_RANGES` (docs/performance.md shows the headline
    at both ends). ``mediasync calibrate`` measures the copy figures in your own
    account and Region and writes a rates file (``mediasync estimate --rates``).
    """

    # Small S3 requests: "median latencies are often in the tens of milliseconds".
    api_latency: float = 0.03
    # Fixed part of a CopyObject / UploadPartCopy, apart from the bytes it moves.
    copy_call_latency: float = 0.2
    # One server-side copy request, measured: 1 GiB as one part in 15.6 s (awslabs/aws-c-s3#288),
    # 4 GB CopyObject in 72 s (s3fs-fuse/s3fs-fuse#940).
    copy_bytes_per_second: float = 70 * MiB
    lambda_overhead: float = 0.03  # Step Functions -> Lambda invoke and handler set-up, warm
    express_state_overhead: float = 0.005  # per state of an EXPRESS execution
    standard_state_overhead: float = 0.05  # per state of a STANDARD execution
    # MapRunStarted to MapRunSucceeded took over 7 s for 100 do-nothing items (re:Post).
    map_run_start: float = 7.0
    map_child_start: float = 0.1  # one child execution starting
    # Batch scheduling (SUBMITTED -> RUNNABLE -> STARTING) plus Fargate Spot provisioning and image pull.
    fargate_task_start: float = 90.0
    job_start: float = 30.0  # S3 Batch Operations job preparing (reading the manifest) before tasks run
    lambda_timeout: float = 900.0  # batch_invoke's timeout (Lambda maximum)
    invoke_time_margin: float = Settings().invoke_time_margin  # batch_invoke returns this early
    # A new execution environment (INIT: runtime, boto3 import, clients) for Python on arm64.
    lambda_cold_start: float = 0.5
    # CompleteMultipartUpload "could take several minutes": its time grows with the part count.
    complete_seconds_per_part: float = 0.002
    # A fresh destination takes 3,500 writes/s in all until S3 has partitioned it (30-60 min).
    prefix_partition_seconds: float = 1800.0
    # S3 Batch Operations' own task dispatch rate: not published, an assumption flagged in every estimate.
    batch_dispatch_per_second: float = 2500.0

    def copy_seconds(self, size: int) -> float:
        return self.copy_call_latency + size / self.copy_bytes_per_second

    @property
    def invoke_window(self) -> float:
        return self.lambda_timeout - self.invoke_time_margin


@dataclass(frozen=True)
class Resources:
    """Deployment sizes from template.yaml (a test compares): Lambda memory per
    function (arm64), the Batch worker's size, and the Fargate Spot compute
    environment's MaxvCpus (WorkerMaxVcpus; overflow to the on-demand environment is
    not modeled)."""

    batch_invoke_mb: int = 256
    copy_object_mb: int = 256
    control_mb: int = 256  # create_upload, complete_upload, verify_copy
    copy_parts_mb: int = 512
    worker_vcpus: float = 1.0
    worker_memory_gb: float = 2.0
    worker_max_vcpus: float = 256
    # BatchInvokeReservedConcurrency: 0 reserves none (batch_invoke shares the pool).
    batch_invoke_concurrency: int = 0
    # EXPRESS duration is billed in 64 MB steps of memory used (50 MB + definition +
    # payload per Map item): our payloads are a few KiB, so one step.
    express_billed_mb: int = 64
    express_billing_step: float = 0.1  # EXPRESS duration is rounded up to 100 ms


QUOTAS_READ = "2026-11-25"


@dataclass(frozen=True)
class Quota:
    value: float  # limit, or sustained rate (refill per second) for token buckets
    unit: str
    source: str
    adjustable: bool = True
    burst: float = 0.0  # token bucket size, spent before the refill rate applies


_SFN_QUOTAS = "https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html"
_LAMBDA_QUOTAS = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"
_LAMBDA_SCALING = "https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html"
_LAMBDA_RESERVED = "https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionConcurrency.html"
# Reservations must leave this much of the account's concurrency unreserved (_LAMBDA_RESERVED).
LAMBDA_UNRESERVED_MINIMUM = 100
# The wall-time constraint a reserved batch_invoke concurrency adds.
INVOKE_CONCURRENCY = "batch_invoke reserved concurrency"
_S3_PERFORMANCE = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html"
_FARGATE_THROTTLING = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/throttling.html"


@dataclass(frozen=True)
class Quotas:
    """Published default quotas for US East (N. Virginia), US West (Oregon) and Europe
    (Ireland), read on :data:`QUOTAS_READ`. Other Regions have lower Step Functions
    rates; new accounts start lower (state transitions, Fargate vCPUs)."""

    lambda_concurrency: Quota = Quota(1000, "concurrent Lambda executions per Region", _LAMBDA_QUOTAS)
    lambda_scale_per_10s: Quota = Quota(1000, "concurrency added per function every 10 s", _LAMBDA_SCALING, False)
    express_starts_per_second: Quota = Quota(6000, "EXPRESS StartExecution per s", _SFN_QUOTAS, burst=6000)
    sync_express_concurrency: Quota = Quota(1000, "concurrent synchronous EXPRESS executions "
                                            "(1,000-3,700 by Region; lowest assumed)", _SFN_QUOTAS)
    standard_starts_per_second: Quota = Quota(300, "STANDARD StartExecution per s", _SFN_QUOTAS, burst=1300)
    state_transitions_per_second: Quota = Quota(1500, "STANDARD state transitions per s", _SFN_QUOTAS, burst=5000)
    describe_execution_per_second: Quota = Quota(15, "DescribeExecution calls per s", _SFN_QUOTAS, burst=300)
    open_map_runs: Quota = Quota(1000, "open Map Runs per account and Region", _SFN_QUOTAS, False)
    map_child_concurrency: Quota = Quota(10000, "concurrent child executions per Map Run", _SFN_QUOTAS, False)
    s3_copy_per_prefix: Quota = Quota(3500, "PUT/COPY/POST/DELETE per s per partitioned prefix", _S3_PERFORMANCE, False)
    s3_read_per_prefix: Quota = Quota(5500, "GET/HEAD per s per partitioned prefix", _S3_PERFORMANCE, False)
    fargate_spot_vcpus: Quota = Quota(4000, "Fargate Spot vCPUs (account specific: see Service Quotas "
                                      "L-36FBB829; assumed)", "Service Quotas console")
    fargate_launches_per_second: Quota = Quota(20, "Fargate Spot task launches per s", _FARGATE_THROTTLING, burst=100)


QUOTA_NAMES = tuple(Quotas.__dataclass_fields__)


def with_quota(quotas: Quotas, name: str, value: float) -> Quotas:
    """The same quotas with one changed: for "what raising it buys"."""
    return replace(quotas, **{name: replace(getattr(quotas, name), value=value)})


# States entered on the happy path; a test walks statemachine/*.asl.json to check.
STANDARD_PARENT_STATES = ("Inspected", "Route", "CreateUpload", "CopyPartGroups", "CompleteUpload", "Verify", "Copied")
MAP_CHILD_STATES = ("ChooseWorker", "CopyPartsOnLambda")  # or CopyPartsOnBatch: as many states
EXPRESS_COPY_STATES = ("Inspected", "Route", "CopyObject", "Verify", "Copied")
EXPRESS_PARTS_STATES = ("Inspected", "Route", "CreateUpload", "CopyPartGroups", "CompleteUpload", "Verify", "Copied")
EXPRESS_MAP_ITEM_STATES = ("CopyPartsOnLambda",)
LIST_PARTS_PAGE = 1000  # ListParts returns at most 1,000 parts a page
FARGATE_MINIMUM_SECONDS = 60.0  # Fargate bills at least one minute per task

def group_seconds(parts: int, part_size: int, part_concurrency: int, rates: Rates) -> float:
    """One copy_parts invocation (or Batch job's work): its parts, part_concurrency at a time."""
    waves = math.ceil(parts / max(1, part_concurrency))
    return rates.lambda_overhead + waves * rates.copy_seconds(part_size)


@dataclass(frozen=True)
class MultipartTiming:
    """One multipart copy of a given shape: where its time goes."""

    create: float
    map_seconds: float  # the Map state, first child started to last child done
    complete: float
    verify: float
    states: float  # state transition overhead
    width: int  # part groups in flight at once
    group_seconds_total: float  # work summed over groups (compute billed)
    task_seconds: tuple[float, ...]  # each group's billed duration (Batch: one task each)
    # Cold starts on the critical path: a job's first object finds no warm environment.
    # Kept apart so that compute is billed one INIT per environment, not per object
    # (mediasync.model.usage).
    cold: float = 0.0

    @property
    def execution_seconds(self) -> float:
        return self.create + self.map_seconds + self.complete + self.verify + self.states + self.cold


def map_width(shape: Shape, options: CopyOptions, quotas: Quotas, resources: Resources) -> int:
    """Part groups in flight for one object: MaxConcurrency, capped by what runs them."""
    width = min(options.max_concurrency, shape.group_count)
    if shape.path == STANDARD_BATCH:
        width = min(width, int(quotas.map_child_concurrency.value), fargate_workers(quotas, resources))
    elif shape.path == STANDARD_LAMBDA:
        width = min(width, int(quotas.map_child_concurrency.value), int(quotas.lambda_concurrency.value))
    return max(1, width)


def fargate_workers(quotas: Quotas, resources: Resources) -> int:
    """Batch workers that can run at once: the account's Fargate Spot vCPUs or the
    compute environment's MaxvCpus, whichever is lower."""
    return int(min(quotas.fargate_spot_vcpus.value, resources.worker_max_vcpus) // resources.worker_vcpus)


def multipart_timing(shape: Shape, options: CopyOptions, rates: Rates, quotas: Quotas,
                     resources: Resources = Resources()) -> MultipartTiming:
    full = group_seconds(shape.parts_per_group, shape.part_size, options.part_concurrency, rates)
    last = group_seconds(shape.last_group_parts, shape.part_size, options.part_concurrency, rates)
    start = rates.fargate_task_start if shape.path == STANDARD_BATCH else 0.0
    width = map_width(shape, options, quotas, resources)
    if shape.path == EXPRESS_PARTS:
        # Inline Map inside the EXPRESS machine (copy_small.asl.json).
        child_start, map_start = 0.0, 0.0
        states = len(EXPRESS_PARTS_STATES) * rates.express_state_overhead
    else:
        child_start, map_start = rates.map_child_start, rates.map_run_start
        states = (len(STANDARD_PARENT_STATES) + len(MAP_CHILD_STATES)) * rates.standard_state_overhead
    waves = math.ceil(shape.group_count / width)
    in_last_wave = shape.group_count - (waves - 1) * width
    # Every wave runs full groups, but a last wave holding only the last group is shorter.
    last_wave = full if in_last_wave > 1 else last
    map_seconds = map_start + waves * (child_start + start) + (waves - 1) * full + last_wave
    tasks = (full + start,) * (shape.group_count - 1) + (last + start,)
    # create_upload, complete_upload and verify_copy, and the first wave of copy_parts.
    cold_steps = 3 if shape.path == STANDARD_BATCH else 4
    return MultipartTiming(
        create=rates.lambda_overhead + 3 * rates.api_latency,
        map_seconds=map_seconds,
        complete=complete_upload_seconds(shape.part_count, rates),
        verify=rates.lambda_overhead + 2 * rates.api_latency,
        states=states,
        width=width,
        group_seconds_total=sum(tasks),
        task_seconds=tasks,
        cold=cold_steps * rates.lambda_cold_start,
    )


def complete_upload_seconds(part_count: int, rates: Rates) -> float:
    """complete_upload: ListParts pages, then CompleteMultipartUpload, whose own time
    grows with the parts it stitches together."""
    return (rates.lambda_overhead + (math.ceil(part_count / LIST_PARTS_PAGE) + 1) * rates.api_latency
            + part_count * rates.complete_seconds_per_part)


def expected_execution_seconds(shape: Shape, options: CopyOptions) -> float:
    """How long the model expects a STANDARD execution of ``shape`` to run on AWS at the
    default rates and quotas: when batch_invoke first asks whether it has ended."""
    return multipart_timing(shape, options, Rates(), Quotas()).execution_seconds


