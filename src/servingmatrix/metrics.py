"""The figures a cell carries, as the exports name and document them: one declaration per column."""

from __future__ import annotations

#: The export columns, in order. Documented in the README; a change bumps SCHEMA_VERSION.
COLUMNS = (
    "mode",
    "workload",
    "users",
    "trial",
    "requests",
    "failures",
    "error_rate",
    "throughput_rps",
    "mean_ms",
    "p50_ms",
    "p90_ms",
    "p95_ms",
    "p99_ms",
    "p999_ms",
    "max_ms",
    "server_cpu_pct",
    "server_mem_mb",
    "server_processes",
    "server_mem_mb_per_process",
    "throttled_s",
    "loadgen_cpu_pct",
    "loadgen_saturated",
    "generator_bound",
    "offered_rps",
    "effective_concurrency",
    "promised_concurrency",
    "status",
    "warnings",
    "cell_trials",
    "cell_throughput_median",
    "cell_throughput_cv",
    "cell_throughput_ci_low",
    "cell_throughput_ci_high",
    "noisy",
    "outlier_trial",
)


COLUMN_DOCS = {
    "mode": "the mode's full spec, every tunable written out, e.g. `gunicorn-sync[workers=3]`",
    "workload": "the workload's full spec, e.g. `io[ms=100]`",
    "users": "concurrent Locust users (closed loop: each sends its next request when the last answered); "
    "in an open-loop run, the requests per second offered, as in `offered_rps`",
    "trial": "the repeat, from 1",
    "requests": "requests completed inside the measured window",
    "failures": "of those, failed (HTTP status >= 400, connection error or timeout)",
    "error_rate": "failures / requests",
    "throughput_rps": "successful requests per second of the measured window",
    "mean_ms": "mean latency of the successful requests, measured by the client",
    "p50_ms": "median latency (nearest rank over every request's own time, not a histogram)",
    "p90_ms": "90th percentile latency",
    "p95_ms": "95th percentile latency",
    "p99_ms": "99th percentile latency",
    "p999_ms": "99.9th percentile latency",
    "max_ms": "slowest successful request",
    "server_cpu_pct": "server container CPU over the window, % of one core (from its cgroup)",
    "server_mem_mb": "server container memory, highest sample in the window, less reclaimable page cache",
    "server_processes": "processes in the server container at the end of the window",
    "server_mem_mb_per_process": "resident memory of the largest process (a worker, usually)",
    "throttled_s": "seconds the server was held back by its CPU quota during the window",
    "loadgen_cpu_pct": "load generator CPU over the window, % of one core",
    "loadgen_saturated": "the generator used >= 90% of its CPU quota: throughput is a lower bound",
    "generator_bound": "the generator, not the server, set the pace (>= 90% of its CPU quota, throttled "
    "by it over 5% of the window, or >= 90% of the calibrated most it sends): throughput is a lower "
    "bound; in results before schema 2, `loadgen_saturated`",
    "offered_rps": "open-loop runs: the requests per second the step offered (empty in a closed loop)",
    "effective_concurrency": "requests in flight on average: throughput x sleep (io) or x mean latency",
    "promised_concurrency": "what the folk claim says this configuration serves at once (empty: unbounded)",
    "status": "`ok`, or `failed` (the reason is in the cell's JSON)",
    "warnings": "the cell's flag codes, `;`-separated: generator-bound, loadgen-saturated (before schema "
    "2), cpu-throttled, errors, machine-busy, cores-shared",
    "cell_trials": "trials of this cell (mode x workload x step) that succeeded: the figures below are over "
    "them, and repeat on each trial's row",
    "cell_throughput_median": "the cell's throughput: the median of its trials' `throughput_rps`",
    "cell_throughput_cv": "the trials' standard deviation / mean (empty for one trial)",
    "cell_throughput_ci_low": "the percentile bootstrap 95% interval of the median, low end (empty for "
    "one trial; with 2 to 5 trials, the lowest trial)",
    "cell_throughput_ci_high": "the same interval's high end (with 2 to 5 trials, the highest trial)",
    "noisy": "`cell_throughput_cv` is above 10% (empty for one trial)",
    "outlier_trial": "this trial's throughput is an outlier among the cell's by median/MAD (modified "
    "z-score above 3.5, and more than 2% from the median; empty with fewer than 3 trials or for a failed "
    "trial)",
}
