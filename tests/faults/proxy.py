"""A fault-injecting HTTP proxy in front of a real S3 server, for tests only.

It forwards requests unchanged (the Host header too, so SigV4 signatures still
verify upstream) and, by rule, answers some itself the way S3 does under stress:
``503 SlowDown``, ``500 InternalError``, or for CopyObject / UploadPartCopy /
CompleteMultipartUpload a ``200 OK`` whose body is an ``<Error>``. It can also
drop a connection after the server acted (the answer is lost, the client retries
an operation that already happened), and delay operations, to catch a worker in
the middle of a part group.
"""

from __future__ import annotations

import http.client
import random
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ERROR_BODY = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    "<Error><Code>{code}</Code><Message>{message}</Message><RequestId>injected</RequestId></Error>"
)
# Operations S3 may answer with 200 OK and an error document (botocore knows this).
OK_WITH_ERROR_OPERATIONS = {"CopyObject", "UploadPartCopy", "CompleteMultipartUpload"}


def s3_operation(method: str, path: str, query: dict[str, list[str]], headers: dict[str, str]) -> str:
    """Name the S3 operation of a path-style request (enough for the rules here)."""
    copy = "x-amz-copy-source" in headers
    has_key = len([part for part in path.split("/") if part]) > 1
    if method == "PUT":
        if "partNumber" in query:
            return "UploadPartCopy" if copy else "UploadPart"
        if "tagging" in query:
            return "PutObjectTagging"
        if copy:
            return "CopyObject"
        return "PutObject" if has_key else "CreateBucket"
    if method == "POST":
        if "uploads" in query:
            return "CreateMultipartUpload"
        if "uploadId" in query:
            return "CompleteMultipartUpload"
        return "PostObject"
    if method == "GET":
        if "uploadId" in query:
            return "ListParts"
        if "uploads" in query:
            return "ListMultipartUploads"
        if "tagging" in query:
            return "GetObjectTagging"
        return "GetObject" if has_key else "ListObjects"
    if method == "HEAD":
        return "HeadObject" if has_key else "HeadBucket"
    if method == "DELETE":
        return "AbortMultipartUpload" if "uploadId" in query else "DeleteObject"
    return method


@dataclass
class FaultRules:
    """Probabilities per request; ``only`` limits faults to some operations."""

    slow_down: float = 0.0
    internal_error: float = 0.0
    ok_with_error: float = 0.0
    # Forward, then close the connection without answering: for these operations only.
    answer_lost: float = 0.0
    answer_lost_operations: set[str] = field(default_factory=lambda: set(OK_WITH_ERROR_OPERATIONS))
    only: set[str] | None = None
    delay_seconds: float = 0.0
    delay_operations: set[str] = field(default_factory=set)
    seed: int = 1


class FaultProxy:
    def __init__(self, upstream: str, rules: FaultRules) -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.rules = rules
        self.random = random.Random(rules.seed)
        self.lock = threading.Lock()
        self.injected: Counter[str] = Counter()
        self.forwarded: Counter[str] = Counter()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.endpoint_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="fault-proxy", daemon=True)

    def __enter__(self) -> "FaultProxy":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _decide(self, operation: str) -> str | None:
        rules = self.rules
        if rules.only is not None and operation not in rules.only:
            return None
        with self.lock:
            roll = self.random.random()
        if roll < rules.slow_down:
            return "SlowDown"
        roll -= rules.slow_down
        if roll < rules.internal_error:
            return "InternalError"
        roll -= rules.internal_error
        if roll < rules.ok_with_error and operation in OK_WITH_ERROR_OPERATIONS:
            return "OkWithError"
        roll -= rules.ok_with_error
        if roll < rules.answer_lost and operation in rules.answer_lost_operations:
            return "AnswerLost"
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                return

            def _proxy(self) -> None:
                split = urlsplit(self.path)
                query = parse_qs(split.query, keep_blank_values=True)
                headers = {k.lower(): v for k, v in self.headers.items()}
                operation = s3_operation(self.command, split.path, query, headers)
                length = int(headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                if operation in proxy.rules.delay_operations and proxy.rules.delay_seconds:
                    threading.Event().wait(proxy.rules.delay_seconds)
                fault = proxy._decide(operation)
                if fault == "AnswerLost":
                    with proxy.lock:
                        proxy.injected[f"{operation}:{fault}"] += 1
                    self._forward(body, answer=False)
                    return
                if fault is not None:
                    with proxy.lock:
                        proxy.injected[f"{operation}:{fault}"] += 1
                    self._answer_fault(fault)
                    return
                with proxy.lock:
                    proxy.forwarded[operation] += 1
                self._forward(body)

            def _answer_fault(self, fault: str) -> None:
                status, code = {"SlowDown": (503, "SlowDown"), "InternalError": (500, "InternalError"),
                                "OkWithError": (200, "InternalError")}[fault]
                payload = b"" if self.command == "HEAD" else ERROR_BODY.format(
                    code=code, message=f"injected {fault}").encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _forward(self, body: bytes, answer: bool = True) -> None:
                connection = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=120)
                try:
                    # Host stays as the client signed it.
                    outgoing = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",)}
                    connection.request(self.command, self.path, body=body or None, headers=outgoing)
                    response = connection.getresponse()
                    data = response.read()
                    if not answer:
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    self.send_response(response.status, response.reason)
                    for name, value in response.getheaders():
                        if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                            self.send_header(name, value)
                    # A HEAD answer has no body but the object's length.
                    length = response.getheader("Content-Length") if self.command == "HEAD" else None
                    self.send_header("Content-Length", length or str(len(data)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(data)
                except (OSError, http.client.HTTPException, socket.timeout):
                    self.send_error(502)
                finally:
                    connection.close()

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _proxy

        return Handler
