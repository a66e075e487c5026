"""One local Ray per test module (2 CPUs, no dashboard), and random logs that stress the rule.

Ray missing is a failure, not a skip: the ``dev`` extra installs it, so CI runs these.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tests.logs import HUGE_AMOUNTS, TRAP_AMOUNTS


@pytest.fixture(scope="module")
def local_ray() -> Iterator[ModuleType]:
    """A 2-CPU local Ray for the whole module: netflag's pools join it and leave it running."""
    import ray

    ray.init(
        num_cpus=2,
        include_dashboard=False,
        logging_level=logging.ERROR,
        log_to_driver=False,
        _node_ip_address="127.0.0.1",
    )
    try:
        yield ray
    finally:
        ray.shutdown()


BAD_LINES = [
    "not json at all",
    '{"event_type":"purchase", "timestamp":"2017-06-13 25:00:00", "id": "1", "amount": "5"}',
    '{"event_type":"purchase", "timestamp":"2017-06-13 11:00:00", "id": "1", "amount": "-5"}',
    '{"event_type":"befriend", "timestamp":"2017-06-13 11:00:00", "id1": "3", "id2": 3}',
    '{"event_type":"Purchase", "timestamp":"2017-06-13 11:00:00", "id": "1", "amount": "5"}',
]


def random_logs(folder: Path, seed: int, stream_lines: int = 1_500) -> tuple[Path, Path]:
    """A batch and a stream with churn, equal and out-of-order timestamps, odd amounts, bad lines.

    Few users and few distinct seconds, so networks change all the time, ties
    abound and a late purchase often lands among older ones.
    """
    rng = random.Random(seed)
    users = rng.randint(3, 14)
    amounts = TRAP_AMOUNTS + (HUGE_AMOUNTS if seed % 4 == 3 else [])

    def line() -> str:
        if rng.random() < 0.03:
            return rng.choice(BAD_LINES)
        stamp = f"2017-06-13 11:{rng.randint(0, 3):02d}:{rng.randint(0, 59):02d}"
        kind = rng.choice(["purchase"] * 5 + ["befriend"] * 3 + ["unfriend"] * 2)
        if kind == "purchase":
            who, amount = rng.randrange(users), rng.choice(amounts)
            fields = f'"timestamp":"{stamp}", "id": "{who}", "amount": {amount}'
            return f'{{"event_type":"purchase", {fields}}}'
        a, b = rng.sample(range(users), 2)
        return f'{{"event_type":"{kind}", "timestamp":"{stamp}", "id1": "{a}", "id2": {b}}}'

    batch, stream = folder / f"batch-{seed}.json", folder / f"stream-{seed}.json"
    params = f'{{"D":"{rng.randint(1, 4)}", "T":"{rng.randint(2, 8)}"}}'
    batch.write_text("\n".join([params] + [line() for _ in range(rng.randint(0, 300))]) + "\n")
    stream.write_text("\n".join(line() for _ in range(stream_lines)) + "\n")
    return batch, stream
