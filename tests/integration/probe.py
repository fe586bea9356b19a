"""Concurrency probes: send N requests at the same moment and see how many the server held at once.

The app stamps when it began and finished handling each request (``X-Handling-Started`` and
``X-Handling-Finished``), so the overlap is read from the server's own clock: a busy machine can
stretch wall times, but it cannot make two requests that were handled one after the other overlap.
"""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class ProbeResult:
    wall_s: float
    statuses: tuple[int, ...]
    #: Distinct (pid, thread) pairs that served the requests.
    servers: frozenset[tuple[str, str]]
    #: (started, finished) of each request inside the app, on the host's clock.
    intervals: tuple[tuple[float, float], ...]

    @property
    def max_in_flight(self) -> int:
        """The most requests the app was handling at any one moment."""
        events = sorted(
            [(start, 1) for start, _ in self.intervals] + [(end, -1) for _, end in self.intervals]
        )
        current = peak = 0
        for _, change in events:
            current += change
            peak = max(peak, current)
        return peak


def simultaneous(base_url: str, path: str, count: int, timeout_s: float = 30.0) -> ProbeResult:
    """Open ``count`` connections, then send one request on each at the same moment."""
    parts = urlsplit(base_url)
    conns = [
        http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=timeout_s)
        for _ in range(count)
    ]
    for conn in conns:
        conn.connect()
    barrier = threading.Barrier(count + 1)
    statuses: list[int] = [0] * count
    servers: set[tuple[str, str]] = set()
    intervals: list[tuple[float, float]] = []
    lock = threading.Lock()

    def send(index: int) -> None:
        conn = conns[index]
        barrier.wait()
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            with lock:
                statuses[index] = response.status
                servers.add(
                    (
                        response.getheader("X-Served-By-Pid", "?"),
                        response.getheader("X-Served-By-Thread", "?"),
                    )
                )
                started = response.getheader("X-Handling-Started")
                finished = response.getheader("X-Handling-Finished")
                if started and finished:
                    intervals.append((float(started), float(finished)))
        except (OSError, http.client.HTTPException):
            statuses[index] = -1
        finally:
            conn.close()

    threads = [threading.Thread(target=send, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.monotonic()
    for thread in threads:
        thread.join(timeout_s)
    return ProbeResult(time.monotonic() - started, tuple(statuses), frozenset(servers), tuple(intervals))
