"""Step Functions quotas by Region: three Regions get more than the rest.

The scale model's :class:`~mediasync.core.timing.Quotas` are those of US East (N.
Virginia), US West (Oregon) and Europe (Ireland). Every other Region starts lower on
the three rates a copy job leans on: STANDARD StartExecution, STANDARD state
transitions and DescribeExecution (the Step Functions quota page, as published in
awsdocs/aws-step-functions-developer-guide ``doc_source/limits-overview.md``).
EXPRESS starts (6,000 / 6,000) and Lambda's defaults are the same everywhere.
"""

from __future__ import annotations

import re
from dataclasses import replace

from mediasync.core.timing import Quotas

SFN_QUOTAS_SOURCE = ("https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html "
                     "(awsdocs/aws-step-functions-developer-guide, doc_source/limits-overview.md)")
HIGH_QUOTA_REGIONS = ("us-east-1", "us-west-2", "eu-west-1")
DEFAULT_REGION = "us-east-1"
# Quota name -> (refill per second, bucket size) in every Region but HIGH_QUOTA_REGIONS.
OTHER_REGIONS: dict[str, tuple[float, float]] = {
    "standard_starts_per_second": (150, 800),
    "state_transitions_per_second": (500, 800),
    "describe_execution_per_second": (10, 250),
}
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$")


def is_region(name: str) -> bool:
    return bool(_REGION.match(name))


def has_high_quotas(region: str) -> bool:
    return region in HIGH_QUOTA_REGIONS


def quotas_for_region(region: str, quotas: Quotas = Quotas()) -> Quotas:
    """``quotas`` as they start in ``region``: lower Step Functions rates outside the three."""
    if not is_region(region):
        raise ValueError(f"{region!r} is not an AWS Region name (e.g. us-east-1, ap-southeast-2)")
    if has_high_quotas(region):
        return quotas
    for name, (value, burst) in OTHER_REGIONS.items():
        quota = getattr(quotas, name)
        # Keep a value the caller already lowered (a new account's, say).
        quotas = replace(quotas, **{name: replace(quota, value=min(quota.value, value),
                                                  burst=min(quota.burst, burst))})
    return quotas


def regions_markdown() -> str:
    high = Quotas()
    lines = [f"| quota (refill per second / bucket) | {', '.join(HIGH_QUOTA_REGIONS)} | every other Region |",
             "|---|---|---|"]
    for name, (value, burst) in OTHER_REGIONS.items():
        quota = getattr(high, name)
        lines.append(f"| {quota.unit} | {quota.value:,.0f} / {quota.burst:,.0f} | {value:,.0f} / {burst:,.0f} |")
    lines.append("")
    lines.append(f"Source: {SFN_QUOTAS_SOURCE}. `mediasync estimate --region REGION` models a job with them.")
    return "\n".join(lines) + "\n"
