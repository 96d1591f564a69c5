"""Fixtures for the state-machine tests: a source and a destination bucket in the embedded S3."""

from __future__ import annotations

import pytest


@pytest.fixture
def buckets(s3):
    s3.create_bucket(Bucket="src")
    s3.create_bucket(Bucket="dst")
    return s3
