"""MediaSync: server-side S3 copy at any scale, on Step Functions and S3 Batch Operations."""

__version__ = "0.1.0"
