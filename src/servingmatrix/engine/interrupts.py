"""A stop asked for by SIGINT or SIGTERM, taken only where no container can be left half-started.

Python raises ``KeyboardInterrupt`` wherever the run's thread happens to be when a signal comes. In
the middle of a call that creates a container that is the one place it must not: the engine goes on
creating the container after the client stopped waiting for its answer, so a teardown that runs first
finds nothing to remove, and the container appears after it, left behind (holding the server's port).
So while a run takes stops (``taking_stops``):

- a call that starts a container runs inside ``starting()``: it refuses to begin once a stop was asked
  for (in any thread), and a signal that comes while it runs is held until the engine has answered,
  then raised, by which time the container has its name on the stack's list and teardown removes it;
- teardown runs inside ``holding()`` (a second signal does not cut it short) after ``wait_for_starts``
  has let the starts under way in other threads (a fleet's lanes) finish.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

#: The longest teardown waits for starts under way in other threads (an engine call's own deadline).
STARTS_GRACE_S = 120.0


class StopRequested(KeyboardInterrupt):
    """A stop asked for by a signal: taken the way Ctrl-C is, every ``finally`` tearing its part down."""


class _Stops:
    """The state shared by the signal handler and the threads that start containers."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        #: The signal that asked for a stop (None: none asked).
        self.requested: int | None = None
        #: Signals taken since the run began: a section notices one that came while it ran.
        self.count = 0
        #: How deep the run's own thread is in sections that hold signals.
        self.held = 0
        #: Container starts under way, in any thread.
        self.starting = 0
        #: This thread's own starts under way (a start that tears down what it began waits for no one).
        self.mine = threading.local()


_STOPS = _Stops()


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    _STOPS.requested = signum
    _STOPS.count += 1
    if _STOPS.held == 0:
        raise StopRequested(f"signal {signum}")


def stop_requested() -> int | None:
    """The signal that asked the run to stop, or None."""
    return _STOPS.requested


@contextmanager
def taking_stops() -> Iterator[None]:
    """SIGTERM (and SIGINT, unless it is ignored, as in a shell's background job) stop the run, through
    this module's handler, until the block ends."""
    previous: dict[int, object] = {}
    for signum in (int(signal.SIGINT), int(signal.SIGTERM)):
        current = signal.getsignal(signum)
        if signum == signal.SIGINT and current is not signal.default_int_handler:
            continue  # ignored (or handled by someone else): left as it is
        previous[signum] = signal.signal(signum, _on_signal)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        _STOPS.requested = None


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def refuse_if_stopping() -> None:
    """Raise ``StopRequested`` when a stop was asked for: nothing new begins after it."""
    if _STOPS.requested is not None:
        raise StopRequested(f"signal {_STOPS.requested}")


@contextmanager
def _held() -> Iterator[None]:
    """Hold signals in the run's thread for the block; raise one that came during it at its end."""
    if not _in_main_thread():
        yield
        return
    seen = _STOPS.count
    _STOPS.held += 1
    try:
        yield
    finally:
        _STOPS.held -= 1
    if _STOPS.count != seen:
        raise StopRequested(f"signal {_STOPS.requested}")


@contextmanager
def starting() -> Iterator[None]:
    """Around a call that creates and starts a container: refused once a stop was asked for; a stop
    asked for during it is taken when the engine has answered."""
    refuse_if_stopping()
    with _STOPS.changed:
        _STOPS.starting += 1
    _STOPS.mine.starting = _own_starts() + 1
    try:
        with _held():
            yield
    finally:
        _STOPS.mine.starting = _own_starts() - 1
        with _STOPS.changed:
            _STOPS.starting -= 1
            _STOPS.changed.notify_all()


def _own_starts() -> int:
    return int(getattr(_STOPS.mine, "starting", 0))


@contextmanager
def holding() -> Iterator[None]:
    """Around teardown: a signal during it is taken when it has ended, not in its middle."""
    with _held():
        yield


def wait_for_starts(timeout_s: float = STARTS_GRACE_S) -> bool:
    """Wait until no other thread is starting a container; whether none is (False: the wait ran out)."""
    mine = _own_starts()
    with _STOPS.changed:
        return _STOPS.changed.wait_for(lambda: _STOPS.starting <= mine, timeout_s)
