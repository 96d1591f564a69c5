"""What a copy job will do, cost and take on AWS: a pure model, no I/O.

Four layers, each a pure function of the one before, so each can be tested alone:

1. :func:`tally` -- the workload: objects, bytes, size histogram, and how each object
   is routed by :func:`mediasync.plan.plan_copy`, the very function the copy uses.
2. :func:`usage` -- what the workload consumes: S3 requests by API, Lambda
   invocations and GB-seconds, EXPRESS executions, STANDARD state transitions, Map
   Runs, Batch jobs and Fargate hours, DescribeExecution polls. Durations come from
   :class:`Rates`, memory sizes from :class:`Resources`.
3. :func:`cost` -- usage times :data:`PRICES`, line by line.
4. :func:`wall_time` -- usage against :class:`Quotas`: every limit gives the seconds it
   alone would need at full use; the largest binds. The longest single object (its
   critical path) is one of the constraints. :func:`raise_quota` answers "what does
   raising the binding quota buy" by running the model again.

Request counts per object follow the code (``batch.py``, ``source.py``, ``copy.py``,
``verify.py``) and are checked by a test that counts the S3 calls of real copies;
state counts follow ``statemachine/*.asl.json`` and are checked by a test that walks
the ASL files; the DescribeExecution poll schedule is ``polling.poll_delays``, as
``TaskRunner._wait`` uses it, checked by a test that drives ``_wait`` with a fake clock.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from typing import Iterable

from .errors import ObjectTooLarge
from .plan import MAX_OBJECT_SIZE, MIN_PART_SIZE, Plan, plan_copy
from .polling import poll_delays
from .settings import GiB, MiB, TiB, CopyOptions, Settings

# -- the workload ---------------------------------------------------------------------

# Upper bounds (inclusive) of the size histogram's bins; the last bin is open.
SIZE_BINS: tuple[tuple[str, int], ...] = (
    ("< 1 MiB", MiB - 1),
    ("1-16 MiB", 16 * MiB - 1),
    ("16-256 MiB", 256 * MiB - 1),
    ("256 MiB-5 GiB", 5 * GiB - 1),
    ("5-100 GiB", 100 * GiB - 1),
    ("100 GiB-1 TiB", TiB - 1),
    ("1-5 TiB", MAX_OBJECT_SIZE),
    ("> 5 TiB", -1),
)

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

# Distinct destination prefixes remembered for the per-prefix request rate (memory bound).
PREFIX_COUNT_CAP = 100_000


def size_bin(size: int) -> int:
    for index, (_, upper) in enumerate(SIZE_BINS):
        if upper < 0 or size <= upper:
            return index
    raise AssertionError("unreachable: the last bin is open")


def path_of(plan: Plan) -> str:
    if plan.route == "single":
        return COPY_OBJECT
    if plan.machine == "express":
        return EXPRESS_PARTS
    return STANDARD_BATCH if plan.worker == "batch" else STANDARD_LAMBDA


def prefix_of(key: str) -> str:
    """The key up to its last '/': the unit S3 request rates are quoted for."""
    return key.rsplit("/", 1)[0] + "/" if "/" in key else ""


def infer_part_size(size: int, part_count: int) -> int:
    """The part size of a multipart object known only by size and ETag part count.

    An S3 Inventory lists size and ETag, not the part size HeadObject PartNumber=1
    would give. Uploaders use whole MiB part sizes of at least 5 MiB, so the smallest
    such size that gives exactly ``part_count`` parts is the likely one; otherwise
    the exact ceiling. The estimate then plans the copy as the copy itself would.
    """
    if part_count <= 1:
        return size
    exact = math.ceil(size / part_count)
    whole_mib = max(math.ceil(exact / MiB) * MiB, MIN_PART_SIZE)
    if (part_count - 1) * whole_mib < size <= part_count * whole_mib:
        return whole_mib
    return exact


@dataclass(frozen=True)
class ObjectSpec:
    """What the model needs to know of one source object (or ``count`` equal ones)."""

    size: int
    source_part_count: int | None = None
    source_part_size: int | None = None
    prefix: str = ""  # destination key up to its last '/'
    count: int = 1


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


@dataclass
class PathTally:
    objects: int = 0
    bytes: int = 0
    parts: int = 0
    groups: int = 0
    largest: int = 0


@dataclass
class Workload:
    objects: int = 0
    bytes: int = 0
    multipart_sources: int = 0
    histogram: list[int] = field(default_factory=lambda: [0] * len(SIZE_BINS))
    paths: dict[str, PathTally] = field(default_factory=lambda: {path: PathTally() for path in PATHS})
    # Multipart copies by shape -> objects. Bounded by the number of distinct
    # layouts, not by the number of objects.
    shapes: Counter = field(default_factory=Counter)
    # Multipart sources by path and by shape: each costs batch_invoke one more HEAD
    # (PartNumber=1).
    multipart_sources_by_path: Counter = field(default_factory=Counter)
    multipart_sources_by_shape: Counter = field(default_factory=Counter)
    prefixes: set[str] = field(default_factory=set)
    prefixes_capped: bool = False

    def add(self, spec: ObjectSpec, options: CopyOptions) -> str:
        """Count ``spec`` (``spec.count`` equal objects); returns the path it takes."""
        count = spec.count
        self.objects += count
        self.bytes += spec.size * count
        self.histogram[size_bin(spec.size)] += count
        if len(self.prefixes) < PREFIX_COUNT_CAP:
            self.prefixes.add(spec.prefix)
        elif spec.prefix not in self.prefixes:
            self.prefixes_capped = True
        try:
            plan = plan_copy(spec.size, options, source_part_size=spec.source_part_size,
                             source_part_count=spec.source_part_count)
            path = path_of(plan)
        except ObjectTooLarge:
            plan, path = None, TOO_LARGE
        if spec.source_part_count:
            self.multipart_sources += count
            self.multipart_sources_by_path[path] += count
        tally_ = self.paths[path]
        tally_.objects += count
        tally_.bytes += spec.size * count
        tally_.largest = max(tally_.largest, spec.size)
        if plan is not None and plan.route == "multipart":
            tally_.parts += plan.part_count * count
            tally_.groups += plan.group_count * count
            shape = shape_of(plan)
            self.shapes[shape] += count
            if spec.source_part_count:
                self.multipart_sources_by_shape[shape] += count
        return path

    @property
    def prefix_count(self) -> int:
        return max(1, len(self.prefixes))


def shape_of(plan: Plan) -> Shape:
    return Shape(path_of(plan), plan.part_size, plan.part_count, plan.parts_per_group, plan.group_count)


def tally(specs: Iterable[ObjectSpec], options: CopyOptions) -> Workload:
    workload = Workload()
    for spec in specs:
        workload.add(spec, options)
    return workload


# -- calibration, deployment, quotas, prices -----------------------------------------------



@dataclass(frozen=True)
class Rates:
    """Latencies and throughputs on AWS, same Region.

    None of these could be measured on the development machine (no AWS account; a
    local S3 server copies at disk speed with loopback latency). They are planning
    figures, each with its basis in :data:`RATE_BASIS`; calibrate them from a real
    job's CloudWatch metrics (Lambda Duration of copy_parts per part, ExecutionTime)
    and pass your own ``Rates``.
    """

    api_latency: float = 0.02  # one S3 control call: HEAD, Create/Complete, ListParts page, tagging
    copy_call_latency: float = 0.05  # fixed part of a CopyObject / UploadPartCopy
    copy_bytes_per_second: float = 100 * MiB  # server-side copy rate of one copy request
    lambda_overhead: float = 0.03  # Step Functions -> Lambda invoke and handler set-up, warm
    express_state_overhead: float = 0.005  # per state of an EXPRESS execution
    standard_state_overhead: float = 0.05  # per state of a STANDARD execution
    map_run_start: float = 1.0  # a Distributed Map run starting its first children
    map_child_start: float = 0.1  # one child execution starting
    fargate_task_start: float = 60.0  # AWS Batch scheduling + Fargate Spot provisioning + image pull
    job_start: float = 30.0  # S3 Batch Operations job preparing (reading the manifest) before tasks run
    lambda_timeout: float = 900.0  # batch_invoke's timeout (Lambda maximum)
    invoke_time_margin: float = Settings().invoke_time_margin  # batch_invoke returns this early

    def copy_seconds(self, size: int) -> float:
        return self.copy_call_latency + size / self.copy_bytes_per_second

    @property
    def invoke_window(self) -> float:
        return self.lambda_timeout - self.invoke_time_margin


RATE_BASIS = {
    "api_latency": "assumed: typical same-Region S3 HEAD/metadata call",
    "copy_call_latency": "assumed: request set-up of a server-side copy",
    "copy_bytes_per_second": "assumed planning figure; server-side copy speed is not published. "
                             "AutoMQ/automq#791 reports single large UploadPartCopy calls over 30 s",
    "lambda_overhead": "assumed: warm Lambda invoke from Step Functions",
    "express_state_overhead": "assumed",
    "standard_state_overhead": "assumed",
    "map_run_start": "assumed",
    "map_child_start": "assumed",
    "fargate_task_start": "assumed: Batch scheduling plus Fargate Spot start (image pull included)",
    "job_start": "assumed: S3 Batch Operations Preparing -> Active for a small manifest",
    "lambda_timeout": "Lambda maximum timeout (900 s); the SAM template is to give batch_invoke that",
    "invoke_time_margin": "code: Settings.invoke_time_margin",
}


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


@dataclass(frozen=True)
class Price:
    amount: float  # US dollars per unit
    unit: str
    source: str


PRICES_AS_OF = "2026-11-25"
PRICES_REGION = "us-east-1"
# On-demand list prices, us-east-1, as published on the pages named (read on
# PRICES_AS_OF). Free tiers are ignored. Check before quoting a customer: prices
# change and differ by Region.
PRICES: dict[str, Price] = {
    "s3_tier1": Price(0.005 / 1000, "S3 PUT/COPY/POST/LIST request (CopyObject, UploadPartCopy, "
                      "Create/CompleteMultipartUpload, ListParts)", "https://aws.amazon.com/s3/pricing/"),
    "s3_tier2": Price(0.0004 / 1000, "S3 GET and other request (HeadObject, GetObjectTagging)",
                      "https://aws.amazon.com/s3/pricing/"),
    "batch_job": Price(0.25, "S3 Batch Operations job", "https://aws.amazon.com/s3/pricing/ (Management & insights)"),
    "batch_object": Price(1.00 / 1_000_000, "S3 Batch Operations object processed",
                          "https://aws.amazon.com/s3/pricing/ (Management & insights)"),
    "lambda_request": Price(0.20 / 1_000_000, "Lambda request", "https://aws.amazon.com/lambda/pricing/"),
    "lambda_gb_second": Price(0.0000133334, "Lambda GB-second (Arm, as template.yaml deploys)",
                              "https://aws.amazon.com/lambda/pricing/"),
    "standard_transition": Price(0.025 / 1000, "Step Functions STANDARD state transition",
                                 "https://aws.amazon.com/step-functions/pricing/"),
    "express_request": Price(1.00 / 1_000_000, "Step Functions EXPRESS request",
                             "https://aws.amazon.com/step-functions/pricing/"),
    "express_gb_second": Price(0.00001667, "Step Functions EXPRESS GB-second (first 1,000 GB-hours a month)",
                               "https://aws.amazon.com/step-functions/pricing/"),
    # Fargate Spot prices move with supply and demand (up to 70% below on-demand,
    # $0.04048 per vCPU-hour and $0.004445 per GB-hour): 70% off is assumed.
    "fargate_spot_vcpu_hour": Price(0.04048 * 0.3, "Fargate Spot vCPU-hour (Linux/x86, 70% below on-demand)",
                                    "https://aws.amazon.com/fargate/pricing/"),
    "fargate_spot_gb_hour": Price(0.004445 * 0.3, "Fargate Spot GB-hour (Linux/x86, 70% below on-demand)",
                                  "https://aws.amazon.com/fargate/pricing/"),
    "inter_region_gb": Price(0.02, "data transfer between Regions, per GB (cross-Region copies only)",
                             "https://aws.amazon.com/s3/pricing/ (Data transfer)"),
}

# States entered on the happy path; a test walks statemachine/*.asl.json to check.
STANDARD_PARENT_STATES = ("Inspected", "Route", "CreateUpload", "CopyPartGroups", "CompleteUpload", "Verify", "Copied")
MAP_CHILD_STATES = ("ChooseWorker", "CopyPartsOnLambda")  # or CopyPartsOnBatch: as many states
EXPRESS_COPY_STATES = ("Inspected", "Route", "CopyObject", "Verify", "Copied")
EXPRESS_PARTS_STATES = ("Inspected", "Route", "CreateUpload", "CopyPartGroups", "CompleteUpload", "Verify", "Copied")
EXPRESS_MAP_ITEM_STATES = ("CopyPartsOnLambda",)
LIST_PARTS_PAGE = 1000  # ListParts returns at most 1,000 parts a page
FARGATE_MINIMUM_SECONDS = 60.0  # Fargate bills at least one minute per task

TIER1_REQUESTS = ("CopyObject", "UploadPartCopy", "CreateMultipartUpload", "CompleteMultipartUpload", "ListParts")


# -- per-object request counts and timings ----------------------------------------------------


def inspect_requests(multipart_source: bool, skip_existing: bool) -> Counter:
    """batch_invoke: HEAD the source (+ PartNumber=1 and the last part of a multipart source,
    which tell equal parts from uneven ones), HEAD the destination."""
    return Counter({"HeadObject": 1 + 2 * int(multipart_source) + int(skip_existing)})


def copy_object_requests() -> Counter:
    """copy_object + verify_copy: CopyObject, then one HEAD of the destination."""
    return Counter({"CopyObject": 1, "HeadObject": 1})


def multipart_requests(part_count: int) -> Counter:
    """create_upload + copy_parts + complete_upload + verify_copy, for one multipart copy."""
    return Counter({
        # create_upload: HEAD IfMatch for the content headers; verify: HEAD and HEAD PartNumber=1.
        "HeadObject": 3,
        "GetObjectTagging": 1,
        "CreateMultipartUpload": 1,
        "UploadPartCopy": part_count,
        "ListParts": math.ceil(part_count / LIST_PARTS_PAGE),
        "CompleteMultipartUpload": 1,
    })


def describe_polls(execution_seconds: float, expected_seconds: float, rates: Rates) -> tuple[int, int, float]:
    """How batch_invoke waits for a STANDARD execution that runs ``execution_seconds``
    when it expects ``expected_seconds`` (``TaskRunner._wait``).

    Returns (DescribeExecution calls, batch_invoke invocations, seconds until it sees
    the end). The invocation that starts the execution sleeps to its expected end,
    then polls on :func:`~mediasync.polling.poll_delays`; each returns before its own
    timeout, and S3 Batch invokes it again (assumed at once): that invocation attaches
    to the same execution and polls at once before it sleeps.
    """
    window = rates.invoke_window
    if window <= 0:
        raise ValueError("batch_invoke's time window must be positive")
    polls, invocations, now = 0, 0, 0.0
    while True:
        invocations += 1
        invocation_started = now
        if invocations > 1:
            polls += 1
            if now >= execution_seconds:
                return polls, invocations, now
        for delay in poll_delays(expected_seconds - now, expected_seconds):
            time_left = window - (now - invocation_started)
            if time_left <= 0:
                break
            now += min(delay, time_left)
            polls += 1
            if now >= execution_seconds:
                return polls, invocations, now


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

    @property
    def execution_seconds(self) -> float:
        return self.create + self.map_seconds + self.complete + self.verify + self.states


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
    return MultipartTiming(
        create=rates.lambda_overhead + 3 * rates.api_latency,
        map_seconds=map_seconds,
        complete=rates.lambda_overhead + (math.ceil(shape.part_count / LIST_PARTS_PAGE) + 1) * rates.api_latency,
        verify=rates.lambda_overhead + 2 * rates.api_latency,
        states=states,
        width=width,
        group_seconds_total=sum(tasks),
        task_seconds=tasks,
    )


def expected_execution_seconds(shape: Shape, options: CopyOptions) -> float:
    """How long the model expects a STANDARD execution of ``shape`` to run on AWS at the
    default rates and quotas: when batch_invoke first asks whether it has ended."""
    return multipart_timing(shape, options, Rates(), Quotas()).execution_seconds


def copy_object_seconds(size: int, rates: Rates) -> float:
    """An EXPRESS CopyObject execution: copy_object and verify_copy Lambdas, its states."""
    return (2 * rates.lambda_overhead + rates.copy_seconds(size) + rates.api_latency
            + len(EXPRESS_COPY_STATES) * rates.express_state_overhead)


def inspect_seconds(multipart_source: bool, options: CopyOptions, rates: Rates) -> float:
    """batch_invoke's own work before it starts an execution."""
    return rates.lambda_overhead + rates.api_latency * inspect_requests(multipart_source, options.skip_existing).total()


def express_billed_seconds(seconds: float, resources: Resources) -> float:
    step = resources.express_billing_step
    return math.ceil(seconds / step - 1e-9) * step


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
    transfer_bytes: int = 0  # bytes crossing Regions (cross-Region copies only)
    longest_object_seconds: float = 0.0
    longest_object: str = ""
    longest_object_path: str = ""

    @property
    def tier1_requests(self) -> int:
        return sum(self.requests[name] for name in TIER1_REQUESTS)

    @property
    def tier2_requests(self) -> int:
        return sum(count for name, count in self.requests.items() if name not in TIER1_REQUESTS)

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
) -> Usage:
    result = Usage()
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
        if seconds > result.longest_object_seconds:
            result.longest_object_seconds, result.longest_object, result.longest_object_path = seconds, what, path

    # Single CopyObject on the EXPRESS machine; batch_invoke waits for it synchronously.
    small = workload.paths[COPY_OBJECT]
    if small.objects:
        n = small.objects
        copy_total = n * (rates.copy_call_latency + rates.lambda_overhead) + small.bytes / rates.copy_bytes_per_second
        verify_total = n * (rates.lambda_overhead + rates.api_latency)
        express_total = copy_total + verify_total + n * len(EXPRESS_COPY_STATES) * rates.express_state_overhead
        result.requests.update({name: calls * n for name, calls in copy_object_requests().items()})
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
        result.requests.update({name: calls * count for name, calls in multipart_requests(shape.part_count).items()})
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
    if cross_region:
        result.transfer_bytes = workload.bytes - workload.paths[TOO_LARGE].bytes
    return result


# -- cost ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CostLine:
    item: str
    quantity: float
    unit_price: float
    dollars: float
    source: str


def cost(usage_: Usage, prices: dict[str, Price] = PRICES, *, jobs: int = 1) -> list[CostLine]:
    """Dollars line by line (lines with zero quantity omitted); the total is their sum."""
    quantities = [
        ("s3_tier1", usage_.tier1_requests),
        ("s3_tier2", usage_.tier2_requests),
        ("batch_job", jobs if usage_.s3_batch_tasks else 0),
        ("batch_object", usage_.s3_batch_tasks),
        ("lambda_request", sum(usage_.lambda_invocations.values())),
        ("lambda_gb_second", usage_.lambda_gb_seconds_total),
        ("standard_transition", usage_.standard_transitions),
        ("express_request", usage_.express_executions),
        ("express_gb_second", usage_.express_gb_seconds),
        ("fargate_spot_vcpu_hour", usage_.fargate_vcpu_hours),
        ("fargate_spot_gb_hour", usage_.fargate_gb_hours),
        ("inter_region_gb", usage_.transfer_bytes / 1e9),
    ]
    lines = []
    for name, quantity in quantities:
        if quantity:
            price = prices[name]
            lines.append(CostLine(price.unit, quantity, price.amount, quantity * price.amount, price.source))
    return lines


def total_dollars(lines: Iterable[CostLine]) -> float:
    return sum(line.dollars for line in lines)


# -- wall time ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Constraint:
    name: str
    seconds: float
    detail: str
    quota: str = ""  # the Quotas field behind it ("" for the critical path)


@dataclass(frozen=True)
class WallTime:
    seconds: float  # job start + the binding constraint
    job_start: float
    constraints: tuple[Constraint, ...]  # largest first

    @property
    def binding(self) -> Constraint:
        return self.constraints[0]

    @property
    def copy_seconds(self) -> float:
        """From the first task to the last verified copy (S3 Batch job preparation excluded)."""
        return self.seconds - self.job_start


def lambda_ramp_seconds(work: float, concurrency: float, scale_per_10s: float) -> float:
    """Seconds to run ``work`` Lambda-seconds when concurrency grows by ``scale_per_10s``
    every 10 s up to ``concurrency``: the area under a ramp, then a plateau."""
    slope = scale_per_10s / 10.0
    ramp_work = concurrency * concurrency / (2 * slope)
    if work <= ramp_work:
        return math.sqrt(2 * work / slope)
    return concurrency / slope + (work - ramp_work) / concurrency


def _rate_seconds(demand: float, quota: Quota) -> float:
    return max(0.0, demand - quota.burst) / quota.value


def wall_time(workload: Workload, usage_: Usage, quotas: Quotas = Quotas(), rates: Rates = Rates(),
              resources: Resources = Resources()) -> WallTime:
    """Seconds each limit alone would need; the job takes as long as the largest.

    A fluid model: each resource is kept busy at its limit, and the longest single
    object cannot be split. Lambda concurrency ramps up by 1,000 per 10 s (counted
    once, although each function ramps on its own). Token-bucket rates spend their
    burst first.
    """
    prefixes = workload.prefix_count
    concurrency = quotas.lambda_concurrency.value
    scale = quotas.lambda_scale_per_10s.value
    lambda_seconds = sum(usage_.lambda_seconds.values())
    copy_calls = usage_.tier1_requests
    read_calls = usage_.tier2_requests
    constraints = [Constraint("longest object", usage_.longest_object_seconds, usage_.longest_object or "no object")]
    reserved = resources.batch_invoke_concurrency
    if reserved:
        # batch_invoke holds its slot for an object's whole copy (it waits for the
        # execution), so N slots copy at most N objects at a time: about
        # objects x copy duration / N. The other functions get what is left.
        invoke_seconds = usage_.lambda_seconds["batch_invoke"]
        constraints.append(Constraint(
            INVOKE_CONCURRENCY, lambda_ramp_seconds(invoke_seconds, reserved, scale),
            f"{invoke_seconds:,.0f} batch_invoke-seconds over {reserved:,} reserved (BatchInvokeReservedConcurrency)"))
        lambda_seconds -= invoke_seconds
        concurrency = max(concurrency - reserved, LAMBDA_UNRESERVED_MINIMUM)
    constraints += [
        Constraint("Lambda concurrency", lambda_ramp_seconds(lambda_seconds, concurrency, scale),
                   f"{lambda_seconds:,.0f} Lambda-seconds over {concurrency:,.0f} concurrent"
                   + (" unreserved" if reserved else ""), "lambda_concurrency"),
        Constraint("S3 COPY/PUT rate per prefix", copy_calls / (quotas.s3_copy_per_prefix.value * prefixes),
                   f"{copy_calls:,} requests over {prefixes:,} prefixes", "s3_copy_per_prefix"),
        Constraint("S3 GET/HEAD rate per prefix", read_calls / (quotas.s3_read_per_prefix.value * prefixes),
                   f"{read_calls:,} requests over {prefixes:,} prefixes", "s3_read_per_prefix"),
        Constraint("EXPRESS starts", _rate_seconds(usage_.express_executions, quotas.express_starts_per_second),
                   f"{usage_.express_executions:,} executions", "express_starts_per_second"),
        Constraint("synchronous EXPRESS concurrency", usage_.express_seconds / quotas.sync_express_concurrency.value,
                   f"{usage_.express_seconds:,.0f} execution-seconds", "sync_express_concurrency"),
        Constraint("STANDARD starts", _rate_seconds(usage_.standard_executions, quotas.standard_starts_per_second),
                   f"{usage_.standard_executions:,} executions", "standard_starts_per_second"),
        Constraint("STANDARD state transitions",
                   _rate_seconds(usage_.standard_transitions, quotas.state_transitions_per_second),
                   f"{usage_.standard_transitions:,} transitions", "state_transitions_per_second"),
        Constraint("DescribeExecution rate",
                   _rate_seconds(usage_.describe_calls, quotas.describe_execution_per_second),
                   f"{usage_.describe_calls:,} calls by batch_invoke to see {usage_.standard_executions:,} "
                   f"executions end", "describe_execution_per_second"),
        Constraint("open Map Runs", usage_.map_run_seconds / quotas.open_map_runs.value,
                   f"{usage_.map_runs:,} Map Runs, {usage_.map_run_seconds:,.0f} Map-Run-seconds", "open_map_runs"),
        Constraint("Fargate Spot vCPUs",
                   usage_.fargate_vcpu_hours * 3600 / (fargate_workers(quotas, resources) * resources.worker_vcpus),
                   f"{usage_.fargate_vcpu_hours:,.1f} vCPU-hours over {fargate_workers(quotas, resources):,} workers "
                   f"(quota {quotas.fargate_spot_vcpus.value:,.0f}, WorkerMaxVcpus {resources.worker_max_vcpus:,.0f})",
                   "fargate_spot_vcpus"),
        Constraint("Fargate launches", _rate_seconds(usage_.batch_jobs, quotas.fargate_launches_per_second),
                   f"{usage_.batch_jobs:,} tasks", "fargate_launches_per_second"),
    ]
    constraints.sort(key=lambda item: item.seconds, reverse=True)
    job_start = rates.job_start if workload.objects else 0.0
    return WallTime(job_start + constraints[0].seconds, job_start, tuple(constraints))


# -- the whole estimate -------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    workload: Workload
    options: CopyOptions
    usage: Usage
    cost: list[CostLine]
    wall: WallTime
    rates: Rates
    resources: Resources
    quotas: Quotas
    cross_region: bool = False

    @property
    def dollars(self) -> float:
        return total_dollars(self.cost)

    def to_dict(self) -> dict:
        return {
            "objects": self.workload.objects,
            "bytes": self.workload.bytes,
            "histogram": {label: count for (label, _), count in zip(SIZE_BINS, self.workload.histogram)},
            "paths": {name: asdict(tally_) for name, tally_ in self.workload.paths.items()},
            "prefixes": self.workload.prefix_count,
            "requests": dict(sorted(self.usage.requests.items())),
            "standard_transitions": self.usage.standard_transitions,
            "express_executions": self.usage.express_executions,
            "standard_executions": self.usage.standard_executions,
            "map_runs": self.usage.map_runs,
            "describe_execution_calls": self.usage.describe_calls,
            "lambda_invocations": dict(sorted(self.usage.lambda_invocations.items())),
            "lambda_gb_seconds": {k: round(v, 3) for k, v in sorted(self.usage.lambda_gb_seconds.items())},
            "express_gb_seconds": round(self.usage.express_gb_seconds, 3),
            "batch_jobs": self.usage.batch_jobs,
            "fargate_vcpu_hours": round(self.usage.fargate_vcpu_hours, 4),
            "fargate_gb_hours": round(self.usage.fargate_gb_hours, 4),
            "cost": [asdict(line) for line in self.cost],
            "dollars": round(self.dollars, 6),
            "prices": {"region": PRICES_REGION, "as_of": PRICES_AS_OF},
            "wall_seconds": round(self.wall.seconds, 3),
            "job_start_seconds": self.wall.job_start,
            "binding": self.wall.binding.name,
            "constraints": [asdict(item) for item in self.wall.constraints],
            "quotas": {"read": QUOTAS_READ, **{name: getattr(self.quotas, name).value for name in QUOTA_NAMES}},
            "rates": asdict(self.rates),
            "batch_invoke_reserved_concurrency": self.resources.batch_invoke_concurrency,
        }


def estimate(
    workload: Workload,
    options: CopyOptions,
    *,
    rates: Rates = Rates(),
    resources: Resources = Resources(),
    quotas: Quotas = Quotas(),
    prices: dict[str, Price] = PRICES,
    cross_region: bool = False,
) -> Estimate:
    used = usage(workload, options, rates, resources, quotas, cross_region=cross_region)
    return Estimate(workload, options, used, cost(used, prices), wall_time(workload, used, quotas, rates, resources),
                    rates, resources, quotas, cross_region)


@dataclass(frozen=True)
class Raise:
    quota: str
    value: float
    wall: WallTime

    @property
    def label(self) -> str:
        name = self.quota.replace("_", " ")
        return f"{name} and WorkerMaxVcpus" if self.quota == "fargate_spot_vcpus" else name


def raise_quota(result: Estimate, factor: float = 10.0) -> Raise | None:
    """The same job with its binding quota multiplied by ``factor``: what raising it buys.

    Fargate's effective limit is the lower of the account quota and the compute
    environment's MaxvCpus: both are raised. None when the critical path (one
    object) binds or the quota is a hard limit.
    """
    name = result.wall.binding.quota
    if not name or not getattr(result.quotas, name).adjustable:
        return None
    resources = result.resources
    if name == "fargate_spot_vcpus":
        value = fargate_workers(result.quotas, resources) * resources.worker_vcpus * factor
        resources = replace(resources, worker_max_vcpus=max(resources.worker_max_vcpus, value))
        quotas = with_quota(result.quotas, name, max(result.quotas.fargate_spot_vcpus.value, value))
    else:
        value = getattr(result.quotas, name).value * factor
        quotas = with_quota(result.quotas, name, value)
    again = estimate(result.workload, result.options, rates=result.rates, resources=resources,
                     quotas=quotas, cross_region=result.cross_region)
    return Raise(name, value, again.wall)


# -- the scale table (docs/performance.md is generated from this) -----------------------------

GB, TB, PB = 10**9, 10**12, 10**15  # the tool we replace quotes decimal units
# Single-object times of the tool we replace, same Region (its README), and 1 PB.
SEED_SINGLE_SECONDS = ((1 * GB, 24), (5 * GB, 32), (10 * GB, 40), (100 * GB, 120), (500 * GB, 450),
                       (1 * TB, 660), (5 * TB, 1620))
SEED_PETABYTE_SECONDS = 3 * 3600
GOAL_5TB_SECONDS = 180
GOAL_1PB_SECONDS = 3600
# 1 PB of mixed media: (what, objects, bytes each), spread over MIX_PREFIXES folders.
MEDIA_MIX = (
    ("camera masters", 500, 1 * TB),
    ("mezzanine files", 3_000, 100 * GB),
    ("deliverables", 20_000, 8 * GB),
    ("proxies", 200_000, 150 * 10**6),
    ("stills and sidecars", 2_000_000, 5 * 10**6),
)
MIX_PREFIXES = 1_000
# The configurations the table compares: the defaults (every part group on Lambda), and
# AWS Batch for objects of 500 GiB and more.
SCALE_CONFIGS = (("defaults (--worker lambda)", CopyOptions()), ("--worker auto", CopyOptions(worker="auto")))


def media_mix_specs(prefixes: int = MIX_PREFIXES) -> list[ObjectSpec]:
    specs = []
    for _, count, size in MEDIA_MIX:
        for index in range(prefixes):
            share = count // prefixes + (1 if index < count % prefixes else 0)
            if share:
                specs.append(ObjectSpec(size, prefix=f"media/{index:04d}/", count=share))
    return specs


@dataclass(frozen=True)
class ScaleRow:
    workload: str
    seed_seconds: float
    results: tuple[Estimate, ...]  # one per SCALE_CONFIGS entry
    raised: tuple[Raise | None, ...]
    goal_seconds: float | None = None


def scale_rows(rates: Rates = Rates(), quotas: Quotas = Quotas()) -> list[ScaleRow]:
    workloads = [(f"{size // GB:,} GB" if size < TB else f"{size // TB} TB", [ObjectSpec(size, prefix="masters/")],
                  seconds, GOAL_5TB_SECONDS if size == 5 * TB else None)
                 for size, seconds in SEED_SINGLE_SECONDS]
    workloads.append(("1 PB mixed media", media_mix_specs(), SEED_PETABYTE_SECONDS, GOAL_1PB_SECONDS))
    rows = []
    for name, specs, seed, goal in workloads:
        results = tuple(estimate(tally(specs, options), options, rates=rates, quotas=quotas)
                        for _, options in SCALE_CONFIGS)
        rows.append(ScaleRow(name, seed, results, tuple(raise_quota(result) for result in results), goal))
    return rows


def format_duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def scale_table_markdown(rows: list[ScaleRow]) -> str:
    """The table in docs/performance.md (a test regenerates it and compares)."""
    head = ["workload", "tool we replace"]
    for label, _ in SCALE_CONFIGS:
        head += [f"MediaSync, {label}", "binds", "cost"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row.workload + (f" (goal <= {format_duration(row.goal_seconds)})" if row.goal_seconds else ""),
                 format_duration(row.seed_seconds)]
        for result, raised in zip(row.results, row.raised):
            seconds = result.wall.copy_seconds if result.workload.objects == 1 else result.wall.seconds
            binds = result.wall.binding.name
            if raised is not None:
                seconds_raised = raised.wall.copy_seconds if result.workload.objects == 1 else raised.wall.seconds
                binds += f"; x10 ({raised.label} {raised.value:,.0f}): {format_duration(seconds_raised)}"
            cells += [format_duration(seconds), binds, f"${result.dollars:,.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def scale_details_markdown(rows: list[ScaleRow]) -> str:
    """Per workload and configuration: the path, the layout, and the top constraints."""
    out = []
    for row in rows:
        for (label, _), result in zip(SCALE_CONFIGS, row.results):
            paths = ", ".join(f"{PATH_LABELS[path]}: {tally_.objects:,}" for path, tally_ in result.workload.paths.items()
                              if tally_.objects)
            top = "; ".join(f"{c.name} {format_duration(c.seconds)}" for c in result.wall.constraints[:3])
            out.append(f"- **{row.workload}, {label}** -- {paths}. Longest object: {result.usage.longest_object}. "
                       f"Top constraints: {top}.")
    return "\n".join(out) + "\n"


SLOW_COPY_RATES = Rates(copy_bytes_per_second=25 * MiB)
SCALE_BEGIN = "<!-- scale-model:begin (generated by `python -m mediasync.estimate_command --scale-table`) -->"
SCALE_END = "<!-- scale-model:end -->"


def reference_markdown() -> str:
    """The quotas, prices, rates and per-object calls the model uses, as tables."""
    quotas = Quotas()
    lines = [f"Quotas (defaults for us-east-1, us-west-2, eu-west-1, read {QUOTAS_READ}):", "",
             "| quota | value | burst | adjustable | source |", "|---|---|---|---|---|"]
    for name in QUOTA_NAMES:
        quota = getattr(quotas, name)
        lines.append(f"| {quota.unit} | {quota.value:,.0f} | {quota.burst:,.0f} | "
                     f"{'yes' if quota.adjustable else 'no'} | {quota.source} |")
    lines += ["", f"Prices ({PRICES_REGION} list prices, read {PRICES_AS_OF}):", "",
              "| item | US dollars | source |", "|---|---|---|"]
    for price in PRICES.values():
        lines.append(f"| {price.unit} | {price.amount:.10f}".rstrip("0") + f" | {price.source} |")
    rates = Rates()
    lines += ["", "Rates (none measured on AWS; see below):", "", "| rate | value | basis |", "|---|---|---|"]
    for name, value in asdict(rates).items():
        shown = f"{value / MiB:,.0f} MiB/s" if name == "copy_bytes_per_second" else f"{value:g} s"
        lines.append(f"| {name} | {shown} | {RATE_BASIS[name]} |")
    lines += ["", "S3 calls per object (a test counts them on real copies):", "",
              "| path | calls |", "|---|---|"]
    per_path = {
        f"{COPY_OBJECT} (single-part source)": inspect_requests(False, True) + copy_object_requests(),
        f"{EXPRESS_PARTS}, {STANDARD_LAMBDA}, {STANDARD_BATCH} (multipart source; two HEADs fewer "
        "for a single-part one)": inspect_requests(True, True) + multipart_requests(1),
    }
    for path, calls in per_path.items():
        shown = ", ".join(f"{name} {count}" for name, count in sorted(calls.items()))
        shown = shown.replace("UploadPartCopy 1", "UploadPartCopy 1 per part").replace(
            "ListParts 1", "ListParts 1 per 1,000 parts")
        lines.append(f"| {path} | {shown} |")
    lines += ["", "With --skip-existing (the default) each object costs one HEAD of the destination, "
              "counted above; every invocation of batch_invoke inspects the source again."]
    return "\n".join(lines) + "\n"


def scale_markdown() -> str:
    """The generated part of docs/performance.md, markers included."""
    rows = scale_rows()
    slow = scale_rows(rates=SLOW_COPY_RATES)
    return "\n".join([
        SCALE_BEGIN,
        "",
        scale_table_markdown(rows),
        f"If one server-side copy request moves {SLOW_COPY_RATES.copy_bytes_per_second / MiB:.0f} MiB/s instead of "
        f"{Rates().copy_bytes_per_second / MiB:.0f} MiB/s:",
        "",
        scale_table_markdown(slow),
        "How each row is copied, and the constraints that come next:",
        "",
        scale_details_markdown(rows),
        reference_markdown(),
        SCALE_END,
    ]) + "\n"
