"""How the command line reacts to SIGINT (Ctrl-C), SIGTERM (``kill``, ``timeout``, systemd,
Docker, CI) and SIGHUP (a closed terminal): the first one raises :class:`Interrupted` in the
main thread, so the command cleans up and exits with 128 + the signal number (130, 143, 129);
any later one is remembered and ignored, so cleanup is never cut short and nothing prints a
traceback at shutdown. Inside :meth:`Signals.deferred` (the atomic publish) the first signal is
only remembered, and the caller asks :attr:`Signals.received` afterwards."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType
from typing import Any

HANDLED = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))


class Interrupted(KeyboardInterrupt):
    """A handled signal arrived: ``signum`` says which."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class Signals:
    """Installed for the length of a command by :func:`handled`."""

    def __init__(self) -> None:
        self.received: int | None = None
        self._defer = 0

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None:
            return  # a repeat: cleanup is already under way
        self.received = signum
        if not self._defer:
            raise Interrupted(signum)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[Signals]:
        """Signals inside are remembered, not raised."""
        self._defer += 1
        try:
            yield self
        finally:
            self._defer -= 1


@contextlib.contextmanager
def handled(program: bool = False) -> Iterator[Signals]:
    """Install the handlers (main thread only; elsewhere a no-op) and restore the old ones on
    the way out; with ``program`` (the process ends right after), once a signal has arrived the
    handled signals stay ignored instead, so a repeated Ctrl-C cannot interrupt the exit."""
    state = Signals()
    old: dict[int, Any] = {}  # signal -> the handler it had
    try:
        for s in HANDLED:
            if signal.getsignal(s) is signal.SIG_IGN:
                continue  # nohup, or a background job's SIGINT: the caller chose to ignore it
            old[s] = signal.signal(s, state._handler)
    except ValueError:  # not the main thread: signals are not ours to take
        for s, h in old.items():
            signal.signal(s, h)
        old = {}
    try:
        yield state
    finally:
        for s, h in old.items():
            signal.signal(s, signal.SIG_IGN if program and state.received else h)
