"""The driver of one Docker engine, over the Docker SDK for Python: every call the harness makes to
Docker goes here.

One SDK client per engine, local (the environment's ``DOCKER_HOST`` or the local socket) or remote
(``tcp://`` with or without TLS, ``ssh://`` through the system's ssh), made on first use so that
naming an engine costs nothing until it is spoken to. Every call has a deadline: the client's timeout
bounds each wait on the engine, and the long calls (build, import, save, load, wait) have explicit
ones. Every failure is one line, a ``DockerError`` naming the engine. Containers are described by a
typed ``ContainerSpec``, never by command-line flags. Tests substitute a fake with the same methods.
"""

from __future__ import annotations

import fnmatch
import json
import math
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import docker
import requests
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from docker.tls import TLSConfig
from docker.utils import version_lt

from servingmatrix.engine import interrupts
from servingmatrix.engine.archive import extract_stream
from servingmatrix.engine.clock import engine_seconds
from servingmatrix.engine.container_spec import ContainerSpec as ContainerSpec
from servingmatrix.engine.container_spec import run_kwargs
from servingmatrix.engine.stream import Deadline, close_write, demultiplex, raw_socket, read_to_end
from servingmatrix.engine.tls import TlsFiles as TlsFiles
from servingmatrix.engine.usage import Sample, sample_from_stats
from servingmatrix.errors import EngineError

#: Every object the project creates carries this label, so `clean` removes exactly those.
PROJECT_LABEL = "io.servingmatrix.project"
#: Where the SDK finds the local engine when neither a URL nor DOCKER_HOST names one.
LOCAL_SOCKET = "unix:///var/run/docker.sock"
BUILD_TIMEOUT_S = 1800.0
IMPORT_TIMEOUT_S = 900.0
#: Saving an image from one engine and loading it into another: the images are a few hundred MB.
SHIP_TIMEOUT_S = 900.0
#: The first engine API with one-shot stats (one reading, without waiting for a second).
ONE_SHOT_API = "1.41"
#: Bytes of an image or an archive read from the engine at a time.
CHUNK_BYTES = 1 << 20

T = TypeVar("T")


class DockerError(EngineError):
    """A call to a Docker engine failed; the message names the engine and the engine's last line."""


@dataclass(frozen=True)
class ContainerListing:
    """One container as the engine lists it."""

    id: str
    name: str
    labels: Mapping[str, str]


@dataclass(frozen=True)
class ExecResult:
    """A command run in a container: its exit code, and what it wrote to stdout and to stderr."""

    exit_code: int
    stdout: str
    stderr: str


class Docker:
    """One Docker engine; never waits without a timeout."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        name: str = "local",
        tls: TlsFiles | None = None,
        timeout_s: float = 120.0,
    ) -> None:
        self.base_url = base_url
        self.name = name
        self.tls = tls
        self.timeout_s = timeout_s
        self._client: docker.DockerClient | None = None
        self._connecting = threading.Lock()

    # -- the connection ---------------------------------------------------------------------------

    @property
    def address(self) -> str:
        """Where the engine is: the URL given, else DOCKER_HOST, else the local socket."""
        return self.base_url or os.environ.get("DOCKER_HOST") or LOCAL_SOCKET

    def __str__(self) -> str:
        return f"docker engine {self.name!r} ({self.address})"

    @property
    def client(self) -> docker.DockerClient:
        """The SDK client of this engine, made (and the engine's API version agreed) on first use."""
        with self._connecting:
            if self._client is None:
                self._client = self._connect()
            return self._client

    @property
    def api(self) -> docker.APIClient:
        return self.client.api

    def _connect(self) -> docker.DockerClient:
        try:
            return sdk_client(self.base_url, self.tls, self.timeout_s)
        except DockerException as exc:
            raise DockerError(f"{self}: not reachable ({_last_line(_reason(exc))})") from None

    def _call(self, what: str, call: Callable[[], T]) -> T:
        """``call`` against the engine; any failure of it is one line saying ``what`` failed."""
        try:
            return call()
        except DockerError:
            raise
        except requests.exceptions.Timeout:
            raise DockerError(f"{self}: {what} did not finish within {self.timeout_s:g} s") from None
        except (DockerException, requests.exceptions.RequestException, OSError) as exc:
            raise self.failed(what, exc) from None

    def failed(self, what: str, reason: BaseException | str) -> DockerError:
        """The one-line error of ``what`` failing on this engine, with the reason's last line."""
        text = reason if isinstance(reason, str) else _reason(reason)
        return DockerError(f"{self}: {what} failed: {_last_line(text)}")

    def _overran(self, what: str, seconds: float) -> DockerError:
        return DockerError(f"{self}: {what} did not finish within {seconds:g} s")

    # -- the engine -------------------------------------------------------------------------------

    def ping(self) -> None:
        """Fail with one line when the engine cannot be reached."""
        try:
            self.api.ping()
        except DockerError:
            raise
        except (DockerException, requests.exceptions.RequestException, OSError) as exc:
            raise DockerError(f"{self}: not reachable ({_last_line(_reason(exc))})") from None

    def server_version(self) -> str:
        return str(self._call("reading the version", lambda: self.api.version())["Version"])

    def info(self) -> dict[str, Any]:
        return self._call("reading the engine's info", self.api.info)

    def architecture(self) -> str:
        return str(self.info()["Architecture"])

    def system_time(self) -> float:
        """The engine's clock now, as epoch seconds (its nanoseconds kept): what a remote machine's
        timestamps are to be set against."""
        text = str(self.info().get("SystemTime") or "")
        seconds = engine_seconds(text)
        if seconds is None:
            raise self.failed("reading the engine's clock", f"SystemTime is {text!r}, not a timestamp")
        return seconds

    # -- images -----------------------------------------------------------------------------------

    def image_inspect(self, ref: str) -> dict[str, Any] | None:
        """The engine's record of the image ``ref``; None when there is no such image."""
        try:
            info: dict[str, Any] = self.api.inspect_image(ref)  # type: ignore[no-untyped-call]
        except NotFound:
            return None
        except (DockerException, requests.exceptions.RequestException, OSError) as exc:
            raise self.failed(f"inspecting {ref}", exc) from None
        return info

    def image_labels(self, ref: str) -> dict[str, str]:
        info = self.image_inspect(ref)
        if info is None:
            return {}
        return dict((info.get("Config") or {}).get("Labels") or {})

    def pull(self, ref: str, timeout: float) -> tuple[bool, str]:
        """Try to pull; report success and, on failure, the engine's reason in one line."""
        repository, tag = split_ref(ref)
        deadline = Deadline(timeout)
        last = ""
        try:
            for event in self.api.pull(repository, tag=tag, stream=True, decode=True):
                if "error" in event:
                    return False, _last_line(str(event["error"]))
                last = str(event.get("status") or last)
                if deadline.passed():
                    return False, str(self._overran(f"pulling {ref}", timeout))
        except (DockerException, requests.exceptions.RequestException, OSError) as exc:
            return False, str(self.failed(f"pulling {ref}", exc))
        return True, _last_line(last)

    def tag(self, source: str, target: str) -> None:
        repository, tag = split_ref(target)
        self._call(f"tagging {source} as {target}", lambda: self.api.tag(source, repository, tag))

    def list_image_refs(self, repository: str) -> list[str]:
        """Every ``repository:tag`` of the images of ``repository``."""
        images = self._call(f"listing the images of {repository}", lambda: self.api.images(name=repository))
        return [
            ref for image in images for ref in image.get("RepoTags") or [] if ref.startswith(f"{repository}:")
        ]

    def image_refs(self, pattern: str) -> list[str]:
        """Every ``repository:tag`` whose reference matches ``pattern`` (``servingmatrix/*``)."""
        images = self._call(
            f"listing the images {pattern}", lambda: self.api.images(filters={"reference": pattern})
        )
        # Filtered here too: an engine may answer with every tag of an image one of whose tags matches.
        tags = {ref for image in images for ref in image.get("RepoTags") or []}
        return sorted(ref for ref in tags if fnmatch.fnmatchcase(ref.rsplit(":", 1)[0], pattern))

    def remove_image(self, ref: str, *, force: bool = False) -> None:
        """Remove the tag ``ref`` (and the image, when nothing else tags it; ``force``: also when a
        stopped container uses it)."""
        self._call(f"removing {ref}", lambda: self.api.remove_image(ref, force=force))

    def prune_dangling_images(self) -> None:
        """Remove the layers no tag names any more (``docker image prune``)."""
        self._call(
            "pruning dangling images",
            lambda: self.api.prune_images(filters={"dangling": True}),  # type: ignore[no-untyped-call]
        )

    def import_tarball(self, tarball: Path, ref: str, changes: Sequence[str]) -> None:
        """``docker import``: a root filesystem tarball as the image ``ref``, with Dockerfile ``changes``."""
        repository, tag = split_ref(ref)
        params: dict[str, Any] = {"fromSrc": "-", "repo": repository, "tag": tag, "changes": list(changes)}
        deadline = Deadline(IMPORT_TIMEOUT_S)
        what = f"importing {tarball.name} as {ref}"

        def upload() -> Iterator[bytes]:
            with tarball.open("rb") as handle:
                while chunk := handle.read(CHUNK_BYTES):
                    if deadline.passed():
                        raise self._overran(what, IMPORT_TIMEOUT_S)
                    yield chunk

        self._stream_in(what, "/images/create", params, upload(), deadline)

    def build(
        self,
        context: Path,
        ref: str,
        *,
        build_args: Mapping[str, str],
        labels: Mapping[str, str],
        timeout: float = BUILD_TIMEOUT_S,
        log: Path | None = None,
    ) -> None:
        """Build ``context`` into ``ref`` (the legacy builder); its output streams to ``log``, and a
        failure is the builder's last error line."""
        what = f"building {ref}"
        where = f" (full log: {log})" if log is not None else ""
        deadline = Deadline(timeout)
        if log is not None:
            log.parent.mkdir(parents=True, exist_ok=True)
        with open(log if log is not None else os.devnull, "w", encoding="utf-8") as out:
            try:
                # forcerm: the legacy builder otherwise leaves a failed step's container behind.
                events = self.api.build(
                    path=str(context),
                    tag=ref,
                    pull=False,
                    rm=True,
                    forcerm=True,
                    buildargs=dict(build_args),
                    labels=dict(labels),
                    decode=True,
                    timeout=_whole(timeout),
                )
                for event in events:
                    if "stream" in event:
                        out.write(str(event["stream"]))
                    elif "status" in event:
                        out.write(f"{event['status']}\n")
                    if "error" in event:
                        out.write(f"{event['error']}\n")
                        raise self.failed(what, f"{event['error']}{where}")
                    if deadline.passed():
                        raise DockerError(f"{self._overran(what, timeout)}{where}")
            except requests.exceptions.Timeout:
                raise DockerError(f"{self._overran(what, timeout)}{where}") from None
            except (DockerException, requests.exceptions.RequestException, OSError) as exc:
                raise self.failed(what, f"{_last_line(_reason(exc))}{where}") from None

    def save_image(self, ref: str, timeout: float = SHIP_TIMEOUT_S) -> Iterator[bytes]:
        """``docker save``: the image ``ref`` as a tar stream, chunk by chunk, within ``timeout``."""
        what = f"saving {ref}"
        deadline = Deadline(timeout)
        chunks = self._call(what, lambda: self.api.get_image(ref, chunk_size=CHUNK_BYTES))
        try:
            for chunk in chunks:
                if deadline.passed():
                    raise self._overran(what, timeout)
                yield chunk
        except requests.exceptions.Timeout:
            raise self._overran(what, timeout) from None
        except (DockerException, requests.exceptions.RequestException, OSError) as exc:
            raise self.failed(what, exc) from None

    def load_image(self, chunks: Iterable[bytes], timeout: float = SHIP_TIMEOUT_S) -> None:
        """``docker load``: the images in the tar stream ``chunks``, within ``timeout``."""
        deadline = Deadline(timeout)
        what = "loading an image"

        def upload() -> Iterator[bytes]:
            for chunk in chunks:
                if deadline.passed():
                    raise self._overran(what, timeout)
                yield chunk

        self._stream_in(what, "/images/load", {"quiet": "1"}, upload(), deadline)

    def ship_image(self, ref: str, to: Docker, timeout: float = SHIP_TIMEOUT_S) -> None:
        """Copy the image ``ref`` from this engine into ``to``, streamed: saved here, loaded there."""
        try:
            to.load_image(self.save_image(ref, timeout), timeout)
        except DockerError as exc:
            raise DockerError(f"shipping {ref} from {self.name!r} to {to.name!r}: {exc}") from None

    def _stream_in(
        self, what: str, path: str, params: Mapping[str, Any], body: Iterator[bytes], deadline: Deadline
    ) -> None:
        """POST the chunked ``body`` to the engine's ``path`` and read its progress to the end; an
        error in it (the engine reports some in the stream, after an answer of 200) is the failure."""
        api = self.api
        url = f"{api.base_url}/v{api.api_version}{path}"
        headers = {"Content-Type": "application/x-tar", "Transfer-Encoding": "chunked"}
        try:
            response = api.post(
                url, params=dict(params), data=body, headers=headers, stream=True, timeout=deadline.seconds
            )
            with response:
                if response.status_code >= 400:
                    raise self.failed(what, _answer_reason(response))
                for line in response.iter_lines():
                    if deadline.passed():
                        raise self._overran(what, deadline.seconds)
                    if b'"error"' in line:
                        raise self.failed(what, _event_error(line))
        except DockerError:
            raise
        except requests.exceptions.Timeout:
            raise self._overran(what, deadline.seconds) from None
        except (DockerException, requests.exceptions.RequestException, OSError) as exc:
            raise self.failed(what, exc) from None

    # -- containers -------------------------------------------------------------------------------

    def run_detached(self, spec: ContainerSpec) -> str:
        """Create and start the container ``spec``; its id. One that cannot start is removed again."""
        what = f"starting {spec.name}"
        # Not begun once a stop is asked for; a stop asked for meanwhile waits for the engine's answer,
        # so the container exists (to be removed by name) or does not, never appearing after teardown.
        with interrupts.starting():
            try:
                container = self.client.containers.create(**run_kwargs(spec))
            except ImageNotFound:
                raise self.failed(what, f"no image {spec.image} on this engine") from None
            except (DockerException, requests.exceptions.RequestException, OSError) as exc:
                raise self.failed(what, exc) from None
            try:
                self._call(what, container.start)
            except DockerError:
                self.remove_containers([container.id or spec.name])
                raise
            return str(container.id)

    def run_once(self, spec: ContainerSpec, timeout: float = 60.0) -> tuple[int, str]:
        """Run ``spec`` to its end, then remove it: its exit code and its output (stdout and stderr).
        One still running at ``timeout`` is removed and is an error."""
        started = self.run_detached(spec)
        try:
            code = self.wait_exit(started, timeout)
            if code is None:
                raise self._overran(f"running {spec.name}", timeout)
            return code, self.logs(started, tail=None)
        finally:
            self.remove_containers([started])

    def container_inspect(self, name: str) -> dict[str, Any] | None:
        try:
            info: dict[str, Any] = self.api.inspect_container(name)
        except NotFound:
            return None
        except (DockerException, requests.exceptions.RequestException, OSError) as exc:
            raise self.failed(f"inspecting {name}", exc) from None
        return info

    def wait_exit(self, name: str, timeout_s: float) -> int | None:
        """Block until the container ``name`` stops (one call to the engine, no polling); its exit code,
        or None when it still runs at the deadline or is gone."""
        try:
            answer = self.api.wait(name, timeout=_whole(max(0.1, timeout_s)))
        except (DockerException, requests.exceptions.RequestException, OSError):
            return None
        code = answer.get("StatusCode")
        return code if isinstance(code, int) else None

    def pause(self, name: str) -> None:
        self._call(f"pausing {name}", lambda: self.api.pause(name))

    def kill(self, name: str) -> None:
        self._call(f"killing {name}", lambda: self.api.kill(name))

    def logs(self, name: str, tail: int | None = 20) -> str:
        """The last ``tail`` lines (None: all) a container wrote, stdout and stderr; empty when it is gone."""
        try:
            raw = self.api.logs(name, stdout=True, stderr=True, tail="all" if tail is None else tail)
        except NotFound:
            return ""
        except (DockerException, requests.exceptions.RequestException, OSError) as exc:
            raise self.failed(f"reading the logs of {name}", exc) from None
        return bytes(raw).decode(errors="replace").strip()

    def remove_containers(self, names: Sequence[str]) -> None:
        """Force-remove containers (and their anonymous volumes); missing ones are fine."""
        for name in names:
            try:
                self.api.remove_container(name, v=True, force=True)
            except NotFound:
                continue
            except APIError as exc:
                # Already being removed (by the engine's own --rm, or another caller): as good as gone.
                if exc.status_code == 409 and "already in progress" in str(exc.explanation):
                    continue
                raise self.failed(f"removing {name}", exc) from None
            except (DockerException, requests.exceptions.RequestException, OSError) as exc:
                raise self.failed(f"removing {name}", exc) from None

    def container_listing(self, label_filters: Mapping[str, str | None]) -> list[ContainerListing]:
        """Every container, running or not, that carries ``label_filters`` (a
        label's value, or None for any value)."""
        found = self._call(
            "listing containers",
            lambda: self.api.containers(all=True, filters={"label": label_terms(label_filters)}),
        )
        return [
            ContainerListing(
                str(c["Id"]), str((c.get("Names") or ["/"])[0]).lstrip("/"), dict(c.get("Labels") or {})
            )
            for c in found
        ]

    def list_containers(self, label_filters: Mapping[str, str | None]) -> list[str]:
        """Ids of every container, running or not, that carries ``label_filters``."""
        return [listed.id for listed in self.container_listing(label_filters)]

    def container_stats(self, name: str) -> Sample | None:
        """One reading of a container's CPU time, throttling and memory from the engine's stats API;
        None when it is not running. ``t`` is the host's clock halfway through the call."""
        api = self.api
        one_shot = None if version_lt(api.api_version, ONE_SHOT_API) else True
        before = time.time()
        try:
            stats = api.stats(name, stream=False, one_shot=one_shot)
        except NotFound:
            return None
        except (DockerException, requests.exceptions.RequestException, OSError) as exc:
            raise self.failed(f"reading the stats of {name}", exc) from None
        return sample_from_stats(stats, (before + time.time()) / 2)

    def copy_out(self, name: str, path_in_container: str, dest_dir: Path) -> list[Path]:
        """``docker cp``: ``path_in_container`` (a file or a folder) into ``dest_dir``; the paths written.
        Nothing is written outside ``dest_dir``, whatever the archive holds. The engine copies from the
        container's root and its volumes, not from a tmpfs: files to be copied out go to a volume."""
        what = f"copying {path_in_container} out of {name}"
        chunks, _ = self._call(
            what, lambda: self.api.get_archive(name, path_in_container, chunk_size=CHUNK_BYTES)
        )
        try:
            return extract_stream(chunks, dest_dir)
        except requests.exceptions.Timeout:
            raise self._overran(what, self.timeout_s) from None
        except (DockerException, requests.exceptions.RequestException) as exc:
            raise self.failed(what, exc) from None

    # -- commands in running containers -----------------------------------------------------------

    def exec_run(self, name: str, argv: Sequence[str], *, stdin: bytes | None, timeout: float) -> ExecResult:
        """Run ``argv`` in the running container ``name`` (with ``stdin`` written to it, then closed);
        its exit code and output. The engine refusing it (no such container, not running) is exit
        code 1 with the engine's reason as stderr, as ``docker exec`` has it."""
        what = f"running {argv[0] if argv else '(nothing)'} in {name}"
        deadline = Deadline(timeout)
        api = self.api
        try:
            exec_id = api.exec_create(name, list(argv), stdin=stdin is not None, stdout=True, stderr=True)[
                "Id"
            ]
            stream = api.exec_start(exec_id, detach=False, tty=False, stream=False, socket=True)
        except APIError as exc:
            return ExecResult(1, "", _reason(exc))
        except requests.exceptions.Timeout:
            raise self._overran(what, timeout) from None
        except (DockerException, requests.exceptions.RequestException, OSError) as exc:
            raise self.failed(what, exc) from None
        try:
            raw = raw_socket(stream)
        except OSError as exc:
            stream.close()
            raise self.failed(what, exc) from None
        try:
            if stdin is not None:
                raw.settimeout(max(0.001, deadline.remaining()))
                raw.sendall(stdin)
                close_write(raw)
            received = read_to_end(raw, deadline)
        except TimeoutError:
            raise self._overran(what, timeout) from None
        except OSError as exc:
            raise self.failed(what, exc) from None
        finally:
            stream.close()
            if isinstance(stream, socket.SocketIO):
                # The connection was handed over to this exec: it is closed, never pooled again.
                raw.close()
        out, err = demultiplex(received)
        return ExecResult(
            self._exit_code(exec_id, deadline, what),
            out.decode(errors="replace"),
            err.decode(errors="replace"),
        )

    def _exit_code(self, exec_id: str, deadline: Deadline, what: str) -> int:
        """The exit code of a finished exec; the engine may record it a moment after its output ends."""
        while True:
            state = self._call(what, lambda: self.api.exec_inspect(exec_id))
            if not state.get("Running") and isinstance(state.get("ExitCode"), int):
                return int(state["ExitCode"])
            if deadline.passed():
                raise self._overran(what, deadline.seconds)
            time.sleep(0.01)

    def exec_ok(self, name: str, argv: Sequence[str], timeout: float = 10.0) -> bool:
        """Run ``argv`` in the running container ``name``; whether it exited 0."""
        return self.exec_run(name, argv, stdin=None, timeout=timeout).exit_code == 0

    def exec_output(self, name: str, argv: Sequence[str], timeout: float = 10.0) -> str | None:
        """Run ``argv`` in the running container ``name``; its output, or None when it failed."""
        result = self.exec_run(name, argv, stdin=None, timeout=timeout)
        return result.stdout if result.exit_code == 0 else None

    def exec_input(
        self, name: str, argv: Sequence[str], stdin: bytes, timeout: float = 120.0
    ) -> tuple[int, str]:
        """Run ``argv`` in the running container ``name`` with ``stdin``; its exit code and its output."""
        result = self.exec_run(name, argv, stdin=stdin, timeout=timeout)
        return result.exit_code, result.stdout + result.stderr

    # -- networks and volumes ---------------------------------------------------------------------

    def create_network(self, name: str, labels: Mapping[str, str]) -> str:
        answer = self._call(
            f"creating network {name}", lambda: self.api.create_network(name, labels=dict(labels))
        )
        return str(answer["Id"])

    def list_networks(
        self, label_filters: Mapping[str, str | None] | None = None, *, name: str | None = None
    ) -> list[str]:
        """Ids of the networks that carry ``label_filters`` and, given ``name``, whose name contains it."""
        filters = engine_filters(label_filters, name)
        found = self._call("listing networks", lambda: self.api.networks(filters=filters))
        return [str(n["Id"]) for n in found]

    def remove_networks(self, ids: Sequence[str]) -> None:
        for network in ids:
            try:
                self.api.remove_network(network)
            except NotFound:
                continue
            except (DockerException, requests.exceptions.RequestException, OSError) as exc:
                raise self.failed(f"removing network {network}", exc) from None

    def create_volume(self, name: str, labels: Mapping[str, str]) -> str:
        answer = self._call(
            f"creating volume {name}", lambda: self.api.create_volume(name, labels=dict(labels))
        )
        return str(answer["Name"])

    def list_volumes(
        self, label_filters: Mapping[str, str | None] | None = None, *, name: str | None = None
    ) -> list[str]:
        """Names of the volumes that carry ``label_filters`` and, given ``name``, whose name contains it."""
        filters = engine_filters(label_filters, name)
        found = self._call("listing volumes", lambda: self.api.volumes(filters=filters))
        return [str(v["Name"]) for v in found.get("Volumes") or []]

    def remove_volumes(self, names: Sequence[str]) -> None:
        for volume in names:
            try:
                self.api.remove_volume(volume, force=True)
            except NotFound:
                continue
            except (DockerException, requests.exceptions.RequestException, OSError) as exc:
                raise self.failed(f"removing volume {volume}", exc) from None


def sdk_client(
    base_url: str | None, tls: TlsFiles | None, timeout_s: float, version: str = "auto"
) -> docker.DockerClient:
    """The SDK's client of one engine: the environment's (``docker.from_env``) when ``base_url`` is None.
    With ``version`` "auto" the engine is asked for its API version, so it is reached at once; ssh runs
    the system's ssh client (its configuration, keys and agent), not a Python ssh implementation."""
    timeout = _whole(timeout_s)
    if base_url is None:
        return docker.from_env(version=version, timeout=timeout, use_ssh_client=True)
    return docker.DockerClient(
        base_url=base_url,
        version=version,
        timeout=timeout,
        tls=tls_config(tls) if tls is not None else False,
        use_ssh_client=True,
    )


def tls_config(files: TlsFiles) -> TLSConfig:
    """The SDK's TLS settings for ``files``: the engine's certificate checked against the CA."""
    return TLSConfig(client_cert=(str(files.cert), str(files.key)), ca_cert=str(files.ca), verify=True)


def label_terms(label_filters: Mapping[str, str | None]) -> list[str]:
    """The engine's ``label`` filter terms: ``key=value``, or ``key`` for any value."""
    return [key if value is None else f"{key}={value}" for key, value in label_filters.items()]


def engine_filters(label_filters: Mapping[str, str | None] | None, name: str | None) -> dict[str, list[str]]:
    """A listing's filters: the labels (all of them), and a part of the name when one is given."""
    filters: dict[str, list[str]] = {}
    if label_filters:
        filters["label"] = label_terms(label_filters)
    if name is not None:
        filters["name"] = [name]
    return filters


def split_ref(ref: str) -> tuple[str, str]:
    """``repository:tag`` split in two (``latest`` when no tag is given); a registry's port is no tag."""
    repository, sep, tag = ref.rpartition(":")
    if not sep or "/" in tag:
        return ref, "latest"
    return repository, tag


def _whole(seconds: float) -> int:
    """A timeout in whole seconds, as the SDK takes it: rounded up, never 0 (which would mean none)."""
    return max(1, math.ceil(seconds))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, APIError):
        return str(exc.explanation or exc)
    return str(exc) or exc.__class__.__name__


def _answer_reason(response: requests.Response) -> str:
    try:
        return str(response.json().get("message") or response.text)
    except ValueError:
        return response.text or f"HTTP {response.status_code}"


def _event_error(line: bytes) -> str:
    try:
        event = json.loads(line)
    except ValueError:
        return line.decode(errors="replace")
    return str(event.get("error") or event)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"
