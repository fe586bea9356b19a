"""``make bench-startup``: how long the verbs that need no engine take, start to end, as a shell runs them.

    .venv/bin/python bench/startup.py [--runs 10] [--run DIR] [--command 'CMD']

Times ``--version``, ``modes``, ``export RUN``, ``report RUN -o FILE`` and ``compare RUN RUN -o FILE``,
each a whole process of the console script (``.venv/bin/servingmatrix``) timed around
``subprocess.run``, ``--runs`` times after one untimed run (so the bytecode is compiled and cached, as
Python does by default, even where ``PYTHONDONTWRITEBYTECODE`` is set, and the files are in the page
cache), and ``python -c pass`` beside them, the interpreter's own start. RUN is the
committed ``tests/fixtures/runs/good`` (36 cells), small enough that the figure is the start, not the
rendering. Prints the median, least and most wall time in milliseconds and the median CPU time (user
and system, which waits for no core), with the machine's load average before and after, and keeps them
in ``reports/bench/startup.json``. ``--command`` times another command instead (another checkout's,
through ``PYTHONPATH``). Not a test: on a shared machine the wall times move with whatever else runs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from servingmatrix.paths import project_root

OUT = project_root() / "reports" / "bench"
RUN = project_root() / "tests" / "fixtures" / "runs" / "good"
#: The commands' environment: Python's own default of caching bytecode, as a user's shell has it (an
#: environment that turns it off would time compiling every module at every start instead).
ENVIRONMENT = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def servingmatrix() -> list[str]:
    """The console script beside this interpreter, as a user runs it; else the module."""
    script = Path(sys.executable).parent / "servingmatrix"
    return [str(script)] if script.exists() else [sys.executable, "-m", "servingmatrix"]


def commands(run: Path, out: Path, sm: list[str]) -> list[tuple[str, list[str]]]:
    return [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ("--version", [*sm, "--version"]),
        ("modes", [*sm, "modes"]),
        ("export RUN", [*sm, "export", str(run)]),
        ("report RUN -o x.html", [*sm, "report", str(run), "-o", str(out / "x.html")]),
        ("compare RUN RUN -o y.html", [*sm, "compare", str(run), str(run), "-o", str(out / "y.html")]),
    ]


def timed(argv: list[str]) -> tuple[float, float]:
    """Milliseconds from start to end of one process, and the CPU time it used (user and system): on a
    busy machine the first waits for the cores, the second much less. Its output is read and dropped."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, check=False, timeout=120, env=ENVIRONMENT)
    took = (time.perf_counter() - began) * 1000.0
    now = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"startup: {' '.join(argv)} failed: {proc.stderr.decode(errors='replace')}")
    cpu = (now.ru_utime - used.ru_utime + now.ru_stime - used.ru_stime) * 1000.0
    return took, cpu


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| command | median ms | min ms | max ms | CPU ms (median) |", "|---|---:|---:|---:|---:|"]
    for row in rows:
        figures = " | ".join(f"{row[key]:.0f}" for key in ("median_ms", "min_ms", "max_ms", "cpu_median_ms"))
        lines.append(f"| `{row['command']}` | {figures} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=10, help="timed runs of each command (default: 10)")
    parser.add_argument("--run", type=Path, default=RUN, help="the run folder the verbs read")
    parser.add_argument(
        "--command",
        help="the command to time instead of the console script, e.g. another checkout's "
        "'env PYTHONPATH=../old/src .venv/bin/python -m servingmatrix'",
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        print("startup: --runs must be at least 1", file=sys.stderr)
        return 2
    before = load_average()
    rows = []
    with tempfile.TemporaryDirectory(prefix="servingmatrix-startup-") as tmp:
        sm = shlex.split(args.command) if args.command else servingmatrix()
        for name, argv_ in commands(args.run, Path(tmp), sm):
            timed(argv_)
            walls, cpus = zip(*(timed(argv_) for _ in range(args.runs)), strict=True)
            rows.append(
                {
                    "command": name,
                    "runs": args.runs,
                    "median_ms": statistics.median(walls),
                    "min_ms": min(walls),
                    "max_ms": max(walls),
                    "cpu_median_ms": statistics.median(cpus),
                }
            )
    after = load_average()
    OUT.mkdir(parents=True, exist_ok=True)
    machine = {"cores": os.cpu_count(), "load_average_before": before, "load_average_after": after}
    name = "startup.json" if args.command is None else "startup-command.json"
    (OUT / name).write_text(json.dumps({"machine": machine, "command": args.command, "rows": rows}, indent=1))
    print(table(rows))
    print(f"\n{os.cpu_count()} cores; load average (1, 5, 15 min) before {before}, after {after}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
