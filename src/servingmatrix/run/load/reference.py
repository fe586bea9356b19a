"""The reference generator: wrk, a native client, driving the same server Locust just drove.

It runs in its own container (``servingmatrix/wrk``) on the host's network, on the Locust container's
cores and quota, with as many connections as the step had users, so its throughput says how much of
the server Locust reached. Each measurement is one wrk run through a warm-up and a steady window: the
script counts the answers that complete inside the window (``wrk_lua``), so the window opens with
every connection already loaded and the server's queue at its steady length, and no earlier run's
abandoned requests are still in that queue. The warm-up and the window grow with the step's latency
(``reference_window``): a window a few latencies long, never one shorter than the answers it counts.
A reference that fails, or counts too few answers to make a figure, is a ``missing`` reason, never an
exception and never a figure: the Locust figures stand without it.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from servingmatrix.engine.docker import ContainerSpec, DockerError
from servingmatrix.run.load.loadgen import REQUEST_TIMEOUT_S
from servingmatrix.run.load.wrk_lua import (
    CONTAINER_DIR,
    OUTPUT_ENV,
    RESULT_NAME,
    SCRIPT_NAME,
    WINDOW_ENV,
    WINDOW_OPEN_ENV,
    write_script,
)
from servingmatrix.run.stack.stack import Placement, Stack, container_labels
from servingmatrix.workloads import WorkloadConfig

WRK_IMAGE = "servingmatrix/wrk:latest"
#: The shortest warm-up before the window: new connections, the server's pools filled.
REFERENCE_WARMUP_S = 1.0
#: The warm-up lasts at least this many of the step's latencies: every connection has had an answer
#: and sent again, so a queueing server's queue is at its steady length when the window opens.
WARMUP_LATENCIES = 2.0
#: The window lasts at least this many of the step's latencies (the matrix's reference_duration when
#: that is longer): answers that take a second are not counted in a window of two.
WINDOW_LATENCIES = 5.0
#: The longest warm-up and window a step's latency can ask for.
MAX_REFERENCE_WARMUP_S = 30.0
MAX_REFERENCE_WINDOW_S = 60.0
#: wrk runs this much past the window's end, so the window closes inside its run.
WINDOW_TAIL_S = 0.5
#: Fewer answers than this inside the window make no figure: one answer more or less would move it 5%.
MIN_ANSWERS = 20
#: The window is long enough to expect this many times ``MIN_ANSWERS``.
ANSWERS_MARGIN = 1.5
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
    #: The warm-up before the window opened, in seconds (the same wrk run: its answers not counted).
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


@dataclass(frozen=True)
class ReferenceWindow:
    """When the counted window opens after wrk starts, and how long it lasts, in seconds."""

    warmup_s: float
    window_s: float

    @property
    def run_s(self) -> int:
        """wrk's own duration: through the warm-up and the window, and a little past it."""
        return whole_seconds(self.warmup_s + self.window_s + WINDOW_TAIL_S)


def reference_window(
    configured_s: float, step_latency_s: float | None, connections: int = 1, queue_s: float | None = None
) -> ReferenceWindow:
    """The warm-up and window for a step whose answers took ``step_latency_s`` (Locust's p99 at that
    step; None when unknown) over ``connections``: a window of at least the configured one, of
    ``WINDOW_LATENCIES`` latencies, and long enough to expect half again ``MIN_ANSWERS`` answers
    (Little's law: connections / latency a second), after at least ``WARMUP_LATENCIES`` latencies of
    warm-up, and at least ``queue_s``: the latency of the load that ran just before (Locust's last
    step, or the reference's previous one), whose abandoned requests a server that does not notice a
    closed connection still answers first; each up to its bound."""
    latency = _finite(step_latency_s)
    enough = ANSWERS_MARGIN * MIN_ANSWERS * latency / max(1, connections)
    warmup = min(
        MAX_REFERENCE_WARMUP_S, max(REFERENCE_WARMUP_S, WARMUP_LATENCIES * latency, _finite(queue_s))
    )
    window = min(MAX_REFERENCE_WINDOW_S, max(configured_s, WINDOW_LATENCIES * latency, enough))
    return ReferenceWindow(warmup, window)


def _finite(seconds: float | None) -> float:
    return seconds if seconds is not None and math.isfinite(seconds) else 0.0


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
    window: ReferenceWindow,
    out_dir: Path,
    placement: Placement,
    threads: int = 1,
    request_timeout_s: float = REQUEST_TIMEOUT_S,
) -> ContainerSpec:
    """The container of one reference measurement: one wrk run through the warm-up and the window,
    whose script counts the window's answers and writes its JSON into ``out_dir`` (which holds the
    rendered script)."""
    command = wrk_command(
        target=target,
        connections=connections,
        duration_s=window.run_s,
        threads=threads,
        request_timeout_s=request_timeout_s,
    )
    spec = ContainerSpec(
        name=name,
        image=WRK_IMAGE,
        command=tuple(command[1:]),
        env={
            OUTPUT_ENV: f"{CONTAINER_DIR}/{RESULT_NAME}",
            WINDOW_OPEN_ENV: repr(window.warmup_s),
            WINDOW_ENV: repr(window.window_s),
        },
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
    """The result of what ``done()`` wrote; a ``missing`` reason when it is not a usable measurement.

    The figure is the window's: its answers, less those that failed (above 399), over its seconds.
    wrk's own latency histogram and transport errors (connect, read, write, timeout) cover its whole
    run, the warm-up included: they are kept as that.
    """
    try:
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object, got {type(data).__name__}")
        kinds = {kind: _count(_section(data, "errors"), kind) for kind in ERROR_KINDS}
        latency = _section(data, "latency_us")
        latency_ms = {key: _figure(latency, key) / 1000.0 for key in LATENCY_KEYS}
        size = _count(data, "bytes")
        window = _section(data, "window")
        answers, failed = _count(window, "answers"), _count(window, "failed")
        window_s, opens_s = _figure(window, "seconds"), _figure(window, "opens_s")
    except ValueError as exc:
        return ReferenceResult(connections, missing=f"wrk's result is malformed: {exc}")
    if window_s <= 0:
        return ReferenceResult(connections, missing="wrk's window covers no time (0 s)")
    if failed > answers:
        return ReferenceResult(
            connections, missing=f"wrk's result is malformed: {failed} of {answers} failed"
        )
    if answers == failed:
        detail = ", ".join(f"{n} {kind}" for kind, n in kinds.items() if n) or "no errors"
        return ReferenceResult(
            connections, missing=f"wrk got no successful answer in its {window_s:g} s window ({detail})"
        )
    if answers < MIN_ANSWERS:
        return ReferenceResult(
            connections,
            missing=f"not measured: {answers} answers in its {window_s:g} s window, fewer than the "
            f"{MIN_ANSWERS} a figure needs",
        )
    transport = sum(n for kind, n in kinds.items() if kind != "status")
    return ReferenceResult(
        connections,
        duration_s=window_s,
        requests=answers,
        errors=failed + transport,
        error_kinds=kinds,
        throughput_rps=(answers - failed) / window_s,
        latency_ms=latency_ms,
        bytes=size,
        warmup_s=opens_s,
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
    return f"wrk exited with code {code} (last log line: {last})"


def run_reference(
    stack: Stack,
    config: WorkloadConfig,
    *,
    connections: int,
    window: ReferenceWindow,
    placement: Placement,
    out_dir: Path,
    threads: int = 1,
    request_timeout_s: float = REQUEST_TIMEOUT_S,
    started: Callable[[], None] | None = None,
) -> ReferenceResult:
    """Measure ``stack``'s server with wrk through ``window``; a failure of any kind is a ``missing`` reason.

    ``placement`` is the Locust container's; ``out_dir`` receives the script and the JSON; ``started``
    is called once wrk's container runs (the session watches the cores from then on).
    """
    name = stack.name(ROLE)
    if name not in stack.started:
        # Listed with the stack's containers, so stopping the stack removes it whatever happens here.
        stack.started.append(name)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_script(config, out_dir)
        (out_dir / RESULT_NAME).unlink(missing_ok=True)
        spec = reference_spec(
            name=name,
            run_id=stack.run_id,
            target=stack.server_url,
            connections=connections,
            window=window,
            out_dir=out_dir,
            placement=placement,
            threads=threads,
            request_timeout_s=request_timeout_s,
        )
        stack.docker.remove_containers([name])
        stack.docker.run_detached(spec)
        if started is not None:
            started()
        failure = _wait(stack, name, window.run_s + REFERENCE_GRACE_S)
        stack.docker.remove_containers([name])
        if failure is not None:
            return ReferenceResult(connections, missing=failure)
    except (DockerError, OSError, ValueError) as exc:
        with contextlib.suppress(DockerError):
            stack.docker.remove_containers([name])
        return ReferenceResult(connections, missing=f"wrk could not run: {exc}")
    return read_reference(out_dir, connections)
