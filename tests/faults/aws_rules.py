"""AWS rules moto does not follow, applied to a botocore client's answers.

HeadObject answers carry no body on AWS, so an error has no code beyond its status:
a missing bucket and a missing key both read as a bare ``404``, SSE-C's refusal as a
bare ``400`` (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html).
moto sends an XML error body with HEAD and botocore parses it (``NoSuchBucket``).
"""

from __future__ import annotations

from typing import Any


def _bare_head_error(http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
    status = getattr(http_response, "status_code", 200)
    if status >= 300 and isinstance(parsed.get("Error"), dict):
        parsed["Error"] = {"Code": str(status), "Message": parsed["Error"].get("Message", "")}


def bare_head_errors(client: Any) -> Any:
    """Make ``client``'s HeadObject errors look like AWS's: status only."""
    client.meta.events.register("after-call.s3.HeadObject", _bare_head_error)
    return client
