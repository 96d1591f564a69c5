"""One function per state-machine Task: state in, small result out.

The Lambda handlers and the Batch worker are thin wrappers around these. State
layout (see statemachine/*.asl.json): ``source``, ``destination``, ``options``,
``plan`` (after inspection), ``upload`` (after CreateMultipartUpload), ``copy``
(after the copy or the completion), ``verification``.
"""

from __future__ import annotations

import functools
import threading
from typing import Any, Callable, TypeVar

from botocore.exceptions import BotoCoreError

from mediasync.core import clients
from mediasync.core.copy import CopyResult, abort_upload, complete_upload, copy_part_group, copy_single, create_upload
from mediasync.core.errors import (
    ERRORS,
    AccessDenied,
    InvalidTask,
    MediaSyncError,
    SourceChanged,
    UploadGone,
    VerificationFailed,
    from_sdk_error,
    s3_errors,
)
from mediasync.core.plan import Plan, copy_state
from mediasync.core.request_args import copy_lock
from mediasync.core.settings import CopyOptions
from mediasync.core.source import ObjectRef, SourceObject, inspect_source
from mediasync.core.verify import check_copy, discard, proof_from_response

Step = TypeVar("Step", bound=Callable[..., dict[str, Any]])


def _named_failures(step: Step) -> Step:
    """A botocore error leaves as a named failure, not as a botocore class the ASL and
    the report do not know: a network failure that outlasted botocore's retries as
    S3ServiceError, which every Task's Retry names; one the SDK raised on this side
    (ParamValidationError...) as AwsSdkError, carrying its message."""

    @functools.wraps(step)
    def run(*args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return step(*args, **kwargs)
        except BotoCoreError as err:
            raise from_sdk_error(err) from err

    return run


def _source(state: dict[str, Any]) -> SourceObject:
    return SourceObject.from_state(state["source"])


def _options(state: dict[str, Any]) -> CopyOptions:
    return CopyOptions.from_event(state.get("options") or {})


def _destination(state: dict[str, Any], *, pinned: bool = False) -> ObjectRef:
    dest = state.get("destination") or {}
    if not dest.get("bucket") or not dest.get("key"):
        raise InvalidTask("the task has no destination bucket and key")
    version = (state.get("copy") or {}).get("version_id") if pinned else None
    return ObjectRef(dest["bucket"], dest["key"], version)


@_named_failures
def inspect(state: dict[str, Any]) -> dict[str, Any]:
    """Inspect the source and plan the copy; returns the whole state with both added."""
    src = state.get("source") or {}
    if not src.get("bucket") or not src.get("key"):
        raise InvalidTask("the task has no source bucket and key")
    options = _options(state)
    source = inspect_source(clients.s3(), ObjectRef(src["bucket"], src["key"], src.get("version_id")), options)
    planned = copy_state(source, state.get("destination") or {}, options)
    return {**state, "source": planned["source"], "plan": planned["plan"]}


@_named_failures
def copy_object(state: dict[str, Any]) -> dict[str, Any]:
    plan = Plan.from_state(state["plan"])
    return copy_single(clients.s3(), _source(state), _destination(state), _options(state),
                       checksum_algorithm=plan.checksum_algorithm).to_state()


@_named_failures
def create_multipart_upload(state: dict[str, Any]) -> dict[str, Any]:
    plan = Plan.from_state(state["plan"])
    upload_id = create_upload(clients.s3(), _source(state), _destination(state), _options(state),
                              checksum_algorithm=plan.checksum_algorithm, checksum_type=plan.checksum_type)
    return {"upload_id": upload_id}


@_named_failures
def copy_parts(
    state: dict[str, Any],
    *,
    stop: threading.Event | None = None,
    on_part: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Copy one part group (``state["group"]``) of an open multipart upload."""
    plan = Plan.from_state(state["plan"])
    options = _options(state)
    return copy_part_group(
        clients.s3(),
        _source(state),
        _destination(state),
        state["upload_id"],
        plan.layout,
        plan.grouping,
        int(state["group"]),
        concurrency=options.part_concurrency,
        stop=stop,
        on_part=on_part,
        options=options,
    )


@_named_failures
def complete_multipart_upload(state: dict[str, Any]) -> dict[str, Any]:
    plan = Plan.from_state(state["plan"])
    dest = _destination(state)
    upload_id = state["upload"]["upload_id"]
    s3 = clients.s3()
    try:
        return complete_upload(
            s3, dest, upload_id, plan.layout, checksum_algorithm=plan.checksum_algorithm,
            # The source's part checksums stand for the copy's only when the parts are the same.
            source=_source(state) if plan.reuses_source_layout else None, options=_options(state),
        ).to_state()
    except UploadGone:
        # A retried completion whose first attempt did finish finds no upload.
        # Hand over what is at the destination; Verify judges it.
        with s3_errors("destination", dest):
            head = s3.head_object(Bucket=dest.bucket, Key=dest.key)
        return CopyResult(etag=head["ETag"], version_id=head.get("VersionId")).to_state()


@_named_failures
def verify(state: dict[str, Any]) -> dict[str, Any]:
    copied = state["copy"]
    dest = _destination(state, pinned=True)
    source, plan, options = _source(state), Plan.from_state(state["plan"]), _options(state)
    # No answer to a copy shows its lock: a copy asked to carry one is read back.
    lock = copy_lock(options, source)
    s3 = clients.s3()
    try:
        result = None
        if options.verify == "auto" and lock.empty:
            result = proof_from_response(source, plan, copied)
        if result is None:
            result = check_copy(s3, source, dest, plan, etag=copied["etag"], expected_etag=copied.get("expected_etag"),
                                lock=lock)
    except VerificationFailed as failure:
        try:
            deleted = discard(s3, dest, copied["etag"])
        except AccessDenied as refused:
            # A copy S3 did lock (COMPLIANCE, or GOVERNANCE without a bypass) cannot be deleted.
            raise VerificationFailed(f"{failure}; the copy could not be deleted ({refused}): a version under Object "
                                     "Lock retention or a legal hold stays until it ends") from failure
        if deleted:
            raise VerificationFailed(f"{failure}; the destination object was deleted") from failure
        raise VerificationFailed(f"{failure}; the destination is no longer the copy (another writer replaced it): "
                                 "left as it is") from failure
    return result.to_state()


@_named_failures
def abort(state: dict[str, Any]) -> dict[str, Any]:
    """Abort the upload; explain the failure when the error that got here does not."""
    upload = state.get("upload") or {}
    s3 = clients.s3()
    result: dict[str, Any] = {"aborted": False}
    if upload.get("upload_id"):
        result["aborted"] = abort_upload(s3, _destination(state), upload["upload_id"])
    error_name = (state.get("error") or {}).get("Error", "")
    if error_name not in ERRORS and state.get("source"):
        cause = diagnose_source(s3, _source(state), _options(state))
        if cause is not None:
            result.update(error=cause.code, cause=str(cause))
    return result


def diagnose_source(s3: Any, source: SourceObject, options: CopyOptions | None = None) -> MediaSyncError | None:
    """Why a copy of ``source`` would fail now: it is gone or it changed."""
    try:
        current = inspect_source(s3, source.ref, options)
    except MediaSyncError as error:
        return error
    if current.etag != source.etag:
        return SourceChanged(f"source {source.ref.url} changed while it was being copied (ETag {source.etag} is now {current.etag})")
    return None
