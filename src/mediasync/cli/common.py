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
        refuse_unreachable(endpoint_url)
        clients.CLIENTS.configure_s3(endpoint_url, None)
    return clients.s3()


# Endpoints this process has reached once: the probe runs before the first request only
# (not again, for example, while a stopped run aborts its uploads).
_REACHED: set[str] = set()
PROBE_SECONDS = 10


def refuse_unreachable(endpoint_url: str) -> None:
    """Exit 2 at once when nothing accepts a connection at ``endpoint_url`` (refused, no
    such host, no answer in PROBE_SECONDS): the S3 client's adaptive retries, ten attempts
    with backoff, would take about 17 s to say the same. One TCP connection, no request;
    through a proxy (HTTP_PROXY, HTTPS_PROXY) the proxy is what connects, so nothing is probed."""
    import socket
    import urllib.parse
    import urllib.request

    if endpoint_url in _REACHED:
        return
    url = urllib.parse.urlsplit(endpoint_url)
    host = url.hostname or ""
    if url.scheme in urllib.request.getproxies() and not urllib.request.proxy_bypass(host):
        return
    try:
        socket.create_connection((host, url.port or (443 if url.scheme == "https" else 80)), timeout=PROBE_SECONDS).close()
    except OSError as err:
        reason = err.strerror or ("no answer" if isinstance(err, TimeoutError) else type(err).__name__)
        fail(f"nothing answers at --endpoint-url {endpoint_url} ({reason}): start the S3 server there or give its "
             "address; nothing was read or written")
    _REACHED.add(endpoint_url)


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
