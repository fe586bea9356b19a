"""Every file a user hands the harness is read here first: as a regular file, and no more of it than
its kind ever holds.

A FIFO would hang the read until something writes to it, a character device such as ``/dev/zero``
would fill memory, and a file far beyond what its kind holds is a mistake (or an attack) that a parser
would otherwise spend minutes and gigabytes on. Each is refused in one line naming the file, before a
byte of it is parsed. The bounds are declared once, in ``KINDS``; the README's table of them is
rendered from it (``building/readme/docs.py``).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from servingmatrix.errors import UserError
from servingmatrix.spec import shown

KIB = 1 << 10
MIB = 1 << 20
GIB = 1 << 30
#: The most read at once: a file is read in pieces of this size until its bound.
CHUNK = MIB


@dataclass(frozen=True)
class InputKind:
    """One kind of file read from a user: what it is called in a refusal, and its bound."""

    #: As a refusal names it: "matrix file", "cell file".
    name: str
    #: The most bytes a file of this kind may hold.
    bound: int
    #: Where such a file comes from (the README's table).
    source: str


MATRIX = InputKind("matrix file", 1 * MIB, "`run --matrix FILE`, a profile in `profiles/`")
INVENTORY = InputKind("host inventory", 1 * MIB, "`--hosts FILE`, a matrix's `hosts`, `clean --hosts FILE`")
APP_FILE = InputKind("app file", 256 * KIB, "an app's `app.yml`")
REQUIREMENTS = InputKind("requirements file", 1 * MIB, "an app's requirements file (its `requirements`)")
LOCK = InputKind("lock file", 4 * MIB, "an image's or an app's `requirements.lock`")
SEED_SQL = InputKind("seed SQL file", 64 * MIB, "an app's `seed_sql`")
CELL = InputKind("cell file", 4 * MIB, "a run's `cells/*.json`")
RUN = InputKind("run file", 16 * MIB, "a run's `run.json`")
TUNE = InputKind("tune result", 16 * MIB, "a tune's `tune.json`")
BASELINE_INFO = InputKind("baseline record", 64 * KIB, "a saved baseline's `baseline.json`")
BUNDLE_INFO = InputKind("bundle record", 1 * MIB, "a bundle's `bundle.json`")
MANIFEST = InputKind("bundle manifest", 16 * MIB, "a bundle's `MANIFEST.sha256`")
#: A bundle is read as a stream: its bound is that of its members together, once expanded, so that a
#: small file that expands without end (a "zip bomb") stops at it.
BUNDLE = InputKind("bundle", 8 * GIB, "`reproduce FILE.tar.gz`: the file, and its members once expanded")

#: Every kind, in the README's order.
KINDS: tuple[InputKind, ...] = (
    MATRIX,
    INVENTORY,
    APP_FILE,
    REQUIREMENTS,
    LOCK,
    SEED_SQL,
    CELL,
    RUN,
    TUNE,
    BASELINE_INFO,
    BUNDLE_INFO,
    MANIFEST,
    BUNDLE,
)

#: What the kinds of file-system node that are not regular files are called in a refusal.
_NODE_KINDS: tuple[tuple[Callable[[int], bool], str], ...] = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def node_kind(mode: int) -> str:
    """What a node that is not a regular file is, in words: "a FIFO", "a folder"."""
    return next((name for test, name in _NODE_KINDS if test(mode)), "not a regular file")


def size_text(size: int) -> str:
    """A bound in words: ``1 MiB``, ``256 KiB``, ``8 GiB``."""
    for unit, name in ((GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB")):
        if size >= unit and size % unit == 0:
            return f"{size // unit} {name}"
    return f"{size} bytes"


def _a(name: str) -> str:
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def _refuse_node(path: Path, kind: InputKind, mode: int) -> UserError:
    return UserError(
        f"{path}: is {node_kind(mode)}, not a regular file; {_a(kind.name)} is read only from a regular file"
    )


def _too_large(path: Path, kind: InputKind) -> UserError:
    return UserError(
        f"{path}: larger than {size_text(kind.bound)}, the most {_a(kind.name)} holds; not {_a(kind.name)}"
    )


def open_input(path: Path, kind: InputKind) -> BinaryIO:
    """``path`` opened for reading once it is known to be a regular file no larger than the kind's
    bound; anything else is refused in one line before a byte of it is read.

    The node is looked at before it is opened (opening some devices acts on them), then opened
    without blocking (a FIFO put in its place meanwhile would otherwise wait for a writer) and looked
    at again through the descriptor: what is read is what was checked.
    """
    if "\0" in str(path):
        raise UserError(
            f"{shown(str(path))}: a file name never holds a NUL byte; give the {kind.name}'s path"
        )
    try:
        before = os.stat(path)
    except FileNotFoundError:
        raise UserError(f"{path}: cannot read the {kind.name}: no such file") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read the {kind.name} ({exc.strerror or exc})") from None
    if not stat.S_ISREG(before.st_mode):
        raise _refuse_node(path, kind, before.st_mode)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise UserError(f"{path}: cannot read the {kind.name} ({exc.strerror or exc})") from None
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):
            raise _refuse_node(path, kind, opened.st_mode)
        if opened.st_size > kind.bound:
            raise _too_large(path, kind)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_input(path: Path, kind: InputKind) -> bytes:
    """The bytes of the regular file ``path``, at most the kind's bound (a file that grows past it
    while read, or that says it is smaller than it is, as files under ``/proc`` do, is refused too)."""
    parts: list[bytes] = []
    total = 0
    with open_input(path, kind) as handle:
        try:
            while total <= kind.bound:
                chunk = handle.read(min(CHUNK, kind.bound + 1 - total))
                if not chunk:
                    break
                parts.append(chunk)
                total += len(chunk)
        except OSError as exc:
            raise UserError(f"{path}: cannot read the {kind.name} ({exc.strerror or exc})") from None
    if total > kind.bound:
        raise _too_large(path, kind)
    return b"".join(parts)


def read_text_input(path: Path, kind: InputKind, allowed: str) -> str:
    """``read_input`` decoded as UTF-8 without a NUL byte; ``allowed`` says what the file holds."""
    raw = read_input(path, kind)
    try:
        if b"\0" in raw:
            raise UnicodeError("a NUL byte")
        return raw.decode("utf-8")
    except UnicodeError:
        raise UserError(f"{path}: not a text file; {_a(kind.name)} is {allowed}") from None
