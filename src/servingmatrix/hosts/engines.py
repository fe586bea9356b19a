"""Whether every engine of an inventory answers, asked before a run builds or starts anything.

A remote engine that does not answer (a host down, a firewall, a TLS file of another engine) would
otherwise fail the run minutes in, after the images are built. Every engine is pinged at once, each
within a deadline, and the first one that does not answer is refused in one line naming the host and
its URL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from servingmatrix.engine.docker import Docker
from servingmatrix.errors import EngineError, ServingMatrixError
from servingmatrix.hosts.inventory import Host, Inventory

#: How long an engine may take to answer a ping: an engine that answers at all does so within a second.
PING_TIMEOUT_S = 15.0


class Engine(Protocol):
    """What the check needs of a Docker engine: a ping that raises EngineError when it does not answer."""

    def ping(self) -> None: ...


def connect_engine(host: Host) -> Docker:
    """The Docker driver for ``host``'s engine, with its TLS files when it has them."""
    return Docker(base_url=host.docker, name=host.name, tls=host.tls)


def check_engines(
    inventory: Inventory, connect: Callable[[Host], Engine], timeout_s: float = PING_TIMEOUT_S
) -> None:
    """Ping every host's engine in parallel, each within ``timeout_s``; refuse the first that fails."""
    silent = not_answering(inventory.hosts, connect, timeout_s)
    for host in inventory.hosts:
        if host.name in silent:
            raise EngineError(
                f"{inventory.source}: host {host.name!r}: the Docker engine at {host.docker} does not "
                f"answer: {silent[host.name]}"
            )


def not_answering(
    hosts: Sequence[Host], connect: Callable[[Host], Engine], timeout_s: float = PING_TIMEOUT_S
) -> dict[str, str]:
    """Ping every host's engine in parallel, each within ``timeout_s``: why each that did not answer
    did not, by host name.

    The pings run in daemon threads: one stuck on a host that never answers is left behind when the
    deadline passes, and cannot keep the command from exiting.
    """
    failures: dict[str, str] = {}
    lock = threading.Lock()

    def ping(host: Host) -> None:
        try:
            connect(host).ping()
        except (ServingMatrixError, OSError) as exc:
            with lock:
                failures[host.name] = str(exc) or type(exc).__name__

    threads = {
        host.name: threading.Thread(target=ping, args=(host,), name=f"ping-{host.name}", daemon=True)
        for host in hosts
    }
    for thread in threads.values():
        thread.start()
    deadline = time.monotonic() + timeout_s
    for thread in threads.values():
        thread.join(max(0.0, deadline - time.monotonic()))
    silent: dict[str, str] = {}
    for host in hosts:
        # A thread still alive has not answered; one that is not wrote its failure, if any, before it ended.
        if threads[host.name].is_alive():
            silent[host.name] = f"no answer within {timeout_s:g} s"
        else:
            with lock:
                if host.name in failures:
                    silent[host.name] = failures[host.name]
    return silent
