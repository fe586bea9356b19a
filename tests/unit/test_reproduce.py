"""Reproducing a bundle: each cell reproduced, differs or not comparable, at the boundaries of each;
bad bundles refused before anything is built; and the whole way, bundle to verdict, with a fake
Docker."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import servingmatrix.building.images
from servingmatrix.analysis.reproduction import (
    DIFFERS,
    NOT_COMPARABLE,
    REPRODUCED,
    judge_reproduction,
)
from servingmatrix.cli import main
from servingmatrix.matrix import Matrix
from servingmatrix.paths import images_dir, inputs_root
from servingmatrix.results.bundle import InputsSource, write_bundle
from servingmatrix.results.folder import RunFolder
from servingmatrix.run import measure_matrix
from servingmatrix.run.measure_matrix import RunSettings
from servingmatrix.run.runner import Runner
from servingmatrix.run.stack.stack import StackPorts

from . import bundles
from .fakes import FakeDocker, FakeSampler, fake_stack
from .synthetic_runs import SYNC, cell, write_run

Cells = dict[tuple[str, str, int, int], dict[str, Any]]


def cells(*rps: float, p99: float = 10.0) -> Cells:
    """SYNC x json x 1 user, one trial per figure."""
    return {(SYNC, "json", 1, trial): cell(value, p99=p99) for trial, value in enumerate(rps, 1)}


def run(root: Path, given: Cells, **metadata: object) -> Path:
    trials = max(t for *_, t in given)
    folder = write_run(root, given, [1], trials=trials)
    meta = json.loads((folder / "run.json").read_text())
    meta["metadata"].update({"cpu_model": "a CPU", "docker_version": "27.3.1", **metadata})
    (folder / "run.json").write_text(json.dumps(meta))
    return folder


def verdict(tmp_path: Path, published: Cells, reproduced: Cells, **metadata: object) -> tuple[str, str]:
    judged = judge_reproduction(run(tmp_path / "a", published), run(tmp_path / "b", reproduced, **metadata))
    (only,) = judged.cells
    return only.status, only.why


@pytest.mark.parametrize(
    ("published", "reproduced", "status"),
    [
        (cells(100.0), cells(100.0), REPRODUCED),
        (cells(100.0), cells(110.0), REPRODUCED),  # exactly the tolerance: not beyond it
        (cells(100.0), cells(110.5), DIFFERS),
        (cells(100.0), cells(90.0), REPRODUCED),
        (cells(100.0), cells(89.5), DIFFERS),
        # Three trials each, 20% faster, but trials so spread that the interval includes no change.
        (cells(80.0, 100.0, 120.0), cells(100.0, 120.0, 140.0), REPRODUCED),
        # Three tight trials each, 12% faster: beyond the tolerance and the noise.
        (cells(99.0, 100.0, 101.0), cells(111.0, 112.0, 113.0), DIFFERS),
        # Tight trials, 8% faster: beyond the noise, not the tolerance.
        (cells(99.0, 100.0, 101.0), cells(107.0, 108.0, 109.0), REPRODUCED),
        (cells(100.0, p99=10.0), cells(100.0, p99=12.5), REPRODUCED),  # p99: exactly its tolerance
        (cells(100.0, p99=10.0), cells(100.0, p99=12.6), DIFFERS),
        (cells(100.0, p99=10.0), cells(100.0, p99=7.4), DIFFERS),
    ],
)
def test_a_cell_differs_beyond_the_tolerance_and_the_noise_of_both_runs(
    tmp_path: Path, published: Cells, reproduced: Cells, status: str
) -> None:
    found, why = verdict(tmp_path, published, reproduced)
    assert found == status, why
    if status == DIFFERS:
        assert "beyond the noise of both runs" in why and "%" in why


def test_differs_says_by_how_much(tmp_path: Path) -> None:
    _, why = verdict(tmp_path, cells(99.0, 100.0, 101.0), cells(111.0, 112.0, 113.0))
    assert why.startswith("throughput +12.0% ± ")


FAILED = {(SYNC, "json", 1, 1): {"status": "failed", "reason": "the server died"}}


@pytest.mark.parametrize(
    ("published", "reproduced", "metadata", "says"),
    [
        (
            cells(100.0),
            cells(100.0),
            {"cpu_model": "another CPU"},
            "CPU model: 'a CPU' published, 'another CPU'",
        ),
        (cells(100.0), cells(100.0), {"docker_version": "28.0"}, "engine version: '27.3.1' published"),
        (cells(100.0), cells(100.0), {"cpu_count": 8}, "cores: 2 published, 8 here"),
        (cells(100.0), FAILED, {}, "failed in the reproduction (trial 1: the server died)"),
        (FAILED, cells(100.0), {}, "failed in the published run"),
    ],
)
def test_not_comparable_names_what_differs(
    tmp_path: Path, published: Cells, reproduced: Cells, metadata: dict[str, object], says: str
) -> None:
    status, why = verdict(tmp_path, published, reproduced, **metadata)
    assert status == NOT_COMPARABLE and says in why


def test_a_cell_missing_from_either_run_is_not_comparable(tmp_path: Path) -> None:
    both = {**cells(100.0), (SYNC, "json", 8, 1): cell(700.0)}
    published = write_run(tmp_path / "a", both, [1, 8])
    reproduced = write_run(tmp_path / "b", cells(100.0), [1, 8])
    judged = {c.change.users: c for c in judge_reproduction(published, reproduced).cells}
    assert judged[1].status == REPRODUCED
    assert (judged[8].status, judged[8].why) == (NOT_COMPARABLE, "missing from the reproduction")
    judged = {c.change.users: c for c in judge_reproduction(reproduced, published).cells}
    assert (judged[8].status, judged[8].why) == (NOT_COMPARABLE, "not in the published run")


def test_a_different_method_or_lock_makes_every_cell_not_comparable(tmp_path: Path) -> None:
    published = run(tmp_path / "a", cells(100.0), images={"gunicorn-sync": {"lock_sha256": "aa"}})
    reproduced = run(tmp_path / "b", cells(100.0), images={"gunicorn-sync": {"lock_sha256": "bb"}})
    meta = json.loads((reproduced / "run.json").read_text())
    meta["matrix"]["server_cpus"] = 2
    (reproduced / "run.json").write_text(json.dumps(meta))
    judged = judge_reproduction(published, reproduced)
    assert [c.status for c in judged.cells] == [NOT_COMPARABLE]
    assert "matrix server_cpus: 1 published, 2 here" in judged.cells[0].why
    assert "image locks differ: gunicorn-sync" in judged.cells[0].why


def test_a_kernel_or_harness_that_moved_on_is_noted_not_refused(tmp_path: Path) -> None:
    published = run(tmp_path / "a", cells(100.0), kernel="6.1", git_commit="aaa")
    reproduced = run(tmp_path / "b", cells(100.0), kernel="6.8", git_commit="bbb")
    judged = judge_reproduction(published, reproduced)
    assert judged.cells[0].status == REPRODUCED
    assert "kernel: '6.1' published, '6.8' here" in judged.notes


# --- reproduce --against: the command line, its table, its page and its exit status


def against(tmp_path: Path, reproduced: Cells, *options: str) -> tuple[int, Path]:
    bundle = bundles.make_bundle(tmp_path, run(tmp_path / "published", cells(100.0, 101.0, 102.0)))
    other = run(tmp_path / "again", reproduced)
    return main(["reproduce", str(bundle), "--against", str(other), *options]), other


def test_reproduce_against_a_run_writes_its_table_and_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, other = against(tmp_path, cells(100.0, 101.0, 102.0))
    said = capsys.readouterr().out
    assert code == 0
    assert "reproducing bundle" in said and "1 cells: 1 reproduced, 0 differs, 0 not comparable" in said
    page = (other / "reproduce.html").read_text()
    assert 'data-status="reproduced"' in page and "reproducing run published" in page
    assert "<script>" in page and "plotly" not in page.lower()


def test_fail_on_differ_exits_1_only_when_a_cell_differs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = against(tmp_path / "a", cells(150.0, 151.0, 152.0), "--fail-on-differ")
    assert code == 1
    captured = capsys.readouterr()
    assert "DIFFERS: throughput +49.5% ± 3.5%" in captured.out
    assert "1 cell(s) differ from the published run" in captured.err
    assert against(tmp_path / "b", cells(150.0, 151.0, 152.0))[0] == 0
    assert against(tmp_path / "c", cells(100.0, 101.0, 102.0), "--fail-on-differ")[0] == 0
    # Not comparable is not a difference: a run from another machine proves nothing either way.
    assert against(tmp_path / "d", FAILED, "--fail-on-differ")[0] == 0


def test_against_and_out_together_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reproduce", "b.tar.gz", "--against", "r", "--out", "o"]) == 2
    assert "not both" in capsys.readouterr().err


# --- bad bundles: one line, exit 2, and no Docker driver ever made


@pytest.fixture
def docker_made(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[FakeDocker]]:
    made: list[FakeDocker] = []

    def make() -> FakeDocker:
        made.append(FakeDocker())
        return made[-1]

    built: list[object] = []
    monkeypatch.setattr(measure_matrix, "Docker", make)
    monkeypatch.setattr(servingmatrix.building.images, "build_images", lambda *a, **k: built.append(a))
    yield made
    assert built == []


SPOILERS: list[tuple[str, Callable[[Path], Path], str]] = [
    ("truncated", bundles.truncated, "truncated"),
    ("truncated-tail", lambda b: bundles.truncated(b, 0.999), "truncated"),
    (
        "sum-changed",
        lambda b: bundles.spoilt(b, bundles.replaced("run/report.html", b"<html>forged")),
        "differs",
    ),
    ("lock-edited", lambda b: bundles.spoilt(b, bundles.replaced(bundles.LOCK, b"flask==0.1\n")), "differs"),
    (
        "extra-member",
        lambda b: bundles.spoilt(b, bundles.added("run/cells/extra.json")),
        "not in the manifest",
    ),
    ("member-missing", lambda b: bundles.spoilt(b, bundles.dropped("matrix.yml")), "missing from the bundle"),
    ("no-manifest", lambda b: bundles.spoilt(b, bundles.dropped("MANIFEST.sha256")), "no MANIFEST.sha256"),
    ("newer-schema", lambda b: bundles.spoilt(b, bundles.with_schema(99)), "newer than this servingmatrix"),
    (
        "schema-text",
        lambda b: bundles.spoilt(b, bundles.with_schema("1")),
        "not one servingmatrix ever wrote",
    ),
    (
        "no-bundle-json",
        lambda b: bundles.spoilt(b, bundles.dropped("bundle.json")),
        "not a servingmatrix bundle",
    ),
    ("traversal", lambda b: bundles.spoilt(b, bundles.added("../x")), "unsafe path"),
    ("absolute", lambda b: bundles.spoilt(b, bundles.added("/tmp/x")), "unsafe path"),
    ("symlink", bundles.with_symlink, "a link or a device"),
    (
        "run-id-escapes",
        lambda b: bundles.spoilt(b, bundles.resealed(bundles.with_info(run_id="../../etc"))),
        "is not a folder's name",
    ),
    (
        "forged-without-run",
        lambda b: bundles.spoilt(b, bundles.resealed(bundles.dropped("run/run.json"))),
        "holds no run/run.json",
    ),
    (
        "forged-bad-matrix",
        lambda b: bundles.spoilt(
            b, bundles.resealed(bundles.replaced("run/run.json", b'{"schema": 3, "matrix": {"name": "x"}}'))
        ),
        # run.json is read back checked before its matrix is rebuilt: the first field it lacks.
        "run/run.json: 'matrix.users' is missing",
    ),
]


@pytest.mark.parametrize(("name", "spoil", "says"), SPOILERS, ids=[s[0] for s in SPOILERS])
def test_a_bad_bundle_is_refused_before_anything_is_built(
    tmp_path: Path,
    docker_made: list[FakeDocker],
    capsys: pytest.CaptureFixture[str],
    name: str,
    spoil: Callable[[Path], Path],
    says: str,
) -> None:
    bad = spoil(bundles.make_bundle(tmp_path))
    assert main(["reproduce", str(bad), "--out", str(tmp_path / "reproduction")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("servingmatrix: error: ") and says in err[0], err
    assert docker_made == []
    assert not (tmp_path / "reproduction").exists()


def test_a_member_outside_the_bundle_is_never_written(tmp_path: Path) -> None:
    from servingmatrix.errors import UserError
    from servingmatrix.results.unbundle import open_bundle

    bad = bundles.spoilt(bundles.make_bundle(tmp_path), bundles.added("../x"))
    into = tmp_path / "deep" / "into"
    into.mkdir(parents=True)
    with pytest.raises(UserError, match="unsafe path"):
        open_bundle(bad, into)
    assert not (tmp_path / "deep" / "x").exists()


def test_a_file_that_is_no_tar_is_refused(tmp_path: Path, docker_made: list[FakeDocker]) -> None:
    (tmp_path / "notes.tar.gz").write_text("not an archive")
    assert main(["reproduce", str(tmp_path / "notes.tar.gz")]) == 2
    assert docker_made == []


# --- the whole way with a fake Docker: run, bundle, reproduce, judge


def fake_runner(docker: FakeDocker) -> Callable[..., Runner]:
    """``new_runner`` on a fake engine: its settings as given, its stacks, samplers and checks fakes."""

    def make(_docker: object, matrix: Matrix, folder: RunFolder, say: Any, settings: RunSettings) -> Runner:
        return Runner(
            docker,
            matrix,
            folder,
            say,
            force=settings.force,
            keep_samples=settings.keep_samples,
            calibrate=settings.calibrate,
            recalibrate=settings.recalibrate,
            reproduces=settings.reproduces,
            ports=StackPorts(server=28000, upstream=28081, postgres=28432),
            new_stack=fake_stack,
            new_sampler=lambda pids: FakeSampler(docker, pids),
            conformance=lambda url, mode: [],
        )

    return make


MATRIX = Matrix(name="tiny", modes=("gunicorn-sync[workers=2]",), workloads=("json",), users=(1, 4))


def test_reproduce_builds_from_the_bundle_s_inputs_and_finds_the_run_reproduced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    published = tmp_path / "published"
    first = FakeDocker()
    quiet, no_calibration = (lambda line: None), RunSettings(calibrate=False)
    fake_runner(first)(first, MATRIX.check("test"), RunFolder(published), quiet, no_calibration).run()
    bundle = tmp_path / "bundle.tar.gz"
    with bundle.open("wb") as handle:
        inputs = bundles.write_inputs(tmp_path / "inputs")
        write_bundle(handle, published, inputs, InputsSource("commit", bundles.COMMIT), False)
    docker = FakeDocker()
    builds: list[tuple[object, Path, Path]] = []
    monkeypatch.setattr(measure_matrix, "Docker", lambda: docker)
    monkeypatch.setattr(
        servingmatrix.building.images,
        "build_images",
        lambda _d, names, _say, **_k: builds.append((names, inputs_root(), images_dir())),
    )
    monkeypatch.setattr(measure_matrix, "new_runner", fake_runner(docker))
    out = tmp_path / "reproduction"
    assert main(["reproduce", str(bundle), "--out", str(out), "--fail-on-differ"]) == 0
    said = capsys.readouterr().out
    ((names, root, images),) = builds
    assert names == ["gunicorn-sync"] and images == root / "images"
    assert root.name.startswith("inputs") and root.parent.name.startswith("servingmatrix-bundle-")
    assert not root.exists()  # the extracted bundle is removed once compared
    assert inputs_root() != root
    recorded = RunFolder(out).read_run().as_json()
    assert recorded["reproduces"] == {
        "bundle": str(bundle),
        "run_id": "published",
        "commit": bundles.COMMIT,
        "inputs": "commit",
    }
    assert recorded["matrix"] == MATRIX.as_dict()
    assert "2 cells: 2 reproduced, 0 differs, 0 not comparable" in said
    assert (out / "reproduce.html").exists() and (out / "report.html").exists()


def test_the_cpu_plan_two_runs_must_share_is_said_role_by_role() -> None:
    from types import SimpleNamespace
    from typing import cast

    from servingmatrix.analysis.reproduction import _plan
    from servingmatrix.results.run import Run

    plan = {"server": {"cpuset": "0", "cpus": 1.0}, "loadgen": {"cpuset": "1", "cpus": 0.5}}
    run = cast(Run, SimpleNamespace(cpu_plan=plan))
    assert _plan(run) == "server cores 0 at 1.0 CPUs, loadgen cores 1 at 0.5 CPUs, backing cores ? at ? CPUs"
