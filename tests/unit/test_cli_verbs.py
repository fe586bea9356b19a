"""The command line's table of verbs: each verb declared once, with a handler or with actions, and the
parser built from the table holding exactly those verbs, in the table's order."""

from __future__ import annotations

import argparse

from servingmatrix.cli import build_parser
from servingmatrix.cli.parser import VERBS
from servingmatrix.cli.verb import Verb


def _every(verbs: tuple[Verb, ...]) -> list[Verb]:
    return [found for verb in verbs for found in (verb, *_every(verb.actions))]


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (sub,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_each_verb_has_a_handler_or_actions_never_both() -> None:
    for verb in _every(VERBS):
        assert (verb.handler is None) == bool(verb.actions), verb.name
        assert verb.help and not verb.help.endswith("."), verb.name


def test_verb_names_are_unique_among_their_siblings() -> None:
    for siblings in (VERBS, *(verb.actions for verb in _every(VERBS) if verb.actions)):
        names = [verb.name for verb in siblings]
        assert len(names) == len(set(names)), names


def test_the_parser_holds_the_table_in_its_order() -> None:
    commands = _subcommands(build_parser())
    assert list(commands) == [verb.name for verb in VERBS]
    for verb in VERBS:
        if verb.actions:
            assert list(_subcommands(commands[verb.name])) == [action.name for action in verb.actions]


def test_each_verb_runs_its_own_handler() -> None:
    parser = build_parser()
    assert parser.parse_args(["modes"]).func is VERBS[0].handler
    (baseline,) = (verb for verb in VERBS if verb.name == "baseline")
    (listing,) = (action for action in baseline.actions if action.name == "list")
    assert parser.parse_args(["baseline", "list"]).func is listing.handler


def test_run_waits_for_quiet_cores_as_long_as_declared_unless_told_otherwise() -> None:
    from servingmatrix.cli.run import quiet_wait_s
    from servingmatrix.flags import QUIET_WAIT_S

    parser = build_parser()
    assert parser.parse_args(["run"]).quiet_wait is None
    assert parser.parse_args(["run", "--quiet-wait", "0s"]).quiet_wait == 0.0
    assert parser.parse_args(["run", "--quiet-wait", "1.5m"]).quiet_wait == 90.0
    assert parser.parse_args(["reproduce", "b.tar.gz", "--quiet-wait", "5s"]).quiet_wait == 5.0
    for name in ("run", "reproduce"):
        verb = next(verb for verb in VERBS if verb.name == name)
        option = next(a for a in verb.arguments if a.names == ("--quiet-wait",))
        assert option.help is not None and f"(default: {QUIET_WAIT_S:.0f}s;" in option.help
    assert quiet_wait_s(parser.parse_args(["run"])) == QUIET_WAIT_S
    assert quiet_wait_s(parser.parse_args(["run", "--quiet-wait", "0s"])) == 0.0
