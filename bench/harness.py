"""``make bench-harness``: the harness's own cost, in the figures its README keeps.

    .venv/bin/python bench/harness.py [--cold] [--profile quick] [--report-run DIR]

- **Cold build** (``--cold`` only: it removes every ``servingmatrix/*`` image, the dangling layers
  they leave, the wheelhouse and pip's download cache first): ``servingmatrix build`` from nothing,
  the base image bootstrapped included; then the warm no-op build.
- **A run's phases**: the profile run twice, the first calibrating (``--recalibrate``), the second
  reusing the first's calibration (the same machine, images and plan), each with its wall time (the
  whole command: the no-op build check, the run, the report) and run.json's phases; the share of the
  wall time that neither measures nor warms up.
- **The report**: its size and the time to render it, for the profile's run and for ``--report-run``.

Everything is printed as Markdown tables and kept in ``reports/bench/harness.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from servingmatrix.engine.docker import Docker, DockerError
from servingmatrix.paths import cache_dir, project_root
from servingmatrix.run.judge import BUSY_LOAD_PER_CORE
from servingmatrix.run.measure.phases import MEASURING, PHASES, WARMING

SM = [sys.executable, "-m", "servingmatrix"]
OUT = project_root() / "reports" / "bench"


def timed(args: Sequence[str]) -> tuple[float, str]:
    """Run a command to its end; its wall time and its output. A failure stops the bench."""
    began = time.monotonic()
    proc = subprocess.run(list(args), capture_output=True, text=True, check=False)
    seconds = time.monotonic() - began
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}): {' / '.join(tail)}")
    return seconds, proc.stdout + proc.stderr


def forget_images_and_wheels() -> None:
    """Leave nothing a build could reuse: the project's images and layers, the wheels, pip's cache."""
    engine = Docker()
    for ref in engine.image_refs("servingmatrix/*"):
        try:
            engine.remove_image(ref, force=True)
        except DockerError as exc:  # gone meanwhile, or in use: the cold build then reuses less, not more
            print(f"note: {exc}", file=sys.stderr)
    try:
        engine.prune_dangling_images()
    except DockerError as exc:  # a prune already under way
        print(f"note: {exc}", file=sys.stderr)
    shutil.rmtree(cache_dir() / "wheelhouse", ignore_errors=True)
    subprocess.run([sys.executable, "-m", "pip", "cache", "purge"], capture_output=True, check=False)


def cold_build() -> dict[str, Any]:
    forget_images_and_wheels()
    cold_s, output = timed([*SM, "build"])
    warm_s, _ = timed([*SM, "build"])
    built = [line for line in output.splitlines() if "built in" in line or line.startswith("base image")]
    return {"cold_s": cold_s, "warm_s": warm_s, "lines": built}


def settle(limit_s: float = 180.0) -> float:
    """Wait (at most ``limit_s``) until the 1-minute load average is below the run's busy threshold:
    a run started right after a build would otherwise flag its own machine busy. The seconds waited."""
    began = time.monotonic()
    threshold = BUSY_LOAD_PER_CORE * (os.cpu_count() or 1)
    while os.getloadavg()[0] > threshold and time.monotonic() - began < limit_s:
        time.sleep(5)
    return time.monotonic() - began


def run_phases(profile: str, out: Path, *options: str) -> dict[str, Any]:
    settle()
    wall_s, _ = timed([*SM, "run", "--profile", profile, "--out", str(out), "--force", *options])
    run = json.loads((out / "run.json").read_text())
    timings = run["timings"]
    busy = sum(timings[key] for key in MEASURING + WARMING)
    return {
        "wall_s": wall_s,
        "timings": timings,
        "calibration_reused": "reused_from" in (run.get("calibration") or {}),
        "overhead_share_of_command": 1.0 - busy / wall_s,
    }


def report_cost(run_dir: Path) -> dict[str, Any]:
    target = OUT / f"report-{run_dir.name}.html"
    seconds, _ = timed([*SM, "report", str(run_dir), "-o", str(target)])
    return {"run": str(run_dir), "bytes": target.stat().st_size, "seconds": seconds}


def markdown(results: dict[str, Any]) -> str:
    lines: list[str] = []
    build = results.get("build")
    if build:
        lines += [
            "| build | seconds |",
            "|---|---:|",
            f"| cold: every image from nothing, the base bootstrapped | {build['cold_s']:.0f} |",
            f"| warm, nothing changed | {build['warm_s']:.1f} |",
            "",
        ]
    runs = results["runs"]
    lines += ["| phase | " + " | ".join(runs) + " |", "|---|" + "---:|" * len(runs)]
    for key in PHASES:
        lines.append(f"| {key} | " + " | ".join(f"{r['timings'][key]:.1f}" for r in runs.values()) + " |")
    lines.append(
        "| run wall (run.json) | " + " | ".join(f"{r['timings']['wall_s']:.1f}" for r in runs.values()) + " |"
    )
    lines.append("| whole command wall | " + " | ".join(f"{r['wall_s']:.1f}" for r in runs.values()) + " |")
    lines.append(
        "| neither measuring nor warming up, of the command's wall | "
        + " | ".join(f"{r['overhead_share_of_command']:.0%}" for r in runs.values())
        + " |"
    )
    lines += ["", "| report of | size | render (whole command) |", "|---|---:|---:|"]
    for report in results["reports"]:
        lines.append(f"| `{report['run']}` | {report['bytes'] / 1e6:.2f} MB | {report['seconds']:.2f} s |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cold", action="store_true", help="remove the project's images and wheels first")
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--report-run", action="append", default=[], help="also time this run's report")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    if args.cold:
        results["build"] = cold_build()
    else:
        timed([*SM, "build"])
    first = OUT / f"harness-{args.profile}-1"
    second = OUT / f"harness-{args.profile}-2"
    results["runs"] = {
        "first run": run_phases(args.profile, first, "--recalibrate"),
        "next run": run_phases(args.profile, second),
    }
    results["reports"] = [report_cost(first), *(report_cost(Path(d)) for d in args.report_run)]
    (OUT / "harness.json").write_text(json.dumps(results, indent=1))
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
