"""How a server's connections spread over its processes: read from a /proc laid out as the kernel lays
it out (fd links to sockets, the TCP tables of the namespace), summed over a window, recorded per
window kind in the cell, and exported."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

from servingmatrix.modes import resolve_mode
from servingmatrix.results.cell import CellRecord
from servingmatrix.run.judge import StepFigures, judge_cell
from servingmatrix.run.load.loadgen import Load
from servingmatrix.run.measure.cgroups import Sampler, WindowUsage
from servingmatrix.run.measure.connections import (
    ESTABLISHED,
    ConnectionCounter,
    established_per_process,
    parse_tcp_table,
    spread_over_window,
    url_port,
)
from servingmatrix.run.measure.latency import WindowStats
from servingmatrix.run.session import Session, SessionTimings, Swarm
from servingmatrix.workloads import resolve_workload

from .test_judge import FACTS, LATENCY

HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
PORT = 18000
LISTEN = 0x0A


def row(port: int, state: int, inode: int, remote_port: int = 40000) -> str:
    return (
        f"   0: 0100007F:{port:04X} 0100007F:{remote_port:04X} {state:02X} 00000000:00000000 00:00000000 "
        f"00000000 10001        0 {inode} 1 0000000000000000 20 4 30 10 -1"
    )


def fake_proc(
    root: Path, sockets: dict[int, list[int]], table: list[str], table6: Sequence[str] = ()
) -> Path:
    """``root`` laid out as /proc: each pid's fd folder linking to its sockets (and a pipe), every pid
    seeing the same TCP tables (one network namespace)."""
    for pid, inodes in sockets.items():
        fd = root / str(pid) / "fd"
        fd.mkdir(parents=True)
        (fd / "0").symlink_to("pipe:[99]")
        for n, inode in enumerate(inodes, 3):
            (fd / str(n)).symlink_to(f"socket:[{inode}]")
        net = root / str(pid) / "net"
        net.mkdir()
        (net / "tcp").write_text("\n".join([HEADER, *table]) + "\n")
        (net / "tcp6").write_text("\n".join([HEADER, *table6]) + "\n")
    return root


def test_the_table_gives_each_socket_its_local_port_and_state() -> None:
    table = parse_tcp_table("\n".join([HEADER, row(PORT, ESTABLISHED, 501), row(PORT, LISTEN, 500), "junk"]))
    assert table == {501: (PORT, ESTABLISHED), 500: (PORT, LISTEN)}


def test_each_process_counts_only_its_own_established_sockets_on_the_port(tmp_path: Path) -> None:
    table = [
        row(PORT, LISTEN, 500),  # the listening socket, held by the master: not a connection
        row(PORT, ESTABLISHED, 501),
        row(PORT, ESTABLISHED, 502),
        row(PORT, ESTABLISHED, 503),
        row(PORT, 0x08, 504),  # CLOSE_WAIT: a connection the client has closed
        row(5432, ESTABLISHED, 505),  # the worker's own connection to PostgreSQL: another port
        row(40001, ESTABLISHED, 506, remote_port=PORT),  # the client's end of a connection
    ]
    proc = fake_proc(tmp_path, {10: [500], 11: [501, 502, 504, 505], 12: [503], 13: []}, table)
    assert established_per_process([10, 11, 12, 13], PORT, proc) == {10: 0, 11: 2, 12: 1, 13: 0}


def test_ipv6_sockets_count_too(tmp_path: Path) -> None:
    v6 = row(PORT, ESTABLISHED, 601).replace("0100007F:", "00000000000000000000000001000000:")
    proc = fake_proc(tmp_path, {20: [601]}, [], [v6])
    assert established_per_process([20], PORT, proc) == {20: 1}


def test_a_process_gone_mid_reading_counts_none(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, {30: [701]}, [row(PORT, ESTABLISHED, 701)])
    assert established_per_process([30, 31], PORT, proc) == {30: 1, 31: 0}


def test_the_counter_lists_the_container_processes_from_its_cgroup(tmp_path: Path) -> None:
    proc = fake_proc(
        tmp_path / "proc",
        {40: [], 41: [801, 802]},
        [row(PORT, ESTABLISHED, 801), row(PORT, ESTABLISHED, 802)],
    )
    procs = tmp_path / "cgroup.procs"
    procs.write_text("40\n41\n")
    assert ConnectionCounter(procs, PORT, proc).read() == {40: 0, 41: 2}
    assert ConnectionCounter(tmp_path / "gone", PORT, proc).read() is None


def test_the_port_comes_from_the_server_url() -> None:
    assert url_port("http://127.0.0.1:18000") == 18000
    assert url_port("http://server") == 80


def test_the_window_takes_each_process_median_most_first_and_only_readings_inside() -> None:
    history = [
        (0.0, {1: 0, 2: 9, 3: 9}),  # before the window: not counted
        (10.0, {1: 0, 2: 16, 3: 0}),
        (10.5, {1: 0, 2: 15, 3: 1}),
        (11.0, {1: 0, 2: 16, 3: 0}),
        (99.0, {1: 0, 2: 0, 3: 16}),  # after it
    ]
    assert spread_over_window(history, 10.0, 11.0) == (16, 0, 0)
    assert spread_over_window(history, 20.0, 30.0) is None
    # A process seen in some readings only counts 0 in the others.
    assert spread_over_window([(1.0, {1: 4}), (2.0, {2: 4}), (3.0, {2: 4})], 0.0, 5.0) == (4, 0)


def test_a_sampler_reads_the_counter_with_every_sample() -> None:
    class Counter(ConnectionCounter):
        def read(self) -> dict[int, int] | None:
            return {7: 3}

    sampler = Sampler({}, interval_s=60.0, connection_counter=Counter(Path("unused"), PORT)).start()
    sampler.stop()  # a reading as it starts, and one last as it stops
    assert [counts for _, counts in sampler.connections] == [{7: 3}, {7: 3}]
    assert all(abs(when - time.time()) < 60 for when, _ in sampler.connections)


def step_figures(connections: tuple[int, ...] | None) -> StepFigures:
    stats = WindowStats(1000, 0, 10.0, dict(LATENCY))
    usage = WindowUsage(50.0, 0.0, 0, 64 * 2**20, 60 * 2**20, 0)
    return StepFigures(
        Load(16), 100.0, 110.0, 2.0, stats, {"json": stats}, usage, usage, [], 1, connections=connections
    )


def test_the_cell_records_both_windows_spread_and_reads_it_back(tmp_path: Path) -> None:
    session = Session(
        resolve_mode("gunicorn-gthread[workers=2,threads=4]", 1),
        resolve_workload("io[ms=50]"),
        1,
        (Load(16),),
    )
    swarm = Swarm("unused", None, None, {}, {}, {}, {16: (8, 8, 0)})
    cell = judge_cell(session, step_figures((16, 0, 0)), swarm, SessionTimings(), FACTS)
    written = cell.as_json()
    assert written["connections"] == {"locust": [16, 0, 0], "reference": [8, 8, 0]}
    assert CellRecord.from_json(tmp_path / "c.json", json.loads(json.dumps(written))) == cell
    # No reference run: only Locust's window; not read: null.
    alone = judge_cell(session, step_figures(None), Swarm("unused"), SessionTimings(), FACTS).as_json()
    assert alone["connections"] == {"locust": None}


def test_a_cell_of_schema_7_reads_with_its_connections_unknown(tmp_path: Path) -> None:
    session = Session(resolve_mode("waitress[threads=4]", 1), resolve_workload("json"), 1, (Load(16),))
    written = judge_cell(session, step_figures((4, 0)), Swarm("unused"), SessionTimings(), FACTS).as_json()
    del written["connections"]
    old = CellRecord.from_json(tmp_path / "c.json", {**written, "schema": 7})
    assert old.connections == {}


def test_the_export_writes_the_spread_slash_separated_in_csv_and_as_a_list_in_json(tmp_path: Path) -> None:
    from servingmatrix.report.export import export_csv, export_json
    from servingmatrix.results.folder import RunFolder
    from tests.unit.synthetic_runs import SYNC, cell, write_run

    measured = {**cell(100.0), "connections": {"locust": [12, 4, 0], "reference": [10, 6, 0]}}
    folder = RunFolder(write_run(tmp_path / "run", {(SYNC, "json", 16, 1): measured}, [16]))
    (row,) = [line.split(",") for line in export_csv(folder).splitlines()[1:]]
    header = export_csv(folder).splitlines()[0].split(",")
    assert row[header.index("connections_by_process")] == "12/4/0"
    assert row[header.index("reference_connections_by_process")] == "10/6/0"
    (exported,) = json.loads(export_json(folder))["rows"]
    assert exported["connections_by_process"] == [12, 4, 0]
