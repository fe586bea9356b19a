"""Property-based tests (Hypothesis) of the pure parts a hostile input or a strange run reaches: spec
parsing, matrix files, the reader of cell files, percentiles and windows, the bootstrap, the knee."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servingmatrix.analysis.stats import estimate, knee
from servingmatrix.errors import SpecError, UserError
from servingmatrix.matrix import load_matrix
from servingmatrix.precision import bootstrap_median_interval
from servingmatrix.results.cell import CellRecord
from servingmatrix.run.measure.latency import RequestSample, percentile, window_stats
from servingmatrix.spec import parse_int, parse_spec, split_specs

from .synthetic_runs import GOOD_CELL

PATH = Path("cell.json")
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


# --- specs ---------------------------------------------------------------------------------------

NAMES = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,20}", fullmatch=True)
KEYS = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)
VALUES = st.from_regex(r"[A-Za-z0-9_.]{1,12}", fullmatch=True)


@FAST
@given(st.text(max_size=80))
def test_any_text_is_a_spec_or_one_spec_error(text: str) -> None:
    try:
        spec = parse_spec(text)
    except SpecError as exc:
        assert "\n" not in str(exc)
        assert len(str(exc)) < 300
    else:
        assert spec.name == text.strip().split("[")[0]


@FAST
@given(NAMES, st.dictionaries(KEYS, VALUES, max_size=4))
def test_a_written_spec_reads_back(name: str, params: dict[str, str]) -> None:
    text = f"{name}[{','.join(f'{k}={v}' for k, v in params.items())}]" if params else name
    spec = parse_spec(text)
    assert spec.name == name and spec.as_dict() == params
    assert split_specs(f"{text},{text}") == [text, text]


@FAST
@given(st.text(max_size=20))
def test_an_integer_is_ascii_digits_or_nothing(text: str) -> None:
    value = parse_int(text)
    stripped = text.strip()
    if "_" in text or any(c.isdigit() and not c.isascii() for c in text) or len(stripped) > 13:
        assert value is None
    if value is not None:
        digits = stripped.removeprefix("-")
        assert digits.isascii() and digits.isdecimal() and value == int(stripped)


# --- matrix files --------------------------------------------------------------------------------

YAMLISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@FAST
@given(st.dictionaries(st.sampled_from(["modes", "workloads", "users", "duration", "trials", "x"]), YAMLISH))
def test_any_mapping_is_a_matrix_or_one_user_error(
    tmp_path_factory: pytest.TempPathFactory, data: Any
) -> None:
    path = tmp_path_factory.mktemp("m") / "m.yml"
    path.write_text(json.dumps(data))  # JSON is YAML
    try:
        load_matrix(path)
    except UserError as exc:
        assert "\n" not in str(exc)


@FAST
@given(st.binary(max_size=64))
def test_any_bytes_are_a_matrix_or_one_user_error(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = tmp_path_factory.mktemp("m") / "m.yml"
    path.write_bytes(data)
    with pytest.raises(UserError):
        load_matrix(path)


# --- cell files ----------------------------------------------------------------------------------


@FAST
@given(st.sampled_from(sorted(GOOD_CELL)), YAMLISH)
def test_a_cell_with_any_value_anywhere_reads_or_is_one_user_error(key: str, value: Any) -> None:
    try:
        record = CellRecord.from_json(PATH, {**GOOD_CELL, key: value})
    except UserError as exc:
        assert str(exc).startswith(f"{PATH}: ") and "\n" not in str(exc)
    else:
        # What was accepted is what is written back, and reads again the same.
        assert CellRecord.from_json(PATH, record.as_json()) == record
        for figure in (record.requests, record.throughput_rps, *record.latency_ms.figures().values()):
            assert figure is None or (math.isfinite(figure) and figure >= 0)


# --- percentiles and windows ---------------------------------------------------------------------

LATENCIES = st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=200)


@FAST
@given(LATENCIES, st.floats(min_value=0, max_value=100), st.floats(min_value=0, max_value=100))
def test_a_percentile_is_an_observed_latency_and_grows_with_p(
    values: list[float], a: float, b: float
) -> None:
    ordered = sorted(values)
    low, high = sorted((a, b))
    assert percentile(ordered, low) in ordered
    assert percentile(ordered, low) <= percentile(ordered, high)
    assert ordered[0] <= percentile(ordered, low) <= ordered[-1]


SAMPLES = st.lists(
    st.builds(
        RequestSample,
        start=st.floats(min_value=0, max_value=100),
        ms=st.floats(min_value=0, max_value=5000),
        ok=st.booleans(),
        name=st.sampled_from(["json", "io"]),
        bytes=st.integers(0, 100),
    ),
    max_size=100,
)


@FAST
@given(SAMPLES, st.floats(min_value=0, max_value=100), st.floats(min_value=0.1, max_value=50))
def test_a_window_counts_exactly_the_requests_that_ended_in_it(
    samples: list[RequestSample], start: float, length: float
) -> None:
    end = start + length
    stats = window_stats(samples, start, end)
    inside = [s for s in samples if start <= s.end < end]
    assert stats.requests == len(inside)
    assert stats.failures == sum(1 for s in inside if not s.ok)
    assert 0 <= stats.throughput_rps <= len(inside) / length + 1e-9
    ok = sorted(s.ms for s in inside if s.ok)
    if ok:
        assert stats.latency_ms["p50"] <= stats.latency_ms["p99"] <= stats.latency_ms["max"] == ok[-1]
    else:
        assert math.isnan(stats.latency_ms["p99"])


# --- the bootstrap and the knee ------------------------------------------------------------------

TRIALS = st.lists(st.floats(min_value=0.1, max_value=1e5, allow_nan=False), min_size=2, max_size=7)


@FAST
@given(TRIALS)
def test_the_bootstrap_interval_holds_the_median_within_the_trials(values: list[float]) -> None:
    interval = bootstrap_median_interval(values)
    assert interval is not None
    low, high = interval
    est = estimate(values)
    assert est is not None
    assert min(values) <= low <= est.median <= high <= max(values)


STEPS = st.lists(
    st.tuples(
        st.integers(1, 10_000),
        st.none() | st.floats(min_value=0, max_value=1e5, allow_nan=False),
        st.none() | st.floats(min_value=0, max_value=1e4, allow_nan=False),
    ),
    max_size=8,
    unique_by=lambda s: s[0],
)


@FAST
@given(STEPS)
def test_the_knee_is_the_lowest_step_reaching_90_percent_of_the_peak(series: list[Any]) -> None:
    found = knee(series)
    served = sorted((s, tp) for s, tp, _ in series if tp is not None)
    if not served or max(tp for _, tp in served) <= 0:
        assert found is None
        return
    assert found is not None
    peak = max(tp for _, tp in served)
    assert found.peak_throughput == peak and found.throughput >= 0.9 * peak
    assert all(tp < 0.9 * peak for s, tp in served if s < found.step)
    assert found.last_step == served[-1][0]
