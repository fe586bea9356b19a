"""The import check of a user's app image: ``python -m servingmatrix_entry.check``.

Exit 0 when ``SM_WSGI`` names an importable WSGI callable; otherwise one line, marked so the harness
finds it in the build's output and shows it as the reason the build failed.
"""

from __future__ import annotations

import os
import sys

from servingmatrix_entry import WSGI_ENV, LoadError, load_wsgi

#: The harness looks for this in a failed build's output and reports the rest of the line.
MARK = "servingmatrix-build-error:"


def main() -> int:
    try:
        load_wsgi()
    except LoadError as exc:
        print(f"{MARK} wsgi {os.environ.get(WSGI_ENV, '')!r}: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
