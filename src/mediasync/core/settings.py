"""Configuration, read from the environment in one place.

Lambda functions and the Batch worker get these variables from the SAM template;
the local runtime sets them itself. S3 Batch ``userArguments`` may override the
per-job options (destination, sizes, worker mode) task by task.
"""

from __future__ import annotations

import datetime
import os
import re
from dataclasses import dataclass, field, replace
from typing import Collection, Mapping

from mediasync.core.bucket_names import bucket_name_problem
from mediasync.core.object_lock import LEGAL_HOLDS, MODES, OBJECT_LOCK_CHOICES, OFF, parse_time, time_text

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
TiB = 1024 * GiB

# S3's part limits (the last part may be smaller):
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html
MIN_PART_SIZE = 5 * MiB
MAX_PART_SIZE = 5 * GiB

WORKER_MODES = ("lambda", "batch", "auto")
# How Verify proves a copy: "auto" takes the checksum (or MD5 ETag) S3 put in the
# copy's own answer where it proves the content, else reads the copy back;
# "readback" always reads it back (HeadObject).
VERIFY_MODES = ("auto", "readback")
# Classes a CopyObject or CreateMultipartUpload may write into a general purpose
# bucket (the API's StorageClass enum less the Outposts, Snow, directory-bucket,
# FSx and Backup classes): https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html
STORAGE_CLASSES = (
    "STANDARD",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER_IR",
    "GLACIER",
    "DEEP_ARCHIVE",
    "REDUCED_REDUNDANCY",
)
# The one canned ACL worth sending: a destination that still uses ACLs gives its
# owner control of objects another account writes; buckets with ACLs disabled
# (BucketOwnerEnforced) accept it too.
ACLS = ("bucket-owner-full-control",)

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": KiB, "m": MiB, "g": GiB, "t": TiB}


def parse_size(text: str | int) -> int:
    """Parse ``"64MiB"``, ``"5G"``, ``"1048576"`` into bytes (binary units)."""
    if isinstance(text, int):
        return text
    match = _SIZE.match(str(text))
    if not match:
        raise ValueError(f"not a size: {text!r} (use bytes or a unit, e.g. 64MiB, 5GiB)")
    number, unit = match.groups()
    return int(float(number) * _UNITS[(unit or "").lower()[:1]])


def format_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class CopyOptions:
    """What one copy task should do; defaults from the environment, per-job overrides."""

    destination_bucket: str = ""
    destination_prefix: str = ""
    # Removed from the front of every source key before destination_prefix is added,
    # as `aws s3 cp --recursive` maps one folder onto another.
    strip_prefix: str = ""
    # Empty: the copies get the destination bucket's default encryption.
    sse_kms_key_id: str = ""
    # None sends nothing, so the destination bucket's S3 Bucket Key setting applies.
    bucket_key_enabled: bool | None = None
    # Empty keeps each source's class (CopyObject would otherwise write STANDARD).
    storage_class: str = ""
    acl: str = ""
    # Send RequestPayer=requester on every call that touches the source.
    requester_pays: bool = False
    multipart_threshold: int = 256 * MiB
    part_size: int = 64 * MiB
    parts_per_group: int = 16
    # Bytes a single copy_parts invocation may be given: keeps a group well inside
    # Lambda's 900 s even at a pessimistic server-side copy rate.
    group_byte_budget: int = 32 * GiB
    part_concurrency: int = 8
    # Part groups on Lambda by default: the scale model (docs/performance.md) finds it
    # faster and cheaper than Fargate at every size, since a Fargate task pays about a
    # minute to start per group. "batch" and "auto" remain for accounts whose Lambda
    # concurrency is spoken for.
    worker: str = "lambda"
    # Objects at or above this size go to AWS Batch when worker is "auto".
    batch_threshold: int = 500 * GiB
    # Parts one AWS Batch job copies. A Fargate task pays about a minute to start
    # where a Lambda pays milliseconds, so a Batch group carries several Lambda
    # groups' worth: 5 TB in 100 groups is one wave of --max-concurrency tasks.
    batch_parts_per_group: int = 100
    max_concurrency: int = 100
    # Leave objects alone whose destination already matches the source (a resumed
    # or repeated job); costs one HeadObject on the destination per object.
    skip_existing: bool = True
    # A task naming a version that is no longer the key's current one (a row of an
    # "all versions" S3 Inventory, a version overwritten since the manifest was made)
    # is reported and not copied: an old version never lands over a newer one. False
    # copies the version the manifest names (restoring one version per key).
    skip_noncurrent: bool = True
    verify: str = "auto"
    # Delete each source once its copy is proved by its content (core.move); the stack
    # must allow it (AllowSourceDeletes).
    move: bool = False
    # Object Lock on the copies (core.object_lock): "keep" copies each source's retention
    # and legal hold; a mode with its retain-until date, or a legal hold, set them instead.
    object_lock: str = OFF
    object_lock_mode: str = ""
    object_lock_retain_until: str = ""
    # "ON" puts a legal hold on every copy, "OFF" keeps none (not even the source's); empty: as object_lock says.
    legal_hold: str = ""

    def to_event(self) -> dict:
        return {
            "destination_bucket": self.destination_bucket,
            "destination_prefix": self.destination_prefix,
            "strip_prefix": self.strip_prefix,
            "sse_kms_key_id": self.sse_kms_key_id,
            "bucket_key_enabled": self.bucket_key_enabled,
            "storage_class": self.storage_class,
            "acl": self.acl,
            "requester_pays": self.requester_pays,
            "multipart_threshold": self.multipart_threshold,
            "part_size": self.part_size,
            "parts_per_group": self.parts_per_group,
            "group_byte_budget": self.group_byte_budget,
            "part_concurrency": self.part_concurrency,
            "worker": self.worker,
            "batch_threshold": self.batch_threshold,
            "batch_parts_per_group": self.batch_parts_per_group,
            "max_concurrency": self.max_concurrency,
            "skip_existing": self.skip_existing,
            "skip_noncurrent": self.skip_noncurrent,
            "verify": self.verify,
            "move": self.move,
            "object_lock": self.object_lock,
            "object_lock_mode": self.object_lock_mode,
            "object_lock_retain_until": self.object_lock_retain_until,
            "legal_hold": self.legal_hold,
        }

    @classmethod
    def from_event(cls, data: Mapping) -> "CopyOptions":
        return cls().merged(data)

    def merged(self, overrides: Mapping | None) -> "CopyOptions":
        """Apply overrides given as snake_case or camelCase keys (S3 Batch userArguments)."""
        if not overrides:
            return self
        known = {name: name for name in self.to_event()}
        known.update({camel_case(name): name for name in self.to_event()})
        changes: dict = {}
        for key, value in overrides.items():
            name = known.get(key)
            if name is None:
                # A typo (storageClas) would otherwise copy with the default, silently.
                raise ValueError(f"unknown job argument {key!r}: the known ones are "
                                 f"{', '.join(camel_case(option) for option in self.to_event())}")
            if value is None or value == "":
                continue
            try:
                changes[name] = _option_value(name, value)
            except ValueError as err:
                # A value that is not even of its kind: say which argument it was.
                raise ValueError(f"{name}: {err}") from None
        options = replace(self, **changes)
        options.validate()
        return options

    def validate(self) -> None:
        problem = self.destination_bucket and bucket_name_problem(self.destination_bucket)
        if problem:
            raise ValueError(f"destination bucket {problem}")
        if self.verify not in VERIFY_MODES:
            raise ValueError(f"verify must be one of {', '.join(VERIFY_MODES)}, not {self.verify!r}")
        if self.worker not in WORKER_MODES:
            raise ValueError(f"worker must be one of {', '.join(WORKER_MODES)}, not {self.worker!r}")
        for name in ("parts_per_group", "batch_parts_per_group", "part_concurrency", "max_concurrency"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if not MIN_PART_SIZE <= self.part_size <= MAX_PART_SIZE:
            # Refused rather than clamped: the copy would not be cut as asked. Growing a part
            # is the one change made, for an object that would need over 10,000 parts of it.
            raise ValueError(
                f"part_size must be between {format_size(MIN_PART_SIZE)} and {format_size(MAX_PART_SIZE)} "
                f"(S3's part limits), not {format_size(self.part_size)}; an object that needs more than 10,000 "
                "parts of it is copied in the smallest whole MiB parts that fit"
            )
        if self.multipart_threshold > 5 * GiB:
            raise ValueError("multipart_threshold cannot exceed 5 GiB: CopyObject works only up to 5 GiB")
        if self.storage_class and self.storage_class not in STORAGE_CLASSES:
            raise ValueError(
                f"storage_class must be one of {', '.join(STORAGE_CLASSES)} (or empty to keep the source's), "
                f"not {self.storage_class!r}"
            )
        if self.acl and self.acl not in ACLS:
            raise ValueError(f"acl must be {' or '.join(ACLS)} (or empty for none), not {self.acl!r}")
        self._validate_object_lock()
        if self.bucket_key_enabled is not None and not self.sse_kms_key_id:
            # S3 Bucket Keys exist only for SSE-KMS; without a key to encrypt with
            # the setting would be about nothing we send.
            raise ValueError("bucket_key_enabled needs sse_kms_key_id (the KMS key the copies are encrypted with)")


    def _validate_object_lock(self) -> None:
        if self.object_lock not in OBJECT_LOCK_CHOICES:
            raise ValueError(f"object_lock must be {' or '.join(OBJECT_LOCK_CHOICES)}, not {self.object_lock!r}")
        if self.object_lock_mode and self.object_lock_mode not in MODES:
            raise ValueError(f"object_lock_mode must be {' or '.join(MODES)}, not {self.object_lock_mode!r}")
        if self.legal_hold and self.legal_hold not in LEGAL_HOLDS:
            raise ValueError(f"legal_hold must be on or off, not {self.legal_hold!r}")
        if bool(self.object_lock_mode) != bool(self.object_lock_retain_until):
            # S3 sets a retention as both or neither.
            raise ValueError("object_lock_mode and object_lock_retain_until go together: a retention is a mode and "
                             "the time it lasts until")
        if self.object_lock_retain_until and parse_time(self.object_lock_retain_until) <= datetime.datetime.now(
                datetime.timezone.utc):
            raise ValueError(f"object_lock_retain_until {self.object_lock_retain_until} is not in the future: a "
                             "retention must last beyond the copy")


def _option_value(name: str, value: object) -> object:
    """A user argument's (or a variable's) text as the option ``name`` holds it."""
    if name in ("skip_existing", "skip_noncurrent", "bucket_key_enabled", "requester_pays", "move"):
        return _parse_bool(value)
    if name in ("destination_bucket", "destination_prefix", "strip_prefix", "sse_kms_key_id", "worker", "verify"):
        return str(value)
    if name in ("storage_class", "object_lock_mode", "legal_hold"):
        return str(value).strip().upper()
    if name in ("object_lock", "acl"):
        return str(value).strip().lower()
    if name == "object_lock_retain_until":
        return time_text(str(value))
    if name in ("multipart_threshold", "part_size", "group_byte_budget", "batch_threshold"):
        return parse_size(value)
    return int(value)


def _parse_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ValueError(f"not a boolean: {value!r} (use true or false)")


def camel_case(name: str) -> str:
    """``part_size`` -> ``partSize``: how S3 Batch user arguments name the options."""
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


@dataclass(frozen=True)
class Settings:
    """Process-wide configuration (one per Lambda container, worker or CLI run)."""

    region: str = "us-east-1"
    s3_endpoint_url: str | None = None
    # Step Functions somewhere other than AWS (a local fake in the tests).
    stepfunctions_endpoint_url: str | None = None
    express_state_machine_arn: str = ""
    standard_state_machine_arn: str = ""
    # Buckets a job's destinationBucket may name: the deployed stack's IAM grants
    # exactly these (DestinationBucket + AllowedDestinationBuckets). Empty: any
    # (the local runtime, where no IAM says no).
    allowed_destination_buckets: tuple[str, ...] = ()
    # Whether the stack may delete sources (its AllowSourceDeletes parameter) and set Object
    # Lock on copies (its ObjectLock parameter): IAM grants the actions only then, and
    # batch_invoke refuses a job asking for them otherwise. Absent: yes (the local runtime,
    # where no IAM says no).
    source_deletes_allowed: bool = True
    object_lock_allowed: bool = True
    # Seconds batch_invoke keeps in reserve before its own Lambda timeout: its last
    # DescribeExecution must end within them (states_call_seconds), or Lambda kills it and
    # S3 Batch records a function error with no execution ARN to follow.
    invoke_time_margin: float = 15.0
    # The Step Functions client (StartExecution, DescribeExecution): bounded attempts, no
    # client-side rate limiter to wait on (standard mode), short timeouts.
    states_connect_timeout: float = 2.0
    states_read_timeout: float = 3.0
    states_max_attempts: int = 2
    max_execution_attempts: int = 3
    s3_max_attempts: int = 10
    s3_retry_mode: str = "adaptive"
    # StartSyncExecution answers only when the EXPRESS execution ends, which may take
    # its full 5 minutes: botocore's default 60 s read timeout would give up (and
    # retry, starting another copy) while the first copy still runs.
    # https://docs.aws.amazon.com/step-functions/latest/dg/concepts-express-synchronous.html
    sync_execution_read_timeout: float = 330.0
    defaults: CopyOptions = field(default_factory=CopyOptions)

    @property
    def states_call_seconds(self) -> float:
        """The longest a Step Functions call can take: every attempt connecting and
        reading to its timeout, and botocore's standard backoff between them (at most
        2^n seconds before retry n+1, https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html)."""
        attempts = self.states_max_attempts
        return attempts * (self.states_connect_timeout + self.states_read_timeout) + sum(
            min(2.0**retry, 20.0) for retry in range(attempts - 1))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        overrides = {
            name: env[f"MEDIASYNC_{name.upper()}"]
            for name in CopyOptions().to_event()
            if env.get(f"MEDIASYNC_{name.upper()}")
        }
        return cls(
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            s3_endpoint_url=env.get("MEDIASYNC_S3_ENDPOINT_URL") or None,
            stepfunctions_endpoint_url=env.get("MEDIASYNC_STEPFUNCTIONS_ENDPOINT_URL") or None,
            express_state_machine_arn=env.get("MEDIASYNC_EXPRESS_STATE_MACHINE_ARN", ""),
            standard_state_machine_arn=env.get("MEDIASYNC_STANDARD_STATE_MACHINE_ARN", ""),
            allowed_destination_buckets=tuple(
                bucket.strip() for bucket in env.get("MEDIASYNC_ALLOWED_DESTINATION_BUCKETS", "").split(",")
                if bucket.strip()
            ),
            source_deletes_allowed=_parse_bool(env.get("MEDIASYNC_SOURCE_DELETES_ALLOWED") or "true"),
            object_lock_allowed=_parse_bool(env.get("MEDIASYNC_OBJECT_LOCK_ALLOWED") or "true"),
            invoke_time_margin=float(env.get("MEDIASYNC_INVOKE_TIME_MARGIN", "15")),
            max_execution_attempts=int(env.get("MEDIASYNC_MAX_EXECUTION_ATTEMPTS", "3")),
            s3_max_attempts=int(env.get("MEDIASYNC_S3_MAX_ATTEMPTS", "10")),
            s3_retry_mode=env.get("MEDIASYNC_S3_RETRY_MODE", "adaptive"),
            sync_execution_read_timeout=float(env.get("MEDIASYNC_SYNC_EXECUTION_READ_TIMEOUT", "330")),
            defaults=CopyOptions().merged(overrides),
        )


_settings: Settings | None = None


def get_settings() -> Settings:
    global _settings
    if _settings is None:
        _settings = Settings.from_env()
    return _settings


def reset_settings() -> None:
    """Forget the cached settings (the local runtime changes the environment)."""
    global _settings
    _settings = None


# Copy options a job sends only when they differ from the defaults: S3 Batch takes
# at most 10 user arguments, and the ones above already fill 9.
OPTIONAL_ARGUMENTS = ("strip_prefix", "storage_class", "sse_kms_key_id", "bucket_key_enabled", "acl", "requester_pays",
                      "verify", "skip_noncurrent", "move", "object_lock", "object_lock_mode", "object_lock_retain_until",
                      "legal_hold")


def argument_text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def user_arguments(options: CopyOptions, *, include: Collection[str] = ()) -> dict[str, str]:
    """S3 Batch userArguments are strings; camelCase as the console shows them.

    The options of OPTIONAL_ARGUMENTS appear when set away from their defaults, or
    when named in ``include`` (a job that turns one off against the stack's setting).
    """
    arguments = {
        "destinationBucket": options.destination_bucket,
        "destinationPrefix": options.destination_prefix,
        "multipartThreshold": str(options.multipart_threshold),
        "partSize": str(options.part_size),
        "partsPerGroup": str(options.parts_per_group),
        "worker": options.worker,
        "batchPartsPerGroup": str(options.batch_parts_per_group),
        "maxConcurrency": str(options.max_concurrency),
        "skipExisting": str(options.skip_existing).lower(),
    }
    defaults = CopyOptions()
    for name in OPTIONAL_ARGUMENTS:
        value = getattr(options, name)
        if value is not None and (value != getattr(defaults, name) or name in include):
            arguments[camel_case(name)] = argument_text(value)
    return arguments
