"""The ``mediasync`` command line: a copy job from the first listing to the final report.

    inventory -> (estimate) -> run here, or submit to S3 Batch Operations -> status -> report

Exit codes, the same for every command: 0 everything succeeded, 1 some object or
task failed (the rest went on), 2 bad usage, or an input that cannot be used at
all (a file that is not a manifest, a bucket that does not exist, no credentials).

``run`` and ``demo`` copy on this machine, on an embedded in-process S3 unless
``--endpoint-url`` names a server. The other commands talk to the S3 that the AWS
configuration names (AWS itself), or to ``--endpoint-url``: the embedded S3 lives
only inside the one process that runs a job, so a separate command would find it
empty. (Called in-process inside a ``LocalRuntime``, as the tests do, ``inventory``
and ``report`` without ``--endpoint-url`` read that runtime's embedded S3.)
"""

from __future__ import annotations

import click

from mediasync.cli.calibrate import calibrate
from mediasync.cli.demo import demo
from mediasync.cli.estimate import estimate
from mediasync.cli.inventory import inventory
from mediasync.cli.plan import plan
from mediasync.cli.report import report
from mediasync.cli.run import run
from mediasync.cli.status import status
from mediasync.cli.submit import submit


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="mediasync")
def main() -> None:
    """Copy media between S3 buckets with server-side copy, verified, at any scale.

    \b
    A job, start to finish:
      mediasync inventory --bucket media --output manifest.csv    list what to copy
      mediasync plan      --source s3://media --destination-bucket archive --output sync.csv
                                                                  or only what is not copied yet
      mediasync estimate  --manifest manifest.csv                 cost and time on AWS
      mediasync run       --manifest manifest.csv --destination-bucket archive
                                                                  copy on this machine
      mediasync submit    --manifest s3://jobs/manifest.csv --destination-bucket archive
                          --report-bucket jobs                    or as an S3 Batch job on AWS
      mediasync status    JOB_ID --watch                          follow it
      mediasync report    --report report.csv --html report.html  what happened, with charts

    Every manifest may be an S3 Batch CSV or an S3 Inventory manifest.json.

    Exit status: 0 all succeeded, 1 some objects failed, 2 bad usage or unusable input.
    `mediasync COMMAND --help` explains each command.
    """


# One module per command; `mediasync --help` lists them in alphabetical order.
for command in (inventory, plan, estimate, calibrate, run, submit, status, report, demo):
    main.add_command(command)


