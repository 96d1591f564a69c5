"""`mediasync submit`: create the S3 Batch Operations job on AWS (stack.submit) and print its id."""

from __future__ import annotations

import contextlib
import datetime
import json
import sys
from typing import Any

import click
from rich.markup import escape

from mediasync.cli.common import DEFAULT_STACK, console, fail, s3_error
from mediasync.cli.local_job import options_for
from mediasync.cli.options import (
    FilterCommand,
    filter_options,
    object_filter,
    refuse_filters_with_a_manifest,
    refuse_moving_onto_itself,
    s3_place,
    task_options,
)
from mediasync.manifests.filters import ObjectFilter

# -- submit and status (AWS) -------------------------------------------------------------


@click.command(cls=FilterCommand, short_help="Create the S3 Batch Operations job on AWS; print its id.")
@click.option("--manifest", default=None, metavar="s3://BUCKET/KEY",
              help="The manifest in S3: an S3 Batch CSV, or an S3 Inventory manifest.json.")
@click.option("--source", default=None, metavar="s3://BUCKET[/PREFIX]",
              help="Instead of --manifest: S3 Batch lists this bucket or prefix itself (its ManifestGenerator, "
                   "with the filters it can express; nothing is listed here) and keeps the generated manifest "
                   "under --manifest-output. Filters it cannot express are said, and the source is listed here "
                   "instead.")
@click.option("--manifest-output", default=None, metavar="s3://BUCKET[/PREFIX]",
              help="With --source: where the manifest of the job goes, generated or listed here "
                   "[default: s3://REPORT-BUCKET/mediasync-manifests].")
@click.option("--destination-bucket", required=True, help="Bucket to copy into.")
@click.option("--report-bucket", required=True, help="Bucket (or its ARN) for the completion report.")
@click.option("--report-prefix", default="mediasync-reports", show_default=True,
              help="Reports go to s3://REPORT-BUCKET/PREFIX/job-ID/.")
@click.option("--function-arn", default=None,
              help="The batch_invoke Lambda [default: the stack's BatchInvokeFunctionArn output].")
@click.option("--role-arn", default=None,
              help="The role S3 Batch assumes [default: the stack's BatchOperationsRoleArn output].")
@click.option("--stack-name", default=DEFAULT_STACK, show_default=True, envvar="MEDIASYNC_STACK_NAME",
              help="Deployed MediaSync stack whose outputs name the ARNs not given.")
@click.option("--account-id", default=None, help="AWS account that runs the job [default: from the function ARN].")
@click.option("--region", default=None, help="AWS region [default: from the AWS configuration].")
@click.option("--priority", type=click.IntRange(0, 2_147_483_647), default=10, show_default=True,
              help="The S3 Batch Operations job priority: of the account's jobs, higher numbers run first.")
@click.option("--confirm/--no-confirm", "confirmation_required", default=False, show_default=True,
              help="Create the job suspended until confirmed in the console.")
@click.option("--description", default=None, help="Job description [default: the destination].")
@click.option("--dry-run", is_flag=True,
              help="Print the create_job request instead of sending it (a source listed here is listed, not written).")
@filter_options
@task_options
def submit(manifest: str | None, source: str | None, manifest_output: str | None, destination_bucket: str,
           report_bucket: str, report_prefix: str, function_arn: str | None, role_arn: str | None, stack_name: str,
           account_id: str | None, region: str | None, priority: int, confirmation_required: bool,
           description: str | None, dry_run: bool, **option_values: object) -> None:
    """Create the S3 Batch Operations job that runs MediaSync on AWS; print its id.

    One s3control create_job call: LambdaInvoke on the deployed batch_invoke
    function (invocation schema 2.0), the destination and the copy options given
    here as userArguments (options not given keep the stack's settings), the
    manifest located by its ETag, and a completion report of every task. ARNs not
    given come from the outputs of the deployed stack.

    \b
    Examples:
      mediasync submit --manifest s3://jobs/manifest.csv --destination-bucket archive \\
          --report-bucket jobs --dry-run
      mediasync submit --manifest s3://inventory/media/all/2026-11-25T01-00Z/manifest.json \\
          --destination-bucket archive --report-bucket jobs --part-size 128MiB
      mediasync submit --source s3://media/masters/ --exclude '*' --include '*.mov' --min-size 1GiB \\
          --destination-bucket archive --report-bucket jobs

    The filters (--include, --exclude, --min-size...) choose the job's objects: they
    are not S3 Batch user arguments, since a task is one object already chosen.
    """
    from botocore.exceptions import BotoCoreError

    from mediasync.stack.submit import (
        SubmitError,
        account_of,
        aws_client,
        caller_account,
        create_job_request,
        destination_problem,
        locate_manifest,
        lock_destination_problem,
        manifest_notes,
        resolve_arns,
        source_bucket_problem,
        stack_outputs,
        stack_problem,
        submit_job,
    )

    if (manifest is None) == (source is None):
        raise click.UsageError("give the objects to copy: --manifest s3://BUCKET/KEY or --source s3://BUCKET[/PREFIX] "
                               "(one of them)")
    selected = object_filter(option_values)
    if manifest is not None:
        refuse_filters_with_a_manifest(selected, *(["--manifest-output"] if manifest_output else []))
    options = options_for(destination_bucket, option_values)
    places = None
    if source is not None:  # checked before any AWS call
        places = (s3_place("--source", source),
                  s3_place("--manifest-output", manifest_output
                           or f"s3://{report_bucket.split(':::', 1)[-1]}/mediasync-manifests"))
        refuse_moving_onto_itself(places[0][0], options)
    context = click.get_current_context()
    # Options left at their defaults are not sent: the stack's own settings apply.
    given = [name for name in option_values
             if context.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT]
    try:
        outputs = None
        if not (function_arn and role_arn):
            outputs = stack_outputs(aws_client("cloudformation", region), stack_name)
        function_arn, role_arn = resolve_arns(function_arn, role_arn, outputs)
        account_id = account_id or account_of(function_arn) or caller_account(aws_client("sts", region))
        problem = (stack_problem(outputs, options)
                   or (places and source_bucket_problem(outputs, places[0][0]))
                   or destination_problem(aws_client("s3", region), destination_bucket, outputs, options)
                   or lock_destination_problem(aws_client("s3", region), destination_bucket, options))
        if problem:
            raise SubmitError(problem)
        if places is not None:
            located = manifest_of_source(*places, selected, region, options.requester_pays, dry_run=dry_run)
        else:
            located = locate_manifest(aws_client("s3", region), str(manifest))
            for note in manifest_notes(located, options):
                console.print(f"[yellow]note:[/yellow] {escape(note)}")
        request = create_job_request(
            account_id=account_id, manifest=located, options=options,
            given_options=given, function_arn=function_arn, role_arn=role_arn, report_bucket=report_bucket, report_prefix=report_prefix,
            priority=priority, confirmation_required=confirmation_required, description=description,
        )
        if dry_run:
            click.echo(json.dumps(request, indent=2, ensure_ascii=False, default=_json_value))
            console.print("dry run: no job created")
            return
        job_id = submit_job(aws_client("s3control", region), request)
    except SubmitError as err:
        fail(str(err))
    except BotoCoreError as err:
        fail(*s3_error(err))
    console.print(f"created S3 Batch Operations job; follow it with: mediasync status {job_id}"
                  + (" (confirm it in the S3 console first)" if confirmation_required else ""))
    click.echo(job_id)


def _json_value(value: Any) -> str:
    """A request value JSON has no type for: a time (CreatedAfter...), as ISO 8601 in UTC."""
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.timezone.utc).isoformat().replace("+00:00", "Z")
    raise TypeError(f"{type(value).__name__} in the request")


def manifest_of_source(source: tuple[str, str], output: tuple[str, str], selected: ObjectFilter, region: str | None,
                       requester_pays: bool, *, dry_run: bool) -> Any:
    """The job's manifest for ``--source`` (bucket, prefix): generated by S3 Batch where its
    filter can say ``selected``, else listed here into ``output`` (bucket, prefix; in a dry
    run: listed and counted, not written)."""
    from mediasync.cli.inventory import list_into_manifest
    from mediasync.manifests.filters import generator_filter
    from mediasync.stack.submit import GeneratedManifest, ManifestLocation, aws_client, locate_manifest

    (bucket, prefix), (out_bucket, out_prefix) = source, output
    out_prefix = out_prefix.rstrip("/")
    found = generator_filter(selected, prefix)
    if found.document is not None:
        console.print(f"S3 Batch lists s3://{escape(bucket)}/{escape(prefix)} itself (ManifestGenerator) and keeps "
                      f"the manifest it generates under s3://{escape(out_bucket)}/{escape(out_prefix)}")
        return GeneratedManifest(bucket, found.document, out_bucket, out_prefix)
    console.print(f"[yellow]note:[/yellow] {escape(found.reason)}: listing s3://{escape(bucket)}/{escape(prefix)} "
                  "here instead")
    key = f"{out_prefix}/{bucket}-{datetime.datetime.now(datetime.timezone.utc):%Y%m%dT%H%M%SZ}.csv".lstrip("/")
    s3 = aws_client("s3", region)
    with contextlib.redirect_stdout(sys.stderr):  # stdout is the job id (or the request)
        list_into_manifest(s3, bucket, prefix, None if dry_run else f"s3://{out_bucket}/{key}", selected=selected,
                           requester_pays=requester_pays)
    if dry_run:
        return ManifestLocation(out_bucket, key, "(the ETag of the manifest once written)", None, ("Bucket", "Key"))
    return locate_manifest(s3, f"s3://{out_bucket}/{key}")
