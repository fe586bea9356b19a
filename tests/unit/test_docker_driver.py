"""The driver without an engine: its errors (one line, naming the engine), its connections (local,
TLS, ssh through the system's ssh), a command's stdin and demultiplexed output over a socket, and the
engine's stats and clock read into the project's terms. The SDK's API client is a stub here."""

from __future__ import annotations

import socket
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from docker.errors import APIError

from servingmatrix.engine.docker import (
    ContainerSpec,
    Docker,
    DockerError,
    TlsFiles,
    engine_filters,
    sdk_client,
    split_ref,
)
from servingmatrix.engine.stream import demultiplex
from servingmatrix.engine.usage import Sample

ENGINE = "docker engine 'sim1' (tcp://127.0.0.1:2375)"


class StubApi:
    """Answers as the SDK's APIClient would, from what a test gave it."""

    api_version = "1.41"

    def __init__(self, **answers: Any) -> None:
        self.answers = answers
        #: What must stay open while the engine is asked (the engine's end of an exec's socket).
        self.peer: object = None
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, method: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((method, args, kwargs))
            answer = self.answers[method]
            if isinstance(answer, BaseException):
                raise answer
            return answer(*args, **kwargs) if callable(answer) else answer

        return call


class Stubbed(Docker):
    def __init__(self, api: StubApi) -> None:
        super().__init__("tcp://127.0.0.1:2375", name="sim1")
        self.stub = api

    @property
    def api(self) -> Any:
        return self.stub


def test_an_engine_is_named_by_its_name_and_address(monkeypatch: pytest.MonkeyPatch) -> None:
    assert str(Docker("tcp://127.0.0.1:2375", name="sim1")) == ENGINE
    monkeypatch.setenv("DOCKER_HOST", "unix:///run/other.sock")
    assert str(Docker()) == "docker engine 'local' (unix:///run/other.sock)"
    monkeypatch.delenv("DOCKER_HOST")
    assert str(Docker()) == "docker engine 'local' (unix:///var/run/docker.sock)"


def test_naming_an_engine_does_not_reach_it() -> None:
    engine = Docker("ssh://bench@sim1.invalid", name="sim1")
    assert engine._client is None


def test_an_unreachable_engine_is_one_line() -> None:
    with pytest.raises(DockerError) as failed:
        Docker("unix:///nonexistent/docker.sock", name="nowhere").ping()
    message = str(failed.value)
    assert message.startswith("docker engine 'nowhere' (unix:///nonexistent/docker.sock): not reachable (")
    assert "\n" not in message


def test_ssh_runs_the_system_ssh_client() -> None:
    client = sdk_client("ssh://bench@sim1.invalid:2222", None, 10, version="1.41")
    adapter: Any = client.api.get_adapter("http+docker://ssh/v1.41/_ping")
    assert adapter.ssh_client is None, "no Python ssh connection: the ssh command is run per connection"
    assert adapter.ssh_host == "bench@sim1.invalid:2222"


def test_tls_uses_the_given_files(tmp_path: Path) -> None:
    files = TlsFiles(ca=tmp_path / "ca.pem", cert=tmp_path / "cert.pem", key=tmp_path / "key.pem")
    for path in (files.ca, files.cert, files.key):
        path.write_text("placeholder")
    client = sdk_client("tcp://127.0.0.1:2376", files, 10, version="1.41")
    assert client.api.base_url == "https://127.0.0.1:2376"
    assert client.api.cert == (str(files.cert), str(files.key)) and client.api.verify == str(files.ca)


def test_a_failed_build_is_its_last_error_line_and_its_log_is_kept(tmp_path: Path) -> None:
    events = [
        {"stream": "Step 1/2 : FROM servingmatrix/base:3.13\n"},
        {"stream": " ---> Running in 0123abcd\n"},
        {"error": "pip failed\nThe command '/bin/sh -c pip install' returned a non-zero code: 1"},
    ]
    log = tmp_path / "logs" / "x.log"
    engine = Stubbed(StubApi(build=lambda **kwargs: iter(events)))
    with pytest.raises(DockerError) as failed:
        engine.build(tmp_path, "servingmatrix/x:latest", build_args={"A": "1"}, labels={}, log=log)
    assert str(failed.value) == (
        f"{ENGINE}: building servingmatrix/x:latest failed: "
        f"The command '/bin/sh -c pip install' returned a non-zero code: 1 (full log: {log})"
    )
    assert "Step 1/2" in log.read_text() and "returned a non-zero code" in log.read_text()
    (_, _, kwargs), *_ = engine.stub.calls
    assert kwargs["forcerm"] and not kwargs["pull"] and kwargs["buildargs"] == {"A": "1"}
    assert kwargs["timeout"] == 1800


def test_an_engine_error_is_its_last_line() -> None:
    refused = APIError("500 Server Error", explanation="first\nno such image: servingmatrix/x:latest")
    with pytest.raises(DockerError) as failed:
        Stubbed(StubApi(tag=refused)).tag("servingmatrix/x:latest", "servingmatrix/x:inputs-1")
    assert str(failed.value) == (
        f"{ENGINE}: tagging servingmatrix/x:latest as servingmatrix/x:inputs-1 failed: "
        "no such image: servingmatrix/x:latest"
    )


def test_a_call_past_the_client_s_timeout_says_so() -> None:
    with pytest.raises(DockerError, match=r"reading the engine's info did not finish within 120 s$"):
        Stubbed(StubApi(info=requests.exceptions.ReadTimeout("read timed out"))).info()


def test_a_stopped_wait_is_no_exit_code() -> None:
    assert Stubbed(StubApi(wait={"StatusCode": 3})).wait_exit("c", 5) == 3
    assert Stubbed(StubApi(wait=requests.exceptions.ReadTimeout("late"))).wait_exit("c", 5) is None
    stub = StubApi(wait={"StatusCode": 0})
    Stubbed(stub).wait_exit("c", 0.01)
    assert stub.calls[0][2]["timeout"] == 1, "never a timeout of 0, which would mean none"


def test_a_container_that_cannot_start_is_removed(monkeypatch: pytest.MonkeyPatch) -> None:
    removed: list[str] = []

    class Created:
        id = "c0ffee"

        def start(self) -> None:
            raise APIError("500", explanation="cannot set cpuset: invalid argument")

    class Containers:
        def create(self, **kwargs: Any) -> Created:
            return Created()

    class Client:
        containers = Containers()

    engine = Stubbed(StubApi(remove_container=lambda name, **kwargs: removed.append(name)))
    engine._client = Client()  # type: ignore[assignment]
    with pytest.raises(DockerError, match=r"starting c failed: cannot set cpuset: invalid argument$"):
        engine.run_detached(ContainerSpec(name="c", image="i"))
    assert removed == ["c0ffee"]


def frame(kind: int, data: bytes) -> bytes:
    return bytes([kind, 0, 0, 0]) + len(data).to_bytes(4, "big") + data


def test_frames_are_split_into_stdout_and_stderr() -> None:
    stream = frame(1, b"out1 ") + frame(2, b"err") + frame(1, b"out2") + frame(1, b"")
    assert demultiplex(stream) == (b"out1 out2", b"err")
    assert demultiplex(stream + b"\x01\x00") == (b"out1 out2", b"err"), "a cut header is dropped"


def exec_engine(answer: Any, code: int = 0) -> tuple[Stubbed, list[bytes]]:
    """A stub engine whose exec plays ``answer(received stdin) -> bytes`` on a real socket pair."""
    ours, theirs = socket.socketpair()
    received: list[bytes] = []

    def play() -> None:
        data = bytearray()
        while chunk := theirs.recv(65536):
            data.extend(chunk)
        received.append(bytes(data))
        reply = answer(bytes(data))
        if reply is not None:
            theirs.sendall(reply)
            theirs.close()

    threading.Thread(target=play, daemon=True).start()
    api = StubApi(
        exec_create={"Id": "e1"},
        exec_start=lambda *args, **kwargs: ours,
        exec_inspect={"Running": False, "ExitCode": code},
    )
    api.peer = theirs  # the engine's end stays open as long as the engine is asked
    return Stubbed(api), received


def test_stdin_is_written_then_closed_and_the_output_read_back() -> None:
    seed = b"INSERT INTO note VALUES (1);\n" * 10_000
    engine, received = exec_engine(
        lambda data: frame(1, f"{len(data)} bytes\n".encode()) + frame(2, b"NOTICE"), 3
    )
    code, output = engine.exec_input("pg", ["psql", "--file=-"], seed, timeout=10)
    assert received == [seed]
    assert (code, output) == (3, f"{len(seed)} bytes\nNOTICE")
    (method, args, kwargs), *_ = engine.stub.calls
    assert method == "exec_create" and args == ("pg", ["psql", "--file=-"]) and kwargs["stdin"] is True


def test_a_command_past_its_deadline_is_an_error() -> None:
    engine, _ = exec_engine(lambda data: None)  # reads stdin, then never answers
    with pytest.raises(DockerError, match=r"running sleep in c did not finish within 0.2 s$"):
        engine.exec_run("c", ["sleep", "9"], stdin=b"", timeout=0.2)


def test_a_command_the_engine_refuses_is_exit_code_1() -> None:
    refused = APIError("409", explanation="Container c is not running")
    engine = Stubbed(StubApi(exec_create=refused))
    assert engine.exec_ok("c", ["true"]) is False
    assert engine.exec_output("c", ["true"]) is None
    assert engine.exec_input("c", ["psql"], b"") == (1, "Container c is not running")


STATS_V1: dict[str, Any] = {
    "read": "2026-11-21T10:00:00.5Z",
    "cpu_stats": {
        "cpu_usage": {"total_usage": 2_500_000_000, "percpu_usage": [2_500_000_000]},
        "throttling_data": {"periods": 40, "throttled_periods": 12, "throttled_time": 600_000_000},
    },
    "memory_stats": {"usage": 50 * 2**20, "stats": {"total_inactive_file": 10 * 2**20, "inactive_file": 10}},
}


def test_stats_are_read_once_as_a_sample() -> None:
    stub = StubApi(stats=STATS_V1)
    sample = Stubbed(stub).container_stats("c")
    assert sample is not None and sample == Sample(sample.t, 2_500_000_000, 600_000_000, 12, 40 * 2**20)
    assert stub.calls[0][2] == {"stream": False, "one_shot": True}


def test_an_engine_before_one_shot_stats_is_asked_without_it() -> None:
    stub = StubApi(stats=STATS_V1)
    stub.api_version = "1.40"
    Stubbed(stub).container_stats("c")
    assert stub.calls[0][2] == {"stream": False, "one_shot": None}


def test_a_stopped_container_has_no_stats() -> None:
    empty = {"read": "0001-01-01T00:00:00Z", "cpu_stats": {"cpu_usage": {}}, "memory_stats": {}}
    assert Stubbed(StubApi(stats=empty)).container_stats("c") is None


def test_the_engine_s_clock_keeps_its_nanoseconds() -> None:
    engine = Stubbed(StubApi(info={"SystemTime": "2026-11-21T11:00:00.123456789+01:00"}))
    whole = datetime.fromisoformat("2026-11-21T10:00:00+00:00").timestamp()
    assert engine.system_time() - whole == pytest.approx(0.123456789, abs=1e-6)
    with pytest.raises(DockerError, match=r"reading the engine's clock failed: SystemTime is ''"):
        Stubbed(StubApi(info={})).system_time()


@pytest.mark.parametrize(
    ("ref", "split"),
    [
        ("servingmatrix/base:3.13", ("servingmatrix/base", "3.13")),
        ("servingmatrix/base", ("servingmatrix/base", "latest")),
        ("registry:5000/servingmatrix/base", ("registry:5000/servingmatrix/base", "latest")),
        ("registry:5000/servingmatrix/base:x", ("registry:5000/servingmatrix/base", "x")),
    ],
)
def test_a_reference_splits_into_repository_and_tag(ref: str, split: tuple[str, str]) -> None:
    assert split_ref(ref) == split


def test_listings_filter_by_every_label_given() -> None:
    assert engine_filters({"a": "1", "b": None}, None) == {"label": ["a=1", "b"]}
    assert engine_filters({}, "smtest") == {"name": ["smtest"]}
    assert engine_filters(None, None) == {}


def test_the_project_s_images_are_listed_by_reference_and_removed_by_force() -> None:
    images = [
        {"RepoTags": ["servingmatrix/wrk:latest", "servingmatrix/wrk:inputs-1"]},
        {"RepoTags": ["<none>:<none>"]},
        {"RepoTags": None},
        {"RepoTags": ["servingmatrix/base:3.13", "python:3.13-slim"]},
    ]
    engine = Stubbed(StubApi(images=images, remove_image=None, prune_images={}))
    refs = engine.image_refs("servingmatrix/*")
    # The base image is a retag of python's: only the project's tag of it is the project's.
    assert refs == ["servingmatrix/base:3.13", "servingmatrix/wrk:inputs-1", "servingmatrix/wrk:latest"]
    engine.remove_image("servingmatrix/wrk:latest", force=True)
    engine.prune_dangling_images()
    listed, removed, pruned = engine.stub.calls
    assert listed == ("images", (), {"filters": {"reference": "servingmatrix/*"}})
    assert removed == ("remove_image", ("servingmatrix/wrk:latest",), {"force": True})
    assert pruned == ("prune_images", (), {"filters": {"dangling": True}})
