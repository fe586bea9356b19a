"""The ``servingmatrix`` command line: one verb per job, each declared once in the module of its family
(``build``, ``run``, ``results``, ``publish``, ``hosts``), the parser built from the table of them
(``parser``), and one clear line per error (``main``)."""

from servingmatrix.cli.main import main
from servingmatrix.cli.output import MAX_ERROR_CHARS, checked_output, one_line, say, status_for
from servingmatrix.cli.parser import build_parser

__all__ = ["MAX_ERROR_CHARS", "build_parser", "checked_output", "main", "one_line", "say", "status_for"]
