"""The run's environment in rows a reader can scan: collected metadata, CPU plan, matrix, timings,
the load generator's calibration, and per mode its command, tunables and image. Whatever the run
recorded is shown, known or not.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from servingmatrix import fmt
from servingmatrix.deployment import deployment
from servingmatrix.errors import SpecError
from servingmatrix.flags import kind
from servingmatrix.modes import resolve_mode
from servingmatrix.results.hosts import RunHost
from servingmatrix.results.run import Run
from servingmatrix.spec import spec_name
from servingmatrix.user_app import AppIdentity
from servingmatrix.user_app.identity import recorded_app, recorded_target
from servingmatrix.workloads import MIX, resolve_workload

Row = tuple[str, str]

#: Metadata keys in reading order, with their labels; keys not listed follow under their own names.
LABELS = (
    ("cpu_model", "CPU model"),
    ("cpu_count", "CPUs (host)"),
    ("docker_cpus", "CPUs (Docker)"),
    ("memory_total_kb", "memory"),
    ("machine", "architecture"),
    ("kernel", "kernel"),
    ("docker_version", "Docker"),
    ("cgroup_version", "cgroup version"),
    ("cgroup_driver", "cgroup driver"),
    ("storage_driver", "storage driver"),
    ("git_commit", "git commit"),
    ("harness_version", "servingmatrix"),
    ("python", "Python (harness)"),
    ("command_line", "command line"),
    ("metadata_errors", "could not collect"),
)
#: Shown elsewhere: the images per mode, the app on its own, the hosts in their own table.
HIDDEN = {"images", "git_dirty", "app", "hosts"}


def _text(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return "—" if value is None else str(value)


def metadata_rows(meta: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for key, label in LABELS:
        if key not in meta:
            continue
        value = meta[key]
        if key == "memory_total_kb" and isinstance(value, int):
            rows.append((label, f"{value / 2**20:.1f} GiB"))
        elif key == "git_commit":
            dirty = " (uncommitted changes)" if meta.get("git_dirty") else ""
            rows.append((label, f"{value}{dirty}"))
        else:
            rows.append((label, _text(value)))
    known = {k for k, _ in LABELS} | HIDDEN
    rows += [(key, _text(value)) for key, value in sorted(meta.items()) if key not in known]
    return rows


def app_rows(meta: dict[str, Any]) -> list[Row]:
    """The app the run measured: its name and version, where it came from, how it is served, its lock."""
    identity = AppIdentity.from_metadata(meta)
    record = recorded_app(meta)
    if identity.bundled:
        name = f"{identity.name}, the bundled app (app/{identity.name})"
    else:
        name = identity.name + (f" {identity.version}" if identity.version else "")
    rows: list[Row] = [("app", name)]
    for key, label in (("folder", "folder"), ("wsgi", "WSGI callable"), ("health", "health path")):
        if record.get(key):
            rows.append((label, _text(record[key])))
    if identity.git_commit:
        rows.append(
            ("git commit", identity.git_commit + (" (uncommitted changes)" if identity.git_dirty else ""))
        )
    if identity.lock_sha256:
        rows.append(("lock sha256", identity.lock_sha256))
    return rows


def app_request_rows(meta: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """A user's app's declared requests: name, share of ``app:mixed``, what is sent, the statuses accepted."""
    requests = [r for r in recorded_app(meta).get("requests") or [] if isinstance(r, dict)]
    weights = [r.get("weight") for r in requests]
    total = sum(w for w in weights if isinstance(w, int) and not isinstance(w, bool))
    rows = []
    for request, weight in zip(requests, weights, strict=True):
        share = f"{weight / total:.0%}" if isinstance(weight, int) and total else "—"
        sent = f"{_text(request.get('method'))} {_text(request.get('path'))}"
        rows.append((_text(request.get("name")), share, sent, _text(request.get("statuses"))))
    return rows


def cpu_plan_rows(plan: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Role, cores and CPU quota as planned."""
    out = []
    for role, label in (
        ("server", "server under test"),
        ("loadgen", "load generator"),
        ("backing", "backing services"),
    ):
        entry = plan.get(role)
        if isinstance(entry, dict):
            out.append((label, str(entry.get("cpuset", "—")), f"{entry.get('cpus', '—')} CPU"))
    return out


def matrix_rows(run: Run) -> list[Row]:
    matrix = run.matrix
    rows: list[Row] = [
        ("profile", run.name),
        ("description", str(matrix.get("description") or "—")),
        ("modes", _text(matrix.get("modes"))),
        ("workloads", _text(matrix.get("workloads"))),
        *_steps_rows(run),
        ("measured per step", f"{matrix.get('duration_s', '—')} s"),
        ("warm-up per step (discarded)", f"{matrix.get('warmup_s', '—')} s"),
        ("trials", str(matrix.get("trials", "—"))),
        ("server CPUs", str(matrix.get("server_cpus", "—"))),
        *(
            (label, fmt.memory_limit(str(matrix[key])) if key == "server_memory" else _text(matrix[key]))
            for key, label in (
                ("server_memory", "server memory limit"),
                ("loadgen_processes", "load generator processes"),
                ("request_timeout_s", "request timeout, s"),
            )
            if matrix.get(key) is not None
        ),
        ("started", str(run.record.started_at or "—")),
        ("finished", str(run.record.finished_at or "not finished (interrupted, or still running)")),
    ]
    timings = run.record.timings
    if isinstance(timings, dict):
        parts = [
            f"{label} {timings[key]:,.0f} s"
            for key, label in (
                ("start_s", "start"),
                ("warmup_s", "warm-up"),
                ("measured_s", "measured"),
                ("teardown_s", "teardown"),
            )
            if isinstance(timings.get(key), int | float)
        ]
        rows.append((f"time over {timings.get('sessions', '?')} sessions", ", ".join(parts)))
    return rows


def _steps_rows(run: Run) -> list[Row]:
    if run.open_loop:
        return [
            ("load", "open loop: each step offers a rate of requests, whatever the answers' latency"),
            ("offered req/s per step", _text(run.arrival_rates)),
            ("arrivals", _arrivals_text(run)),
        ]
    return [("users", _text(run.matrix.get("users")))]


def _arrivals_text(run: Run) -> str:
    if run.arrival_seed is None:
        return f"{run.arrivals}: each load process sends its share of the rate evenly spaced"
    return (
        f"{run.arrivals}: exponential gaps, a Poisson process of the rate; seed {run.arrival_seed} "
        "(the same seed replays the same arrivals)"
    )


#: The share of its CPU quota at which the calibration takes a side as its limit (the generator's rule).
_SATURATED = kind("generator-bound").thresholds["cpu"]
#: What set the calibration's limit, in words (the runner's ``limited_by``).
LIMITED_BY = {
    "generator": f"the load generator: it used at least {_SATURATED} of its CPU quota, so this is the most "
    "it sends",
    "server": "the target, not the generator: the generator's own most is higher, so it is not used as "
    "a ceiling",
    "neither": f"neither side's CPU reached {_SATURATED}: the limit lies outside both (the kernel's "
    "loopback, likely); still the most this generator sent",
}
#: Calibration keys shown in their own rows (or folded into another's); others follow by name.
_CALIBRATION_KEYS = {
    "max_rps",
    "limited_by",
    "loadgen_cpu_pct",
    "loadgen_cpu_quota_pct",
    "server_cpu_pct",
    "processes",
    "users",
    "duration_s",
    "target",
    "failures",
    "p99_ms",
}
_NO_CALIBRATION = "generator-bound is judged by the generator's CPU share alone"


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def calibration_rows(calibration: dict[str, Any] | None) -> list[Row]:
    """The load generator's calibration from run.json: its figures, the error that stopped it, or
    that the run has none (older runs)."""
    if calibration is None:
        return [("calibration", f"not recorded (a run from before the calibration); {_NO_CALIBRATION}")]
    if "error" in calibration:
        return [("calibration", f"failed: {calibration['error']}; {_NO_CALIBRATION}")]
    c = calibration
    quota = _number(c.get("loadgen_cpu_quota_pct"))
    loadgen = _number(c.get("loadgen_cpu_pct"))
    server = _number(c.get("server_cpu_pct"))
    duration = _number(c.get("duration_s"))
    rows: list[Row] = [
        ("most the generator sent", f"{fmt.rps(_number(c.get('max_rps')))} req/s"),
        ("limited by", LIMITED_BY.get(str(c.get("limited_by")), _text(c.get("limited_by")))),
        (
            "generator CPU",
            f"{fmt.num(loadgen)}%" + (f" of its {fmt.num(quota)}% quota" if quota is not None else ""),
        ),
        ("target CPU", "not measured" if server is None else f"{fmt.num(server)}%"),
        (
            "load",
            f"{_text(c.get('processes'))} process(es), {_text(c.get('users'))} users"
            + (f", {duration:g} s measured" if duration is not None else ""),
        ),
    ]
    if c.get("target"):
        rows.append(("against", _text(c["target"])))
    if c.get("failures") is not None or c.get("p99_ms") is not None:
        rows.append(("failures, p99", f"{_text(c.get('failures'))}, {fmt.ms(_number(c.get('p99_ms')))} ms"))
    rows += [(key, _text(value)) for key, value in sorted(c.items()) if key not in _CALIBRATION_KEYS]
    return rows


def mix_rows(workloads: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """The mixed workload's blend, with the paths of the run's own ``mixed`` spec when it has one."""
    total = sum(e.weight for e in MIX)
    spec = next((w for w in workloads if spec_name(w) == "mixed"), None)
    try:
        paths = [str(entry["path"]) for entry in resolve_workload(spec).mix()] if spec else None
    except SpecError:
        paths = None
    return [(e.name, f"{e.weight / total:.0%}", paths[i] if paths else e.path) for i, e in enumerate(MIX)]


@dataclass(frozen=True)
class ModeInfo:
    spec: str
    summary: str
    claim: str
    #: The command one would deploy (``deployment``): every interface, port 8000, no harness flags.
    command: str
    #: The command the harness ran and measured: its bind address, port and own flags.
    measured: str
    tunables: list[Row]
    keeps_alive: str
    image: list[Row]
    packages: list[Row]


def _obj(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one: metadata is collected, and may lack parts."""
    return value if isinstance(value, dict) else {}


def mode_info(run: Run, spec: str) -> ModeInfo:
    """What a mode ran: its command and tunables from the registry, its image from the run's metadata."""
    name = spec_name(spec)
    try:
        config = resolve_mode(spec, run.server_cpus, recorded_target(run.metadata))
    except SpecError:
        config = None
    port = run.record.ports.get("server", 8000)
    image = _obj(_obj(run.metadata.get("images")).get(name))
    labels = _obj(image.get("labels"))
    image_rows: list[Row] = [
        (label, _text(image[key]))
        for key, label in (("id", "image id"), ("created", "built"), ("lock_sha256", "lock file sha256"))
        if image.get(key)
    ]
    if isinstance(image.get("size_bytes"), int):
        image_rows.append(("image size", f"{image['size_bytes'] / 1e6:,.0f} MB"))
    if labels.get("io.servingmatrix.base"):
        image_rows.append(("base", str(labels["io.servingmatrix.base"])))
    packages = [(str(k), str(v)) for k, v in sorted(_obj(image.get("packages")).items())]
    if config is None:
        return ModeInfo(
            spec, "(not in this version's registry)", "—", "—", "—", [], "—", image_rows, packages
        )
    mode = config.mode
    help_of = {t.name: t.help for t in mode.tunables}
    return ModeInfo(
        spec=spec,
        summary=mode.summary,
        claim=mode.claim,
        command=deployment(config).command,
        measured=shlex.join(config.launch("127.0.0.1", int(port)).argv),
        tunables=[(f"{k} = {v}", help_of.get(k, "")) for k, v in config.values.items()],
        keeps_alive="yes" if mode.keeps_alive else "no: clients reconnect for every request",
        image=image_rows,
        packages=packages,
    )


def applied_rows(applied: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Role, cores, CPU quota and memory limit as Docker applied them."""
    rows = []
    for role, entry in applied.items():
        if isinstance(entry, dict):
            memory = entry.get("memory_bytes")
            rows.append(
                (
                    str(role),
                    str(entry.get("cpuset", "—")),
                    f"{entry.get('cpus', '—')} CPU",
                    fmt.memory_bytes(memory) if isinstance(memory, int) else "—",
                )
            )
    return rows


#: The hosts table's columns: what each host was and did, and how its clock stood to the harness's.
HOST_COLUMNS = ("host", "address", "roles", "cores per role", "Locust workers", "clock offset", "applied")


def hosts_rows(hosts: tuple[RunHost, ...]) -> list[tuple[str, str, str, str, str, str, str]]:
    """Per host of a run with an inventory: its name, address, roles (and the Locust master), each
    role's cores as planned, its Locust workers, its clock's offset ± uncertainty and whether that
    offset was applied to its times."""
    return [
        (
            host.name,
            host.address or fmt.DASH,
            host.describe_roles(),
            host.describe_cores(),
            fmt.DASH if host.workers is None else str(host.workers),
            fmt.DASH if host.clock is None else host.clock.describe(),
            fmt.DASH if host.clock is None else host.clock.describe_applied(),
        )
        for host in hosts
    ]
