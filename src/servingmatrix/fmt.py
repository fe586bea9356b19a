"""Numbers as the report prints them: the same figure reads the same in HTML, Markdown and the terminal."""

from __future__ import annotations

from typing import Protocol

DASH = "—"


class Change(Protocol):
    """A relative change and half its 95% interval (``analysis.stats.Change``)."""

    @property
    def relative(self) -> float: ...
    @property
    def uncertainty(self) -> float | None: ...


class Estimate(Protocol):
    """A figure over trials (``analysis.stats.Estimate``): as much of it as a spread is written with."""

    @property
    def n(self) -> int: ...
    @property
    def low(self) -> float: ...
    @property
    def high(self) -> float: ...
    @property
    def cv(self) -> float | None: ...
    @property
    def ci_low(self) -> float | None: ...
    @property
    def ci_high(self) -> float | None: ...


def num(value: float | None, digits: int = 0) -> str:
    return DASH if value is None else f"{value:,.{digits}f}"


def rps(value: float | None) -> str:
    """Requests per second: whole numbers, except below 10 where a decimal matters."""
    if value is None:
        return DASH
    return f"{value:,.1f}" if abs(value) < 10 else f"{value:,.0f}"


def ms(value: float | None) -> str:
    """Milliseconds with three significant figures or so: 0.84, 12.3, 456, 1,234."""
    if value is None:
        return DASH
    if value < 10:
        return f"{value:.2f}"
    if value < 100:
        return f"{value:.1f}"
    return f"{value:,.0f}"


def pct(fraction: float | None, digits: int = 0) -> str:
    return DASH if fraction is None else f"{100 * fraction:.{digits}f}%"


def share(fraction: float) -> str:
    """A fraction set by a person (a threshold) as they wrote it: 0.05 -> "5%", 0.005 -> "0.5%"."""
    return f"{100 * fraction:.4g}%"


def signed_pct(fraction: float | None) -> str:
    return DASH if fraction is None else f"{100 * fraction:+.1f}%"


def change(value: Change | None) -> str:
    """``+4.2% ± 3.1%``, or the change alone when its uncertainty is unknown."""
    if value is None:
        return DASH
    if value.uncertainty is None:
        return signed_pct(value.relative)
    return f"{signed_pct(value.relative)} ± {100 * value.uncertainty:.1f}%"


def spread(est: Estimate | None, unit: str = "req/s") -> str:
    """How the trials spread: "3 trials, 950 to 1,010 req/s, CV 4%; 95% interval of the median 950
    to 1,010", or that there was one."""
    if est is None:
        return DASH
    if est.n == 1:
        return "single trial, no estimate of variance"
    text = f"{est.n} trials, {rps(est.low)} to {rps(est.high)} {unit}, CV {pct(est.cv)}"
    if est.ci_low is not None and est.ci_high is not None:
        text += f"; 95% interval of the median {rps(est.ci_low)} to {rps(est.ci_high)}"
    return text


def mb(value: float | None) -> str:
    return DASH if value is None else f"{value:,.0f} MB" if value >= 10 else f"{value:.1f} MB"


def memory_bytes(value: int) -> str:
    """A memory limit in bytes as one writes it: 2147483648 -> "2 GiB", 536870912 -> "512 MiB"."""
    if value >= 2**30 and value % 2**30 == 0:
        return f"{value // 2**30} GiB"
    if value >= 2**30:
        return f"{value / 2**30:.1f} GiB"
    return f"{value / 2**20:,.0f} MiB"


def memory_limit(text: str) -> str:
    """A memory limit as a matrix writes it, in the units the rest of the report uses: "2g" -> "2 GiB",
    "512m" -> "512 MiB"; anything else as written."""
    units = {"g": "GiB", "m": "MiB"}
    number, unit = text[:-1], text[-1:].lower()
    return f"{number} {units[unit]}" if unit in units and number.isdigit() else text
