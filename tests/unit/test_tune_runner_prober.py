"""The prober that drives the runner, with the fake Docker driver and a recorded Locust run: a probe is
a run of its own on disk, read back as a probe, and measured once (a tune that resumes reads it)."""

from __future__ import annotations

from pathlib import Path

from servingmatrix.matrix import Matrix
from servingmatrix.modes import resolve_mode
from servingmatrix.results.folder import RunFolder
from servingmatrix.run.load.loadgen import LOCUST_IMAGE
from servingmatrix.run.measure_matrix import RunSettings
from servingmatrix.run.runner import Runner
from servingmatrix.run.stack.stack import StackPorts
from servingmatrix.tune.request import TuneRequest
from servingmatrix.tune.runner_prober import RunnerProber, probe_folder

from .fakes import FakeDocker, FakeSampler, fake_stack

REQUEST = TuneRequest(modes=("gunicorn-sync",), workload="json", probe_s=2.0, probe_warmup_s=1.0)


def prober(tmp_path: Path, docker: FakeDocker) -> RunnerProber:
    def runner_for(matrix: Matrix, folder: RunFolder) -> Runner:
        return Runner(
            docker,
            matrix,
            folder,
            lambda line: None,
            ports=StackPorts(server=28100, upstream=28181, postgres=28532),
            new_stack=fake_stack,
            new_sampler=lambda pids: FakeSampler(docker, pids),
            conformance=lambda url, mode: [],
            calibrate=False,
        )

    return RunnerProber(docker, REQUEST, tmp_path, lambda line: None, RunSettings(), runner_for)


def test_a_probe_is_a_run_of_one_rate_with_poisson_arrivals_read_back(tmp_path: Path) -> None:
    docker = FakeDocker()
    config = resolve_mode("gunicorn-sync[workers=2]", 1)
    # The recording's steps are 1 and 4: the probe offers 4 req/s.
    result = prober(tmp_path, docker).probe(config, 4, 1)
    (locust,) = [s for s in docker.started if s.image == LOCUST_IMAGE]
    assert locust.env["SM_LOAD"] == "open" and locust.env["SM_STEPS"] == "4"
    assert (result.spec, result.rate, result.repeat, result.status) == (
        "gunicorn-sync[workers=2]",
        4,
        1,
        "ok",
    )
    assert result.p99_ms is not None and result.throughput_rps is not None
    folder = RunFolder(probe_folder(tmp_path, config.spec, 4, 1))
    (cell,) = folder.read_cells()
    assert (cell.arrivals, cell.load, cell.users) == ("poisson", "open", 4)


def test_a_probe_on_disk_is_read_not_measured_again(tmp_path: Path) -> None:
    docker = FakeDocker()
    config = resolve_mode("gunicorn-sync[workers=2]", 1)
    first = prober(tmp_path, docker).probe(config, 4, 1)
    started = len(docker.started)
    assert prober(tmp_path, docker).probe(config, 4, 1) == first
    assert len(docker.started) == started
