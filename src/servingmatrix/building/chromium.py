"""Headless Chromium: found (or installed by the set-up), then driven to check and photograph a report.

The test suite opens a rendered report in a real browser. It installs nothing itself: ``make test``
runs ``servingmatrix tools`` first, which installs Debian's ``chromium`` when it is missing and the
set-up runs as root with ``apt-get``, and otherwise says exactly what to install.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from servingmatrix.errors import UserError

#: Names the browser goes by; Debian's package installs ``chromium``.
BINARIES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PACKAGES = ("chromium",)
ENV_OVERRIDE = "SERVINGMATRIX_CHROMIUM"
#: The page's own script gets this much virtual time to draw every chart before the DOM is read.
VIRTUAL_TIME_MS = 20_000
TIMEOUT_S = 120


def find_chromium() -> str | None:
    """The browser to use: ``$SERVINGMATRIX_CHROMIUM``, or the first Chromium on the PATH."""
    override = os.environ.get(ENV_OVERRIDE)
    if override:
        return override if Path(override).exists() else None
    for name in BINARIES:
        path = shutil.which(name)
        if path:
            return path
    return None


def install_hint() -> str:
    return (
        f"install Debian's chromium: `sudo apt-get install --no-install-recommends {' '.join(PACKAGES)}`, "
        f"or set {ENV_OVERRIDE} to a Chromium binary"
    )


def ensure_chromium(say: Callable[[str], None]) -> str:
    """Return the browser, installing Debian's package first when we are root with apt-get."""
    found = find_chromium()
    if found:
        return found
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        raise UserError(f"chromium is missing: {install_hint()}")
    say(f"installing {' '.join(PACKAGES)} with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in ([apt, "update"], [apt, "install", "-y", "--no-install-recommends", *PACKAGES]):
        if subprocess.run(argv, env=env, check=False).returncode != 0:
            raise UserError(f"`{' '.join(argv)}` failed: {install_hint()}")
    found = find_chromium()
    if found is None:
        raise UserError(f"chromium is still missing after apt-get: {install_hint()}")
    return found


#: How every headless Chromium of the suite starts. --no-sandbox: the suite runs as root in
#: containers, where Chromium's sandbox cannot start.
HEADLESS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--no-first-run",
)


def _headless(browser: str, *args: str) -> list[str]:
    return [
        browser,
        *HEADLESS,
        f"--virtual-time-budget={VIRTUAL_TIME_MS}",
        *args,
    ]


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise UserError(f"chromium did not finish within {TIMEOUT_S} s") from None
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise UserError(f"chromium failed (exit {proc.returncode}): {last}")
    return proc


@dataclass(frozen=True)
class Loaded:
    """A page as the browser left it: its DOM after the scripts ran, and every console message."""

    dom: str
    console: tuple[str, ...]


#: Chromium's log line for a console message (any level, uncaught exceptions included).
_CONSOLE = re.compile(r":CONSOLE[^\]]*\] (?P<message>.*)$")


def load(browser: str, page: Path) -> Loaded:
    """Open ``page``, let its scripts run, and return what it became and what it logged."""
    proc = _run(_headless(browser, "--enable-logging=stderr", "--v=0", "--dump-dom", page.resolve().as_uri()))
    console = tuple(m.group("message") for line in proc.stderr.splitlines() if (m := _CONSOLE.search(line)))
    return Loaded(proc.stdout, console)


def screenshot(browser: str, page: Path, out: Path, width: int = 1400, height: int = 3000) -> None:
    """A PNG of the top of the page, for people to look at."""
    out.parent.mkdir(parents=True, exist_ok=True)
    _run(
        _headless(
            browser,
            f"--screenshot={out.resolve()}",
            f"--window-size={width},{height}",
            page.resolve().as_uri(),
        )
    )
    if not out.exists():
        raise UserError(f"chromium wrote no screenshot to {out}")
