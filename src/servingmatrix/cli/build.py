"""The verbs that make what a run needs and say what there is: modes, build, lock, generate,
workloads and tools."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from servingmatrix.cli.output import say
from servingmatrix.cli.verb import Argument, Verb, switch
from servingmatrix.matrix_keys import MAX_SERVER_CPUS, positive_int_option

if TYPE_CHECKING:
    from servingmatrix.user_app import UserApp

#: More builds at once than this only queue up inside the engine.
MAX_BUILD_JOBS = 16


def cpu_budget(text: str) -> int:
    """A CPU budget to size defaults for: as many cores as a matrix may give the server."""
    value = positive_int_option(text)
    if value > MAX_SERVER_CPUS:
        raise argparse.ArgumentTypeError(f"{value} is out of range (allowed: 1..{MAX_SERVER_CPUS})")
    return value


def build_jobs(text: str) -> int:
    value = positive_int_option(text)
    if value > MAX_BUILD_JOBS:
        raise argparse.ArgumentTypeError(f"{value} is more than {MAX_BUILD_JOBS}")
    return value


def app_option(help_text: str) -> Argument:
    return Argument(("--app",), f"{help_text}; DIR holds the app and its app.yml", metavar="DIR")


def mode_names(text: str | None) -> list[str] | None:
    """The modes named by ``--modes``, each checked against the registry; None without the option."""
    if text is None:
        return None
    from servingmatrix.modes import get_mode
    from servingmatrix.spec import parse_spec, split_specs

    return [get_mode(parse_spec(item).name).name for item in split_specs(text)]


def user_app(folder: str | None) -> UserApp | None:
    """The app of ``--app DIR``, its app.yml checked; None without the option."""
    from pathlib import Path

    from servingmatrix.matrix_keys import APP_KEY
    from servingmatrix.user_app import load_app

    checked = APP_KEY.parse("--app", folder)
    return load_app(Path(checked)) if checked is not None else None


def cmd_modes(args: argparse.Namespace) -> int:
    from servingmatrix.modes import MODES as SERVING_MODES

    for mode in SERVING_MODES:
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


def cmd_build(args: argparse.Namespace) -> int:
    from servingmatrix.building.app_images import build_app_images
    from servingmatrix.building.images import build_images
    from servingmatrix.engine.docker import Docker

    started = time.monotonic()
    app = user_app(args.app)
    modes = mode_names(args.modes)
    if app is not None:
        outcomes = build_app_images(Docker(), app, modes, say, force=args.force, jobs=args.jobs)
    else:
        outcomes = build_images(Docker(), modes, say, force=args.force, jobs=args.jobs)
    built = sum(1 for o in outcomes if o.built)
    say(f"{len(outcomes)} images ready ({built} built) in {time.monotonic() - started:.0f} s")
    return 0


def cmd_lock(args: argparse.Namespace) -> int:
    from servingmatrix.building.app_locks import lock_app
    from servingmatrix.building.image_locks import lock_images
    from servingmatrix.modes import MODES as SERVING_MODES
    from servingmatrix.modes import get_mode

    app = user_app(args.app)
    if app is not None:
        chosen = mode_names(args.modes)
        modes = [get_mode(name) for name in chosen] if chosen is not None else list(SERVING_MODES)
        lock_app(app, modes, say, every_mode=chosen is None)
        return 0
    lock_images(set(mode_names(args.modes) or []) or None, say)
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
    from servingmatrix.workloads import MIX
    from servingmatrix.workloads import WORKLOADS as REGISTRY

    app = user_app(args.app)
    if app is not None:
        for spec, workload in app_workloads(app).items():
            total = sum(r.weight for r in workload.fixed)
            say(f"{spec}\n    {workload.summary}")
            for request in workload.fixed if len(workload.fixed) > 1 else ():
                say(f"    {request.weight / total:>4.0%}  {request.name:<9} {request.method} {request.path}")
        return 0
    for workload in REGISTRY:
        say(f"{workload.name}\n    {workload.summary}; endpoint {workload.endpoint}")
        for param in workload.params:
            say(f"    {param.name}: {param.help}; default {param.default}, allowed {param.low}..{param.high}")
        if workload.name == "mixed":
            total = sum(e.weight for e in MIX)
            for entry in MIX:
                say(f"    {entry.weight / total:>4.0%}  {entry.name:<9} {entry.path}")
    return 0


def cmd_tools(_args: argparse.Namespace) -> int:
    from servingmatrix.building.chromium import ensure_chromium

    say(f"chromium: {ensure_chromium(say)}")
    return 0


MODES = Verb(
    "modes",
    "list the serving modes with their tunables and defaults",
    cmd_modes,
    (Argument(("--cpus",), "CPU budget the defaults are sized for", type=cpu_budget, default=1),),
)

BUILD = Verb(
    "build",
    "build the base image, the wheelhouse and every image",
    cmd_build,
    (
        Argument(("--modes",), "comma-separated modes to build (default: all)"),
        switch("--force", "rebuild even when nothing changed"),
        app_option("build your own app's images (its locks written by `lock --app`)"),
        Argument(
            ("--jobs",),
            f"images built at once, 1..{MAX_BUILD_JOBS} (default: the cores plus one, at most 8)",
            type=build_jobs,
        ),
    ),
)

LOCK = Verb(
    "lock",
    "re-resolve the images' lock files from their pins",
    cmd_lock,
    (
        Argument(("--modes",), "comma-separated modes to lock (default: all images)"),
        app_option("lock your own app: its lock beside its requirements, its modes' in .cache/apps/"),
    ),
)

GENERATE = Verb(
    "generate",
    "render Dockerfiles, pins and compose files from the registry",
    cmd_generate,
    (switch("--check", "only report files that are out of date"),),
)

WORKLOADS = Verb(
    "workloads",
    "list the workloads with their parameters and defaults",
    cmd_workloads,
    (app_option("list your own app's workloads (app:NAME, app:mixed)"),),
)

TOOLS = Verb("tools", "make sure the test suite's tools are installed (Debian's chromium)", cmd_tools)
