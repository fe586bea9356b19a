"""Flag labels beside chart points kept apart: a label that would overlap one placed before it goes
up a line until it does not (two modes flagged at one step, or runs hours apart on a time axis,
would otherwise print their letters over each other)."""

from __future__ import annotations

#: A flag label's line height and the width of one of its letters, in the chart's units: bold 11-unit
#: text as Chromium boxes it (``getBoundingClientRect``: 16 high with its ascent and descent, up to
#: 11 wide a letter).
LABEL_HEIGHT, LETTER_WIDTH = 16.0, 11.0

#: The labels placed so far: (x, baseline y, width) each.
Boxes = list[tuple[float, float, float]]


def label_width(text: str) -> float:
    return LETTER_WIDTH * len(text)


def place_label(x: float, y: float, text: str, placed: Boxes) -> float:
    """The baseline ``text`` goes on at ``x``: ``y``, or as many lines above it as it takes to overlap
    no label in ``placed``; the label is added to ``placed``."""
    width = label_width(text)
    while any(x < bx + bw and bx < x + width and abs(y - by) < LABEL_HEIGHT for bx, by, bw in placed):
        y -= LABEL_HEIGHT
    placed.append((x, y, width))
    return y
