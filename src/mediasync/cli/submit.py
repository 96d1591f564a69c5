"""`mediasync submit`: create the S3 Batch Operations job on AWS (stack.submit) and print its id."""

from __future__ import annotations

import json

import click

from mediasync.cli.common import DEFAULT_STACK, console, fail, s3_error
from mediasync.cli.local_job import options_for
from mediasync.cli.options import task_options

# -- submit and status (AWS) -------------------------------------------------------------


@click.command(short_help="Create the S3 Batch Operations job on AWS; print its id.")
@click.option("--manifest", required=True, metavar="s3://BUCKET/KEY",
              help="The manifest in S3: an S3 Batch CSV, or an S3 Inventory manifest.json.")
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
@click.option("--dry-run", is_flag=True, help="Print the create_job request instead of sending it.")
@task_options
def submit(manifest: str, destination_bucket: str, report_bucket: str, report_prefix: str,
           function_arn: str | None, role_arn: str | None, stack_name: str, account_id: str | None,
           region: str | None, priority: int, confirmation_required: bool, description: str | None,
           dry_run: bool, **option_values: object) -> None:
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
    """
    from botocore.exceptions import BotoCoreError

    from mediasync.stack.submit import (
        SubmitError,
        account_of,
        aws_client,
        caller_account,
        create_job_request,
        locate_manifest,
        resolve_arns,
        stack_outputs,
        submit_job,
    )

    options = options_for(destination_bucket, option_values)
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
        request = create_job_request(
            account_id=account_id, manifest=locate_manifest(aws_client("s3", region), manifest), options=options,
            given_options=given, function_arn=function_arn, role_arn=role_arn, report_bucket=report_bucket, report_prefix=report_prefix,
            priority=priority, confirmation_required=confirmation_required, description=description,
        )
        if dry_run:
            click.echo(json.dumps(request, indent=2, ensure_ascii=False))
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


