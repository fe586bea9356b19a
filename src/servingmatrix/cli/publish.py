"""The verbs that publish runs: bundle, reproduce and site."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from servingmatrix.cli.output import checked_output, say, status_for
from servingmatrix.cli.run import QUIET_WAIT_OPTION, quiet_wait_s, say_measured
from servingmatrix.cli.verb import Argument, Verb, switch
from servingmatrix.errors import UserError


def cmd_bundle(args: argparse.Namespace) -> int:
    import tempfile

    from servingmatrix.building.inputs import export_at_commit, export_worktree, has_commit
    from servingmatrix.paths import project_root
    from servingmatrix.report.output import stream_of, write_atomic
    from servingmatrix.results.bundle import inputs_source, write_bundle
    from servingmatrix.results.folder import RunFolder

    out = checked_output(args.output)
    assert out is not None  # a required option
    run_dir, repo, status = Path(args.run), project_root(), status_for(out)
    metadata = RunFolder(run_dir).read_run().metadata
    source = inputs_source(
        str(run_dir),
        metadata,
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
    from servingmatrix.run.reproduction import reproduce_bundle

    if args.against is not None and args.out is not None:
        raise UserError(
            "give --against RUN (compare a run already made) or --out DIR (measure anew), not both"
        )
    bundle = Path(args.bundle)
    output = checked_output(args.output)
    status = status_for(output)
    with tempfile.TemporaryDirectory(prefix="servingmatrix-bundle-") as tmp:
        opened = open_bundle(bundle, Path(tmp))
        if args.against is not None:
            run_dir = Path(args.against)
        else:
            if args.out is not None and not args.out.strip():
                raise UserError("--out is empty; give the folder to write the reproduction into")
            run_dir = reproduce_bundle(
                bundle, opened, Path(args.out) if args.out else None, say, quiet_wait_s(args)
            )
            say_measured(run_dir)
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


def cmd_site(args: argparse.Namespace) -> int:
    from servingmatrix.report.views.site import write_site

    written = write_site([Path(run) for run in args.runs], Path(args.output))
    say(f"wrote {written.describe()}")
    return 0


BUNDLE = Verb(
    "bundle",
    "pack a run, its matrix, its images' exact inputs and its environment into one file",
    cmd_bundle,
    (
        Argument(("run",), "the run folder", metavar="RUN"),
        Argument(("-o", "--output"), "the bundle to write (.tar.gz)", metavar="FILE", required=True),
        switch("--samples", "include the per-request samples the run kept"),
        switch(
            "--inputs-from-worktree",
            "when the run's commit cannot give the images' inputs (a dirty tree, a commit not here), take "
            "them from the working tree, and say so in the bundle",
        ),
    ),
)

REPRODUCE = Verb(
    "reproduce",
    "check a bundle, measure its matrix again from its inputs, and compare cell by cell",
    cmd_reproduce,
    (
        Argument(("bundle",), "a bundle written by `servingmatrix bundle`", metavar="FILE"),
        Argument(
            ("--out",),
            "the reproduction's run folder (default: reports/runs/<run>-reproduced)",
            metavar="DIR",
        ),
        Argument(
            ("--against",), "compare this run folder instead of building and measuring anew", metavar="RUN"
        ),
        QUIET_WAIT_OPTION,
        switch("--fail-on-differ", "exit with status 1 when any cell differs"),
        Argument(
            ("-o", "--output"), "the page to write (default: <run folder>/reproduce.html)", metavar="FILE"
        ),
    ),
)

SITE = Verb(
    "site",
    "a static site of runs: an index, their reports, each cell's history",
    cmd_site,
    (
        Argument(("runs",), "run folders", metavar="RUN", nargs="+"),
        Argument(("-o", "--output"), "the folder to write the site into", metavar="DIR", required=True),
    ),
)
