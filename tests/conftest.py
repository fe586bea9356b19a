"""Under CI a skipped test is a failed one: a missing prerequisite (root, dockerd, Chromium, simulated
hosts already up) must not let `make test` pass having proved less than it says."""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest

#: The values of ``CI`` that mean a CI run (CI services set ``CI=true``; some set ``1``).
CI_VALUES = frozenset({"true", "1", "yes"})


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in CI_VALUES


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if not (report.skipped and in_ci()) or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    reason = reason.removeprefix("Skipped: ")
    report.outcome = "failed"
    report.longrepr = f"skipped under CI, where every test must run: {reason}"
