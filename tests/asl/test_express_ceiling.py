"""An EXPRESS execution ends at its ceiling without running any Catch.

AWS rule modeled in the local runtime (LocalRuntime.express_ceiling_seconds, 300 s as on
AWS, scaled down here): an Express workflow runs at most 5 minutes, then ends TIMED_OUT
(https://docs.aws.amazon.com/step-functions/latest/dg/concepts-standard-vs-express.html);
no state's Catch runs, so AbortUpload never does, and a Lambda already invoked runs on.
"""

from __future__ import annotations

import threading
import time

from mediasync.core.settings import MiB
from tests.conftest import batch_event, put_multipart

ARGS = {"destinationBucket": "dst", "multipartThreshold": str(16 * MiB), "partSize": str(8 * MiB)}


def test_an_express_copy_ended_at_its_ceiling_leaves_no_upload_open(runtime, buckets):
    runtime.express_ceiling_seconds = 1.0
    put_multipart(buckets, "src", "clip.mov", 13 * MiB, 5 * MiB)  # small and multipart: EXPRESS, inline Map
    finished = threading.Event()
    copy_parts = runtime.handlers["copy_parts"]

    def slow_copy_parts(event, context):
        time.sleep(2.0)  # still copying when the execution reaches its ceiling
        try:
            return copy_parts(event, context)
        finally:
            finished.set()

    runtime.handlers["copy_parts"] = slow_copy_parts

    result = runtime.invoke("batch_invoke", batch_event("job-1", "t1", "src", "clip.mov", user_arguments=ARGS))
    assert finished.wait(60), "the Lambda in flight runs on to its own end"

    assert buckets.list_multipart_uploads(Bucket="dst").get("Uploads", []) == []
    [task] = result["results"]
    assert task["resultCode"] == "TemporaryFailure", task
    assert task["resultString"].startswith("States.Timeout: ") and "reached its ceiling" in task["resultString"]
    assert "Contents" not in buckets.list_objects_v2(Bucket="dst")
    assert runtime.invocations.get("abort_upload", 0) == 0, "no Catch ran: batch_invoke cleaned up"
