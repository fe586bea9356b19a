"""The flags' vocabulary: a known code's kind, an unknown one shown as itself, their order, their
texts written from their thresholds, and the letters shown beside a figure."""

from __future__ import annotations

from dataclasses import replace

from servingmatrix import fmt
from servingmatrix.building.readme.docs import flags_table
from servingmatrix.flags import (
    BESIDE_FIGURE,
    KINDS,
    ONCE_PER_RUN,
    Flag,
    FlagKind,
    Threshold,
    beside_figure,
    kind,
    letters,
    order,
)
from servingmatrix.paths import project_root


def test_a_known_code_has_its_letter_and_title() -> None:
    flag = Flag("cpu-throttled", "held back")
    assert flag.kind is next(k for k in KINDS if k.code == "cpu-throttled")
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


def test_every_kinds_texts_name_only_its_own_thresholds() -> None:
    for k in KINDS:
        texts = (k.title, k.meaning)
        assert not any("{" in text or "}" in text for text in texts), k.code


def test_a_kinds_texts_say_its_thresholds_as_they_are_declared() -> None:
    throttled = kind("cpu-throttled")
    moved = replace(throttled, thresholds={"share": Threshold(0.099, "of the window")})
    assert fmt.share(throttled.threshold("share")) in throttled.meaning
    assert moved.threshold("share") == 0.099 and "more than 9.9% of the window" in moved.meaning
    noisy = kind("high-variance")
    assert noisy.title == f"noisy: CV above {fmt.share(noisy.threshold('cv'))}"


def test_a_threshold_writes_itself_its_own_way_or_as_asked() -> None:
    assert f"{Threshold(0.9, 'of the reference', lambda v: f'{v:.2f}')}" == "0.90"
    assert f"{Threshold(0.9, 'of the reference', lambda v: f'{v:.2f}'):%}" == "90%"
    assert f"{Threshold(3.5, 'score'):.1f}" == "3.5"


def test_one_number_judges_the_rules_that_share_it() -> None:
    bound = kind("generator-bound")
    assert bound.thresholds["throttled"] is kind("cpu-throttled").thresholds["share"]
    assert bound.thresholds["cpu"] is kind("loadgen-saturated").thresholds["cpu"]


def test_the_kinds_said_once_and_those_beside_a_figure_split_the_vocabulary() -> None:
    assert ONCE_PER_RUN and BESIDE_FIGURE
    assert sorted([*ONCE_PER_RUN, *(k.code for k in BESIDE_FIGURE)]) == sorted(k.code for k in KINDS)
    # Said once only what every cell of a run carries alike.
    assert all(kind(code).judged == "run" for code in ONCE_PER_RUN)
    assert kind("from-the-future").shown == "figure"


def test_letters_in_the_vocabulary_order_without_those_said_once() -> None:
    once = next(iter(ONCE_PER_RUN))
    codes = ["errors", once, "zz-new", "generator-bound", "cpu-throttled"]
    assert letters(codes) == "GTE?"
    assert letters([Flag(c, "") for c in codes]) == "GTE?"
    assert letters(codes, said_once=frozenset()) == "GTE" + kind(once).letter + "?"
    assert letters(codes, said_once={"errors"}) == "GT" + kind(once).letter + "?"
    assert letters([]) == ""


def test_the_flags_beside_a_figure_keep_their_order_and_leave_out_those_said_once() -> None:
    once = next(iter(ONCE_PER_RUN))
    flags = (Flag("errors", "e"), Flag(once, "o"), Flag("generator-bound", "g"))
    assert beside_figure(flags) == (flags[0], flags[2])
    assert beside_figure(flags, said_once=frozenset()) == flags


def test_the_readmes_flags_table_gives_each_kind_its_rule_and_thresholds_as_declared() -> None:
    table = flags_table()
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert [row.split(" | ")[0] for row in rows] == [f"| `{k.code}`" for k in KINDS]
    for k, row in zip(KINDS, rows, strict=True):
        assert f" | {k.letter} | {k.title} | {k.meaning} | " in row
        assert all(f"`{name}`: {t.text} {t.unit}" in row for name, t in k.thresholds.items())
    assert f"<!-- BEGIN flags -->\n{table}\n<!-- END flags -->" in (project_root() / "README.md").read_text()
