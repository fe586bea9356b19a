"""A bundle opened: extracted into a folder and checked against its manifest, or refused in one line.

Refused: a file that is not a regular file (a FIFO, a device), not a gzip tar (or not a bundle: no
``bundle.json``), a truncated or damaged one (its whole stream and gzip's check are read before anything
is extracted, so a flipped bit is named as damage, not as whatever it turned a member into), one that
expands beyond ``input_files.BUNDLE``'s bound, a member that is not a plain file or whose path leaves the
bundle (``../x``, ``/etc/x``), a member twice, a record or manifest beyond its kind's bound, a newer
bundle schema, and any member whose SHA-256 differs from the manifest's, or that the manifest lists and
the bundle lacks, or that the bundle holds and the manifest does not list.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from servingmatrix.errors import UserError
from servingmatrix.inputs import input_files
from servingmatrix.inputs.input_files import InputKind, open_input, size_text
from servingmatrix.inputs.json_input import parse_json
from servingmatrix.results.bundle import (
    BUNDLE_FILE,
    BUNDLE_SCHEMA,
    INPUTS_DIR,
    KIND,
    MANIFEST_FILE,
    MANIFEST_SEPARATOR,
    RUN_DIR,
    BundleInfo,
)
from servingmatrix.results.folder import RUN_FILE
from servingmatrix.spec import shown

CHUNK = 1 << 20
#: The members read whole into memory, each within its kind's bound.
READ_WHOLE: dict[str, InputKind] = {BUNDLE_FILE: input_files.BUNDLE_INFO, MANIFEST_FILE: input_files.MANIFEST}
DAMAGED = "damaged or not a servingmatrix bundle"
_MANIFEST_LINE = re.compile(rf"^(?P<digest>[0-9a-f]{{64}}){MANIFEST_SEPARATOR}(?P<name>.+)$")


@dataclass(frozen=True)
class OpenedBundle:
    """A bundle extracted into ``root`` and checked: every member is what its manifest says."""

    root: Path
    info: BundleInfo

    @property
    def run_dir(self) -> Path:
        return self.root / RUN_DIR

    @property
    def inputs_dir(self) -> Path:
        return self.root / INPUTS_DIR


def _safe_name(where: str, name: str) -> str:
    parts = name.split("/")
    if name.startswith("/") or "\\" in name or "\n" in name or any(p in ("", ".", "..") for p in parts):
        raise UserError(
            f"{where}: member {shown(name)} has an unsafe path (a bundle's members are relative paths "
            "inside it, without '..'); nothing was extracted outside it"
        )
    return name


def _extract(where: str, tar: tarfile.TarFile, into: Path) -> dict[str, str]:
    """Write every file member under ``into``; return each one's SHA-256 by name."""
    sums: dict[str, str] = {}
    for member in tar:
        name = _safe_name(where, member.name)
        if member.isdir():
            continue
        if not member.isreg():
            raise UserError(f"{where}: member {shown(name)} is a link or a device; a bundle holds only files")
        if name in sums:
            raise UserError(f"{where}: member {shown(name)} appears twice")
        kind = READ_WHOLE.get(name)
        if kind is not None and member.size > kind.bound:
            raise UserError(
                f"{where}: member {shown(name)} is larger than {size_text(kind.bound)}, the most a "
                f"{kind.name} holds; {DAMAGED}"
            )
        source = tar.extractfile(member)
        assert source is not None  # a regular file always has its data
        sums[name] = _write(source, into / name, executable=bool(member.mode & 0o100))
    return sums


def _write(source: IO[bytes], target: Path, executable: bool) -> str:
    digest = hashlib.sha256()
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("xb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    target.chmod(0o755 if executable else 0o644)
    return digest.hexdigest()


def _check_stream(where: str, raw: IO[bytes]) -> None:
    """Read the whole compressed stream, within the bound of what a bundle expands to, to gzip's own
    check (length and CRC) at its end: a cut or damaged file is refused before anything is extracted."""
    expanded = 0
    try:
        with gzip.GzipFile(fileobj=raw) as compressed:
            while chunk := compressed.read(CHUNK):
                expanded += len(chunk)
                if expanded > input_files.BUNDLE.bound:
                    raise UserError(
                        f"{where}: expands to more than {size_text(input_files.BUNDLE.bound)}, the most a "
                        f"bundle holds; {DAMAGED}"
                    )
    except gzip.BadGzipFile:
        raise UserError(
            f"{where}: {DAMAGED} (not a gzip file, or its check failed); copy or download it again"
        ) from None
    except EOFError:
        # A cut file ends early; so may a damaged one, whose damage reads as a longer stream.
        raise UserError(
            f"{where}: truncated or damaged (the archive ends early); copy or download it again"
        ) from None
    except zlib.error:
        raise UserError(
            f"{where}: {DAMAGED} (its compressed data is corrupt); copy or download it again"
        ) from None
    except OSError as exc:
        raise UserError(f"{where}: cannot read the bundle ({exc.strerror or exc})") from None


def _read_members(path: Path, into: Path) -> dict[str, str]:
    """Check the file, then extract the archive, each failure of the file itself as one line."""
    where = str(path)
    started = False
    with open_input(path, input_files.BUNDLE) as raw:
        _check_stream(where, raw)
        raw.seek(0)
        try:
            with gzip.GzipFile(fileobj=raw) as compressed, tarfile.open(fileobj=compressed, mode="r|") as tar:
                started = True
                return _extract(where, tar, into)
        except tarfile.ReadError as exc:
            if not started:
                raise UserError(f"{where}: not a servingmatrix bundle (not a tar archive)") from None
            raise UserError(f"{where}: {DAMAGED} ({exc}); copy or download it again") from None
        except (EOFError, zlib.error, gzip.BadGzipFile):
            # The file changed since it was checked.
            raise UserError(f"{where}: {DAMAGED}; copy or download it again") from None
        except OSError as exc:
            raise UserError(f"{where}: cannot extract ({exc.strerror or exc})") from None


def _read_info(where: str, root: Path, sums: dict[str, str]) -> dict[str, Any]:
    """bundle.json's kind and schema, checked before anything else is trusted."""
    if BUNDLE_FILE not in sums:
        raise UserError(f"{where}: not a servingmatrix bundle (no {BUNDLE_FILE})")
    data = parse_json(f"{where}: {BUNDLE_FILE}", (root / BUNDLE_FILE).read_bytes())
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise UserError(f"{where}: not a servingmatrix bundle ({BUNDLE_FILE} is not a {KIND}'s)")
    schema = data.get("schema")
    if isinstance(schema, bool) or not isinstance(schema, int) or schema < 1:
        raise UserError(f"{where}: bundle schema {schema!r} is not one servingmatrix ever wrote")
    if schema > BUNDLE_SCHEMA:
        raise UserError(
            f"{where}: bundle schema {schema} is newer than this servingmatrix reads (up to "
            f"{BUNDLE_SCHEMA}); upgrade servingmatrix to reproduce it"
        )
    return data


def _read_manifest(where: str, root: Path, sums: dict[str, str]) -> dict[str, str]:
    if MANIFEST_FILE not in sums:
        raise UserError(f"{where}: no {MANIFEST_FILE}; the bundle is incomplete")
    try:
        text = (root / MANIFEST_FILE).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{where}: {MANIFEST_FILE} is not text") from None
    listed: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        found = _MANIFEST_LINE.match(line)
        if found is None or found.group("name") in listed:
            raise UserError(f"{where}: {MANIFEST_FILE} line {number} is not '<sha256>  <member>', once")
        listed[found.group("name")] = found.group("digest")
    return listed


def _check_sums(where: str, sums: dict[str, str], listed: dict[str, str]) -> None:
    held = {name: digest for name, digest in sums.items() if name != MANIFEST_FILE}
    for name in sorted(held):
        if name not in listed:
            raise UserError(f"{where}: member {shown(name)} is not in the manifest (added after it was made)")
        if held[name] != listed[name]:
            raise UserError(
                f"{where}: member {shown(name)}: its SHA-256 differs from the manifest's "
                "(the bundle was altered or damaged)"
            )
    missing = sorted(set(listed) - set(held))
    if missing:
        raise UserError(f"{where}: member {shown(missing[0])} is in the manifest but missing from the bundle")


def open_bundle(path: Path, into: Path) -> OpenedBundle:
    """Extract the bundle at ``path`` into the empty folder ``into`` and check it; one line if not
    sound (``into`` then holds what was extracted, for the caller to remove)."""
    where = str(path)
    sums = _read_members(path, into)
    data = _read_info(where, into, sums)
    _check_sums(where, sums, _read_manifest(where, into, sums))
    if f"{RUN_DIR}/{RUN_FILE}" not in sums:
        raise UserError(f"{where}: holds no {RUN_DIR}/{RUN_FILE}; the bundle is incomplete")
    return OpenedBundle(into, BundleInfo.from_json(f"{where}: {BUNDLE_FILE}", data))
