"""The ``servingmatrix`` command line: one verb per job, one clear line per error."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from servingmatrix import __version__
from servingmatrix.engine.docker import Docker
from servingmatrix.errors import UserError
from servingmatrix.hosts.simulated.plan import MAX_HOSTS
from servingmatrix.matrix_keys import MAX_SERVER_CPUS, positive_int_option
from servingmatrix.modes import MODES, get_mode
from servingmatrix.spec import parse_int, parse_spec, shown, split_specs

if TYPE_CHECKING:
    from servingmatrix.matrix import Matrix
    from servingmatrix.results.unbundle import OpenedBundle
    from servingmatrix.user_app import UserApp


def say(line: str) -> None:
    print(line, flush=True)


def say_aside(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def status_for(output: Path | None) -> Callable[[str], None]:
    """Where a verb says what it did: standard error when its output goes to standard output."""
    from servingmatrix.report.output import stream_of

    return say_aside if output is not None and stream_of(output) is not None else say


def checked_output(text: str | None, *, streams: bool = True) -> Path | None:
    """An output option's path, refused in one line before anything is computed when it is not a
    regular file or a new name; None when the option was not given."""
    if text is None:
        return None
    from servingmatrix.report.output import ALLOWED, check_output_path

    if not text.strip():
        raise UserError(f"the output (-o) is empty; give {ALLOWED}")
    check_output_path(Path(text), streams=streams)
    return Path(text)


def cmd_modes(args: argparse.Namespace) -> int:
    for mode in MODES:
        config = mode.resolve({}, args.cpus)
        say(f"{mode.name}\n    {mode.summary}")
        for tunable in mode.tunables:
            value = config.values[tunable.name]
            default = f"default {tunable.default_doc} = {value} at {args.cpus} CPU"
            say(f"    {tunable.name}: {tunable.help}; {default}")
        say(f"    why: {mode.defaults_reason}")
        say(f"    command: {' '.join(config.launch('0.0.0.0', 8000).argv)}")
        say(f"    claim: {mode.claim}; keeps connections alive: {'yes' if mode.keeps_alive else 'no'}")
    return 0


def _mode_names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [get_mode(parse_spec(item).name).name for item in split_specs(text)]


#: More builds at once than this only queue up inside the engine.
MAX_BUILD_JOBS = 16


def _build_jobs(text: str) -> int:
    value = positive_int_option(text)
    if value > MAX_BUILD_JOBS:
        raise argparse.ArgumentTypeError(f"{value} is more than {MAX_BUILD_JOBS}")
    return value


def _user_app(folder: str | None) -> UserApp | None:
    """The app of ``--app DIR``, its app.yml checked; None without the option."""
    from pathlib import Path

    from servingmatrix.matrix_keys import APP_KEY
    from servingmatrix.user_app import load_app

    checked = APP_KEY.parse("--app", folder)
    return load_app(Path(checked)) if checked is not None else None


def cmd_build(args: argparse.Namespace) -> int:
    from servingmatrix.building.app_images import build_app_images
    from servingmatrix.building.images import build_images

    started = time.monotonic()
    app = _user_app(args.app)
    modes = _mode_names(args.modes)
    if app is not None:
        outcomes = build_app_images(Docker(), app, modes, say, force=args.force, jobs=args.jobs)
    else:
        outcomes = build_images(Docker(), modes, say, force=args.force, jobs=args.jobs)
    built = sum(1 for o in outcomes if o.built)
    say(f"{len(outcomes)} images ready ({built} built) in {time.monotonic() - started:.0f} s")
    return 0


def cmd_lock(args: argparse.Namespace) -> int:
    from servingmatrix.building.app_locks import lock_app
    from servingmatrix.building.generate import write_rendered
    from servingmatrix.building.images import all_images, image_def
    from servingmatrix.building.locks import compile_lock

    app = _user_app(args.app)
    if app is not None:
        chosen = _mode_names(args.modes)
        modes = [get_mode(name) for name in chosen] if chosen is not None else list(MODES)
        lock_app(app, modes, say, every_mode=chosen is None)
        return 0
    write_rendered()
    names = set(_mode_names(args.modes) or []) or None
    # The app image's lock first: every mode's lock is resolved within it (see building/images.py), so
    # `lock --modes` re-resolves those modes against the app's lock as it stands.
    for image in sorted(all_images(), key=lambda image: len(image.parents)):
        source = image.folder / "requirements.in"
        if (names is None or image.name in names) and source.exists():
            parent_lock = next((image_def(p).lock for p in image.parents if image_def(p).lock), None)
            compile_lock(source, image.folder / "requirements.lock", parent_lock)
            say(f"locked {image.folder / 'requirements.lock'}")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from servingmatrix.building.generate import stale_files, write_rendered

    if args.check:
        stale = stale_files()
        for path in stale:
            say(f"out of date: {path} (run `servingmatrix generate`)")
        return 1 if stale else 0
    for path in write_rendered():
        say(f"wrote {path}")
    return 0


def cmd_workloads(args: argparse.Namespace) -> int:
    from servingmatrix.user_app import app_workloads
    from servingmatrix.workloads import MIX, WORKLOADS

    app = _user_app(args.app)
    if app is not None:
        for spec, workload in app_workloads(app).items():
            total = sum(r.weight for r in workload.fixed)
            say(f"{spec}\n    {workload.summary}")
            for request in workload.fixed if len(workload.fixed) > 1 else ():
                say(f"    {request.weight / total:>4.0%}  {request.name:<9} {request.method} {request.path}")
        return 0
    for workload in WORKLOADS:
        say(f"{workload.name}\n    {workload.summary}; endpoint {workload.endpoint}")
        for param in workload.params:
            say(f"    {param.name}: {param.help}; default {param.default}, allowed {param.low}..{param.high}")
        if workload.name == "mixed":
            total = sum(e.weight for e in MIX)
            for entry in MIX:
                say(f"    {entry.weight / total:>4.0%}  {entry.name:<9} {entry.path}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from servingmatrix.matrix import Overrides, apply_overrides, load_matrix, load_profile
    from servingmatrix.paths import project_root
    from servingmatrix.run.plan.options import check_run_options

    check_run_options(args)
    if args.matrix and args.profile:
        raise UserError("give --profile or --matrix, not both")
    matrix = load_matrix(Path(args.matrix)) if args.matrix else load_profile(args.profile or "quick")
    matrix = apply_overrides(matrix, Overrides.from_options(args))
    if args.out is not None and not args.out.strip():
        raise UserError("--out is empty; give the folder to write the run into")
    out = Path(args.out) if args.out is not None else project_root() / "reports" / "runs" / matrix.name
    measure(
        matrix,
        out,
        force=args.force,
        keep_samples=args.keep_samples,
        calibrate=not args.no_calibration,
        recalibrate=args.recalibrate,
    )
    return 0


def measure(
    matrix: Matrix,
    out: Path,
    *,
    force: bool = False,
    keep_samples: bool = False,
    calibrate: bool = True,
    recalibrate: bool = False,
    inputs: Path | None = None,
    reproduces: dict[str, Any] | None = None,
) -> None:
    """Check, build what the matrix needs (from ``inputs`` when given), run it into ``out``, report it;
    ``reproduces`` names the published run a reproduction measures again."""
    from contextlib import nullcontext

    from servingmatrix.paths import cache_dir, inputs_from
    from servingmatrix.report import write_report
    from servingmatrix.report.views.summary import summarize
    from servingmatrix.results.folder import RunFolder
    from servingmatrix.run.plan.hostplan import HostsPlan
    from servingmatrix.run.plan.preflight import preflight
    from servingmatrix.run.runner import Runner
    from servingmatrix.run.stack.app_stack import serve_app

    plan = preflight(matrix, out, force)
    docker = Docker()
    inventory = matrix.inventory
    if inventory is not None:
        from servingmatrix.hosts.engines import check_engines, connect_engine

        # Before anything is built: an engine that does not answer is named now, not minutes in.
        check_engines(inventory, connect_engine)
    folder = RunFolder(out)
    app = matrix.user_app
    with inputs_from(inputs) if inputs is not None else nullcontext():
        _build_for(docker, matrix)
        steps = (
            f"{len(matrix.steps)} arrival rates" if matrix.open_loop else f"{len(matrix.steps)} user levels"
        )
        of_app = f" of the app {app.name}" if app is not None else ""
        say(
            f"run {matrix.name}{of_app}: {len(matrix.modes)} modes x {len(matrix.workloads)} workloads x "
            f"{steps} x {matrix.trials} trials, into {out}"
        )
        if isinstance(plan, HostsPlan):
            for line in [*plan.describe(), *(f"warning: {text}" for text in plan.warnings)]:
                say(line)
        runner = Runner(
            docker, matrix, folder, say, force=force, keep_samples=keep_samples, reproduces=reproduces
        )
        serve_app(runner, app)
        runner.calibrate = calibrate
        # A kept calibration of the same machine, images and plan is reused, unless told otherwise.
        runner.calibrations = cache_dir() / "calibration"
        runner.recalibrate = recalibrate
        runner.run()
    say(summarize(folder))
    say(f"results: {out}  (export: servingmatrix export {out} --format csv)")
    say(f"report: {write_report(out).describe()}")


def _build_for(docker: Docker, matrix: Matrix) -> None:
    """Build the images the matrix's modes need: the bundled app's, or its user app's."""
    from servingmatrix.building.app_images import build_app_images
    from servingmatrix.building.images import build_images

    needed = sorted({c.mode.name for c in matrix.mode_configs()})
    if matrix.user_app is not None:
        build_app_images(docker, matrix.user_app, needed, say)
    else:
        build_images(docker, needed, say)


def cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from servingmatrix.report import Objective, write_report

    output = checked_output(args.output)
    written = write_report(Path(args.run_dir), output, Objective(p99_ms=args.slo_p99))
    status_for(output)(f"wrote {written.describe()}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from pathlib import Path

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
    if args.fail_on_regression and comparison.regressions:
        from servingmatrix import fmt

        print(
            f"servingmatrix: {len(comparison.regressions)} regression(s) beyond {fmt.share(args.threshold)}",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_bundle(args: argparse.Namespace) -> int:
    import tempfile

    from servingmatrix.building.inputs import export_at_commit, export_worktree, has_commit
    from servingmatrix.paths import project_root
    from servingmatrix.report.output import stream_of, write_atomic
    from servingmatrix.results.bundle import inputs_source, write_bundle
    from servingmatrix.results.folder import RunFolder
    from servingmatrix.results.run import read_run_meta

    out = checked_output(args.output)
    assert out is not None  # a required option
    run_dir, repo, status = Path(args.run), project_root(), status_for(out)
    metadata = read_run_meta(RunFolder(run_dir)).get("metadata")
    source = inputs_source(
        str(run_dir),
        metadata if isinstance(metadata, dict) else {},
        lambda commit: has_commit(repo, commit),
        args.inputs_from_worktree,
    )
    with tempfile.TemporaryDirectory(prefix="servingmatrix-inputs-") as tmp:
        inputs = Path(tmp) / "inputs"
        if source.from_commit and source.commit is not None:
            export_at_commit(repo, source.commit, inputs)
        else:
            export_worktree(repo, inputs)
        written = write_atomic(
            out, lambda handle: write_bundle(handle, run_dir, inputs, source, args.samples)
        )
    if args.samples and not written.info.samples:
        status("note: the run kept no samples (run --keep-samples keeps them)")
    size = "" if stream_of(out) is not None else f", {out.stat().st_size / 1e6:.2f} MB"
    status(f"wrote {out} ({written.members} files{size})")
    status(f"image inputs: {source.describe()}")
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    import tempfile

    from servingmatrix.analysis.reproduction import judge_reproduction
    from servingmatrix.report.views.reproduce_page import write_reproduction_page
    from servingmatrix.report.views.reproduce_text import terminal_table
    from servingmatrix.report.views.reproduce_view import Source
    from servingmatrix.results.unbundle import open_bundle

    if args.against is not None and args.out is not None:
        raise UserError(
            "give --against RUN (compare a run already made) or --out DIR (measure anew), not both"
        )
    bundle = Path(args.bundle)
    output = checked_output(args.output)
    status = status_for(output)
    with tempfile.TemporaryDirectory(prefix="servingmatrix-bundle-") as tmp:
        opened = open_bundle(bundle, Path(tmp))
        run_dir = (
            Path(args.against) if args.against is not None else reproduce_bundle(bundle, opened, args.out)
        )
        reproduction = judge_reproduction(opened.run_dir, run_dir)
        source = Source(bundle, opened.info)
        status(terminal_table(reproduction, source).rstrip("\n"))
        page = output or run_dir / "reproduce.html"
        path, seconds, size = write_reproduction_page(reproduction, source, page)
    status(f"wrote {path} ({size / 1e6:.1f} MB, rendered in {seconds:.2f} s)")
    differing = len(reproduction.differing)
    if args.fail_on_differ and differing:
        print(f"servingmatrix: {differing} cell(s) differ from the published run", file=sys.stderr)
        return 1
    return 0


def reproduce_bundle(bundle: Path, opened: OpenedBundle, out_text: str | None) -> Path:
    """Measure the bundle's matrix anew, its images built from the bundle's inputs; return the run folder."""
    from servingmatrix.matrix import matrix_from_record
    from servingmatrix.paths import project_root
    from servingmatrix.results.folder import RunFolder
    from servingmatrix.results.run import read_run_meta

    if out_text is not None and not out_text.strip():
        raise UserError("--out is empty; give the folder to write the reproduction into")
    published = read_run_meta(RunFolder(opened.run_dir))
    matrix = matrix_from_record(f"{bundle}: run/run.json: matrix", published.get("matrix"))
    info = opened.info
    out = Path(out_text) if out_text else project_root() / "reports" / "runs" / f"{info.run_id}-reproduced"
    if not info.inputs.from_commit:
        say(f"warning: the bundle's image inputs are {info.inputs.describe()}")
    reproduces = {
        "bundle": str(bundle),
        "run_id": info.run_id,
        "commit": info.commit,
        "inputs": info.inputs.source,
    }
    calibrated = published.get("calibration") is not None
    measure(matrix, out, calibrate=calibrated, inputs=opened.inputs_dir, reproduces=reproduces)
    return out


def cmd_site(args: argparse.Namespace) -> int:
    from servingmatrix.report.views.site import write_site

    written = write_site([Path(run) for run in args.runs], Path(args.output))
    say(f"wrote {written.describe()}")
    return 0


def cmd_baseline_save(args: argparse.Namespace) -> int:
    from pathlib import Path

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


def cmd_tools(_args: argparse.Namespace) -> int:
    from servingmatrix.building.chromium import ensure_chromium

    say(f"chromium: {ensure_chromium(say)}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from pathlib import Path

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


def cmd_clean(args: argparse.Namespace) -> int:
    from servingmatrix.run.stack.cleanup import clean_project_objects

    if args.hosts is None:
        say(clean_project_objects(Docker()).text())
        return 0
    from servingmatrix.hosts.engines import connect_engine
    from servingmatrix.hosts.inventory import load_inventory
    from servingmatrix.run.stack.cleanup import clean_inventory

    clean_inventory(load_inventory(Path(args.hosts)), connect_engine, say)
    return 0


def cmd_hosts_up(args: argparse.Namespace) -> int:
    from servingmatrix.hosts.simulated.hosts import hosts_up

    hosts_up(args.count, Path(args.out), say)
    return 0


def cmd_hosts_down(_args: argparse.Namespace) -> int:
    from servingmatrix.hosts.simulated.hosts import hosts_down

    hosts_down(say)
    return 0


def cmd_hosts_status(_args: argparse.Namespace) -> int:
    from servingmatrix.hosts.simulated.hosts import hosts_status

    hosts_status(say)
    return 0


class OneLineParser(argparse.ArgumentParser):
    """Argument errors as every other error: one line naming what was wrong, and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"servingmatrix: error: {one_line(message)} (see: {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="servingmatrix", description="Every way of serving one Flask app, measured side by side."
    )
    parser.add_argument("--version", action="version", version=f"servingmatrix {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    modes = sub.add_parser("modes", help="list the serving modes with their tunables and defaults")
    modes.add_argument("--cpus", type=_cpu_budget, default=1, help="CPU budget the defaults are sized for")
    modes.set_defaults(func=cmd_modes)

    build = sub.add_parser("build", help="build the base image, the wheelhouse and every image")
    build.add_argument("--modes", help="comma-separated modes to build (default: all)")
    build.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    _app_option(build, "build your own app's images (its locks written by `lock --app`)")
    build.add_argument(
        "--jobs",
        type=_build_jobs,
        help=f"images built at once, 1..{MAX_BUILD_JOBS} (default: the cores plus one, at most 8)",
    )
    build.set_defaults(func=cmd_build)

    lock = sub.add_parser("lock", help="re-resolve the images' lock files from their pins")
    lock.add_argument("--modes", help="comma-separated modes to lock (default: all images)")
    _app_option(lock, "lock your own app: its lock beside its requirements, its modes' in .cache/apps/")
    lock.set_defaults(func=cmd_lock)

    generate = sub.add_parser("generate", help="render Dockerfiles, pins and compose files from the registry")
    generate.add_argument("--check", action="store_true", help="only report files that are out of date")
    generate.set_defaults(func=cmd_generate)

    workloads = sub.add_parser("workloads", help="list the workloads with their parameters and defaults")
    _app_option(workloads, "list your own app's workloads (app:NAME, app:mixed)")
    workloads.set_defaults(func=cmd_workloads)

    _add_run_command(sub)
    _add_result_commands(sub)
    _add_publication_commands(sub)
    _add_baseline_commands(sub)
    _add_hosts_commands(sub)

    tools = sub.add_parser("tools", help="make sure the test suite's tools are installed (Debian's chromium)")
    tools.set_defaults(func=cmd_tools)

    clean = sub.add_parser("clean", help="remove every container, network and volume the project created")
    clean.add_argument(
        "--hosts",
        metavar="FILE",
        help="clean every engine of this host inventory instead of this machine's (each engine once)",
    )
    clean.set_defaults(func=cmd_clean)
    return parser


def _add_result_commands(sub: argparse._SubParsersAction[OneLineParser]) -> None:
    """The commands that read a run: export, report, compare."""
    export = sub.add_parser(
        "export", help="one row per cell as CSV or JSON; or Markdown with tables and SVG charts, to publish"
    )
    export.add_argument("run_dir", metavar="RUN_DIR")
    export.add_argument("--format", choices=("csv", "json", "md"), default="csv")
    export.add_argument(
        "-o",
        "--output",
        help="write here, not to standard output (md: default RUN_DIR/report.md, charts beside it)",
    )
    _slo_option(export)
    export.set_defaults(func=cmd_export)

    report = sub.add_parser("report", help="write a run's report: one self-contained HTML page")
    report.add_argument("run_dir", metavar="RUN_DIR")
    report.add_argument("-o", "--output", help="the page to write (default: RUN_DIR/report.html)")
    _slo_option(report)
    report.set_defaults(func=cmd_report)

    compare = sub.add_parser(
        "compare", help="per cell, the change in throughput and p99 of RUN against BASELINE"
    )
    compare.add_argument("baseline", metavar="BASELINE", help="a run folder, or the name of a saved baseline")
    compare.add_argument("run", metavar="RUN", help="the run folder to judge")
    compare.add_argument(
        "--threshold",
        type=_percent,
        default=0.05,
        help="the change that counts as a regression (default: 5%%)",
    )
    compare.add_argument(
        "--fail-on-regression", action="store_true", help="exit with status 1 when any cell regressed"
    )
    compare.add_argument("-o", "--output", help="the page to write (default: RUN/compare.html)")
    compare.add_argument(
        "--allow-different-apps",
        action="store_true",
        help="compare runs that measured different apps (refused otherwise)",
    )
    compare.set_defaults(func=cmd_compare)


def _add_publication_commands(sub: argparse._SubParsersAction[OneLineParser]) -> None:
    """The commands that publish runs: bundle, reproduce, site."""
    bundle = sub.add_parser(
        "bundle", help="pack a run, its matrix, its images' exact inputs and its environment into one file"
    )
    bundle.add_argument("run", metavar="RUN", help="the run folder")
    bundle.add_argument("-o", "--output", required=True, metavar="FILE", help="the bundle to write (.tar.gz)")
    bundle.add_argument("--samples", action="store_true", help="include the per-request samples the run kept")
    bundle.add_argument(
        "--inputs-from-worktree",
        action="store_true",
        help="when the run's commit cannot give the images' inputs (a dirty tree, a commit not here), take "
        "them from the working tree, and say so in the bundle",
    )
    bundle.set_defaults(func=cmd_bundle)

    reproduce = sub.add_parser(
        "reproduce", help="check a bundle, measure its matrix again from its inputs, and compare cell by cell"
    )
    reproduce.add_argument("bundle", metavar="FILE", help="a bundle written by `servingmatrix bundle`")
    reproduce.add_argument(
        "--out", metavar="DIR", help="the reproduction's run folder (default: reports/runs/<run>-reproduced)"
    )
    reproduce.add_argument(
        "--against", metavar="RUN", help="compare this run folder instead of building and measuring anew"
    )
    reproduce.add_argument(
        "--fail-on-differ", action="store_true", help="exit with status 1 when any cell differs"
    )
    reproduce.add_argument(
        "-o", "--output", metavar="FILE", help="the page to write (default: <run folder>/reproduce.html)"
    )
    reproduce.set_defaults(func=cmd_reproduce)

    site = sub.add_parser("site", help="a static site of runs: an index, their reports, each cell's history")
    site.add_argument("runs", metavar="RUN", nargs="+", help="run folders")
    site.add_argument(
        "-o", "--output", required=True, metavar="DIR", help="the folder to write the site into"
    )
    site.set_defaults(func=cmd_site)


def _add_baseline_commands(sub: argparse._SubParsersAction[OneLineParser]) -> None:
    baseline = sub.add_parser("baseline", help="keep named baselines outside the run folder")
    baseline_sub = baseline.add_subparsers(dest="baseline_command", required=True, metavar="ACTION")
    save = baseline_sub.add_parser("save", help="copy a run's results as a named baseline")
    save.add_argument("run", metavar="RUN", help="the run folder")
    save.add_argument(
        "name", metavar="NAME", nargs="?", help="the baseline's name (default: the folder's name)"
    )
    save.add_argument("--force", action="store_true", help="replace a baseline of the same name")
    save.set_defaults(func=cmd_baseline_save)
    listing = baseline_sub.add_parser("list", help="every saved baseline: name, date, modes, machine")
    listing.set_defaults(func=cmd_baseline_list)


def _add_hosts_commands(sub: argparse._SubParsersAction[OneLineParser]) -> None:
    hosts = sub.add_parser(
        "hosts", help="simulated hosts: Docker engines in network namespaces of this machine (root)"
    )
    hosts_sub = hosts.add_subparsers(dest="hosts_command", required=True, metavar="ACTION")
    up = hosts_sub.add_parser("up", help="start N engines, each at its own address, and write the inventory")
    up.add_argument("count", metavar="N", type=_host_count, help=f"how many simulated hosts, 1..{MAX_HOSTS}")
    up.add_argument("--out", required=True, metavar="FILE", help="the inventory YAML to write")
    up.set_defaults(func=cmd_hosts_up)
    down = hosts_sub.add_parser(
        "down", help="remove the simulated hosts and everything they made (also after a failed `up`)"
    )
    down.set_defaults(func=cmd_hosts_down)
    status = hosts_sub.add_parser("status", help="each simulated host's address, core and whether it answers")
    status.set_defaults(func=cmd_hosts_status)


def _add_run_command(sub: argparse._SubParsersAction[OneLineParser]) -> None:
    """``run``: where the matrix comes from, one option per matrix key, and how the run goes."""
    from servingmatrix.matrix_keys import add_options

    run = sub.add_parser("run", help="run a matrix: every mode x workload x users x trial")
    run.add_argument("--profile", help="a matrix from profiles/ (quick, default, full; default: quick)")
    run.add_argument("--matrix", help="a matrix YAML file")
    add_options(run)
    run.add_argument(
        "--no-calibration", action="store_true", help="skip measuring the load generator's maximum first"
    )
    run.add_argument(
        "--recalibrate",
        action="store_true",
        help="calibrate the load generator (and keep it) even if a calibration of the last day matches",
    )
    run.add_argument("--out", help="run folder (default: reports/runs/<profile>); rerunning resumes it")
    run.add_argument("--force", action="store_true", help="measure again cells already on disk")
    run.add_argument("--keep-samples", action="store_true", help="keep Locust's per-request timings")
    run.set_defaults(func=cmd_run)


def _app_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--app", metavar="DIR", help=f"{help_text}; DIR holds the app and its app.yml")


def _slo_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--slo-p99",
        type=_milliseconds,
        default=500.0,
        metavar="DURATION",
        help="the latency objective of the verdict: p99 at most this (default: 500ms)",
    )


def _milliseconds(text: str) -> float:
    from servingmatrix.matrix import parse_duration

    try:
        return 1000.0 * parse_duration("--slo-p99", text)
    except UserError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--slo-p99: ")) from None


def _percent(text: str) -> float:
    """``5%`` (or ``5``) as 0.05."""
    try:
        value = float(text.strip().removesuffix("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a percentage, e.g. 5%") from None
    if not 0 <= value < 100:
        raise argparse.ArgumentTypeError(f"{text} is out of range (allowed: 0% to under 100%)")
    return value / 100.0


def _host_count(text: str) -> int:
    value = parse_int(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"{shown(text)} is not an integer (allowed: 1..{MAX_HOSTS})")
    if not 1 <= value <= MAX_HOSTS:
        raise argparse.ArgumentTypeError(f"{value} is out of range (allowed: 1..{MAX_HOSTS})")
    return value


def _cpu_budget(text: str) -> int:
    """A CPU budget to size defaults for: as many cores as a matrix may give the server."""
    value = positive_int_option(text)
    if value > MAX_SERVER_CPUS:
        raise argparse.ArgumentTypeError(f"{value} is out of range (allowed: 1..{MAX_SERVER_CPUS})")
    return value


#: An error is one line a person reads: a longer one is cut in the middle, its start and its end kept.
MAX_ERROR_CHARS = 400


def one_line(message: str) -> str:
    """``message`` on one line and at most MAX_ERROR_CHARS long (the end says what is allowed)."""
    flat = " ".join(message.split())
    if len(flat) <= MAX_ERROR_CHARS:
        return flat
    half = (MAX_ERROR_CHARS - 5) // 2
    return f"{flat[:half]} ... {flat[-half:]}"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except UserError as exc:
        print(f"servingmatrix: error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`servingmatrix modes | head`): nothing left to say.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print(
            "servingmatrix: interrupted; every container of the run was removed, finished cells are kept, "
            "and the same command resumes",
            file=sys.stderr,
        )
        return 130
