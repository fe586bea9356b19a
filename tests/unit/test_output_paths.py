"""Output paths (`-o`): a regular file or a new name is written whole; `-`, `/dev/stdout` and
`/dev/stderr` are the streams; anything else (a symbolic link, a FIFO, a device, a folder, a file in a
run's `cells/`) is refused in one line before anything is computed or printed, and left as it was.

Every FIFO and device node is made in the test's own temporary folder: no test aims at the real `/dev`.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from servingmatrix.cli import main

from . import bundles
from .synthetic_runs import GOOD_CELL, GOOD_RUN

#: Every verb that takes an output file, with its arguments; ``{out}`` is the output path.
VERBS: dict[str, tuple[str, ...]] = {
    "export-csv": ("export", "{run}", "--format", "csv", "-o", "{out}"),
    "export-json": ("export", "{run}", "--format", "json", "-o", "{out}"),
    "export-md": ("export", "{run}", "--format", "md", "-o", "{out}"),
    "report": ("report", "{run}", "-o", "{out}"),
    "compare": ("compare", "{run}", "{run}", "-o", "{out}"),
    "bundle": ("bundle", "{run}", "-o", "{out}", "--inputs-from-worktree"),
    "reproduce": ("reproduce", "{bundle}", "--against", "{run}", "-o", "{out}"),
}


def _symlink_to_file(root: Path) -> Path:
    kept = root / "kept.txt"
    kept.write_text("a user's file")
    (root / "link").symlink_to(kept)
    return root / "link"


def _symlink_to_fd(root: Path) -> Path:
    # What `-o /proc/self/fd/1` is: a link, here one that names a descriptor path of this process.
    (root / "fd-link").symlink_to("/proc/self/fd/1")
    return root / "fd-link"


def _dangling_symlink(root: Path) -> Path:
    (root / "dangling").symlink_to(root / "nowhere" / "file")
    return root / "dangling"


def _fifo(root: Path) -> Path:
    os.mkfifo(root / "fifo")
    return root / "fifo"


def _char_device(root: Path) -> Path:
    if os.geteuid() != 0:
        pytest.skip("making a device node needs root")
    os.mknod(root / "null-like", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    return root / "null-like"


def _socket(root: Path) -> Path:
    import socket

    path = root / "sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
    return path


def _folder(root: Path) -> Path:
    (root / "folder").mkdir()
    return root / "folder"


def _in_cells(root: Path) -> Path:
    return root / "run" / "cells" / "extra.json"


def _parent_a_file(root: Path) -> Path:
    (root / "plain").write_text("x")
    return root / "plain" / "out.html"


#: Each kind of output path that must be refused, with a fragment of the line that refuses it.
BAD_OUTPUTS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "symlink": (_symlink_to_file, "is a symbolic link"),
    "symlink-to-fd": (_symlink_to_fd, "is a symbolic link"),
    "dangling-symlink": (_dangling_symlink, "is a symbolic link"),
    "fifo": (_fifo, "is a FIFO"),
    "char-device": (_char_device, "is a character device"),
    "socket": (_socket, "is a socket"),
    "folder": (_folder, "is a folder"),
    "in-cells": (_in_cells, "own result files"),
    "parent-a-file": (_parent_a_file, "is not a folder"),
}


def _make_run(root: Path) -> Path:
    run = root / "run"
    (run / "cells").mkdir(parents=True)
    (run / "run.json").write_text(json.dumps(GOOD_RUN))
    (run / "cells" / "waitress-json-u1-t1-00000000.json").write_text(json.dumps(GOOD_CELL))
    return run


def _node(path: Path) -> tuple[int, str | None, bytes | None]:
    """What a path is: its mode, its link's target, its content when a regular file."""
    mode = os.lstat(path).st_mode
    target = os.readlink(path) if stat.S_ISLNK(mode) else None
    content = path.read_bytes() if stat.S_ISREG(mode) else None
    return mode, target, content


def _tree(root: Path) -> dict[str, tuple[int, str | None, bytes | None]]:
    return {str(p.relative_to(root)): _node(p) for p in sorted(root.rglob("*"))}


def _argv(verb: str, root: Path, out: Path | str) -> list[str]:
    run = _make_run(root)
    bundle = bundles.make_bundle(root / "made") if verb == "reproduce" else root / "none"
    return [
        a.replace("{run}", str(run)).replace("{out}", str(out)).replace("{bundle}", str(bundle))
        for a in VERBS[verb]
    ]


@pytest.fixture(autouse=True)
def _no_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    monkeypatch.setenv("SERVINGMATRIX_BASELINES", str(tmp_path / "baselines"))
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("kind", list(BAD_OUTPUTS))
@pytest.mark.parametrize("verb", list(VERBS))
def test_an_output_that_is_not_a_regular_file_is_refused_and_left_as_it_was(
    verb: str, kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make, says = BAD_OUTPUTS[kind]
    argv = _argv(verb, tmp_path, make(tmp_path))
    before = _tree(tmp_path)
    assert main(argv) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("servingmatrix: error: ") and says in lines[0], err
    assert out == "", "nothing is printed before a refusal"
    assert _tree(tmp_path) == before


@pytest.mark.parametrize("verb", [v for v in VERBS if v != "export-md"])
def test_an_empty_output_is_refused(verb: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_argv(verb, tmp_path, "")) == 2
    assert "is empty" in capsys.readouterr().err


@pytest.mark.parametrize("stream", ["-", "/dev/stdout"])
def test_export_to_standard_output_is_what_export_prints(
    stream: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _make_run(tmp_path)
    assert main(["export", str(run), "--format", "csv"]) == 0
    printed = capsys.readouterr().out
    capfd_out = _stdout_of(["export", str(run), "--format", "csv", "-o", stream], capsys)
    assert capfd_out == printed and "waitress" in printed
    assert not (Path(stream).exists() and stat.S_ISREG(os.lstat(stream).st_mode))


def _stdout_of(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("verb", ["report", "compare"])
def test_a_page_to_standard_output_is_alone_there(
    verb: str, tmp_path: Path, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    """The page is all of standard output; what the verb says (its table, "wrote") goes to standard error."""
    argv = _argv(verb, tmp_path, Path("-"))
    before = _tree(tmp_path)
    assert main(argv) == 0
    out, err = capfdbinary.readouterr()
    assert out.startswith(b"<!DOCTYPE html>") and out.rstrip().endswith(b"</html>")
    assert b"wrote -" in err
    assert _tree(tmp_path) == before, "nothing written to the run folder"


def test_markdown_is_not_written_to_a_stream(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_argv("export-md", tmp_path, Path("-"))) == 2
    assert "files beside it" in capsys.readouterr().err


def test_a_regular_file_is_replaced_whole(tmp_path: Path) -> None:
    out = tmp_path / "old.csv"
    out.write_text("an earlier export")
    assert main(_argv("export-csv", tmp_path, out)) == 0
    assert out.read_text().startswith("mode,") and stat.S_ISREG(os.lstat(out).st_mode)
