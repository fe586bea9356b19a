"""Flags that describe the run rather than a figure: when every figure carries one, it is said once."""

from __future__ import annotations

from servingmatrix.analysis.points import Results
from servingmatrix.flags import ONCE_PER_RUN


def run_wide_codes(results: Results) -> frozenset[str]:
    """The flags said once for the run that every measured figure of ``results`` carries (a figure
    that alone carries one shows it beside itself)."""
    ok = [p for p in results.points.values() if p.ok]
    if not ok:
        return frozenset()
    return frozenset(code for code in ONCE_PER_RUN if all(code in p.codes for p in ok))


def run_wide_message(results: Results, code: str) -> str:
    """The flag's sentence, the same on every figure."""
    for point in results.points.values():
        for flag in point.flags:
            if flag.code == code:
                return flag.message
    return ""
