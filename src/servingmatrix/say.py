"""How the harness says what it is doing: one line at a time, to whoever started it."""

from __future__ import annotations

from collections.abc import Callable

#: Takes one line of progress or a warning (the command line prints it; tests collect it).
Say = Callable[[str], None]
