"""Running MediaSync without AWS: moto with the real ASL files and handlers (runtime,
moto_patches), S3 Batch Operations emulated (s3batch, runner), sandbox processes,
recovery of interrupted runs, sample media. Imported only by cli and tests."""
