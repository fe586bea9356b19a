"""The verbs that read runs: export, report, compare, and the named baselines (baseline save|list)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from servingmatrix.cli.output import checked_output, say, status_for
from servingmatrix.cli.verb import Argument, Verb, switch
from servingmatrix.errors import UserError
from servingmatrix.spec import shown


def milliseconds(text: str) -> float:
    from servingmatrix.matrix_keys import parse_duration

    try:
        return 1000.0 * parse_duration("--slo-p99", text)
    except UserError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--slo-p99: ")) from None


def percent(text: str) -> float:
    """``5%`` (or ``5``) as 0.05."""
    try:
        value = float(text.strip().removesuffix("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a percentage, e.g. 5%") from None
    if not 0 <= value < 100:
        raise argparse.ArgumentTypeError(f"{text} is out of range (allowed: 0% to under 100%)")
    return value / 100.0


SLO_OPTION = Argument(
    ("--slo-p99",),
    "the latency objective of the verdict: p99 at most this (default: 500ms)",
    metavar="DURATION",
    type=milliseconds,
    default=500.0,
)


def cmd_export(args: argparse.Namespace) -> int:
    from servingmatrix.report.export import export_csv, export_json, export_markdown
    from servingmatrix.results.folder import RunFolder

    # Markdown's charts are files beside its page: it is written to a file, never a stream.
    output = checked_output(args.output, streams=args.format != "md")
    if args.format == "md":
        for path in export_markdown(Path(args.run_dir), output, args.slo_p99):
            say(f"wrote {path}")
        return 0
    folder = RunFolder(Path(args.run_dir))
    text = export_csv(folder) if args.format == "csv" else export_json(folder)
    if output is not None:
        from servingmatrix.report.output import write_text_atomic

        write_text_atomic(output, text)
    else:
        sys.stdout.write(text)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from servingmatrix.analysis.verdict import Objective
    from servingmatrix.report.page import write_report

    output = checked_output(args.output)
    written = write_report(Path(args.run_dir), output, Objective(p99_ms=args.slo_p99))
    status_for(output)(f"wrote {written.describe()}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from servingmatrix.analysis.compare import compare_runs
    from servingmatrix.report.views.compare_page import write_compare
    from servingmatrix.report.views.compare_text import terminal_table
    from servingmatrix.results.baseline import resolve_baseline

    run_dir = Path(args.run)
    output = checked_output(args.output)
    comparison = compare_runs(
        resolve_baseline(args.baseline),
        run_dir,
        args.threshold,
        allow_different_apps=args.allow_different_apps,
    )
    # With the page on standard output, the table goes beside it, to standard error.
    status = status_for(output)
    status(terminal_table(comparison).rstrip("\n"))
    path, seconds, size = write_compare(comparison, output or run_dir / "compare.html")
    status(f"wrote {path} ({size / 1e6:.1f} MB, rendered in {seconds:.2f} s)")
    if args.fail_on_regression and comparison.gate_failures:
        from servingmatrix.report.views.compare_text import gate_line

        print(f"servingmatrix: {gate_line(comparison)}", file=sys.stderr)
        return 1
    return 0


def cmd_baseline_save(args: argparse.Namespace) -> int:
    from servingmatrix.results.baseline import save_baseline

    saved = save_baseline(Path(args.run), args.name, force=args.force)
    say(f"saved baseline {saved.name} in {saved}")
    return 0


def cmd_baseline_list(_args: argparse.Namespace) -> int:
    from servingmatrix.results.baseline import baselines_dir, list_baselines

    found = list_baselines()
    if not found:
        say(f"no baselines in {baselines_dir()} (save one: servingmatrix baseline save RUN_DIR NAME)")
        return 0
    width = max(len(b.name) for b in found)
    say(f"{'name'.ljust(width)}  {'saved':<25} {'run started':<25} {'modes':>5} {'cells':>5}  machine")
    for b in found:
        dates = f"{b.saved_at:<25} {b.started_at:<25}"
        say(f"{b.name.ljust(width)}  {dates} {b.modes:>5} {b.cells:>5}  {b.machine}")
    return 0


RUN_DIR = Argument(("run_dir",), metavar="RUN_DIR")

EXPORT = Verb(
    "export",
    "one row per cell as CSV or JSON; or Markdown with tables and SVG charts, to publish",
    cmd_export,
    (
        RUN_DIR,
        Argument(("--format",), choices=("csv", "json", "md"), default="csv"),
        Argument(
            ("-o", "--output"),
            "write here, not to standard output (md: default RUN_DIR/report.md, charts beside it)",
        ),
        SLO_OPTION,
    ),
)

REPORT = Verb(
    "report",
    "write a run's report: one self-contained HTML page",
    cmd_report,
    (RUN_DIR, Argument(("-o", "--output"), "the page to write (default: RUN_DIR/report.html)"), SLO_OPTION),
)

COMPARE = Verb(
    "compare",
    "per cell, the change in throughput and p99 of RUN against BASELINE",
    cmd_compare,
    (
        Argument(("baseline",), "a run folder, or the name of a saved baseline", metavar="BASELINE"),
        Argument(("run",), "the run folder to judge", metavar="RUN"),
        Argument(
            ("--threshold",),
            "the change that counts as a regression (default: 5%%)",
            type=percent,
            default=0.05,
        ),
        switch(
            "--fail-on-regression",
            "exit with status 1 when any cell regressed, or a cell of the baseline is not in the run",
        ),
        Argument(("-o", "--output"), "the page to write (default: RUN/compare.html)"),
        switch("--allow-different-apps", "compare runs that measured different apps (refused otherwise)"),
    ),
)

BASELINE = Verb(
    "baseline",
    "keep named baselines outside the run folder",
    actions=(
        Verb(
            "save",
            "copy a run's results as a named baseline",
            cmd_baseline_save,
            (
                Argument(("run",), "the run folder", metavar="RUN"),
                Argument(
                    ("name",), "the baseline's name (default: the folder's name)", metavar="NAME", nargs="?"
                ),
                switch("--force", "replace a baseline of the same name"),
            ),
        ),
        Verb("list", "every saved baseline: name, date, modes, machine", cmd_baseline_list),
    ),
)
