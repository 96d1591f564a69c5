"""Test support shipped with the package: S3 server launchers, LocalStack's engine."""
