"""Named failures, one per outcome.

The class name is the error name everywhere: Lambda reports it as ``errorType``,
the ASL ``Retry``/``Catch`` blocks match it, S3 Batch results and report rows carry
it as the error code. ``retryable`` decides TemporaryFailure vs PermanentFailure.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError


class MediaSyncError(Exception):
    http_status: int = 500
    retryable: bool = False

    @property
    def code(self) -> str:
        return type(self).__name__


class SourceMissing(MediaSyncError):
    """The source key or version does not exist, or is a delete marker."""

    http_status = 404


class SourceArchived(MediaSyncError):
    """The source is in an archive storage class and has not been restored."""

    http_status = 403


class SourceNeedsCustomerKey(MediaSyncError):
    """The source is encrypted with a customer-provided key (SSE-C), which MediaSync never holds."""

    http_status = 400


class SourceChanged(MediaSyncError):
    """The source was overwritten after it was inspected (CopySourceIfMatch failed)."""

    http_status = 412


class AccessDenied(MediaSyncError):
    http_status = 403


class BucketMissing(MediaSyncError):
    http_status = 404


class DestinationMissing(MediaSyncError):
    """The destination answered 404 Not Found where the copy writes or reads back: a
    copy's own side, never the source's (SourceMissing)."""

    http_status = 404


class CredentialsRefused(MediaSyncError):
    """S3 refused the credentials themselves (InvalidAccessKeyId, SignatureDoesNotMatch,
    an expired token): no permission of either bucket is in question."""

    http_status = 403


class ObjectTooLarge(MediaSyncError):
    http_status = 400


class InvalidTask(MediaSyncError):
    """The task itself is unusable: no destination, bad options, bad manifest row."""

    http_status = 400


class PartsMissing(MediaSyncError):
    """ListParts did not show every planned part: a part group did not finish."""

    http_status = 500
    retryable = True


class UploadGone(MediaSyncError):
    """The multipart upload no longer exists (completed or aborted already)."""

    http_status = 404


class VerificationFailed(MediaSyncError):
    """The destination does not match the source; it has been removed."""

    http_status = 500


class Throttled(MediaSyncError):
    """S3 kept answering SlowDown/503 after every client-side retry."""

    http_status = 503
    retryable = True


class S3ServiceError(MediaSyncError):
    """S3 kept failing (500 InternalError, timeouts) after every client-side retry."""

    http_status = 500
    retryable = True


class WorkerInterrupted(MediaSyncError):
    """The Batch worker was asked to stop (Spot reclaim) before its group finished."""

    http_status = 503
    retryable = True


class CopyOutcomeUnknown(MediaSyncError):
    """StartSyncExecution got no answer: the EXPRESS copy may have run, may still be
    running, or may never have started. Synchronous Express runs are at-most-once,
    so the call is not repeated blindly; S3 Batch's next attempt checks the
    destination (skip_existing) before it copies again."""

    http_status = 504
    retryable = True


class StepFunctionsError(MediaSyncError):
    """A state failed inside Step Functions (timeout, task or Map Run failure); the cause names it."""

    http_status = 500
    retryable = True


ERRORS: dict[str, type[MediaSyncError]] = {
    cls.__name__: cls
    for cls in (
        SourceMissing,
        SourceArchived,
        SourceNeedsCustomerKey,
        SourceChanged,
        AccessDenied,
        BucketMissing,
        DestinationMissing,
        CredentialsRefused,
        ObjectTooLarge,
        InvalidTask,
        PartsMissing,
        UploadGone,
        VerificationFailed,
        Throttled,
        S3ServiceError,
        WorkerInterrupted,
        CopyOutcomeUnknown,
        StepFunctionsError,
    )
}

# Errors raised by Step Functions itself or by the Lambda service that are worth a
# new attempt by S3 Batch.
RETRYABLE_STATES_ERRORS = frozenset(
    {
        "States.Timeout",
        "States.HeartbeatTimeout",
        "States.TaskFailed",
        "States.ExceedToleratedFailureThreshold",
        "Lambda.ServiceException",
        "Lambda.TooManyRequestsException",
        "Lambda.SdkClientException",
        "Lambda.AWSLambdaException",
    }
)


def is_retryable(error_name: str) -> bool:
    cls = ERRORS.get(error_name)
    if cls is not None:
        return cls.retryable
    return error_name in RETRYABLE_STATES_ERRORS


def http_status_for(error_name: str) -> int:
    cls = ERRORS.get(error_name)
    return cls.http_status if cls is not None else 500


# Codes S3 answers when the credentials themselves are wrong, whatever was asked.
CREDENTIAL_CODES = frozenset({"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken",
                              "TokenRefreshRequired"})
_THROTTLE_CODES = {"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "503"}
_SERVICE_CODES = {"InternalError", "ServiceUnavailable", "RequestTimeout", "500", "502", "504"}


def from_client_error(err: ClientError, *, side: str, bucket: str, key: str) -> MediaSyncError:
    """Translate a botocore error on ``side`` ("source" or "destination") into a named failure."""
    code = str(err.response.get("Error", {}).get("Code", ""))
    status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    message = err.response.get("Error", {}).get("Message") or code
    where = f"{side} s3://{bucket}/{key}"
    if code in ("PreconditionFailed", "412") or status == 412:
        return SourceChanged(f"{where} changed while it was being copied (ETag no longer matches)")
    if code == "NoSuchUpload":
        return UploadGone(f"the multipart upload for {where} no longer exists")
    if code == "NoSuchBucket":
        return BucketMissing(f"{side} bucket {bucket!r} does not exist")
    if code in CREDENTIAL_CODES:
        return CredentialsRefused(f"S3 refused the credentials themselves ({code}), not a permission on {where}: "
                                  f"{message}")
    if side != "source" and (code in ("NoSuchKey", "NoSuchVersion", "404", "NotFound") or status == 404):
        return DestinationMissing(f"{where} answered 404 Not Found ({code or status}){_control_note(key)}")
    if code in ("NoSuchKey", "NoSuchVersion", "404", "NotFound") or (status == 404 and side == "source"):
        return SourceMissing(f"{where} does not exist ({code or status})")
    if code in ("AccessDenied", "403", "Forbidden", "AllAccessDisabled"):
        return AccessDenied(f"access denied to {where}: {message}")
    if code == "InvalidObjectState":
        return SourceArchived(f"{where} is archived and not restored: {message}")
    if code == "MethodNotAllowed" and side == "source":
        return SourceMissing(f"{where} is a delete marker")
    if code in _THROTTLE_CODES:
        return Throttled(f"S3 throttled requests for {where}: {message}")
    if code in _SERVICE_CODES or (status or 0) >= 500:
        return S3ServiceError(f"S3 failed on {where}: {code} {message}")
    return InvalidTask(f"S3 rejected the request for {where}: {code} {message}")


def _control_note(key: str) -> str:
    """S3 takes control characters in keys, but not every server (or proxy) routes them."""
    if any(ord(char) < 32 or ord(char) == 127 for char in key):
        return f"; the key {key!r} holds a control character, which this server may not accept"
    return ""


@contextlib.contextmanager
def s3_errors(side: str, obj: Any) -> Iterator[None]:
    """S3 calls inside raise the named failure for ``side`` ("source" or
    "destination") of ``obj`` (anything with ``bucket`` and ``key``), not a ClientError.

    One place for the translation every S3 call needs; a call that must look at
    the error first (an upload already gone, say) catches ClientError itself and
    ends in :func:`from_client_error`.
    """
    try:
        yield
    except ClientError as err:
        raise from_client_error(err, side=side, bucket=obj.bucket, key=obj.key) from err


# The network failed (connection refused or reset, timeouts, an answer cut short)
# after every botocore retry: transient, like a 500.
TRANSPORT_ERRORS = (BotocoreConnectionError, HTTPClientError)


def from_transport_error(err: Exception) -> S3ServiceError:
    return S3ServiceError(f"the network failed after every retry: {err}")
