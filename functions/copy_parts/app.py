"""Map item CopyPartsOnLambda: UploadPartCopy for one part group."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from mediasync.core import steps
from mediasync.core.observability import MetricUnit, logger, metrics


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    logger.append_keys(key=event["destination"]["key"], group=event["group"])
    result = steps.copy_parts(event)
    metrics.add_metric(name="PartsCopied", unit=MetricUnit.Count, value=result["parts"])
    metrics.add_metric(name="PartBytesCopied", unit=MetricUnit.Bytes, value=result["bytes"])
    return result
