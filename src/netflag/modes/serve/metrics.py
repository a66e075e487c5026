"""Prometheus metrics of the service (``GET /metrics``), on a registry of its own.

Counters and the check-latency histogram count what this process did since it
started (Prometheus handles restarts); gauges are read from the service at
scrape time. Reject reasons are grouped into a few fixed labels (the full
reason goes back to the client): a label per distinct message would be unbounded.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from netflag.modes.serve.guard import REASONS as DROP_REASONS

# A reason's label: the first prefix it starts with (SPEC section 5's kinds of bad line).
_REASONS = (
    ("not valid JSON", "invalid_json"),
    ("not valid UTF-8", "invalid_json"),
    ("nested more than", "invalid_json"),
    ("line is longer", "too_long"),
    ("not a JSON object", "not_an_object"),
    ("missing field", "missing_field"),
    ("unknown event_type", "unknown_event_type"),
    ("timestamp", "bad_timestamp"),
    ("amount", "bad_amount"),
    ("self-friendship", "self_friendship"),
    ("id", "bad_id"),
)
REASON_LABELS = sorted({label for _, label in _REASONS} | {"other"})


def reason_label(reason: str) -> str:
    """The metric label of a reject reason.

    >>> reason_label("amount must be a non-negative decimal, got '-5'")
    'bad_amount'
    """
    for prefix, label in _REASONS:
        if reason.startswith(prefix):
            return label
    return "other"


class Gauges(Collector):
    """Reads the service's gauges when scraped: ``read()`` gives name -> (help, value)."""

    def __init__(self, read: Callable[[], dict[str, tuple[str, float]]]) -> None:
        self.read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for name, (help_text, value) in self.read().items():
            yield GaugeMetricFamily(name, help_text, value=value)


class CheckLatency(Collector):
    """The check-latency histogram, counted by hand: observed once a purchase, it must
    cost less than the check (prometheus-client's Histogram takes a lock and a loop)."""

    BOUNDS = (1e-6, 3e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1)

    def __init__(self) -> None:
        self.counts = [0] * (len(self.BOUNDS) + 1)  # the last one: above every bound
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect_left(self.BOUNDS, seconds)] += 1
        self.total += seconds

    def collect(self) -> Iterator[HistogramMetricFamily]:
        cumulative, running = [], 0
        for bound, count in zip((*map(str, self.BOUNDS), "+Inf"), self.counts, strict=True):
            running += count
            cumulative.append((bound, running))
        yield HistogramMetricFamily(
            "netflag_check_seconds",
            "Time to apply and decide one purchase",
            buckets=cumulative,
            sum_value=self.total,
        )


class Metrics:
    """What ``/metrics`` shows; ``gauges()`` is called at each scrape."""

    def __init__(self, gauges: Callable[[], dict[str, tuple[str, float]]]) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=False)
        self.events = Counter(
            "netflag_events", "Events applied, by type", ["event_type"], registry=registry
        )
        self.rejects = Counter(
            "netflag_rejects", "Lines rejected, by kind of reason", ["reason"], registry=registry
        )
        self.flags = Counter("netflag_flags", "Purchases flagged", registry=registry)
        self.dropped = Counter(
            "netflag_connections_dropped",
            "Connections the server closed: too many open, idle, too slow, a head too large",
            ["reason"],
            registry=registry,
        )
        self.check_seconds = CheckLatency()
        registry.register(self.check_seconds)
        for kind in ("purchase", "befriend", "unfriend"):
            self.events.labels(kind)
        for label in REASON_LABELS:
            self.rejects.labels(label)
        for label in DROP_REASONS:
            self.dropped.labels(label)
        registry.register(Gauges(gauges))
        self.started = time.monotonic()

    def text(self) -> bytes:
        """The exposition text (Prometheus format 0.0.4)."""
        return generate_latest(self.registry)
