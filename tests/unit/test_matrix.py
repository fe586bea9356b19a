"""Matrix files and command-line overrides: good ones load, bad ones are refused in one line."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from servingmatrix.errors import UserError
from servingmatrix.matrix import (
    KEYS,
    Matrix,
    Overrides,
    apply_overrides,
    load_matrix,
    load_profile,
    matrix_file_text,
    matrix_from_record,
    parse_duration,
    profile_names,
)

GOOD = """\
modes: [gunicorn-sync, "gunicorn-gthread[workers=1,threads=4]"]
workloads: ["io[ms=100]", json]
users: [1, 16]
duration: 10s
warmup: 500ms
trials: 2
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.yml"
    path.write_text(text)
    return path


def test_good_matrix_loads(tmp_path: Path) -> None:
    matrix = load_matrix(write(tmp_path, GOOD))
    assert matrix.users == (1, 16)
    assert matrix.duration_s == 10.0 and matrix.warmup_s == 0.5 and matrix.trials == 2
    assert [c.spec for c in matrix.mode_configs()] == [
        "gunicorn-sync[workers=3]",
        "gunicorn-gthread[workers=1,threads=4]",
    ]
    assert [c.spec for c in matrix.workload_configs()] == ["io[ms=100]", "json"]


@pytest.mark.parametrize("name", ["quick", "default", "full"])
def test_shipped_profiles_load(name: str) -> None:
    assert name in profile_names()
    load_profile(name)


BAD: list[tuple[str, str]] = [
    ("modes: [nope]\nworkloads: [json]\n", "unknown mode 'nope'"),
    ("modes: [gunicorn-sync]\nworkloads: [nope]\n", "unknown workload 'nope'"),
    ("modes: [gunicorn-sync]\nworkloads: [json]\nspeed: 3\n", "unknown key 'speed'"),
    ("modes: [gunicorn-sync]\n", "missing key 'workloads'"),
    ("workloads: [json]\n", "missing key 'modes'"),
    ("modes: []\nworkloads: [json]\n", "the list is empty"),
    ("modes: [gunicorn-sync]\nworkloads: [json]\nusers: []\n", "non-empty list"),
    ("modes: [gunicorn-sync]\nworkloads: [json]\nusers: [0]\n", "out of range"),
    ("modes: [gunicorn-sync]\nworkloads: [json]\nusers: [-4]\n", "out of range"),
    ("modes: [gunicorn-sync]\nworkloads: [json]\nusers: [16, 1]\n", "must be increasing"),
    ("modes: [gunicorn-sync]\nworkloads: [json]\nusers: [4, 4]\n", "repeats"),
    ("modes: [gunicorn-sync]\nworkloads: [json]\nusers: [two]\n", "not an integer"),
    ("modes: [gunicorn-sync]\nworkloads: [json]\nduration: 20\n", "with a unit"),
    ("modes: [gunicorn-sync]\nworkloads: [json]\nduration: 20 parsecs\n", "with a unit"),
    ("modes: [gunicorn-sync]\nworkloads: [json]\nduration: 0s\n", "out of range"),
    ("modes: [gunicorn-sync]\nworkloads: [json]\nwarmup: 2h\n", "with a unit"),
    ("modes: [gunicorn-sync]\nworkloads: [json]\ntrials: 0\n", "out of range"),
    ("modes: [gunicorn-sync]\nworkloads: [json]\ntrials: 1.5\n", "not an integer"),
    ("modes: [gunicorn-sync]\nworkloads: [json]\ntrials: true\n", "not an integer"),
    ("modes: [gunicorn-sync]\nworkloads: [json]\nserver_cpus: 0\n", "out of range"),
    ("modes: [gunicorn-sync, gunicorn-sync]\nworkloads: [json]\n", "twice"),
    ("modes: [gunicorn-sync, 'gunicorn-sync[workers=3]']\nworkloads: [json]\n", "twice"),
    ("modes: [gunicorn-sync]\nworkloads: [json, json]\n", "twice"),
    ("modes: ['gunicorn-sync[threads=2]']\nworkloads: [json]\n", "unknown tunable 'threads'"),
    ("modes: [gunicorn-sync]\nworkloads: ['io[ms=9999]']\n", "out of range"),
    ("modes: [gunicorn-sync]\nworkloads: ['io[seconds=1]']\n", "unknown parameter 'seconds'"),
    ("modes: [gunicorn-sync]\nworkloads: ['json[ms=1]']\n", "unknown parameter 'ms'"),
    ("modes: gunicorn-sync\nworkloads: 3\n", "expected a list of specs"),
    ("- modes\n", "expected a mapping"),
    ("modes: [gunicorn-sync\n", "not valid YAML"),
    ("modes: [gunicorn-sync]\nworkloads: [json]\nserver_memory: 2 GB\n", "not a memory size"),
    ("modes: [gunicorn-sync]\nworkloads: [json]\nserver_memory: 1m\n", "out of range"),
    ("modes: [gunicorn-sync]\nworkloads: [json]\nserver_memory: 512\n", "not a memory size"),
    ("modes: [gunicorn-sync]\nworkloads: [json]\nloadgen_processes: 0\n", "out of range"),
    ("modes: [gunicorn-sync]\nworkloads: [json]\nloadgen_processes: 65\n", "out of range"),
    ("modes: [gunicorn-sync]\nworkloads: [json]\narrival_rates: []\n", "non-empty list"),
    ("modes: [gunicorn-sync]\nworkloads: [json]\narrival_rates: [400, 200]\n", "must be increasing"),
    ("modes: [gunicorn-sync]\nworkloads: [json]\narrival_rates: [0]\n", "out of range"),
    ("modes: [gunicorn-sync]\nworkloads: [json]\nrequest_timeout: 30\n", "with a unit"),
]


@pytest.mark.parametrize(("text", "fragment"), BAD)
def test_bad_matrix_is_refused_with_one_line(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(UserError) as caught:
        load_matrix(write(tmp_path, text))
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="cannot read"):
        load_matrix(tmp_path / "absent.yml")


def test_unknown_profile() -> None:
    with pytest.raises(UserError, match="unknown profile 'nope'"):
        load_profile("nope")


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        (Overrides(users="1,,4"), "not an integer"),
        (Overrides(users="8,4"), "increasing"),
        (Overrides(duration="10"), "with a unit"),
        (Overrides(warmup="-1s"), "with a unit"),
        (Overrides(modes="gunicorn-sync[workers=0]"), "out of range"),
        (Overrides(modes=""), "empty entry"),
        (Overrides(trials=0), "out of range"),
        (Overrides(arrival_rates="100,fast"), "not an integer"),
        (Overrides(arrival_rates="200000"), "out of range"),
        (Overrides(server_memory="lots"), "not a memory size"),
        (Overrides(loadgen_processes=0), "out of range"),
        (Overrides(request_timeout="0s"), "out of range"),
    ],
)
def test_bad_overrides_are_refused(tmp_path: Path, overrides: Overrides, fragment: str) -> None:
    matrix = load_matrix(write(tmp_path, GOOD))
    with pytest.raises(UserError, match=fragment):
        apply_overrides(matrix, overrides)


def test_overrides_replace_the_file_values(tmp_path: Path) -> None:
    matrix = apply_overrides(load_matrix(write(tmp_path, GOOD)), Overrides(users="2,4,8", duration="1m"))
    assert matrix.users == (2, 4, 8)
    assert matrix.duration_s == 60.0


@pytest.mark.parametrize(("text", "seconds"), [("20s", 20.0), ("1.5m", 90.0), ("250ms", 0.25)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration("x", text) == seconds


def test_open_loop_steps_are_the_arrival_rates(tmp_path: Path) -> None:
    matrix = apply_overrides(
        load_matrix(write(tmp_path, GOOD)),
        Overrides(arrival_rates="100,200", server_memory="512m", loadgen_processes=2, request_timeout="5s"),
    )
    assert matrix.open_loop and matrix.steps == (100, 200)
    assert (matrix.server_memory, matrix.loadgen_processes, matrix.request_timeout_s) == ("512m", 2, 5.0)
    assert matrix.as_dict()["arrival_rates"] == [100, 200]
    assert not load_matrix(write(tmp_path, GOOD)).open_loop


FILE_REFUSALS: list[tuple[str, str]] = [
    (
        "modes: [gunicorn-sync]\nworkloads: [json]\nusers: [1]\nusers: [4]\n",
        "key 'users' is given twice (lines 3 and 4); give each key once",
    ),
    (
        "modes: [gunicorn-sync]\nworkloads: [json]\ntrials: 1\n'trials': 2\n",
        "key 'trials' is given twice",
    ),
    (
        "{modes: [gunicorn-sync], workloads: [json], modes: [waitress]}\n",
        "key 'modes' is given twice (line 1)",
    ),
    (
        "modes: &m [gunicorn-sync]\nworkloads: [json]\n",
        "key 'modes', line 1: YAML anchors and aliases (&m) are not allowed in a matrix file",
    ),
    (
        "modes: [gunicorn-sync]\nworkloads: [json]\nusers: [1]\narrival_rates: *u\n",
        "key 'arrival_rates', line 4: YAML anchors and aliases (*u) are not allowed",
    ),
    (
        "modes: [&s gunicorn-sync]\nworkloads: [json]\n",
        "key 'modes', line 1: YAML anchors and aliases (&s)",
    ),
    (
        "modes: [gunicorn-sync]\nworkloads: [json]\nusers: [1, 16]\narrival_rates: [100]\n",
        "users and arrival_rates are both given; give one of them (arrival_rates replaces users)",
    ),
]


@pytest.mark.parametrize(("text", "fragment"), FILE_REFUSALS)
def test_matrix_file_refusals_name_the_file_and_key(tmp_path: Path, text: str, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(UserError) as caught:
        load_matrix(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


def test_an_alias_is_refused_before_it_is_expanded(tmp_path: Path) -> None:
    # "Billion laughs": nine levels of ten aliases each would be 10**9 strings once expanded.
    lines = ['a0: &a0 ["lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    path = write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(UserError, match=r"key 'a0', line 1: YAML anchors and aliases \(&a0\)"):
        load_matrix(path)


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "modes: [gunicorn-sync]\nworkloads: [json]\ndescription: caf\xe9\n".encode("latin-1"),
        b"modes: [gunicorn-sync]\x00\nworkloads: [json]\n",
    ],
)
def test_a_binary_or_non_utf8_file_is_refused_in_one_line(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "m.yml"
    path.write_bytes(content)
    with pytest.raises(UserError) as caught:
        load_matrix(path)
    assert str(caught.value) == f"{path}: not a text file; a matrix file is YAML written in UTF-8"


def test_utf8_text_loads(tmp_path: Path) -> None:
    path = tmp_path / "m.yml"
    path.write_bytes(("\ufeff" + GOOD + "description: café ☕\n").encode())
    assert load_matrix(path).description == "café ☕"


def test_null_rates_are_a_closed_loop_even_beside_users(tmp_path: Path) -> None:
    matrix = load_matrix(write(tmp_path, GOOD + "arrival_rates: null\nloadgen_processes: null\n"))
    assert not matrix.open_loop and matrix.loadgen_processes is None


def test_users_and_rates_both_on_the_command_line_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UserError) as caught:
        apply_overrides(load_matrix(write(tmp_path, GOOD)), Overrides(users="1,2", arrival_rates="100"))
    assert str(caught.value) == "give --users or --arrival-rate, not both (--arrival-rate replaces --users)"


def test_an_option_replaces_the_other_load_of_the_file(tmp_path: Path) -> None:
    closed = load_matrix(write(tmp_path, GOOD))
    open_loop = apply_overrides(closed, Overrides(arrival_rates="100,200"))
    # The file's users stay recorded (a resumed run compares the record), unused.
    assert open_loop.steps == (100, 200) and open_loop.users == (1, 16)
    back = apply_overrides(open_loop, Overrides(users="2,4"))
    assert not back.open_loop and back.steps == (2, 4)


def test_overrides_take_only_keys_with_an_option() -> None:
    with pytest.raises(TypeError, match="'description'"):
        Overrides(description="x")
    assert Overrides(users=None, trials=2).given == {"trials": 2}


@pytest.mark.parametrize("name", profile_names())
def test_a_profile_s_record_rebuilds_it_and_its_file_text_reads_back_to_it(name: str, tmp_path: Path) -> None:
    matrix = load_profile(name)
    assert matrix_from_record("run.json", matrix.as_dict()) == matrix
    (tmp_path / "m.yml").write_text(matrix_file_text(matrix))
    assert load_matrix(tmp_path / "m.yml", name) == matrix


def test_odd_durations_and_an_open_loop_survive_the_record_and_the_file(tmp_path: Path) -> None:
    matrix = Matrix(
        name="odd",
        modes=("waitress[threads=2]",),
        workloads=("io[ms=7]",),
        arrival_rates=(10, 20),
        duration_s=1.234567891,
        warmup_s=0.0015,
        request_timeout_s=90.0,
        loadgen_processes=2,
        description='a "quoted": text # not a comment',
    ).check("test")
    assert matrix_from_record("run.json", matrix.as_dict()) == matrix
    (tmp_path / "m.yml").write_text(matrix_file_text(matrix))
    assert load_matrix(tmp_path / "m.yml", "odd") == matrix


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"duration_s": "fast"}, "run.json: duration: 'fast' is not a duration"),
        ({"modes": ["apache"]}, "unknown mode"),
        ({"name": ""}, "has no name"),
        ({"workloads": None}, "workloads"),
    ],
)
def test_a_bad_record_is_refused_in_one_line(change: dict[str, object], says: str) -> None:
    record = {**load_profile("quick").as_dict(), **change}
    with pytest.raises(UserError, match=re.escape(says)):
        matrix_from_record("run.json", record)


def error_of(path: Path) -> str:
    with pytest.raises(UserError) as caught:
        load_matrix(path)
    return str(caught.value)


def test_a_matrix_is_named_after_its_file_unless_named(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    assert load_matrix(path).name == "m"
    assert load_matrix(path, "nightly").name == "nightly"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("modes: [waitress, waitress]\nworkloads: [json]\n", "modes lists waitress[threads=4] twice"),
        ("modes: [waitress]\nworkloads: [json, json]\n", "workloads lists json twice"),
    ],
)
def test_a_spec_listed_twice_names_the_file_and_the_key(tmp_path: Path, text: str, said: str) -> None:
    path = write(tmp_path, text)
    assert error_of(path) == f"{path}: {said}"


def test_refusals_list_what_is_allowed(tmp_path: Path) -> None:
    path = write(tmp_path, "threads: 4\n")
    allowed = ", ".join(KEYS)
    assert allowed.startswith("description, modes, workloads, users, duration, warmup, trials")
    assert error_of(path) == f"{path}: unknown key 'threads' (allowed: {allowed})"
    write(tmp_path, "- json\n")
    assert error_of(path) == f"{path}: expected a mapping of {allowed}"
    assert error_of(write(tmp_path, GOOD.replace("trials: 2", "trials: many"))) == (
        f"{path}: trials: 'many' is not a number of trials (allowed: 1..100, or auto)"
    )


def test_invalid_yaml_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "modes: [waitress]\nworkloads: [json\n")
    assert error_of(path) == f"{path}: not valid YAML at line 3"


def test_an_anchor_on_the_whole_file_names_no_key(tmp_path: Path) -> None:
    path = write(tmp_path, "&top\nmodes: [waitress]\nworkloads: [json]\n")
    assert error_of(path) == (
        f"{path}: line 1: YAML anchors and aliases (&top) are not allowed in a matrix file; "
        "write the value out"
    )


def test_a_key_twice_is_found_after_a_complex_key(tmp_path: Path) -> None:
    path = write(tmp_path, "? [a, b]\n: 1\nmodes: [waitress]\nmodes: [uwsgi]\n")
    assert error_of(path) == f"{path}: key 'modes' is given twice (lines 3 and 4); give each key once"


def test_an_unknown_profile_lists_the_known_ones() -> None:
    with pytest.raises(UserError) as caught:
        load_profile("nope")
    assert str(caught.value) == f"unknown profile 'nope' (known: {', '.join(profile_names())})"
    assert load_profile("quick").name == "quick"


def test_an_override_refusal_names_the_option(tmp_path: Path) -> None:
    matrix = load_matrix(write(tmp_path, GOOD))
    with pytest.raises(UserError) as caught:
        apply_overrides(matrix, Overrides(trials=0))
    assert str(caught.value) == "--trials: 0 is out of range (allowed: 1..100)"
    with pytest.raises(UserError) as caught:
        apply_overrides(matrix, Overrides(modes="waitress,waitress"))
    assert str(caught.value) == "command line: modes lists waitress[threads=4] twice"


def test_an_override_of_another_key_keeps_the_files_rates(tmp_path: Path) -> None:
    open_loop = load_matrix(write(tmp_path, GOOD.replace("users: [1, 16]", "arrival_rates: [100, 200]")))
    assert apply_overrides(open_loop, Overrides(trials=3)).arrival_rates == (100, 200)


def test_overrides_show_what_was_given() -> None:
    assert repr(Overrides(users="1,8", trials=2)) == "Overrides(users='1,8', trials=2)"


def test_a_control_character_is_invalid_yaml_without_a_line(tmp_path: Path) -> None:
    path = write(tmp_path, "modes: [waitress]\x01\n")
    assert error_of(path) == f"{path}: not valid YAML"


def test_a_matrix_file_written_out_lists_its_keys_as_the_table_does() -> None:
    matrix = Matrix(
        name="x", modes=("waitress[threads=4]",), workloads=("json",), users=(1, 8), description="café ☕"
    )
    assert matrix_file_text(matrix) == (
        "description: café ☕\nmodes: ['waitress[threads=4]']\nworkloads: [json]\nusers: [1, 8]\n"
        "duration: 20s\nwarmup: 5s\ntrials: 1\nprecision: 5%\nmax_trials: 7\nserver_cpus: 1\n"
        "server_memory: 2g\narrivals: uniform\narrival_seed: 0\nrequest_timeout: 30s\n"
        "reference: wrk\nreference_duration: 5s\nreference_trials: every\n"
    )
    rates = matrix_file_text(replace(matrix, arrival_rates=(10, 20)))
    assert "arrival_rates: [10, 20]\n" in rates and "users" not in rates


@pytest.mark.parametrize(
    ("record", "says"),
    [
        (["waitress"], "run.json: no matrix recorded; the file is corrupt or not a run's"),
        ({"name": "  ", "modes": ["waitress"], "workloads": ["json"]}, "run.json: the matrix has no name"),
        ({"name": 5, "modes": ["waitress"], "workloads": ["json"]}, "run.json: the matrix has no name"),
        ({"name": "x", "workloads": ["json"]}, "run.json: the matrix records no 'modes'"),
        ({"name": "x", "modes": ["waitress"]}, "run.json: the matrix records no 'workloads'"),
        (
            {"name": "x", "modes": ["waitress"], "workloads": ["json"], "trials": 0},
            "run.json: trials: 0 is out of range (allowed: 1..100)",
        ),
        (
            {"name": "x", "modes": ["waitress", "waitress"], "workloads": ["json"]},
            "run.json: modes lists waitress[threads=4] twice",
        ),
    ],
)
def test_a_bad_record_is_refused_in_exactly_one_line(record: object, says: str) -> None:
    with pytest.raises(UserError) as caught:
        matrix_from_record("run.json", record)
    assert str(caught.value) == says


def test_a_key_the_record_predates_takes_its_default() -> None:
    matrix = matrix_from_record("run.json", {"name": "old", "modes": ["waitress"], "workloads": ["json"]})
    assert matrix == Matrix(name="old", modes=("waitress",), workloads=("json",))
