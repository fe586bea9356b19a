"""How a server's client connections are spread over its processes, read as the window runs.

Each process of the server's container holds its connections as file descriptors on sockets
(``/proc/PID/fd`` links ``socket:[INODE]``); the kernel's socket table (``/proc/PID/net/tcp`` and
``tcp6``, of that process's network namespace) gives each socket's local port and state. A process's
connections are its sockets ESTABLISHED on the server's port. A server with several worker processes
whose connections all landed on one of them serves like one worker; a client that opens its
connections at once (wrk) and one that opens them one by one (Locust) may land them differently.

Read on this machine only, from ``/proc`` (root, or the containers' own user); another host's engine
gives none, and the figure is then unknown.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

#: The kernel's state code of an established TCP connection (``include/net/tcp_states.h``).
ESTABLISHED = 0x01
PROC = Path("/proc")


def parse_tcp_table(text: str) -> dict[int, tuple[int, int]]:
    """A ``/proc/net/tcp`` or ``tcp6`` table as {inode: (local port, state)}; malformed lines skipped."""
    out: dict[int, tuple[int, int]] = {}
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10:
            continue
        try:
            port = int(fields[1].rsplit(":", 1)[1], 16)
            state = int(fields[3], 16)
            inode = int(fields[9])
        except (IndexError, ValueError):
            continue
        if inode:
            out[inode] = (port, state)
    return out


def socket_inodes(fd_dir: Path) -> list[int]:
    """The inodes of the sockets a process holds (its ``fd`` folder); empty when it has gone."""
    inodes: list[int] = []
    try:
        links = list(fd_dir.iterdir())
    except OSError:
        return inodes
    for link in links:
        try:
            target = str(link.readlink())
        except OSError:
            continue
        if target.startswith("socket:[") and target.endswith("]"):
            inodes.append(int(target[8:-1]))
    return inodes


def established_per_process(pids: Iterable[int], port: int, proc: Path = PROC) -> dict[int, int]:
    """Each process's connections established on ``port``; the table is read from the first process's
    network namespace (every process of a container shares it)."""
    pids = list(pids)
    table: dict[int, tuple[int, int]] = {}
    for pid in pids:
        for name in ("tcp", "tcp6"):
            try:
                table.update(parse_tcp_table((proc / str(pid) / "net" / name).read_text()))
            except OSError:
                continue
        if table:
            break
    return {
        pid: sum(
            1 for inode in socket_inodes(proc / str(pid) / "fd") if table.get(inode) == (port, ESTABLISHED)
        )
        for pid in pids
    }


@dataclass(frozen=True)
class ConnectionCounter:
    """Counts the connections on ``port`` of every process listed in a container's ``cgroup.procs``."""

    procs_file: Path
    port: int
    proc: Path = PROC

    def read(self) -> dict[int, int] | None:
        """{pid: connections} now; None when the container's processes cannot be listed."""
        try:
            pids = [int(raw) for raw in self.procs_file.read_text().split()]
        except (OSError, ValueError):
            return None
        return established_per_process(pids, self.port, self.proc)


def url_port(url: str) -> int:
    """The port of a server's URL (80 when it names none)."""
    return urlsplit(url).port or 80


def spread_over_window(
    history: Sequence[tuple[float, dict[int, int]]], start: float, end: float
) -> tuple[int, ...] | None:
    """Each process's connections over [start, end] (the median of its readings there, rounded down),
    most first, every process of the container included (a master holding only the listening socket
    reads 0); None when no reading fell in the window."""
    inside = [counts for t, counts in history if start <= t <= end]
    if not inside:
        return None
    pids = {pid for counts in inside for pid in counts}
    medians = [statistics.median_low([counts.get(pid, 0) for counts in inside]) for pid in pids]
    return tuple(sorted(medians, reverse=True))
