"""The verbs that measure and clean up after: run, tune and clean."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from servingmatrix.cli.output import say
from servingmatrix.cli.results import milliseconds, percent
from servingmatrix.cli.verb import Argument, Verb, switch
from servingmatrix.errors import UserError
from servingmatrix.matrix_keys import MATRIX_KEYS, positive_int_option
from servingmatrix.spec import split_specs

if TYPE_CHECKING:
    from servingmatrix.tune.request import TuneRequest


def seconds_option(text: str) -> float:
    """A duration option (``10s``, ``500ms``) in seconds; argparse says what is wrong with it."""
    from servingmatrix.matrix_keys import parse_duration

    try:
        return parse_duration("", text)
    except UserError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix(": ")) from None


def wait_option(text: str) -> float:
    """How long to wait at most (``2m``, ``30s``), or ``0s``: not at all."""
    from servingmatrix.matrix_keys import parse_duration

    try:
        return parse_duration("", text, minimum_s=0.0)
    except UserError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix(": ")) from None


#: How long ``run`` and ``reproduce`` wait for quiet cores before calibrating.
QUIET_WAIT_OPTION = Argument(
    ("--quiet-wait",),
    "wait at most this long for the cores to be quiet and the load average low before calibrating "
    # flags.QUIET_WAIT_S, not imported here: the parser is built for every verb (a unit test holds the
    # two equal).
    "(default: 120s; 0s: do not wait)",
    metavar="DURATION",
    type=wait_option,
)


def quiet_wait_s(args: argparse.Namespace) -> float:
    """``--quiet-wait`` in seconds, or the declared default."""
    from servingmatrix.flags import QUIET_WAIT_S

    return QUIET_WAIT_S if args.quiet_wait is None else float(args.quiet_wait)


def seed_option(text: str) -> int:
    """A seed: 0 to 2^32 - 1."""
    from servingmatrix.matrix_keys import MAX_ARRIVAL_SEED

    if not text.strip().isdigit() or int(text) > MAX_ARRIVAL_SEED:
        raise argparse.ArgumentTypeError(f"{text!r} is not a seed (allowed: 0..{MAX_ARRIVAL_SEED})")
    return int(text)


def matrix_key_options() -> tuple[Argument, ...]:
    """One option per matrix key that has one; its value lands under the key's file name (``args.users``)."""
    return tuple(
        Argument(
            (key.flag,), key.option_help, metavar=key.metavar, type=key.option_type or str, dest=key.yaml
        )
        for key in MATRIX_KEYS
        if key.flag is not None
    )


def say_measured(out: Path) -> None:
    """What a run ends with: its summary, where its results are, and the report written of them."""
    from servingmatrix.report.page import write_report
    from servingmatrix.report.views.summary import summarize
    from servingmatrix.results.folder import RunFolder

    say(summarize(RunFolder(out)))
    say(f"results: {out}  (export: servingmatrix export {out} --format csv)")
    say(f"report: {write_report(out).describe()}")


def cmd_run(args: argparse.Namespace) -> int:
    from servingmatrix.matrix import Overrides, apply_overrides, load_matrix, load_profile
    from servingmatrix.paths import project_root
    from servingmatrix.run.measure_matrix import RunSettings, measure
    from servingmatrix.run.plan.options import check_run_options

    check_run_options(args)
    if args.matrix and args.profile:
        raise UserError("give --profile or --matrix, not both")
    matrix = load_matrix(Path(args.matrix)) if args.matrix else load_profile(args.profile or "quick")
    matrix = apply_overrides(matrix, Overrides.from_options(args))
    if args.out is not None and not args.out.strip():
        raise UserError("--out is empty; give the folder to write the run into")
    out = Path(args.out) if args.out is not None else project_root() / "reports" / "runs" / matrix.name
    settings = RunSettings(
        force=args.force,
        keep_samples=args.keep_samples,
        calibrate=not args.no_calibration,
        recalibrate=args.recalibrate,
        quiet_wait_s=quiet_wait_s(args),
    )
    measure(matrix, out, say, settings)
    say_measured(out)
    return 0


def cmd_tune(args: argparse.Namespace) -> int:
    from servingmatrix.analysis.verdict import Objective
    from servingmatrix.matrix_keys import parse_memory
    from servingmatrix.paths import project_root
    from servingmatrix.tune.bracket import BracketSettings
    from servingmatrix.tune.checks import check_tune
    from servingmatrix.tune.request import TuneRequest, parse_budget
    from servingmatrix.tune.tune import production_modes

    if args.out is not None and not args.out.strip():
        raise UserError("--out is empty; give the folder to write the tune into")
    modes = tuple(split_specs(args.modes)) if args.modes is not None else production_modes(args.app)
    if not modes:
        raise UserError("--modes: the list is empty")
    if args.precision <= 0:
        raise UserError("--precision 0% cannot be reached; give a share above 0, e.g. 10%")
    request = TuneRequest(
        modes=modes,
        workload=args.workload or ("app:mixed" if args.app else "mixed"),
        server_cpus=args.server_cpus,
        server_memory=parse_memory("--server-memory", args.server_memory),
        objective=Objective(p99_ms=args.slo_p99, max_error_rate=args.max_error_rate),
        budget_s=parse_budget(args.budget),
        seed=args.seed,
        bracket=BracketSettings(
            start_rps=args.start_rate, precision=args.precision, confirmations=args.confirmations
        ),
        probe_s=args.probe_duration,
        probe_warmup_s=args.probe_warmup,
        app=args.app,
        max_configs=args.max_configs,
        arrivals=args.arrivals,
    )
    out = Path(args.out) if args.out is not None else project_root() / "reports" / "tunes" / "tune"
    check_tune(request, out)
    say_tuned(request, out)
    return 0


def say_tuned(request: TuneRequest, out: Path) -> None:
    """Tune, then print its answer and write its page."""
    from servingmatrix.report.views.tune_page import write_tune_page
    from servingmatrix.report.views.tune_summary import tune_summary
    from servingmatrix.tune.measure_tune import measure_tune

    result = measure_tune(request, out, say)
    say(tune_summary(result))
    say(f"results: {out / 'tune.json'}")
    say(f"page: {write_tune_page(result, out)}")


def cmd_clean(args: argparse.Namespace) -> int:
    from servingmatrix.engine.docker import Docker
    from servingmatrix.run.stack.cleanup import clean_project_objects

    if args.hosts is None:
        say(clean_project_objects(Docker()).text())
        return 0
    from servingmatrix.hosts.engines import connect_engine
    from servingmatrix.hosts.inventory import load_inventory
    from servingmatrix.run.stack.cleanup import clean_inventory

    clean_inventory(load_inventory(Path(args.hosts)), connect_engine, say)
    return 0


RUN = Verb(
    "run",
    "run a matrix: every mode x workload x users x trial",
    cmd_run,
    (
        Argument(("--profile",), "a matrix from profiles/ (quick, default, full; default: quick)"),
        Argument(("--matrix",), "a matrix YAML file"),
        *matrix_key_options(),
        switch("--no-calibration", "skip measuring the load generator's maximum first"),
        switch(
            "--recalibrate",
            "calibrate the load generator (and keep it) even if a calibration of the last day matches",
        ),
        Argument(("--out",), "run folder (default: reports/runs/<profile>); rerunning resumes it"),
        switch("--force", "measure again cells already on disk"),
        switch("--keep-samples", "keep Locust's per-request timings"),
        QUIET_WAIT_OPTION,
    ),
)

TUNE = Verb(
    "tune",
    "find the server and settings that serve the most within a latency objective on a budget, and "
    "write the files to deploy them",
    cmd_tune,
    (
        Argument(("--app",), "your app's folder (default: the bundled app)", metavar="DIR"),
        Argument(("--workload",), "the workload (default: mixed, or app:mixed with --app)", metavar="SPEC"),
        Argument(
            ("--modes",),
            "the modes searched, a tunable given in a spec fixed (default: every production server; "
            "Werkzeug's development server only when named)",
            metavar="A,B",
        ),
        Argument(
            ("--server-cpus",),
            "the server's whole CPUs (default: 1)",
            metavar="N",
            type=positive_int_option,
            default=1,
        ),
        Argument(
            ("--server-memory",), "the server's memory limit (default: 2g)", metavar="SIZE", default="2g"
        ),
        Argument(
            ("--slo-p99",),
            "the latency objective: p99 at most this (default: 500ms)",
            metavar="DURATION",
            type=milliseconds,
            default=500.0,
        ),
        Argument(
            ("--max-error-rate",),
            "the most failed requests within the objective (default: 1%%)",
            metavar="SHARE",
            type=percent,
            default=0.01,
        ),
        Argument(("--budget",), "the wall time of the search (default: 30m)", metavar="TIME", default="30m"),
        Argument(
            ("--arrivals",),
            "how each probe's arrivals are spaced: poisson (the default: bursts, as production sees them) "
            "or uniform",
            choices=("poisson", "uniform"),
            default="poisson",
        ),
        Argument(
            ("--seed",),
            "the seed of the search and of the arrivals (default: 0)",
            metavar="N",
            type=seed_option,
            default=0,
        ),
        Argument(
            ("--probe-duration",),
            "each probe's measured window (default: 10s)",
            metavar="DURATION",
            type=seconds_option,
            default=10.0,
        ),
        Argument(
            ("--probe-warmup",),
            "each probe's discarded warm-up (default: 3s)",
            metavar="DURATION",
            type=seconds_option,
            default=3.0,
        ),
        Argument(
            ("--precision",),
            "bisect each capacity's bracket to this share of it (default: 10%%)",
            metavar="SHARE",
            type=percent,
            default=0.10,
        ),
        Argument(
            ("--confirmations",),
            "trials at the final rate, each within the objective (default: 3)",
            metavar="N",
            type=positive_int_option,
            default=3,
        ),
        Argument(
            ("--start-rate",),
            "the first rate offered, req/s (default: 10)",
            metavar="RPS",
            type=positive_int_option,
            default=10,
        ),
        Argument(
            ("--max-configs",),
            "the most configurations measured (default: no limit)",
            metavar="N",
            type=positive_int_option,
        ),
        Argument(("--out",), "the tune's folder (default: reports/tunes/tune); rerunning resumes it"),
    ),
)

CLEAN = Verb(
    "clean",
    "remove every container, network and volume the project created",
    cmd_clean,
    (
        Argument(
            ("--hosts",),
            "clean every engine of this host inventory instead of this machine's (each engine once)",
            metavar="FILE",
        ),
    ),
)
