"""Work that gives files' bytes, done in a forked child process while the caller goes on.

The main job draws its chart files, the pack's chart pages and half of its other pages this way:
matplotlib is one core's work and a run has two or more. :class:`Background` forks (Linux only:
the child runs the caller's code on a copy of its memory, so nothing is sent to it, and a forked
macOS process may not use the system's frameworks); elsewhere, with ``SIMCORE_BACKGROUND=0``, or
when the system refuses a new process, the work runs when its result is asked for. Either way
the bytes are the same: the child only computes, and the caller writes every file (atomically,
as any other output).

The child gets the default action for SIGINT, SIGTERM and SIGHUP (it ends at once) and ends
with ``os._exit``, so none of the caller's cleanup runs twice. Its bytes come back through a
pipe, framed as (name, bytes) pairs, never pickled; a failure comes back as its traceback and
is raised in the caller as :class:`BackgroundError`. Leaving the ``with`` block early (an
error, a signal) kills the child and waits for it.
"""

from __future__ import annotations

import os
import signal
import struct
import sys
import traceback
import warnings
from collections.abc import Callable
from types import TracebackType

__all__ = ["Background", "BackgroundError", "can_fork"]

Work = Callable[[], dict[str, bytes]]
_OK, _FAILED = b"\x00", b"\x01"
_SIZE = struct.Struct("<Q")
_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))


class BackgroundError(RuntimeError):
    """The work failed in the child process (the message carries its traceback)."""


def can_fork() -> bool:
    """Whether :class:`Background` forks here (Linux, unless ``SIMCORE_BACKGROUND=0``)."""
    return sys.platform.startswith("linux") and os.environ.get("SIMCORE_BACKGROUND", "1") != "0"


def frame(files: dict[str, bytes]) -> bytes:
    """``files`` as one byte string: each name and content, length-prefixed."""
    parts = []
    for name, data in files.items():
        key = name.encode()
        parts += [_SIZE.pack(len(key)), key, _SIZE.pack(len(data)), data]
    return b"".join(parts)


def unframe(data: bytes) -> dict[str, bytes]:
    """The inverse of :func:`frame`."""
    out, at = {}, 0
    while at < len(data):
        (n,) = _SIZE.unpack_from(data, at)
        name = data[at + 8 : at + 8 + n].decode()
        at += 8 + n
        (n,) = _SIZE.unpack_from(data, at)
        out[name] = data[at + 8 : at + 8 + n]
        at += 8 + n
    return out


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


class Background:
    """``work()`` (a mapping of file name -> bytes) started now in a forked child where
    :func:`can_fork`, else run by :meth:`result`; ``what`` names it in errors. Use it as a
    context manager so the child never outlives the caller's block."""

    def __init__(self, work: Work, what: str = "background work") -> None:
        self.what = what
        self._work: Work | None = work
        self._pid: int | None = None
        self._fd: int | None = None
        self._files: dict[str, bytes] | None = None
        if can_fork():
            try:
                self._start(work)
            except BaseException:  # a signal held back during the fork is raised here
                self.cancel()
                raise

    def _start(self, work: Work) -> None:
        r, w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        # the caller's signal handlers raise: held back while forking, so none is raised in
        # the middle of fork's own handlers (where it would be lost) or before the child is
        # known to the parent and can be killed
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        try:
            with warnings.catch_warnings():  # 3.12+ warns of threads; none of ours runs now
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
        except OSError:  # no process to spare (memory, process limits): run it when asked
            os.close(r)
            os.close(w)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            return
        try:
            if pid == 0:  # the child: compute, send, end without the caller's cleanup
                self._child(work, r, w)
            os.close(w)
            self._pid, self._fd, self._work = pid, r, None
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    @staticmethod
    def _child(work: Work, r: int, w: int) -> None:
        code = 1
        try:
            os.close(r)
            for s in _SIGNALS:  # a signal ends the child at once
                signal.signal(s, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
            data = _OK + frame(work())
            code = 0
        except BaseException:
            data = _FAILED + traceback.format_exc().encode()
        try:
            _write_all(w, data)
        finally:
            os._exit(code)

    def result(self) -> dict[str, bytes]:
        """The work's files (the first call waits for the child, or runs the work when not
        forked); raises :class:`BackgroundError` if it failed."""
        if self._files is None:
            self._files = self._collect()
        return self._files

    def _collect(self) -> dict[str, bytes]:
        if self._work is not None:  # not forked: run it here
            work, self._work = self._work, None
            return work()
        if self._fd is None or self._pid is None:
            raise BackgroundError(f"{self.what} was cancelled")
        try:
            data = _read_all(self._fd)
        finally:
            os.close(self._fd)
            self._fd = None
            _, status = os.waitpid(self._pid, 0)
            self._pid = None
        if data[:1] == _OK and os.waitstatus_to_exitcode(status) == 0:
            return unframe(data[1:])
        detail = data[1:].decode(errors="replace").strip() if data[:1] == _FAILED else ""
        code = os.waitstatus_to_exitcode(status)
        raise BackgroundError(
            f"{self.what} failed in its child process (exit status {code})"
            + (f":\n{detail}" if detail else "")
        )

    def cancel(self) -> None:
        """Kill the child if it still runs, and wait for it."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._pid is not None:
            try:
                os.kill(self._pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(self._pid, 0)
            self._pid = None
        self._work = None

    def __enter__(self) -> Background:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cancel()
