"""``tune.json`` reads back as it was written, and is read strictly: a newer schema, another kind, an
unknown key, a wrong type or an answer naming what was not measured are refused in one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from servingmatrix.errors import UserError
from servingmatrix.tune.request import TuneRequest, parse_budget
from servingmatrix.tune.result_file import TUNE_FILE, read_tune, write_tune
from servingmatrix.tune.tune import tune

from .tune_models import ServerModel


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tune")
    model = ServerModel(lambda c: 40.0 + 5 * c.counted("threads"))
    asked = TuneRequest(
        modes=("waitress[threads=8]", "gunicorn-gthread[workers=1,threads=2]"), workload="mixed"
    )
    tune(asked, model, folder, lambda _line: None, model.clock)
    return folder / TUNE_FILE


def with_change(path: Path, tmp_path: Path, change: dict[str, Any]) -> Path:
    data = json.loads(path.read_text())
    data.update(change)
    out = tmp_path / TUNE_FILE
    out.write_text(json.dumps(data))
    return out


def test_it_reads_back_as_written(written: Path, tmp_path: Path) -> None:
    result = read_tune(written)
    assert result.recommendation == "waitress[threads=8]" and result.capacities
    write_tune(tmp_path, result)
    assert read_tune(tmp_path / TUNE_FILE) == result


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"schema": 99}, "newer than this servingmatrix"),
        ({"schema": None}, "no schema version"),
        ({"kind": "run"}, "'kind'"),
        ({"extra": 1}, "unknown key 'extra'"),
        ({"elapsed_s": -1}, "'elapsed_s'"),
        ({"recommendation": "gunicorn-sync[workers=9]"}, "was not measured"),
        (
            {"capacities": [{"spec": "x", "status": "great", "lower_rps": 1, "note": "n"}]},
            "'capacities[].status'",
        ),
    ],
)
def test_a_bad_file_is_refused_in_one_line(
    written: Path, tmp_path: Path, change: dict[str, Any], says: str
) -> None:
    with pytest.raises(UserError, match=says.replace("[", r"\[").replace("]", r"\]")) as refused:
        read_tune(with_change(written, tmp_path, change))
    assert "\n" not in str(refused.value)


def test_a_probe_with_an_unknown_key_is_refused(written: Path, tmp_path: Path) -> None:
    data = json.loads(written.read_text())
    data["capacities"][0]["probes"][0]["colour"] = "red"
    out = tmp_path / TUNE_FILE
    out.write_text(json.dumps(data))
    with pytest.raises(UserError, match=r"unknown key 'capacities\[\]\.probes\[\]\.colour'"):
        read_tune(out)


def test_the_budget_takes_a_unit_and_a_range() -> None:
    assert parse_budget("30m") == 1800 and parse_budget("2h") == 7200 and parse_budget("90s") == 90
    for bad in ("30", "5s", "25h", "m"):
        with pytest.raises(UserError):
            parse_budget(bad)
