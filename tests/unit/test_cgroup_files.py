"""A container's counters read from its cgroup files, on cgroup v1 and v2, from a tree laid out as the
kernel lays it out (the real files are read in tests/integration/test_engine_stats.py)."""

from __future__ import annotations

from pathlib import Path

from servingmatrix.engine.usage import Sample
from servingmatrix.run.measure.cgroups import ContainerCgroup

PID = 4242
REL = "docker/abc123"


def proc(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "proc" / str(PID)
    folder.mkdir(parents=True)
    (folder / "cgroup").write_text(text)
    return tmp_path / "proc"


def write(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)


def test_a_cgroup_v2_container_is_read_with_its_major_faults(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    write(root, {"cgroup.controllers": "cpu memory"})
    write(
        root / REL,
        {
            "cpu.stat": "usage_usec 2500\nuser_usec 2000\nnr_throttled 3\nthrottled_usec 700\n",
            "memory.stat": "anon 100\ninactive_file 1024\npgfault 900\npgmajfault 37\n",
            "memory.current": "5120\n",
        },
    )
    cgroup = ContainerCgroup(PID, root, proc(tmp_path, f"0::/{REL}\n"))
    sample = cgroup.sample()
    assert cgroup.version == 2
    assert (sample.cpu_ns, sample.throttled_ns, sample.throttled_periods) == (2_500_000, 700_000, 3)
    assert (sample.mem_bytes, sample.major_faults) == (4096, 37)


def test_a_cgroup_v1_container_is_read_with_its_hierarchys_major_faults(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    write(root / "cpu,cpuacct" / REL, {})
    write(root / "cpu" / REL, {"cpu.stat": "nr_periods 9\nnr_throttled 2\nthrottled_time 5000\n"})
    write(root / "cpuacct" / REL, {"cpuacct.usage": "123456\n"})
    write(
        root / "memory" / REL,
        {
            "memory.stat": "pgmajfault 1\ntotal_inactive_file 2048\ntotal_pgmajfault 61\n",
            "memory.usage_in_bytes": "10240\n",
        },
    )
    text = f"5:memory:/{REL}\n4:cpu,cpuacct:/{REL}\n1:name=systemd:/{REL}\n"
    cgroup = ContainerCgroup(PID, root, proc(tmp_path, text))
    sample = cgroup.sample()
    assert cgroup.version == 1
    assert sample == Sample(sample.t, 123456, 5000, 2, 8192, 61)
