"""``make bench-reproduce``: does a run come out the same on its own machine, quiet and with a CPU hog?

    .venv/bin/python bench/reproduce.py [--profile quick] [--out reports/bench/reproduce] [--hog-s 20]

Runs the profile with ``--trials auto`` three times: ``published``, then ``quiet`` (nothing else
running), then ``hog``, during which a busy loop pinned to the load generator's core runs for
``--hog-s`` seconds, started once half of that run's cells are written. The published run is
bundled, and each other run judged against it with ``reproduce --against``. Prints, per case, the
count of cells reproduced, differing and not comparable, each cell that did not reproduce with why,
the windows measured again, and for the hog: the cells whose Locust window overlapped the loop and
were published anyway (the target is none). Not a test: it measures, and wants a quiet machine.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from servingmatrix.analysis.reproduction import REPRODUCED, judge_reproduction
from servingmatrix.results.cell import CellRecord
from servingmatrix.results.folder import RunFolder

SM = str(Path(sys.executable).with_name("servingmatrix"))
#: How long to wait for the hogged run's first half of cells before giving up on the hog.
HOG_WAIT_S = 3600.0


def run(profile: str, out: Path) -> None:
    subprocess.run(
        [SM, "run", "--profile", profile, "--trials", "auto", "--force", "--out", str(out)], check=True
    )


def generator_core(folder: RunFolder) -> str:
    plan = folder.read_run().cpu_plan
    cpuset = str((plan.get("loadgen") or {}).get("cpuset", ""))
    if not cpuset:
        raise SystemExit(f"{folder.root}: no load generator cpuset in run.json's cpu_plan")
    return cpuset


def hog(folder: RunFolder, cells: int, seconds: float, interval: list[float], stop: threading.Event) -> None:
    """Once half of ``cells`` are written, a busy loop pinned to the generator's core for ``seconds``."""
    deadline = time.monotonic() + HOG_WAIT_S
    while not stop.is_set() and time.monotonic() < deadline:
        if folder.exists() and len(folder.cell_paths()) >= cells // 2:
            break
        time.sleep(0.5)
    else:
        return
    core = generator_core(folder)
    began = time.time()
    subprocess.run(
        ["taskset", "-c", core, "timeout", f"{seconds:g}", "sh", "-c", "while :; do :; done"], check=False
    )
    interval += [began, time.time()]


def overlaps(cell: CellRecord, interval: Sequence[float]) -> bool:
    return cell.window is not None and cell.window.start < interval[1] and interval[0] < cell.window.end


def report(name: str, published: Path, again: Path, interval: Sequence[float] = ()) -> list[str]:
    judged = judge_reproduction(published, again)
    counts = ", ".join(f"{n} {status}" for status, n in judged.counts().items())
    cells = RunFolder(again).read_cells()
    remeasured = sum(c.measured_again or 0 for c in cells)
    disturbed = sum(1 for c in cells if c.status == "disturbed")
    lines = [f"## {name}: {len(judged.cells)} cells: {counts}", ""]
    lines += [
        f"- {c.change.mode} x {c.change.workload} @ {c.change.users}: {c.status}: {c.why}"
        for c in judged.cells
        if c.status != REPRODUCED
    ]
    lines.append(f"- windows measured again: {remeasured}; trials left disturbed: {disturbed}")
    if interval:
        touched = [c for c in cells if overlaps(c, interval)]
        published_anyway = [c for c in touched if c.ok]
        lines.append(
            f"- the busy loop ran {interval[1] - interval[0]:.0f} s; trials whose Locust window overlapped "
            f"it and were published: {len(published_anyway)}"
            + "".join(f"\n  - {c.mode} x {c.workload} @ {c.users}, trial {c.trial}" for c in published_anyway)
        )
    return [*lines, ""]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--out", type=Path, default=Path("reports/bench/reproduce"))
    parser.add_argument("--hog-s", type=float, default=20.0)
    args = parser.parse_args(argv)
    out: Path = args.out
    published, quiet, hogged = out / "published", out / "quiet", out / "hog"
    began = time.time()
    run(args.profile, published)
    bundle = out / "published.tar.gz"
    subprocess.run([SM, "bundle", str(published), "-o", str(bundle), "--inputs-from-worktree"], check=True)
    run(args.profile, quiet)
    interval: list[float] = []
    stop = threading.Event()
    cells = len(RunFolder(published).cell_paths())
    loop = threading.Thread(target=hog, args=(RunFolder(hogged), cells, args.hog_s, interval, stop))
    loop.start()
    try:
        run(args.profile, hogged)
    finally:
        stop.set()
        loop.join()
    for again in (quiet, hogged):
        subprocess.run([SM, "reproduce", str(bundle), "--against", str(again)], check=True)
    took = (time.time() - began) / 60
    lines = [f"# make bench-reproduce: profile {args.profile}, --trials auto, {took:.0f} min", ""]
    lines += report("quiet", published, quiet)
    lines += report(f"with a {args.hog_s:g} s busy loop on the generator's core", published, hogged, interval)
    text = "\n".join(lines)
    (out / "table.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
