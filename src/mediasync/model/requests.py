"""Per object: the S3 requests each path makes, the DescribeExecution polls of batch_invoke's
wait, and the short timings of EXPRESS copies (checked against real copies by tests).
"""

from __future__ import annotations

import math
from collections import Counter

from mediasync.core.polling import poll_delays
from mediasync.core.settings import CopyOptions
from mediasync.core.timing import EXPRESS_COPY_STATES, LIST_PARTS_PAGE, Rates, Resources

TIER1_REQUESTS = ("CopyObject", "UploadPartCopy", "CreateMultipartUpload", "CompleteMultipartUpload", "ListParts",
                  "ListObjectsV2", "PutObject")
# "DELETE and CANCEL requests are free" (https://aws.amazon.com/s3/pricing/, Requests & data
# retrievals): a move's DeleteObject of each source.
FREE_REQUESTS = ("DeleteObject",)


# -- per-object request counts and timings ----------------------------------------------------


def inspect_requests(multipart_source: bool, skip_existing: bool) -> Counter:
    """batch_invoke: HEAD the source (+ PartNumber=1 and the last part of a multipart source,
    which tell equal parts from uneven ones), HEAD the destination."""
    return Counter({"HeadObject": 1 + 2 * int(multipart_source) + int(skip_existing)})


def copy_object_requests(answer_proves: bool = True) -> Counter:
    """copy_object + verify_copy: CopyObject, then one HEAD of the destination unless the
    copy's answer proved it (``--verify auto``: on AWS every object written since
    December 2024 has a checksum, so CopyObjectResult carries the copy's)."""
    return Counter({"CopyObject": 1, "HeadObject": 0 if answer_proves else 1})


def multipart_requests(part_count: int, answer_proves: bool = True) -> Counter:
    """create_upload + copy_parts + complete_upload + verify_copy, for one multipart copy."""
    return Counter({
        # create_upload: HEAD IfMatch for the content headers; verify: HEAD and HEAD
        # PartNumber=1, unless CompleteMultipartUpload's answer (its checksum) proved it.
        "HeadObject": 1 if answer_proves else 3,
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
    then polls on :func:`~mediasync.core.polling.poll_delays`; each returns before its own
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


def copy_object_seconds(size: int, rates: Rates) -> float:
    """An EXPRESS CopyObject execution: copy_object and verify_copy Lambdas, its states."""
    return (2 * (rates.lambda_overhead + rates.lambda_cold_start) + rates.copy_seconds(size) + rates.api_latency
            + len(EXPRESS_COPY_STATES) * rates.express_state_overhead)


def inspect_seconds(multipart_source: bool, options: CopyOptions, rates: Rates) -> float:
    """batch_invoke's own work before it starts an execution."""
    return rates.lambda_overhead + rates.api_latency * inspect_requests(multipart_source, options.skip_existing).total()


def express_billed_seconds(seconds: float, resources: Resources) -> float:
    step = resources.express_billing_step
    return math.ceil(seconds / step - 1e-9) * step


