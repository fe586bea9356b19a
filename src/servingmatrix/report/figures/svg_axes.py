"""The axes of the report's charts: round ticks, the steps on a log axis (they grow geometrically),
the values on a log or linear axis, and a panel's pair of them, with on the page the linear twin of
a log value axis that the page's toggle swaps in."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from servingmatrix.report.figures.svg import number


def _nice_step(span: float) -> float:
    """A round tick step giving about five ticks over ``span`` (1 for a span that is not a positive
    finite number, or too small to tick)."""
    raw = span / 5
    if not math.isfinite(raw) or raw < 1e-300:
        return 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 2.5, 5.0):
        if raw <= factor * power:
            return factor * power
    return 10.0 * power


def ticks(low: float, high: float, log: bool) -> list[float]:
    """Powers of ten on a log axis; round steps from at most ``low`` to at least ``high`` otherwise."""
    if not (math.isfinite(low) and math.isfinite(high)):
        # The readers refuse such figures; an axis drawn anyway holds its default span.
        low, high = (1.0, 10.0) if log else (0.0, 1.0)
    if log:
        first, last = math.floor(_log10(low)), math.ceil(_log10(high))
        return [10.0**e for e in range(first, max(last, first + 1) + 1)]
    step = _nice_step(high - low if high > low else 1.0)
    return [i * step for i in range(math.floor(low / step), math.ceil(high / step) + 1)]


#: The smallest value a log axis places: anything at or below it (a 0 the readers would have refused)
#: sits at the axis's start instead of raising a math domain error.
_LOG_FLOOR = 1e-12


def _log10(value: float) -> float:
    return math.log10(max(value, _LOG_FLOOR))


def tick_label(value: float) -> str:
    if value and abs(value) < 1e-9:
        value = 0.0
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:g}"


@dataclass(frozen=True)
class StepAxis:
    """The steps (users or offered rates) on a log axis between ``left`` and ``right``: they grow
    geometrically, so equal ratios are equal distances."""

    low: float
    high: float
    left: float
    right: float

    def __call__(self, x: float) -> float:
        low, high = _log10(self.low), _log10(self.high)
        if not high > low:
            return (self.left + self.right) / 2
        share = min(1.0, max(0.0, (_log10(x) - low) / (high - low)))
        return self.left + share * (self.right - self.left)


@dataclass(frozen=True)
class ValueAxis:
    """Values between ``top`` and ``bottom`` pixels; a position off the axis is held at its edge."""

    ticks: tuple[float, ...]
    log: bool
    top: float
    bottom: float
    low: float
    high: float

    @classmethod
    def fit(
        cls,
        values: Sequence[float],
        log: bool,
        top: float,
        bottom: float,
        span: tuple[float, float] | None = None,
    ) -> ValueAxis:
        """An axis holding every value (from zero on a linear axis), or exactly ``span`` when given."""
        if span is not None:
            inside = tuple(t for t in ticks(span[0], span[1], False) if span[0] <= t <= span[1])
            return cls(inside, False, top, bottom, span[0], span[1])
        values = [v for v in values if math.isfinite(v)]
        if log:
            positive = [v for v in values if v > 0] or [1.0]
            found = tuple(ticks(min(positive), max(positive), True))
        else:
            high = max([*values, 0.0])
            found = tuple(ticks(min([*values, 0.0]), high if high > 0 else 1.0, False))
        return cls(found, log, top, bottom, found[0], found[-1])

    def shows(self, value: float | None) -> bool:
        return value is not None and (value > 0 or not self.log)

    def __call__(self, value: float) -> float:
        if self.log:
            low, high, at = _log10(self.low), _log10(self.high), _log10(value)
        else:
            low, high, at = self.low, self.high, value
        share = min(1.0, max(0.0, (at - low) / ((high - low) or 1.0)))
        return self.bottom - share * (self.bottom - self.top)


@dataclass(frozen=True)
class Scales:
    """A panel's axes; on the page a log value axis also carries its linear twin, which the page's
    toggle swaps in (every position it moves holds the other in ``data-swap``)."""

    x: StepAxis
    y: ValueAxis
    twin: ValueAxis | None = None

    def ys(self, offset: float = 0.0, **place: float | Callable[[ValueAxis], str]) -> dict[str, str]:
        """Attributes on the value axis: a value (placed, ``offset`` pixels down) or a path drawn on
        an axis; on the page, their places on the twin in ``data-swap``."""

        def on(axis: ValueAxis, given: float | Callable[[ValueAxis], str]) -> str:
            return given(axis) if callable(given) else number(axis(given) + offset)

        out = {name: on(self.y, given) for name, given in place.items()}
        if self.twin is not None:
            twin = self.twin
            out["data_swap"] = ";".join(f"{name}={on(twin, given)}" for name, given in place.items())
        return out

    def swapped(self, on_twin: bool) -> dict[str, str]:
        """Shown on one axis only: ``display`` and the value the toggle swaps it for."""
        if self.twin is None:
            return {}
        shown, hidden = ("none", "inline") if on_twin else ("inline", "none")
        return {"display": shown, "data_swap": f"display={hidden}"}
