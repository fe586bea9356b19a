"""Disturbance: other work's share of the plan's cores in a window, from recorded ``/proc/stat`` and
cgroup readings; the threshold at its boundary; a source that cannot be read is "not measured"."""

from __future__ import annotations

from pathlib import Path

import pytest

from servingmatrix.errors import UserError
from servingmatrix.flags import DISTURBED_SHARE
from servingmatrix.results.cell import SCHEMA_VERSION, CellRecord
from servingmatrix.results.folder import CellKey
from servingmatrix.run.judge import as_disturbed, disturbed_reason
from servingmatrix.run.measure.cgroups import ContainerCgroup
from servingmatrix.run.measure.disturbance import (
    CoreReader,
    CoreReading,
    add_up,
    is_quiet,
    other_share,
    parse_cpuset,
    parse_proc_stat,
    parse_usage_percpu,
    parse_usage_usec,
    read_busy,
    readings_disturbance,
    spread,
    window_disturbance,
    worst,
)
from tests.unit.synthetic_runs import GOOD_CELL, record

TICKS = 100  # USER_HZ: /proc/stat's columns are hundredths of a second

# Two recorded snapshots of /proc/stat, 10 s apart, on a 2-core machine.
# cpu0 (the server's): user +400, nice +0, system +150, idle +430, iowait +20, irq +0, softirq +30,
#   steal +20 ticks: busy 600 ticks = 6.00 s of 10 s (iowait and idle are not busy).
# cpu1 (the generator's): user +300, system +100, idle +550, iowait +10, softirq +40: busy 4.40 s.
STAT_BEFORE = """\
cpu  20000 100 8000 90000 500 0 700 100 0 0
cpu0 10000 50 4000 45000 250 0 300 50 0 0
cpu1 10000 50 4000 45000 250 0 400 50 0 0
intr 123456 0 0
ctxt 987654
btime 1700000000
processes 4321
"""
STAT_AFTER = """\
cpu  20700 100 8250 90980 530 0 770 120 0 0
cpu0 10400 50 4150 45430 270 0 330 70 0 0
cpu1 10300 50 4100 45550 260 0 440 50 0 0
intr 123999 0 0
ctxt 999999
btime 1700000000
processes 4400
"""
# cgroup v1: cpuacct.usage_percpu of the project's containers at the same two instants (ns per core).
# The server: 5.7 s on cpu0; the generator: 4.3 s on cpu1; PostgreSQL (backing, on cpu1): 0.05 s.
SERVER_BEFORE, SERVER_AFTER = "1000000000 0 \n", "6700000000 0 \n"
LOADGEN_BEFORE, LOADGEN_AFTER = "0 2000000000 \n", "0 6300000000 \n"
POSTGRES_BEFORE, POSTGRES_AFTER = "0 100000000 \n", "0 150000000 \n"
# cgroup v2: cpu.stat of a container pinned to cores 2-3.
CPU_STAT_V2 = """\
usage_usec 3000000
user_usec 2000000
system_usec 1000000
nr_periods 0
nr_throttled 0
throttled_usec 0
"""

ROLES = {"server": (0,), "generator": (1,)}


def v1_reading(t: float, stat: str, *percpu: str) -> CoreReading:
    return CoreReading(t, parse_proc_stat(stat, TICKS), add_up(parse_usage_percpu(p) for p in percpu))


def test_proc_stat_counts_user_nice_system_irq_softirq_steal_and_not_idle_or_iowait() -> None:
    before, after = parse_proc_stat(STAT_BEFORE, TICKS), parse_proc_stat(STAT_AFTER, TICKS)
    assert sorted(before) == [0, 1]  # the "cpu" total line is not a core
    assert after[0] - before[0] == pytest.approx(6.0e9)
    assert after[1] - before[1] == pytest.approx(4.4e9)


def test_other_work_is_the_cores_busy_time_less_the_projects_containers_cgroup_v1() -> None:
    readings = [
        v1_reading(100.0, STAT_BEFORE, SERVER_BEFORE, LOADGEN_BEFORE, POSTGRES_BEFORE),
        v1_reading(110.0, STAT_AFTER, SERVER_AFTER, LOADGEN_AFTER, POSTGRES_AFTER),
    ]
    shares = window_disturbance(readings, 100.0, 110.0, ROLES)
    # cpu0: 6.0 s busy - 5.7 s of the server = 0.3 s of 10 s; cpu1: 4.4 - 4.3 - 0.05 = 0.05 s.
    assert shares["server"] == pytest.approx(0.03)
    assert shares["generator"] == pytest.approx(0.005)


def test_a_window_inside_the_readings_is_interpolated() -> None:
    readings = [
        v1_reading(100.0, STAT_BEFORE, SERVER_BEFORE, LOADGEN_BEFORE, POSTGRES_BEFORE),
        v1_reading(110.0, STAT_AFTER, SERVER_AFTER, LOADGEN_AFTER, POSTGRES_AFTER),
    ]
    # Counters rising evenly: the middle six seconds have the same share as the whole.
    assert other_share(readings, 102.0, 108.0, (0,)) == pytest.approx(0.03)


def test_cgroup_v2_spreads_a_containers_total_over_its_cpuset() -> None:
    assert parse_usage_usec(CPU_STAT_V2) == pytest.approx(3.0e9)
    assert parse_usage_usec("nr_periods 0\n") is None
    assert parse_cpuset("2-3\n") == (2, 3)
    assert parse_cpuset("0,2-4,7") == (0, 2, 3, 4, 7)
    assert parse_cpuset("\n") == ()
    own = spread(3.0e9, parse_cpuset("2-3"))
    assert own == {2: 1.5e9, 3: 1.5e9}
    # Over the container's whole cpuset the sum is exact, however its time fell on each core.
    before = CoreReading(0.0, {2: 0.0, 3: 0.0}, {})
    after = CoreReading(10.0, {2: 2.0e9, 3: 1.4e9}, own)
    assert other_share([before, after], 0.0, 10.0, (2, 3)) == pytest.approx(0.02)


def test_busy_time_a_hair_below_the_containers_own_counts_as_no_other_work() -> None:
    # /proc/stat is tick-sampled, the cgroups exact: a little below is rounding, not negative work.
    readings = [CoreReading(0.0, {0: 0.0}, {0: 0.0}), CoreReading(10.0, {0: 5.0e9}, {0: 5.01e9})]
    assert other_share(readings, 0.0, 10.0, (0,)) == 0.0


def test_what_cannot_be_read_is_not_measured_never_zero() -> None:
    assert other_share([], 0.0, 10.0, (0,)) is None
    one = [CoreReading(0.0, {0: 0.0}, {})]
    assert other_share(one, 0.0, 10.0, (0,)) is None
    # Readings covering less than half the window.
    short = [CoreReading(0.0, {0: 0.0}, {}), CoreReading(4.0, {0: 1e9}, {})]
    assert other_share(short, 0.0, 10.0, (0,)) is None
    # Readings that lack the role's cores (another machine's).
    elsewhere = [CoreReading(0.0, {5: 0.0}, {}), CoreReading(10.0, {5: 1e9}, {})]
    assert other_share(elsewhere, 0.0, 10.0, (0,)) is None
    assert readings_disturbance([], ROLES) == {"server": None, "generator": None}
    assert worst({"locust": {"server": None, "generator": None}}) is None


def test_the_reference_run_is_measured_over_the_span_of_its_readings() -> None:
    readings = [
        CoreReading(50.0 + i, {0: i * 0.6e9, 1: i * 0.5e9}, {0: i * 0.5e9, 1: i * 0.5e9}) for i in range(5)
    ]
    shares = readings_disturbance(readings, ROLES)
    assert shares["server"] == pytest.approx(0.1)
    assert shares["generator"] == pytest.approx(0.0)


def test_read_busy_reads_a_proc_stat_file_and_none_when_there_is_none(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    stat.write_text(STAT_BEFORE)
    assert read_busy(stat, TICKS) == parse_proc_stat(STAT_BEFORE, TICKS)
    assert read_busy(tmp_path / "absent", TICKS) is None


class Own:
    def __init__(self, usage: dict[int, float] | None) -> None:
        self.usage = usage

    def usage_by_core(self) -> dict[int, float] | None:
        return self.usage


def test_a_reading_needs_every_own_container_else_none(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    stat.write_text(STAT_AFTER)
    reading = CoreReader([Own({0: 1.0}), Own({0: 2.0, 1: 3.0})], stat).read()
    assert reading is not None
    assert dict(reading.own_ns) == {0: 3.0, 1: 3.0}
    # A container gone (its cgroup unreadable) would make its time look like other work.
    assert CoreReader([Own({0: 1.0}), Own(None)], stat).read() is None
    assert CoreReader([Own({0: 1.0})], tmp_path / "absent").read() is None


def write_cgroup_v1(root: Path, proc: Path, pid: int, percpu: str) -> None:
    (proc / str(pid)).mkdir(parents=True)
    (proc / str(pid) / "cgroup").write_text(
        "12:cpuset:/docker/abc\n4:cpu,cpuacct:/docker/abc\n3:memory:/docker/abc\n"
    )
    (root / "cpuacct" / "docker" / "abc").mkdir(parents=True)
    (root / "cpuacct" / "docker" / "abc" / "cpuacct.usage_percpu").write_text(percpu)


def test_a_containers_usage_by_core_from_its_cgroup_v1_and_v2(tmp_path: Path) -> None:
    v1, proc = tmp_path / "v1", tmp_path / "proc"
    write_cgroup_v1(v1, proc, 7, SERVER_AFTER)
    assert ContainerCgroup(7, v1, proc).usage_by_core() == {0: 6.7e9, 1: 0.0}
    v2 = tmp_path / "v2"
    (v2 / "system.slice" / "docker-abc.scope").mkdir(parents=True)
    (v2 / "cgroup.controllers").write_text("cpuset cpu memory\n")
    (v2 / "system.slice" / "docker-abc.scope" / "cpu.stat").write_text(CPU_STAT_V2)
    (v2 / "system.slice" / "docker-abc.scope" / "cpuset.cpus.effective").write_text("2-3\n")
    (proc / "8").mkdir()
    (proc / "8" / "cgroup").write_text("0::/system.slice/docker-abc.scope\n")
    assert ContainerCgroup(8, v2, proc).usage_by_core() == {2: 1.5e9, 3: 1.5e9}


def test_the_threshold_at_its_boundary_from_its_declaration() -> None:
    at = DISTURBED_SHARE.value
    assert disturbed_reason({"locust": {"server": at, "generator": 0.0}}) is None
    above = disturbed_reason({"locust": {"server": 0.0, "generator": at + 1e-6}})
    assert above is not None and above.startswith("generator core")
    reference = disturbed_reason({"locust": {"server": 0.0}, "reference": {"server": 0.22}})
    assert (
        reference
        == f"server core 22% busy with other work during the reference window (above {DISTURBED_SHARE.text})"
    )
    # Not measured is neither quiet nor disturbed: it does not make a cell disturbed.
    assert disturbed_reason({"locust": {"server": None, "generator": None}}) is None


def test_the_quiet_wait_reads_each_core_of_the_plan_against_the_threshold() -> None:
    at = DISTURBED_SHARE.value
    quiet, core, share = is_quiet({0: 0.0, 1: 0.0}, {0: at * 1e9, 1: 0.0}, 1.0, (0, 1), at)
    assert quiet and core == 0 and share == pytest.approx(at)
    busy, core, share = is_quiet({0: 0.0, 1: 0.0}, {0: 0.0, 1: (at + 0.01) * 1e9}, 1.0, (0, 1), at)
    assert not busy and core == 1 and share == pytest.approx(at + 0.01)


def test_a_disturbed_cell_keeps_its_figures_and_says_why_and_a_failed_one_stays_failed() -> None:
    key = CellKey("waitress[threads=4]", "json", 1, 1)
    ok = record(key, {**GOOD_CELL, "disturbance": {"locust": {"server": 0.2, "generator": None}}})
    disturbed = as_disturbed(ok, "server core 20% busy with other work")
    assert disturbed.status == "disturbed" and not disturbed.ok
    assert disturbed.throughput_rps == ok.throughput_rps
    assert disturbed.reason == "disturbed: server core 20% busy with other work"
    failed = record(key, {**GOOD_CELL, "status": "failed", "reason": "the server stopped"})
    assert as_disturbed(failed, "anything") is failed


def test_schema_6_and_later_round_trip_disturbance_and_a_schema_5_cell_reads_it_unknown() -> None:
    key = CellKey("waitress[threads=4]", "json", 1, 1)
    data = {
        **GOOD_CELL,
        "status": "disturbed",
        "reason": "disturbed: server core 9% busy with other work",
        "disturbance": {"locust": {"server": 0.09, "generator": None}, "reference": {"server": 0.01}},
        "measured_again": 2,
    }
    cell = record(key, data)
    assert cell.status == "disturbed" and cell.measured_again == 2
    written = cell.as_json()
    assert written["schema"] == SCHEMA_VERSION >= 6
    assert written["disturbance"] == data["disturbance"]
    assert record(key, written) == cell
    old = CellRecord.from_json(Path("old.json"), {**GOOD_CELL, "schema": 5, **key.as_dict()})
    assert old.disturbance == {} and old.measured_again is None and old.ok


@pytest.mark.parametrize("share", [1.5, -0.1, "busy"])
def test_a_share_that_is_no_share_is_refused_naming_the_key(share: object) -> None:
    key = CellKey("waitress[threads=4]", "json", 1, 1)
    with pytest.raises(UserError, match=r"'disturbance\.locust\.server' is missing or not"):
        record(key, {**GOOD_CELL, "disturbance": {"locust": {"server": share}}})
