"""AWS rules moto does not follow, applied to a botocore client's answers.

Each rule cites the AWS page it follows; docs/aws-rules.md lists them with their tests.
:func:`on_handler_clients` puts rules on the clients the handlers use (core.clients),
so the real state machines and handlers meet them.

HeadObject answers carry no body on AWS, so an error has no code beyond its status:
a missing bucket and a missing key both read as a bare ``404``, SSE-C's refusal as a
bare ``400`` (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html).
moto sends an XML error body with HEAD and botocore parses it (``NoSuchBucket``).
"""

from __future__ import annotations

import contextlib
import urllib.parse
from typing import Any, Callable, Iterator
from unittest import mock

from mediasync.core import clients

MOTO_ACCOUNT = "123456789012"


@contextlib.contextmanager
def on_handler_clients(service: str, *rules: Callable[[Any], Any]) -> Iterator[None]:
    """Every ``service`` client core.clients creates (the handlers' and the worker's)
    gets ``rules`` applied while the block runs."""
    create = clients.Clients._create

    def create_with_rules(self: Any, name: str) -> Any:
        client = create(self, name)
        if name == service:
            for rule in rules:
                rule(client)
        return client

    with mock.patch.object(clients.Clients, "_create", create_with_rules):
        clients.CLIENTS._clients.pop(service, None)
        try:
            yield
        finally:
            clients.CLIENTS._clients.pop(service, None)


def _bare_head_error(http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
    status = getattr(http_response, "status_code", 200)
    if status >= 300 and isinstance(parsed.get("Error"), dict):
        parsed["Error"] = {"Code": str(status), "Message": parsed["Error"].get("Message", "")}


def bare_head_errors(client: Any) -> Any:
    """Make ``client``'s HeadObject errors look like AWS's: status only."""
    client.meta.events.register("after-call.s3.HeadObject", _bare_head_error)
    return client


class _BareAnswer:
    def __init__(self, status: int) -> None:
        self.status_code = status
        self.headers: dict[str, str] = {}


def refuse_heads_without_customer_key(client: Any, objects: set[tuple[str, str]]) -> Any:
    """Answer HeadObject of the (bucket, key) ``objects`` -- SSE-C objects, which moto
    stores like any other -- with AWS's bare 400 unless the request carries the key."""

    def refuse(params: dict[str, Any], **_: Any) -> Any:
        url = urllib.parse.unquote(params["url"].split("?")[0])
        if "x-amz-server-side-encryption-customer-key" in params["headers"]:
            return None
        if any(bucket in url and url.endswith("/" + key) for bucket, key in objects):
            return _BareAnswer(400), {"Error": {"Code": "400", "Message": "Bad Request"},
                                      "ResponseMetadata": {"HTTPStatusCode": 400, "HTTPHeaders": {}}}
        return None

    client.meta.events.register("before-call.s3.HeadObject", refuse)
    return client


def copies_drop_website_redirects(client: Any) -> Any:
    """CopyObject keeps no ``x-amz-website-redirect-location`` unless the request sends it:
    "x-amz-website-redirect-location is unique to each object and is not copied when
    using the x-amz-metadata-directive header. To copy the value, you must specify
    x-amz-website-redirect-location in the request header"
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html). moto copies
    it with the metadata; here the copy loses it, in moto's in-process S3."""

    def note(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["redirect_sent"] = bool(params.get("WebsiteRedirectLocation"))
        context["copy_to"] = (params["Bucket"], params["Key"])

    def drop(http_response: Any, context: dict[str, Any], **_: Any) -> None:
        if getattr(http_response, "status_code", 500) != 200 or context.get("redirect_sent", True):
            return
        from moto.s3.models import s3_backends

        copy = s3_backends[MOTO_ACCOUNT]["aws"].get_object(*context["copy_to"])
        if copy is not None:
            copy.website_redirect_location = None
            copy.metadata.pop("x-amz-website-redirect-location", None)

    client.meta.events.register("before-parameter-build.s3.CopyObject", note)
    client.meta.events.register("after-call.s3.CopyObject", drop)
    return client


@contextlib.contextmanager
def batch_container_overrides_limit() -> Iterator[None]:
    """AWS Batch on Fargate runs the job as an ECS task, whose overrides hold "a total of
    8192 characters ... This limit includes the JSON formatting characters of the
    override structure" (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html).
    moto's Batch takes any size; here SubmitJob past the limit is refused."""
    import json

    from moto.batch.exceptions import ClientException
    from moto.batch_simple.models import BatchSimpleBackend

    submit = BatchSimpleBackend.submit_job

    def limited(backend: Any, *args: Any, **kwargs: Any) -> Any:
        overrides = kwargs.get("container_overrides") or {}
        length = len(json.dumps(overrides, ensure_ascii=False, separators=(",", ":")))
        if length > 8192:
            raise ClientException(f"Container Overrides length must be at most 8192, not {length}")
        return submit(backend, *args, **kwargs)

    with mock.patch.object(BatchSimpleBackend, "submit_job", limited):
        yield


_LOCK_FIELDS = ("ObjectLockMode", "ObjectLockRetainUntilDate", "ObjectLockLegalHoldStatus")


def lock_status_hidden(client: Any) -> Any:
    """HeadObject answers without an object's Object Lock, as AWS answers a role not granted
    s3:GetObjectRetention and s3:GetObjectLegalHold: "If you GET or HEAD an object version
    but don't have the necessary permissions to view its lock status, the request succeeds.
    However, it doesn't return information that you don't have permission to view"
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html). moto
    shows the lock to anyone; a stack deployed with ObjectLock=off grants neither action."""

    def hide(parsed: dict[str, Any], **_: Any) -> None:
        for name in _LOCK_FIELDS:
            parsed.pop(name, None)

    client.meta.events.register("after-call.s3.HeadObject", hide)
    return client


def _source_of(params: dict[str, Any]) -> tuple[str, str]:
    source = params["CopySource"]
    if isinstance(source, str):
        bucket, _, key = urllib.parse.unquote(source.split("?")[0]).lstrip("/").partition("/")
        return bucket, key
    return source["Bucket"], source["Key"]


def missing_sources_denied_without_list(client: Any) -> Any:
    """A copy of a source key that does not exist answers 403 AccessDenied, naming no
    bucket, unless the role making the call may s3:ListBucket the source bucket: "If you
    don't have the s3:ListBucket permission, Amazon S3 returns an HTTP status code 403"
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html; that it holds
    for a copy's source too is the review's inference, on docs/aws-rules.md's list to check
    on a first deployment). The role is the one stack/permissions.py gives the call."""
    from mediasync.stack.permissions import ROLES, SOURCE_BUCKETS

    def may_list_sources(operation: str) -> bool:
        makers = [role for role in ROLES.values() if f"s3:{operation}" in role.calls]
        return all(any(grant.on == SOURCE_BUCKETS and "s3:ListBucket" in grant.actions for grant in role.grants)
                   for role in makers)

    def note(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["copy_source"] = _source_of(params)

    def deny(http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        error = parsed.get("Error") or {}
        if error.get("Code") not in ("NoSuchKey", "404") or not _moto_object_missing(*context["copy_source"]):
            return
        if may_list_sources(model.name):
            # moto answers UploadPartCopy of a missing source with a bare 404; AWS's error
            # responses to it carry a body: NoSuchKey
            # (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
            parsed["Error"] = {"Code": "NoSuchKey", "Message": "The specified key does not exist."}
            return
        parsed["Error"] = {"Code": "AccessDenied", "Message": "Access Denied"}
        parsed.setdefault("ResponseMetadata", {})["HTTPStatusCode"] = 403
        http_response.status_code = 403

    for operation in ("CopyObject", "UploadPartCopy"):
        client.meta.events.register(f"before-parameter-build.s3.{operation}", note)
        client.meta.events.register(f"after-call.s3.{operation}", deny)
    return client


def _moto_object_missing(bucket: str, key: str) -> bool:
    from moto.s3.models import s3_backends

    try:
        return s3_backends[MOTO_ACCOUNT]["aws"].get_object(bucket, key) is None
    except Exception:  # a missing bucket: moto's MissingBucket
        return True


def source_kms_key_denied(key_arn: str, sources: set[tuple[str, str]]) -> Callable[[Any], Any]:
    """Copies of ``sources`` (bucket, key) are refused as AWS refuses a role without
    kms:Decrypt on the source's KMS key: AccessDenied naming the key, no bucket
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html)."""

    def rule(client: Any) -> Any:
        def refuse(request: Any, **_: Any) -> Any:
            copy_source = request.headers.get("x-amz-copy-source")
            if copy_source is None:
                return None
            if isinstance(copy_source, bytes):
                copy_source = copy_source.decode()
            if _source_of({"CopySource": copy_source}) not in sources:
                return None
            from botocore.awsrequest import AWSResponse
            from moto.core.botocore_stubber import MockRawResponse

            body = (f"<Error><Code>AccessDenied</Code><Message>User: arn:aws:sts::123456789012:assumed-role/copy/x "
                    f"is not authorized to perform: kms:Decrypt on resource: {key_arn} because no identity-based "
                    "policy allows the kms:Decrypt action</Message></Error>").encode()
            return AWSResponse(request.url, 403, {}, MockRawResponse(body))

        for operation in ("CopyObject", "UploadPartCopy"):
            client.meta.events.register_first(f"before-send.s3.{operation}", refuse)
        return client

    return rule
