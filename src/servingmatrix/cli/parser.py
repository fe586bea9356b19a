"""The parser, built from the table of verbs: each declared once, in the module of its family."""

from __future__ import annotations

import argparse
from typing import NoReturn

from servingmatrix import __version__
from servingmatrix.cli import build, hosts, publish, results, run
from servingmatrix.cli.output import one_line
from servingmatrix.cli.verb import Verb, add_verbs

#: Every verb, in the order ``servingmatrix --help`` lists them.
VERBS: tuple[Verb, ...] = (
    build.MODES,
    build.BUILD,
    build.LOCK,
    build.GENERATE,
    build.WORKLOADS,
    run.RUN,
    run.TUNE,
    results.EXPORT,
    results.REPORT,
    results.COMPARE,
    publish.BUNDLE,
    publish.REPRODUCE,
    publish.SITE,
    results.BASELINE,
    hosts.HOSTS,
    build.TOOLS,
    run.CLEAN,
)


class OneLineParser(argparse.ArgumentParser):
    """Argument errors as every other error: one line naming what was wrong, and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"servingmatrix: error: {one_line(message)} (see: {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="servingmatrix", description="Every way of serving one Flask app, measured side by side."
    )
    parser.add_argument("--version", action="version", version=f"servingmatrix {__version__}")
    add_verbs(parser, VERBS, "command", "COMMAND")
    return parser
