"""AWS Batch worker: copies one part group, the same function the Lambda calls.

The group's state arrives in MEDIASYNC_GROUP_STATE (set by the state machine's
ContainerOverrides). On SIGTERM (Fargate Spot reclaim) it stops taking new parts
and exits non-zero so the job definition's retry strategy runs the group again;
parts already copied are simply copied again.
"""

from __future__ import annotations

import fnmatch
import json
import signal
import sys
import threading
from typing import Any, Mapping

from mediasync.core import steps
from mediasync.core.errors import MediaSyncError, WorkerInterrupted
from mediasync.core.observability import logger
from mediasync.core.plan import GROUP_STATE_ENV

EXIT_OK = 0
EXIT_FAILED = 1
# 128 + SIGTERM, what a shell reports for a job killed by SIGTERM; the Batch job
# definition retries on it.
EXIT_INTERRUPTED = 143

# The worker job definition's retryStrategy (the SAM template registers the same):
# a group whose Fargate task never started or was stopped by a Spot reclaim is run
# again; a group that failed for a reason of its own (source changed, access denied)
# is not, and the state machine decides.
RETRY_STRATEGY: dict[str, Any] = {
    "attempts": 5,
    "evaluateOnExit": [
        {"onStatusReason": "Task failed to start*", "action": "RETRY"},
        {"onStatusReason": "Host EC2*", "action": "RETRY"},
        {"onStatusReason": "Your Spot Task was interrupted*", "action": "RETRY"},
        {"onExitCode": str(EXIT_INTERRUPTED), "action": "RETRY"},
        {"onReason": "*", "action": "EXIT"},
    ],
}


def batch_retries(strategy: Mapping[str, Any] | None, attempt: int, exit_code: int, status_reason: str = "") -> bool:
    """Whether AWS Batch runs a job again after ``attempt`` ended with ``exit_code``.

    AWS Batch's rules: the first ``evaluateOnExit`` entry whose conditions all match
    decides; when none matches, the job is retried while attempts remain.
    """
    if exit_code == EXIT_OK or not strategy or attempt >= int(strategy.get("attempts", 1)):
        return False
    observed = {"onExitCode": str(exit_code), "onStatusReason": status_reason, "onReason": ""}
    for rule in strategy.get("evaluateOnExit", []):
        conditions = {name: pattern for name, pattern in rule.items() if name in observed}
        if all(fnmatch.fnmatchcase(observed[name], pattern) for name, pattern in conditions.items()):
            return str(rule.get("action", "")).upper() == "RETRY"
    return True


def run_group(environ: Mapping[str, str], stop: threading.Event | None = None) -> int:
    raw = environ.get(GROUP_STATE_ENV)
    if not raw:
        logger.error(f"{GROUP_STATE_ENV} is not set: this container copies one part group given by the state machine")
        return EXIT_FAILED
    try:
        state = json.loads(raw)
        logger.append_keys(key=state["destination"]["key"], group=state["group"])
    except (ValueError, KeyError, TypeError) as err:
        logger.error(f"{GROUP_STATE_ENV} is not a part-group state: {err!r}")
        return EXIT_FAILED
    try:
        result = steps.copy_parts(state, stop=stop)
    except WorkerInterrupted as interrupted:
        logger.warning("interrupted", extra={"reason": str(interrupted)})
        return EXIT_INTERRUPTED
    except MediaSyncError as error:
        logger.error("group failed", extra={"error": error.code, "reason": str(error)})
        # A transient failure (throttling, the network) is worth another attempt too.
        return EXIT_INTERRUPTED if error.retryable else EXIT_FAILED
    logger.info("group copied", extra=result)
    return EXIT_OK


def main() -> None:
    import os

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    sys.exit(run_group(os.environ, stop))


if __name__ == "__main__":
    main()
