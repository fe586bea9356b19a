"""What teardown finds to remove: the mounts under the hosts' folders, the hosts, a killed shim's socket;
and the checks ``hosts up`` makes before making anything."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from servingmatrix.errors import UserError
from servingmatrix.hosts.simulated import hosts as simulated
from servingmatrix.hosts.simulated.mountinfo import mounts_under, parse_mountinfo, unescape
from servingmatrix.hosts.simulated.plan import Layout
from servingmatrix.hosts.simulated.state import HostsState, write_state
from servingmatrix.hosts.simulated.teardown import found_hosts, shim_socket

MOUNTINFO = """\
22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
27 22 254:0 / /run rw,relatime shared:2 - ext4 /dev/vda rw
43 27 254:0 /run/netns /run/netns rw,relatime shared:3 - ext4 /dev/vda rw
44 43 0:4 net:[4026532178] /run/netns/smhost1 rw shared:4 - nsfs nsfs rw
45 22 254:0 /var/lib/servingmatrix/hosts/1 /var/lib/servingmatrix/hosts/1 rw shared:5 - ext4 /dev/vda rw
46 27 0:4 net:[4026532178] /run/servingmatrix/hosts/1/exec/netns/default rw - nsfs nsfs rw
47 45 0:50 / /var/lib/servingmatrix/hosts/1/containers/abc/mounts/shm rw - tmpfs shm rw,size=65536k
48 22 0:51 / /var/lib/servingmatrix/hosts2 rw - tmpfs other rw
49 27 0:52 / /run/servingmatrix/hosts/1/with\\040space rw - tmpfs odd rw
50 46 0:4 net:[4026532179] /run/servingmatrix/hosts/1/exec/netns/default rw - nsfs nsfs rw
"""

ROOTS = [Path("/run/servingmatrix/hosts"), Path("/var/lib/servingmatrix/hosts")]


def test_mountinfo_paths_are_unescaped() -> None:
    assert unescape(r"/a\040b\011c\134d") == "/a b\tc\\d"
    points = [m.mount_point for m in parse_mountinfo(MOUNTINFO)]
    assert Path("/run/servingmatrix/hosts/1/with space") in points
    assert parse_mountinfo("garbage\n\n")[:1] == []


def test_mounts_under_the_roots_deepest_first_and_stacked_ones_last_made_first() -> None:
    found = mounts_under(parse_mountinfo(MOUNTINFO), ROOTS)
    exec_netns = Path("/run/servingmatrix/hosts/1/exec/netns/default")
    assert found == [
        Path("/var/lib/servingmatrix/hosts/1/containers/abc/mounts/shm"),
        exec_netns,
        exec_netns,
        Path("/run/servingmatrix/hosts/1/with space"),
        Path("/var/lib/servingmatrix/hosts/1"),
    ]


def test_a_sibling_folder_with_a_common_prefix_is_not_under_a_root() -> None:
    found = mounts_under(parse_mountinfo(MOUNTINFO), ROOTS)
    assert Path("/var/lib/servingmatrix/hosts2") not in found
    assert Path("/run/netns/smhost1") not in found


def test_a_root_that_is_itself_a_mount_is_found() -> None:
    found = mounts_under(parse_mountinfo(MOUNTINFO), [Path("/run/netns")])
    assert found == [Path("/run/netns/smhost1"), Path("/run/netns")]


def test_hosts_are_found_by_record_namespace_and_folder(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "run", tmp_path / "data", tmp_path / "netns")
    assert found_hosts(layout, None) == []
    (layout.run_root / "1").mkdir(parents=True)
    (layout.data_root / "4").mkdir(parents=True)
    layout.netns_dir.mkdir()
    (layout.netns_dir / "smhost3").touch()
    (layout.netns_dir / "other7").touch()
    (layout.netns_dir / "smswitch").touch()
    assert [h.index for h in found_hosts(layout, None)] == [1, 3, 4]
    assert [h.index for h in found_hosts(layout, HostsState(("1", "0"), False))] == [1, 2, 3, 4]


def test_a_shim_socket_is_named_by_containerd_address_namespace_and_task() -> None:
    # As containerd 1.6's runc shim named it for a container of a simulated host.
    task = "47def7d8cf4a95528a793ef335a1edab8cfa0b9693ede0239bda3979fc6773f4"
    address = Path("/run/servingmatrix/hosts/1/containerd/containerd.sock")
    assert shim_socket(address, "moby", task) == Path(
        "/run/containerd/s/a65828f2a283e6d6150bdd68a559382300986b772d61936a121dcf8eeeb9fdd3"
    )
    assert shim_socket(Path("/run/servingmatrix/hosts/2/containerd/containerd.sock"), "moby", task) != (
        shim_socket(address, "moby", task)
    )


def test_up_without_root_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(UserError, match="needs root"):
        simulated.hosts_up(2, tmp_path / "hosts.yml", print)
    with pytest.raises(UserError, match="needs root"):
        simulated.hosts_down(print)


def test_up_without_dockerd_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "dockerd" else f"/bin/{name}")
    with pytest.raises(UserError, match=r"^dockerd is not installed \(not on PATH\)"):
        simulated.hosts_up(2, tmp_path / "hosts.yml", print)


def test_up_refuses_an_out_path_it_cannot_write(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(shutil, "which", lambda name: f"/bin/{name}")
    with pytest.raises(UserError, match="is a folder"):
        simulated.hosts_up(1, tmp_path, print)
    with pytest.raises(UserError, match="does not exist"):
        simulated.hosts_up(1, tmp_path / "no" / "hosts.yml", print)


def test_up_refuses_when_hosts_are_already_up(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(shutil, "which", lambda name: f"/bin/{name}")
    layout = Layout(tmp_path / "run", tmp_path / "data", tmp_path / "netns")
    write_state(layout.state_file, HostsState(("1",), False))
    with pytest.raises(UserError, match="already up"):
        simulated.hosts_up(1, tmp_path / "hosts.yml", print, layout)
