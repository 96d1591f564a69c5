"""`mediasync demo`: the sample job of `make demo` on the embedded S3 (sample media, manifest, run, report)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mediasync.cli.common import EXIT_FAILED, console
from mediasync.cli.local_job import run_job
from mediasync.core.settings import CopyOptions, format_size
from mediasync.manifests.s3batch_csv import format_row


@click.command(short_help="Run a whole sample job on the embedded S3.")
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("demo-output"),
              show_default=True, help="Where the manifest and the report are written.")
@click.option("--proxies", type=click.IntRange(0, 100_000), default=300, show_default=True,
              help="How many small proxy files to generate.")
@click.option("--concurrency", type=click.IntRange(1, 512), default=16, show_default=True,
              help="Tasks the S3 Batch emulation runs at once.")
def demo(output_dir: Path, proxies: int, concurrency: int) -> None:
    """Run a whole copy job on the embedded S3 with generated sample media.

    Creates a source and a destination bucket, uploads masters (multipart and
    single-part, above the threshold), mezzanine files, stills with NFC/NFD
    names, empty and 1-byte sidecars and hundreds of proxies, writes a manifest,
    runs it, and writes the completion report (report.csv) and its page with charts
    (report.html) into --output-dir.
    """
    import boto3

    from mediasync.local.runtime import LocalRuntime
    from mediasync.local.sample import sample_media, upload_sample

    output_dir.mkdir(parents=True, exist_ok=True)
    manifest = output_dir / "manifest.csv"
    options = CopyOptions(destination_bucket="media-destination", multipart_threshold=32 * 1024 * 1024,
                          part_size=8 * 1024 * 1024, parts_per_group=2, max_concurrency=8)
    with LocalRuntime() as runtime:
        s3 = boto3.client("s3", region_name=runtime.region)
        s3.create_bucket(Bucket="media-source")
        s3.create_bucket(Bucket=options.destination_bucket)
        samples = sample_media(proxies)
        with console.status(f"uploading {len(samples)} sample objects to s3://media-source"):
            for sample in samples:
                upload_sample(s3, "media-source", sample)
        manifest.write_text("".join(format_row("media-source", sample.key) for sample in samples), encoding="utf-8")
        console.print(
            f"sample media: {len(samples)} objects, {format_size(sum(s.size for s in samples))}; "
            f"multipart threshold {format_size(options.multipart_threshold)}; manifest {manifest}"
        )
        code = run_job(runtime, manifest, options, output_dir / "report.csv", concurrency,
                       html=output_dir / "report.html")
        leftover = s3.list_multipart_uploads(Bucket=options.destination_bucket).get("Uploads", [])
        if leftover:
            console.print(f"[red]{len(leftover)} multipart uploads left open[/red]")
            code = EXIT_FAILED
    sys.exit(code)


