"""The one exception type the command line turns into a single clear line."""


class UserError(Exception):
    """Bad input or a missing prerequisite: printed as one line, exit status 2."""


class SpecError(UserError):
    """A mode or workload spec that cannot be accepted."""
