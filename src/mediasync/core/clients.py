"""One boto3 client per service per process, created on first use and reused.

Retries are botocore's (``adaptive`` mode by default: exponential backoff with
jitter plus client-side rate limiting on throttles), never hand-written loops.
The exception is StartSyncExecution, on a client of its own: a synchronous
Express execution is at-most-once, so an SDK retry after a timeout would start a
second copy while the first may still run. That client waits the EXPRESS
maximum of 5 minutes and never retries; batch_invoke decides what a lost answer
means (see :class:`mediasync.core.errors.CopyOutcomeUnknown`).
https://docs.aws.amazon.com/step-functions/latest/dg/express-at-least-once-execution.html
"""

from __future__ import annotations

import base64
import hashlib
import threading
from typing import Any

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config

from mediasync.core.settings import get_settings

# UploadPartCopy runs on a thread pool: the connection pool must not be the bottleneck.
MAX_POOL_CONNECTIONS = 64
# The Step Functions client that only starts synchronous Express executions.
SYNC_STEPFUNCTIONS = "stepfunctions-sync"


def _content_md5_with_lock_headers(params: dict[str, Any], **_: Any) -> None:
    """S3 asks Content-MD5 (or an SDK checksum) of a write carrying Object Lock headers:
    "The Content-MD5 or x-amz-sdk-checksum-algorithm header is required for any request
    to upload an object with a retention period configured using Amazon S3 Object Lock"
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html). A CopyObject
    has no body to hash, and moto asks the header of it too: the MD5 of the empty body it
    sends is true on any server."""
    headers = params["headers"]
    if "Content-MD5" in headers or not any(name.lower().startswith("x-amz-object-lock-") for name in headers):
        return
    body = params.get("body") if isinstance(params.get("body"), bytes) else b""
    headers["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode("ascii")


class Clients:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Service models (JSON, 0.1-0.2 s per service) are read once per process and
        # shared by every client; credentials still resolve afresh for each session.
        self._loader = botocore.loaders.create_loader()
        self._clients: dict[str, Any] = {}
        self._s3_endpoint_url: str | None = None
        self._s3_credentials: dict[str, str] | None = None

    def configure_s3(self, endpoint_url: str | None = None, credentials: dict[str, str] | None = None) -> None:
        """Point S3 at another endpoint with explicit credentials (the local runtime does this)."""
        with self._lock:
            self._s3_endpoint_url = endpoint_url
            self._s3_credentials = credentials
            self._clients.clear()

    def reset(self) -> None:
        self.configure_s3(None, None)

    def s3(self) -> Any:
        return self._get("s3")

    def stepfunctions(self) -> Any:
        return self._get("stepfunctions")

    def sync_stepfunctions(self) -> Any:
        """For StartSyncExecution only: long read timeout, a single attempt."""
        return self._get(SYNC_STEPFUNCTIONS)

    def _get(self, service: str) -> Any:
        client = self._clients.get(service)
        if client is not None:
            return client
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self._create(service)
            return self._clients[service]

    def _create(self, name: str) -> Any:
        service = "stepfunctions" if name == SYNC_STEPFUNCTIONS else name
        settings = get_settings()
        kwargs: dict[str, Any] = {"region_name": settings.region}
        config = Config(
            retries={"mode": settings.s3_retry_mode, "max_attempts": settings.s3_max_attempts},
            max_pool_connections=MAX_POOL_CONNECTIONS,
        )
        if service == "s3":
            endpoint = self._s3_endpoint_url or settings.s3_endpoint_url
            if endpoint:
                kwargs["endpoint_url"] = endpoint
                config = config.merge(Config(s3={"addressing_style": "path"}))
            if self._s3_credentials:
                kwargs.update(self._s3_credentials)
        if name == "stepfunctions":
            # batch_invoke's last DescribeExecution must end inside invoke_time_margin
            # (Settings.states_call_seconds); adaptive mode's rate limiter could hold a
            # call back for longer under the account-wide DescribeExecution throttle.
            config = config.merge(Config(
                connect_timeout=settings.states_connect_timeout, read_timeout=settings.states_read_timeout,
                retries={"mode": "standard", "total_max_attempts": settings.states_max_attempts},
            ))
        if service == "stepfunctions" and settings.stepfunctions_endpoint_url:
            kwargs["endpoint_url"] = settings.stepfunctions_endpoint_url
            # botocore puts an operation's hostPrefix before a custom endpoint's host
            # too: StartSyncExecution would go to http://sync-127.0.0.1:PORT, a name
            # nothing resolves. An endpoint given here is the whole address.
            # https://docs.aws.amazon.com/sdkref/latest/guide/feature-host-prefix.html
            config = config.merge(Config(inject_host_prefix=False))
        if name == SYNC_STEPFUNCTIONS:
            config = config.merge(Config(
                read_timeout=settings.sync_execution_read_timeout,
                retries={"mode": "standard", "total_max_attempts": 1},
            ))
        session = botocore.session.get_session()
        session.register_component("data_loader", self._loader)
        client = boto3.session.Session(botocore_session=session).client(service, config=config, **kwargs)
        if service == "s3":
            client.meta.events.register("before-call.s3.CopyObject", _content_md5_with_lock_headers)
        return client


CLIENTS = Clients()


def s3() -> Any:
    return CLIENTS.s3()


def stepfunctions() -> Any:
    return CLIENTS.stepfunctions()


def sync_stepfunctions() -> Any:
    return CLIENTS.sync_stepfunctions()
