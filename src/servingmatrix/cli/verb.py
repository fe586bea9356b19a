"""A verb of the command line declared once: its name, its help, its arguments and its handler.

As gunicorn's settings are declared once and its parser built from them, each verb here is one
``Verb`` in the module of its family, and the parser is built from the table of them
(``cli/parser.py``). A verb with actions (``baseline save|list``) holds them as verbs of its own.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: What a verb does with its parsed arguments; its exit status.
Handler = Callable[[argparse.Namespace], int]


@dataclass(frozen=True)
class Argument:
    """One argument of a verb, as ``ArgumentParser.add_argument`` takes it (None: argparse's default)."""

    #: A positional's name (``run_dir``), or an option's flags (``-o``, ``--output``).
    names: tuple[str, ...]
    help: str | None = None
    metavar: str | None = None
    type: Callable[[str], Any] | None = None
    default: Any = None
    choices: tuple[str, ...] | None = None
    #: ``store_true`` for a switch.
    action: str | None = None
    nargs: str | None = None
    required: bool = False
    #: Where an option's value lands, when not under its flag's name.
    dest: str | None = None

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        given = {
            "metavar": self.metavar,
            "type": self.type,
            "default": self.default,
            "choices": self.choices,
            "action": self.action,
            "nargs": self.nargs,
            "dest": self.dest,
            # argparse refuses ``required`` for a positional, even False.
            "required": self.required or None,
        }
        options = {name: value for name, value in given.items() if value is not None}
        parser.add_argument(*self.names, help=self.help, **options)


def switch(flag: str, help_text: str) -> Argument:
    """An option that is off unless given."""
    return Argument((flag,), help_text, action="store_true")


@dataclass(frozen=True)
class Verb:
    """One verb: ``servingmatrix NAME ARGUMENTS``, or ``servingmatrix NAME ACTION ...``."""

    name: str
    help: str
    #: None for a verb of actions (its actions have theirs).
    handler: Handler | None = None
    arguments: tuple[Argument, ...] = ()
    actions: tuple[Verb, ...] = ()


def add_verbs(parser: argparse.ArgumentParser, verbs: tuple[Verb, ...], dest: str, metavar: str) -> None:
    """One subcommand of ``parser`` per verb, each with its arguments, or its actions under ACTION."""
    sub = parser.add_subparsers(dest=dest, required=True, metavar=metavar)
    for verb in verbs:
        verb_parser = sub.add_parser(verb.name, help=verb.help)
        for argument in verb.arguments:
            argument.add_to(verb_parser)
        if verb.actions:
            add_verbs(verb_parser, verb.actions, f"{verb.name}_command", "ACTION")
        if verb.handler is not None:
            verb_parser.set_defaults(func=verb.handler)
