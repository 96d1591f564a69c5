"""S3 Batch Operations task handler (invocation schema 1.0 and 2.0)."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from mediasync.core.observability import MetricUnit, logger, metrics
from mediasync.core.s3batch_event import answer_invocation, parse_invocation
from mediasync.core.s3batch_task import BatchTask, TaskOutcome, TaskRunner
from mediasync.core.settings import get_settings


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    def run(task: BatchTask) -> TaskOutcome:
        logger.append_keys(job_id=task.job_id, task_id=task.task_id, key=task.key)
        outcome = TaskRunner(get_settings()).run(task, remaining_ms=context.get_remaining_time_in_millis)
        logger.info("task finished", extra={"result_code": outcome.result_code, "code": outcome.code})
        metrics.add_metric(name=outcome.result_code, unit=MetricUnit.Count, value=1)
        if outcome.bytes_copied:
            metrics.add_metric(name="BytesCopied", unit=MetricUnit.Bytes, value=outcome.bytes_copied)
        return outcome

    invocation = parse_invocation(event)
    if invocation.task is None:
        logger.warning("malformed S3 Batch event: no task run", extra={"problem": invocation.problem})
    return answer_invocation(invocation, run)
