"""What a copy job will do, cost and take on AWS: a pure model, no I/O.

Four layers, each a pure function of the one before, so each can be tested alone:

1. :func:`tally` -- the workload: objects, bytes, size histogram, and how each object
   is routed by :func:`mediasync.core.plan.plan_copy`, the very function the copy uses.
2. :func:`usage` -- what the workload consumes: S3 requests by API, Lambda
   invocations and GB-seconds, EXPRESS executions, STANDARD state transitions, Map
   Runs, Batch jobs and Fargate hours, DescribeExecution polls. Durations come from
   :class:`Rates`, memory sizes from :class:`Resources`.
3. :func:`cost` -- usage times :data:`PRICES`, line by line.
4. :func:`wall_time` -- usage against :class:`Quotas`: every limit gives the seconds it
   alone would need at full use; the largest binds. The longest single object (its
   critical path) is one of the constraints. :func:`raise_quota` answers "what does
   raising the binding quota buy" by running the model again.

Request counts per object follow the code (``core/s3batch_task.py``, ``source.py``, ``copy.py``,
``verify.py``) and are checked by a test that counts the S3 calls of real copies;
state counts follow ``statemachine/*.asl.json`` and are checked by a test that walks
the ASL files; the DescribeExecution poll schedule is ``polling.poll_delays``, as
``TaskRunner._wait`` uses it, checked by a test that drives ``_wait`` with a fake clock.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from mediasync.core.settings import CopyOptions
from mediasync.core.timing import QUOTA_NAMES, QUOTAS_READ, Quotas, Rates, Resources, fargate_workers, with_quota
from mediasync.model.cost import PRICES, PRICES_AS_OF, PRICES_REGION, CostLine, Price, cost, total_dollars
from mediasync.model.usage import SourceListing, Usage, add_source_listing, usage
from mediasync.model.wall_time import WallTime, wall_time
from mediasync.model.workload import SIZE_BINS, Workload

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
            "generated_manifest_objects": self.usage.generated_manifest_objects,
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
    listing: SourceListing | None = None,
) -> Estimate:
    """``listing``: the job's manifest made from a listed source (its generation or listing costs)."""
    used = usage(workload, options, rates, resources, quotas, cross_region=cross_region)
    if listing is not None:
        add_source_listing(used, listing)
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


