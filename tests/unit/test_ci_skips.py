"""Under CI a skip fails the run, with its reason; elsewhere it stays a skip."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SKIPPING = """
import pytest

def test_needs_something():
    pytest.skip("dockerd is missing")

@pytest.mark.xfail(reason="known")
def test_expected_to_fail():
    assert False

def test_runs():
    assert True
"""


def _pytest(folder: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    (folder / "test_sample.py").write_text(SKIPPING)
    # The project's own tests/conftest.py is the plugin under test.
    conftest = Path(__file__).resolve().parents[1] / "conftest.py"
    (folder / "conftest.py").write_text(conftest.read_text())
    env = {"PATH": "/usr/bin:/bin", **({"CI": ci} if ci is not None else {})}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", str(folder)],
        capture_output=True,
        text=True,
        env=env,
        cwd=folder,
        timeout=120,
    )


@pytest.mark.parametrize("ci", ["true", "1"])
def test_a_skip_under_ci_fails_with_its_reason(tmp_path: Path, ci: str) -> None:
    done = _pytest(tmp_path, ci)
    assert done.returncode == 1, done.stdout
    assert "skipped under CI, where every test must run: dockerd is missing" in done.stdout
    assert "1 failed, 1 passed, 1 xfailed" in done.stdout


@pytest.mark.parametrize("ci", [None, "", "false"])
def test_a_skip_elsewhere_stays_a_skip(tmp_path: Path, ci: str | None) -> None:
    done = _pytest(tmp_path, ci)
    assert done.returncode == 0, done.stdout
    assert "1 passed, 1 skipped, 1 xfailed" in done.stdout
