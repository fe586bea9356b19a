"""Soak: the same matrix run back to back in one process, then a count of what was left behind.

    .venv/bin/python bench/soak.py                 the quick profile, three runs (``make soak``)
    .venv/bin/python bench/soak.py --runs 1 --modes 'gunicorn-sync[workers=1]' --users 1 --no-calibration

Each run goes through ``servingmatrix.run.runner.Runner`` into a fresh folder under ``reports/soak/``.
Around every run the runner process's resident memory (VmRSS, and its peak VmHWM) and the wall time
are printed: memory that climbs from run to run is a leak a single run never shows. At the end every
container, network and volume carrying the project's label is listed; anything left is a failure
(exit status 1), as is a run that raised.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from servingmatrix.building.images import build_images
from servingmatrix.engine.docker import PROJECT_LABEL, Docker
from servingmatrix.errors import ServingMatrixError
from servingmatrix.matrix import Matrix, Overrides, apply_overrides, load_profile
from servingmatrix.paths import project_root
from servingmatrix.results.folder import RunFolder
from servingmatrix.run.runner import Runner

#: What a soak lists at the end: each kind of object the project creates, and how to list their names.


@dataclass(frozen=True)
class Memory:
    """The process's resident set now and at its peak, in KiB (from /proc/self/status)."""

    rss_kib: int
    hwm_kib: int

    def describe(self) -> str:
        return f"RSS {self.rss_kib / 1024:.1f} MiB (peak {self.hwm_kib / 1024:.1f} MiB)"


def parse_status(text: str) -> Memory:
    """VmRSS and VmHWM from the text of /proc/<pid>/status (``VmRSS:   45120 kB``)."""
    fields: dict[str, int] = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        parts = value.split()
        if key in ("VmRSS", "VmHWM") and parts and parts[0].isdigit():
            fields[key] = int(parts[0])
    if "VmRSS" not in fields:
        raise ValueError("no VmRSS line: not the status file of a live process")
    return Memory(fields["VmRSS"], fields.get("VmHWM", fields["VmRSS"]))


def own_memory() -> Memory:
    return parse_status(Path("/proc/self/status").read_text())


@dataclass(frozen=True)
class RunRecord:
    index: int
    folder: Path
    wall_s: float
    before: Memory
    after: Memory
    error: str | None = None

    def describe(self, runs: int) -> str:
        growth = (self.after.rss_kib - self.before.rss_kib) / 1024
        outcome = f"failed: {self.error}" if self.error else "done"
        return (
            f"run {self.index}/{runs}: {outcome} in {self.wall_s:.1f} s; before {self.before.describe()}, "
            f"after {self.after.describe()}, RSS {growth:+.1f} MiB"
        )


def list_leftovers(docker: Docker, say: Callable[[str], None]) -> int:
    """Print every labelled container, network and volume; return how many there are."""
    ours = {PROJECT_LABEL: None}
    listings = {
        "containers": [listed.name for listed in docker.container_listing(ours)],
        "networks": docker.list_networks(ours),
        "volumes": docker.list_volumes(ours),
    }
    for kind, names in listings.items():
        say(f"{kind} labelled {PROJECT_LABEL}: {len(names)} left")
        for name in names:
            say(f"    {name}")
    return sum(len(names) for names in listings.values())


def soak_matrix(args: argparse.Namespace) -> Matrix:
    matrix = load_profile(args.profile)
    return apply_overrides(
        matrix,
        Overrides(
            modes=args.modes,
            workloads=args.workloads,
            users=args.users,
            duration=args.duration,
            warmup=args.warmup,
        ),
    )


def run_once(
    docker: Docker, matrix: Matrix, folder: Path, index: int, calibrate: bool, say: Callable[[str], None]
) -> RunRecord:
    # A fresh folder: every run measures every cell, none is resumed from an earlier one.
    shutil.rmtree(folder, ignore_errors=True)
    before = own_memory()
    started = time.monotonic()
    error = None
    runner = Runner(docker, matrix, RunFolder(folder), say, force=True, calibrate=calibrate)
    try:
        runner.run()
    except ServingMatrixError as exc:
        error = str(exc)
    return RunRecord(index, folder, time.monotonic() - started, before, own_memory(), error)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bench/soak.py", description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick", help="the matrix profile to repeat (default: quick)")
    parser.add_argument("--runs", type=int, default=3, help="runs back to back (default: 3)")
    parser.add_argument("--out", default=None, help="where the run folders go (default: reports/soak)")
    parser.add_argument("--modes", help="replace the profile's modes (to shrink a trial soak)")
    parser.add_argument("--workloads", help="replace the profile's workloads")
    parser.add_argument("--users", help="replace the profile's user levels")
    parser.add_argument("--duration", help="replace the profile's measured time per step")
    parser.add_argument("--warmup", help="replace the profile's warm-up per step")
    parser.add_argument(
        "--no-calibration", action="store_true", help="skip measuring the load generator's maximum"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def say(line: str) -> None:
        print(line, flush=True)

    if args.runs < 1:
        print("soak: --runs must be at least 1", file=sys.stderr)
        return 2
    try:
        matrix = soak_matrix(args)
        docker = Docker()
        build_images(docker, sorted({c.mode.name for c in matrix.mode_configs()}), say)
    except ServingMatrixError as exc:
        print(f"soak: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else project_root() / "reports" / "soak"
    say(f"soak: {args.runs} runs of {matrix.name} ({len(matrix.modes)} modes), into {out}")
    records: list[RunRecord] = []
    for index in range(1, args.runs + 1):
        say(f"soak: run {index}/{args.runs}, {own_memory().describe()}")
        record = run_once(docker, matrix, out / f"run-{index}", index, not args.no_calibration, say)
        records.append(record)
        say(record.describe(args.runs))
    say("")
    for record in records:
        say(record.describe(args.runs))
    first, last = records[0], records[-1]
    say(
        f"RSS after the first run {first.after.rss_kib / 1024:.1f} MiB, after the last "
        f"{last.after.rss_kib / 1024:.1f} MiB ({(last.after.rss_kib - first.after.rss_kib) / 1024:+.1f} MiB)"
    )
    left = list_leftovers(docker, say)
    say(f"left behind: {left}")
    failed = [r for r in records if r.error]
    if left or failed:
        say(f"soak FAILED: {left} objects left, {len(failed)} runs failed")
        return 1
    say("soak passed: nothing left behind")
    return 0


if __name__ == "__main__":
    sys.exit(main())
