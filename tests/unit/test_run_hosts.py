"""A run across several hosts, read back: its method in words, its hosts table, the export's host
columns, the summary and the report's header, and ``compare`` naming a difference of method."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from servingmatrix.analysis.compare import compare_runs
from servingmatrix.analysis.points import aggregate
from servingmatrix.analysis.verdict import Objective
from servingmatrix.errors import UserError
from servingmatrix.hosts.inventory import Host
from servingmatrix.report.environment_rows import hosts_rows
from servingmatrix.report.export import export_csv, export_json
from servingmatrix.report.html import render_document
from servingmatrix.report.markdown import render_markdown
from servingmatrix.report.sections import build_document
from servingmatrix.report.views.compare_text import terminal_table
from servingmatrix.report.views.summary import summarize
from servingmatrix.results.folder import RunFolder
from servingmatrix.results.hosts import (
    ONE_MACHINE,
    SIMULATED,
    SIMULATED_CAVEAT,
    Clock,
    method,
    method_line,
    run_hosts,
)
from servingmatrix.results.run import load_run
from servingmatrix.run.load.calibration import lane_ceilings
from tests.unit.synthetic_runs import (
    GOOD_RUN,
    HOSTS,
    SYNC,
    cell,
    hosts_records,
    on_hosts,
    write_run,
    write_schema_1_cell,
)

RUNS = Path(__file__).resolve().parents[1] / "fixtures" / "runs"
#: Where each role ran on the three hosts of ``synthetic_runs.HOSTS``.
PLACEMENT = (
    "server on main; backing services on main; load from gen-a (2 Locust workers), gen-b (2 Locust workers)"
)


def hosts_run(root: Path, simulated: bool | None, hosts: tuple[Host, ...] = HOSTS) -> Path:
    """A run of two steps: on one machine (``simulated`` None), or across ``hosts``, whose load came
    from each load host's workers and whose server was ``main``'s."""
    loaders = sum(1 for h in hosts if "loadgen" in h.roles)
    workers = sum(len(h.cpuset) for h in hosts if "loadgen" in h.roles)
    cells: dict[tuple[str, str, int, int], dict[str, Any]] = {}
    for step, rps in ((1, 100.0), (8, 700.0)):
        data = cell(rps)
        cells[(SYNC, "json", step, 1)] = (
            data if simulated is None else on_hosts(data, loaders, workers, "main")
        )
    records = None if simulated is None else hosts_records(simulated, hosts)
    return write_run(root, cells, [1, 8], records=records)


def meta(root: Path) -> dict[str, Any]:
    return RunFolder(root).read_run().as_json()


# The method in words.


def test_a_run_without_an_inventory_was_on_one_machine(tmp_path: Path) -> None:
    for run in (meta(hosts_run(tmp_path / "one", None)), GOOD_RUN, meta(RUNS / "good")):
        assert method(run) == ONE_MACHINE == "one machine"
        assert method_line(run) == "one machine" and run_hosts(run) == ()


def test_simulated_hosts_are_said_as_one_kernel(tmp_path: Path) -> None:
    run = meta(hosts_run(tmp_path / "sim", True))
    assert method(run) == SIMULATED == "simulated (one kernel)"
    assert method_line(run) == f"simulated (one kernel): {PLACEMENT}"


def test_several_hosts_are_counted(tmp_path: Path) -> None:
    run = meta(hosts_run(tmp_path / "real", False))
    assert method(run) == "3 hosts"
    assert method_line(run) == f"3 hosts: {PLACEMENT}"
    one = (Host("far", "tcp://10.0.0.9:2375", "10.0.0.9", (0, 1, 2), ("server", "backing", "loadgen")),)
    assert method(meta(hosts_run(tmp_path / "far", False, one))) == "1 host"


def test_a_run_s_testbed_is_its_machine_and_where_each_role_ran_when_not_one_machine(tmp_path: Path) -> None:
    one = load_run(hosts_run(tmp_path / "one", None))
    assert one.testbed == one.machine == "2 CPUs"
    simulated = load_run(hosts_run(tmp_path / "sim", True))
    assert simulated.testbed == f"2 CPUs; simulated (one kernel): {PLACEMENT}"
    real = load_run(hosts_run(tmp_path / "real", False))
    assert real.testbed == f"2 CPUs; 3 hosts: {PLACEMENT}"
    # Driven from the same machine, a fleet serving from another host is another testbed.
    far = (
        Host("main", "unix:///var/run/docker.sock", "10.0.0.1", (0,), ("backing", "loadgen")),
        Host("far", "tcp://10.0.0.9:2375", "10.0.0.9", (0, 1), ("server",)),
    )
    elsewhere = load_run(hosts_run(tmp_path / "far", False, far))
    assert elsewhere.testbed.startswith("2 CPUs; 2 hosts: server on far;")


def test_the_method_falls_back_on_the_plan_when_the_metadata_lacks_the_hosts() -> None:
    records = hosts_records(False)
    assert method({"cpu_plan_hosts": records["cpu_plan_hosts"]}) == "3 hosts"
    assert method({"cpu_plan_hosts": hosts_records(True)["cpu_plan_hosts"]}) == SIMULATED
    # The metadata's own word, when it says no more.
    assert method({"metadata": {"hosts": {"method": SIMULATED}}}) == SIMULATED
    assert method({"metadata": {"hosts": {"simulated": False, "method": "several hosts"}}}) == "several hosts"


# The hosts, each from the three records.


def test_each_host_is_read_from_all_three_records(tmp_path: Path) -> None:
    main, gen_a, gen_b = run_hosts(meta(hosts_run(tmp_path / "real", False)))
    assert (main.name, main.address, main.roles) == ("main", "10.213.0.1", ("server", "backing"))
    assert main.cores == (("server", "0"), ("backing", "1")) and main.workers is None and not main.master
    assert (gen_a.roles, gen_a.cores, gen_a.workers, gen_a.master) == (
        ("loadgen",),
        (("loadgen", "0,1"),),
        2,
        True,
    )
    assert not gen_b.master and gen_b.docker == "ssh://bench@10.213.0.3" and gen_b.docker_version == "27.3.1"
    assert gen_a.clock == Clock(0.12, 0.4, 0.0) and gen_b.clock == Clock(-1250.5, 0.8, -1250.5)


def test_the_hosts_table_has_a_row_per_host(tmp_path: Path) -> None:
    rows = hosts_rows(load_run(hosts_run(tmp_path / "real", False)).hosts)
    assert rows == [
        (
            "main",
            "10.213.0.1",
            "server, backing",
            "server 0; backing 1",
            "—",
            "+0.00 ± 0.05 ms",
            "no: within its uncertainty",
        ),
        (
            "gen-a",
            "10.213.0.2",
            "loadgen, Locust master",
            "loadgen 0,1",
            "2",
            "+0.12 ± 0.40 ms",
            "no: within its uncertainty",
        ),
        ("gen-b", "10.213.0.3", "loadgen", "loadgen 0,1", "2", "-1,250 ± 0.80 ms", "yes (-1,250 ms)"),
    ]


def test_a_host_only_the_load_record_names_still_has_its_row() -> None:
    records = hosts_records(False)
    (gen_a, gen_b) = run_hosts({"distributed": records["distributed"]})
    assert (gen_a.name, gen_a.roles, gen_a.workers, gen_a.master) == ("gen-a", ("loadgen",), 2, True)
    assert gen_b.clock == Clock(-1250.5, 0.8, -1250.5) and gen_b.cores == ()
    assert hosts_rows((gen_b,))[0][3] == "—"


# run.json's records of the hosts are checked as the rest of it is.


def test_the_hosts_records_read_back_as_written(tmp_path: Path) -> None:
    root = hosts_run(tmp_path / "real", False)
    written = json.loads((root / "run.json").read_text())
    assert RunFolder(root).read_run().as_json() == written
    assert written["metadata"]["hosts"]["hosts"][2]["clock"]["offset_ms"] == -1250.5


@pytest.mark.parametrize(
    ("path", "value", "says"),
    [
        (
            ("metadata", "hosts", "simulated"),
            "yes",
            "'metadata.hosts.simulated' is missing or not true or false",
        ),
        (
            ("metadata", "hosts", "hosts"),
            {"main": {}},
            "'metadata.hosts.hosts' is missing or not a list of objects",
        ),
        (
            ("metadata", "hosts", "hosts", 0, "name"),
            "",
            "'metadata.hosts.hosts[].name' is missing or not a string",
        ),
        (
            ("metadata", "hosts", "hosts", 0, "roles"),
            "server",
            "'metadata.hosts.hosts[].roles' is missing or not a list",
        ),
        (("metadata", "hosts", "hosts", 0, "images", "locust"), 5, "'metadata.hosts.hosts[].images.locust'"),
        (
            ("metadata", "hosts", "hosts", 1, "clock", "offset_ms"),
            "0.1",
            "'metadata.hosts.hosts[].clock.offset_ms'",
        ),
        (
            ("metadata", "hosts", "hosts", 1, "clock", "uncertainty_ms"),
            -0.4,
            "'metadata.hosts.hosts[].clock.uncertainty_ms' is missing or not a finite non-negative number",
        ),
        (
            ("metadata", "hosts", "hosts", 1, "clock", "applied_ms"),
            float("nan"),
            "'metadata.hosts.hosts[].clock.applied_ms': NaN is not a number",
        ),
        (("cpu_plan_hosts",), [], "'cpu_plan_hosts' is missing or not an object"),
        (
            ("cpu_plan_hosts", "hosts", 1, "host"),
            7,
            "'cpu_plan_hosts.hosts[].host' is missing or not a string",
        ),
        (
            ("cpu_plan_hosts", "hosts", 1, "loadgen", "cpuset"),
            [0, 1],
            "'cpu_plan_hosts.hosts[].loadgen.cpuset'",
        ),
        (("cpu_plan_hosts", "hosts", 1, "loadgen_workers"), -1, "'cpu_plan_hosts.hosts[].loadgen_workers'"),
        (
            ("cpu_plan_hosts", "warnings"),
            "shared",
            "'cpu_plan_hosts.warnings' is missing or not a list of strings",
        ),
        (("distributed", "master", "port"), "5557", "'distributed.master.port' is missing or not an integer"),
        (("distributed", "hosts", 0, "cores"), ["0"], "'distributed.hosts[].cores'"),
        (("distributed", "hosts", 0, "workers"), 1.5, "'distributed.hosts[].workers'"),
        (("distributed", "hosts", 0, "clock", "offset_ms"), True, "'distributed.hosts[].clock.offset_ms'"),
        (("distributed", "workers"), -4, "'distributed.workers' is missing or not a non-negative integer"),
    ],
)
def test_a_bad_hosts_record_is_one_line_naming_it(
    tmp_path: Path, path: tuple[str | int, ...], value: object, says: str
) -> None:
    root = hosts_run(tmp_path / "bad", False)
    data = json.loads((root / "run.json").read_text())
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    (root / "run.json").write_text(json.dumps(data))
    with pytest.raises(UserError) as raised:
        load_run(root)
    assert str(raised.value).startswith(f"{root / 'run.json'}: {says}") and "\n" not in str(raised.value)


def test_a_clock_behind_the_harness_is_not_refused(tmp_path: Path) -> None:
    root = hosts_run(tmp_path / "behind", False)
    hosts = load_run(root).hosts
    assert hosts[2].clock is not None and hosts[2].clock.offset_ms < 0


# The export's columns.


def test_the_export_says_how_many_hosts_and_workers_sent_the_load_and_which_host_served(
    tmp_path: Path,
) -> None:
    rows = list(csv.DictReader(io.StringIO(export_csv(RunFolder(hosts_run(tmp_path / "real", False))))))
    assert [(r["loadgen_hosts"], r["loadgen_workers"], r["server_host"]) for r in rows] == [
        ("2", "4", "main")
    ] * 2
    document = json.loads(export_json(RunFolder(hosts_run(tmp_path / "sim", True))))
    row = document["rows"][0]
    assert (row["loadgen_hosts"], row["loadgen_workers"], row["server_host"]) == (2, 4, "main")
    columns = document["columns"]
    assert columns.index("server_host") < columns.index("loadgen_cpu_pct") < columns.index("loadgen_workers")
    assert columns.index("loadgen_workers") + 1 == columns.index("loadgen_hosts")


def test_one_machine_exports_one_host_and_no_server_host(tmp_path: Path) -> None:
    root = hosts_run(tmp_path / "one", None)
    write_schema_1_cell(root, SYNC, "json", 64, 1, 400.0)
    cells = RunFolder(root).read_cells()
    assert all(c.loadgen.hosts == 1 and c.server_host is None for c in cells)
    # A cell written before the workers were counted has no count; one of schema 1 had one host too.
    data = cell(50.0)
    data["loadgen"] = {**data["loadgen"], "processes": 2}
    write_run(tmp_path / "counted", {(SYNC, "json", 1, 1): data}, [1])
    rows = {r["users"]: r for r in csv.DictReader(io.StringIO(export_csv(RunFolder(root))))}
    assert [(rows[u]["loadgen_hosts"], rows[u]["server_host"]) for u in ("1", "8", "64")] == [("1", "")] * 3
    assert rows["64"]["loadgen_workers"] == ""
    (counted,) = csv.DictReader(io.StringIO(export_csv(RunFolder(tmp_path / "counted"))))
    assert (counted["loadgen_workers"], counted["loadgen_hosts"]) == ("2", "1")


def test_a_cell_that_measured_nothing_exports_no_hosts(tmp_path: Path) -> None:
    failed = {"status": "failed", "reason": "not ready", "warnings": [], "server_host": "main"}
    root = write_run(tmp_path / "failed", {(SYNC, "json", 1, 1): failed}, [1], records=hosts_records(False))
    (row,) = csv.DictReader(io.StringIO(export_csv(RunFolder(root))))
    assert (row["loadgen_hosts"], row["loadgen_workers"], row["server_host"]) == ("", "", "main")


# The summary and the report say the method.


def test_the_summary_says_the_method_under_the_app(tmp_path: Path) -> None:
    lines = summarize(RunFolder(hosts_run(tmp_path / "one", None))).splitlines()
    assert lines[1] == "method: one machine" and "simulated" not in "\n".join(lines)
    lines = summarize(RunFolder(hosts_run(tmp_path / "real", False))).splitlines()
    assert lines[1] == f"method: 3 hosts: {PLACEMENT}" and "simulated" not in "\n".join(lines)


def test_the_summary_of_simulated_hosts_says_their_figures_are_not_separate_machines(tmp_path: Path) -> None:
    lines = summarize(RunFolder(hosts_run(tmp_path / "sim", True))).splitlines()
    assert lines[1] == f"method: simulated (one kernel): {PLACEMENT}"
    assert lines[2] == f"simulated: {SIMULATED_CAVEAT}"
    assert "share its cores and memory bandwidth" in lines[2] and "network between them" in lines[2]


def page(root: Path) -> str:
    return render_document(build_document(aggregate(load_run(root)), Objective()))


def header(html: str) -> str:
    return html[: html.index('<nav class="toc">')]


def test_the_report_header_says_simulated_one_kernel_in_a_banner(tmp_path: Path) -> None:
    html = page(hosts_run(tmp_path / "sim", True))
    top = header(html)
    banner = re.search(r'<div class="banner">(.*?)</div>', top, re.S)
    assert banner is not None and "<b>Method: simulated (one kernel): server on main;" in banner.group(1)
    assert "share its cores and memory bandwidth" in banner.group(1)


def test_the_report_header_says_one_machine_or_the_hosts(tmp_path: Path) -> None:
    one = header(page(hosts_run(tmp_path / "one", None)))
    assert "<b>Method</b>: one machine." in one and "simulated" not in one
    real = header(page(hosts_run(tmp_path / "real", False)))
    assert f"<b>Method</b>: 3 hosts: {PLACEMENT}." in real and "simulated" not in real


def test_a_fleet_s_report_shows_each_server_host_s_calibration(tmp_path: Path) -> None:
    root = hosts_run(tmp_path / "fleet", False)
    run = json.loads((root / "run.json").read_text())
    lanes = {
        "main": {"max_rps": 1234.0, "limited_by": "generator", "processes": 2, "users": 128},
        "srv-b": {"max_rps": 987.0, "limited_by": "generator", "processes": 2, "users": 128},
    }
    run["calibration"], run["calibration_hosts"] = lanes["main"], lanes
    (root / "run.json").write_text(json.dumps(run))
    assert load_run(root).lane_calibrations == lanes
    environment = page(root)[page(root).index('id="environment"') :]
    main = environment.index("Load generator calibration: server host main")
    other = environment.index("Load generator calibration: server host srv-b")
    assert "1,234 req/s" in environment[main:other] and "987 req/s" in environment[other:]
    # A fleet recorded before each lane calibrated says whose calibration judged every lane.
    del run["calibration_hosts"]
    run["distributed"]["fleet"] = [{"server_host": "main"}, {"server_host": "srv-b"}]
    (root / "run.json").write_text(json.dumps(run))
    assert "Load generator calibration: server host main, applied to every lane" in page(root)
    # One machine, or one lane: the run's one calibration, under its own title.
    single = page(hosts_run(tmp_path / "one", None))
    assert "Load generator calibration: server host" not in single and "Load generator calibration" in single


def test_each_lane_of_a_fleet_takes_its_own_calibrated_most() -> None:
    lanes = {
        "main": {"max_rps": 1234.0, "limited_by": "generator"},
        # The target was the limit: no ceiling for that lane, not the first lane's.
        "srv-b": {"max_rps": 987.0, "limited_by": "server"},
        "srv-c": {"error": "the upstream did not start"},
    }
    assert lane_ceilings(lanes) == {"main": 1234.0, "srv-b": None, "srv-c": None}
    assert lane_ceilings(None) == {}, "one calibration: every lane takes it"


def test_the_environment_has_a_hosts_table_only_across_hosts(tmp_path: Path) -> None:
    html = page(hosts_run(tmp_path / "real", False))
    environment = html[html.index('id="environment"') :]
    table = environment[environment.index('<table class="hosts-table"') :]
    table = table[: table.index("</table>")]
    for column in ("host", "address", "roles", "cores per role", "Locust workers", "clock offset", "applied"):
        assert f">{column}</th>" in table
    assert table.count("<tr>") == 4  # the header and three hosts
    assert "Locust master" in table and "yes (-1,250 ms)" in table and "no: within its uncertainty" in table
    # The plan across simulated hosts warns of the cores they share, under the table.
    simulated = page(hosts_run(tmp_path / "sim", True))
    assert "cores shared across simulated hosts: core 0 (main, gen-a, gen-b)" in simulated
    # Its plan is per host: no one machine's CPU plan, which the run did not make.
    assert "<h3>CPU plan</h3>" not in environment
    for one_machine in (page(hosts_run(tmp_path / "one", None)), page(RUNS / "good")):
        assert 'class="hosts-table"' not in one_machine and "<h3>CPU plan</h3>" in one_machine


def test_the_markdown_export_says_the_method_and_lists_the_hosts(tmp_path: Path) -> None:
    text = render_markdown(aggregate(load_run(hosts_run(tmp_path / "sim", True))), Objective(), "c").text
    preface = text[: text.index("## ")]
    assert "> **Method: simulated (one kernel): server on main;" in preface and "memory bandwidth" in preface
    assert "| host | address | roles | cores per role | Locust workers | clock offset | applied |" in text
    assert (
        "| `gen-b` | `10.213.0.3` | loadgen | `loadgen 0,1` | 2 | -1,250 ± 0.80 ms | yes (-1,250 ms) |"
        in text
    )
    one = render_markdown(aggregate(load_run(hosts_run(tmp_path / "one", None))), Objective(), "c").text
    assert "**Method**: one machine." in one and "| host | address |" not in one


def test_a_host_name_with_markup_is_shown_as_text(tmp_path: Path) -> None:
    root = hosts_run(tmp_path / "hostile", False)
    data = json.loads((root / "run.json").read_text())
    data["metadata"]["hosts"]["hosts"][0]["address"] = "<script>alert(1)</script>"
    (root / "run.json").write_text(json.dumps(data))
    html = page(root)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# compare names a difference of method.


def test_compare_names_a_difference_of_method(tmp_path: Path) -> None:
    one, sim, real = (hosts_run(tmp_path / n, s) for n, s in (("one", None), ("sim", True), ("real", False)))
    assert "method: simulated (one kernel) vs one machine" in compare_runs(sim, one).differences
    assert "method: one machine vs 3 hosts" in compare_runs(one, real).differences
    differences = compare_runs(sim, real).differences
    assert "method: simulated (one kernel) vs 3 hosts" in differences
    # Same hosts doing the same: the method is the only difference.
    assert not any(d.startswith(("hosts:", "CPU plan per host")) for d in differences)
    assert "WARNING: these runs differ" in terminal_table(compare_runs(sim, one))
    assert compare_runs(real, real).differences == ()


def test_compare_names_the_hosts_count_and_roles_when_both_are_on_several_hosts(tmp_path: Path) -> None:
    real = hosts_run(tmp_path / "three", False)
    two = (
        Host("main", "unix:///var/run/docker.sock", "10.213.0.1", (0, 1, 2), ("server", "backing")),
        Host("gen-a", "tcp://10.213.0.2:2375", "10.213.0.2", (0, 1), ("loadgen",)),
    )
    fewer = hosts_run(tmp_path / "two", False, two)
    differences = compare_runs(real, fewer).differences
    assert "method: 3 hosts vs 2 hosts" in differences
    assert (
        "hosts: 3 (main: server, backing; gen-a: loadgen; gen-b: loadgen) vs "
        "2 (main: server, backing; gen-a: loadgen)"
    ) in differences
    # The same count, the roles elsewhere.
    swapped = (
        Host("main", "unix:///var/run/docker.sock", "10.213.0.1", (0, 1), ("server",)),
        Host("gen-a", "tcp://10.213.0.2:2375", "10.213.0.2", (0, 1), ("backing", "loadgen")),
        Host("gen-b", "ssh://bench@10.213.0.3", "10.213.0.3", (0, 1), ("loadgen",)),
    )
    moved = compare_runs(real, hosts_run(tmp_path / "moved", False, swapped)).differences
    assert not any(d.startswith("method:") for d in moved)
    assert any(
        d.startswith("hosts: 3 (main: server, backing; ")
        and "vs 3 (main: server; gen-a: backing, loadgen" in d
        for d in moved
    )


def test_compare_names_each_hosts_cores_when_only_they_differ(tmp_path: Path) -> None:
    real = hosts_run(tmp_path / "two-cores", False)
    wider = (*HOSTS[:2], Host("gen-b", "ssh://bench@10.213.0.3", "10.213.0.3", (0, 1, 2, 3), ("loadgen",)))
    differences = compare_runs(real, hosts_run(tmp_path / "four-cores", False, wider)).differences
    (plan,) = [d for d in differences if d.startswith("CPU plan per host")]
    assert plan.endswith("gen-b: loadgen 0,1,2,3 (4 workers)")
    assert "gen-b: loadgen 0,1 (2 workers) vs " in plan
    assert not any(d.startswith(("method:", "hosts:")) for d in differences)
