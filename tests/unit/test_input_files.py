"""Files read from a user: a regular file within its kind's bound, and JSON holding only the numbers and
nesting servingmatrix writes. Every FIFO is made in the test's own folder; ``/dev/zero`` is only looked
at, never read.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from servingmatrix.errors import UserError
from servingmatrix.inputs import input_files
from servingmatrix.inputs.input_files import InputKind, read_input, size_text
from servingmatrix.inputs.json_input import MAX_DEPTH, deep_field, parse_json

SMALL = InputKind("test file", 16, "a test")


def test_a_regular_file_within_its_bound_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 16)
    assert read_input(path, SMALL) == b"x" * 16


def test_a_file_one_byte_over_its_bound_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 17)
    with pytest.raises(UserError, match=r"larger than 16 bytes, the most a test file holds"):
        read_input(path, SMALL)


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(UserError, match=r"fifo: is a FIFO, not a regular file; a matrix file is read only"):
        read_input(fifo, input_files.MATRIX)


def test_a_character_device_is_refused_before_it_is_read() -> None:
    with pytest.raises(UserError, match=r"^/dev/zero: is a character device, not a regular file"):
        read_input(Path("/dev/zero"), input_files.CELL)


def test_a_folder_and_a_missing_file_are_named(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"is a folder, not a regular file; a host inventory"):
        read_input(tmp_path, input_files.INVENTORY)
    with pytest.raises(UserError, match=r"nope: cannot read the run file: no such file$"):
        read_input(tmp_path / "nope", input_files.RUN)


def test_a_symbolic_link_to_a_fifo_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "link").symlink_to(tmp_path / "fifo")
    with pytest.raises(UserError, match=r"link: is a FIFO"):
        read_input(tmp_path / "link", input_files.APP_FILE)


def test_every_bound_reads_as_a_round_size() -> None:
    assert [size_text(kind.bound) for kind in input_files.KINDS][:3] == ["1 MiB", "1 MiB", "256 KiB"]
    assert size_text(input_files.BUNDLE.bound) == "8 GiB"
    assert size_text(1000) == "1000 bytes"
    assert len({kind.name for kind in input_files.KINDS}) == len(input_files.KINDS)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"a": NaN}', "'a': NaN is not a number"),
        ('{"a": {"b": [1, Infinity]}}', "'a.b': Infinity is not a number"),
        ('{"a": [{"b": -Infinity}]}', "'a[].b': -Infinity is not a number"),
        ('{"a": 1e400}', "'a': 1e400 is beyond the range of a number"),
        ('{"a": -1e400}', "'a': -1e400 is beyond the range of a number"),
        ('{"a": 1e308}', "'a': 1e308 is larger than any figure of a run"),
        ('{"a": 1e-320}', "'a': 1e-320 is subnormal"),
        (f'{{"a": {10**400}}}', "'a': 10000000000000000000... is an integer of 401 digits"),
        (f'{{"a": {"9" * 5000}}}', "is an integer of 5000 digits (at most 16)"),
        (f'{{"a": {2**53 + 1}}}', "'a': 9007199254740993 is larger than any figure"),
        ("NaN", "the document: NaN is not a number"),
    ],
)
def test_numbers_no_servingmatrix_file_holds_are_refused_naming_the_field(text: str, says: str) -> None:
    with pytest.raises(UserError) as raised:
        parse_json(Path("cell.json"), text.encode())
    assert str(raised.value).startswith("cell.json: ") and says in str(raised.value)


def test_the_numbers_a_run_writes_are_read_as_written() -> None:
    text = json.dumps({"start": 1795290526.863652, "bytes": 2**31, "share": 1e-9, "zero": 0.0, "n": -1})
    data = parse_json(Path("x"), text.encode())
    assert data == {"start": 1795290526.863652, "bytes": 2**31, "share": 1e-9, "zero": 0.0, "n": -1}
    assert parse_json(Path("x"), json.dumps({"a": float(2**53)}).encode()) == {"a": float(2**53)}


def _nested(depth: int) -> str:
    return '{"latency_ms": {"p50": ' + "[" * depth + "1" + "]" * depth + "}}"


def test_nesting_deeper_than_the_bound_is_refused_naming_where_it_starts() -> None:
    parse_json(Path("x"), _nested(MAX_DEPTH - 2).encode())
    with pytest.raises(UserError, match=r"^x: 'latency_ms.p50' is nested deeper than 32 levels"):
        parse_json(Path("x"), _nested(MAX_DEPTH).encode())


def test_nesting_too_deep_for_the_parser_is_refused_naming_where_it_starts() -> None:
    # Beyond the interpreter's recursion limit the parser itself gives up: the field is found by tokens.
    with pytest.raises(UserError, match=r"^x: 'latency_ms.p50' is nested deeper than 32 levels"):
        parse_json(Path("x"), _nested(100_000).encode())
    with pytest.raises(UserError, match=r"^x: nested deeper than 32 levels"):
        parse_json(Path("x"), ("[" * 100_000).encode())


def test_the_field_of_a_deep_nesting_skips_brackets_inside_strings() -> None:
    text = '{"a": "[[[{{{", "b\\"[": {"c": [{"d": ' + "[" * 40
    assert deep_field(text) == 'b\\"[.c[].d'


def test_text_that_is_not_utf8_or_json_is_one_line() -> None:
    with pytest.raises(UserError, match=r"^x: not text, the file is corrupt$"):
        parse_json(Path("x"), b"\xff\xfe")
    with pytest.raises(UserError, match=r"^x: not valid JSON, the file is corrupt or truncated"):
        parse_json(Path("x"), b'{"a": ')


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("c.json", {"users": 0}, "'users' is 0; a step is at least 1 user"),
        ("c.json", {"users": 1, "trial": 0}, "'trial' is 0; trials are numbered from 1"),
        ("run.json", {"matrix": {"users": [0, 8]}}, "'matrix.users' lists 0; a step is at least 1"),
        ("run.json", {"matrix": {"arrival_rates": [0]}}, "'matrix.arrival_rates' lists 0"),
    ],
)
def test_a_step_of_0_is_refused_when_a_result_is_read(
    tmp_path: Path, name: str, data: dict[str, object], says: str
) -> None:
    from servingmatrix.results.folder import read_json

    path = tmp_path / name
    path.write_text(json.dumps({"schema": 5, **data}))
    with pytest.raises(UserError, match=rf"^{path}: {says}"):
        read_json(path)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("modes: " + "[" * 100_000, "key 'modes', line 1: nested deeper than 32 levels; not a matrix file"),
        ("a:\n" + "".join("  " * i + "a:\n" for i in range(1, 400)), "nested deeper than 32 levels"),
    ],
)
def test_yaml_nested_far_deeper_than_any_file_is_refused_not_a_recursion_error(
    tmp_path: Path, text: str, says: str
) -> None:
    from servingmatrix.inputs.yaml_files import read_yaml

    path = tmp_path / "m.yml"
    path.write_text(text)
    with pytest.raises(UserError, match=rf"^{path}: .*{re.escape(says)}"):
        read_yaml(path, input_files.MATRIX)
    path.write_text("modes: " + "[" * 31 + "]" * 31)
    nested: list[object] = []
    for _ in range(30):
        nested = [nested]
    assert read_yaml(path, input_files.MATRIX) == {"modes": nested}
