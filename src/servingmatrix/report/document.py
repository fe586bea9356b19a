"""The report as typed sections, computed once and rendered by two formats (the HTML page and the
Markdown export), each of which only says how a heading, a paragraph, a table's rows or a chart
are written in it.

Text here is plain: each renderer escapes it for its own format. A figure is a ``Cell`` that holds
its flags, so no format can show it without them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from servingmatrix.report.figures.chart_specs import BarChart, LineChart


@dataclass(frozen=True)
class Badge:
    """A flag beside a figure: its letter, and what it says about that figure."""

    letter: str
    code: str
    title: str


@dataclass(frozen=True)
class Code:
    """A name from the run (a mode, a workload, a path): monospace on the page, backticks in Markdown."""

    text: str
    kind: ClassVar[str] = "code"


@dataclass(frozen=True)
class Strong:
    parts: tuple[Inline, ...]
    kind: ClassVar[str] = "strong"


@dataclass(frozen=True)
class Flags:
    badges: tuple[Badge, ...]
    kind: ClassVar[str] = "flags"


Inline = str | Code | Strong | Flags


@dataclass(frozen=True)
class Heading:
    level: int
    parts: tuple[Inline, ...]
    kind: ClassVar[str] = "heading"


@dataclass(frozen=True)
class Paragraph:
    parts: tuple[Inline, ...]
    #: "" plain, "lead", "note" (a quieter remark), "banner" or "banner bad" (read before the rest),
    #: "warning" (a flag's sentence), "command" (a command line).
    style: str = ""
    kind: ClassVar[str] = "paragraph"


@dataclass(frozen=True)
class Cell:
    """One table cell: its text, the flags of the figure it shows, and what a hover may add."""

    text: str
    flags: tuple[Badge, ...] = ()
    #: A second, smaller line (the page) or a remark in brackets (Markdown).
    sub: str = ""
    #: Shown on hover on the page only: a detail the other cells or the warnings already give.
    title: str = ""
    #: A name from the run, set in monospace.
    code: bool = False
    #: "note", "short" (a shortfall) or "holds": how the page colours it.
    style: str = ""
    #: Columns it spans (a row that says why it has no figures).
    span: int = 1


@dataclass(frozen=True)
class Column:
    label: str
    numeric: bool = False


@dataclass(frozen=True)
class Table:
    #: What the table is (the page's class for it, which its tests look for): "verdict-table", ...
    name: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    workload: str = ""
    kind: ClassVar[str] = "table"

    def placed(self) -> tuple[tuple[tuple[Cell, Column], ...], ...]:
        """Each row's cells beside the column each starts in (a cell may span several)."""
        out = []
        for row in self.rows:
            start, placed = 0, []
            for cell in row:
                placed.append((cell, self.columns[min(start, len(self.columns) - 1)]))
                start += cell.span
            out.append(tuple(placed))
        return tuple(out)


@dataclass(frozen=True)
class Entries:
    """Where and what, one per line: flagged figures, failed cells, missing ones."""

    items: tuple[tuple[str, str], ...]
    #: "short" when each entry is a failure.
    style: str = ""
    kind: ClassVar[str] = "entries"


@dataclass(frozen=True)
class KeyValues:
    """Labelled values under a title: the machine, the matrix, the calibration, a mode's image."""

    title: str
    rows: tuple[tuple[str, str], ...]
    #: Said instead when there are no rows.
    empty: str = "not recorded"
    #: The title's heading level.
    level: int = 4
    kind: ClassVar[str] = "keyvalues"


@dataclass(frozen=True)
class Definitions:
    """Terms and what they mean: the derived figures, the flags."""

    items: tuple[tuple[tuple[Inline, ...], str], ...]
    kind: ClassVar[str] = "definitions"


@dataclass(frozen=True)
class Chart:
    spec: LineChart | BarChart
    kind: ClassVar[str] = "chart"


@dataclass(frozen=True)
class Group:
    """Sections that belong together: a verdict's card, a mode's folded detail, two columns."""

    #: "card", "details" (folded on the page, with ``summary`` as its line) or "columns".
    style: str
    children: tuple[Section, ...]
    summary: str = ""
    workload: str = ""
    kind: ClassVar[str] = "group"


Section = Heading | Paragraph | Table | Entries | KeyValues | Definitions | Chart | Group


@dataclass(frozen=True)
class Part:
    """One numbered part of the report, with its anchor on the page."""

    anchor: str
    title: str
    children: tuple[Section, ...]
    #: Added to the part's entry in the page's contents (a count of warnings).
    toc_note: str = ""
    #: False for detail the page folds away and a publication leaves out (every cell of every mode).
    printed: bool = True


@dataclass(frozen=True)
class Document:
    title: str
    #: Before the first part: the description, the run in one line, run-wide flags, missing modes.
    preface: tuple[Section, ...]
    parts: tuple[Part, ...]
    #: Where the page came from: said on the page, left out of a publication.
    provenance: str = ""

    def sections(self) -> Iterator[Section]:
        """Every section, groups opened, in reading order."""

        def walk(sections: tuple[Section, ...]) -> Iterator[Section]:
            for section in sections:
                yield section
                if isinstance(section, Group):
                    yield from walk(section.children)

        yield from walk(self.preface)
        for part in self.parts:
            yield from walk(part.children)

    def charts(self) -> list[LineChart | BarChart]:
        """Every chart, in the order the page draws them."""
        return [s.spec for s in self.sections() if isinstance(s, Chart)]

    def tables(self, name: str) -> dict[str, Table]:
        """The tables of a kind shown once per workload ("capacity-table", ...) by workload; a table
        of the whole run is under ""."""
        return {s.workload: s for s in self.sections() if isinstance(s, Table) and s.name == name}
