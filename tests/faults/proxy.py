"""HTTP proxies in front of a real S3 server, for tests only.

:class:`S3Proxy` forwards each request to the server and its answer back, through two
hooks a subclass may override: ``prepare`` (the request before it goes upstream) and
``respond`` (the answer before the client sees it). Both see the whole message: S3
requests and answers here are small enough to hold in memory, and holding them lets a
hook rewrite a body and set its length.

:class:`FaultProxy` forwards requests unchanged (the Host header too, so SigV4
signatures still verify upstream) and, by rule, answers some itself the way S3 does
under stress: ``503 SlowDown``, ``500 InternalError``, or for CopyObject /
UploadPartCopy / CompleteMultipartUpload a ``200 OK`` whose body is an ``<Error>``. It
can also drop a connection after the server acted (the answer is lost, the client
retries an operation that already happened), and delay operations, to catch a worker
in the middle of a part group.
"""

from __future__ import annotations

import http.client
import random
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

ERROR_BODY = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    "<Error><Code>{code}</Code><Message>{message}</Message><RequestId>injected</RequestId></Error>"
)
# Operations S3 may answer with 200 OK and an error document (botocore knows this).
OK_WITH_ERROR_OPERATIONS = {"CopyObject", "UploadPartCopy", "CompleteMultipartUpload"}
# Hop-by-hop, or recomputed from the body a hook may have changed.
_NOT_FORWARDED = {"connection", "transfer-encoding", "content-length", "keep-alive"}


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
        if "attributes" in query:
            return "GetObjectAttributes"
        if "versions" in query:
            return "ListObjectVersions"
        return "GetObject" if has_key else "ListObjects"
    if method == "HEAD":
        return "HeadObject" if has_key else "HeadBucket"
    if method == "DELETE":
        return "AbortMultipartUpload" if "uploadId" in query else "DeleteObject"
    return method


@dataclass
class Request:
    """One path-style S3 request as the client sent it (``path`` keeps its query)."""

    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.path).query, keep_blank_values=True)

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)

    def set_header(self, name: str, value: str) -> None:
        self.headers = [(key, v) for key, v in self.headers if key.lower() != name.lower()] + [(name, value)]

    @property
    def operation(self) -> str:
        headers = {key.lower(): value for key, value in self.headers}
        return s3_operation(self.method, urlsplit(self.path).path, self.query, headers)

    @property
    def bucket_and_key(self) -> tuple[str, str]:
        bucket, _, key = unquote(urlsplit(self.path).path).lstrip("/").partition("/")
        return bucket, key


@dataclass
class Response:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)

    def set_header(self, name: str, value: str) -> None:
        self.headers = [(key, v) for key, v in self.headers if key.lower() != name.lower()] + [(name, value)]


class S3Proxy:
    """A threaded HTTP proxy on a free loopback port in front of one S3 server."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.lock = threading.Lock()
        self.forwarded: Counter[str] = Counter()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.endpoint_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, name=type(self).__name__, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def prepare(self, request: Request) -> Request:
        """The request to send upstream."""
        return request

    def respond(self, request: Request, response: Response) -> Response:
        """The answer the client gets; ``request`` is the one the client sent."""
        return response

    def handle(self, request: Request) -> Response | None:
        """Forward and answer; None closes the connection without an answer."""
        with self.lock:
            self.forwarded[request.operation] += 1
        return self.forward(request)

    def forward(self, request: Request) -> Response:
        sent = self.prepare(Request(request.method, request.path, list(request.headers), request.body))
        connection = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=120)
        try:
            headers = {name: value for name, value in sent.headers if name.lower() not in _NOT_FORWARDED}
            if sent.body or sent.method in ("PUT", "POST"):
                headers["Content-Length"] = str(len(sent.body))
            # Host stays as the client signed it (or as prepare re-signed it).
            connection.request(sent.method, sent.path, body=sent.body or None, headers=headers)
            answer = connection.getresponse()
            response = Response(answer.status, answer.reason, answer.getheaders(), answer.read())
        finally:
            connection.close()
        return self.respond(request, response)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                return

            def _proxy(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(self.command, self.path, list(self.headers.items()), body)
                try:
                    response = proxy.handle(request)
                except (OSError, http.client.HTTPException, socket.timeout):
                    self.send_error(502)
                    return
                if response is None:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(response.status, response.reason)
                for name, value in response.headers:
                    if name.lower() not in _NOT_FORWARDED:
                        self.send_header(name, value)
                # A HEAD answer has no body but the object's length.
                length_header = response.header("Content-Length") if self.command == "HEAD" else None
                self.send_header("Content-Length", length_header or str(len(response.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(response.body)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _proxy

        return Handler


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


class FaultProxy(S3Proxy):
    def __init__(self, upstream: str, rules: FaultRules | None = None) -> None:
        super().__init__(upstream)
        self.rules = rules or FaultRules()
        self.random = random.Random(self.rules.seed)
        self.injected: Counter[str] = Counter()

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

    def handle(self, request: Request) -> Response | None:
        operation = request.operation
        if operation in self.rules.delay_operations and self.rules.delay_seconds:
            threading.Event().wait(self.rules.delay_seconds)
        fault = self._decide(operation)
        if fault is None:
            return super().handle(request)
        with self.lock:
            self.injected[f"{operation}:{fault}"] += 1
        if fault == "AnswerLost":
            self.forward(request)
            return None
        status, code = {"SlowDown": (503, "SlowDown"), "InternalError": (500, "InternalError"),
                        "OkWithError": (200, "InternalError")}[fault]
        payload = b"" if request.method == "HEAD" else ERROR_BODY.format(
            code=code, message=f"injected {fault}").encode()
        return Response(status, "", [("Content-Type", "application/xml")], payload)
