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
