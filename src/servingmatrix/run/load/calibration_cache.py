"""A calibration kept for the next run on the same machine, images and CPU plan.

The load generator's calibrated most depends on the machine (CPU model, cores, kernel, engine), on the
images of the generator and of its target, on the cores and quota the plan gives them, and on the
calibration's own settings. A run whose all of these match a calibration made less than
``MAX_AGE_S`` ago, on a machine that was not busy, reuses it and says so (``reused_from`` in run.json,
and the run's own line); ``--recalibrate`` measures again.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

#: A calibration older than this is measured again: a day bounds drift the key cannot see
#: (firmware, thermal state, other tenants of a virtual machine).
MAX_AGE_S = 24 * 3600.0
#: The metadata a calibration depends on, beside the images and the plan.
MACHINE_KEYS = ("cpu_model", "cpu_count", "kernel", "docker_version", "cgroup_version", "storage_driver")
#: The images a calibration runs: the generator and its target.
IMAGES = ("locust", "upstream")


def calibration_key(metadata: dict[str, Any], plan: dict[str, Any], settings: dict[str, Any]) -> str | None:
    """What a calibration depends on, hashed; None when an image's id is unknown (nothing to match)."""
    images = metadata.get("images") or {}
    ids = {name: (images.get(name) or {}).get("id") for name in IMAGES}
    if not all(ids.values()):
        return None
    facts = {
        "machine": {key: metadata.get(key) for key in MACHINE_KEYS},
        "images": ids,
        "plan": {role: plan.get(role) for role in ("server", "loadgen", "loadgen_processes")},
        "settings": settings,
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()


class CalibrationCache:
    """Calibrations by key, one JSON file each, under the project's cache folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def load(self, key: str, now: datetime | None = None) -> dict[str, Any] | None:
        """The calibration stored under ``key`` if it is recent and sound; else None."""
        try:
            stored = json.loads((self.root / f"{key}.json").read_text())
            measured_at = datetime.fromisoformat(stored["measured_at"])
            result = stored["result"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        age = (now or datetime.now(UTC)) - measured_at
        if not isinstance(result, dict) or "error" in result or not timedelta(0) <= age <= _max_age():
            return None
        return {**result, "reused_from": stored["measured_at"]}

    def save(self, key: str, result: dict[str, Any], now: datetime | None = None) -> None:
        """Keep ``result`` under ``key``; a failed calibration is never kept, nor a reused one again (it
        ages from when it was measured)."""
        if "error" in result or "reused_from" in result:
            return
        stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds")
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".{key}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps({"measured_at": stamp, "result": result}, indent=1))
        tmp.replace(self.root / f"{key}.json")


def _max_age() -> timedelta:
    return timedelta(seconds=MAX_AGE_S)
