"""Usage times list prices, line by line: :data:`PRICES` (dated, with their pages) and :func:`cost`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

from mediasync.model.usage import Usage


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
                      "Create/CompleteMultipartUpload, ListParts, ListObjectsV2, PutObject)",
                      "https://aws.amazon.com/s3/pricing/"),
    "s3_tier2": Price(0.0004 / 1000, "S3 GET and other request (HeadObject, GetObjectTagging)",
                      "https://aws.amazon.com/s3/pricing/"),
    "s3_delete": Price(0.0, "S3 DELETE request (DeleteObject of a moved source: free)",
                       "https://aws.amazon.com/s3/pricing/ (Requests & data retrievals)"),
    "batch_job": Price(0.25, "S3 Batch Operations job", "https://aws.amazon.com/s3/pricing/ (Management & insights)"),
    "batch_object": Price(1.00 / 1_000_000, "S3 Batch Operations object processed",
                          "https://aws.amazon.com/s3/pricing/ (Management & insights)"),
    # Issue 24's figure: the pricing page itself was not in the search corpus here (checked
    # 2026-12-07); check it before quoting a customer.
    "batch_manifest_object": Price(0.015 / 1_000_000, "S3 Batch Operations manifest generation, object listed",
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

# A sync plan in Athena (`plan --athena-workgroup`): billed by the bytes each query scans,
# rounded up to the megabyte, at least 10 MB a query; DDL (CREATE/DROP TABLE) is free.
# Read on 2026-12-07 (the figures pages citing the pricing page agree; the page itself was
# not in the search corpus here): check it before quoting a customer.
ATHENA_SCANNED = Price(5.00 / 1e12, "Athena byte scanned ($5 per TB)", "https://aws.amazon.com/athena/pricing/")
ATHENA_MINIMUM_BYTES = 10_000_000
# What a plan's DML queries are: the join into a table (scans both reports), the UNLOAD
# of its manifest lines and the count by reason (both read only the decided table).
ATHENA_PLAN_QUERIES = 3


def athena_billed_bytes(scanned: Iterable[int]) -> int:
    """The bytes Athena bills for queries that scanned ``scanned`` bytes each."""
    return sum(max(ATHENA_MINIMUM_BYTES, math.ceil(size / 1_000_000) * 1_000_000) for size in scanned)


def athena_dollars(scanned: Iterable[int]) -> float:
    return athena_billed_bytes(scanned) * ATHENA_SCANNED.amount


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
        ("s3_delete", usage_.free_requests),
        ("batch_job", jobs if usage_.s3_batch_tasks else 0),
        ("batch_object", usage_.s3_batch_tasks),
        ("batch_manifest_object", usage_.generated_manifest_objects),
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


