"""Exact latency figures from per-request timings (not Locust's rounded histogram)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

#: The percentiles every cell reports, by name.
PERCENTILES = (("p50", 50.0), ("p90", 90.0), ("p95", 95.0), ("p99", 99.0), ("p999", 99.9))


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of already sorted values: always a latency that was observed."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(pct / 100.0 * len(sorted_values)))
    return float(sorted_values[rank - 1])


@dataclass(frozen=True)
class RequestSample:
    start: float
    ms: float
    ok: bool
    name: str
    bytes: int

    @property
    def end(self) -> float:
        return self.start + self.ms / 1000.0

    def shifted(self, seconds: float) -> RequestSample:
        """The same request with its start moved by ``seconds`` (onto another host's clock)."""
        return RequestSample(self.start + seconds, self.ms, self.ok, self.name, self.bytes)


@dataclass(frozen=True)
class WindowStats:
    requests: int
    failures: int
    seconds: float
    latency_ms: dict[str, float]

    @property
    def throughput_rps(self) -> float:
        """Successful requests per second: failed requests are not served load."""
        return (self.requests - self.failures) / self.seconds if self.seconds > 0 else 0.0

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


def window_stats(samples: Sequence[RequestSample], start: float, end: float) -> WindowStats:
    """Requests that completed inside [start, end): their count, failures and latency figures."""
    inside = [s for s in samples if start <= s.end < end]
    latencies = sorted(s.ms for s in inside if s.ok)
    figures: dict[str, float] = {name: percentile(latencies, pct) for name, pct in PERCENTILES}
    figures["mean"] = sum(latencies) / len(latencies) if latencies else math.nan
    figures["max"] = latencies[-1] if latencies else math.nan
    return WindowStats(len(inside), sum(1 for s in inside if not s.ok), end - start, figures)


def per_name(samples: Sequence[RequestSample], start: float, end: float) -> dict[str, WindowStats]:
    names = sorted({s.name for s in samples})
    return {name: window_stats([s for s in samples if s.name == name], start, end) for name in names}
