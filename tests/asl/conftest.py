"""Fixtures for the state-machine tests: every test here runs on both local engines.

``runtime`` is MediaSync deployed on the strict engine (local/asl, the default) and
again on moto's interpreter (the reference): a scenario that passes on one and not
the other is a difference to fix or to pin in test_engine_differences.py.
"""

from __future__ import annotations

import pytest

from mediasync.local.runtime import MOTO_ENGINE, STRICT_ENGINE, LocalRuntime

ENGINES = (STRICT_ENGINE, MOTO_ENGINE)


@pytest.fixture(params=ENGINES)
def runtime(request):
    with LocalRuntime(engine=request.param) as local:
        yield local


@pytest.fixture
def buckets(s3):
    s3.create_bucket(Bucket="src")
    s3.create_bucket(Bucket="dst")
    return s3
