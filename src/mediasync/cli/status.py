"""`mediasync status`: follow an S3 Batch Operations job on AWS and its large objects (stack.status)."""

from __future__ import annotations

import sys
import time

import click
from rich.live import Live

from mediasync.cli.common import DEFAULT_STACK, fail, out, s3_error


@click.command(short_help="Follow an S3 Batch job and its large objects.")
@click.argument("job_id")
@click.option("--watch", is_flag=True, help="Redraw until the job is complete, failed or cancelled.")
@click.option("--interval", type=click.FloatRange(1, 3600), default=10, show_default=True,
              help="Seconds between redraws with --watch.")
@click.option("--account-id", default=None, help="AWS account that runs the job [default: the caller's].")
@click.option("--region", default=None, help="AWS region [default: from the AWS configuration].")
@click.option("--stack-name", default=DEFAULT_STACK, show_default=True, envvar="MEDIASYNC_STACK_NAME",
              help="Deployed MediaSync stack whose outputs name the large-object state machine.")
@click.option("--state-machine-arn", default=None,
              help="The STANDARD (large-object) state machine [default: from the stack's outputs].")
def status(job_id: str, watch: bool, interval: float, account_id: str | None, region: str | None,
           stack_name: str, state_machine_arn: str | None) -> None:
    """Show an S3 Batch job's progress and its large objects in flight.

    Task counts (succeeded, failed, remaining) come from the job; each large
    object being copied is a running execution of the STANDARD state machine,
    shown with its Distributed Map Run's part groups done. Once the job has
    ended with failed tasks, the rows of its completion report that name an
    execution (copies still running when S3 Batch stopped asking) are checked
    against how that execution really ended. Exit status: 0 no task failed (so
    far; a task whose execution has since copied the object counts as done),
    1 tasks failed or the job failed, 2 no such job.

    \b
    Examples:
      mediasync status 3f6a2c1e-0b5d-4a39-9c1e-2b7d5e8f9a10
      mediasync status 3f6a2c1e-0b5d-4a39-9c1e-2b7d5e8f9a10 --watch --interval 30
    """
    from botocore.exceptions import BotoCoreError, ClientError

    from mediasync.stack.status import (
        describe,
        exit_code,
        reconcile_report,
        render,
        render_reconciliation,
        report_manifest,
        running_copies,
        state_machine_from_outputs,
    )
    from mediasync.stack.submit import SubmitError, aws_client, caller_account, stack_outputs

    try:
        account_id = account_id or caller_account(aws_client("sts", region))
        note = ""
        if state_machine_arn is None:
            try:
                state_machine_arn = state_machine_from_outputs(
                    stack_outputs(aws_client("cloudformation", region), stack_name))
            except SubmitError as err:
                note = f"large objects not shown: {err}"
            if state_machine_arn is None and not note:
                note = f"large objects not shown: stack {stack_name} names no state machine; pass --state-machine-arn"
        s3control = aws_client("s3control", region)
        sfn = aws_client("stepfunctions", region) if state_machine_arn else None

        def snapshot():
            progress = describe(s3control, account_id, job_id)
            copies, running = (running_copies(sfn, state_machine_arn, job_id)
                               if sfn is not None and not progress.done else ([], 0))
            return progress, render(progress, copies, running, note)

        progress, view = snapshot()
        if watch and not progress.done:
            with Live(view, console=out, auto_refresh=False) as live:
                while not progress.done:
                    time.sleep(interval)
                    progress, view = snapshot()
                    live.update(view, refresh=True)
        else:
            out.print(view)
        reconciliation = None
        manifest = report_manifest(progress) if progress.failed else None
        if manifest:
            reconciliation = reconcile_report(aws_client("s3", region), sfn or aws_client("stepfunctions", region),
                                              manifest)
            out.print(render_reconciliation(progress, reconciliation))
    except SubmitError as err:
        fail(str(err))
    except (ClientError, BotoCoreError) as err:
        message, code = s3_error(err)
        fail(f"cannot read job {job_id}: {message}", code)
    sys.exit(exit_code(progress, reconciliation))

