"""A website redirect is part of what a copy must carry, on every route.

AWS rule modeled (tests/faults/aws_rules.py, copies_drop_website_redirects): CopyObject
does not copy ``x-amz-website-redirect-location`` with the metadata directive; the
request must send it (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html).
moto copies it anyway, which hid the loss.
"""

from __future__ import annotations

import boto3
import pytest

from mediasync.core.settings import MiB
from mediasync.manifests.s3batch_csv import parse_lines
from tests.conftest import batch_event, put_multipart
from tests.faults.aws_rules import copies_drop_website_redirects, on_handler_clients
from tests.invariants import assert_invariants, report_row_of

ARGS = {"destinationBucket": "dst", "multipartThreshold": str(16 * MiB), "partSize": str(8 * MiB)}
REDIRECT = "/catalogue/new-home.html"


@pytest.mark.parametrize("verify", ["auto", "readback"])
@pytest.mark.parametrize("size", [100, 17 * MiB], ids=["CopyObject", "multipart"])
def test_a_website_redirect_reaches_the_copy(runtime, buckets, size, verify):
    if size > 16 * MiB:
        put_multipart(buckets, "src", "page.html", size, 8 * MiB, WebsiteRedirectLocation=REDIRECT)
    else:
        buckets.put_object(Bucket="src", Key="page.html", Body=b"x" * size, WebsiteRedirectLocation=REDIRECT)

    with on_handler_clients("s3", copies_drop_website_redirects):
        result = runtime.invoke("batch_invoke", batch_event("job-1", "t1", "src", "page.html",
                                                            user_arguments={**ARGS, "verify": verify}))["results"][0]

    assert result["resultCode"] == "Succeeded", result
    assert buckets.head_object(Bucket="dst", Key="page.html").get("WebsiteRedirectLocation") == REDIRECT
    assert_invariants(boto3.client("s3", region_name=runtime.region), parse_lines(["src,page.html"]),
                      [report_row_of("src", "page.html", result)], "dst")


def test_a_copy_without_the_redirect_is_not_already_copied(runtime, buckets):
    """skip-existing compares the redirect too: a copy that lost it is copied again."""
    buckets.put_object(Bucket="src", Key="page.html", Body=b"page", WebsiteRedirectLocation=REDIRECT)
    buckets.put_object(Bucket="dst", Key="page.html", Body=b"page")

    result = runtime.invoke("batch_invoke", batch_event("job-1", "t1", "src", "page.html", user_arguments=ARGS))

    assert result["results"][0]["resultString"].startswith("Copied:"), result
    assert buckets.head_object(Bucket="dst", Key="page.html").get("WebsiteRedirectLocation") == REDIRECT
