"""A configuration's command as one would deploy it: the one rendering the report and ``tune`` show.

The harness starts each server on 127.0.0.1 and a port of its own, with a few flags that exist only
because a benchmark starts and stops it (a short graceful timeout, no access log). A deployed server
listens on every interface of its container, on ``DEPLOY_PORT``, with those flags removed; the flags
any read-only container needs stay, each with the reason it is there.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from servingmatrix.modes import ModeConfig

#: Where a deployed server listens: every interface of its container, on a conventional port.
DEPLOY_HOST = "0.0.0.0"
DEPLOY_PORT = 8000

#: Flags only the harness needs, each with the number of values it takes and why it is the harness's.
HARNESS_ONLY: dict[str, tuple[int, str]] = {
    "--graceful-timeout": (1, "the harness stops every server within seconds; gunicorn's default is 30 s"),
    "--disable-logging": (0, "the harness keeps the server's own logging off the measured core"),
    "--no-access-log": (0, "the harness keeps the server's own logging off the measured core"),
}

#: Flags a server needs in any read-only container, kept in a deployed command, each with why.
READ_ONLY_NEEDS: dict[str, str] = {
    "--worker-tmp-dir": "gunicorn's worker heartbeat files go to memory, not to a read-only or slow disk",
    "--control-socket": "gunicorn 25+ opens a control socket under $HOME, which a read-only container lacks",
}


@dataclass(frozen=True)
class Deployment:
    """The argument vector and environment one would deploy, and why each kept special flag is there."""

    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    #: (flag, why) for each flag kept because a read-only container needs it.
    kept: tuple[tuple[str, str], ...]

    @property
    def command(self) -> str:
        """The command line, shell-quoted, with its environment in front."""
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env)
        return f"{env} {shlex.join(self.argv)}" if env else shlex.join(self.argv)


def _without_harness_flags(argv: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    skip = 0
    for arg in argv:
        if skip:
            skip -= 1
            continue
        if arg in HARNESS_ONLY:
            skip = HARNESS_ONLY[arg][0]
            continue
        out.append(arg)
    return tuple(out)


def deployment(config: ModeConfig, port: int = DEPLOY_PORT) -> Deployment:
    """``config`` as one would deploy it: listening on every interface on ``port``, harness flags gone."""
    launch = config.launch(DEPLOY_HOST, port)
    argv = _without_harness_flags(launch.argv)
    kept = tuple((flag, why) for flag, why in READ_ONLY_NEEDS.items() if flag in argv)
    return Deployment(argv, launch.env, kept)
