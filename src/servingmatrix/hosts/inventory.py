"""The host inventory: the Docker engines of a multi-host run, what each one does and which cores it has.

An inventory is a YAML file (``--hosts FILE``, or a matrix's ``hosts`` key). Every host names its
engine (a local socket, ``tcp://`` with TLS, or ``ssh://``), the address the other hosts reach it at,
its cores and its roles: the server under test, the backing services, the load generator. With
``simulated: true`` the engines run in network namespaces of this one kernel, so their cores are this
machine's and must exist here.

Everything is checked before anything starts, and a bad entry is refused in one line naming the file,
the host and what is allowed: a run that learns of a typo after its images are built has lost minutes.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

# The driver's own TLS files, so a host's reach its engine as they are (resolved against the
# inventory's folder); from their own module, so reading an inventory does not import the Docker SDK.
from servingmatrix.engine.tls import TlsFiles as TlsFiles
from servingmatrix.errors import UserError
from servingmatrix.inputs import input_files
from servingmatrix.inputs.yaml_files import read_yaml
from servingmatrix.spec import SHOWN_CHARS, shown

#: What a host may do; every role must be on at least one host.
ROLES = ("server", "backing", "loadgen")
#: The engines a host may name: a local socket, a TCP engine, an engine reached over SSH.
SCHEMES = ("unix", "tcp", "ssh")
#: The port a Docker engine listens on with TLS: a URL naming it without a ``tls`` block is a mistake.
TLS_PORT = 2376
#: The keys of the file, of a host and of its ``tls`` block, in the order the messages list them.
TOP_KEYS = ("simulated", "hosts")
HOST_KEYS = ("name", "docker", "address", "cores", "cpuset", "roles", "tls")
REQUIRED_HOST_KEYS = ("name", "docker", "address", "cores", "roles")
TLS_KEYS = ("ca", "cert", "key")
#: More cores than any machine a run is planned on has: a larger number is a typo.
MAX_CORES = 1024
#: A DNS label: the name becomes part of container, network and namespace names.
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_HOSTNAME_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_CORE_RANGE = re.compile(r"(?P<first>[0-9]{1,6})(?:-(?P<last>[0-9]{1,6}))?")


@dataclass(frozen=True)
class Host:
    """One Docker engine of a run, as the inventory gives it."""

    name: str
    #: The engine's URL: ``unix:///path``, ``tcp://HOST:PORT`` or ``ssh://[user@]host[:port]``.
    docker: str
    #: The address the other hosts reach this one at.
    address: str
    #: The core ids this host's containers may use (``cores`` of them; by default 0..cores-1).
    cpuset: tuple[int, ...]
    roles: tuple[str, ...]
    tls: TlsFiles | None = None

    @property
    def cores(self) -> int:
        return len(self.cpuset)

    def has(self, role: str) -> bool:
        return role in self.roles

    def as_dict(self) -> dict[str, Any]:
        """The host as an inventory file writes it (the TLS files as absolute paths)."""
        entry: dict[str, Any] = {
            "name": self.name,
            "docker": self.docker,
            "address": self.address,
            "cores": self.cores,
            "cpuset": _cpuset_text(self.cpuset),
            "roles": list(self.roles),
        }
        if self.tls is not None:
            entry["tls"] = {"ca": str(self.tls.ca), "cert": str(self.tls.cert), "key": str(self.tls.key)}
        return entry


@dataclass(frozen=True)
class Inventory:
    """The hosts of a run, in the order the file lists them."""

    hosts: tuple[Host, ...]
    #: The engines are network namespaces of this one kernel, whose cores they share.
    simulated: bool = False
    #: The file it was read from, for the messages (not part of what the inventory is).
    source: Path = field(default=Path("hosts.yml"), compare=False)

    def with_role(self, role: str) -> tuple[Host, ...]:
        return tuple(host for host in self.hosts if host.has(role))

    def as_dict(self) -> dict[str, Any]:
        """The inventory as a file writes it: ``load_inventory`` reads it back to an equal one."""
        return {"simulated": self.simulated, "hosts": [host.as_dict() for host in self.hosts]}


def machine_cores() -> int:
    """The cores of this machine: a simulated host's cpuset must name cores that exist here."""
    return os.cpu_count() or 1


def load_inventory(path: Path, cores_here: int | None = None) -> Inventory:
    """Read and check the inventory ``path``; ``cores_here`` is this machine's core count (for tests)."""
    data = read_yaml(path, input_files.INVENTORY)
    where = str(path)
    if not isinstance(data, dict):
        raise UserError(f"{where}: expected a mapping with {_listed(TOP_KEYS)}")
    _refuse_unknown(where, data, TOP_KEYS)
    simulated = data.get("simulated", False)
    if not isinstance(simulated, bool):
        raise UserError(
            f"{where}: simulated: {_shown_value(simulated)} is not a boolean (allowed: true, false)"
        )
    entries = data.get("hosts")
    if entries is None or entries == []:
        raise UserError(
            f"{where}: no hosts; list at least one under 'hosts' (each with {_listed(HOST_KEYS)})"
        )
    if not isinstance(entries, list):
        raise UserError(f"{where}: hosts: expected a list of hosts, got {_shown_value(entries)}")
    reader = _HostReader(path, simulated, cores_here if cores_here is not None else machine_cores())
    hosts: list[Host] = []
    for index, entry in enumerate(entries):
        host = reader.read(index, entry)
        if any(other.name == host.name for other in hosts):
            raise UserError(f"{where}: host {host.name!r} is listed twice; give each host its own name")
        hosts.append(host)
    for role in ROLES:
        if not any(host.has(role) for host in hosts):
            raise UserError(
                f"{where}: no host has the role {role!r}; each of {_listed(ROLES)} must be on at least "
                "one host"
            )
    return Inventory(hosts=tuple(hosts), simulated=simulated, source=path)


class _HostReader:
    """Checks one host entry after another, each refusal naming the file and the host."""

    def __init__(self, path: Path, simulated: bool, cores_here: int) -> None:
        self.path = path
        self.simulated = simulated
        self.cores_here = cores_here

    def read(self, index: int, entry: object) -> Host:
        where = f"{self.path}: hosts[{index}]"
        if not isinstance(entry, dict):
            raise UserError(f"{where}: expected a mapping with {_listed(REQUIRED_HOST_KEYS)}")
        name = entry.get("name")
        # A host named as allowed is named by its name from here on, the first refusal included.
        named = isinstance(name, str) and _NAME.fullmatch(name) is not None
        _refuse_unknown(f"{self.path}: host {name!r}" if named else where, entry, HOST_KEYS)
        if name is None:
            raise UserError(f"{where}: missing key 'name' (a host needs {_listed(REQUIRED_HOST_KEYS)})")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise UserError(
                f"{where}: name {_shown_value(name)} is not a host name (allowed: lower-case letters, "
                "digits and '-', starting with a letter or digit, at most 63 characters)"
            )
        where = f"{self.path}: host {name!r}"
        for key in REQUIRED_HOST_KEYS:
            if key not in entry:
                raise UserError(f"{where}: missing key {key!r} (a host needs {_listed(REQUIRED_HOST_KEYS)})")
        docker = _docker_url(where, entry["docker"])
        # The URL as written: urllib's geturl() would write unix:///path back as unix:/path.
        written = str(entry["docker"]).strip()
        tls = self._tls(where, docker, written, entry.get("tls"))
        cores = _cores(where, entry["cores"])
        return Host(
            name=name,
            docker=written,
            address=_address(where, entry["address"]),
            cpuset=self._cpuset(where, cores, entry.get("cpuset")),
            roles=_roles(where, entry["roles"]),
            tls=tls,
        )

    def _tls(self, where: str, docker: SplitResult, written: str, block: object) -> TlsFiles | None:
        if block is None:
            if docker.scheme == "tcp" and docker.port == TLS_PORT:
                raise UserError(
                    f"{where}: docker {shown(written)} is the TLS port {TLS_PORT} but no tls is given; "
                    f"add tls: {{{', '.join(f'{k}: FILE' for k in TLS_KEYS)}}}"
                )
            return None
        if docker.scheme != "tcp":
            raise UserError(
                f"{where}: tls is given for docker {shown(written)}; TLS files are for a tcp:// engine "
                "only (a unix:// socket needs none, ssh:// uses SSH's keys)"
            )
        if not isinstance(block, dict):
            raise UserError(f"{where}: tls: expected a mapping of {_listed(TLS_KEYS)}")
        _refuse_unknown(f"{where}: tls", block, TLS_KEYS)
        files: dict[str, Path] = {}
        for key in TLS_KEYS:
            value = block.get(key)
            if not isinstance(value, str) or not value.strip():
                raise UserError(f"{where}: tls: {key} must be a file (allowed keys: {_listed(TLS_KEYS)})")
            file = self.path.parent / value.strip()
            if not file.is_file():
                raise UserError(f"{where}: tls: {key} file {file} does not exist")
            files[key] = file
        return TlsFiles(ca=files["ca"], cert=files["cert"], key=files["key"])

    def _cpuset(self, where: str, cores: int, value: object) -> tuple[int, ...]:
        cpuset = tuple(range(cores)) if value is None else _cpuset_ids(where, value)
        if len(cpuset) != cores:
            raise UserError(
                f"{where}: cpuset {_cpuset_text(cpuset)!r} names {len(cpuset)} core(s) but cores is {cores}; "
                "give as many core ids as cores"
            )
        if self.simulated:
            missing = [core for core in cpuset if core >= self.cores_here]
            if missing:
                given = "cpuset" if value is not None else f"cores {cores} (cpuset 0..{cores - 1})"
                raise UserError(
                    f"{where}: {given} names core {missing[0]}, which this machine does not have; a "
                    f"simulated host uses this machine's cores (allowed: 0..{self.cores_here - 1})"
                )
        return cpuset


def _refuse_unknown(where: str, data: Mapping[Any, Any], allowed: tuple[str, ...]) -> None:
    """Refuse the first key not in ``allowed``, suggesting the nearest one (a typo is the likely cause)."""
    for key in data:
        if key not in allowed:
            near = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"did you mean {near[0]!r}? " if near else ""
            raise UserError(f"{where}: unknown key {_shown_value(key)} ({hint}allowed: {_listed(allowed)})")


def _docker_url(where: str, value: object) -> SplitResult:
    """The engine's URL: ``unix:///path``, ``tcp://HOST:PORT`` or ``ssh://[user@]host[:port]``."""
    allowed = "unix:///PATH, tcp://HOST:PORT or ssh://[USER@]HOST"
    if not isinstance(value, str) or not value.strip():
        raise UserError(f"{where}: docker {_shown_value(value)} is not an engine URL (allowed: {allowed})")
    text = value.strip()
    if not (text.isascii() and text.isprintable()):
        # A NUL or a control character would reach the SDK, and a terminal, as it is.
        raise UserError(
            f"{where}: docker {shown(text)} holds a character other than printable ASCII (allowed: {allowed})"
        )
    try:
        url = urlsplit(text)
        port = url.port
    except ValueError:
        raise UserError(f"{where}: docker {shown(text)} is not an engine URL (allowed: {allowed})") from None
    if url.scheme not in SCHEMES:
        scheme = f"the scheme {url.scheme!r}" if url.scheme else "no scheme"
        raise UserError(f"{where}: docker {shown(text)} has {scheme} (allowed: {allowed})")
    if url.query or url.fragment:
        raise UserError(f"{where}: docker {shown(text)} has a query or fragment (allowed: {allowed})")
    if url.scheme == "unix":
        if url.netloc or not url.path.startswith("/") or len(url.path) < 2:
            raise UserError(f"{where}: docker {shown(text)} names no socket path (allowed: unix:///PATH)")
        return url
    if not url.hostname or url.path not in ("", "/"):
        raise UserError(f"{where}: docker {shown(text)} names no host (allowed: {allowed})")
    if url.scheme == "tcp" and port is None:
        raise UserError(f"{where}: docker {shown(text)} names no port (allowed: tcp://HOST:PORT)")
    if url.scheme == "tcp" and url.username is not None:
        raise UserError(
            f"{where}: docker {shown(text)} names a user; tcp:// takes none (allowed: tcp://HOST:PORT)"
        )
    return url


def _address(where: str, value: object) -> str:
    """An IP address or a host name the other hosts can reach."""
    text = value.strip() if isinstance(value, str) else ""
    if text:
        try:
            return str(ipaddress.ip_address(text))
        except ValueError:
            labels = text.removesuffix(".").split(".")
            # A name's last label is never all digits (RFC 1123): 999.1.1.1 is a bad address, not a name.
            numeric = labels[-1].isascii() and labels[-1].isdigit()
            if len(text) <= 253 and not numeric and all(_HOSTNAME_LABEL.fullmatch(label) for label in labels):
                return text
    raise UserError(
        f"{where}: address {_shown_value(value)} is not an address (allowed: an IP address or a host name "
        "the other hosts reach it at)"
    )


def _cores(where: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UserError(f"{where}: cores {_shown_value(value)} is not an integer (allowed: 1..{MAX_CORES})")
    if not 1 <= value <= MAX_CORES:
        raise UserError(f"{where}: cores {value} is out of range (allowed: 1..{MAX_CORES})")
    return value


def _cpuset_ids(where: str, value: object) -> tuple[int, ...]:
    """Core ids as Docker's ``--cpuset-cpus`` takes them: ``0,1``, ``2-5``, ``0,4-7``, or one number."""
    allowed = 'core ids and ranges, e.g. "0,1" or "2-5"'
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise UserError(f"{where}: cpuset {_shown_value(value)} is not a set of cores (allowed: {allowed})")
    ids: list[int] = []
    for part in value.split(","):
        match = _CORE_RANGE.fullmatch(part.strip())
        if match is None:
            raise UserError(f"{where}: cpuset {shown(value)} is not a set of cores (allowed: {allowed})")
        first = int(match.group("first"))
        last = int(match.group("last") or first)
        if last < first:
            raise UserError(f"{where}: cpuset {shown(value)}: the range {part.strip()} runs backwards")
        if last >= MAX_CORES:
            raise UserError(f"{where}: cpuset {shown(value)} names core {last} (allowed: 0..{MAX_CORES - 1})")
        for core in range(first, last + 1):
            if core in ids:
                raise UserError(f"{where}: cpuset {shown(value)} names core {core} twice")
            ids.append(core)
    return tuple(sorted(ids))


def _roles(where: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise UserError(
            f"{where}: roles {_shown_value(value)} is not a list of roles (allowed: {_listed(ROLES)})"
        )
    roles: list[str] = []
    for role in value:
        if role not in ROLES:
            raise UserError(f"{where}: unknown role {_shown_value(role)} (allowed: {_listed(ROLES)})")
        if role in roles:
            raise UserError(f"{where}: roles lists {role!r} twice")
        roles.append(role)
    return tuple(sorted(roles, key=ROLES.index))


def _cpuset_text(cores: tuple[int, ...]) -> str:
    return ",".join(str(core) for core in cores)


def _listed(names: tuple[str, ...]) -> str:
    return ", ".join(names)


def _shown_value(value: object) -> str:
    """A value from the file as a message repeats it: a string quoted and cut short, else its repr."""
    if isinstance(value, str):
        return shown(value)
    text = "none" if value is None else repr(value)
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "..."
