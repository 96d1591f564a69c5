"""Manifests: S3 Batch CSV (s3batch_csv), S3 Inventory reports (inventory_report),
either read by reader; listing a bucket into a CSV manifest (listing)."""
