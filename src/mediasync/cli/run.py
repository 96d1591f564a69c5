"""`mediasync run`: copy a manifest (or a listed prefix) on this machine through the real
state machines and handlers: embedded S3, or sandbox processes against --endpoint-url.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import click
from rich.markup import escape

from mediasync.cli.common import (
    EXIT_OK,
    ROWS_PER_SANDBOX,
    console,
    fail,
    out,
    s3_error,
    use_s3_endpoint,
)
from mediasync.cli.interrupt import Interrupted, stop_on_signals
from mediasync.cli.inventory import list_into_manifest
from mediasync.cli.local_job import count_rows, options_for, run_job, write_left_out
from mediasync.cli.options import (
    ENDPOINT,
    FilterCommand,
    copy_options,
    filter_options,
    object_filter,
    refuse_filters_with_a_manifest,
    refuse_moving_onto_itself,
    s3_place,
)
from mediasync.cli.paths import check_writable, read_once, refuse_overwriting_inputs
from mediasync.cli.plan import describe_plan
from mediasync.core.settings import CopyOptions
from mediasync.local.run_registry import RunRegistry
from mediasync.manifests.filters import NO_FILTER, LeftOut, ObjectFilter
from mediasync.manifests.inventory_report import is_inventory_manifest
from mediasync.manifests.locations import is_s3_url
from mediasync.manifests.reader import probe_manifest, read_manifest
from mediasync.manifests.s3batch_csv import ManifestError
from mediasync.manifests.sync_plan import CHECK, COPY, SAME, Decision, PlanKey, SyncCounts, plan_key
from mediasync.reports.rows import timings_path

# -- run ---------------------------------------------------------------------------------


@click.command(cls=FilterCommand,
               short_help="Copy a manifest's objects (or a prefix) on this machine; write the report.")
@click.option("--manifest", default=None, metavar="FILE|s3://BUCKET/manifest.json",
              help="S3 Batch CSV manifest (bucket,url-encoded-key[,version-id] per line), or an S3 Inventory "
                   "report's manifest.json (local, or s3:// with --endpoint-url).")
@click.option("--source", default=None, metavar="s3://BUCKET[/PREFIX]",
              help="Instead of --manifest: list this bucket or prefix into a manifest beside the report "
                   "(report.csv -> report.manifest.csv), then copy it: `inventory` and `run` in one. "
                   "Needs --endpoint-url.")
@click.option("--destination-bucket", required=True, help="Bucket to copy into.")
@click.option("--endpoint-url", default=None, type=ENDPOINT,
              help="S3-compatible endpoint (credentials from the usual AWS environment/config). "
                   "Without it, an embedded in-process S3 is used.")
@click.option("--sync-plan/--no-sync-plan", default=True, show_default=True,
              help="With --source and --skip-existing: list the destination once and decide from the two "
                   "listings (absent or another size: copy; same size and ETag, written no earlier than the source: "
                   "left out, with no request; else: checked object by object). --no-sync-plan checks every "
                   "present object by its metadata and checksum too.")
@click.option("--processes", type=click.IntRange(0, 64), default=0, show_default="0: automatic",
              help="Sandbox processes that run batch_invoke, as S3 Batch runs Lambdas side by side. "
                   f"Automatic: one per CPU, up to one per {ROWS_PER_SANDBOX} objects to copy or check, with "
                   "--endpoint-url; one without it (the embedded S3 lives in one process).")
@click.option("--dry-run", is_flag=True,
              help="Print what the run would copy, check and leave out (counts, bytes, the first objects of each) "
                   "and stop: nothing is copied, and nothing written to either bucket or beside the report.")
@filter_options
@copy_options
def run(manifest: str | None, source: str | None, destination_bucket: str, endpoint_url: str | None,
        sync_plan: bool, processes: int, dry_run: bool, report: Path | None, concurrency: int,
        **option_values: object) -> None:
    """Copy every object of a manifest (or under --source) on this machine, then write the completion report.

    Runs the real state machines and handlers locally, against an S3-compatible
    server (--endpoint-url) or an embedded in-process S3. Beside the report it
    writes REPORT.timings.jsonl, per-object timings that `mediasync report --html`
    charts.

    \b
    Examples:
      mediasync run --manifest manifest.csv --destination-bucket archive \\
          --endpoint-url http://127.0.0.1:8333 --report report.csv
      mediasync run --source s3://media/masters/ --destination-bucket archive \\
          --endpoint-url http://127.0.0.1:8333 --report report.csv
      mediasync run --source s3://media/masters/ --exclude '*.tmp' --modified-after 2026-01-01 \\
          --destination-bucket archive --endpoint-url http://127.0.0.1:8333 --dry-run
    """
    report = report or Path(f"mediasync-report-{time.strftime('%Y%m%d-%H%M%S')}.csv")
    if (manifest is None) == (source is None):
        raise click.UsageError("give the objects to copy: --manifest FILE or --source s3://BUCKET/PREFIX (one of them)")
    selected = object_filter(option_values)
    if manifest is not None:
        refuse_filters_with_a_manifest(selected)
    options = options_for(destination_bucket, option_values)
    if processes > 1 and not endpoint_url:
        raise click.UsageError("--processes above 1 needs --endpoint-url: the embedded S3 lives inside one process")
    if source is not None:
        refuse_moving_onto_itself(s3_place("--source", source)[0], options)
    if dry_run:  # before anything is checked by writing it
        _dry_run(manifest, source, endpoint_url, options, selected, sync_plan=sync_plan and options.skip_existing)
        return
    outputs = {"--report": report, "the timings file beside it": timings_path(report)}
    refuse_overwriting_inputs(outputs, {"manifest": manifest} if manifest else {})
    for name, path in outputs.items():
        check_writable(name, path)
    if source is not None:
        _source_location(source, endpoint_url)
    try:
        with stop_on_signals(), contextlib.ExitStack() as stack:
            if manifest is not None:
                manifest = read_once(manifest, stack)
            code = _run(manifest, source, endpoint_url, sync_plan, processes, report, concurrency, options, selected)
    except Interrupted as stop:
        # Threads of the in-process engine may still be inside a copy: do not wait for them.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(stop.exit_code)
    sys.exit(code)


def _run(manifest: str | None, source: str | None, endpoint_url: str | None, sync_plan: bool, processes: int,
         report: Path, concurrency: int, options: CopyOptions, selected: ObjectFilter = NO_FILTER) -> int:
    plan = None
    left_out = LeftOut()
    if endpoint_url:
        _check_destination(use_s3_endpoint(endpoint_url), options, endpoint_url)
    if manifest is None:
        manifest, plan, kept, left_out = _manifest_of_source(str(source), str(endpoint_url), report, options,
                                                             selected, sync_plan=sync_plan and options.skip_existing)
        if kept == 0:
            # A run with nothing to do has done it: an empty report, and exit 0.
            report.write_text("", encoding="utf-8")
            timings_path(report).write_text("", encoding="utf-8")
            write_left_out(report, left_out)
            what = (f"the filters left out all {left_out.total:,} objects of {escape(str(source))}" if left_out.total
                    else f"{escape(str(source))} has no objects")
            out.print(f"nothing to copy: {what}; report {escape(str(report))} is empty")
            return EXIT_OK
    in_s3 = is_s3_url(manifest)
    _check_manifest_location(manifest, endpoint_url)
    if not in_s3:
        _probe_or_exit(manifest)

    started = datetime.datetime.now(datetime.timezone.utc)
    # Nothing left to copy or check: no state machines to start.
    engine = (contextlib.nullcontext(None) if plan is not None and not plan.has_work
              else _local_runtime(manifest, endpoint_url, processes, concurrency,
                                  tasks=plan.tasks if plan is not None else None))
    registry = (RunRegistry(endpoint_url, options.destination_bucket, options.destination_prefix)
                if endpoint_url else contextlib.nullcontext())
    others: set[str] | None = None  # set when the job starts: the uploads open then are not this run's
    try:
        with registry, engine as runtime:
            if not endpoint_url:
                from mediasync.core import clients

                _check_destination(clients.s3(), options, "the embedded S3")
            if in_s3:
                _probe_or_exit(manifest)
            others = _abort_interrupted_uploads(manifest, options, started, registry)
            return run_job(runtime, manifest, options, report, concurrency, plan=plan and plan.decisions,
                           left_out=left_out)
    except Interrupted as stop:
        _stopped(stop, report, options, endpoint_url, others)
        raise


def _stopped(stop: Interrupted, report: Path, options: CopyOptions, endpoint_url: str | None,
             others: set[str] | None) -> None:
    """After the engine has stopped: abort the uploads this run opened for the objects
    the report shows Interrupted, and say so in one line."""
    if others is None:  # the job had not started: the report there, if any, is an earlier run's
        console.print(f"[red]stopped[/red] by {stop.name} before the copy began: nothing copied")
        return
    from botocore.exceptions import BotoCoreError, ClientError

    from mediasync.core.errors import InvalidTask
    from mediasync.core.s3batch_task import destination_key
    from mediasync.local.recovery import abort_own_uploads
    from mediasync.local.runner import INTERRUPTED
    from mediasync.reports.rows import display_key, read_report

    try:
        unfinished = [row for row in read_report(str(report)) if row.code == INTERRUPTED] if report.exists() else []
    except ManifestError:
        unfinished = []
    keys = []
    for row in unfinished:
        with contextlib.suppress(InvalidTask):
            keys.append(destination_key(options.destination_prefix, display_key(row.key), options.strip_prefix))
    aborted = "the embedded S3 went with it"
    if endpoint_url and keys:
        try:
            count = abort_own_uploads(use_s3_endpoint(endpoint_url), options.destination_bucket, keys, others)
            aborted = f"{count} multipart upload{'s' if count != 1 else ''} of its own aborted"
        except (ClientError, BotoCoreError) as err:
            aborted = f"its uploads could not be aborted ({s3_error(err)[0]}): the next run aborts them"
    elif endpoint_url:
        aborted = "no upload of its own open"
    where = f"report {report}" if report.exists() else "no report written"
    noun = "object" if len(unfinished) == 1 else "objects"
    console.print(f"[red]stopped[/red] by {stop.name}: {len(unfinished)} {noun} in flight reported Interrupted, "
                  f"{escape(aborted)}; {escape(where)}; run again to finish")


def _check_manifest_location(manifest: str, endpoint_url: str | None) -> None:
    if is_s3_url(manifest) and not is_inventory_manifest(manifest):
        fail(f"{manifest}: run reads CSV manifests from disk (download it first); from S3 it reads an "
             "S3 Inventory manifest.json")
    if is_s3_url(manifest) and not endpoint_url:
        fail(f"{manifest}: an s3:// manifest needs --endpoint-url (the embedded S3 starts empty)")


def _source_location(source: str, endpoint_url: str | None) -> tuple[str, str]:
    """``--source``'s bucket and prefix; a usage error unless it is an s3:// URL on a server."""
    if not endpoint_url:
        raise click.UsageError("--source lists a bucket on the server --endpoint-url names: the embedded S3 starts empty")
    return s3_place("--source", source)


def _manifest_of_source(source: str, endpoint_url: str, report: Path, options: CopyOptions,
                        selected: ObjectFilter = NO_FILTER, *,
                        sync_plan: bool) -> tuple[str, SourcePlan | None, int, LeftOut]:
    """List ``--source`` into a manifest beside the report (the objects ``selected``
    keeps); its path, with ``sync_plan`` each object's decision from comparing it with
    the destination's listing, how many objects the filters kept, and what they left out."""
    bucket, prefix = _source_location(source, endpoint_url)
    manifest = str(report.with_name(report.stem + ".manifest.csv"))
    s3 = use_s3_endpoint(endpoint_url)
    if sync_plan:
        plan = _plan_source(s3, bucket, prefix, manifest, options, selected)
        if plan is not None:
            left_out = plan.counts.left_out()
            return manifest, plan, sum(plan.counts.objects.values()) - left_out.total, left_out
    listed = list_into_manifest(s3, bucket, prefix, manifest, requester_pays=options.requester_pays,
                                selected=selected)
    return manifest, None, listed.kept, listed.left_out


@dataclass
class SourcePlan:
    decisions: dict[PlanKey, Decision]
    counts: SyncCounts
    # A move's job checks what the listings show already copied, to prove it and delete its source.
    move: bool = False

    @property
    def tasks(self) -> int:
        """The objects the plan leaves to the job."""
        return self.counts.total(COPY) + self.counts.total(CHECK) + (self.counts.total(SAME) if self.move else 0)

    @property
    def has_work(self) -> bool:
        return self.tasks > 0


def _plan_source(s3: Any, bucket: str, prefix: str, manifest: str, options: CopyOptions,
                 selected: ObjectFilter = NO_FILTER) -> SourcePlan | None:
    """The source listed into ``manifest``, each object decided against the destination's
    listing; None when the destination cannot be listed."""
    from botocore.exceptions import BotoCoreError, ClientError

    from mediasync.manifests.listing import FileSink
    from mediasync.manifests.s3batch_csv import format_row
    from mediasync.manifests.sync_plan import Destination, DestinationNotListed, plan_sync

    decisions: dict[PlanKey, Decision] = {}
    sink = FileSink(Path(manifest))

    def emit(source, decision: Decision) -> None:
        sink.write(format_row(source.bucket, source.key, source.version_id))
        decisions[plan_key(source.bucket, source.key, source.version_id)] = decision

    destination = Destination.of(options)
    try:
        with console.status(f"listing s3://{escape(bucket)}/{escape(prefix)} and where it goes, "
                            f"s3://{escape(destination.bucket)}/{escape(destination.listing_prefix(prefix))}"):
            counts = plan_sync(s3, bucket, prefix, destination, emit, requester_pays=options.requester_pays,
                               selected=selected)
    except DestinationNotListed as err:
        sink.abort()
        console.print(f"[yellow]note:[/yellow] could not list the destination, so each object is checked "
                      f"there before its copy: {escape(str(err))}")
        return None
    except (ClientError, BotoCoreError) as err:
        sink.abort()
        message, code = s3_error(err)
        fail(f"listing for the sync plan failed, nothing copied: {message}", code)
    except BaseException:
        sink.abort()
        raise
    sink.close()
    console.print(describe_plan(counts))
    return SourcePlan(decisions, counts, options.move)


@contextlib.contextmanager
def _local_runtime(manifest: str, endpoint_url: str | None, processes: int, concurrency: int, *,
                   tasks: int | None = None) -> Iterator[Any]:
    """One LocalRuntime in this process, or sandbox processes each running one (with an
    endpoint): as many as the job's ``tasks`` (default: the manifest's rows) warrant."""
    from mediasync.local.runtime import LocalRuntime, resolve_credentials

    if endpoint_url and processes == 0:
        if is_s3_url(manifest):
            use_s3_endpoint(endpoint_url)
        try:
            rows = count_rows(manifest) if tasks is None else tasks
        except ManifestError:
            rows = 0  # the job's own read of the manifest says what is wrong
        processes = min(os.cpu_count() or 1, max(1, rows // ROWS_PER_SANDBOX))
    if processes <= 1:
        with LocalRuntime(s3_endpoint_url=endpoint_url) as runtime:
            yield runtime
        return
    from mediasync.local.sandboxes import Sandboxes, SandboxFailed

    credentials = resolve_credentials()
    use_s3_endpoint(endpoint_url)  # this process still reads the manifest and looks for lost uploads
    if credentials is None:
        fail(f"no AWS credentials found for {endpoint_url}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
             "(or a profile) for that server")
    sandboxes = Sandboxes(processes, s3_endpoint_url=str(endpoint_url), s3_credentials=credentials,
                          threads=concurrency)
    try:
        with console.status(f"starting {processes} sandbox processes"):
            sandboxes.__enter__()
    except SandboxFailed as err:
        fail(f"a sandbox process could not start: {err}")
    console.print(f"{processes} sandbox processes run batch_invoke")
    try:
        yield sandboxes
    except BaseException as error:  # Ctrl-C, SIGTERM: the sandboxes stop their copies at once
        sandboxes.__exit__(type(error), error, error.__traceback__)
        raise
    sandboxes.__exit__(None, None, None)


def _check_destination(s3: Any, options: CopyOptions, where: str) -> None:
    """Exit 2 before any copy when the destination bucket does not exist, the
    credentials are refused, or it cannot hold the Object Lock asked. ListObjectsV2
    rather than HeadBucket: its errors carry a code (HEAD answers a bare 403 to a bad key
    and to a denied one alike)."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    from mediasync.core.errors import CREDENTIAL_CODES
    from mediasync.core.object_lock import lock_bucket_problem, lock_requested

    bucket = options.destination_bucket

    try:
        s3.list_objects_v2(Bucket=bucket, MaxKeys=1)
    except ClientError as err:
        error = err.response.get("Error", {})
        code = str(error.get("Code", ""))
        if code == "NoSuchBucket":
            fail(f"destination bucket {bucket!r} does not exist on {where}: create it, or name another; "
                 "nothing was copied")
        if code in CREDENTIAL_CODES:
            fail(f"{code}: {where} refused these credentials ({error.get('Message') or code}): check "
                 "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE); nothing was copied")
        # A role that may write but not list (AccessDenied) can still copy: each object says how it went.
        console.print(f"[yellow]note:[/yellow] could not list destination bucket {escape(bucket)!r} "
                      f"({escape(code)}); copying all the same")
    except NoCredentialsError as err:
        fail(f"{s3_error(err)[0]}; nothing was copied")
    except BotoCoreError as err:
        fail(f"cannot reach {where}: {s3_error(err)[0]}; nothing was copied")
    if not lock_requested(options):
        return
    try:
        problem = lock_bucket_problem(s3, bucket)
    except (ClientError, BotoCoreError) as err:
        message, code = s3_error(err)
        fail(f"cannot tell whether destination bucket {bucket!r} has Object Lock: {message}; nothing was copied", code)
    if problem:
        fail(f"{problem} (--object-lock keep, --object-lock-mode, --legal-hold on); nothing was copied")


def _probe_or_exit(manifest: str) -> None:
    try:
        probe_manifest(manifest)
    except ManifestError as err:
        fail(str(err))


def _abort_interrupted_uploads(manifest: str, options: CopyOptions, started: datetime.datetime,
                               registry: RunRegistry | contextlib.nullcontext) -> set[str]:
    """A run killed mid-job leaves multipart uploads open: abort this manifest's, unless
    another run on this machine writes there (they may be its live ones). Returns the
    uploads still open, none of them this run's."""
    from botocore.exceptions import BotoCoreError, ClientError

    from mediasync.core import clients
    from mediasync.local.recovery import abort_interrupted_uploads, open_upload_ids

    s3, bucket, prefix = clients.s3(), options.destination_bucket, options.destination_prefix
    others = registry.others() if isinstance(registry, RunRegistry) else []
    try:
        found = abort_interrupted_uploads(s3, bucket, prefix, read_manifest(manifest), started,
                                          strip=options.strip_prefix, abort=not others)
        still_open = open_upload_ids(s3, bucket, prefix)
    except ManifestError:
        return set()  # reading the manifest for the job says what is wrong with it
    except (ClientError, BotoCoreError) as err:
        console.print(f"[yellow]note:[/yellow] could not look for interrupted uploads: {escape(str(err))}")
        return set()
    if others:
        runs = "; ".join(other.describe() for other in others)
        same = f", {found} of this manifest's keys among them: the last run to finish a key wins" if found else ""
        console.print(f"[yellow]note:[/yellow] another mediasync run is writing to s3://{escape(bucket)}/"
                      f"{escape(prefix)} ({escape(runs)}): its open uploads are left alone{same}")
    elif found:
        console.print(f"aborted {found} multipart uploads left open by an interrupted run")
    return still_open


# -- dry run ---------------------------------------------------------------------------------


def _dry_run(manifest: str | None, source: str | None, endpoint_url: str | None, options: CopyOptions,
             selected: ObjectFilter, *, sync_plan: bool) -> None:
    """What the run would copy, check and leave out, printed; it only reads (lists, or
    the manifest) and writes nothing anywhere: no manifest beside the report, no report."""
    from botocore.exceptions import BotoCoreError, ClientError

    from mediasync.manifests.filters import FILTERED
    from mediasync.reports.dry_run import preview_manifest, preview_source
    from mediasync.reports.terminal import visible

    try:
        if source is not None:
            bucket, prefix = _source_location(source, endpoint_url)
            with console.status(f"listing s3://{escape(bucket)}/{escape(prefix)}"):
                preview = preview_source(use_s3_endpoint(endpoint_url), bucket, prefix, options, selected,
                                         sync_plan=sync_plan)
        else:
            assert manifest is not None
            _check_manifest_location(manifest, endpoint_url)
            if is_s3_url(manifest):
                use_s3_endpoint(endpoint_url)
            _probe_or_exit(manifest)
            preview = preview_manifest(read_manifest(manifest), options)
    except (ClientError, BotoCoreError) as err:
        message, code = s3_error(err)
        fail(f"listing for the dry run failed: {message}", code)
    except ManifestError as err:
        fail(str(err))
    lines = preview.lines()
    if preview.categories[FILTERED].objects == 0 and selected.active:
        lines.append(f"the filters ({' '.join(selected.flags())}) left nothing out")
    for line in lines:  # keys are data: their control characters are shown, never sent to the terminal
        out.print(visible(line), markup=False, highlight=False, soft_wrap=True)
