"""What every part of the report shares: figures with their flags, and the run-wide flags' note."""

from __future__ import annotations

from servingmatrix import fmt
from servingmatrix.analysis.points import Point, Results
from servingmatrix.analysis.run_wide import concerned_workloads, run_wide_message
from servingmatrix.analysis.verdict import is_development
from servingmatrix.flags import ONCE_PER_RUN, Flag, beside_figure, kind, order
from servingmatrix.report.document import Badge, Cell, Column, Flags, Paragraph, Strong
from servingmatrix.results.hosts import SIMULATED, SIMULATED_CAVEAT, method_line
from servingmatrix.results.run import Run


def badges(flags: tuple[Flag, ...], hide: frozenset[str] = ONCE_PER_RUN) -> tuple[Badge, ...]:
    """The flags shown beside a figure: all but the run-wide ones (``hide``), which are named once."""
    shown = {f.code: f for f in beside_figure(flags, said_once=hide)}
    # In the vocabulary's order everywhere, whatever order a record holds them in.
    return tuple(
        Badge(shown[code].letter, code, f"{shown[code].kind.title}: {shown[code].message}")
        for code in order(set(shown))
    )


def figure(text: str, flags: tuple[Flag, ...], hide: frozenset[str], sub: str = "", title: str = "") -> Cell:
    """A figure as every table shows it: never without its flags."""
    return Cell(text, badges(flags, hide), sub=sub, title=title)


def rps(point: Point | None) -> str:
    return fmt.rps(point.throughput.median if point and point.throughput else None)


def name(text: str) -> Cell:
    """A mode, set as a name; a development server says so wherever it ranks."""
    return Cell(text, code=True, sub="development server, not for production" if is_development(text) else "")


def num(label: str) -> Column:
    return Column(label, numeric=True)


def run_wide_badge(code: str, results: Results) -> Badge:
    k = kind(code)
    return Badge(k.letter, code, f"{k.title}: {run_wide_message(results, code)}")


def condition_text(results: Results, code: str) -> str:
    """A run-wide flag's sentence without a lead that repeats its title ("cores shared: ...")."""
    message = run_wide_message(results, code)
    lead, _, rest = message.partition(": ")
    return rest if rest and lead.lower() in kind(code).title.lower() else message


def _whose(results: Results, code: str, every: str) -> str:
    """Which figures a run-wide flag is on: ``every``, or those of the workloads it concerns."""
    workloads = concerned_workloads(results, code)
    return every if workloads is None else f"Every figure of {', '.join(workloads)}"


def _named(code: str) -> str:
    return f"{kind(code).letter}, {kind(code).title}"


def run_wide_banners(results: Results, hide: frozenset[str]) -> tuple[Paragraph, ...]:
    """At the top: the flags every figure carries, said once (and again in each verdict's "how sure")."""
    return tuple(
        Paragraph(
            (
                Flags((run_wide_badge(code, results),)),
                " ",
                Strong((f"{_whose(results, code, 'Every figure below')} carries {_named(code)}",)),
                f": {condition_text(results, code)}.",
            ),
            "banner",
        )
        for code in order(set(hide))
    )


def run_wide_notes(results: Results, hide: frozenset[str]) -> tuple[Paragraph, ...]:
    """Under a table: the flags left off its figures because every figure carries them."""
    return tuple(
        Paragraph(
            (
                f"{_whose(results, code, 'Every figure of this run')} carries ",
                Flags((run_wide_badge(code, results),)),
                f" {kind(code).title}: {condition_text(results, code)}.",
            ),
            "note",
        )
        for code in order(set(hide))
    )


def reference(rps_value: float | None, efficiency: float | None) -> Cell:
    """The reference generator's figure and Locust's share of it: "6,444 (0.77)", or a dash."""
    if rps_value is None:
        return Cell(fmt.DASH)
    share = "" if efficiency is None else f" ({efficiency:.2f})"
    title = "a native client (wrk) against the same server, cores and quota; in brackets, Locust's share"
    # A share above 1: Locust drew more than wrk (wrk opens every connection at once, Locust ramps).
    above = efficiency is not None and round(efficiency, 2) > 1
    return Cell(f"{fmt.rps(rps_value)}{share}", title=title, sub="Locust drew more than wrk" if above else "")


#: The column of the reference figure.
REFERENCE_COLUMN = "wrk req/s (Locust's share)"


def method_paragraph(run: Run) -> Paragraph:
    """The run's method, said at the top and over the hosts table: ``one machine``, ``N hosts`` and
    where each role ran, or, as a banner a reader cannot miss, ``simulated (one kernel)`` and why its
    figures are not those of separate machines."""
    line = method_line(run.record.as_json())
    if run.method == SIMULATED:
        return Paragraph((Strong((f"Method: {line}",)), f". Simulated: {SIMULATED_CAVEAT}."), "banner")
    return Paragraph((Strong(("Method",)), f": {line}."), "note")
