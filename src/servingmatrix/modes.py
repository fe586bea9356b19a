"""The registry of serving modes: one entry per way of serving the app, and how to configure it.

Images (``images/<mode>/``), compose stacks (``compose/<mode>.yml``) and the runner all read this
registry, so a mode's command, tunables and packages are written down exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from servingmatrix.errors import SpecError
from servingmatrix.spec import parse_positive_int, parse_spec, shown

#: Packages of the app itself, the same in every mode's image.
APP_PACKAGES = ("flask==3.1.3", "psycopg[binary]==3.3.9")
GUNICORN = "gunicorn==27.0.1"
#: gunicorn removed its eventlet worker in 26.0, so the eventlet image keeps the last 25.x.
GUNICORN_WITH_EVENTLET = "gunicorn==25.3.0"

WSGI_TARGET = "benchapp.wsgi:app"
#: The Unix socket between nginx and gunicorn in the proxied mode (on the container's /tmp tmpfs).
NGINX_UPSTREAM_SOCKET = "/tmp/gunicorn.sock"
MAX_COUNT = 10_000


@dataclass(frozen=True)
class AppTarget:
    """The app a mode serves: its WSGI callable, the entry points around it, its health path, its images.

    The bundled app (``app/benchapp``) is the default; a user's app (``--app DIR``) brings its own WSGI
    callable and health path, and its images carry its name in their tags, so the bundled app's images
    are never replaced.
    """

    #: The WSGI callable, ``module:callable``, as gunicorn, waitress, uWSGI and granian take it.
    wsgi: str = WSGI_TARGET
    #: The same app as ASGI, for uvicorn: a2wsgi's thread pool around the WSGI callable.
    asgi: str = "benchapp.asgi:app"
    #: The module ``python -m`` runs for Werkzeug's development server.
    devserver: str = "benchapp.devserver"
    health_path: str = "/healthz"
    #: The user's app's name; None for the bundled app.
    name: str | None = None

    @property
    def mode_tag(self) -> str:
        """The tag of a mode's image serving this app: ``latest``, or ``app-NAME``."""
        return "latest" if self.name is None else f"app-{self.name}"

    @property
    def shared_tag(self) -> str:
        """The tag of the app and runtime images every mode's image of this app starts from."""
        return "latest" if self.name is None else self.name


BUNDLED_APP = AppTarget()


@dataclass(frozen=True)
class Budget:
    """What a server is given: whole CPUs and a memory limit in MiB (``tune`` searches within it)."""

    cpus: int
    memory_mb: int


#: The memory ``tune`` allows each worker process when the memory budget bounds how many it tries: a
#: Flask worker with its imports resides in 40 to 60 MiB, and a request's allocations come on top.
PROCESS_ALLOWANCE_MB = 96

#: What a tunable counts: processes cost memory and a core's scheduling; threads and connections are
#: cheap within a process. The cheapest configuration is the one with the fewest processes.
Counts = Literal["processes", "threads", "connections"]


@dataclass(frozen=True)
class SearchBounds:
    """Where ``tune`` searches a tunable: what it counts, and its least and most from the budget."""

    counts: Counts
    least: Callable[[Budget], int]
    most: Callable[[Budget], int]
    #: The bounds in words, for the README.
    doc: str
    #: Searched on a logarithmic scale (threads and connections: 2 and 4 differ as 16 and 32 do).
    log: bool = False

    def at(self, budget: Budget, maximum: int = MAX_COUNT) -> tuple[int, int]:
        """The least and the most at ``budget``: at least 1, the most never below the least nor above
        ``maximum``."""
        least = min(max(1, self.least(budget)), maximum)
        return least, min(max(least, self.most(budget)), maximum)


def _processes_within(budget: Budget, per_cpu: int, extra: int) -> int:
    """``per_cpu`` x cpus + ``extra`` processes, but no more than the memory budget holds."""
    return min(per_cpu * budget.cpus + extra, budget.memory_mb // PROCESS_ALLOWANCE_MB)


#: Worker processes that serve requests themselves (one at a time, or from a thread pool each): from one
#: to about twice the folk rule of 2 x cpus + 1.
PROCESSES_SEARCH = SearchBounds(
    "processes",
    lambda b: 1,
    lambda b: _processes_within(b, 4, 1),
    f"1 to 4 x cpus + 1, at most one per {PROCESS_ALLOWANCE_MB} MiB of memory",
)
#: Worker processes running an event loop or a thread pool each: one to two per core.
LOOPS_SEARCH = SearchBounds(
    "processes",
    lambda b: 1,
    lambda b: _processes_within(b, 2, 0),
    f"1 to 2 x cpus, at most one per {PROCESS_ALLOWANCE_MB} MiB of memory",
)
#: Threads of a pool: one to 16 per core (past that, Python's lock shares one core among them).
THREADS_SEARCH = SearchBounds("threads", lambda b: 1, lambda b: 16 * b.cpus, "1 to 16 x cpus", log=True)
#: Green threads per worker: from 10 to twice gunicorn's default of 1000.
CONNECTIONS_SEARCH = SearchBounds("connections", lambda b: 10, lambda b: 2000, "10 to 2000", log=True)


@dataclass(frozen=True)
class Tunable:
    """One knob of a mode, with its default derived from the CPU budget and where ``tune`` searches it."""

    name: str
    help: str
    default: Callable[[int], int]
    #: The default's formula in words, for `servingmatrix modes` and the README.
    default_doc: str
    search: SearchBounds
    maximum: int = MAX_COUNT

    def bounds(self, budget: Budget) -> tuple[int, int]:
        """Where ``tune`` searches this tunable at ``budget``."""
        return self.search.at(budget, self.maximum)


@dataclass(frozen=True)
class Launch:
    """What the container runs: its argument vector and the extra environment it needs."""

    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Mode:
    """One serving configuration: what it is, what it installs, and how it starts."""

    name: str
    summary: str
    packages: tuple[str, ...]
    tunables: tuple[Tunable, ...]
    #: The command serving ``AppTarget`` with these tunables on host and port.
    launch: Callable[[Mapping[str, int], str, int, AppTarget], Launch]
    #: How many `/io` requests the folk wisdom says this configuration serves at once (None: unbounded).
    promised_concurrency: Callable[[Mapping[str, int]], int | None]
    #: The folk claim in words, set against the measured concurrency in the report.
    claim: str
    #: Whether the server keeps client connections alive between requests.
    keeps_alive: bool
    #: Why the defaults are what they are.
    defaults_reason: str
    #: Debian packages the image adds to the base (nginx for the proxied mode).
    debian_packages: tuple[str, ...] = ()
    #: Extra files in ``images/<mode>/`` the image copies to ``/srv/<mode>/``.
    extra_files: tuple[str, ...] = ()
    notes: str = ""
    tags: tuple[str, ...] = field(default=())
    #: Packages the server comes with in the app's own lock, rather than its own pins (Werkzeug's
    #: development server comes with Flask): an app whose lock lacks them cannot be served this way.
    from_app: tuple[str, ...] = ()
    #: A development server, not one to run in production (Werkzeug's documentation says so of its
    #: own): the report marks it wherever it ranks and names the best production mode beside it, and
    #: ``tune`` searches it only when the modes are named.
    development: bool = False

    @property
    def image(self) -> str:
        return f"servingmatrix/{self.name}:latest"

    @property
    def server_packages(self) -> tuple[str, ...]:
        """The mode's own pins, beside the app's: what a user's app is locked with for this mode."""
        return tuple(package for package in self.packages if package not in APP_PACKAGES)

    def defaults(self, cpus: int) -> dict[str, int]:
        """Each tunable's default at ``cpus``, never above the tunable's own maximum."""
        return {t.name: min(t.default(cpus), t.maximum) for t in self.tunables}

    def resolve(self, overrides: Mapping[str, str], cpus: int, target: AppTarget = BUNDLED_APP) -> ModeConfig:
        """Defaults for ``cpus`` with ``overrides`` applied, each checked; one clear line on error."""
        known = {t.name: t for t in self.tunables}
        values = self.defaults(cpus)
        for key, raw in overrides.items():
            tunable = known.get(key)
            if tunable is None:
                allowed = ", ".join(known) or "nothing"
                raise SpecError(f"{self.name}: unknown tunable {key!r} (allowed: {allowed})")
            values[key] = parse_positive_int(self.name, key, raw, tunable.maximum)
        return ModeConfig(self, values, cpus, target)


@dataclass(frozen=True)
class ModeConfig:
    """A mode with every tunable settled: what one container of the matrix runs."""

    mode: Mode
    values: Mapping[str, int]
    cpus: int
    #: The app this configuration serves.
    target: AppTarget = BUNDLED_APP

    @property
    def spec(self) -> str:
        """The full spec, every tunable written out: how results name this configuration."""
        if not self.values:
            return self.mode.name
        inner = ",".join(f"{k}={v}" for k, v in self.values.items())
        return f"{self.mode.name}[{inner}]"

    def launch(self, host: str, port: int) -> Launch:
        return self.mode.launch(self.values, host, port, self.target)

    @property
    def image(self) -> str:
        """The image serving this configuration's app: ``servingmatrix/<mode>:latest`` or ``:app-NAME``."""
        return f"servingmatrix/{self.mode.name}:{self.target.mode_tag}"

    @property
    def promised_concurrency(self) -> int | None:
        return self.mode.promised_concurrency(self.values)

    def counted(self, what: Counts) -> int:
        """How many ``what`` (processes, threads, connections) the tunables that count them multiply
        to: ``gunicorn-gthread[workers=2,threads=4]`` has 2 processes and 4 threads; 1 when none does."""
        total = 1
        for tunable in self.mode.tunables:
            if tunable.search.counts == what:
                total *= self.values[tunable.name]
        return total


def _sync_workers(cpus: int) -> int:
    # gunicorn's documented rule of thumb for workers: (2 x cores) + 1.
    return 2 * cpus + 1


def _one_per_core(cpus: int) -> int:
    return cpus


def _gunicorn(values: Mapping[str, int], host: str, port: int, target: AppTarget, *worker: str) -> Launch:
    return Launch(_gunicorn_argv(values, f"{host}:{port}", target, *worker))


def _gunicorn_argv(values: Mapping[str, int], bind: str, target: AppTarget, *worker: str) -> tuple[str, ...]:
    return (
        "gunicorn",
        "--bind",
        bind,
        "--workers",
        str(values["workers"]),
        *worker,
        # The heartbeat file lives in memory, not on the (read-only, possibly slow) container disk.
        "--worker-tmp-dir",
        "/dev/shm",
        # gunicorn 25+ opens a control socket under $HOME by default: keep it in memory too.
        "--control-socket",
        "/dev/shm/gunicorn.ctl",
        "--graceful-timeout",
        "5",
        target.wsgi,
    )


def _devserver(target: AppTarget, host: str, port: int, *extra: str) -> Launch:
    return Launch(("python", "-m", target.devserver, "--host", host, "--port", str(port), *extra))


WORKERS_SYNC = Tunable("workers", "worker processes", _sync_workers, "2 x cpus + 1", PROCESSES_SEARCH)
WORKERS_LOOP = Tunable(
    "workers", "worker processes, one event loop each", _one_per_core, "cpus", LOOPS_SEARCH
)
CONNECTIONS = Tunable(
    "connections",
    "simultaneous clients per worker",
    lambda _c: 1000,
    "1000 (gunicorn's default)",
    CONNECTIONS_SEARCH,
)

MODES: tuple[Mode, ...] = (
    Mode(
        name="werkzeug-single",
        summary="Flask's development server, app.run(threaded=False): one request at a time",
        packages=APP_PACKAGES,
        tunables=(),
        launch=lambda v, h, p, t: _devserver(t, h, p),
        promised_concurrency=lambda v: 1,
        claim="handles one request at a time",
        keeps_alive=False,
        defaults_reason="nothing to tune: a single thread in a single process",
        from_app=("werkzeug",),
        development=True,
    ),
    Mode(
        name="werkzeug-threaded",
        summary="Flask's development server, app.run(threaded=True): a new thread per request",
        packages=APP_PACKAGES,
        tunables=(),
        launch=lambda v, h, p, t: _devserver(t, h, p, "--threaded"),
        promised_concurrency=lambda v: None,
        claim="handles each request in its own thread (no limit)",
        keeps_alive=False,
        defaults_reason="nothing to tune: Werkzeug starts one thread per request, unbounded",
        from_app=("werkzeug",),
        development=True,
    ),
    Mode(
        name="werkzeug-processes",
        summary="Flask's development server, app.run(processes=N): a fork per request, N at once",
        packages=APP_PACKAGES,
        tunables=(
            Tunable(
                "processes", "most child processes at once", _sync_workers, "2 x cpus + 1", PROCESSES_SEARCH
            ),
        ),
        launch=lambda v, h, p, t: _devserver(t, h, p, "--processes", str(v["processes"])),
        promised_concurrency=lambda v: v["processes"],
        claim="forks up to N children, so N requests at once",
        keeps_alive=False,
        defaults_reason="gunicorn's sync worker count, for a like-for-like comparison",
        from_app=("werkzeug",),
        development=True,
    ),
    Mode(
        name="gunicorn-sync",
        summary="gunicorn's default sync worker: each worker process serves one request at a time",
        packages=(*APP_PACKAGES, GUNICORN),
        tunables=(WORKERS_SYNC,),
        launch=lambda v, h, p, t: _gunicorn(v, h, p, t, "--worker-class", "sync"),
        promised_concurrency=lambda v: v["workers"],
        claim="N workers serve N requests at once",
        keeps_alive=False,
        defaults_reason="gunicorn's documented (2 x cores) + 1",
    ),
    Mode(
        name="gunicorn-gthread",
        summary="gunicorn's gthread worker: a thread pool in each worker process",
        packages=(*APP_PACKAGES, GUNICORN),
        tunables=(
            Tunable("workers", "worker processes", lambda c: 2 * c, "2 x cpus", PROCESSES_SEARCH),
            Tunable("threads", "threads per worker", lambda _c: 4, "4", THREADS_SEARCH),
        ),
        launch=lambda v, h, p, t: _gunicorn(
            v, h, p, t, "--worker-class", "gthread", "--threads", str(v["threads"])
        ),
        promised_concurrency=lambda v: v["workers"] * v["threads"],
        claim="workers x threads requests at once (2 x 4 = 8)",
        keeps_alive=True,
        defaults_reason="the folk configuration of 2 processes x 4 threads per core",
    ),
    Mode(
        name="gunicorn-gevent",
        summary="gunicorn's gevent worker: green threads, monkey-patched I/O",
        # The extra brings `packaging`, which gunicorn's gevent worker imports.
        packages=(*APP_PACKAGES, "gunicorn[gevent]==27.0.1", "gevent==26.9.0"),
        tunables=(WORKERS_LOOP, CONNECTIONS),
        launch=lambda v, h, p, t: _gunicorn(
            v, h, p, t, "--worker-class", "gevent", "--worker-connections", str(v["connections"])
        ),
        promised_concurrency=lambda v: v["workers"] * v["connections"],
        claim="each worker serves many requests while they wait on I/O",
        keeps_alive=True,
        defaults_reason="one event loop per core; gunicorn's default of 1000 connections per worker",
        notes="monkey-patching happens in the worker before the app is imported; never use --preload here",
    ),
    Mode(
        name="gunicorn-eventlet",
        summary="gunicorn's eventlet worker (gunicorn 25.x: removed in 26.0)",
        packages=(*APP_PACKAGES, GUNICORN_WITH_EVENTLET, "eventlet==0.41.3"),
        tunables=(WORKERS_LOOP, CONNECTIONS),
        launch=lambda v, h, p, t: _gunicorn(
            v, h, p, t, "--worker-class", "eventlet", "--worker-connections", str(v["connections"])
        ),
        promised_concurrency=lambda v: v["workers"] * v["connections"],
        claim="each worker serves many requests while they wait on I/O",
        keeps_alive=True,
        defaults_reason="one event loop per core; gunicorn's default of 1000 connections per worker",
        notes="pinned to gunicorn 25.3.0, the last release with the eventlet worker",
    ),
    Mode(
        name="gunicorn-tornado",
        summary="gunicorn's tornado worker, running the WSGI app in tornado's WSGIContainer",
        packages=(*APP_PACKAGES, "gunicorn[tornado]==27.0.1", "tornado==6.6.1"),
        tunables=(WORKERS_LOOP,),
        launch=lambda v, h, p, t: _gunicorn(v, h, p, t, "--worker-class", "tornado"),
        promised_concurrency=lambda v: v["workers"],
        claim="an async worker, but a WSGI app runs synchronously in it: one request per worker",
        keeps_alive=True,
        defaults_reason="one event loop per core, as for the other async workers",
    ),
    Mode(
        name="waitress",
        summary="waitress: a pure-Python server, one process with a thread pool",
        packages=(*APP_PACKAGES, "waitress==3.0.2"),
        tunables=(
            Tunable(
                "threads",
                "worker threads",
                lambda c: 4 * c,
                "4 x cpus (waitress's default is 4)",
                THREADS_SEARCH,
            ),
        ),
        launch=lambda v, h, p, t: Launch(
            ("waitress-serve", "--listen", f"{h}:{p}", "--threads", str(v["threads"]), t.wsgi)
        ),
        promised_concurrency=lambda v: v["threads"],
        claim="threads requests at once",
        keeps_alive=True,
        defaults_reason="waitress's own default of 4 threads, per core",
    ),
    Mode(
        name="uwsgi",
        summary="uWSGI (pyuwsgi wheels) speaking HTTP directly from its worker processes",
        packages=(*APP_PACKAGES, "pyuwsgi==2.0.30.post1"),
        tunables=(
            Tunable("processes", "worker processes", _sync_workers, "2 x cpus + 1", PROCESSES_SEARCH),
            Tunable("threads", "threads per process", lambda _c: 1, "1", THREADS_SEARCH),
        ),
        launch=lambda v, h, p, t: Launch(
            (
                "uwsgi",
                # HTTP/1.1 with keep-alive: --http-socket answers every request with the connection
                # closed, whatever --http-keepalive says (that option is the HTTP router's).
                "--http11-socket",
                f"{h}:{p}",
                "--module",
                t.wsgi,
                "--master",
                "--processes",
                str(v["processes"]),
                "--threads",
                str(v["threads"]),
                "--enable-threads",
                "--die-on-term",
                "--need-app",
                "--disable-logging",
            )
        ),
        promised_concurrency=lambda v: v["processes"] * v["threads"],
        claim="processes x threads requests at once",
        keeps_alive=True,
        defaults_reason="the same process count as gunicorn sync, one thread each (uWSGI's default)",
    ),
    Mode(
        name="granian",
        summary="granian (Rust, hyper) with --interface wsgi: Python runs in a blocking thread pool",
        packages=(*APP_PACKAGES, "granian==2.8.7"),
        tunables=(
            Tunable("workers", "worker processes", _one_per_core, "cpus", LOOPS_SEARCH),
            Tunable("threads", "blocking threads per worker", _sync_workers, "2 x cpus + 1", THREADS_SEARCH),
        ),
        launch=lambda v, h, p, t: Launch(
            (
                "granian",
                "--interface",
                "wsgi",
                "--host",
                h,
                "--port",
                str(p),
                "--workers",
                str(v["workers"]),
                "--blocking-threads",
                str(v["threads"]),
                "--no-ws",
                t.wsgi,
            )
        ),
        promised_concurrency=lambda v: v["workers"] * v["threads"],
        claim="workers x blocking threads requests at once",
        keeps_alive=True,
        defaults_reason="granian warns above 2 x cores + 1 blocking threads; one worker per core",
    ),
    Mode(
        name="uvicorn-a2wsgi",
        summary="uvicorn serving the WSGI app through a2wsgi's thread pool",
        packages=(*APP_PACKAGES, "uvicorn==0.54.0", "a2wsgi==1.10.10"),
        tunables=(
            Tunable("workers", "worker processes", _one_per_core, "cpus", LOOPS_SEARCH),
            Tunable(
                "threads", "a2wsgi threads per worker", lambda _c: 10, "10 (a2wsgi's default)", THREADS_SEARCH
            ),
        ),
        launch=lambda v, h, p, t: Launch(
            (
                "uvicorn",
                t.asgi,
                "--host",
                h,
                "--port",
                str(p),
                "--workers",
                str(v["workers"]),
                "--no-access-log",
            ),
            (("A2WSGI_WORKERS", str(v["threads"])),),
        ),
        promised_concurrency=lambda v: v["workers"] * v["threads"],
        claim="workers x a2wsgi threads requests at once",
        keeps_alive=True,
        defaults_reason="one event loop per core; a2wsgi's default pool of 10 threads",
    ),
    Mode(
        name="nginx-gunicorn-sync",
        summary="nginx buffering in front of gunicorn sync on a Unix socket, as gunicorn's docs advise",
        packages=(*APP_PACKAGES, GUNICORN),
        tunables=(WORKERS_SYNC,),
        # nginx listens; the launcher starts it and, after `--`, gunicorn on the socket nginx proxies to.
        launch=lambda v, h, p, t: Launch(
            (
                "python",
                "/srv/nginx-gunicorn-sync/launch.py",
                "--host",
                h,
                "--port",
                str(p),
                "--",
                *_gunicorn_argv(v, f"unix:{NGINX_UPSTREAM_SOCKET}", t, "--worker-class", "sync"),
            )
        ),
        promised_concurrency=lambda v: v["workers"],
        claim="N workers serve N requests at once; nginx absorbs slow clients and keeps connections alive",
        keeps_alive=True,
        defaults_reason="gunicorn's documented (2 x cores) + 1; one nginx worker",
        debian_packages=("nginx",),
        extra_files=("launch.py",),
    ),
)

_BY_NAME = {m.name: m for m in MODES}


def mode_names() -> list[str]:
    return [m.name for m in MODES]


def get_mode(name: str) -> Mode:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise SpecError(f"unknown mode {shown(name)} (known: {', '.join(_BY_NAME)})") from None


def resolve_mode(text: str, cpus: int, target: AppTarget = BUNDLED_APP) -> ModeConfig:
    """Turn a spec such as ``gunicorn-gthread[workers=2,threads=4]`` into a checked configuration."""
    spec = parse_spec(text)
    return get_mode(spec.name).resolve(spec.as_dict(), cpus, target)
