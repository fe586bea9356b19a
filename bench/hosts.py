"""``make bench-hosts``: the load generator's calibrated most, on one load host and on two.

    .venv/bin/python bench/hosts.py [--trials 3]

Brings up two simulated hosts (``servingmatrix hosts up 2``), then calibrates the generator as a run
does (Locust's master and workers against the upstream's trivial endpoint on the server host's core),
alternating: this machine alone (one Locust container, no inventory), one load host (sim1), two load
hosts (sim1 and sim2), ``--trials`` times each. Prints the medians and the ratio of two hosts to one,
and keeps everything in ``reports/bench/hosts.json``; the simulated hosts are removed at the end.

On simulated hosts of one kernel the ratio says what those engines give, not what two machines would:
the hosts share this machine's cores, so the second host's worker takes the core the calibration's
target, the upstream, runs on. The bench prints each trial's CPU figures, so that shows.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from servingmatrix.engine.docker import Docker
from servingmatrix.hosts.engines import connect_engine
from servingmatrix.hosts.inventory import load_inventory
from servingmatrix.hosts.simulated.hosts import hosts_down, hosts_up
from servingmatrix.paths import project_root
from servingmatrix.run.fleet.run_hosts import RunHosts
from servingmatrix.run.load.calibration import calibrate
from servingmatrix.run.load.drive import Driver
from servingmatrix.run.plan.cpuplan import plan_cpus
from servingmatrix.run.plan.hostplan import plan_hosts
from servingmatrix.run.stack.stack import Stack, StackPorts

OUT = project_root() / "reports" / "bench"
PORTS = StackPorts(server=18700, upstream=18781, postgres=18732)


def inventory_with(full: dict[str, Any], load_hosts: int, into: Path) -> Path:
    """The simulated inventory with only its first ``load_hosts`` load generator hosts."""
    hosts = [h for h in full["hosts"] if "loadgen" not in h["roles"]]
    hosts += [h for h in full["hosts"] if "loadgen" in h["roles"]][:load_hosts]
    path = into / f"hosts-{load_hosts}.yml"
    path.write_text(yaml.safe_dump({**full, "hosts": hosts}, sort_keys=False))
    return path


def on_hosts(docker: Docker, inventory: Path, out: Path, trial: int) -> dict[str, Any]:
    plan = plan_hosts(load_inventory(inventory), 1)
    hosts = RunHosts.connect(load_inventory(inventory), plan, docker, connect_engine)
    hosts.ship([], lambda line: print(f"  {line}", flush=True))
    share = hosts.shares()[0]
    server = hosts.engines[share.server.name]
    stack = Stack(server, f"bh{os.getpid()}t{trial}", PORTS, address=share.server.host.address)
    driver = Driver(docker, 30.0)
    return calibrate(stack, driver, share.plan, out, False, share.load, share.name in hosts.local)


def on_this_machine(docker: Docker, out: Path, trial: int) -> dict[str, Any]:
    plan = plan_cpus(sorted(os.sched_getaffinity(0)), 1)
    stack = Stack(docker, f"bm{os.getpid()}t{trial}", PORTS)
    return calibrate(stack, Driver(docker, 30.0), plan, out, False)


def busy_jiffies() -> tuple[float, float]:
    """The machine's busy and total CPU time so far (``/proc/stat``), every core and the kernel's work
    for the network (softirq) included."""
    fields = [float(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def busy_cores(before: tuple[float, float], after: tuple[float, float]) -> float:
    """How many of the machine's cores were busy between two readings."""
    busy, total = after[0] - before[0], after[1] - before[1]
    return (os.cpu_count() or 1) * busy / total if total else 0.0


def summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in results if "error" not in r]
    return {
        "trials": results,
        "max_rps_median": statistics.median(r["max_rps"] for r in ok) if ok else None,
        "loadgen_cpu_pct_median": statistics.median(r["loadgen_cpu_pct"] or 0 for r in ok) if ok else None,
        "target_cpu_pct_median": statistics.median(r["server_cpu_pct"] or 0 for r in ok) if ok else None,
        "limited_by": sorted({r["limited_by"] for r in ok}),
        "machine_busy_cores_median": statistics.median(r["machine_busy_cores"] for r in results),
        "errors": [r["error"] for r in results if "error" in r],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args(argv)
    docker = Docker()
    docker.ping()
    say = print
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        full_path = folder / "hosts.yml"
        hosts_up(2, full_path, say)
        try:
            full = yaml.safe_load(full_path.read_text())
            inventories = {k: inventory_with(full, k, folder) for k in (1, 2)}
            results: dict[str, list[dict[str, Any]]] = {
                "this machine": [],
                "1 load host": [],
                "2 load hosts": [],
            }
            for trial in range(1, args.trials + 1):
                for label in results:
                    out = folder / f"{label.replace(' ', '-')}-{trial}"
                    before = busy_jiffies()
                    if label == "this machine":
                        result = on_this_machine(docker, out, trial)
                    else:
                        result = on_hosts(docker, inventories[int(label[0])], out, trial)
                    result["machine_busy_cores"] = busy_cores(before, busy_jiffies())
                    results[label].append(result)
                    figure = f"{result['max_rps']:,.0f} req/s" if "error" not in result else result["error"]
                    print(f"trial {trial}, {label}: {figure}", flush=True)
        finally:
            hosts_down(say)
    report: dict[str, Any] = {label: summary(trials) for label, trials in results.items()}
    one, two = report["1 load host"]["max_rps_median"], report["2 load hosts"]["max_rps_median"]
    report["ratio_two_to_one"] = two / one if one and two else None
    print(
        "\n| load generator | calibrated most, req/s (median) | its CPU, % | target CPU, % | "
        "machine's busy cores | limited by |"
    )
    print("|---|---:|---:|---:|---:|---|")
    for label in ("this machine", "1 load host", "2 load hosts"):
        row = report[label]
        rps = f"{row['max_rps_median']:,.0f}" if row["max_rps_median"] is not None else "—"
        cpu = f"{row['loadgen_cpu_pct_median']:.0f}" if row["loadgen_cpu_pct_median"] is not None else "—"
        target = f"{row['target_cpu_pct_median']:.0f}" if row["target_cpu_pct_median"] is not None else "—"
        busy = f"{row['machine_busy_cores_median']:.2f} of {os.cpu_count()}"
        print(f"| {label} | {rps} | {cpu} | {target} | {busy} | {', '.join(row['limited_by']) or '—'} |")
    ratio = report["ratio_two_to_one"]
    print(f"\ntwo load hosts / one: {ratio:.2f}x" if ratio else "\ntwo load hosts / one: not measured")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "hosts.json").write_text(json.dumps(report, indent=1) + "\n")
    print(f"kept in {OUT / 'hosts.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
