"""Spec parsing and the mode registry: good specs resolve, bad ones are refused with one line."""

from __future__ import annotations

import pytest

from servingmatrix.errors import SpecError
from servingmatrix.modes import MODES, get_mode, resolve_mode
from servingmatrix.spec import SHOWN_CHARS, parse_int, parse_positive_int, parse_spec, shown, split_specs


def test_parse_plain_and_bracketed() -> None:
    assert parse_spec("gunicorn-sync").name == "gunicorn-sync"
    spec = parse_spec("gunicorn-gthread[workers=2,threads=4]")
    assert spec.name == "gunicorn-gthread"
    assert spec.as_dict() == {"workers": "2", "threads": "4"}


def test_split_keeps_commas_inside_brackets() -> None:
    assert split_specs("gunicorn-gthread[workers=2,threads=4],waitress") == [
        "gunicorn-gthread[workers=2,threads=4]",
        "waitress",
    ]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("gunicorn-sync[threads=4]", "unknown tunable 'threads' (allowed: workers)"),
        ("gunicorn-sync[workers=0]", "out of range"),
        ("gunicorn-sync[workers=-2]", "out of range"),
        ("gunicorn-sync[workers=two]", "not an integer"),
        ("gunicorn-sync[workers=2.5]", "not an integer"),
        ("gunicorn-sync[workers=100000]", "out of range"),
        ("gunicorn-sync[workers=2,workers=3]", "given twice"),
        ("gunicorn-sync[]", "empty brackets"),
        ("gunicorn-sync[workers]", "is not key=value"),
        ("gunicorn-sync[workers=]", "is not key=value"),
        ("gunicorn-sync[workers=2", "not a spec"),
        ("Gunicorn-Sync", "not a spec"),
        ("", "not a spec"),
        ("no-such-mode", "unknown mode 'no-such-mode'"),
        ("werkzeug-single[workers=2]", "unknown tunable 'workers' (allowed: nothing)"),
        ("gunicorn-gthread[workers=2,threads=0]", "threads=0 is out of range"),
    ],
)
def test_bad_specs_are_refused_with_one_line(text: str, fragment: str) -> None:
    with pytest.raises(SpecError) as caught:
        resolve_mode(text, cpus=1)
    message = str(caught.value)
    assert fragment in message
    assert "\n" not in message


def test_a_value_may_hold_an_equals_sign_a_key_may_not() -> None:
    assert parse_spec("io[path=a=b]").params == (("path", "a=b"),)
    with pytest.raises(SpecError, match="'1k=2' is not key=value"):
        parse_spec("io[1k=2]")
    with pytest.raises(SpecError, match="'Ms=2' is not key=value"):
        parse_spec("io[Ms=2]")


def test_split_counts_nested_brackets() -> None:
    assert split_specs(" a[b[c],d] , e ") == ["a[b[c],d]", "e"]


def test_a_long_input_is_shown_cut_short() -> None:
    at_most = "x" * SHOWN_CHARS
    assert shown(at_most) == repr(at_most)
    assert shown(at_most + "y") == repr(at_most + "...")


@pytest.mark.parametrize(
    ("text", "number"),
    [("7", 7), (" 42 ", 42), ("-1", -1), ("0", 0), ("9" * 12, 10**12 - 1), ("9" * 13, None), ("1_0", None)],
)
def test_integers_as_people_write_them(text: str, number: int | None) -> None:
    assert parse_int(text) == number


def test_a_positive_integer_takes_both_ends_of_its_range() -> None:
    assert parse_positive_int("m", "workers", "1", 8) == 1
    assert parse_positive_int("m", "workers", "8", 8) == 8
    with pytest.raises(SpecError) as caught:
        parse_positive_int("m", "workers", "9", 8)
    assert str(caught.value) == "m: workers=9 is out of range (allowed: 1..8)"
    with pytest.raises(SpecError) as caught:
        parse_positive_int("m", "workers", "many", 8)
    assert str(caught.value) == "m: workers='many' is not an integer (allowed: 1..8)"


def test_empty_list_entry_is_refused() -> None:
    with pytest.raises(SpecError, match="empty entry"):
        split_specs("waitress,,uwsgi")


@pytest.mark.parametrize(
    ("spec", "cpus", "values"),
    [
        ("gunicorn-sync", 1, {"workers": 3}),
        ("gunicorn-sync", 4, {"workers": 9}),
        ("gunicorn-gthread", 1, {"workers": 2, "threads": 4}),
        ("gunicorn-gevent", 2, {"workers": 2, "connections": 1000}),
        ("werkzeug-processes", 1, {"processes": 3}),
        ("waitress", 2, {"threads": 8}),
        ("gunicorn-gthread[threads=16]", 1, {"workers": 2, "threads": 16}),
    ],
)
def test_defaults_follow_the_cpu_budget(spec: str, cpus: int, values: dict[str, int]) -> None:
    assert dict(resolve_mode(spec, cpus).values) == values


def test_full_spec_names_every_tunable() -> None:
    assert resolve_mode("gunicorn-gthread[threads=8]", 1).spec == "gunicorn-gthread[workers=2,threads=8]"
    assert resolve_mode("werkzeug-single", 4).spec == "werkzeug-single"


def test_registry_has_the_seed_and_alternative_modes() -> None:
    names = [m.name for m in MODES]
    assert names == [
        "werkzeug-single",
        "werkzeug-threaded",
        "werkzeug-processes",
        "gunicorn-sync",
        "gunicorn-gthread",
        "gunicorn-gevent",
        "gunicorn-eventlet",
        "gunicorn-tornado",
        "waitress",
        "uwsgi",
        "granian",
        "uvicorn-a2wsgi",
        "nginx-gunicorn-sync",
    ]


def test_eventlet_keeps_gunicorn_25() -> None:
    assert any(p.startswith("gunicorn==25.") for p in get_mode("gunicorn-eventlet").packages)


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
def test_every_launch_binds_the_given_address(mode: object) -> None:
    from servingmatrix.modes import Mode

    assert isinstance(mode, Mode)
    argv = " ".join(mode.resolve({}, 1).launch("127.0.0.1", 18123).argv)
    assert "18123" in argv
    assert "127.0.0.1" in argv


def test_promised_concurrency_is_the_folk_claim() -> None:
    assert resolve_mode("werkzeug-single", 1).promised_concurrency == 1
    assert resolve_mode("werkzeug-threaded", 1).promised_concurrency is None
    assert resolve_mode("gunicorn-sync[workers=2]", 1).promised_concurrency == 2
    assert resolve_mode("gunicorn-gthread[workers=2,threads=4]", 1).promised_concurrency == 8
