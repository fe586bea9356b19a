"""Headless Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``), so
the browser test can do what a reader does: move the pointer onto a chart's point, press a legend
entry or a button, and read what the page became. Standard library only; nothing is installed.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from servingmatrix.building.chromium import HEADLESS, TIMEOUT_S
from servingmatrix.errors import UserError

#: The browser reads commands on fd 3 and writes answers on fd 4, each message ended by a NUL: this
#: places the pipe's ends there, then becomes the browser.
_WIRE = "import os, sys; os.dup2({commands}, 3); os.dup2({answers}, 4); os.execv(sys.argv[1], sys.argv[1:])"


def _above_wire(fd: int) -> int:
    """The same pipe end on a descriptor above 4, so placing one on 3 or 4 cannot replace the other."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return moved


class DevTools:
    """One page open in headless Chromium, driven until the block ends."""

    def __init__(self, browser: str, page: Path, width: int = 1400, height: int = 1000) -> None:
        self._argv = [
            browser,
            *HEADLESS,
            "--remote-debugging-pipe",
            f"--window-size={width},{height}",
            page.resolve().as_uri(),
        ]
        self._url = page.resolve().as_uri()
        self._next_id = 0
        self._buffer = b""
        self._session = ""
        #: Messages the page logged through its console (``Runtime.consoleAPICalled``).
        self.console: list[str] = []

    def __enter__(self) -> DevTools:
        commands_r, self._commands = os.pipe()
        self._answers, answers_w = os.pipe()
        commands_r, answers_w = _above_wire(commands_r), _above_wire(answers_w)
        self._stderr = tempfile.TemporaryFile()
        wire = _WIRE.format(commands=commands_r, answers=answers_w)
        self._proc = subprocess.Popen(
            [sys.executable, "-c", wire, *self._argv],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            pass_fds=(commands_r, answers_w),
        )
        os.close(commands_r)
        os.close(answers_w)
        try:
            self._attach()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._proc.kill()
        self._proc.wait(timeout=TIMEOUT_S)
        os.close(self._commands)
        os.close(self._answers)
        self._stderr.close()

    def _attach(self) -> None:
        deadline = time.monotonic() + TIMEOUT_S
        pages: list[dict[str, Any]] = []
        while not pages:
            if time.monotonic() > deadline:
                raise self._failed(f"opened no page within {TIMEOUT_S} s")
            targets = self.call("Target.getTargets", session=False)["targetInfos"]
            pages = [t for t in targets if t["type"] == "page"]
            time.sleep(0 if pages else 0.05)
        page = pages[0]
        attached = self.call("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True}, False)
        self._session = attached["sessionId"]
        self.call("Runtime.enable")
        # The page's target may still show about:blank, complete, before it loads the page.
        self.wait_for(f"location.href === {json.dumps(self._url)} && document.readyState === 'complete'")

    def _failed(self, why: str) -> UserError:
        self._stderr.seek(0)
        last = (self._stderr.read().decode(errors="replace").strip().splitlines() or ["no output"])[-1]
        return UserError(f"chromium {why}: {last}")

    def _message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._answers], [], [], left)[0]:
                raise self._failed(f"did not answer within {TIMEOUT_S} s")
            chunk = os.read(self._answers, 1 << 16)
            if not chunk:
                raise self._failed("closed its DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message

    def call(self, method: str, params: dict[str, Any] | None = None, session: bool = True) -> dict[str, Any]:
        """Send one command and return its result, keeping the console messages that arrive meanwhile."""
        self._next_id += 1
        request: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            request["sessionId"] = self._session
        os.write(self._commands, json.dumps(request).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            message = self._message(deadline)
            if message.get("method") == "Runtime.consoleAPICalled":
                args = message["params"]["args"]
                self.console.append(" ".join(str(a.get("value", a.get("description", ""))) for a in args))
            if message.get("id") != self._next_id:
                continue
            if "error" in message:
                raise UserError(f"chromium: {method} failed: {message['error'].get('message')}")
            result: dict[str, Any] = message["result"]
            return result

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page; an exception it throws fails here."""
        answer = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in answer:
            details = answer["exceptionDetails"]
            raise UserError(f"the page threw: {details.get('exception', {}).get('description', details)}")
        return answer["result"].get("value")

    def wait_for(self, condition: str, timeout_s: float = 20.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not self.evaluate(f"Boolean({condition})"):
            if time.monotonic() > deadline:
                raise UserError(f"the page never satisfied {condition!r} within {timeout_s:g} s")
            time.sleep(0.05)

    def _mouse(self, kind: str, x: float, y: float, **extra: Any) -> None:
        self.call("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, **extra})

    def move(self, x: float, y: float) -> None:
        """Move the pointer to a point of the viewport, as a reader's mouse does."""
        self._mouse("mouseMoved", x, y)

    def click(self, x: float, y: float) -> None:
        self.move(x, y)
        for kind in ("mousePressed", "mouseReleased"):
            self._mouse(kind, x, y, button="left", clickCount=1)

    def press(self, key: str, code: str, key_code: int) -> None:
        """Press and release a key on whatever has the focus."""
        for kind in ("keyDown", "keyUp"):
            keys = {"key": key, "code": code, "windowsVirtualKeyCode": key_code}
            self.call("Input.dispatchKeyEvent", {"type": kind, **keys})
