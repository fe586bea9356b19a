"""The environment and methodology part: the machine, the matrix, the calibration, the CPU plan as
planned and as applied, the hosts of a run across several engines, the mixed workload's weights, how
each derived figure is computed, and what each flag means."""

from __future__ import annotations

from dataclasses import asdict

from servingmatrix.analysis.points import Results
from servingmatrix.flags import KINDS
from servingmatrix.methodology import DERIVED
from servingmatrix.report.document import (
    Badge,
    Cell,
    Code,
    Column,
    Definitions,
    Flags,
    Group,
    Heading,
    KeyValues,
    Paragraph,
    Part,
    Section,
    Strong,
    Table,
)
from servingmatrix.report.environment_rows import (
    HOST_COLUMNS,
    app_request_rows,
    app_rows,
    applied_rows,
    calibration_rows,
    cpu_plan_rows,
    hosts_rows,
    matrix_rows,
    metadata_rows,
    mix_rows,
)
from servingmatrix.report.sections.common import method_paragraph, num
from servingmatrix.results.run import Run
from servingmatrix.spec import spec_name
from servingmatrix.workloads import uses_backing


def _plan(results: Results) -> list[Section]:
    run = results.run
    planned = cpu_plan_rows(run.cpu_plan)
    out: list[Section] = []
    # A run across several hosts plans per host (its hosts table); one machine's plan when it has one.
    if planned or not run.hosts:
        out += [
            Heading(3, ("CPU plan",)),
            Table(
                "",
                (Column("role"), Column("cores"), Column("quota")),
                tuple((Cell(r), Cell(c, code=True), Cell(q)) for r, c, q in planned),
            ),
        ]
    backing_called = any(uses_backing(w) for w in results.workloads)
    for warning in (str(w) for w in run.cpu_plan.get("warnings") or []):
        if backing_called or not warning.startswith("cores shared"):
            out.append(Paragraph((warning,), "banner"))
        else:
            # The cores are shared with the backing services, which no workload of this run calls.
            unfelt = "no workload of this run calls the backing services, so no figure is affected"
            out.append(Paragraph((f"{warning} ({unfelt})",), "note"))
    # The limits Docker actually applied, as read back for the first measured cell.
    cell = next((c.record for c in run.cells if c.record.ok and c.record.cpu_plan_applied), None)
    applied = (
        applied_rows({role: asdict(limits) for role, limits in cell.cpu_plan_applied.items()}) if cell else []
    )
    if applied:
        out += [
            Heading(4, ("As Docker applied it (read back)",)),
            Table(
                "",
                (Column("container"), Column("cores"), Column("quota"), Column("memory")),
                tuple((Cell(r), Cell(c, code=True), Cell(q), Cell(m)) for r, c, q, m in applied),
            ),
        ]
    return out


def _hosts(results: Results) -> list[Section]:
    """The hosts of a run with an inventory: the method, then one row per host; nothing on one machine."""
    run = results.run
    hosts = run.hosts
    if not hosts:
        return []
    plan = run.record.cpu_plan_hosts
    warnings = plan.get("warnings") if isinstance(plan, dict) else None
    return [
        Heading(3, ("Hosts",)),
        method_paragraph(run),
        Table(
            "hosts-table",
            tuple(Column(label, numeric=label == "Locust workers") for label in HOST_COLUMNS),
            tuple(
                (
                    Cell(name, code=True),
                    Cell(address, code=True),
                    Cell(roles),
                    Cell(cores, code=True),
                    Cell(workers),
                    Cell(clock),
                    Cell(applied),
                )
                for name, address, roles, cores, workers, clock, applied in hosts_rows(hosts)
            ),
        ),
        *(Paragraph((str(w),), "banner") for w in (warnings if isinstance(warnings, list) else [])),
    ]


def _mix(results: Results) -> list[Section]:
    requests = app_request_rows(results.run.metadata)
    if requests:
        return [
            Heading(3, ("The app's requests and their shares of ", Code("app:mixed"))),
            Table(
                "",
                (Column("request"), num("share"), Column("sent"), Column("statuses")),
                tuple((Cell(n), Cell(s), Cell(p, code=True), Cell(st)) for n, s, p, st in requests),
            ),
        ]
    if not any(spec_name(w) == "mixed" for w in results.workloads):
        return []
    return [
        Heading(3, ("The ", Code("mixed"), " workload's weights")),
        Table(
            "",
            (Column("request"), num("share"), Column("path")),
            tuple((Cell(n), Cell(s), Cell(p, code=True)) for n, s, p in mix_rows(results.workloads)),
        ),
    ]


def _calibrations(run: Run) -> list[Section]:
    """The run's calibration, or in a fleet each server host's lane's."""
    lanes = run.lane_calibrations
    if not lanes:
        distributed = run.record.distributed
        fleet = distributed.get("fleet") if isinstance(distributed, dict) else None
        title = "Load generator calibration"
        if isinstance(fleet, list) and fleet and isinstance(fleet[0], dict):
            # A fleet recorded before each lane calibrated: its first lane's, which every lane was judged by.
            title += f": server host {fleet[0].get('server_host')}, applied to every lane"
        return [KeyValues(title, tuple(calibration_rows(run.calibration)), level=3)]
    return [
        KeyValues(f"Load generator calibration: server host {name}", tuple(calibration_rows(c)), level=3)
        for name, c in lanes.items()
    ]


def environment_part(results: Results) -> Part:
    run = results.run
    right: list[Section] = [
        KeyValues("App under test", tuple(app_rows(run.metadata)), level=3),
        KeyValues("Matrix", tuple(matrix_rows(run)), level=3),
        *_calibrations(run),
        *_plan(results),
        *_mix(results),
    ]
    columns = Group(
        "columns",
        (
            Group(
                "",
                (KeyValues("Machine and software (collected)", tuple(metadata_rows(run.metadata)), level=3),),
            ),
            Group("", tuple(right)),
        ),
    )
    children = (
        columns,
        *_hosts(results),
        Heading(3, ("How each derived number is computed",)),
        Definitions(tuple(((Strong((name,)),), how) for name, how in DERIVED)),
        Heading(3, ("Flags",)),
        Definitions(
            tuple(((Flags((Badge(k.letter, k.code, k.meaning),)), f" {k.title}"), k.meaning) for k in KINDS)
        ),
    )
    return Part("environment", "Environment and methodology", children)
