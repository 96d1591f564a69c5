"""LocalStack's Step Functions engine on 127.0.0.1, with our handlers as its Lambda functions.

A second interpreter for the same ASL files, beside moto's (``mediasync.local.runtime``):
two independent readings of the Amazon States Language catch what one alone gets
wrong. It runs in the Python 3.13 virtualenv ``make setup`` creates
(``.venv-localstack``, ``localstack-core``), started by ``tests/localstack`` as

    .venv-localstack/bin/python -m mediasync.testing.localstack_engine --port PORT

and serves the Step Functions API (StartSyncExecution included, which moto lacks)
through LocalStack's own gateway, without LocalStack's runtime: that runtime also
starts a DNS server, writes certificates and state under /var/lib/localstack and
calls home, none of which an interpreter needs. LocalStack's Lambda service needs
Docker, so the one function every Lambda Task state ends in,
``lambda_eval_utils._invoke_lambda_function``, is replaced by a call to
``functions/<name>/app.py`` in this process; the Task state keeps LocalStack's Retry,
Catch, timeouts and error mapping. S3 is whatever ``MEDIASYNC_S3_ENDPOINT_URL`` names.

Tests steer the handlers through ``/_mediasync/`` on the same port: faults to
inject before a handler runs, S3 buckets to refuse, and invocation counts.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

from mediasync.core import clients, errors
from mediasync.core.observability import logger
from mediasync.local.runtime import (
    BATCH_INVOKE_FUNCTION,
    FUNCTION_PREFIX,
    FUNCTION_SUBSTITUTIONS,
    LocalLambdaContext,
    load_handler,
    project_root,
)

# localstack modules are imported inside functions: localstack.config reads the
# environment at import, which main() sets first.
CONTROL_PREFIX = "/_mediasync/"


@dataclass
class Fault:
    """Before ``function`` runs on an event containing ``match``: do ``action`` to the
    event's source object (``overwrite_source``, ``delete_source``), then raise the named
    ``mediasync.core.errors`` error, or without ``error`` let the handler meet what S3 answers."""

    function: str
    error: str | None = None
    message: str = "injected"
    match: dict[str, Any] = field(default_factory=dict)
    times: int | None = None
    action: str | None = None

    def applies(self, name: str, event: dict[str, Any]) -> bool:
        if name != self.function or self.times == 0:
            return False
        return all(event.get(key) == value for key, value in self.match.items())


class Dispatcher:
    """Lambda invocations of LocalStack's Task states, answered by our handlers."""

    def __init__(self, lambda_timeout: float) -> None:
        root = project_root()
        self.handlers = {name: load_handler(root, name) for name in [*FUNCTION_SUBSTITUTIONS.values(), BATCH_INVOKE_FUNCTION]}
        self.lambda_timeout = lambda_timeout
        self.lock = threading.Lock()
        self.invocations: dict[str, int] = {}
        self.faults: list[Fault] = []
        self.denied_buckets: set[str] = set()

    def reset(self) -> None:
        with self.lock:
            self.invocations.clear()
            self.faults = []
            self.denied_buckets = set()

    def invoke(self, parameters: dict, region: str, state_credentials: Any) -> dict[str, Any]:
        from localstack.services.stepfunctions.asl.component.state.state_execution.state_task import lambda_eval_utils

        function = str(parameters.get("FunctionName", ""))
        name = function.split(":function:")[-1].split(":")[0].removeprefix(FUNCTION_PREFIX).replace("-", "_")
        payload = lambda_eval_utils.to_payload_type(parameters.get("Payload"))
        event = json.loads(payload or b"{}")
        with self.lock:
            self.invocations[name] = self.invocations.get(name, 0) + 1
            fault = next((f for f in self.faults if f.applies(name, event)), None)
            if fault is not None and fault.times is not None:
                fault.times -= 1
        try:
            if name not in self.handlers:
                # What Lambda answers for a function that does not exist.
                raise _error("ResourceNotFoundException", f"Function not found: {function}")
            if fault is not None:
                self._inject(fault, event)
            result = self.handlers[name](event, LocalLambdaContext(name, self.lambda_timeout))
        except Exception as error:  # the Lambda service's answer for an unhandled error
            return {
                "StatusCode": 200,
                "FunctionError": "Unhandled",
                "ExecutedVersion": "$LATEST",
                "Payload": {"errorType": type(error).__name__, "errorMessage": str(error)},
            }
        # Through JSON, as a real invocation's payload is.
        return {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": json.loads(json.dumps(result))}

    def _inject(self, fault: Fault, event: dict[str, Any]) -> None:
        source = event.get("source") or {}
        if fault.action == "overwrite_source":
            clients.s3().put_object(Bucket=source["bucket"], Key=source["key"], Body=b"overwritten mid-copy")
        elif fault.action == "delete_source":
            clients.s3().delete_object(Bucket=source["bucket"], Key=source["key"])
        if fault.error:
            raise _error(fault.error, fault.message)

    @staticmethod
    def note_bucket(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        """botocore before-parameter-build hook: the bucket, for ``refuse_denied_buckets``."""
        context["mediasync_bucket"] = params.get("Bucket")

    def refuse_denied_buckets(self, context: dict[str, Any], **_: Any) -> Any:
        """botocore before-call hook: S3's answer to a caller the bucket policy refuses."""
        if context.get("mediasync_bucket") not in self.denied_buckets:
            return None
        return _Forbidden(), {
            "Error": {"Code": "AccessDenied", "Message": "Access Denied"},
            "ResponseMetadata": {"HTTPStatusCode": 403},
        }


def _error(name: str, message: str) -> Exception:
    cls = getattr(errors, name, None)
    if isinstance(cls, type) and issubclass(cls, Exception):
        return cls(message)
    return type(name, (Exception,), {})(message)


class _Forbidden:
    status_code = 403
    headers: dict = {}
    content = b""


def control_app(dispatcher: Dispatcher, gateway_app: Any) -> Any:
    """WSGI: ``/_mediasync/`` for the tests, everything else to LocalStack's gateway."""

    def app(environ: dict, start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(CONTROL_PREFIX):
            return gateway_app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
        command = path[len(CONTROL_PREFIX):]
        if command == "reset":
            dispatcher.reset()
        elif command == "faults":
            with dispatcher.lock:
                dispatcher.faults = [Fault(**item) for item in body.get("faults", [])]
                dispatcher.denied_buckets = set(body.get("denied_buckets", []))
        elif command != "invocations":
            start_response("404 Not Found", [("Content-Type", "application/json")])
            return [b'{"error": "unknown command"}']
        with dispatcher.lock:
            answer = json.dumps({"invocations": dict(dispatcher.invocations)}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))])
        return [answer]

    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--lambda-timeout", type=float, default=900.0)
    args = parser.parse_args(argv)

    # Read by localstack.config at import: only Step Functions, nothing sent anywhere.
    os.environ.update({
        "SERVICES": "stepfunctions",
        "STRICT_SERVICE_LOADING": "1",
        "DISABLE_EVENTS": "1",
        "GATEWAY_LISTEN": f"127.0.0.1:{args.port}",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
    })

    from localstack.aws.app import LocalstackAwsGateway
    from localstack.services.plugins import SERVICE_PLUGINS
    from localstack.services.stepfunctions.asl.component.state.state_execution.state_task import lambda_eval_utils
    from rolo.gateway.wsgi import WsgiGateway
    from werkzeug.serving import WSGIRequestHandler, make_server

    logger.setLevel(os.environ.get("MEDIASYNC_LOG_LEVEL", "ERROR"))
    # Failed states are logged at WARNING and above; they reach the tests through the executions.
    logging.getLogger("localstack").setLevel(logging.CRITICAL)
    # Each execution's status changes go to EventBridge, which is not served here:
    # every attempt was a failed internal request and an error logged.
    from localstack.services.stepfunctions.backend.execution import Execution

    Execution.publish_execution_status_change_event = lambda execution: None
    dispatcher = Dispatcher(args.lambda_timeout)
    lambda_eval_utils._invoke_lambda_function = dispatcher.invoke
    events = clients.s3().meta.events
    events.register("before-parameter-build.s3.*", dispatcher.note_bucket)
    events.register("before-call.s3.*", dispatcher.refuse_denied_buckets)

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    app = control_app(dispatcher, WsgiGateway(LocalstackAwsGateway(SERVICE_PLUGINS)))
    server = make_server("127.0.0.1", args.port, app, threaded=True, request_handler=QuietHandler)
    print(json.dumps({"ready": True, "endpoint_url": f"http://127.0.0.1:{args.port}"}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
