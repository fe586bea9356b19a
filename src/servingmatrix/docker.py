"""A thin driver over the ``docker`` command line: every call the harness makes to Docker goes here.

The CLI, not an SDK: it is what users have, it speaks to any engine version, and its errors are the
ones users already recognise. Tests substitute a fake with the same methods.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from servingmatrix.errors import UserError

#: Every object the project creates carries this label, so `clean` removes exactly those.
PROJECT_LABEL = "io.servingmatrix.project"


class DockerError(UserError):
    """A docker command failed; the message carries its last line of output."""


class Docker:
    """Runs docker commands with deadlines; never waits without a timeout."""

    def __init__(self, binary: str = "docker") -> None:
        self.binary = binary

    def _run(
        self,
        args: Sequence[str],
        *,
        timeout: float = 120.0,
        check: bool = True,
        stdin: bytes | None = None,
    ) -> subprocess.CompletedProcess[str]:
        if shutil.which(self.binary) is None:
            raise DockerError(f"the {self.binary!r} command is not installed; install Docker Engine first")
        try:
            proc = subprocess.run(
                [self.binary, *args],
                input=stdin.decode() if stdin is not None else None,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise DockerError(f"docker {args[0]} did not finish within {timeout:.0f} s") from None
        if check and proc.returncode != 0:
            raise DockerError(f"docker {' '.join(args[:2])} failed: {_last_line(proc.stderr or proc.stdout)}")
        return proc

    def ping(self) -> None:
        """Fail with one line when the engine cannot be reached."""
        proc = self._run(["version", "--format", "{{.Server.Version}}"], timeout=15, check=False)
        if proc.returncode != 0:
            raise DockerError(f"the Docker engine is not reachable: {_last_line(proc.stderr)}")

    def server_version(self) -> str:
        return self._run(["version", "--format", "{{.Server.Version}}"], timeout=15).stdout.strip()

    def info(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self._run(["info", "--format", "{{json .}}"], timeout=30).stdout)
        return data

    def architecture(self) -> str:
        return self._run(["info", "--format", "{{.Architecture}}"], timeout=15).stdout.strip()

    def image_inspect(self, ref: str) -> dict[str, Any] | None:
        proc = self._run(["image", "inspect", ref], timeout=30, check=False)
        if proc.returncode != 0:
            return None
        data: list[dict[str, Any]] = json.loads(proc.stdout)
        return data[0] if data else None

    def image_labels(self, ref: str) -> dict[str, str]:
        info = self.image_inspect(ref)
        if info is None:
            return {}
        return dict((info.get("Config") or {}).get("Labels") or {})

    def pull(self, ref: str, timeout: float) -> tuple[bool, str]:
        """Try to pull; report success and, on failure, the engine's reason in one line."""
        try:
            proc = self._run(["pull", "--quiet", ref], timeout=timeout, check=False)
        except DockerError as exc:
            return False, str(exc)
        return proc.returncode == 0, _last_line(proc.stderr or proc.stdout)

    def tag(self, source: str, target: str) -> None:
        self._run(["tag", source, target], timeout=30)

    def import_tarball(self, tarball: Path, ref: str, changes: Sequence[str]) -> None:
        args = ["import"]
        for change in changes:
            args += ["--change", change]
        self._run([*args, str(tarball), ref], timeout=900)

    def build(
        self,
        context: Path,
        ref: str,
        *,
        build_args: Mapping[str, str],
        labels: Mapping[str, str],
        timeout: float = 1800.0,
        log: Path | None = None,
    ) -> None:
        """Build ``context`` into ``ref``; the full output goes to ``log`` for when it fails."""
        # --force-rm: the legacy builder otherwise leaves a failed step's container behind.
        args = ["build", "--pull=false", "--force-rm", "--tag", ref]
        for key, value in build_args.items():
            args += ["--build-arg", f"{key}={value}"]
        for key, value in labels.items():
            args += ["--label", f"{key}={value}"]
        proc = self._run([*args, str(context)], timeout=timeout, check=False)
        if log is not None:
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            where = f" (full log: {log})" if log is not None else ""
            raise DockerError(f"building {ref} failed: {_last_line(proc.stderr or proc.stdout)}{where}")

    def run_detached(self, args: Sequence[str]) -> str:
        """``docker run -d`` with ``args``; returns the container id."""
        return self._run(["run", "--detach", *args], timeout=120).stdout.strip()

    def run_once(self, args: Sequence[str], timeout: float = 60.0) -> tuple[int, str]:
        """``docker run --rm`` with ``args`` in the foreground; its exit code and its output."""
        proc = self._run(["run", "--rm", *args], timeout=timeout, check=False)
        return proc.returncode, proc.stdout + proc.stderr

    def container_inspect(self, name: str) -> dict[str, Any] | None:
        proc = self._run(["container", "inspect", name], timeout=30, check=False)
        if proc.returncode != 0:
            return None
        data: list[dict[str, Any]] = json.loads(proc.stdout)
        return data[0] if data else None

    def wait_exit(self, name: str, timeout_s: float) -> int | None:
        """Block until the container ``name`` stops (one call to the engine, no polling); its exit code,
        or None when it still runs at the deadline or is gone."""
        try:
            proc = self._run(["wait", name], timeout=max(0.1, timeout_s), check=False)
        except DockerError:
            return None
        try:
            return int(proc.stdout.strip()) if proc.returncode == 0 else None
        except ValueError:
            return None

    def exec_ok(self, name: str, argv: Sequence[str], timeout: float = 10.0) -> bool:
        """Run ``argv`` in the running container ``name``; whether it exited 0."""
        proc = self._run(["exec", name, *argv], timeout=timeout, check=False)
        return proc.returncode == 0

    def exec_output(self, name: str, argv: Sequence[str], timeout: float = 10.0) -> str | None:
        """Run ``argv`` in the running container ``name``; its output, or None when it failed."""
        proc = self._run(["exec", name, *argv], timeout=timeout, check=False)
        return proc.stdout if proc.returncode == 0 else None

    def exec_input(
        self, name: str, argv: Sequence[str], stdin: bytes, timeout: float = 120.0
    ) -> tuple[int, str]:
        """Run ``argv`` in the running container ``name`` with ``stdin``; its exit code and its output."""
        proc = self._run(["exec", "--interactive", name, *argv], timeout=timeout, check=False, stdin=stdin)
        return proc.returncode, proc.stdout + proc.stderr

    def logs(self, name: str, tail: int = 20) -> str:
        proc = self._run(["logs", "--tail", str(tail), name], timeout=30, check=False)
        return (proc.stdout + proc.stderr).strip()

    def remove_containers(self, names: Sequence[str]) -> None:
        """Force-remove containers (and their anonymous volumes); missing ones are fine."""
        if names:
            self._run(["rm", "--force", "--volumes", *names], timeout=120, check=False)

    def list_ids(self, args: Sequence[str]) -> list[str]:
        """Ids printed one per line by a listing command such as ``ps -aq``."""
        return self._run(args, timeout=60).stdout.split()

    def remove(self, args: Sequence[str]) -> None:
        self._run(args, timeout=120)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"
