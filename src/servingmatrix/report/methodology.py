"""How each derived number is computed, written once: the report prints it and so does the README."""

from __future__ import annotations

DERIVED: tuple[tuple[str, str], ...] = (
    (
        "throughput",
        "successful requests completed in the measured window (warm-up discarded) / the window's seconds; "
        "over several trials, the median",
    ),
    (
        "latency p50 / p95 / p99",
        "nearest rank over every successful request's client-measured time in the window (not Locust's "
        "rounded histogram); over several trials, the median of the trials' percentiles",
    ),
    ("error rate", "failed requests / all requests in the window, summed over the trials"),
    (
        "spread and 95% interval",
        "the lowest and highest trial; the interval is the mean's, from Student's t with n - 1 degrees of "
        "freedom; one trial gives no estimate of variance, and the report says so",
    ),
    (
        "high variance",
        "the trials' throughput has a standard deviation above 10% of its mean (pyperf's rule)",
    ),
    (
        "verdict",
        "per workload, each mode's best user level among those meeting the objective (p99 at or under "
        "the limit, at most 1% errors, not failed); the mode with the highest such throughput wins",
    ),
    (
        "margin",
        "the winner's throughput / the runner-up's - 1; its interval combines both sides' standard errors "
        "with the smaller side's degrees of freedom; 'clear' when the whole interval is above zero",
    ),
    (
        "effective concurrency",
        "Little's law: throughput x the time each request spends in the server, which for io[ms=X] is X; "
        "otherwise the client's mean latency (an upper bound)",
    ),
    (
        "promised concurrency",
        "what the mode's folk claim says it serves at once, from its tunables (empty: unbounded); the claim "
        "holds when the effective concurrency is within 10% of the promise, or of the users offered when "
        "they are fewer",
    ),
    ("requests per CPU-second", "throughput / (server CPU % / 100), the CPU read from the server's cgroup"),
    (
        "memory",
        "the server container's highest sample in the window, less reclaimable page cache; per worker: the "
        "resident memory of its largest process",
    ),
    (
        "change (compare)",
        "new median / baseline median - 1 per cell, for throughput and p99, with a 95% interval as for the "
        "margin; a regression is a change worse than the threshold whose interval, when known, excludes "
        "no change",
    ),
)
