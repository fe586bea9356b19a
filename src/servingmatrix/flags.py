"""The flags a figure can carry: one letter for tables and charts, a title, and what it means.

The runner writes most of them into each cell; the report adds ``high-variance`` (noisy: the trials
disagree), ``outlier-trial`` (one trial is far from the others) and ``failed-trials`` (some trials of
the figure failed). A flagged figure is never shown without them. ``loadgen-saturated`` is kept for
results written before the runner judged ``generator-bound``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FlagKind:
    code: str
    letter: str
    title: str
    meaning: str


KINDS: tuple[FlagKind, ...] = (
    FlagKind(
        "generator-bound",
        "G",
        "generator-bound",
        "the load generator, not the server, set the pace: it used 90% of its CPU quota, was throttled by "
        "it, reached 90% of the throughput the calibration found to be its maximum, or drew less than 90% "
        "of what the reference generator (wrk) drew from the same server; the throughput is a lower bound",
    ),
    FlagKind(
        "loadgen-saturated",
        "S",
        "load generator saturated",
        "the load generator used at least 90% of its CPU quota: the throughput is a lower bound "
        "and the latency includes the generator's own queueing (results written before generator-bound)",
    ),
    FlagKind(
        "cpu-throttled",
        "T",
        "CPU throttled",
        "the server was held back by its CPU quota for more than 5% of the window",
    ),
    FlagKind(
        "memory-bound",
        "M",
        "short of memory",
        "the server was short of memory: its processes faulted more than 1,000 pages a second back in from "
        "disk, the kernel dropping their code and files to stay under the memory limit (thrashing), so its "
        "memory, not its code, set the pace",
    ),
    FlagKind("errors", "E", "errors", "some requests failed; throughput and latency count only the others"),
    FlagKind(
        "high-variance",
        "V",
        "noisy: CV above 10%",
        "the trials' throughput has a standard deviation above 10% of its mean",
    ),
    FlagKind(
        "outlier-trial",
        "O",
        "outlier trial",
        "a trial's throughput is an outlier by median/MAD (modified z-score above 3.5, and more than 2% "
        "from the median); the figure is the median, so it is not moved by it, but look at why",
    ),
    FlagKind(
        "failed-trials",
        "F",
        "some trials failed",
        "the figure comes from the trials that succeeded; the others failed",
    ),
    FlagKind(
        "machine-busy",
        "B",
        "machine busy",
        "the host's load average was above half a process per core when the run began: other work competed",
    ),
    FlagKind(
        "cores-shared",
        "C",
        "cores shared by the CPU plan",
        "the CPU plan made roles share cores (the load generator with the backing services)",
    ),
)

_BY_CODE = {k.code: k for k in KINDS}


def kind(code: str) -> FlagKind:
    """The kind of a flag; a code this version does not know is shown as itself, never dropped."""
    return _BY_CODE.get(code) or FlagKind(code, "?", code, code)


@dataclass(frozen=True)
class Flag:
    code: str
    message: str

    @property
    def kind(self) -> FlagKind:
        return kind(self.code)

    @property
    def letter(self) -> str:
        return self.kind.letter


def order(flags: set[str] | frozenset[str]) -> list[str]:
    """Codes in the vocabulary's order (unknown ones last, alphabetically)."""
    known = [k.code for k in KINDS if k.code in flags]
    return known + sorted(flags - set(known))
