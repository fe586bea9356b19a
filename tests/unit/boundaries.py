"""Inputs that put a rule's figure exactly at its threshold, and a hair to either side of it.

A threshold is read from its declaration, so its value may be any float: the figure a test builds
from it (a product, a quotient, a standard deviation) may land one rounding away from it. ``exactly``
looks among the floats nearest a first guess for the input whose figure is the threshold itself, so a
test at the boundary tells ``>`` from ``>=`` whatever the threshold's value.
"""

from __future__ import annotations

import math
from collections.abc import Callable

#: A relative step past a threshold: far above a float's rounding, far below any change of a threshold.
HAIR = 1e-6
#: How many floats either side of the guess ``exactly`` tries.
_ULPS = 256


def exactly(figure: Callable[[float], float | None], threshold: float, guess: float) -> float:
    """The input nearest ``guess`` whose ``figure`` equals ``threshold`` exactly."""
    below = above = guess
    candidates = [guess]
    for _ in range(_ULPS):
        below, above = math.nextafter(below, -math.inf), math.nextafter(above, math.inf)
        candidates += [below, above]
    for x in candidates:
        if figure(x) == threshold:
            return x
    raise AssertionError(f"no input within {_ULPS} floats of {guess!r} puts the figure at {threshold!r}")
