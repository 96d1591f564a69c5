"""Click option helpers shared by the ``mediasync`` commands.

Kept apart from ``cli`` so commands defined in other modules (``estimate_command``)
can use the same option types without importing the whole command group.
"""

from __future__ import annotations

from pathlib import Path

import click

from mediasync.core.settings import ACLS, STORAGE_CLASSES, VERIFY_MODES, WORKER_MODES, CopyOptions, parse_size


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
