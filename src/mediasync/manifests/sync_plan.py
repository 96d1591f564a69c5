"""A sync plan: what a copy job has to do, decided from one listing of each side.

The decision ``aws s3 sync`` and ``rclone copy`` make before copying, made stricter
so that nothing is left out on a guess. For each source object, the destination
object its key maps to (``destination_key``: the destination prefix plus the key
less the prefix to strip) is:

- absent, or of another size: **copy** it, without the task looking at the
  destination first (one HeadObject fewer);
- present with the same size and ETag, and written no earlier than the source was
  last written: **same**, left out of the job. The ETag "reflects changes only to the
  contents of an object" (S3 API reference, Object and ObjectVersion), so equal
  ETags mean equal content; the dates rule out a source changed since (a rewrite of
  its metadata keeps its ETag but not its LastModified);
- present with the same size but another ETag (SSE-KMS ETags are not MD5s; another
  part layout gives another multipart ETag), or older than the source: **check** it,
  as every object is checked without a plan: the task's skip-existing check reads
  both objects and skips only on proof (a checksum, or MD5 ETags), else copies.

What a listing cannot show is not compared: a destination whose metadata (not its
bytes) a third party rewrote after the copy counts as the same. Check such a
destination with ``run --no-sync-plan`` (every object then gets the full check).

The rule is one table, RULES, that ``decide`` walks object by object and
manifests.sync_sql renders as SQL for DuckDB (``mediasync plan``, any object count) and
Athena. ``plan_sync`` here, which ``run --source`` uses, lists the destination first into
memory (about 370 bytes an object with a 35-character key, measured with tracemalloc:
2.5 million objects in 1 GiB); the source then streams past it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

from botocore.exceptions import BotoCoreError, ClientError

from mediasync.core.errors import InvalidTask
from mediasync.core.s3batch_task import destination_key
from mediasync.manifests.filters import FILTERED, NO_FILTER, LeftOut, ObjectFilter
from mediasync.manifests.listing import Listed, ListingProgress, ManifestSink, list_bucket
from mediasync.manifests.s3batch_csv import format_row

COPY = "copy"
CHECK = "check"
SAME = "same"

# Why each decision was taken, as the plan's counts and the report name it.
ABSENT = "absent at the destination"
SIZE_DIFFERS = "size differs"
KEY_NOT_MAPPED = "key outside the prefix to strip"
ETAG_DIFFERS = "same size, ETag differs"
SOURCE_NEWER = "same size and ETag, source written later"
SAME_CONTENT = "same size and ETag, destination no older"

# The proof a left-out object gets in the report (reports.summary counts it).
LISTING_PROOF = "listing-etag"


class DestinationNotListed(Exception):
    """The destination could not be listed (no s3:ListBucket there, say): no plan."""


@dataclass(frozen=True)
class Decision:
    action: str  # COPY, CHECK or SAME
    reason: str
    destination: Listed | None = None


# -- the rule: one definition, evaluated here object by object and rendered as SQL -------------
#
# ``decide`` walks RULES for one object in memory (``run --source``); manifests.sync_sql
# renders the same RULES as a SQL CASE that DuckDB runs here and Athena on AWS. Each
# condition knows both forms, so the two cannot drift apart; tests/unit/test_sync_sql.py
# runs both on the same objects (Hypothesis draws them) and compares every decision.
# In SQL, ``s`` is the source row and ``d`` the destination row (all NULL when absent);
# ETags are compared without their quotes (listings quote them, inventories do not).


def etag_value(etag: str | None) -> str:
    return (etag or "").replace('"', "")


@dataclass(frozen=True)
class Side:
    """One column of the source (``s``) or destination (``d``) row."""

    alias: str
    column: str

    def value(self, source: Listed, destination: Listed | None) -> Any:
        item = source if self.alias == "s" else destination
        value = getattr(item, self.column)
        return etag_value(value) if self.column == "etag" else value

    def sql(self) -> str:
        return f'{self.alias}."{self.column}"'


class _Condition:
    def holds(self, source: Listed, destination: Listed | None, mapped: bool) -> bool:
        raise NotImplementedError

    def sql(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class KeyNotMapped(_Condition):
    """The source key cannot be mapped (outside the prefix to strip, or nothing left)."""

    def holds(self, source, destination, mapped):
        return not mapped

    def sql(self):
        return 's."destination_key" IS NULL'


@dataclass(frozen=True)
class Absent(_Condition):
    def holds(self, source, destination, mapped):
        return destination is None

    def sql(self):
        return 'd."key" IS NULL'


@dataclass(frozen=True)
class Differ(_Condition):
    column: str

    def holds(self, source, destination, mapped):
        return Side("s", self.column).value(source, destination) != Side("d", self.column).value(source, destination)

    def sql(self):
        return f"{Side('s', self.column).sql()} IS DISTINCT FROM {Side('d', self.column).sql()}"


@dataclass(frozen=True)
class Blank(_Condition):
    """An ETag not known (empty or absent)."""

    side: Side

    def holds(self, source, destination, mapped):
        return not self.side.value(source, destination)

    def sql(self):
        return f"coalesce({self.side.sql()}, '') = ''"


@dataclass(frozen=True)
class Unknown(_Condition):
    side: Side

    def holds(self, source, destination, mapped):
        return self.side.value(source, destination) is None

    def sql(self):
        return f"{self.side.sql()} IS NULL"


@dataclass(frozen=True)
class Earlier(_Condition):
    """``first`` before ``second`` (both known: put Unknown checks before it in AnyOf)."""

    first: Side
    second: Side

    def holds(self, source, destination, mapped):
        return self.first.value(source, destination) < self.second.value(source, destination)

    def sql(self):
        return f"{self.first.sql()} < {self.second.sql()}"


@dataclass(frozen=True)
class AnyOf(_Condition):
    conditions: tuple[_Condition, ...]

    def holds(self, source, destination, mapped):
        return any(condition.holds(source, destination, mapped) for condition in self.conditions)

    def sql(self):
        return "(" + " OR ".join(condition.sql() for condition in self.conditions) + ")"


@dataclass(frozen=True)
class Otherwise(_Condition):
    def holds(self, source, destination, mapped):
        return True

    def sql(self):
        return "TRUE"


@dataclass(frozen=True)
class Rule:
    action: str
    reason: str
    when: _Condition


SOURCE_ETAG, SOURCE_WRITTEN = Side("s", "etag"), Side("s", "last_modified")
DESTINATION_WRITTEN = Side("d", "last_modified")

# The first rule that holds decides. A key the strip prefix cannot map goes to the job,
# whose task reports it as InvalidTask.
RULES: tuple[Rule, ...] = (
    Rule(COPY, KEY_NOT_MAPPED, KeyNotMapped()),
    Rule(COPY, ABSENT, Absent()),
    Rule(COPY, SIZE_DIFFERS, Differ("size")),
    Rule(CHECK, ETAG_DIFFERS, AnyOf((Blank(SOURCE_ETAG), Differ("etag")))),
    # A destination row older than the source's (or either date unknown) never leaves
    # the object out: the source may have been rewritten since the copy was made.
    Rule(CHECK, SOURCE_NEWER, AnyOf((Unknown(SOURCE_WRITTEN), Unknown(DESTINATION_WRITTEN),
                                     Earlier(DESTINATION_WRITTEN, SOURCE_WRITTEN)))),
    Rule(SAME, SAME_CONTENT, Otherwise()),
)


def decide(source: Listed, destination: Listed | None, *, mapped: bool = True) -> Decision:
    """What to do with one source object, given what its destination key holds
    (``mapped`` False: the key has no destination key at all)."""
    rule = next(rule for rule in RULES if rule.when.holds(source, destination, mapped))
    return Decision(rule.action, rule.reason, destination)


PlanKey = tuple[str, str, "str | None"]


def plan_key(bucket: str, key: str, version_id: str | None) -> PlanKey:
    """How a manifest row finds the decision taken for its listed object."""
    return bucket, key, version_id or None


# A left-out object as a summary counts it from the plan's SAME manifest, which names no destination.
LEFT_OUT_BY_PLAN = f"left out of the job by its sync plan; verified by {LISTING_PROOF}: the listings show {SAME_CONTENT}"


def left_out_message(decision: Decision) -> str:
    """The report's message for an object the plan left out: what proves it is there."""
    dest = decision.destination
    assert dest is not None, "only a present destination is left out"
    return (f"s3://{dest.bucket}/{dest.key} already holds this object ({dest.size} bytes); verified by "
            f"{LISTING_PROOF}: the listings show {decision.reason}; not copied again")


@dataclass
class SyncCounts:
    """How many objects (and bytes) took each decision, by reason."""

    objects: Counter = field(default_factory=Counter)  # (action, reason) -> objects
    bytes: Counter = field(default_factory=Counter)  # (action, reason) -> bytes
    destination_listed: int = 0

    def add(self, source: Listed, decision: Decision) -> None:
        self.objects[decision.action, decision.reason] += 1
        self.bytes[decision.action, decision.reason] += source.size

    def add_left_out(self, source: Listed, flag: str) -> None:
        """An object the filter ``flag`` left out of the plan (FILTERED, by flag)."""
        self.add(source, Decision(FILTERED, flag))

    def left_out(self) -> LeftOut:
        """What the filters left out, by flag."""
        left_out = LeftOut()
        for (action, flag), count in self.objects.items():
            if action == FILTERED:
                left_out.add(flag, self.bytes[action, flag], count)
        return left_out

    def total(self, action: str) -> int:
        return sum(count for (taken, _), count in self.objects.items() if taken == action)

    def by_reason(self, action: str) -> dict[str, int]:
        return {reason: count for (taken, reason), count in sorted(self.objects.items()) if taken == action}

    def bytes_of(self, action: str) -> int:
        return sum(size for (taken, _), size in self.bytes.items() if taken == action)


@dataclass(frozen=True)
class Destination:
    """Where source keys land: bucket, prefix, and the source prefix taken off."""

    bucket: str
    prefix: str = ""
    strip: str = ""

    def key_of(self, source_key: str) -> str | None:
        try:
            return destination_key(self.prefix, source_key, self.strip)
        except InvalidTask:
            return None

    def listing_prefix(self, source_prefix: str) -> str:
        """The destination prefix every key under ``source_prefix`` lands under."""
        mapped = source_prefix[len(self.strip):] if source_prefix.startswith(self.strip) else ""
        return self.prefix + mapped


def plan_sync(
    s3: Any,
    source_bucket: str,
    source_prefix: str,
    destination: Destination,
    emit: Callable[[Listed, Decision], None],
    *,
    versions: bool = False,
    workers: int = 16,
    on_progress: Callable[[ListingProgress], None] = lambda progress: None,
    requester_pays: bool = False,
    selected: ObjectFilter = NO_FILTER,
    on_left_out: Callable[[Listed, str], None] = lambda source, flag: None,
) -> SyncCounts:
    """List the destination, then stream the source listing past it: ``emit`` (one
    thread at a time) gets every source object ``selected`` keeps with its decision,
    ``on_left_out`` the others with the flag that left each out (counted FILTERED).
    ``versions`` pins each key's current version, as ``inventory --versions`` does."""
    counts = SyncCounts()
    found: dict[str, Listed] = {}
    try:
        list_bucket(s3, destination.bucket, destination.listing_prefix(source_prefix), workers=workers,
                    emit=lambda item: found.__setitem__(item.key, item))
    except (ClientError, BotoCoreError) as err:
        raise DestinationNotListed(err) from err
    counts.destination_listed = len(found)

    def decide_one(source: Listed) -> None:
        key = destination.key_of(source.key)
        decision = decide(source, found.get(key) if key is not None else None, mapped=key is not None)
        counts.add(source, decision)
        emit(source, decision)

    def left_out(source: Listed, flag: str) -> None:
        counts.add_left_out(source, flag)
        on_left_out(source, flag)

    list_bucket(s3, source_bucket, source_prefix, versions=versions, latest_only=versions, workers=workers,
                emit=decide_one, on_progress=on_progress, requester_pays=requester_pays, selected=selected,
                on_left_out=left_out)
    return counts


def write_sync_plan(
    s3: Any,
    source_bucket: str,
    source_prefix: str,
    destination: Destination,
    sinks: dict[str, ManifestSink],
    **listing: Any,
) -> SyncCounts:
    """The plan as manifests, one per decision (``sinks`` by COPY, CHECK, SAME): all
    closed, or all aborted on error."""

    def emit(source: Listed, decision: Decision) -> None:
        sinks[decision.action].write(format_row(source.bucket, source.key, source.version_id))

    try:
        counts = plan_sync(s3, source_bucket, source_prefix, destination, emit, **listing)
    except BaseException:
        for sink in sinks.values():
            sink.abort()
        raise
    for sink in sinks.values():
        sink.close()
    return counts
