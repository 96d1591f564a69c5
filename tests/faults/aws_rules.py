"""AWS rules moto does not follow, applied to a botocore client's answers.

HeadObject answers carry no body on AWS, so an error has no code beyond its status:
a missing bucket and a missing key both read as a bare ``404``, SSE-C's refusal as a
bare ``400`` (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html).
moto sends an XML error body with HEAD and botocore parses it (``NoSuchBucket``).
"""

from __future__ import annotations

import urllib.parse
from typing import Any


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
