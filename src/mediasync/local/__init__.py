"""Running MediaSync without AWS: the real ASL files and handlers on a local Step
Functions engine (runtime; asl, the strict engine; moto_engine and moto_patches, moto's
as the reference), S3 Batch Operations emulated (s3batch, runner), sandbox processes,
recovery of interrupted runs, sample media. Imported only by cli and tests."""
