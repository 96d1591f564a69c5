"""Click option helpers shared by the ``mediasync`` commands.

Kept apart from ``cli`` so commands defined in other modules (``estimate_command``)
can use the same option types without importing the whole command group.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mediasync.core.object_lock import MODES, OBJECT_LOCK_CHOICES, time_text
from mediasync.core.settings import ACLS, STORAGE_CLASSES, VERIFY_MODES, WORKER_MODES, CopyOptions, parse_size

if TYPE_CHECKING:
    from mediasync.manifests.filters import ObjectFilter


class SizeParam(click.ParamType):
    """A byte size written like ``64MiB``, ``5GiB`` or ``1048576``."""

    name = "size"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        try:
            return parse_size(value)
        except ValueError as err:
            self.fail(str(err), param, ctx)


SIZE = SizeParam()


class EndpointParam(click.ParamType):
    """An S3 endpoint URL, checked as botocore will check it, so a bad one is a usage error, not a traceback."""

    name = "text"

    def convert(self, value, param, ctx):
        from botocore.utils import is_valid_endpoint_url, is_valid_ipv6_endpoint_url

        scheme = value.split("://", 1)[0].lower() if "://" in value else ""
        if scheme not in ("http", "https") or not (is_valid_endpoint_url(value) or is_valid_ipv6_endpoint_url(value)):
            self.fail(f"{value!r} is not an endpoint URL: give http(s)://HOST[:PORT], e.g. http://127.0.0.1:8333",
                      param, ctx)
        return value


ENDPOINT = EndpointParam()


class RetainUntilParam(click.ParamType):
    """A retain-until time: ISO 8601, no zone meaning UTC, kept as core.object_lock writes it."""

    name = "time"

    def convert(self, value, param, ctx):
        try:
            return time_text(value)
        except ValueError as err:
            self.fail(str(err), param, ctx)


def size_text(size: int) -> str:
    """``268435456`` -> ``256MiB``: a default shown in --help that SIZE parses back."""
    for unit, factor in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size and size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


def task_options(func):
    """Options that shape each object's copy: what a job passes as S3 Batch userArguments."""
    defaults = CopyOptions()
    for option in reversed(
        [
            click.option("--destination-prefix", default="", help="Prepended to every key at the destination."),
            click.option("--strip-prefix", default="", metavar="PREFIX",
                         help="Removed from the start of every source key before --destination-prefix is added: "
                              "a/b/x.mov -> c/x.mov with --strip-prefix a/b/ --destination-prefix c/. A key that "
                              "does not start with it fails as InvalidTask."),
            click.option("--storage-class", type=click.Choice(STORAGE_CLASSES), default=None,
                         help="Storage class of the copies [default: each source's own class]."),
            click.option("--sse-kms-key-id", default=None, metavar="KEY-ARN",
                         help="Encrypt the copies with SSE-KMS under this key [default: the destination bucket's "
                              "default encryption]. On AWS the stack grants only its DestinationKmsKeyArn."),
            click.option("--bucket-key-enabled/--no-bucket-key-enabled", default=None,
                         help="S3 Bucket Key for the SSE-KMS copies (needs --sse-kms-key-id) "
                              "[default: the destination bucket's setting]."),
            click.option("--acl", type=click.Choice(ACLS), default=None,
                         help="Canned ACL for the copies, for a destination in another account that still uses "
                              "ACLs [default: none sent]."),
            click.option("--requester-pays/--no-requester-pays", default=defaults.requester_pays, show_default=True,
                         help="The source buckets are Requester Pays: every source request carries "
                              "RequestPayer=requester, and this account pays for it."),
            click.option("--multipart-threshold", type=SIZE, default=size_text(defaults.multipart_threshold),
                         show_default=True, help="Larger objects are copied in parts (max 5GiB)."),
            click.option("--part-size", type=SIZE, default=size_text(defaults.part_size), show_default=True,
                         help="Part size, 5MiB-5GiB, for sources that are not multipart already (multipart sources keep "
                              "theirs); an object that would need more than 10,000 parts gets the smallest whole-MiB "
                              "parts that fit."),
            click.option("--parts-per-group", type=click.IntRange(1, 10_000), default=defaults.parts_per_group,
                         show_default=True, help="Parts one copy_parts invocation copies."),
            click.option("--worker", type=click.Choice(WORKER_MODES), default=defaults.worker, show_default=True,
                         help="Where part groups run: Lambda, AWS Batch, or by size."),
            click.option("--batch-parts-per-group", type=click.IntRange(1, 10_000),
                         default=defaults.batch_parts_per_group, show_default=True,
                         help="Parts one AWS Batch job copies (a Fargate task starts in about a minute)."),
            click.option("--max-concurrency", type=click.IntRange(1, 10_000), default=defaults.max_concurrency,
                         show_default=True, help="Distributed Map MaxConcurrency (part groups in flight per object)."),
            click.option("--skip-existing/--no-skip-existing", default=defaults.skip_existing, show_default=True,
                         help="Leave objects whose destination already matches the source (resumed jobs)."),
            click.option("--verify", type=click.Choice(VERIFY_MODES), default=defaults.verify, show_default=True,
                         help="auto: prove each copy by the checksum (or MD5 ETag) in S3's answer to the copy "
                              "where it can, else read the copy back; readback: always read it back."),
            click.option("--move", is_flag=True, default=defaults.move,
                         help="Delete each source once its copy is proved by its content (a checksum or MD5 ETags), "
                              "with DeleteObject If-Match on the ETag copied; a versioned source gets a delete "
                              "marker. Sources proved only by size, locked, or changed since are kept, and the "
                              "report says why. On AWS the stack needs AllowSourceDeletes=true."),
            click.option("--object-lock", type=click.Choice(OBJECT_LOCK_CHOICES), default=None,
                         help="keep: give each copy its source's Object Lock retention (while it lasts) and legal "
                              "hold. The destination bucket needs Object Lock enabled [default: off, or the "
                              "stack's ObjectLock]."),
            click.option("--object-lock-mode", type=click.Choice(MODES, case_sensitive=False), default=None,
                         help="Put this retention mode on every copy (with --object-lock-retain-until)."),
            click.option("--object-lock-retain-until", type=RetainUntilParam(), default=None, metavar="TIME",
                         help="The retention's end, ISO 8601 (2031-01-31 or 2031-01-31T18:00:00Z; no zone: UTC)."),
            click.option("--legal-hold", type=click.Choice(("on", "off"), case_sensitive=False), default=None,
                         help="on: a legal hold on every copy; off: none, not even a kept source's."),
        ]
    ):
        func = option(func)
    return func


def copy_options(func):
    """Options shared by every command that copies on this machine: the task options plus the job's."""
    func = click.option("--report", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help="Completion report CSV [default: mediasync-report-<time>.csv].")(func)
    func = click.option("--concurrency", type=click.IntRange(1, 512), default=16, show_default=True,
                        help="Objects copied at once (S3 Batch task concurrency).")(func)
    return task_options(func)


def s3_place(flag: str, url: str) -> tuple[str, str]:
    """An ``s3://BUCKET[/PREFIX]`` option as (bucket, prefix); a usage error otherwise."""
    from mediasync.manifests.locations import is_s3_url, split_s3_url

    try:
        if not is_s3_url(url):
            raise ValueError(url)
        return split_s3_url(url, key_required=False)
    except ValueError:
        raise click.UsageError(f"{flag} {url!r} is not an s3://BUCKET[/PREFIX] URL") from None


def refuse_moving_onto_itself(source_bucket: str, options: CopyOptions) -> None:
    """A usage error when ``--move`` would copy every object onto its own key: the copy
    keeps the source's ETag, so the conditional delete would remove the only copy."""
    if options.move and source_bucket == options.destination_bucket and options.destination_prefix == options.strip_prefix:
        raise click.UsageError(f"--move would copy every object of s3://{source_bucket} onto itself and then delete "
                               "the only copy: give another --destination-bucket or --destination-prefix")


# -- filters: what a listing keeps (manifests.filters) --------------------------------------------

PATTERN_FLAGS = ("include", "exclude")
_PATTERN_ORDER = "mediasync.pattern_order"


class FilterCommand(click.Command):
    """A command with --include and --exclude: it remembers the order they were given in
    across both flags (click keeps each flag's values apart), since the last pattern
    that matches decides, as in the aws CLI."""

    def make_parser(self, ctx: click.Context):
        parser = super().make_parser(ctx)
        parse = parser.parse_args

        def parse_args(args):
            opts, rest, order = parse(args=args)
            ctx.meta[_PATTERN_ORDER] = [param.name for param in order if param.name in PATTERN_FLAGS]
            return opts, rest, order

        parser.parse_args = parse_args
        return parser


class TimeParam(click.ParamType):
    """An ISO 8601 date or time (no zone: UTC)."""

    name = "time"

    def convert(self, value, param, ctx):
        from mediasync.manifests.filters import FilterError, parse_time

        if isinstance(value, datetime.datetime):
            return value
        try:
            return parse_time(f"--{param.name.replace('_', '-')}" if param else "time", value)
        except FilterError as err:
            self.fail(str(err), param, ctx)


def filter_options(func):
    """The filters of a listed source, as rclone and the aws CLI name them (manifests.filters)."""
    from mediasync.manifests.filters import LISTED_STORAGE_CLASSES

    for option in reversed([
        click.option("--include", multiple=True, metavar="GLOB",
                     help="Keep the keys matching GLOB again (after an --exclude). With --exclude: tried in the order "
                          "given, the last pattern that matches decides, as the aws CLI's; matched against the key "
                          "after the source prefix; * matches any characters, / included; ? one; [seq], [!seq]."),
        click.option("--exclude", multiple=True, metavar="GLOB",
                     help="Leave out the keys matching GLOB (repeatable; see --include), e.g. --exclude '*.tmp'."),
        click.option("--min-size", type=SIZE, default=None, help="Leave out objects smaller than this (e.g. 1MiB)."),
        click.option("--max-size", type=SIZE, default=None, help="Leave out objects larger than this (e.g. 5GiB)."),
        click.option("--modified-after", type=TimeParam(), default=None, metavar="TIME",
                     help="Keep only objects last modified after TIME (ISO 8601: 2026-01-31 or 2026-01-31T18:00:00Z; "
                          "no zone: UTC)."),
        click.option("--modified-before", type=TimeParam(), default=None, metavar="TIME",
                     help="Keep only objects last modified before TIME."),
        click.option("--match-storage-class", multiple=True,
                     type=click.Choice(LISTED_STORAGE_CLASSES, case_sensitive=False),
                     help="Keep only objects stored in this class (repeatable: any of them). --storage-class is "
                          "still the copies' class."),
    ]):
        func = option(func)
    return func


FILTER_NAMES = ("include", "exclude", "min_size", "max_size", "modified_after", "modified_before",
                "match_storage_class")


def object_filter(values: dict) -> ObjectFilter:
    """The ObjectFilter of filter_options' values, taken out of ``values``; bad input is a usage error."""
    from mediasync.manifests.filters import FilterError, ObjectFilter, parse_pattern

    given = {name: values.pop(name, None) for name in FILTER_NAMES}
    ctx = click.get_current_context()
    order = ctx.meta.get(_PATTERN_ORDER) or []
    remaining = {kind: list(given[kind] or ()) for kind in PATTERN_FLAGS}
    assert len(order) == sum(map(len, remaining.values())), "a command with filter_options is a FilterCommand"
    try:
        patterns = tuple(parse_pattern(kind, remaining[kind].pop(0)) for kind in order if remaining[kind])
        return ObjectFilter(patterns, given["min_size"], given["max_size"], given["modified_after"],
                            given["modified_before"], tuple(dict.fromkeys(name.upper() for name in
                                                                           given["match_storage_class"] or ())))
    except FilterError as err:
        raise click.UsageError(str(err)) from err


def refuse_filters_with_a_manifest(selected: ObjectFilter, *also: str) -> None:
    """A usage error when filters (or ``also``, other --source flags given) come with --manifest."""
    given = [*selected.flags(), *also]
    if given:
        raise click.UsageError(f"{' '.join(given)}: these go with --source; a manifest's objects are already chosen "
                               "(filter them with inventory or plan)")
