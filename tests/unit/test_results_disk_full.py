"""A full disk while results are written: one line naming the file, nothing half-written left behind."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import IO, Any

import pytest

from servingmatrix.errors import UserError
from servingmatrix.results.cell import CellRecord
from servingmatrix.results.folder import CellKey, RunFolder, write_json_atomic

KEY = CellKey("gunicorn-sync[workers=3]", "json", 16, 1)


class _FillsUp:
    """A file whose writes stop with ENOSPC after ``room`` bytes, as a full file system does."""

    def __init__(self, handle: IO[str], room: int) -> None:
        self.handle = handle
        self.room = room

    def write(self, text: str) -> int:
        if len(text) > self.room:
            self.handle.write(text[: self.room])
            self.handle.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(text)
        return self.handle.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.handle, name)

    def __enter__(self) -> _FillsUp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()


@pytest.fixture
def disk_full(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on every file opened by descriptor takes 10 bytes, then the disk is full."""
    real_fdopen = os.fdopen

    def fdopen(fd: int, *args: Any, **kwargs: Any) -> _FillsUp:
        return _FillsUp(real_fdopen(fd, *args, **kwargs), room=10)

    monkeypatch.setattr(os, "fdopen", fdopen)


def test_disk_full_is_one_line_naming_the_file_and_keeps_what_was_written(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    folder = RunFolder(tmp_path / "run")
    folder.write_cell(CellRecord(KEY.mode, KEY.workload, KEY.users, KEY.trial, "ok", requests=100))
    before = folder.cell_path(KEY).read_text()

    request.getfixturevalue("disk_full")
    with pytest.raises(UserError) as caught:
        folder.write_cell(CellRecord(KEY.mode, KEY.workload, KEY.users, KEY.trial, "ok", requests=200))

    message = str(caught.value)
    assert "\n" not in message
    assert str(folder.cell_path(KEY)) in message
    assert "No space left on device" in message
    # The previous result is whole, and the half-written temporary file is gone.
    assert folder.cell_path(KEY).read_text() == before
    assert json.loads(before)["requests"] == 100
    assert sorted(p.name for p in folder.cells_dir.iterdir()) == [folder.cell_path(KEY).name]


def test_disk_full_on_a_new_file_leaves_no_file_at_all(tmp_path: Path, disk_full: None) -> None:
    target = tmp_path / "run.json"
    with pytest.raises(UserError) as caught:
        write_json_atomic(target, {"schema": 2, "matrix": {"modes": ["waitress"] * 50}})
    assert str(target) in str(caught.value) and "\n" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_a_refused_rename_removes_the_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(_src: object, _dst: object) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(os, "replace", refuse)
    target = tmp_path / "cell.json"
    with pytest.raises(UserError, match="Read-only file system"):
        write_json_atomic(target, {"schema": 2})
    assert list(tmp_path.iterdir()) == []
