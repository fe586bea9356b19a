"""The keys of a matrix, each declared once: the matrix file, the ``run`` options and run.json derive from it.

A key names its field of :class:`~servingmatrix.matrix.Matrix` (which is also its name in run.json's
``"matrix"``), its key in a matrix file, its option of ``servingmatrix run``, the parser that checks a
value and its bounds, its default and its help. The YAML loader, the ``run`` options, the command-line
overrides, the record written to run.json and the README's table of keys are built from
:data:`MATRIX_KEYS`, so adding a key is one entry here plus its field of ``Matrix``.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from servingmatrix.errors import UserError
from servingmatrix.precision import MIN_AUTO_TRIALS
from servingmatrix.spec import parse_int, shown, split_specs

T = TypeVar("T")

#: ASCII digits only (``\d`` would take Arabic-Indic or other digits), and no more than a duration needs.
_DURATION = re.compile(r"^(?P<number>[0-9]{1,12}(?:\.[0-9]{1,12})?)(?P<unit>ms|s|m)$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0}
MAX_USERS = 10_000
MAX_TRIALS = 100
MAX_DURATION_S = 3600.0
MAX_SERVER_CPUS = 256
MAX_LOADGEN_PROCESSES = 64
MAX_ARRIVAL_RATE = 100_000
#: The shortest duration anything takes (a warm-up, a timeout, a latency objective): 0.0001ms is a typo.
MIN_DURATION_S = 0.001
#: The shortest measured window of a step.
MIN_WINDOW_S = 1.0
_MEMORY = re.compile(r"^(?P<number>[0-9]{1,12})(?P<unit>[mg])$")
#: Docker refuses less than 6 MiB; a Python server needs far more, but that is for the run to show.
MIN_MEMORY_MB = 6
MAX_MEMORY_MB = 1024 * 1024


def parse_duration(where: str, text: object, minimum_s: float = MIN_DURATION_S) -> float:
    """``20s``, ``1.5m`` or ``500ms`` in seconds; a bare number is refused (which unit was meant?)."""
    match = _DURATION.match(str(text).strip()) if isinstance(text, str | int | float) else None
    if match is None or isinstance(text, bool):
        raise UserError(
            f"{where}: {shown(str(text))} is not a duration; write it with a unit, e.g. 20s, 1m or 500ms"
        )
    seconds = float(match.group("number")) * _UNIT_S[match.group("unit")]
    if not minimum_s <= seconds <= MAX_DURATION_S:
        low = f"{minimum_s * 1000:g}ms" if minimum_s < 1 else f"{minimum_s:g}s"
        raise UserError(
            f"{where}: {shown(str(text))} is out of range (allowed: {low} to {MAX_DURATION_S:.0f}s)"
        )
    return seconds


def _window(where: str, text: object) -> float:
    """A measured window: shorter than a second, a step's figures are a handful of requests' noise."""
    return parse_duration(where, text, MIN_WINDOW_S)


def _positive(where: str, value: object, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UserError(f"{where}: {value!r} is not an integer (allowed: 1..{maximum})")
    if not 1 <= value <= maximum:
        raise UserError(f"{where}: {value} is out of range (allowed: 1..{maximum})")
    return value


def parse_memory(where: str, text: object) -> str:
    """A memory limit as Docker takes it, in MiB or GiB: ``512m``, ``2g``."""
    match = _MEMORY.match(text.strip().lower()) if isinstance(text, str) else None
    if match is None:
        written = shown(text) if isinstance(text, str) else shown(repr(text))
        raise UserError(f"{where}: {written} is not a memory size; write it as e.g. 512m or 2g")
    mb = int(match.group("number")) * (1024 if match.group("unit") == "g" else 1)
    if not MIN_MEMORY_MB <= mb <= MAX_MEMORY_MB:
        raise UserError(f"{where}: {text} is out of range (allowed: {MIN_MEMORY_MB}m to 1024g)")
    return f"{match.group('number')}{match.group('unit')}"


def _spec_list(where: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        items = split_specs(value)
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = [v.strip() for v in value]
    else:
        raise UserError(f"{where}: expected a list of specs, got {value!r}")
    if not items:
        raise UserError(f"{where}: the list is empty")
    return tuple(items)


def _steps(where: str, value: object, what: str, maximum: int) -> tuple[int, ...]:
    """An increasing list of positive integers: user counts, or arrival rates in requests per second."""
    if isinstance(value, str):
        parts: list[object] = []
        for part in value.split(","):
            part = part.strip()
            number = parse_int(part)
            if number is None:
                raise UserError(f"{where}: {shown(part)} is not an integer (allowed: 1..{maximum})")
            parts.append(number)
        value = parts
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not value:
        raise UserError(f"{where}: expected a non-empty list of {what}, got {value!r}")
    steps = tuple(_positive(f"{where}[{i}]", v, maximum) for i, v in enumerate(value))
    if len(set(steps)) != len(steps):
        raise UserError(f"{where}: {list(steps)} repeats a value")
    if list(steps) != sorted(steps):
        raise UserError(f"{where}: {list(steps)} must be increasing (the steps run in order)")
    return steps


def _users(where: str, value: object) -> tuple[int, ...]:
    return _steps(where, value, "user counts", MAX_USERS)


def _rates(where: str, value: object) -> tuple[int, ...] | None:
    """Open-loop rates; none (``null`` in a file) is a closed loop."""
    if value is None:
        return None
    return _steps(where, value, "arrival rates (requests per second)", MAX_ARRIVAL_RATE)


def _count(maximum: int) -> Callable[[str, object], int]:
    return lambda where, value: _positive(where, value, maximum)


def _optional_count(maximum: int) -> Callable[[str, object], int | None]:
    return lambda where, value: None if value is None else _positive(where, value, maximum)


#: ``trials: auto``: trials until a precision (``precision.py``), rather than a fixed count.
AUTO_TRIALS = "auto"
#: A precision finer than this would need hundreds of trials; coarser than this says nothing.
MIN_PRECISION = 0.001
MAX_PRECISION = 0.5


def _trials(where: str, value: object) -> int | str:
    if value == AUTO_TRIALS:
        return AUTO_TRIALS
    if isinstance(value, str):
        number = parse_int(value.strip())
        if number is None:
            raise UserError(
                f"{where}: {shown(value)} is not a number of trials (allowed: 1..{MAX_TRIALS}, or auto)"
            )
        value = number
    return _positive(where, value, MAX_TRIALS)


def trials_option(text: str) -> int | str:
    """``--trials``: ``auto`` or a positive integer, before the key checks the bound."""
    return AUTO_TRIALS if text.strip() == AUTO_TRIALS else positive_int_option(text)


def _max_trials(where: str, value: object) -> int:
    count = _positive(where, value, MAX_TRIALS)
    if count < MIN_AUTO_TRIALS:
        raise UserError(f"{where}: {count} is out of range (allowed: {MIN_AUTO_TRIALS}..{MAX_TRIALS})")
    return count


def _precision(where: str, value: object) -> float:
    """A share, written as a percentage (``5%``) or a fraction (``0.05``)."""
    number: float | None = None
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            number = None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    allowed = f"{MIN_PRECISION:.1%} to {MAX_PRECISION:.0%}, e.g. 5%"
    if number is None or number != number:
        raise UserError(f"{where}: {shown(str(value))} is not a percentage (allowed: {allowed})")
    if not MIN_PRECISION <= number <= MAX_PRECISION:
        raise UserError(f"{where}: {shown(str(value))} is out of range (allowed: {allowed})")
    return number


def _show_share(value: float) -> str:
    return f"{value * 100:g}%"


def _share_written(value: object) -> object:
    """A recorded share as a file writes it (``5%``)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return f"{value * 100:g}%"


#: The reference generators: ``wrk`` (Debian's, in its own image), or ``none``.
REFERENCE_GENERATORS = ("wrk", "none")


def _one_of(where: str, value: object, values: tuple[str, ...], what: str) -> str:
    """``value`` when it is one of ``values``; else one line naming it, ``what`` it should be, and the
    values allowed."""
    if value not in values:
        shown_value = shown(str(value)) if isinstance(value, str) else repr(value)
        raise UserError(f"{where}: {shown_value} is not {what} (allowed: {', '.join(values)})")
    return str(value)


def _reference_generator(where: str, value: object) -> str:
    return _one_of(where, value, REFERENCE_GENERATORS, "a reference generator")


#: Which trials of a cell the reference generator measures: ``every`` one, or the ``first`` only.
REFERENCE_TRIALS = ("every", "first")


def _reference_trials(where: str, value: object) -> str:
    return _one_of(where, value, REFERENCE_TRIALS, "which trials the reference measures")


#: Open loop: how arrivals are spaced. ``uniform``: each load process's share of the rate evenly, on a
#: clock; ``poisson``: exponential gaps from a seeded generator, so the arrivals over every process are a
#: Poisson process of the rate (``locustfiles/smconfig.py`` holds the same names).
ARRIVALS = ("uniform", "poisson")
#: The highest arrival seed: what a 32-bit seed holds, and more than a run needs.
MAX_ARRIVAL_SEED = 2**32 - 1


def _arrivals(where: str, value: object) -> str:
    return _one_of(where, value, ARRIVALS, "a kind of arrivals")


def _seed(where: str, value: object) -> int:
    """A seed from a file (an integer) or an option (its text): 0..MAX_ARRIVAL_SEED."""
    number = parse_int(value.strip()) if isinstance(value, str) else value
    allowed = f"allowed: 0..{MAX_ARRIVAL_SEED}"
    if isinstance(number, bool) or not isinstance(number, int):
        written = shown(value) if isinstance(value, str) else repr(value)
        raise UserError(f"{where}: {written} is not an integer ({allowed})")
    if not 0 <= number <= MAX_ARRIVAL_SEED:
        raise UserError(f"{where}: {number} is out of range ({allowed})")
    return number


def _text(where: str, value: object) -> str:
    """Text as written; none (an empty key) is empty. A mapping, a list, a number or a boolean is
    refused: YAML read something other than the text meant."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise UserError(f"{where}: {shown(repr(value))} is not text (allowed: any text; quote a number)")
    return value


def _app_folder(where: str, value: object) -> str | None:
    """A user's app: its folder, as given; what it holds is checked when the matrix is (``user_app``)."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 4096 or not value.isprintable():
        shown_value = shown(value) if isinstance(value, str) else repr(value)
        raise UserError(f"{where}: {shown_value} is not a folder (allowed: an app's folder and app.yml)")
    return value.strip()


def _inventory_file(where: str, value: object) -> str | None:
    """A host inventory: its file, made absolute, so a run resumed from another folder finds it; what it
    holds is checked before the run starts (``Matrix.inventory``)."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 4096 or not value.isprintable():
        shown_value = shown(value) if isinstance(value, str) else repr(value)
        raise UserError(f"{where}: {shown_value} is not a file (allowed: a host inventory, YAML)")
    return os.path.abspath(value.strip())


def positive_int_option(text: str) -> int:
    """An option's integer, before its key checks the bound: argparse says what is wrong with it."""
    value = parse_int(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"{shown(text)} is not an integer")
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive integer")
    return value


def _show(value: object) -> str:
    """A value as a matrix file would write it."""
    if isinstance(value, tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def _show_seconds(seconds: float) -> str:
    return f"{seconds:g}s"


def _as_written(value: object) -> object:
    """A recorded value as a matrix file writes it: lists, numbers and strings are already that."""
    return value


def _seconds_written(value: object) -> object:
    """Recorded seconds as a duration a file writes (``20s``, ``0.25s``), exactly: parsing gives them back."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    text = f"{value:g}"
    return f"{text if float(text) == value else repr(float(value))}s"


@dataclass(frozen=True)
class MatrixKey(Generic[T]):
    """One key of a matrix, in every place it appears."""

    #: The field of ``Matrix``, and the key under run.json's ``"matrix"``.
    field: str
    #: The key in a matrix file.
    yaml: str
    #: Checks a value from a file or the command line; ``where`` starts its error line.
    parse: Callable[[str, object], T]
    default: T
    #: What the key means (the README's table).
    doc: str
    #: The values allowed (the README's table).
    allowed: str
    #: The option of ``servingmatrix run``; None: a matrix file only.
    flag: str | None = None
    #: The option's help; ``{default}`` is replaced by the default as shown.
    help: str = ""
    metavar: str | None = None
    #: argparse's conversion of the option's text, before ``parse`` checks it.
    option_type: Callable[[str], Any] | None = None
    #: A matrix file must give it.
    required: bool = False
    #: The default in words, when the value alone does not say it.
    shown: str | None = None
    show: Callable[[T], str] = _show
    #: The key this one cannot be given with, in a file or as options; an option for either one
    #: replaces the other from the file.
    excludes: str | None = None
    #: Two runs that differ here measured in different ways (``compare`` says so).
    compared: bool = False
    #: A value as run.json's ``"matrix"`` records it, turned back into what a file writes.
    written: Callable[[object], object] = _as_written
    #: A path that a matrix file gives relative to its own folder (an option's, to the current one).
    file_relative: bool = False
    #: Means something in an open loop only (``arrival_rates`` given): a closed loop ignores it, and
    #: two closed-loop runs that differ here measured alike.
    open_loop_only: bool = False

    @property
    def default_shown(self) -> str:
        if self.required:
            return "required"
        return self.shown if self.shown is not None else self.show(self.default)

    @property
    def option_help(self) -> str:
        return self.help.replace("{default}", self.default_shown)

    def record(self, value: T) -> object:
        """The value as run.json's ``"matrix"`` holds it: lists, numbers and strings."""
        return list(value) if isinstance(value, tuple) else value


DESCRIPTION_KEY = MatrixKey[str](
    field="description",
    yaml="description",
    parse=_text,
    default="",
    shown="empty",
    doc="what this matrix is for, shown in the report",
    allowed="any text",
)
MODES_KEY = MatrixKey[tuple[str, ...]](
    field="modes",
    yaml="modes",
    parse=_spec_list,
    default=(),
    required=True,
    flag="--modes",
    help="comma-separated mode specs, e.g. gunicorn-gthread[workers=2,threads=4]",
    doc="the serving modes measured, each a spec such as `gunicorn-gthread[workers=2,threads=4]`",
    allowed="a list of mode specs, none twice",
)
WORKLOADS_KEY = MatrixKey[tuple[str, ...]](
    field="workloads",
    yaml="workloads",
    parse=_spec_list,
    default=(),
    required=True,
    flag="--workloads",
    help="comma-separated workload specs, e.g. io[ms=100]",
    doc="the workloads each mode serves, each a spec such as `io[ms=100]`",
    allowed="a list of workload specs, none twice",
)
USERS_KEY = MatrixKey[tuple[int, ...]](
    field="users",
    yaml="users",
    parse=_users,
    default=(1, 16, 64),
    flag="--users",
    help="comma-separated increasing user counts, e.g. 1,16,64",
    doc="closed loop: the concurrent users of each step; one Locust session steps through them",
    allowed=f"increasing integers, 1..{MAX_USERS}",
)
DURATION_KEY = MatrixKey[float](
    field="duration_s",
    yaml="duration",
    parse=_window,
    default=20.0,
    show=_show_seconds,
    written=_seconds_written,
    flag="--duration",
    help="measured time per step, e.g. 20s",
    doc="measured time per step",
    allowed=f"a duration with its unit (ms, s, m), {MIN_WINDOW_S:g}s to {MAX_DURATION_S:.0f}s",
    compared=True,
)
WARMUP_KEY = MatrixKey[float](
    field="warmup_s",
    yaml="warmup",
    parse=parse_duration,
    default=5.0,
    show=_show_seconds,
    written=_seconds_written,
    flag="--warmup",
    help="discarded warm-up per step, e.g. 5s",
    doc="discarded at the start of each step",
    allowed=f"a duration with its unit (ms, s, m), {MIN_DURATION_S * 1000:g}ms to {MAX_DURATION_S:.0f}s",
    compared=True,
)
TRIALS_KEY = MatrixKey[int | str](
    field="trials",
    yaml="trials",
    parse=_trials,
    default=1,
    flag="--trials",
    option_type=trials_option,
    help="repeats of every cell, or auto: at least 3, more until --precision (up to --max-trials)",
    doc="repeats of every cell; `auto`: at least 3 independent sessions of each, then more, round by "
    "round, until the median's 95% interval is within `precision` of it or `max_trials` is reached",
    allowed=f"1..{MAX_TRIALS}, or auto",
)
PRECISION_KEY = MatrixKey[float](
    field="precision",
    yaml="precision",
    parse=_precision,
    default=0.05,
    show=_show_share,
    written=_share_written,
    flag="--precision",
    help="with --trials auto, the half-width of the median's 95%% interval asked, e.g. 5%%",
    doc="with `trials: auto`: the half-width of the throughput median's 95% interval asked of every "
    "step, as a share of the median",
    allowed=f"a percentage, {MIN_PRECISION:.1%} to {MAX_PRECISION:.0%}",
)
MAX_TRIALS_KEY = MatrixKey[int](
    field="max_trials",
    yaml="max_trials",
    parse=_max_trials,
    default=7,
    flag="--max-trials",
    option_type=positive_int_option,
    help="with --trials auto, the most trials of a cell",
    doc="with `trials: auto`: the most trials of a cell; one short of the precision then is flagged P",
    allowed=f"{MIN_AUTO_TRIALS}..{MAX_TRIALS}",
)
SERVER_CPUS_KEY = MatrixKey[int](
    field="server_cpus",
    yaml="server_cpus",
    parse=_count(MAX_SERVER_CPUS),
    default=1,
    flag="--server-cpus",
    option_type=positive_int_option,
    help="cores given to the server under test",
    doc="cores given to the server under test (the modes' defaults are sized for them)",
    allowed=f"1..{MAX_SERVER_CPUS}",
    compared=True,
)
SERVER_MEMORY_KEY = MatrixKey[str](
    field="server_memory",
    yaml="server_memory",
    parse=parse_memory,
    default="2g",
    flag="--server-memory",
    help="the server container's memory limit, e.g. 512m (default: {default})",
    doc="the server container's memory limit",
    allowed=f"MiB or GiB: `512m`, `2g`; {MIN_MEMORY_MB}m to 1024g",
)
LOADGEN_PROCESSES_KEY = MatrixKey[int | None](
    field="loadgen_processes",
    yaml="loadgen_processes",
    parse=_optional_count(MAX_LOADGEN_PROCESSES),
    default=None,
    shown="one per core of the generator",
    flag="--loadgen-processes",
    option_type=positive_int_option,
    help="Locust processes sending the load (its --processes) (default: {default})",
    doc="Locust processes sending the load (its `--processes`)",
    allowed=f"1..{MAX_LOADGEN_PROCESSES}",
)
ARRIVAL_RATES_KEY = MatrixKey[tuple[int, ...] | None](
    field="arrival_rates",
    yaml="arrival_rates",
    parse=_rates,
    default=None,
    shown="none: a closed loop of `users`",
    flag="--arrival-rate",
    metavar="RATES",
    help="open loop: requests per second offered at each step, e.g. 200,400,800 (replaces --users)",
    doc="open loop instead of users: the requests per second offered at each step, whatever the "
    "answers' latency",
    allowed=f"increasing integers, 1..{MAX_ARRIVAL_RATE}",
    excludes="users",
    compared=True,
)
ARRIVALS_KEY = MatrixKey[str](
    field="arrivals",
    yaml="arrivals",
    parse=_arrivals,
    default="uniform",
    flag="--arrivals",
    metavar="|".join(ARRIVALS),
    help="open loop: how arrivals are spaced, uniform (evenly, the default) or poisson (exponential "
    "gaps from --arrival-seed)",
    doc="open loop: how each step's arrivals are spaced: `uniform`, each load process's share of the "
    "rate evenly on a clock; `poisson`, exponential gaps, so the arrivals are a Poisson process of the "
    "rate (see [How a run measures](#how-a-run-measures)); a closed loop ignores it",
    allowed=", ".join(ARRIVALS),
    compared=True,
    open_loop_only=True,
)
ARRIVAL_SEED_KEY = MatrixKey[int](
    field="arrival_seed",
    yaml="arrival_seed",
    parse=_seed,
    default=0,
    flag="--arrival-seed",
    metavar="SEED",
    help="poisson arrivals: the seed their gaps are drawn from (default: {default}); the same seed "
    "replays the same arrivals",
    doc="poisson arrivals: the seed their gaps are drawn from; each session draws from the seed and "
    "its cell, each load process from its own index, so a run with the same seed replays the same "
    "arrivals (the cells record it)",
    allowed=f"0..{MAX_ARRIVAL_SEED}",
    open_loop_only=True,
)
REQUEST_TIMEOUT_KEY = MatrixKey[float](
    field="request_timeout_s",
    yaml="request_timeout",
    parse=parse_duration,
    default=30.0,
    show=_show_seconds,
    written=_seconds_written,
    flag="--request-timeout",
    help="a request not answered by then fails, e.g. {default} (default)",
    doc="a request not answered by then fails",
    allowed=f"a duration with its unit (ms, s, m), {MIN_DURATION_S * 1000:g}ms to {MAX_DURATION_S:.0f}s",
)

REFERENCE_KEY = MatrixKey[str](
    field="reference",
    yaml="reference",
    parse=_reference_generator,
    default="wrk",
    flag="--reference",
    metavar="GENERATOR",
    help="the native generator measured after each closed-loop step against the same server: "
    "{default} (default) or none",
    doc="after each closed-loop step, a native generator drives the same server with as many "
    "connections as the step has users, on the load generator's cores and quota: how much of the "
    "server Locust reached (`generator_efficiency`)",
    allowed=", ".join(REFERENCE_GENERATORS),
)
REFERENCE_DURATION_KEY = MatrixKey[float](
    field="reference_duration_s",
    yaml="reference_duration",
    parse=_window,
    default=5.0,
    show=_show_seconds,
    written=_seconds_written,
    flag="--reference-duration",
    help="the reference generator's shortest measured window, e.g. {default} (default); longer when "
    "the step's answers are slow",
    doc="the reference generator's shortest measured window: it counts the answers that complete inside "
    "it, after a warm-up in the same run, and grows to five of the step's p99 latencies",
    allowed=f"a duration with its unit (ms, s, m), {MIN_WINDOW_S:g}s to {MAX_DURATION_S:.0f}s",
)

REFERENCE_TRIALS_KEY = MatrixKey[str](
    field="reference_trials",
    yaml="reference_trials",
    parse=_reference_trials,
    default="every",
    flag="--reference-trials",
    metavar="every|first",
    help="which trials of a cell the reference generator measures: {default} (default) or first",
    doc="which trials of a cell the reference generator measures: `every` one, or the `first` only (the "
    "first that gives it a figure; its figures, the G efficiency rule and the R flag then come from that "
    "trial, and the others save its windows)",
    allowed=", ".join(REFERENCE_TRIALS),
)

APP_KEY = MatrixKey[str | None](
    field="app",
    yaml="app",
    parse=_app_folder,
    default=None,
    shown="none: the bundled app (`app/benchapp`)",
    flag="--app",
    metavar="DIR",
    help="measure your own WSGI app: the folder holding it and its app.yml (its workloads: app:NAME, "
    "app:mixed)",
    doc="the app measured: a folder (relative to the current directory) holding a WSGI app and its "
    "`app.yml`; its workloads are `app:NAME` and `app:mixed` (see [Your own app](#your-own-app))",
    allowed="a folder with an `app.yml`",
)
HOSTS_KEY = MatrixKey[str | None](
    field="hosts",
    yaml="hosts",
    parse=_inventory_file,
    default=None,
    shown="none: this machine's Docker engine alone",
    flag="--hosts",
    metavar="FILE",
    help="run across the Docker engines of a host inventory (YAML: each host's engine, address, cores "
    "and roles)",
    doc="a multi-host run: the host inventory (relative to the matrix file) listing each host's Docker "
    "engine, address, cores and roles (see [Several hosts](#several-hosts))",
    allowed="a host inventory file",
    file_relative=True,
)

#: Every key, in the order of the ``run`` options and of run.json's ``"matrix"``.
MATRIX_KEYS: tuple[MatrixKey[Any], ...] = (
    DESCRIPTION_KEY,
    MODES_KEY,
    WORKLOADS_KEY,
    USERS_KEY,
    DURATION_KEY,
    WARMUP_KEY,
    TRIALS_KEY,
    PRECISION_KEY,
    MAX_TRIALS_KEY,
    SERVER_CPUS_KEY,
    SERVER_MEMORY_KEY,
    LOADGEN_PROCESSES_KEY,
    ARRIVAL_RATES_KEY,
    ARRIVALS_KEY,
    ARRIVAL_SEED_KEY,
    REQUEST_TIMEOUT_KEY,
    REFERENCE_KEY,
    REFERENCE_DURATION_KEY,
    REFERENCE_TRIALS_KEY,
    APP_KEY,
    HOSTS_KEY,
)
BY_YAML: dict[str, MatrixKey[Any]] = {key.yaml: key for key in MATRIX_KEYS}
#: The keys ``servingmatrix run`` takes as options.
OPTION_KEYS: tuple[MatrixKey[Any], ...] = tuple(key for key in MATRIX_KEYS if key.flag is not None)
#: run.json's ``"matrix"`` entries that change what a figure means, which ``compare`` checks as it
#: checks the machine's metadata (a step of an open-loop run is an offered rate, not a number of users).
METHOD_KEYS: tuple[str, ...] = tuple(key.field for key in MATRIX_KEYS if key.compared)


def method_values(recorded: dict[str, Any]) -> dict[str, object]:
    """A run's ``"matrix"`` as ``compare`` weighs it: each of ``METHOD_KEYS``, a key the run predates
    read as its default (what the run did before the key existed), and a key that means something in
    an open loop only left out of a closed-loop run's."""
    open_loop = recorded.get(ARRIVAL_RATES_KEY.field) is not None
    return {
        key.field: recorded.get(key.field, key.record(key.default))
        for key in MATRIX_KEYS
        if key.compared and (open_loop or not key.open_loop_only)
    }


def exclusive_pairs() -> list[tuple[MatrixKey[Any], MatrixKey[Any]]]:
    """``(key, the key it excludes)`` for every key that cannot be given with another."""
    return [(key, BY_YAML[key.excludes]) for key in MATRIX_KEYS if key.excludes is not None]
