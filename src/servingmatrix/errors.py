"""The exception types the command line turns into a single clear line, each with its exit status."""


class ServingMatrixError(Exception):
    """A failure said in one line: what was given (``UserError``) or the engine (``EngineError``)."""


class UserError(ServingMatrixError):
    """Bad input or a missing prerequisite: printed as one line, exit status 2."""


class SpecError(UserError):
    """A mode or workload spec that cannot be accepted."""


class EngineError(ServingMatrixError):
    """A container engine that cannot be reached, or a call to it that failed: printed as one line,
    exit status 3, so that a script tells a dead engine from a typo."""
