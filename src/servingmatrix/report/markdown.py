"""The Markdown renderer: the report's sections as Markdown with static SVG charts, ready to paste
into a post.

Every flagged figure carries its flags' letters in brackets (``1,154 [S]``); the letters are
explained under the warnings, and flags every figure shares are named once at the top. Detail the
page folds away (every cell of every mode) is left out. Text from the run is escaped, so a name or
a description cannot break a table or start a link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from servingmatrix.analysis.points import Results
from servingmatrix.analysis.verdict import Objective
from servingmatrix.report.document import (
    Cell,
    Chart,
    Definitions,
    Document,
    Entries,
    Group,
    Heading,
    Inline,
    KeyValues,
    Paragraph,
    Section,
    Table,
)
from servingmatrix.report.figures.chart_specs import LineChart
from servingmatrix.report.figures.charts import printed_image
from servingmatrix.report.output import write_text_atomic
from servingmatrix.report.sections import build_document

#: Characters that Markdown would read as markup in plain text.
SPECIAL = "\\`*_[]<>|"
#: How a line opens a heading, a list item or a quote: its last character is escaped.
LINE_OPENER = re.compile(r"\s*(#|[-+=>]|\d+[.)])")


@dataclass(frozen=True)
class Publication:
    text: str
    #: SVG charts by file name, written in the folder the text links to.
    images: dict[str, str]

    def write(self, path: Path, charts_dir: str) -> list[Path]:
        write_text_atomic(path, self.text)
        written = [path]
        for name, svg in self.images.items():
            target = path.parent / charts_dir / name
            write_text_atomic(target, svg)
            written.append(target)
        return written


def escape(text: str) -> str:
    """Plain text as Markdown shows it: markup characters escaped, on one line (a line break would
    end a table row or a list item)."""
    flat = " ".join(text.splitlines())
    return "".join(f"\\{ch}" if ch in SPECIAL else ch for ch in flat)


def line(text: str) -> str:
    """A line that cannot open a heading, a list or a quote by how it starts."""
    opener = LINE_OPENER.match(text)
    if opener is None:
        return text
    end = opener.end()
    return f"{text[: end - 1]}\\{text[end - 1 :]}"


def code(text: str) -> str:
    """A code span on one line, fenced by more backticks than the longest run inside it (a run as
    long as the fence would end the span early, and what follows would be read as Markdown)."""
    flat = " ".join(text.splitlines())
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if longest else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def inline(parts: tuple[Inline, ...]) -> str:
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(escape(part))
        elif part.kind == "code":
            out.append(code(part.text))  # type: ignore[union-attr]
        elif part.kind == "strong":
            out.append(f"**{inline(part.parts)}**")  # type: ignore[union-attr]
        else:
            letters = "".join(b.letter for b in part.badges)  # type: ignore[union-attr]
            # Beside the figure before it, as in a table cell; first in a line, no space.
            space = " " if out and not out[-1].endswith((" ", "(")) else ""
            out.append(f"{space}[{letters}]" if letters else "")
    return "".join(out)


def cell(c: Cell) -> str:
    text = code(c.text) if c.code else escape(c.text)
    if c.flags:
        text += f" [{''.join(b.letter for b in c.flags)}]"
    if c.sub:
        text += f" ({escape(c.sub)})"
    # A bar ends a table cell even inside a code span.
    return text.replace("|", "\\|") if c.code else text


def table(t: Table) -> list[str]:
    """The header, the divider that aligns numbers right, and one line per row."""
    header = [escape(c.label) for c in t.columns]
    divider = ["---:" if c.numeric else "---" for c in t.columns]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(divider) + " |"]
    for row in t.rows:
        cells = []
        for c in row:
            cells += [cell(c), *([""] * (c.span - 1))]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def paragraph(p: Paragraph) -> list[str]:
    if p.style == "command":
        return ["```", "".join(part for part in p.parts if isinstance(part, str)), "```"]
    text = line(inline(p.parts))
    return [f"> {text}" if p.style.startswith("banner") else text]


def entries(e: Entries) -> list[str]:
    return [f"- {code(where)}: {escape(what)}" if what else f"- {code(where)}" for where, what in e.items]


def key_values(k: KeyValues) -> list[str]:
    values = "; ".join(f"{escape(label)}: {escape(value)}" for label, value in k.rows) or escape(k.empty)
    return [f"- {escape(k.title)}: {values}."]


def definitions(d: Definitions) -> list[str]:
    return [f"- {inline(term)}: {escape(how)}." for term, how in d.items]


@dataclass
class Renderer:
    """Sections as Markdown lines, and the SVG images their charts are drawn in."""

    charts_dir: str
    images: dict[str, str] = field(default_factory=dict)

    def chart(self, spec: LineChart) -> list[str]:
        image = printed_image(spec)
        if image is None or spec.printed is None:
            return []
        self.images[image.name] = image.svg
        title = escape(spec.printed.title)
        return [f"![{title}]({self.charts_dir}/{image.name})"]

    def section(self, s: Section) -> list[str]:
        """One section's lines; each is followed by a blank line."""
        if isinstance(s, Group):
            return [line for child in s.children for line in self.section(child)]
        if isinstance(s, Chart):
            drawn = self.chart(s.spec) if isinstance(s.spec, LineChart) else []
            return [*drawn, ""] if drawn else []
        if isinstance(s, Heading):
            lines = [f"{'#' * s.level} {inline(s.parts)}"]
        elif isinstance(s, Paragraph):
            lines = paragraph(s)
        elif isinstance(s, Table):
            lines = table(s)
        elif isinstance(s, Entries):
            lines = entries(s)
        elif isinstance(s, KeyValues):
            lines = key_values(s)
        else:
            lines = definitions(s)
        return [*lines, ""]

    def document(self, document: Document) -> str:
        out = [f"# {escape(document.title)}", ""]
        for s in document.preface:
            out += self.section(s)
        for part in document.parts:
            if not part.printed:
                continue
            out += [f"## {escape(part.title)}", ""]
            for s in part.children:
                out += self.section(s)
        return "\n".join(out)


def render_markdown(results: Results, objective: Objective, charts_dir: str) -> Publication:
    """The report's sections as Markdown, with its charts as SVG files in ``charts_dir``."""
    renderer = Renderer(charts_dir)
    text = renderer.document(build_document(results, objective))
    return Publication(text, renderer.images)
