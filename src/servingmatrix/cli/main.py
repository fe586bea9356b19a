"""``main``: the one place that turns what went wrong into an exit status and one line."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from servingmatrix.cli.output import one_line
from servingmatrix.cli.parser import build_parser
from servingmatrix.errors import EngineError, UserError


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except UserError as exc:
        print(f"servingmatrix: error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except EngineError as exc:
        # Not the input's fault: a script retries, or looks at the engine, rather than at its command.
        print(f"servingmatrix: error: {one_line(str(exc))}", file=sys.stderr)
        return 3
    except BrokenPipeError:
        # The reader went away (`servingmatrix modes | head`): nothing left to say.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print(
            "servingmatrix: interrupted; every container of the run was removed, finished cells are kept, "
            "and the same command resumes",
            file=sys.stderr,
        )
        return 130
