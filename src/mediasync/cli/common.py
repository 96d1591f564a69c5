"""What every command shares: exit codes, the consoles, `fail`, and how an S3 error that stops a whole command becomes one line and an exit code."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from typing import Any, NoReturn

from rich.console import Console
from rich.markup import escape

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULT_STACK = "mediasync"
# A sandbox process costs about 2 s of CPU to start and 200 MiB; a small object about
# 15 ms of CPU to copy locally. Below a few hundred objects a second one does not pay.
ROWS_PER_SANDBOX = 250

console = Console(stderr=True)
out = Console()

ENDPOINT_HELP = ("S3-compatible endpoint (credentials from the usual AWS environment/config). "
                 "Without it, S3 as your AWS configuration names it.")


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    console.print(f"[red]error:[/red] {escape(message)}")
    sys.exit(code)


def use_s3_endpoint(endpoint_url: str | None) -> Any:
    """The process's S3 client, pointed at ``endpoint_url`` when one is given."""
    from mediasync.core import clients

    if endpoint_url:
        clients.CLIENTS.configure_s3(endpoint_url, None)
    return clients.s3()


def s3_error(err: Exception) -> tuple[str, int]:
    """A message and exit code for an S3 error that stopped a whole command."""
    from botocore.exceptions import ClientError, NoCredentialsError, ParamValidationError

    if isinstance(err, ParamValidationError):
        return str(err).replace("\n", " "), EXIT_USAGE
    if isinstance(err, NoCredentialsError):
        return ("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) "
                "for this S3", EXIT_USAGE)
    if isinstance(err, ClientError):
        error = err.response.get("Error", {})
        code = str(error.get("Code", ""))
        usage = code in ("NoSuchBucket", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch",
                         "AllAccessDisabled", "InvalidBucketName", "403", "404", "NotFoundException",
                         "NoSuchJob", "BadRequestException", "AccessDeniedException", "UnrecognizedClientException")
        return f"{code}: {error.get('Message') or err}", EXIT_USAGE if usage else EXIT_FAILED
    return str(err), EXIT_FAILED



def invoked_as() -> str:
    """This command line as the user can start it again from here: ``mediasync`` where
    that name on PATH is this program, else the path they typed (``.venv/bin/mediasync``),
    so a command printed for them runs as printed."""
    program = sys.argv[0]
    name = os.path.basename(program)
    if not name or name.endswith(".py"):
        return f"{shlex.quote(sys.executable)} -m mediasync.cli"
    found = shutil.which(name)
    if found and os.path.realpath(found) == os.path.realpath(program):
        return name
    return shlex.quote(program)
