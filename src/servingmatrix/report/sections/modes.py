"""The per-mode part: what each mode ran (command, tunables, image, packages) and every cell it
measured. Detail the page folds away and a publication leaves out."""

from __future__ import annotations

from servingmatrix import fmt
from servingmatrix.analysis.points import Results
from servingmatrix.report.document import (
    Cell,
    Column,
    Group,
    Heading,
    KeyValues,
    Paragraph,
    Part,
    Section,
    Table,
)
from servingmatrix.report.environment_rows import mode_info
from servingmatrix.report.sections.common import figure, num, run_wide_notes
from servingmatrix.results.cell import CellRecord


def _cell_row(results: Results, cell: CellRecord, hide: frozenset[str]) -> tuple[Cell, ...]:
    where = (Cell(cell.workload), Cell(str(cell.users)), Cell(str(cell.trial)))
    if not cell.ok:
        return (*where, Cell(f"failed: {cell.reason or 'failed'}", style="short", span=11))
    lat = cell.latency_ms
    return (
        *where,
        Cell(fmt.num(cell.requests)),
        figure(fmt.rps(cell.throughput_rps), cell.warnings, hide),
        Cell(fmt.ms(lat.p50)),
        Cell(fmt.ms(lat.p95)),
        Cell(fmt.ms(lat.p99)),
        Cell(fmt.ms(lat.max)),
        Cell(fmt.num(None if (rate := _error_rate(cell)) is None else 100 * rate, 2)),
        Cell(fmt.num(cell.server.cpu_pct)),
        Cell(fmt.num(cell.server.mem_mb)),
        Cell(fmt.num(cell.loadgen.cpu_pct)),
        Cell(fmt.num(cell.effective_concurrency, 1)),
    )


def _error_rate(cell: CellRecord) -> float | None:
    """The trial's failures over its requests, as counted (None before any request)."""
    if not cell.requests or cell.failures is None:
        return None
    return cell.failures / cell.requests


#: The effective concurrency's column, and what it is.
IN_FLIGHT = "in flight (requests)"
IN_FLIGHT_NOTE = (
    "In flight: the requests the server held at once on average, by Little's law: the throughput x "
    "the time each request spent in it (for io[ms=X], X; otherwise the client's mean latency, an upper "
    "bound)."
)


def cells_table(results: Results, mode: str, hide: frozenset[str]) -> Table:
    order = {w: i for i, w in enumerate(results.workloads)}
    cells = sorted(
        (c.record for c in results.run.cells if c.record.mode == mode),
        key=lambda c: (order.get(c.workload, len(order)), c.users, c.trial),
    )
    labels = (
        "requests",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "errors %",
        "server CPU %",
        "server MB",
        "load gen CPU %",
    )
    columns = (
        Column("workload"),
        num(results.step_label),
        num("trial"),
        *(num(label) for label in labels),
        num(IN_FLIGHT),
    )
    return Table("cells-table", columns, tuple(_cell_row(results, c, hide) for c in cells))


def _mode(results: Results, mode: str, hide: frozenset[str]) -> Group:
    info = mode_info(results.run, mode)
    about = f"{info.summary}. Folk claim: {info.claim}. Keeps connections alive: {info.keeps_alive}."
    columns = Group(
        "columns",
        (
            Group(
                "",
                (KeyValues("Tunables", tuple(info.tunables), "none"), KeyValues("Image", tuple(info.image))),
            ),
            Group("", (KeyValues("Packages (from the image's lock)", tuple(info.packages)),)),
        ),
    )
    children: tuple[Section, ...] = (
        Paragraph((about,)),
        Paragraph(("To deploy (every interface, port 8000, without the harness's own flags):",), "note"),
        Paragraph((info.command,), "command"),
        Paragraph(("As measured (the harness's command: its bind address, port and own flags):",), "note"),
        Paragraph((info.measured,), "command"),
        columns,
        Heading(4, ("Every cell",)),
        cells_table(results, mode, hide),
        Paragraph((IN_FLIGHT_NOTE,), "note"),
        *run_wide_notes(results, hide),
    )
    return Group("details", children, summary=mode)


def modes_part(results: Results, hide: frozenset[str]) -> Part:
    return Part("modes", "Per mode", tuple(_mode(results, m, hide) for m in results.modes), printed=False)
