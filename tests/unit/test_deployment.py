"""A configuration's deployed command: every interface, the deploy port, no harness-only flag, and the
read-only container's needs kept with their reasons, for every mode of the registry."""

from __future__ import annotations

import shlex

import pytest

from servingmatrix.deployment import DEPLOY_HOST, DEPLOY_PORT, HARNESS_ONLY, READ_ONLY_NEEDS, deployment
from servingmatrix.modes import MODES, mode_names, resolve_mode


@pytest.mark.parametrize("name", mode_names())
def test_no_mode_deploys_with_a_harness_flag_or_the_harness_address(name: str) -> None:
    deployed = deployment(resolve_mode(name, 1))
    assert not set(deployed.argv) & set(HARNESS_ONLY)
    assert "127.0.0.1" not in deployed.command and "18000" not in deployed.command
    assert DEPLOY_HOST in deployed.command and str(DEPLOY_PORT) in deployed.command
    # What the harness would run differs from the deployment only by the flags removed and their values.
    harness = resolve_mode(name, 1).launch(DEPLOY_HOST, DEPLOY_PORT).argv
    removed = sum(1 + HARNESS_ONLY[a][0] for a in harness if a in HARNESS_ONLY)
    assert set(deployed.argv) <= set(harness) and len(deployed.argv) == len(harness) - removed


def test_gunicorn_keeps_its_read_only_needs_with_why_and_drops_the_short_graceful_timeout() -> None:
    deployed = deployment(resolve_mode("gunicorn-gthread[workers=2,threads=4]", 1))
    argv = deployed.argv
    assert "--graceful-timeout" not in argv
    assert argv[argv.index("--bind") + 1] == f"{DEPLOY_HOST}:{DEPLOY_PORT}"
    assert argv[argv.index("--worker-tmp-dir") + 1] == "/dev/shm"
    assert argv[argv.index("--threads") + 1] == "4" and argv[argv.index("--workers") + 1] == "2"
    assert dict(deployed.kept) == {
        flag: READ_ONLY_NEEDS[flag] for flag in ("--worker-tmp-dir", "--control-socket")
    }


def test_a_value_taking_harness_flag_goes_with_its_value_and_nothing_else() -> None:
    deployed = deployment(resolve_mode("gunicorn-sync[workers=3]", 1))
    harness = resolve_mode("gunicorn-sync[workers=3]", 1).launch(DEPLOY_HOST, DEPLOY_PORT).argv
    i = harness.index("--graceful-timeout")
    assert deployed.argv == harness[:i] + harness[i + 2 :]


def test_the_environment_goes_in_front_of_the_command_quoted() -> None:
    deployed = deployment(resolve_mode("uvicorn-a2wsgi[workers=1,threads=10]", 1))
    assert deployed.command.startswith("A2WSGI_WORKERS=10 uvicorn ")
    assert "--no-access-log" not in deployed.command
    assert shlex.split(deployed.command)[1:] == list(deployed.argv)


def test_a_mode_without_special_flags_keeps_none() -> None:
    assert deployment(resolve_mode("waitress[threads=8]", 1)).kept == ()
    assert len(MODES) == len(mode_names())
