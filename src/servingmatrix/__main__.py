"""`python -m servingmatrix` runs the command-line interface."""

from servingmatrix.cli import main

raise SystemExit(main())
