"""The flags' vocabulary: a known code's kind, an unknown one shown as itself, and their order."""

from __future__ import annotations

from servingmatrix.flags import KINDS, Flag, FlagKind, kind, order


def test_a_known_code_has_its_letter_and_title() -> None:
    flag = Flag("cpu-throttled", "held back")
    assert flag.kind is KINDS[2]
    assert (flag.letter, flag.kind.title) == ("T", "CPU throttled")


def test_an_unknown_code_is_shown_as_itself() -> None:
    assert kind("from-the-future") == FlagKind("from-the-future", "?", "from-the-future", "from-the-future")
    assert Flag("from-the-future", "").letter == "?"


def test_every_code_and_letter_is_one_kind() -> None:
    assert len({k.code for k in KINDS}) == len({k.letter for k in KINDS}) == len(KINDS)
    assert all(kind(k.code) is k for k in KINDS)


def test_codes_in_the_vocabulary_order_then_unknown_ones_alphabetically() -> None:
    given = {"zz-new", "errors", "aa-new", "generator-bound", "cores-shared"}
    assert order(given) == ["generator-bound", "errors", "cores-shared", "aa-new", "zz-new"]
    assert order(frozenset()) == []
