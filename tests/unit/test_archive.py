"""A container's archive is unpacked only inside the folder it is copied to: nothing absolute, no
``..``, no link leading out, no device; read as a stream, whatever the chunks' sizes."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from servingmatrix.engine.archive import UnsafeArchive, extract_stream


def tar_of(*members: tuple[tarfile.TarInfo, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for info, data in members:
            info.size = len(data) if info.isfile() else 0
            archive.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return buffer.getvalue()


def file(name: str, data: bytes = b"x") -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


def entry(name: str, kind: bytes, link: str = "") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info, b""


def chunked(data: bytes, size: int) -> Iterator[bytes]:
    for at in range(0, len(data), size):
        yield data[at : at + size]


@pytest.mark.parametrize("size", [7, 512, 1 << 20])
def test_a_folder_is_unpacked_whatever_the_chunks(tmp_path: Path, size: int) -> None:
    data = tar_of(
        entry("results", tarfile.DIRTYPE),
        file("results/cell.json", b'{"ok": true}'),
        entry("results/latest", tarfile.SYMTYPE, "cell.json"),
    )
    written = extract_stream(chunked(data, size), tmp_path / "out")
    assert (tmp_path / "out" / "results" / "cell.json").read_bytes() == b'{"ok": true}'
    assert (tmp_path / "out" / "results" / "latest").read_bytes() == b'{"ok": true}'
    assert tmp_path / "out" / "results" / "cell.json" in written


UNSAFE: list[tuple[str, Callable[[], tuple[tarfile.TarInfo, bytes]], str]] = [
    ("absolute", lambda: file("/etc/evil"), "an absolute path"),
    ("dotdot", lambda: file("../evil"), "'..'"),
    ("dotdot-inside", lambda: file("results/../../evil"), "'..'"),
    ("symlink-out", lambda: entry("results", tarfile.SYMTYPE, "/etc"), "outside the folder"),
    ("symlink-up", lambda: entry("up", tarfile.SYMTYPE, "../.."), "outside the folder"),
    ("hardlink-out", lambda: entry("passwd", tarfile.LNKTYPE, "/etc/passwd"), "outside the folder"),
    ("device", lambda: entry("null", tarfile.CHRTYPE), "neither a file"),
    ("fifo", lambda: entry("pipe", tarfile.FIFOTYPE), "neither a file"),
]


@pytest.mark.parametrize(("member", "reason"), [(m, r) for _, m, r in UNSAFE], ids=[i for i, _, _ in UNSAFE])
def test_a_member_that_would_leave_the_folder_is_refused(
    tmp_path: Path, member: Callable[[], tuple[tarfile.TarInfo, bytes]], reason: str
) -> None:
    dest = tmp_path / "a" / "b" / "out"
    data = tar_of(file("fine.txt"), member())
    with pytest.raises(UnsafeArchive, match=r"archive member .* refused: .*") as refused:
        extract_stream(chunked(data, 100), dest)
    assert reason in str(refused.value) and "\n" not in str(refused.value)
    outside = [p for p in tmp_path.rglob("*") if dest not in p.parents and p != dest and p.is_file()]
    assert outside == [], "nothing is written outside the folder"


def test_a_link_then_a_file_through_it_stays_inside(tmp_path: Path) -> None:
    """A relative link that looks harmless, then a member written through it: refused by the
    extraction itself when the link would carry it outside."""
    data = tar_of(entry("sub", tarfile.SYMTYPE, "."), file("sub/inside.txt", b"ok"))
    extract_stream(chunked(data, 64), tmp_path / "out")
    assert (tmp_path / "out" / "inside.txt").read_bytes() == b"ok"


def test_set_id_bits_are_dropped(tmp_path: Path) -> None:
    info, data = file("tool", b"#!/bin/sh\n")
    info.mode = 0o4755
    extract_stream([tar_of((info, data))], tmp_path)
    assert (tmp_path / "tool").stat().st_mode & 0o7777 == 0o755
