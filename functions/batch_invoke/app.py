"""S3 Batch Operations task handler (invocation schema 1.0 and 2.0)."""

from aws_lambda_powertools.utilities.data_classes import S3BatchOperationEvent, event_source
from aws_lambda_powertools.utilities.data_classes.s3_batch_operation_event import S3BatchOperationResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from mediasync.core.observability import MetricUnit, logger, metrics
from mediasync.core.s3batch_task import BatchTask, TaskRunner
from mediasync.core.settings import get_settings


@logger.inject_lambda_context
@metrics.log_metrics
@event_source(data_class=S3BatchOperationEvent)
def lambda_handler(event: S3BatchOperationEvent, context: LambdaContext) -> dict:
    task = event.task
    logger.append_keys(job_id=event.job.get_id, task_id=task.task_id, key=task.s3_key)
    outcome = TaskRunner(get_settings()).run(
        BatchTask(
            job_id=event.job.get_id,
            task_id=task.task_id,
            bucket=task.s3_bucket,
            key=task.s3_key,
            version_id=task.s3_version_id,
            user_arguments=event.job.user_arguments if event.invocation_schema_version == "2.0" else None,
        ),
        remaining_ms=context.get_remaining_time_in_millis,
    )
    logger.info("task finished", extra={"result_code": outcome.result_code, "code": outcome.code})
    metrics.add_metric(name=outcome.metric_name, unit=MetricUnit.Count, value=1)
    if outcome.bytes_copied:
        metrics.add_metric(name="BytesCopied", unit=MetricUnit.Bytes, value=outcome.bytes_copied)
    response = S3BatchOperationResponse(event.invocation_schema_version, event.invocation_id, "PermanentFailure")
    response.add_result(task.build_task_batch_response(outcome.result_code, outcome.result_string))
    return response.asdict()
