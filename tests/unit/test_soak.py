"""The soak benchmark's own arithmetic: memory read from /proc, and the lines it prints per run."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from servingmatrix.engine.docker import PROJECT_LABEL, ContainerListing

SOAK = Path(__file__).resolve().parents[2] / "bench" / "soak.py"


@pytest.fixture(scope="module")
def soak() -> ModuleType:
    spec = importlib.util.spec_from_file_location("soak", SOAK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["soak"] = module
    spec.loader.exec_module(module)
    return module


STATUS = """Name:\tpython
VmPeak:\t  300000 kB
VmHWM:\t   61440 kB
VmRSS:\t   46080 kB
Threads:\t3
"""


def test_memory_is_read_from_the_status_file(soak: ModuleType) -> None:
    memory = soak.parse_status(STATUS)
    assert (memory.rss_kib, memory.hwm_kib) == (46080, 61440)
    assert memory.describe() == "RSS 45.0 MiB (peak 60.0 MiB)"


def test_the_status_of_this_process_has_both_figures(soak: ModuleType) -> None:
    memory = soak.own_memory()
    assert 0 < memory.rss_kib <= memory.hwm_kib


def test_a_status_without_rss_is_refused(soak: ModuleType) -> None:
    with pytest.raises(ValueError, match="VmRSS"):
        soak.parse_status("Name:\tzombie\nState:\tZ (zombie)\n")


def test_a_run_line_gives_wall_time_memory_and_growth(soak: ModuleType) -> None:
    before, after = soak.Memory(46080, 61440), soak.Memory(48128, 70000)
    line = soak.RunRecord(2, Path("reports/soak/run-2"), 76.04, before, after).describe(3)
    assert line.startswith("run 2/3: done in 76.0 s;")
    assert "RSS +2.0 MiB" in line
    failed = soak.RunRecord(1, Path("x"), 1.0, before, before, "port 18000 is taken").describe(3)
    assert "failed: port 18000 is taken" in failed


def test_runs_must_be_positive(soak: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    assert soak.main(["--runs", "0"]) == 2
    assert "at least 1" in capsys.readouterr().err


class _Listing:
    """Lists a left-over container and nothing else, and records the labels asked for."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, dict[str, str | None]]] = []

    def container_listing(self, labels: dict[str, str | None]) -> list[ContainerListing]:
        self.asked.append(("containers", labels))
        return [ContainerListing("c1", "servingmatrix-r1-server", {PROJECT_LABEL: "servingmatrix"})]

    def list_networks(self, labels: dict[str, str | None]) -> list[str]:
        self.asked.append(("networks", labels))
        return []

    def list_volumes(self, labels: dict[str, str | None]) -> list[str]:
        self.asked.append(("volumes", labels))
        return []


def test_leftovers_are_listed_by_the_project_label_and_counted(soak: ModuleType) -> None:
    docker = _Listing()
    lines: list[str] = []
    assert soak.list_leftovers(docker, lines.append) == 1
    assert docker.asked == [(kind, {PROJECT_LABEL: None}) for kind in ("containers", "networks", "volumes")]
    assert (
        "1 left" in lines[0]
        and lines[0].startswith("containers")
        and lines[1] == "    servingmatrix-r1-server"
    )
