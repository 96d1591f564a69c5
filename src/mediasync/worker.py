"""AWS Batch worker: copies one part group, the same function the Lambda calls.

The group's state arrives in MEDIASYNC_GROUP_STATE (set by the state machine's
ContainerOverrides). On SIGTERM (Fargate Spot reclaim) it stops taking new parts
and exits non-zero so the job definition's retry strategy runs the group again;
parts already copied are simply copied again.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from typing import Mapping

from . import steps
from .errors import MediaSyncError, WorkerInterrupted
from .observability import logger

GROUP_STATE_ENV = "MEDIASYNC_GROUP_STATE"
EXIT_OK = 0
EXIT_FAILED = 1
# 128 + SIGTERM, what a shell reports for a job killed by SIGTERM; the Batch job
# definition retries on it.
EXIT_INTERRUPTED = 143


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
        return EXIT_FAILED
    logger.info("group copied", extra=result)
    return EXIT_OK


def main() -> None:
    import os

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    sys.exit(run_group(os.environ, stop))


if __name__ == "__main__":
    main()
