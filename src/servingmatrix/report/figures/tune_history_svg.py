"""A tune's search as a chart: every probe, the rate it offered (x) and the p99 it measured (y), both
on log scales, beside the objective's line; within it a filled dot, beyond it a cross, a probe the
load generator bounded a hollow ring; the recommendation's probes ringed in its colour. Each mark
holds its configuration, trial, rate, p99, errors and judgement as its ``<title>``."""

from __future__ import annotations

import math
from collections.abc import Sequence

from servingmatrix import fmt
from servingmatrix.report.figures.svg import PAGE, Key, document, el, legend, legend_height, titled
from servingmatrix.tune.bracket import ProbeRecord
from servingmatrix.tune.result_file import TuneResult

LEFT, RIGHT, TOP, BOTTOM = 70, 24, 14, 46
HEIGHT = 420
WITHIN, BEYOND, BOUND, GUIDE, GRID, RECOMMENDED = "#1b7837", "#b2182b", "#888", "#b00", "#e3e6ea", "#2166ac"
KEYS = (
    Key("within", "within the objective", WITHIN, "box"),
    Key("beyond", "beyond it", BEYOND, "box"),
    Key("generator-bound", "generator-bound (no evidence)", BOUND, "ring"),
    Key("recommended", "the recommendation's probes", RECOMMENDED, "ring"),
)


def _ticks(low: float, high: float) -> list[float]:
    """1, 2 and 5 times each power of ten within [low, high]."""
    out = []
    for power in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        for first in (1, 2, 5):
            value = first * 10.0**power
            if low <= value <= high:
                out.append(value)
    return out


class _LogAxis:
    def __init__(self, values: Sequence[float], start: float, end: float) -> None:
        self.low, self.high = min(values) / 1.3, max(values) * 1.3
        self.start, self.end = start, end

    def at(self, value: float) -> float:
        share = (math.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return self.start + share * (self.end - self.start)


def _mark(probe: ProbeRecord, x: float, y: float, recommended: bool) -> list[str]:
    r = probe.result
    title = [
        f"{r.spec}, trial {r.repeat}",
        f"{r.rate} req/s offered: p99 {fmt.ms(r.p99_ms)} ms, {(r.error_rate or 0):.1%} errors",
        probe.why,
    ]
    out = []
    if probe.outcome == "within":
        out.append(titled("circle", title, cls="mark", cx=x, cy=y, r=4, fill=WITHIN))
    elif probe.outcome == "beyond":
        cross = f"M{x - 4:.1f},{y - 4:.1f}l8,8M{x - 4:.1f},{y + 4:.1f}l8,-8"
        out.append(titled("path", title, cls="mark", d=cross, stroke=BEYOND, stroke_width=2))
    else:
        out.append(titled("circle", title, cls="mark", cx=x, cy=y, r=5, fill="none", stroke=BOUND))
    if recommended:
        out.append(el("circle", cx=x, cy=y, r=8, fill="none", stroke=RECOMMENDED, stroke_width=1.5))
    return out


def history_svg(result: TuneResult, slo_ms: float) -> tuple[str, int]:
    """The chart, and how many probes it draws (a probe without a p99 is drawn at the chart's top)."""
    probes = [p for c in result.capacities for p in c.probes]
    if not probes:
        return "", 0
    rates = [float(p.result.rate) for p in probes]
    latencies = [p.result.p99_ms for p in probes if p.result.p99_ms is not None and p.result.p99_ms > 0]
    keys_h = legend_height(KEYS, PAGE)
    bottom = HEIGHT - BOTTOM - keys_h
    x_axis = _LogAxis(rates, LEFT, PAGE.width - RIGHT)
    y_axis = _LogAxis([*latencies, slo_ms], bottom, TOP)
    body = []
    for tick in _ticks(x_axis.low, x_axis.high):
        x = x_axis.at(tick)
        body.append(el("line", x1=x, x2=x, y1=TOP, y2=bottom, stroke=GRID))
        body.append(el("text", fmt.rps(tick), x=x, y=bottom + 16, text_anchor="middle"))
    for tick in _ticks(y_axis.low, y_axis.high):
        y = y_axis.at(tick)
        body.append(el("line", x1=LEFT, x2=PAGE.width - RIGHT, y1=y, y2=y, stroke=GRID))
        body.append(el("text", fmt.ms(tick), x=LEFT - 6, y=y + 4, text_anchor="end"))
    guide = y_axis.at(slo_ms)
    body.append(
        el("line", x1=LEFT, x2=PAGE.width - RIGHT, y1=guide, y2=guide, stroke=GUIDE, stroke_dasharray="4 3")
    )
    body.append(
        el(
            "text",
            f"objective: p99 {fmt.ms(slo_ms)} ms",
            x=PAGE.width - RIGHT,
            y=guide - 5,
            text_anchor="end",
            fill=GUIDE,
        )
    )
    body.append(
        el(
            "text",
            "offered rate (req/s, log scale)",
            x=(LEFT + PAGE.width - RIGHT) / 2,
            y=bottom + 34,
            text_anchor="middle",
        )
    )
    body.append(el("text", "p99 (ms, log)", x=14, y=TOP + 4, text_anchor="start"))
    for probe in probes:
        p99 = probe.result.p99_ms
        y = y_axis.at(p99) if p99 is not None and p99 > 0 else TOP
        recommended = probe.result.spec == result.recommendation
        body += _mark(probe, x_axis.at(float(probe.result.rate)), y, recommended)
    body += legend(KEYS, HEIGHT - keys_h + 4, PAGE, LEFT)
    title = "Every probe of the search: the rate offered and the p99 measured"
    return document(PAGE, HEIGHT, "tune-history", title, body, len(probes), log=True), len(probes)
