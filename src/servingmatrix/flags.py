"""The flags a figure can carry, each declared once: its letter, its title, its rule with the
thresholds the rule compares with, where the rule is judged and where the flag shows.

The runner judges most of them, in each cell (``run/judge.py``) or once as the run begins; the
analysis adds ``high-variance`` (noisy: the trials disagree), ``outlier-trial`` (one trial is far
from the others) and ``failed-trials`` (some trials of the figure failed). The judging code reads
each threshold from here (``kind(code).threshold(name)``) and every text that states one formats
it from here, so a number is written once. A flagged figure is never shown without them.
``loadgen-saturated`` is kept for results written before the runner judged ``generator-bound``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from servingmatrix import fmt

#: Where a flag's rule is judged: once as the run begins (every cell of the run carries the flag),
#: on each cell's measured window, or over the trials of a figure.
Judged = Literal["run", "cell", "trials"]
#: Where a flag shows: beside each figure that carries it, or said once for the run.
Shown = Literal["figure", "run"]


def _fraction(value: float) -> str:
    """0.9 -> "0.90": a share of another figure, written as the efficiency is."""
    return f"{value:.2f}" if round(value, 2) == value else f"{value:g}"


def _count(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,g}"


def _number(value: float) -> str:
    return f"{value:g}"


def _processes(value: float) -> str:
    """A load average per core in words: 0.5 -> "half a process"."""
    return {0.5: "half a process", 1.0: "one process"}.get(value, f"{value:g} processes")


@dataclass(frozen=True)
class Threshold:
    """A number a flag's rule compares a figure with: its value, what it is counted in, and how the
    flag's texts write it."""

    value: float
    unit: str
    write: Callable[[float], str] = fmt.share

    @property
    def text(self) -> str:
        return self.write(self.value)

    def __format__(self, spec: str) -> str:
        """``{name}`` in a flag's text writes the threshold its own way; ``{name:%}`` as a percentage."""
        if spec == "%":
            return fmt.share(self.value)
        return self.text if not spec else format(self.value, spec)


# Thresholds two kinds share: the same number judges both, so it is declared once.
#: The load generator at or above this share of its CPU quota is taken as saturated (Locust warns at 90%).
_LOADGEN_CPU = Threshold(0.9, "of its CPU quota")
#: Throttled for more than this share of the window, a container was held back by its CPU quota.
_THROTTLED = Threshold(0.05, "of the window")

#: A measured window (Locust's or the reference's) in which a role's cores spent more than this share
#: of their time on work other than the project's own containers is discarded and measured again; a
#: cell whose windows stay above it is ``disturbed`` and not published. Set from a quiet-machine
#: measurement (``make bench-quiet``, README "Disturbance"): on the 2-core machine, 144 readings of 72
#: windows, the largest 9.6% (waitress at 8 users on json, the generator's core: the kernel's threads
#: handling the window's own traffic), half as much again and rounded up.
DISTURBED_SHARE = Threshold(0.15, "of a core's time in the window spent on other work")
#: How many times a disturbed window's steps are measured again (each time a fresh session of those
#: steps) before their cells are recorded ``disturbed``.
REMEASURES = 2
#: After the images are built, how long ``run`` waits at most for the plan's cores to be quiet (each
#: busy at most ``DISTURBED_SHARE`` with other work, and the 1-minute load average within
#: ``machine-busy``'s threshold) before calibrating; it goes on with a warning when they never are.
#: Long enough for the load average to decay from a build's (about 4 on two cores) to 1: it falls by
#: e every minute, so about 85 s.
QUIET_WAIT_S = 120.0


@dataclass(frozen=True)
class FlagKind:
    """One flag: its code (as results store it), letter, title and rule, the thresholds the rule
    compares with, where it is judged and where it shows.

    ``label`` and ``rule`` name their thresholds as ``{name}``: ``title`` and ``meaning`` are them
    with the values written in, so a text cannot say another number than the one the code compares with.
    """

    code: str
    letter: str
    label: str
    rule: str
    thresholds: Mapping[str, Threshold] = field(default_factory=dict, hash=False)
    judged: Judged = "cell"
    shown: Shown = "figure"
    #: About the backing services (upstream, PostgreSQL): a figure of a workload that never calls them
    #: does not carry it, the services being idle for it.
    backing_only: bool = False

    @property
    def title(self) -> str:
        return self._written(self.label)

    @property
    def meaning(self) -> str:
        return self._written(self.rule)

    def threshold(self, name: str) -> float:
        """The value of the rule's threshold ``name``."""
        return self.thresholds[name].value

    def _written(self, text: str) -> str:
        # A kind without thresholds is taken as written: an unknown code may hold braces.
        return text.format_map(self.thresholds) if self.thresholds else text


KINDS: tuple[FlagKind, ...] = (
    FlagKind(
        "generator-bound",
        "G",
        "generator-bound",
        "the load generator, not the server, set the pace: it used {cpu} of its CPU quota, was throttled by "
        "it, reached {ceiling} of the throughput the calibration found to be its maximum, or drew less than "
        "{efficiency:%} of what the reference generator (wrk) drew from the same server; the throughput is a "
        "lower bound",
        {
            "cpu": _LOADGEN_CPU,
            "throttled": _THROTTLED,
            # Within this share of the calibrated most, the cell's rate is taken as the generator's.
            "ceiling": Threshold(0.9, "of the calibrated most it sends"),
            # Below this share of the reference generator's throughput, Locust set the pace.
            "efficiency": Threshold(0.90, "of the reference generator's throughput", _fraction),
        },
    ),
    FlagKind(
        "clients-disagree",
        "R",
        "the clients disagree",
        "Locust drew more than {above} of what the reference generator (wrk) drew from the same server: the "
        "two clients load it differently (wrk opens every connection at once, Locust ramps its users), so "
        "the figure depends on the client",
        # Two native-client runs of one server agree within a few percent; 10% is beyond that noise.
        {"above": Threshold(1.10, "of the reference generator's throughput", _fraction)},
    ),
    FlagKind(
        "loadgen-saturated",
        "S",
        "load generator saturated",
        "the load generator used at least {cpu} of its CPU quota: the throughput is a lower bound "
        "and the latency includes the generator's own queueing (results written before generator-bound)",
        {"cpu": _LOADGEN_CPU},
    ),
    FlagKind(
        "cpu-throttled",
        "T",
        "CPU throttled",
        "the server was held back by its CPU quota for more than {share} of the window",
        {"share": _THROTTLED},
    ),
    FlagKind(
        "memory-bound",
        "M",
        "short of memory",
        "the server was short of memory: its processes faulted more than {faults_per_s} pages a second "
        "back in from disk, the kernel dropping their code and files to stay under the memory limit "
        "(thrashing), so its memory, not its code, set the pace",
        # A server with room to spare faults none once started; one just under its limit a few hundred
        # (waitress at 60 of its 64 MiB: 20 to 280 a second); one thrashing at its limit 4,500 to 6,000.
        {"faults_per_s": Threshold(1000, "major faults a second", _count)},
    ),
    FlagKind("errors", "E", "errors", "some requests failed; throughput and latency count only the others"),
    FlagKind(
        "high-variance",
        "V",
        "noisy: CV above {cv}",
        "the trials' throughput has a standard deviation above {cv} of its mean",
        # pyperf's threshold.
        {"cv": Threshold(0.10, "of the mean (the coefficient of variation)")},
        judged="trials",
    ),
    FlagKind(
        "imprecise",
        "P",
        "short of the precision asked",
        "with `--trials auto`, the trials did not give the throughput's median within the precision the "
        "run asked (`--precision`) before its most trials (`--max-trials`): the figure is less sure "
        "than asked, by the interval it shows",
        judged="trials",
    ),
    FlagKind(
        "outlier-trial",
        "O",
        "outlier trial",
        "a trial's throughput is an outlier by median/MAD (modified z-score above {z}, and more than "
        "{min_share} from the median); the figure is the median, so it is not moved by it, but look at why",
        {
            # Iglewicz and Hoaglin's.
            "z": Threshold(3.5, "(modified z-score)", _number),
            # Very consistent trials would otherwise make a difference too small to matter look odd.
            "min_share": Threshold(0.02, "of the median"),
            # With two trials neither is odder than the other.
            "min_trials": Threshold(3, "trials", _number),
        },
        judged="trials",
    ),
    FlagKind(
        "failed-trials",
        "F",
        "some trials failed",
        "the figure comes from the trials that succeeded; the others failed",
        judged="trials",
    ),
    FlagKind(
        "machine-busy",
        "B",
        "machine busy",
        (
            "the host's load average was above {load_per_core} per core when measuring began (after the "
            "wait for quiet cores): other work competed"
        ),
        {"load_per_core": Threshold(0.5, "per core (the 1-minute load average)", _processes)},
        judged="run",
    ),
    FlagKind(
        "cores-shared",
        "C",
        "cores shared by the CPU plan",
        "the CPU plan made roles share cores (the load generator with the backing services)",
        judged="run",
        shown="run",
        backing_only=True,
    ),
)

_BY_CODE = {k.code: k for k in KINDS}

#: The kinds shown beside a figure, in the vocabulary's order.
BESIDE_FIGURE: tuple[FlagKind, ...] = tuple(k for k in KINDS if k.shown == "figure")
#: The codes said once for the run rather than beside each figure.
ONCE_PER_RUN: frozenset[str] = frozenset(k.code for k in KINDS if k.shown == "run")
#: The codes about the backing services, which only the figures of workloads calling them carry.
BACKING_ONLY: frozenset[str] = frozenset(k.code for k in KINDS if k.backing_only)
#: The codes that describe the whole run rather than a figure (judged as it begins, or said once):
#: when every figure carries one, the report says it once, in its banner and its "how sure".
RUN_CONDITIONS: frozenset[str] = frozenset(k.code for k in KINDS if k.judged == "run" or k.shown == "run")


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


def beside_figure(flags: Iterable[Flag], *, said_once: Collection[str] = ONCE_PER_RUN) -> tuple[Flag, ...]:
    """The flags shown beside a figure: all but those said once for the run.

    By default those are the kinds shown once per run; the report says one only when every figure
    carries it (``analysis.run_wide``) and passes those, so a figure that alone carries it shows it.
    """
    return tuple(f for f in flags if f.code not in said_once)


def letters(flags: Iterable[Flag] | Iterable[str], *, said_once: Collection[str] = ONCE_PER_RUN) -> str:
    """The letters shown beside a figure, of its flags or codes, in the vocabulary's order (an unknown
    code last, as ``?``): all but those said once for the run, as ``beside_figure`` leaves them."""
    codes = {f if isinstance(f, str) else f.code for f in flags}
    return "".join(kind(code).letter for code in order(codes - set(said_once)))
