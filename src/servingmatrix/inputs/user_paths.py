"""Paths a user gives for the harness to write to: refused when no file system can hold them, or when
they lie in the kernel's own file systems.

``Path.exists()`` raises, rather than answers, for a name longer than the file system takes (and
``resolve()`` for a loop of links), so a check that asks it first would end in a traceback; and a path
under ``/proc`` or ``/sys`` is a regular file to ``stat`` that no run or page may be written to.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from servingmatrix.spec import shown

#: The kernel's own file systems and the devices: nothing of the harness is written there
#: (``/dev/shm``, a tmpfs, excepted).
KERNEL_ROOTS = (Path("/proc"), Path("/sys"), Path("/dev"))
SHARED_MEMORY = Path("/dev/shm")


def unusable(path: Path) -> str | None:
    """Why no file system can hold ``path``, in words; None when one can (whether or not it exists)."""
    if "\0" in str(path):
        return f"{shown(str(path))} holds a NUL byte"
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            return "its name is longer than the file system takes"
        if exc.errno == errno.ELOOP:
            return "its symbolic links lead in a loop"
    return None


def kernel_root(path: Path) -> Path | None:
    """The kernel's file system ``path`` lies in once its links are followed (``/proc``, ``/sys``,
    ``/dev``); None for any other place. ``path`` is one ``unusable`` takes."""
    resolved = path.resolve()
    if resolved.is_relative_to(SHARED_MEMORY):
        return None
    return next((root for root in KERNEL_ROOTS if resolved.is_relative_to(root)), None)
