"""The options of ``run`` that no matrix key checks, refused in one line before the matrix is read.

An empty option is not an absent one: ``--profile ''`` or ``--matrix ''`` would otherwise fall back to
the default profile and measure it without a word.
"""

from __future__ import annotations

import argparse

from servingmatrix.errors import UserError
from servingmatrix.matrix import check_profile_name


def check_run_options(args: argparse.Namespace) -> None:
    """``--no-calibration`` with ``--recalibrate``, an empty ``--matrix``, and a ``--profile`` that is
    not a profile's name (a path, a file's name) are refused."""
    if args.no_calibration and args.recalibrate:
        raise UserError("give --no-calibration (none) or --recalibrate (a new one), not both")
    if args.matrix is not None and not args.matrix.strip():
        raise UserError("--matrix is empty; give a matrix file (or --profile NAME)")
    if args.profile is not None:
        check_profile_name(args.profile)
