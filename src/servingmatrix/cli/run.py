"""The verbs that measure and clean up after: run and clean."""

from __future__ import annotations

import argparse
from pathlib import Path

from servingmatrix.cli.output import say
from servingmatrix.cli.verb import Argument, Verb, switch
from servingmatrix.errors import UserError
from servingmatrix.matrix_keys import MATRIX_KEYS


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
    )
    measure(matrix, out, say, settings)
    say_measured(out)
    return 0


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
