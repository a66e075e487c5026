"""Shared settings: hypothesis profiles (``HYPOTHESIS_PROFILE=thorough`` for long runs),
and a real redis-server for the live-mode tests (Kafka: tests/kafka_fixtures.py)."""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from netflag.devtools.servers import REDIS_MISSING, RedisServer

# fixtures: `small` (a hand-made log), `kafka_broker` and `kafka_topic` (a real broker),
# `small_disk` (a 4 MiB tmpfs that fills up)
pytest_plugins = ["tests.small_log", "tests.kafka_fixtures", "tests.small_disk"]

settings.register_profile(
    "default", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A real redis-server on a free port, persistence on, in a temporary folder.

    Missing redis-server is a failure, not a skip: CI installs it (.ci/run).
    """
    if shutil.which("redis-server") is None:
        pytest.fail(REDIS_MISSING)
    with RedisServer(tmp_path / "redis") as server:
        yield server
