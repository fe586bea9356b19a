"""The engine's timestamps (RFC 3339 with up to nine fractional digits) as epoch seconds.

``datetime`` keeps microseconds only, so the fraction is added apart from it: nothing of the engine's
nanoseconds is cut before the float holds them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$")


def engine_seconds(text: str) -> float | None:
    """Epoch seconds of an engine timestamp; None for the zero time (``0001-01-01...``: never) or text
    that is no timestamp."""
    found = _STAMP.match(text.strip())
    if found is None or text.startswith("0001-"):
        return None
    head, fraction, zone = found.groups()
    moment = datetime.fromisoformat(head).replace(tzinfo=UTC)
    if zone != "Z":
        moment = datetime.fromisoformat(head + zone)
    return moment.timestamp() + int((fraction or "0").ljust(9, "0")) / 1e9
