"""The deployed stack seen from outside: its IAM per role (permissions), creating an
S3 Batch Operations job on it (submit), following the job (status)."""
