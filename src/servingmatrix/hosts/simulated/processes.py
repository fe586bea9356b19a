"""The processes of a simulated host, found by the network namespace they run in.

Everything a simulated host runs (its containerd, its engine, their shims and every container, which
use the host's network) is in its namespace, and nothing else is: so teardown signals exactly those
processes, by id, whatever state their parents were left in.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

PROC = Path("/proc")


#: A namespace's identity: the device and inode of its nsfs file.
NamespaceId = tuple[int, int]


def namespace_id(path: Path) -> NamespaceId | None:
    """The identity of the namespace at ``path`` (a named one under /run/netns, or /proc/PID/ns/net)."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


def pids_in_namespace(namespace: NamespaceId) -> list[int]:
    """Live processes in the network namespace ``namespace`` (zombies are already gone)."""
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if namespace_id(entry / "ns" / "net") == namespace and not is_zombie(int(entry.name)):
                found.append(int(entry.name))
        except OSError:
            continue
    return sorted(found)


def is_zombie(pid: int) -> bool:
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return True
    # The state follows the command name, which is in parentheses and may itself hold any character.
    return stat[stat.rindex(")") + 2 :].startswith(("Z", "X"))


def alive(pid: int) -> bool:
    return (PROC / str(pid)).exists() and not is_zombie(pid)


def command_name(pid: int) -> str:
    try:
        return (PROC / str(pid) / "comm").read_text().strip()
    except OSError:
        return ""


def signal_pids(pids: list[int], signum: signal.Signals) -> None:
    for pid in pids:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            continue


def wait_gone(pids: list[int], timeout_s: float) -> list[int]:
    """Wait until every pid has exited, for at most ``timeout_s``; the ones still alive."""
    deadline = time.monotonic() + timeout_s
    left = [pid for pid in pids if alive(pid)]
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = [pid for pid in left if alive(pid)]
    return left


def stop(pids: list[int], grace_s: float) -> list[int]:
    """SIGTERM, up to ``grace_s`` to exit, then SIGKILL; the pids that had to be killed."""
    signal_pids(pids, signal.SIGTERM)
    stubborn = wait_gone(pids, grace_s)
    signal_pids(stubborn, signal.SIGKILL)
    wait_gone(stubborn, 5.0)
    return stubborn
