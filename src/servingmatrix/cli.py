"""The ``servingmatrix`` command line: one verb per job, one clear line per error."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from servingmatrix import __version__
from servingmatrix.docker import Docker
from servingmatrix.errors import UserError
from servingmatrix.modes import MODES, get_mode
from servingmatrix.spec import parse_spec, split_specs


def say(line: str) -> None:
    print(line, flush=True)


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


def cmd_build(args: argparse.Namespace) -> int:
    from servingmatrix.images import build_images

    started = time.monotonic()
    outcomes = build_images(Docker(), _mode_names(args.modes), say, force=args.force)
    built = sum(1 for o in outcomes if o.built)
    say(f"{len(outcomes)} images ready ({built} built) in {time.monotonic() - started:.0f} s")
    return 0


def cmd_lock(args: argparse.Namespace) -> int:
    from servingmatrix.generate import write_rendered
    from servingmatrix.images import all_images
    from servingmatrix.locks import compile_lock

    write_rendered()
    names = set(_mode_names(args.modes) or []) or None
    for image in all_images():
        source = image.folder / "requirements.in"
        if (names is None or image.name in names) and source.exists():
            compile_lock(source, image.folder / "requirements.lock")
            say(f"locked {image.folder / 'requirements.lock'}")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from servingmatrix.generate import stale_files, write_rendered

    if args.check:
        stale = stale_files()
        for path in stale:
            say(f"out of date: {path} (run `servingmatrix generate`)")
        return 1 if stale else 0
    for path in write_rendered():
        say(f"wrote {path}")
    return 0


def cmd_workloads(_args: argparse.Namespace) -> int:
    from servingmatrix.workloads import MIX, WORKLOADS

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
    from pathlib import Path

    from servingmatrix.images import build_images
    from servingmatrix.matrix import Overrides, apply_overrides, load_matrix, load_profile
    from servingmatrix.paths import project_root
    from servingmatrix.results import RunFolder
    from servingmatrix.runner import Runner
    from servingmatrix.summary import summarize

    if args.matrix and args.profile:
        raise UserError("give --profile or --matrix, not both")
    matrix = load_matrix(Path(args.matrix)) if args.matrix else load_profile(args.profile or "quick")
    matrix = apply_overrides(
        matrix,
        Overrides(
            modes=args.modes,
            workloads=args.workloads,
            users=args.users,
            duration=args.duration,
            warmup=args.warmup,
            trials=args.trials,
            server_cpus=args.server_cpus,
        ),
    )
    out = Path(args.out) if args.out else project_root() / "reports" / "runs" / matrix.name
    docker = Docker()
    needed = sorted({c.mode.name for c in matrix.mode_configs()})
    build_images(docker, needed, say)
    folder = RunFolder(out)
    say(
        f"run {matrix.name}: {len(matrix.modes)} modes x {len(matrix.workloads)} workloads x "
        f"{len(matrix.users)} user levels x {matrix.trials} trials, into {out}"
    )
    Runner(docker, matrix, folder, say, force=args.force, keep_samples=args.keep_samples).run()
    say(summarize(folder))
    say(f"results: {out}  (export: servingmatrix export {out} --format csv)")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from servingmatrix.export import export_csv, export_json
    from servingmatrix.results import RunFolder

    folder = RunFolder(Path(args.run_dir))
    text = export_csv(folder) if args.format == "csv" else export_json(folder)
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def cmd_clean(_args: argparse.Namespace) -> int:
    from servingmatrix.cleanup import clean_project_objects

    removed = clean_project_objects(Docker())
    say(f"removed {removed.containers} containers, {removed.networks} networks, {removed.volumes} volumes")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="servingmatrix", description="Every way of serving one Flask app, measured side by side."
    )
    parser.add_argument("--version", action="version", version=f"servingmatrix {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    modes = sub.add_parser("modes", help="list the serving modes with their tunables and defaults")
    modes.add_argument("--cpus", type=_positive_int, default=1, help="CPU budget the defaults are sized for")
    modes.set_defaults(func=cmd_modes)

    build = sub.add_parser("build", help="build the base image, the wheelhouse and every image")
    build.add_argument("--modes", help="comma-separated modes to build (default: all)")
    build.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    build.set_defaults(func=cmd_build)

    lock = sub.add_parser("lock", help="re-resolve the images' lock files from their pins")
    lock.add_argument("--modes", help="comma-separated modes to lock (default: all images)")
    lock.set_defaults(func=cmd_lock)

    generate = sub.add_parser("generate", help="render Dockerfiles, pins and compose files from the registry")
    generate.add_argument("--check", action="store_true", help="only report files that are out of date")
    generate.set_defaults(func=cmd_generate)

    workloads = sub.add_parser("workloads", help="list the workloads with their parameters and defaults")
    workloads.set_defaults(func=cmd_workloads)

    run = sub.add_parser("run", help="run a matrix: every mode x workload x users x trial")
    run.add_argument("--profile", help="a matrix from profiles/ (quick, default, full; default: quick)")
    run.add_argument("--matrix", help="a matrix YAML file")
    run.add_argument("--modes", help="comma-separated mode specs, e.g. gunicorn-gthread[workers=2,threads=4]")
    run.add_argument("--workloads", help="comma-separated workload specs, e.g. io[ms=100]")
    run.add_argument("--users", help="comma-separated increasing user counts, e.g. 1,16,64")
    run.add_argument("--duration", help="measured time per step, e.g. 20s")
    run.add_argument("--warmup", help="discarded warm-up per step, e.g. 5s")
    run.add_argument("--trials", type=_positive_int, help="repeats of every cell")
    run.add_argument("--server-cpus", type=_positive_int, help="cores given to the server under test")
    run.add_argument("--out", help="run folder (default: reports/runs/<profile>); rerunning resumes it")
    run.add_argument("--force", action="store_true", help="measure again cells already on disk")
    run.add_argument("--keep-samples", action="store_true", help="keep Locust's per-request timings")
    run.set_defaults(func=cmd_run)

    export = sub.add_parser("export", help="one row per cell of a run, as CSV or JSON")
    export.add_argument("run_dir", metavar="RUN_DIR")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("-o", "--output", help="write to this file instead of standard output")
    export.set_defaults(func=cmd_export)

    clean = sub.add_parser("clean", help="remove every container, network and volume the project created")
    clean.set_defaults(func=cmd_clean)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive integer")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except UserError as exc:
        print(f"servingmatrix: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`servingmatrix modes | head`): nothing left to say.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("servingmatrix: interrupted", file=sys.stderr)
        return 130
