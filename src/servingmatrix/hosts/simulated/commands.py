"""The commands and configuration files that make the simulated hosts: pure, so they can be read.

``ip -n NAME`` works inside a namespace where ``ip netns exec`` does not (it needs the devices cgroup
mounted); long-running daemons are entered with ``nsenter --net``, which only switches the network
namespace and then executes the daemon itself, so the process started is the daemon.
"""

from __future__ import annotations

import json

from servingmatrix.hosts.simulated.plan import (
    BRIDGE,
    MAIN_ADDRESS,
    MAIN_LINK,
    MAIN_PORT,
    PREFIX_LENGTH,
    SWITCH_NETNS,
    SimulatedHost,
)

Argv = list[str]


def switch_commands() -> list[Argv]:
    """The switch: a bridge in a namespace of its own, and the main host's link to it."""
    return [
        ["ip", "netns", "add", SWITCH_NETNS],
        ["ip", "-n", SWITCH_NETNS, "link", "add", BRIDGE, "type", "bridge"],
        ["ip", "-n", SWITCH_NETNS, "link", "set", BRIDGE, "up"],
        ["ip", "link", "add", MAIN_LINK, "type", "veth", "peer", "name", MAIN_PORT, "netns", SWITCH_NETNS],
        ["ip", "addr", "add", f"{MAIN_ADDRESS}/{PREFIX_LENGTH}", "dev", MAIN_LINK],
        ["ip", "link", "set", MAIN_LINK, "up"],
        ["ip", "-n", SWITCH_NETNS, "link", "set", MAIN_PORT, "master", BRIDGE, "up"],
    ]


def host_network_commands(host: SimulatedHost) -> list[Argv]:
    """A host's namespace, plugged into the switch: ``eth0`` with its address, and loopback up.

    No default route: the namespace reaches the switch's subnet and nothing beyond it."""
    inside = ["ip", "-n", host.netns]
    return [
        ["ip", "netns", "add", host.netns],
        [
            *["ip", "-n", SWITCH_NETNS, "link", "add", host.switch_port, "type", "veth"],
            *["peer", "name", "eth0", "netns", host.netns],
        ],
        ["ip", "-n", SWITCH_NETNS, "link", "set", host.switch_port, "master", BRIDGE, "up"],
        [*inside, "link", "set", "lo", "up"],
        [*inside, "addr", "add", f"{host.address}/{PREFIX_LENGTH}", "dev", "eth0"],
        [*inside, "link", "set", "eth0", "up"],
    ]


def containerd_toml(host: SimulatedHost) -> str:
    """A containerd of the host's own: started inside its namespace, so every shim and container it
    starts is there too (a shared containerd would start host-network containers in the main one)."""
    opt = host.containerd_root / "opt"
    return (
        "# A simulated host's containerd (servingmatrix hosts up): every path its own.\n"
        "version = 2\n"
        f'root = "{host.containerd_root}"\n'
        f'state = "{host.containerd_state}"\n'
        'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
        "\n[grpc]\n"
        f'  address = "{host.containerd_socket}"\n'
        '\n[plugins."io.containerd.internal.v1.opt"]\n'
        f'  path = "{opt}"\n'
    )


def daemon_json() -> str:
    """The engine's own configuration file: without one, dockerd reads the main engine's
    /etc/docker/daemon.json, whose data root and storage driver clash with the flags given here."""
    settings = {"log-driver": "json-file", "log-opts": {"max-size": "10m", "max-file": "3"}}
    return json.dumps(settings, indent=2) + "\n"


def nsenter(host: SimulatedHost, argv: Argv) -> Argv:
    return ["nsenter", f"--net={host.netns_path}", *argv]


def containerd_argv(host: SimulatedHost) -> Argv:
    return nsenter(host, ["containerd", "--config", str(host.containerd_config)])


def dockerd_argv(host: SimulatedHost) -> Argv:
    """The engine: its own roots and sockets, listening at its address, and no bridge or firewall
    rules of its own (containers use ``--network host``).

    No storage driver is named: the engine probes for the best its data root supports, as any engine
    does. Where that is overlay2, an image loads in half the time vfs takes and a container starts in
    well under a second, where vfs copies the whole image for each container; vfs is its last resort."""
    return nsenter(
        host,
        [
            *["dockerd", "--config-file", str(host.daemon_config)],
            *["--containerd", str(host.containerd_socket)],
            *["--data-root", str(host.data_root), "--exec-root", str(host.exec_root)],
            *["--pidfile", str(host.pidfile)],
            *["-H", host.socket_url, "-H", host.docker_url, "--tls=false"],
            *["--bridge", "none", "--iptables=false", "--ip-masq=false"],
        ],
    )
