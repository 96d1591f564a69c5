"""Wall time of a job: each quota alone gives the seconds it would need at full use; the largest binds."""

from __future__ import annotations

import math
from dataclasses import dataclass

from mediasync.core.timing import (
    INVOKE_CONCURRENCY,
    LAMBDA_UNRESERVED_MINIMUM,
    Quota,
    Quotas,
    Rates,
    Resources,
    fargate_workers,
)
from mediasync.model.usage import Usage
from mediasync.model.workload import Workload

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


# The constraint S3 Batch Operations' own (unpublished) task rate sets: an assumption, flagged.
BATCH_DISPATCH = "S3 Batch dispatch (assumed)"


def destination_write_seconds(writes: float, prefixes: int, per_prefix: float, partition_seconds: float) -> float:
    """Seconds to make ``writes`` PUT/COPY/POST requests into a destination of ``prefixes``
    prefixes. A fresh destination takes ``per_prefix`` a second in all until S3 has
    partitioned it (``partition_seconds``), then ``per_prefix`` on each prefix; a
    destination already partitioned (``partition_seconds`` 0) has every prefix from the start."""
    ramp_writes = per_prefix * partition_seconds
    if writes <= ramp_writes:
        return writes / per_prefix
    return partition_seconds + (writes - ramp_writes) / (per_prefix * prefixes)


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
        Constraint("S3 COPY/PUT rate per prefix",
                   destination_write_seconds(copy_calls, prefixes, quotas.s3_copy_per_prefix.value,
                                             rates.prefix_partition_seconds),
                   f"{copy_calls:,} requests over {prefixes:,} prefixes"
                   + (f", the first {rates.prefix_partition_seconds / 60:,.0f} min at "
                      f"{quotas.s3_copy_per_prefix.value:,.0f}/s in all (fresh destination)"
                      if rates.prefix_partition_seconds else ""), "s3_copy_per_prefix"),
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
        Constraint(BATCH_DISPATCH, workload.objects / rates.batch_dispatch_per_second,
                   f"{workload.objects:,} tasks at an assumed {rates.batch_dispatch_per_second:,.0f} a second "
                   "(S3 Batch Operations does not publish its rate)"),
    ]
    constraints.sort(key=lambda item: item.seconds, reverse=True)
    job_start = rates.job_start if workload.objects else 0.0
    return WallTime(job_start + constraints[0].seconds, job_start, tuple(constraints))


