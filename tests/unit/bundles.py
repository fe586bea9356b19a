"""Bundles written on the spot from synthetic runs, and bundles spoilt in every way a copy, a download
or a hostile hand can spoil one."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path

from servingmatrix.results.bundle import InputsSource, write_bundle

from .synthetic_runs import closed_cells, write_run

COMMIT = "c0ffee" * 6 + "abcd"
LOCK = "inputs/images/gunicorn-sync/requirements.lock"
#: A few files standing for the images' inputs, one executable as the postgres scripts are.
INPUT_FILES = {
    "images/gunicorn-sync/Dockerfile": ("FROM app\n", False),
    "images/app/Dockerfile": ("FROM base\nCOPY app/ /srv/app/\n", False),
    "images/gunicorn-sync/requirements.lock": ("gunicorn==27.0.1 \\\n    --hash=sha256:00\n", False),
    "images/postgres/entrypoint.sh": ("#!/bin/sh\nexec postgres\n", True),
    "app/benchapp/__init__.py": ("app = None\n", False),
    "locustfiles/workload.py": ("# the workload\n", False),
}

Members = dict[str, tuple[bytes, int]]


def write_inputs(root: Path) -> Path:
    for name, (text, executable) in INPUT_FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(0o755 if executable else 0o644)
    return root


def published_run(root: Path, trials: int = 3) -> Path:
    """The synthetic closed-loop run (gunicorn-sync and gevent on json), with a commit and a report."""
    run = write_run(root, closed_cells(), [1, 8, 64], trials=trials)
    meta = json.loads((run / "run.json").read_text())
    meta["metadata"].update(git_commit=COMMIT, git_dirty=False, cpu_model="a CPU", docker_version="27.3.1")
    meta["started_at"] = "2026-11-21T19:48:40+00:00"
    (run / "run.json").write_text(json.dumps(meta))
    (run / "report.html").write_text("<html>the report</html>")
    return run


def make_bundle(root: Path, run: Path | None = None, samples: bool = False) -> Path:
    """A sound bundle of ``run`` (default: a fresh ``published_run``) at ``root/bundle.tar.gz``."""
    run = run or published_run(root / "published")
    inputs = write_inputs(root / "inputs")
    out = root / "bundle.tar.gz"
    with out.open("wb") as handle:
        write_bundle(handle, run, inputs, InputsSource("commit", COMMIT), samples)
    return out


def members(bundle: Path) -> Members:
    """Every member of a bundle: its bytes and its mode, in the archive's order."""
    with tarfile.open(bundle, "r:gz") as tar:
        return {m.name: (tar.extractfile(m).read(), m.mode) for m in tar if m.isreg()}  # type: ignore[union-attr]


def write_members(
    out: Path, content: Members, extra: Callable[[tarfile.TarFile], None] | None = None
) -> Path:
    with tarfile.open(out, "w:gz") as tar:
        for name, (data, mode) in content.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
        if extra is not None:
            extra(tar)
    return out


def spoilt(bundle: Path, change: Callable[[Members], Members], name: str = "spoilt.tar.gz") -> Path:
    """A copy of ``bundle`` beside it with its members changed by ``change`` (the manifest left as it was)."""
    return write_members(bundle.parent / name, change(members(bundle)))


def replaced(name: str, data: bytes) -> Callable[[Members], Members]:
    return lambda m: {**m, name: (data, m[name][1])}


def dropped(name: str) -> Callable[[Members], Members]:
    return lambda m: {k: v for k, v in m.items() if k != name}


def added(name: str, data: bytes = b"extra\n") -> Callable[[Members], Members]:
    return lambda m: {**m, name: (data, 0o644)}


def resealed(change: Callable[[Members], Members]) -> Callable[[Members], Members]:
    """``change``, then a manifest made anew for what it left: a bundle forged whole, not damaged."""

    def forge(m: Members) -> Members:
        changed = {name: value for name, value in change(m).items() if name != "MANIFEST.sha256"}
        lines = [f"{hashlib.sha256(data).hexdigest()}  {name}" for name, (data, _) in changed.items()]
        return {**changed, "MANIFEST.sha256": ("\n".join(lines).encode() + b"\n", 0o644)}

    return forge


def with_info(**fields: object) -> Callable[[Members], Members]:
    def change(m: Members) -> Members:
        info = json.loads(m["bundle.json"][0])
        return {**m, "bundle.json": (json.dumps({**info, **fields}).encode(), 0o644)}

    return change


def with_schema(schema: object) -> Callable[[Members], Members]:
    def change(m: Members) -> Members:
        info = json.loads(m["bundle.json"][0])
        return {**m, "bundle.json": (json.dumps({**info, "schema": schema}).encode(), 0o644)}

    return change


def with_symlink(bundle: Path) -> Path:
    def link(tar: tarfile.TarFile) -> None:
        info = tarfile.TarInfo("run/cells/link.json")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(info)

    return write_members(bundle.parent / "symlink.tar.gz", members(bundle), link)


def flipped(bundle: Path, at: float) -> Path:
    """A copy of ``bundle`` with the byte at ``at`` of its length inverted (a negative ``at``: that many
    bytes from its end, where gzip keeps its CRC and length)."""
    data = bytearray(bundle.read_bytes())
    index = int(len(data) * at) if at >= 0 else len(data) + int(at)
    data[index] ^= 0xFF
    out = bundle.parent / f"flipped-{at}.tar.gz"
    out.write_bytes(bytes(data))
    return out


def truncated(bundle: Path, share: float = 0.5) -> Path:
    data = bundle.read_bytes()
    out = bundle.parent / f"truncated-{share}.tar.gz"
    out.write_bytes(data[: int(len(data) * share)])
    return out
