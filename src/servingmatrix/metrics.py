"""The figures of a cell, declared once: one ``Metric`` per figure, in the export's column order.

Each entry says what the export calls the figure (its column, also its name wherever a figure is
asked for), what it means (the README's column table is rendered from it), its unit, how it reads
when printed (a formatter of ``fmt``), how it is read (from a trial's ``CellRecord``, or from its
cell's figures over every trial that a row repeats) and how a cell folds its trials into one figure
(``over``: ``analysis/trials.py`` does it, and a ``Point`` holds the result by column). The export's
columns and rows (``analysis/rows.py``, ``report/export.py``), the points the report draws
(``analysis/points.py``), the README's column table (``building/readme/docs.py``) and the text
summary (``report/views/summary.py``) derive from this registry.

Adding a figure to a cell touches three files, plus its test (CONTRIBUTING.md's figure recipe):

1. ``src/servingmatrix/run/judge.py``: where it is measured; the judge sets it on the record.
2. ``src/servingmatrix/results/cell.py``: its field on ``CellRecord`` and its reading in
   ``from_json`` (``as_json`` writes every field as it is). Older files lack it and read it as
   unknown, so no schema change is needed unless a figure is renamed or removed.
3. ``src/servingmatrix/metrics.py``: its entry here (export column, meaning, unit, formatter,
   accessor, and ``over`` when a point shows it). ``servingmatrix generate`` then rewrites the
   README's column table.

A new column changes the export; say so in the README beside the schema.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from servingmatrix import fmt
from servingmatrix.flags import KINDS, kind
from servingmatrix.results.cell import CellRecord

# The flags' thresholds, as the column descriptions state them (declared in ``flags.py``).
_BOUND = kind("generator-bound").thresholds
_FAULTS = kind("memory-bound").thresholds["faults_per_s"]
_CV = kind("high-variance").thresholds["cv"]
_OUTLIER = kind("outlier-trial").thresholds
#: The codes a cell's ``warnings`` can hold: the flags the runner judges, per cell or for the run.
_RECORDED = ", ".join(
    k.code + (" (before schema 2)" if k.code == "loadgen-saturated" else "")
    for k in KINDS
    if k.judged != "trials"
)


@dataclass(frozen=True)
class CellTrials:
    """A cell's throughput over its successful trials, as each of its trial rows repeats it (None
    where one trial, or none, leaves nothing to say)."""

    trials: int
    median: float | None = None
    cv: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    noisy: bool | None = None
    #: The half-width of the median's 95% interval as a share of the median (``precision.py``).
    precision: float | None = None
    #: Whether this trial's throughput is an outlier among the cell's.
    outlier: bool | None = None


@dataclass(frozen=True)
class Trial:
    """What one row of the export is read from: a trial's record, its cell's figures over every
    trial, and whether the run offered rates (open loop) rather than users."""

    record: CellRecord
    cell: CellTrials = CellTrials(0)
    open_loop: bool = False


Read = Callable[[Trial], Any]

#: How a cell folds its successful trials into one figure: an ``Estimate`` (the median with its
#: spread), their median, their highest, their sum; or ``first``, the first trial that has the figure
#: (failed ones included: a figure of the configuration, not of a measurement).
Over = Literal["estimate", "median", "max", "sum", "first"]


@dataclass(frozen=True)
class Ratio:
    """A figure pooled over the trials: the sum of one figure over the sum of another (by column)."""

    numerator: str
    denominator: str


@dataclass(frozen=True)
class Metric:
    """One figure: its export column, meaning, unit, formatter and accessor; and how a cell folds its
    trials into one (None: a figure of a trial alone, or already of its cell)."""

    column: str
    doc: str
    unit: str
    format: Callable[[Any], str]
    read: Read
    over: Over | Ratio | None = None

    def text(self, trial: Trial) -> str:
        """The figure of ``trial`` as it is printed."""
        return self.format(self.read(trial))


def _record(read: Callable[[CellRecord], Any]) -> Read:
    """An accessor of the trial's own record."""
    return lambda trial: read(trial.record)


def _cell(read: Callable[[CellTrials], Any]) -> Read:
    """An accessor of the trial's cell over every trial."""
    return lambda trial: read(trial.cell)


def _text(value: Any) -> str:
    return fmt.DASH if value is None or value == "" else str(value)


def _spread(value: tuple[int, ...] | None) -> str:
    return fmt.DASH if value is None else "/".join(str(n) for n in value)


def _yes_no(value: bool | None) -> str:
    return fmt.DASH if value is None else "yes" if value else "no"


def _tenths(value: float | None) -> str:
    return fmt.num(value, 1)


def _hundredths(value: float | None) -> str:
    return fmt.num(value, 2)


def _per_mille(fraction: float | None) -> str:
    return fmt.pct(fraction, 2)


def _major_faults_per_s(record: CellRecord) -> float | None:
    faults, seconds = record.server.major_faults, record.window.seconds if record.window else None
    return faults / seconds if faults is not None and seconds else None


def _largest_process_mb(record: CellRecord) -> float | None:
    sizes = [p.rss_mb for p in record.server.processes if p.rss_mb is not None]
    return max(sizes) if sizes else None


def _latency(name: str, doc: str, over: Over | None = None) -> Metric:
    return Metric(f"{name}_ms", doc, "ms", fmt.ms, _record(lambda r: getattr(r.latency_ms, name)), over)


METRICS: tuple[Metric, ...] = (
    Metric(
        "mode",
        "the mode's full spec, every tunable written out, e.g. `gunicorn-sync[workers=3]`",
        "",
        _text,
        _record(lambda r: r.mode),
    ),
    Metric(
        "workload", "the workload's full spec, e.g. `io[ms=100]`", "", _text, _record(lambda r: r.workload)
    ),
    Metric(
        "users",
        "concurrent Locust users (closed loop: each sends its next request when the last answered); "
        "in an open-loop run, the requests per second offered, as in `offered_rps`",
        "users (req/s offered, open loop)",
        fmt.num,
        _record(lambda r: r.users),
    ),
    Metric("trial", "the repeat, from 1", "", fmt.num, _record(lambda r: r.trial)),
    Metric(
        "requests",
        "requests completed inside the measured window",
        "requests",
        fmt.num,
        _record(lambda r: r.requests),
        "sum",
    ),
    Metric(
        "failures",
        "of those, failed (HTTP status >= 400, connection error or timeout)",
        "requests",
        fmt.num,
        _record(lambda r: r.failures),
        "sum",
    ),
    Metric(
        "error_rate",
        "failures / requests",
        "fraction",
        _per_mille,
        _record(lambda r: r.error_rate),
        Ratio("failures", "requests"),
    ),
    Metric(
        "throughput_rps",
        "successful requests per second of the measured window",
        "req/s",
        fmt.rps,
        _record(lambda r: r.throughput_rps),
        "estimate",
    ),
    _latency("mean", "mean latency of the successful requests, measured by the client", "median"),
    _latency(
        "p50", "median latency (nearest rank over every request's own time, not a histogram)", "estimate"
    ),
    _latency("p90", "90th percentile latency"),
    _latency("p95", "95th percentile latency", "estimate"),
    _latency("p99", "99th percentile latency", "estimate"),
    _latency("p999", "99.9th percentile latency"),
    _latency("max", "slowest successful request"),
    Metric(
        "server_cpu_pct",
        "server container CPU over the window, % of one core (from its cgroup)",
        "% of a core",
        fmt.num,
        _record(lambda r: r.server.cpu_pct),
        "median",
    ),
    Metric(
        "server_mem_mb",
        "server container memory, highest sample in the window, less reclaimable page cache",
        "MB",
        fmt.mb,
        _record(lambda r: r.server.mem_mb),
        "max",
    ),
    Metric(
        "server_processes",
        "processes in the server container at the end of the window",
        "processes",
        fmt.num,
        _record(lambda r: len(r.server.processes) or None),
        "median",
    ),
    Metric(
        "server_mem_mb_per_process",
        "resident memory of the largest process (a worker, usually)",
        "MB",
        fmt.mb,
        _record(_largest_process_mb),
        "max",
    ),
    Metric(
        "throttled_s",
        "seconds the server was held back by its CPU quota during the window",
        "s",
        _tenths,
        _record(lambda r: r.server.throttled_s),
    ),
    Metric(
        "server_major_faults_per_s",
        "pages the server's processes faulted back in from disk, per second of the window: none with "
        "memory to spare, thousands when it thrashes at its memory limit (flagged memory-bound above "
        f"{_FAULTS}; empty before schema 5)",
        "pages/s",
        fmt.num,
        _record(_major_faults_per_s),
    ),
    Metric(
        "server_host",
        "several hosts: the inventory's name of the host whose server the cell measured (empty on one "
        "machine)",
        "",
        _text,
        _record(lambda r: r.server_host),
    ),
    Metric(
        "loadgen_cpu_pct",
        "load generator CPU over the window, % of one core",
        "% of a core",
        fmt.num,
        _record(lambda r: r.loadgen.cpu_pct),
        "median",
    ),
    Metric(
        "loadgen_workers",
        "Locust worker processes that sent the load, over every host (the cell's `loadgen.processes`)",
        "processes",
        fmt.num,
        _record(lambda r: r.loadgen.processes),
    ),
    Metric(
        "loadgen_hosts",
        "hosts the load came from: 1 on one machine (and in results before schema 4); empty for a cell "
        "that measured nothing",
        "hosts",
        fmt.num,
        _record(lambda r: r.loadgen.hosts if r.measured else None),
    ),
    Metric(
        "loadgen_saturated",
        f"the generator used >= {_BOUND['cpu']} of its CPU quota: throughput is a lower bound",
        "",
        _yes_no,
        _record(lambda r: r.loadgen.saturated),
    ),
    Metric(
        "generator_bound",
        f"the generator, not the server, set the pace (>= {_BOUND['cpu']} of its CPU quota, throttled by "
        f"it over {_BOUND['throttled']} of the window, >= {_BOUND['ceiling']} of the calibrated most it "
        f"sends, or `generator_efficiency` below {_BOUND['efficiency']}): throughput is a lower bound; in "
        "results before schema 2, `loadgen_saturated`",
        "",
        _yes_no,
        _record(lambda r: r.loadgen.bound),
    ),
    Metric(
        "reference_rps",
        "the reference generator's (wrk's) throughput against the same server after the step: as many "
        "connections as users, the load generator's cores and quota (empty: open loop, `--reference none`, "
        "or the reference failed; the reason is in the cell's JSON)",
        "req/s",
        fmt.rps,
        _record(lambda r: r.reference.throughput_rps if r.reference else None),
        "median",
    ),
    Metric(
        "reference_p50_ms",
        "the reference generator's median latency (its own histogram)",
        "ms",
        fmt.ms,
        _record(lambda r: r.reference.latency_ms.p50 if r.reference else None),
    ),
    Metric(
        "reference_p99_ms",
        "the reference generator's 99th percentile latency (its own histogram)",
        "ms",
        fmt.ms,
        _record(lambda r: r.reference.latency_ms.p99 if r.reference else None),
    ),
    Metric(
        "generator_efficiency",
        "`throughput_rps` / `reference_rps`: how much of what a native client drew from the server Locust "
        f"drew; below {_BOUND['efficiency']} the cell is generator-bound",
        "fraction",
        _hundredths,
        _record(lambda r: r.loadgen.generator_efficiency),
        "median",
    ),
    Metric(
        "offered_rps",
        "open-loop runs: the requests per second the step offered (empty in a closed loop)",
        "req/s",
        fmt.rps,
        lambda trial: trial.record.offered_rps if trial.open_loop else None,
        "first",
    ),
    Metric(
        "arrivals",
        "open-loop runs: how the step's arrivals were spaced, `uniform` or `poisson` (empty in a closed "
        "loop; `uniform` before schema 7, when every open loop spaced them evenly)",
        "",
        _text,
        _record(lambda r: r.arrivals),
    ),
    Metric(
        "connections_by_process",
        "the server's client connections held by each process of its container through Locust's window, "
        "most first (CSV: `/`-separated, `16/0/0`: a master and two workers, one holding every connection; "
        "JSON: a list; empty: not read, as through another host's engine, or before schema 8)",
        "",
        _spread,
        _record(lambda r: r.connections.get("locust")),
    ),
    Metric(
        "reference_connections_by_process",
        "the same through the reference generator's run, which opens every connection at once",
        "",
        _spread,
        _record(lambda r: r.connections.get("reference")),
    ),
    Metric(
        "effective_concurrency",
        "requests in flight on average: throughput x sleep (io) or x mean latency",
        "requests",
        _tenths,
        _record(lambda r: r.effective_concurrency),
        "median",
    ),
    Metric(
        "promised_concurrency",
        "what the folk claim says this configuration serves at once (empty: unbounded)",
        "requests",
        fmt.num,
        _record(lambda r: r.promised_concurrency),
        "first",
    ),
    Metric(
        "status",
        "`ok`, `failed`, or `disturbed` (other work took its cores in every measurement: its figures are "
        "kept for the record, never published); the reason is in the cell's JSON",
        "",
        _text,
        _record(lambda r: r.status),
    ),
    Metric(
        "warnings",
        f"the cell's flag codes, `;`-separated: {_RECORDED}",
        "",
        _text,
        _record(lambda r: ";".join(w.code for w in r.warnings)),
    ),
    Metric(
        "cell_trials",
        "trials of this cell (mode x workload x step) that succeeded: the figures below are over them, "
        "and repeat on each trial's row",
        "trials",
        fmt.num,
        _cell(lambda c: c.trials),
    ),
    Metric(
        "cell_throughput_median",
        "the cell's throughput: the median of its trials' `throughput_rps`",
        "req/s",
        # Whole requests per second: the figure a summary line gives for a cell.
        fmt.num,
        _cell(lambda c: c.median),
    ),
    Metric(
        "cell_throughput_cv",
        "the trials' standard deviation / mean (empty for one trial)",
        "fraction",
        fmt.pct,
        _cell(lambda c: c.cv),
    ),
    Metric(
        "cell_throughput_ci_low",
        "the percentile bootstrap 95% interval of the median, low end (empty for one trial; with 2 to 5 "
        "trials, the lowest trial)",
        "req/s",
        fmt.rps,
        _cell(lambda c: c.ci_low),
    ),
    Metric(
        "cell_throughput_ci_high",
        "the same interval's high end (with 2 to 5 trials, the highest trial)",
        "req/s",
        fmt.rps,
        _cell(lambda c: c.ci_high),
    ),
    Metric(
        "cell_throughput_precision",
        "the half-width of that interval as a share of the median: the precision the trials reached "
        "(`--trials auto` adds trials until it is within `--precision`; empty for one trial)",
        "fraction",
        fmt.pct,
        _cell(lambda c: c.precision),
    ),
    Metric(
        "noisy",
        f"`cell_throughput_cv` is above {_CV} (empty for one trial)",
        "",
        _yes_no,
        _cell(lambda c: c.noisy),
    ),
    Metric(
        "outlier_trial",
        "this trial's throughput is an outlier among the cell's by median/MAD (modified z-score above "
        f"{_OUTLIER['z']}, and more than {_OUTLIER['min_share']} from the median; empty with fewer than "
        f"{_OUTLIER['min_trials']} trials or for a failed trial)",
        "",
        _yes_no,
        _cell(lambda c: c.outlier),
    ),
)

_BY_COLUMN = {m.column: m for m in METRICS}


def metric(column: str) -> Metric:
    """The metric of an export column."""
    return _BY_COLUMN[column]


def folded() -> tuple[Metric, ...]:
    """The metrics a cell folds over its trials: the figures of a point, in the export's order."""
    return tuple(m for m in METRICS if m.over is not None)


def columns() -> tuple[str, ...]:
    """The export columns, in order."""
    return tuple(m.column for m in METRICS)


def row(trial: Trial) -> dict[str, Any]:
    """One export row: every metric of ``trial``, by column, in order."""
    return {m.column: m.read(trial) for m in METRICS}


#: The export columns, in order. Documented in the README; a change is said beside the schema.
COLUMNS = columns()
#: What each column means, by column (the README's column table).
COLUMN_DOCS = {m.column: m.doc for m in METRICS}
