"""The reference generator: wrk, a native client, driving the same server Locust just drove.

It runs in its own container (``servingmatrix/wrk``) on the host's network, on the Locust container's
cores and quota, with as many connections as the step had users, so its throughput says how much of
the server Locust reached. Each measurement is two wrk runs in one container: a short warm-up whose
figures are thrown away (wrk's statistics cover its whole run and cannot be cut afterwards, so the
warm-up is its own run), then the measured window, whose Lua ``done()`` writes the JSON read here.
A reference that fails is a ``missing`` reason, never an exception: the Locust figures stand
without it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from servingmatrix.engine.docker import ContainerSpec, DockerError
from servingmatrix.run.load.loadgen import REQUEST_TIMEOUT_S
from servingmatrix.run.load.wrk_lua import CONTAINER_DIR, OUTPUT_ENV, RESULT_NAME, SCRIPT_NAME, write_script
from servingmatrix.run.stack.stack import Placement, Stack, container_labels
from servingmatrix.workloads import WorkloadConfig

WRK_IMAGE = "servingmatrix/wrk:latest"
#: The discarded warm-up run: new connections, the server's pools filled, before the window opens.
REFERENCE_WARMUP_S = 1.0
#: The exit code of a reference container whose warm-up run failed (wrk's own are 0 and 1).
WARMUP_FAILED = 97
#: Beyond its own duration, how long a wrk container may take to start and stop before it is stopped.
REFERENCE_GRACE_S = 20.0
ROLE = "reference"
LATENCY_KEYS = ("p50", "p90", "p99", "p999", "mean", "max")
ERROR_KINDS = ("connect", "read", "write", "status", "timeout")


@dataclass(frozen=True)
class ReferenceResult:
    """One reference measurement, or why there is none (``missing``)."""

    connections: int
    generator: str = "wrk"
    duration_s: float | None = None
    requests: int | None = None
    #: Every error wrk counted; ``status`` ones (answers above 399) are also in ``requests``.
    errors: int | None = None
    error_kinds: Mapping[str, int] = field(default_factory=dict)
    #: Answered requests per second less the failed answers, as Locust's throughput counts them.
    throughput_rps: float | None = None
    #: wrk's own histogram: p50, p90, p99, p999, mean and max, in milliseconds.
    latency_ms: Mapping[str, float] = field(default_factory=dict)
    bytes: int | None = None
    #: The discarded warm-up run before the window, in seconds.
    warmup_s: float | None = None
    missing: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The cell's ``reference`` entry."""
        return {
            "generator": self.generator,
            "connections": self.connections,
            "duration_s": self.duration_s,
            "requests": self.requests,
            "errors": self.errors,
            "error_kinds": dict(self.error_kinds),
            "throughput_rps": self.throughput_rps,
            "latency_ms": dict(self.latency_ms),
            "bytes": self.bytes,
            "warmup_s": self.warmup_s,
            "missing": self.missing,
        }


def whole_seconds(seconds: float) -> int:
    """wrk takes whole seconds: a fraction is rounded up, so the window is never shorter than asked."""
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"a wrk duration must be a positive number of seconds, not {seconds!r}")
    return max(1, math.ceil(seconds))


def wrk_command(
    *, target: str, connections: int, duration_s: float, threads: int, request_timeout_s: float
) -> list[str]:
    """One wrk run's command line against ``target`` (a 127.0.0.1 URL), with the rendered script."""
    if not 1 <= threads <= connections:
        raise ValueError(f"wrk needs 1 to {connections} threads for {connections} connections, not {threads}")
    url = target if target.count("/") >= 3 else f"{target}/"
    return [
        "wrk",
        # One thread by default: as many as the Locust container has load processes on the same quota.
        "--threads",
        str(threads),
        "--connections",
        str(connections),
        "--duration",
        f"{whole_seconds(duration_s)}s",
        # Locust's request timeout, so a slow endpoint is a slow answer here too, not a wrk timeout.
        "--timeout",
        f"{whole_seconds(request_timeout_s)}s",
        "--latency",
        "--script",
        f"{CONTAINER_DIR}/{SCRIPT_NAME}",
        url,
    ]


def reference_spec(
    *,
    name: str,
    run_id: str,
    target: str,
    connections: int,
    duration_s: float,
    out_dir: Path,
    placement: Placement,
    warmup_s: float = REFERENCE_WARMUP_S,
    threads: int = 1,
    request_timeout_s: float = REQUEST_TIMEOUT_S,
) -> ContainerSpec:
    """The container of one reference measurement: a warm-up run, then the window.

    Both runs are in one container (a shell runs one wrk after the other), so a measurement starts one
    container, not two. Only the measured run is told where to write its JSON, so the warm-up leaves
    nothing behind; a warm-up that fails ends the container with ``WARMUP_FAILED``. ``out_dir`` holds
    the rendered script and receives the JSON.
    """

    def run_for(seconds: float) -> str:
        return shlex.join(
            wrk_command(
                target=target,
                connections=connections,
                duration_s=seconds,
                threads=threads,
                request_timeout_s=request_timeout_s,
            )
        )

    script = f"exec env {OUTPUT_ENV}={CONTAINER_DIR}/{RESULT_NAME} {run_for(duration_s)}"
    if warmup_s > 0:
        script = (
            f'{run_for(warmup_s)} >/dev/null || {{ echo "warm-up: wrk exited with code $?" >&2; '
            f"exit {WARMUP_FAILED}; }}; {script}"
        )
    spec = ContainerSpec(
        name=name,
        image=WRK_IMAGE,
        entrypoint=("sh",),
        command=("-c", script),
        labels=container_labels(run_id, ROLE),
        # The JSON is written as the invoking user, so the run folder stays theirs.
        user=f"{os.getuid()}:{os.getgid()}",
        binds={str(out_dir.resolve()): CONTAINER_DIR},
    )
    return placement.applied_to(spec)


def _count(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key} is {json.dumps(value)}, not a number")
    if not math.isfinite(value) or value < 0 or value != int(value):
        raise ValueError(f"{key} is {value!r}, not a count")
    return int(value)


def _figure(data: Mapping[str, Any], key: str) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key} is {json.dumps(value)}, not a number")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{key} is {value!r}, not a finite non-negative figure")
    return float(value)


def _section(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise ValueError(f"{key} is {json.dumps(value)}, not an object")
    return value


def parse_reference(data: Any, connections: int) -> ReferenceResult:
    """The result of what ``done()`` wrote; a ``missing`` reason when it is not a usable measurement."""
    try:
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object, got {type(data).__name__}")
        requests = _count(data, "requests")
        duration_s = _figure(data, "duration_us") / 1e6
        kinds = {kind: _count(_section(data, "errors"), kind) for kind in ERROR_KINDS}
        latency = _section(data, "latency_us")
        latency_ms = {key: _figure(latency, key) / 1000.0 for key in LATENCY_KEYS}
        size = _count(data, "bytes")
    except ValueError as exc:
        return ReferenceResult(connections, missing=f"wrk's result is malformed: {exc}")
    errors = sum(kinds.values())
    if duration_s <= 0:
        return ReferenceResult(connections, missing="wrk's result covers no time (duration 0)")
    if requests == 0 or kinds["status"] >= requests:
        detail = ", ".join(f"{n} {kind}" for kind, n in kinds.items() if n) or "no errors"
        return ReferenceResult(connections, missing=f"wrk got no successful answer ({detail})")
    return ReferenceResult(
        connections,
        duration_s=duration_s,
        requests=requests,
        errors=errors,
        error_kinds=kinds,
        throughput_rps=(requests - kinds["status"]) / duration_s,
        latency_ms=latency_ms,
        bytes=size,
    )


def read_reference(out_dir: Path, connections: int) -> ReferenceResult:
    """Read and check the JSON a measured wrk run left in ``out_dir``; never raises for its content."""
    path = out_dir / RESULT_NAME
    try:
        text = path.read_text()
    except FileNotFoundError:
        return ReferenceResult(connections, missing=f"wrk wrote no {RESULT_NAME}")
    except (OSError, UnicodeDecodeError) as exc:
        return ReferenceResult(connections, missing=f"{RESULT_NAME} cannot be read ({exc})")
    try:
        data = json.loads(text)
    except ValueError as exc:
        return ReferenceResult(connections, missing=f"{RESULT_NAME} is not JSON ({exc})")
    return parse_reference(data, connections)


def _wait(stack: Stack, name: str, budget_s: float) -> str | None:
    """Wait for the container ``name`` to end; None when wrk ended well, else why it did not."""
    code = stack.docker.wait_exit(name, budget_s)
    if code == 0:
        return None
    if code is None:
        state = (stack.docker.container_inspect(name) or {}).get("State", {})
        if state.get("Running"):
            return f"wrk did not end within {budget_s:.0f} s and was stopped"
        code = state.get("ExitCode")
    lines = stack.docker.logs(name, tail=5).splitlines()
    last = lines[-1] if lines else "(none)"
    if code == WARMUP_FAILED:
        return f"warm-up failed (last log line: {last})"
    return f"measured run: wrk exited with code {code} (last log line: {last})"


def run_reference(
    stack: Stack,
    config: WorkloadConfig,
    *,
    connections: int,
    duration_s: float,
    placement: Placement,
    out_dir: Path,
    warmup_s: float = REFERENCE_WARMUP_S,
    threads: int = 1,
    request_timeout_s: float = REQUEST_TIMEOUT_S,
) -> ReferenceResult:
    """Warm up, then measure ``stack``'s server with wrk; a failure of any kind is a ``missing`` reason.

    ``placement`` is the Locust container's; ``out_dir`` receives the script and the JSON.
    """
    name = stack.name(ROLE)
    if name not in stack.started:
        # Listed with the stack's containers, so stopping the stack removes it whatever happens here.
        stack.started.append(name)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_script(config, out_dir)
        (out_dir / RESULT_NAME).unlink(missing_ok=True)
        # A warm-up of 0 s is none: the server is warm from the Locust step just before.
        spec = reference_spec(
            name=name,
            run_id=stack.run_id,
            target=stack.server_url,
            connections=connections,
            duration_s=duration_s,
            warmup_s=warmup_s,
            out_dir=out_dir,
            placement=placement,
            threads=threads,
            request_timeout_s=request_timeout_s,
        )
        planned = whole_seconds(duration_s) + (whole_seconds(warmup_s) if warmup_s > 0 else 0)
        stack.docker.remove_containers([name])
        stack.docker.run_detached(spec)
        failure = _wait(stack, name, planned + REFERENCE_GRACE_S)
        stack.docker.remove_containers([name])
        if failure is not None:
            return ReferenceResult(connections, missing=failure)
    except (DockerError, OSError, ValueError) as exc:
        with contextlib.suppress(DockerError):
            stack.docker.remove_containers([name])
        return ReferenceResult(connections, missing=f"wrk could not run: {exc}")
    warmed_s = float(whole_seconds(warmup_s)) if warmup_s > 0 else 0.0
    return dataclasses.replace(read_reference(out_dir, connections), warmup_s=warmed_s)
