"""A tar stream from the engine unpacked into a folder, refusing any member that would land outside it.

What a container hands back (``GET /containers/{id}/archive``) is written by whatever runs in it, so it
is read as untrusted: no absolute path, no ``..``, no link that leads out, no device or fifo. The
stream is read as it arrives, never held whole in memory.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

from servingmatrix.errors import UserError


class UnsafeArchive(UserError):
    """A member of an archive would be written outside the folder it is unpacked into."""


class ChunkReader(io.RawIOBase):
    """A read-only file over an iterator of byte chunks, so tarfile can read a stream as it arrives."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = chunk
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def unsafe_reason(member: tarfile.TarInfo) -> str | None:
    """Why ``member`` may not be unpacked; None when it stays inside and is a file, folder or link."""
    path = PurePosixPath(member.name)
    if path.is_absolute() or member.name.startswith("/"):
        return "an absolute path"
    if ".." in path.parts:
        return "a '..' in its path"
    if member.issym() or member.islnk():
        target = PurePosixPath(member.linkname)
        if target.is_absolute() or ".." in target.parts:
            return f"a link to {member.linkname!r}, outside the folder"
        return None
    if not (member.isfile() or member.isdir()):
        return "neither a file, a folder nor a link"
    return None


def extract_stream(chunks: Iterable[bytes], dest: Path) -> list[Path]:
    """Unpack the tar stream ``chunks`` into ``dest`` (made if missing); the paths written.

    Every member is checked before anything of it is written; the first unsafe one stops the unpacking
    with one line naming it. Owners are not kept (the files are the invoking user's) and modes lose
    their set-id bits, as Python's ``data`` filter does.
    """
    dest.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tarfile.open(fileobj=ChunkReader(chunks), mode="r|") as archive:
        for member in archive:
            reason = unsafe_reason(member)
            if reason is not None:
                raise UnsafeArchive(f"archive member {member.name!r} refused: {reason}")
            archive.extract(member, dest, filter="data")
            written.append(dest / member.name)
    return written
