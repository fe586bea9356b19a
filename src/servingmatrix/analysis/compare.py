"""Two runs side by side: per cell, the change in throughput and p99 with its uncertainty.

A regression is a change worse than the threshold whose 95% interval, when the trials give one,
lies wholly on the worse side of no change; a cell that failed now but not before is one too. A
cell measured in one run only is "not in both runs", never a regression (``--fail-on-regression``
still fails on a cell the baseline has and the run lacks, and says so). Runs from different
machines, images, matrices or methods (one machine, simulated hosts, several hosts) are compared
only under a warning naming what differs, and each change between them says so, as a change on a
lower-bound (G) figure does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from servingmatrix import fmt
from servingmatrix.analysis.points import BOUND_CODES, Point, Results, aggregate
from servingmatrix.analysis.stats import Change, relative_change
from servingmatrix.errors import UserError
from servingmatrix.flags import Flag, kind
from servingmatrix.matrix_keys import METHOD_KEYS, method_values
from servingmatrix.results.hosts import RunHost, describe_layout, layout
from servingmatrix.results.run import Run, load_run
from servingmatrix.user_app import AppIdentity

DEFAULT_THRESHOLD = 0.05
#: A change this close to the threshold is the threshold: 110 against 100 is 10%, not 10.00000000000001%.
ROUNDING = 1e-9


#: The status of a cell measured in one run only: neither a regression nor an improvement.
NOT_IN_BOTH = "not in both runs"


@dataclass(frozen=True)
class CellChange:
    workload: str
    mode: str
    users: int
    base: Point | None
    new: Point | None
    throughput: Change | None
    p99: Change | None
    problems: tuple[str, ...]
    gains: tuple[str, ...]
    #: Why the change is not a like-for-like one, in words: the runs differ (machine, images,
    #: method), or a figure on either side is a lower bound (G). Empty when it is.
    qualifiers: tuple[str, ...] = ()

    @property
    def in_both(self) -> bool:
        return self.base is not None and self.new is not None

    @property
    def regressed(self) -> bool:
        """Worse in the run than in the baseline: only a cell measured in both can be."""
        return self.in_both and bool(self.problems)

    @property
    def only_in_baseline(self) -> bool:
        """Measured in the baseline, not in the run: not a regression, but a gate that passes an empty
        run is no gate, so ``--fail-on-regression`` fails on it too."""
        return self.base is not None and self.new is None

    def _qualified(self, word: str) -> str:
        return f"{word} ({'; '.join(self.qualifiers)})" if self.qualifiers else word

    @property
    def status(self) -> str:
        if self.base is None:
            return f"{NOT_IN_BOTH} (only in the run)"
        if self.new is None:
            return f"{NOT_IN_BOTH} (only in the baseline: not measured in the run)"
        if self.problems:
            return self._qualified("regression")
        if not self.base.ok and not self.new.ok:
            return "failed in both"
        if not self.base.ok:
            return "fixed (failed in the baseline)"
        if self.gains:
            return self._qualified("improvement")
        return self._qualified("no change")

    @property
    def flags(self) -> tuple[tuple[str, Flag], ...]:
        """Each side's flags: a change is only as good as the figures it is made of."""
        out: list[tuple[str, Flag]] = []
        for side, point in (("baseline", self.base), ("run", self.new)):
            if point is not None:
                out += [(side, f) for f in point.flags]
        return tuple(out)


@dataclass(frozen=True)
class Comparison:
    baseline: Results
    run: Results
    threshold: float
    changes: tuple[CellChange, ...]
    #: What differs between the two runs' machines, images and methods, in words.
    differences: tuple[str, ...]

    @property
    def missing(self) -> list[str]:
        """Modes a run's matrix lists without any result: a hole, not a figure to compare."""
        return [
            f"{side}: no result for {mode}"
            for side, results in (("baseline", self.baseline), ("run", self.run))
            for mode in results.missing_modes()
        ]

    @property
    def comparable(self) -> bool:
        """Measured alike: same machine, images, matrix method and app."""
        return not self.differences

    @property
    def regressions(self) -> list[CellChange]:
        """Cells measured in both runs that are worse in the run."""
        return [c for c in self.changes if c.regressed]

    @property
    def in_both(self) -> list[CellChange]:
        return [c for c in self.changes if c.in_both]

    @property
    def not_in_both(self) -> list[CellChange]:
        """Cells measured in one run only: no change can be said of them."""
        return [c for c in self.changes if not c.in_both]

    @property
    def unmeasured(self) -> list[CellChange]:
        """Cells the baseline has and the run lacks: what ``--fail-on-regression`` fails on besides
        the regressions."""
        return [c for c in self.changes if c.only_in_baseline]

    @property
    def gate_failures(self) -> list[CellChange]:
        """What fails ``--fail-on-regression``: the regressions, and the baseline's cells the run lacks."""
        return [c for c in self.changes if c.regressed or c.only_in_baseline]


def _worse(change: Change | None, threshold: float, sign: int) -> bool:
    """Worse than the threshold in the direction ``sign`` (-1: a drop is worse) and beyond the noise."""
    if change is None:
        return False
    if sign * change.relative <= threshold + ROUNDING:
        return False
    edge = change.low if sign > 0 else change.high
    return edge is None or sign * edge > 0


def beyond_noise(change: Change | None, threshold: float) -> bool:
    """Further than the threshold from no change, either way, and beyond the noise of both sides."""
    return _worse(change, threshold, -1) or _worse(change, threshold, +1)


def _qualifiers(base: Point | None, new: Point | None, comparable: bool) -> tuple[str, ...]:
    """Why a change between these two figures is not a like-for-like one, in words."""
    out = [] if comparable else ["the runs are not comparable"]
    sides = [
        (side, p) for side, p in (("baseline", base), ("run", new)) if p is not None and p.generator_bound
    ]
    if sides:
        # G, or S on results written before generator-bound was judged.
        marks = "".join(sorted({kind(c).letter for _, p in sides for c in p.codes & BOUND_CODES}))
        where = " and the ".join(side for side, _ in sides)
        out.append(f"a lower bound ({marks}) in the {where}: the load generator set its pace")
    return tuple(out)


def _change(
    workload: str,
    mode: str,
    users: int,
    base: Point | None,
    new: Point | None,
    threshold: float,
    comparable: bool = True,
) -> CellChange:
    throughput = p99 = None
    problems: list[str] = []
    gains: list[str] = []
    if base is not None and new is not None:
        if base.throughput and new.throughput:
            throughput = relative_change(base.throughput, new.throughput)
        b99, n99 = base.latency.get("p99"), new.latency.get("p99")
        if b99 and n99:
            p99 = relative_change(b99, n99)
        if base.ok and not new.ok:
            problems.append(f"failed now ({'; '.join(new.failed_reasons)})")
        if _worse(throughput, threshold, -1):
            problems.append(f"throughput {fmt.change(throughput)}")
        if _worse(p99, threshold, +1):
            problems.append(f"p99 {fmt.change(p99)}")
        if _worse(throughput, threshold, +1):
            gains.append(f"throughput {fmt.change(throughput)}")
        if _worse(p99, threshold, -1):
            gains.append(f"p99 {fmt.change(p99)}")
    qualifiers = _qualifiers(base, new, comparable) if base is not None and new is not None else ()
    return CellChange(
        workload, mode, users, base, new, throughput, p99, tuple(problems), tuple(gains), qualifiers
    )


def app_differences(a: Run, b: Run, allow_different_apps: bool = False) -> list[str]:
    """How the two runs' apps differ: another version, commit or lock of the same app is a difference
    to name; another app altogether (another name, WSGI callable, or the bundled app against a user's)
    is refused, in one line, unless ``allow_different_apps``."""
    mine, theirs = AppIdentity.from_metadata(a.metadata), AppIdentity.from_metadata(b.metadata)
    if mine.same_app(theirs):
        return mine.changes(theirs)
    how = "".join(f" ({text})" for text in mine.differences(theirs))
    if not allow_different_apps:
        raise UserError(
            f"{a.root} measured {mine.describe()} and {b.root} measured {theirs.describe()}: different apps"
            f"{how}, so no figure is comparable (--allow-different-apps compares them anyway)"
        )
    return [f"different apps{how}: {mine.describe()} vs {theirs.describe()}"]


def run_differences(a: Run, b: Run) -> list[str]:
    """Machine, image and method differences between two runs (empty: comparable as they are)."""
    out = differences(a.metadata, b.metadata)
    out += host_differences(a, b)
    method_a, method_b = method_values(a.matrix), method_values(b.matrix)
    for key in METHOD_KEYS:
        if method_a.get(key) != method_b.get(key):
            out.append(f"matrix {key}: {method_a.get(key)!r} vs {method_b.get(key)!r}")
    plan_a = {r: (a.cpu_plan.get(r) or {}) for r in ("server", "loadgen", "backing")}
    plan_b = {r: (b.cpu_plan.get(r) or {}) for r in ("server", "loadgen", "backing")}
    if plan_a != plan_b:
        out.append(f"CPU plan: {_plan(plan_a)} vs {_plan(plan_b)}")
    return out


def host_differences(a: Run, b: Run) -> list[str]:
    """How the runs were spread over hosts, where that differs: the method (``one machine``,
    ``simulated (one kernel)``, ``N hosts``), and of two runs on several hosts, the hosts' count and
    roles, or else each host's cores and Locust workers."""
    out: list[str] = []
    if a.method != b.method:
        out.append(f"method: {a.method} vs {b.method}")
    hosts_a, hosts_b = a.hosts, b.hosts
    if not hosts_a or not hosts_b:
        return out
    if layout(hosts_a) != layout(hosts_b):
        out.append(f"hosts: {describe_layout(hosts_a)} vs {describe_layout(hosts_b)}")
    elif _host_plan(hosts_a) != _host_plan(hosts_b):
        out.append(f"CPU plan per host: {_describe_host_plan(hosts_a)} vs {_describe_host_plan(hosts_b)}")
    return out


def _host_plan(hosts: tuple[RunHost, ...]) -> tuple[tuple[tuple[tuple[str, str], ...], int | None], ...]:
    """Each host's cores by role and its workers, in the inventory's order and whatever its name."""
    return tuple((h.cores, h.workers) for h in hosts)


def _describe_host_plan(hosts: tuple[RunHost, ...]) -> str:
    return "; ".join(
        f"{h.name}: {h.describe_cores()}" + ("" if h.workers is None else f" ({h.workers} workers)")
        for h in hosts
    )


def _plan(plan: dict[str, Any]) -> str:
    return ", ".join(f"{role} {entry.get('cpuset', '?')}" for role, entry in plan.items())


def compare_runs(
    baseline_dir: Path,
    run_dir: Path,
    threshold: float = DEFAULT_THRESHOLD,
    *,
    allow_different_apps: bool = False,
) -> Comparison:
    base, new = aggregate(load_run(baseline_dir)), aggregate(load_run(run_dir))
    apps = app_differences(base.run, new.run, allow_different_apps)
    workloads = [*new.workloads, *(w for w in base.workloads if w not in new.workloads)]
    modes = [*new.modes, *(m for m in base.modes if m not in new.modes)]
    users = sorted(set(new.users) | set(base.users))
    changes: list[CellChange] = []
    found = (*apps, *run_differences(base.run, new.run))
    for w in workloads:
        for m in modes:
            for u in users:
                b, n = base.point(w, m, u), new.point(w, m, u)
                if b is not None or n is not None:
                    changes.append(_change(w, m, u, b, n, threshold, comparable=not found))
    return Comparison(base, new, threshold, tuple(changes), found)


#: Metadata keys whose difference makes two runs' figures not comparable as they are.
CHECKED_KEYS = ("cpu_model", "cpu_count", "kernel", "docker_version", "cgroup_version", "images")


def differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """The checked keys on which two runs' metadata differ, in words."""
    out: list[str] = []
    for key in CHECKED_KEYS:
        if key == "images":
            ids_a = {n: i.get("id") for n, i in (a.get("images") or {}).items()}
            ids_b = {n: i.get("id") for n, i in (b.get("images") or {}).items()}
            changed = sorted(n for n in set(ids_a) & set(ids_b) if ids_a[n] != ids_b[n])
            if changed:
                out.append(f"images differ: {', '.join(changed)}")
        elif a.get(key) != b.get(key):
            out.append(f"{key}: {a.get(key)!r} vs {b.get(key)!r}")
    return out
