"""Strict YAML for the files people write: a matrix, an app's ``app.yml``.

Safe YAML that also refuses what such a file has no use for, each in one line naming the file: a key
given twice (PyYAML keeps the last without a word), anchors and aliases (whose expansion, "billion
laughs", can take all memory), nesting deeper than ``MAX_DEPTH`` (PyYAML composes a document
recursively, and ``[[[[...`` a few hundred deep ends in a ``RecursionError``), and content that is not
UTF-8 text. The file is read as
``input_files.read_input`` reads one of its kind: a regular file, within its bound.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from servingmatrix.errors import UserError
from servingmatrix.inputs.input_files import InputKind, read_text_input
from servingmatrix.spec import shown

#: The deepest nesting of a file people write: a matrix, an inventory or an app.yml nests 4 levels.
MAX_DEPTH = 32


def read_yaml(path: Path, kind: InputKind) -> Any:
    """The document of the YAML file ``path``, a file of ``kind`` (which the messages name)."""
    where, what = str(path), kind.name
    text = read_text_input(path, kind, "YAML written in UTF-8")
    loader: _StrictLoader | None = None
    try:
        # The reader checks every character as the loader is made: a control character fails there.
        loader = _StrictLoader(text, where, what)
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        raise UserError(f"{where}: not valid YAML{line}") from None
    except RecursionError:
        # Past the composer's own bound, in what PyYAML does before it: refused all the same.
        raise UserError(f"{where}: nested deeper than {MAX_DEPTH} levels; not {_a(what)}") from None
    finally:
        if loader is not None:
            loader.dispose()


def _a(what: str) -> str:
    return f"{'an' if what[0] in 'aeiou' else 'a'} {what}"


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML that also refuses a key given twice, and anchors and aliases."""

    def __init__(self, text: str, where: str, what: str) -> None:
        super().__init__(text)
        self.where = where
        self.what = what
        self.key: str | None = None
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if isinstance(parent, yaml.MappingNode):
            # A mapping's value is composed with its key node as index; its key, with None.
            self.key = str(index.value) if isinstance(index, yaml.ScalarNode) else None
        event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            written = f"*{anchor}" if isinstance(event, yaml.AliasEvent) else f"&{anchor}"
            key = f"key {self.key!r}, " if self.key is not None else ""
            line = event.start_mark.line + 1 if event.start_mark is not None else "?"
            raise UserError(
                f"{self.where}: {key}line {line}: YAML anchors and aliases ({written}) are not allowed "
                f"in {_a(self.what)}; write the value out"
            )
        if self.depth >= MAX_DEPTH:
            key = f"key {shown(self.key)}, " if self.key is not None else ""
            line = event.start_mark.line + 1 if event.start_mark is not None else "?"
            raise UserError(
                f"{self.where}: {key}line {line}: nested deeper than {MAX_DEPTH} levels; not {_a(self.what)}"
            )
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[tuple[str, str], int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            line = key_node.start_mark.line + 1
            first = seen.get((key_node.tag, key_node.value))
            if first is not None:
                lines = f"line {line}" if first == line else f"lines {first} and {line}"
                raise UserError(
                    f"{self.where}: key {key_node.value!r} is given twice ({lines}); give each key once"
                )
            seen[(key_node.tag, key_node.value)] = line
        return super().construct_mapping(node, deep)
