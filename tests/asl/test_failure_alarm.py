"""The task failure alarm sees what S3 Batch fails: tasks failed after their last redrive,
and batch_invoke's function errors (a timeout emits no metric of ours).

AWS rules modeled in the S3 Batch emulation: a TemporaryFailure is redriven a limited
number of times and "if this is the final redrive, the error message is included in the
final report" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-invoke-lambda.html);
a Lambda past its timeout is a function error
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-examples-reports.html),
counted by AWS/Lambda Errors. The alarm's metric math is read from template.yaml and
evaluated on the metrics the job emitted.
"""

from __future__ import annotations

import threading
from collections import Counter
from unittest import mock

from mediasync.core.observability import metrics
from mediasync.local.s3batch import LAMBDA_FAILED, S3BatchJob
from mediasync.manifests.s3batch_csv import parse_lines
from tests.deploy.conftest import TEMPLATE

ARGS = {"destinationBucket": "dst"}


def alarm_rate(alarm: dict, counts: Counter) -> float:
    """The alarm's returned expression, evaluated as CloudWatch metric math would for one period."""
    values: dict = {}
    expressions = {}
    for query in alarm["Properties"]["Metrics"]:
        if "MetricStat" in query:
            metric = query["MetricStat"]["Metric"]
            values[query["Id"]] = counts.get((metric["Namespace"], metric["MetricName"]))  # None: no data point
        else:
            expressions[query["Id"]] = query["Expression"]
    functions = {"IF": lambda condition, then, otherwise: then if condition else otherwise,
                 "FILL": lambda series, value: value if series is None else series}
    while expressions:
        for name, expression in list(expressions.items()):
            try:
                values[name] = eval(expression, {"__builtins__": {}}, {**functions, **values})
                del expressions[name]
            except (NameError, TypeError):
                continue
    [returned] = [q["Id"] for q in alarm["Properties"]["Metrics"] if q.get("ReturnData", True)]
    return values[returned]


def test_tasks_s3_batch_fails_raise_the_failure_alarm(runtime, buckets):
    from cfnlint.decode import decode

    template, _ = decode(str(TEMPLATE))
    alarm = template["Resources"]["TaskFailureRateAlarm"]
    threshold = float(template["Parameters"]["FailureRateAlarmPercent"]["Default"])
    for key in ("ok-1.txt", "ok-2.txt", "retried.txt", "hangs.txt"):
        buckets.put_object(Bucket="src", Key=key, Body=b"x")
    release = threading.Event()

    def faults(name, event):
        key = (event.get("destination") or {}).get("key") or event.get("tasks", [{}])[0].get("s3Key")
        if name == "copy_object" and key == "retried.txt":
            # A failure the machine does not retry and S3 Batch should: every redrive alike.
            raise type("PartsMissing", (Exception,), {})("injected: transient, every time")
        if name == "batch_invoke" and key == "hangs.txt":
            release.wait(30)  # past the function's timeout: Lambda ends it, no metric flushed

    runtime.before_invoke = faults
    emitted: Counter = Counter()

    def record(name, unit, value, *args, **kwargs):
        emitted["MediaSync", name] += value

    rows = []
    job = S3BatchJob(lambda event: runtime.invoke("batch_invoke", event), user_arguments=ARGS, concurrency=4,
                     max_temporary_retries=2, retry_delay=0.0, function_timeout=5.0)
    try:
        with mock.patch.object(metrics.provider, "add_metric", record):
            job.run(parse_lines(["src,ok-1.txt", "src,ok-2.txt", "src,retried.txt", "src,hangs.txt"]), rows.append)
    finally:
        release.set()
    emitted["AWS/Lambda", "Errors"] = sum(1 for row in rows if row.code == LAMBDA_FAILED)

    by_key = {row.key: row for row in rows}
    assert (by_key["retried.txt"].status, by_key["retried.txt"].code) == ("failed", "PartsMissing")
    assert by_key["hangs.txt"].message.startswith("Lambda returned function error:")
    assert emitted["MediaSync", "PermanentFailure"] == 0, "batch_invoke itself never said PermanentFailure"
    assert alarm_rate(alarm, emitted) > threshold
