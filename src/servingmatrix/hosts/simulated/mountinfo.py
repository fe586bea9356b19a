"""Which mounts lie under a folder, read from /proc/self/mountinfo: what teardown must unmount.

An engine killed before it cleaned up leaves mounts behind (its namespace bound under the exec root,
its data root bound onto itself, a container's shm); a folder is removed only once none is left, since
removing files under a mount point would remove the mounted files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

MOUNTINFO = Path("/proc/self/mountinfo")

_OCTAL = re.compile(r"\\([0-7]{3})")


@dataclass(frozen=True)
class Mount:
    mount_id: int
    parent_id: int
    mount_point: Path


def unescape(field: str) -> str:
    """The kernel writes space, tab, newline and backslash in paths as octal escapes (``\\040``)."""
    return _OCTAL.sub(lambda match: chr(int(match.group(1), 8)), field)


def parse_mountinfo(text: str) -> list[Mount]:
    """Every mount, in the kernel's order (a mount after the one it is stacked on)."""
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 5:
            continue
        mounts.append(Mount(int(fields[0]), int(fields[1]), Path(unescape(fields[4]))))
    return mounts


def is_under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def mounts_under(mounts: list[Mount], roots: list[Path]) -> list[Path]:
    """Mount points at or below any of ``roots``, in the order to unmount them: deepest first, and of
    mounts stacked on one point, the last made first. A point stacked twice is listed twice."""
    found = [
        (index, m.mount_point)
        for index, m in enumerate(mounts)
        if any(is_under(m.mount_point, r) for r in roots)
    ]
    found.sort(key=lambda item: (len(item[1].parts), item[0]), reverse=True)
    return [point for _, point in found]


def read_mounts_under(roots: list[Path]) -> list[Path]:
    return mounts_under(parse_mountinfo(MOUNTINFO.read_text()), roots)
