"""What a verb writes: its lines, the one line of an error, and its output file checked first."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from servingmatrix.errors import UserError

#: An error is one line a person reads: a longer one is cut in the middle, its start and its end kept.
MAX_ERROR_CHARS = 400


def say(line: str) -> None:
    print(line, flush=True)


def say_aside(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def one_line(message: str) -> str:
    """``message`` on one line and at most MAX_ERROR_CHARS long (the end says what is allowed)."""
    flat = " ".join(message.split())
    if len(flat) <= MAX_ERROR_CHARS:
        return flat
    half = (MAX_ERROR_CHARS - 5) // 2
    return f"{flat[:half]} ... {flat[-half:]}"


def status_for(output: Path | None) -> Callable[[str], None]:
    """Where a verb says what it did: standard error when its output goes to standard output."""
    from servingmatrix.report.output import stream_of

    return say_aside if output is not None and stream_of(output) is not None else say


def checked_output(text: str | None, *, streams: bool = True) -> Path | None:
    """An output option's path, refused in one line before anything is computed when it is not a
    regular file or a new name; None when the option was not given."""
    if text is None:
        return None
    from servingmatrix.report.output import ALLOWED, check_output_path

    if not text.strip():
        raise UserError(f"the output (-o) is empty; give {ALLOWED}")
    check_output_path(Path(text), streams=streams)
    return Path(text)
