"""State Inspect: HeadObject the source and plan the copy."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from mediasync.core import steps
from mediasync.core.observability import logger


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    logger.append_keys(key=(event.get("destination") or {}).get("key"))
    return steps.inspect(event)
