"""What queueing theory predicts for a server of ``c`` identical workers fed Poisson arrivals.

Pure arithmetic, no measurement: the prediction an open loop with ``poisson`` arrivals is checked
against on a sleeping endpoint (each request holds a worker for a fixed time: M/D/c).

- Erlang C (the probability that an arrival waits in M/M/c), computed through the Erlang B recursion
  ``B(k) = a B(k-1) / (k + a B(k-1))``, which stays finite where ``a**c / c!`` would overflow.
- M/M/c's mean wait in the queue: ``Wq = C(c, a) / (c mu - lambda)``.
- M/D/c's mean wait, Cosmetatos's approximation (G. P. Cosmetatos, "Approximate explicit formulae for
  the average queueing time in the processes (M/D/r) and (D/M/r)", INFOR 13(3), 1975, pp. 328-331):
  half of M/M/c's, corrected for ``c > 1``::

      Wq(M/D/c) = 1/2 Wq(M/M/c) [1 + (1 - rho)(c - 1)(sqrt(4 + 5c) - 2) / (16 rho c)]

  For ``c = 1`` the correction vanishes and it is M/D/1's exact Pollaczek-Khinchine value,
  ``rho / (2 mu (1 - rho))``; for several servers it is within a few per cent of the exact one.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable


def _check(arrival_rate: float, service_s: float, servers: int) -> float:
    """The utilisation ``rho = lambda s / c``, once the inputs are checked (a stable queue needs < 1)."""
    if servers < 1:
        raise ValueError(f"servers: {servers} (allowed: 1 or more)")
    if not (math.isfinite(arrival_rate) and arrival_rate > 0):
        raise ValueError(f"arrival_rate: {arrival_rate} (allowed: a positive rate)")
    if not (math.isfinite(service_s) and service_s > 0):
        raise ValueError(f"service_s: {service_s} (allowed: a positive time)")
    rho = arrival_rate * service_s / servers
    if rho >= 1:
        raise ValueError(f"utilisation {rho:.3f} is not below 1: the queue grows without bound")
    return rho


def erlang_c(servers: int, offered: float) -> float:
    """The probability that an arrival waits, with ``servers`` workers and ``offered`` = lambda / mu
    erlangs (below ``servers``)."""
    if servers < 1 or not 0 < offered < servers:
        raise ValueError(f"erlang_c: {offered} erlangs on {servers} servers (allowed: 0 < a < c)")
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = offered * blocking / (k + offered * blocking)
    rho = offered / servers
    return blocking / (1 - rho + rho * blocking)


def mmc_wait_s(arrival_rate: float, service_s: float, servers: int) -> float:
    """M/M/c: the mean time an arrival waits before a worker takes it (exponential service, mean
    ``service_s``)."""
    _check(arrival_rate, service_s, servers)
    offered = arrival_rate * service_s
    return erlang_c(servers, offered) / (servers / service_s - arrival_rate)


def mdc_wait_s(arrival_rate: float, service_s: float, servers: int) -> float:
    """M/D/c: the mean wait before a worker takes a request of fixed ``service_s`` (Cosmetatos)."""
    rho = _check(arrival_rate, service_s, servers)
    c = servers
    correction = 1 + (1 - rho) * (c - 1) * (math.sqrt(4 + 5 * c) - 2) / (16 * rho * c)
    return 0.5 * mmc_wait_s(arrival_rate, service_s, servers) * correction


def mdc_latency_s(arrival_rate: float, service_s: float, servers: int) -> float:
    """M/D/c: the mean time in the system, the service and the wait before it."""
    return service_s + mdc_wait_s(arrival_rate, service_s, servers)


def fifo_latencies_s(arrivals: Iterable[float], service_s: float, servers: int) -> list[float]:
    """Each arrival's time in a first-come, first-served queue of ``servers`` workers that each take
    ``service_s`` a request, in the order of ``arrivals`` (seconds, any origin): the queue M/D/c
    describes, played on the arrivals a run actually sent rather than on their expectation."""
    if servers < 1:
        raise ValueError(f"servers: {servers} (allowed: 1 or more)")
    free = [-math.inf] * servers
    latencies: list[float] = []
    for arrival in sorted(arrivals):
        start = max(arrival, heapq.heappop(free))
        heapq.heappush(free, start + service_s)
        latencies.append(start + service_s - arrival)
    return latencies
