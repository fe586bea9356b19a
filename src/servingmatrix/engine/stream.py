"""The engine's raw streams: a hijacked exec connection read and written with a deadline, and its
multiplexed output split into stdout and stderr.

The SDK's own socket reader waits without a timeout; these reads never do.
"""

from __future__ import annotations

import socket
import time
from typing import Any

#: stdout and stderr in the engine's multiplexed stream: an 8-byte header (stream, 0, 0, 0, size).
STDOUT, STDERR = 1, 2


class Deadline:
    """A moment past which a long call gives up, checked between the chunks it reads or writes."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def passed(self) -> bool:
        return self.remaining() <= 0


def demultiplex(data: bytes) -> tuple[bytes, bytes]:
    """stdout and stderr of the engine's multiplexed stream (frames of an 8-byte header, then data)."""
    out, err = bytearray(), bytearray()
    at = 0
    while at + 8 <= len(data):
        kind, size = data[at], int.from_bytes(data[at + 4 : at + 8], "big")
        frame = data[at + 8 : at + 8 + size]
        (err if kind == STDERR else out).extend(frame)
        at += 8 + size
    return bytes(out), bytes(err)


def raw_socket(stream: Any) -> socket.socket:
    """The socket under what ``exec_start(socket=True)`` returns (a SocketIO over a local socket, a TLS
    socket, or the ssh client's stand-in), for reads with a deadline, writes, and the half-close."""
    if isinstance(stream, socket.socket):
        return stream
    if isinstance(stream, socket.SocketIO):
        return stream._sock  # type: ignore[attr-defined, no-any-return]
    raise OSError(f"an exec stream of type {type(stream).__name__} cannot be read")


def close_write(raw: socket.socket) -> None:
    """Tell the command its stdin has ended: shut down the write side (the ssh client's stand-in has
    no socket of its own, so its pipe to ssh is closed instead)."""
    process = getattr(raw, "proc", None)
    if process is not None and process.stdin is not None:
        process.stdin.close()
        return
    raw.shutdown(socket.SHUT_WR)


def read_to_end(raw: socket.socket, deadline: Deadline) -> bytes:
    """Everything the engine sends until it closes the stream; TimeoutError past ``deadline``."""
    received = bytearray()
    while True:
        remaining = deadline.remaining()
        if remaining <= 0:
            raise TimeoutError
        raw.settimeout(remaining)
        chunk = raw.recv(65536)
        if not chunk:
            return bytes(received)
        received.extend(chunk)
