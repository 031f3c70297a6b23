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

import contextlib
import os
import signal
import struct
import sys
import traceback
import warnings
import weakref
from collections.abc import Callable
from types import TracebackType
from typing import ClassVar

from distributions.kernels import serial_in_this_process

__all__ = ["Background", "BackgroundError", "can_fork"]

Work = Callable[[], dict[str, bytes]]
_OK, _FAILED = b"\x00", b"\x01"
_SIZE = struct.Struct("<Q")
_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


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


def _reap(pid: int) -> int | None:
    """Wait for child ``pid``; its exit code, or None where it cannot be known (SIGCHLD set
    to be ignored: the system reaps children itself)."""
    try:
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    except ChildProcessError:
        return None


def _end_with_parent() -> None:
    """Have the system kill this (child) process when its parent dies (Linux prctl)."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class Background:
    """``work()`` (a mapping of file name -> bytes) started now in a forked child where
    :func:`can_fork`, else run by :meth:`result`; ``what`` names it in errors. Use it as a
    context manager so the child never outlives the caller's block (a Background dropped
    without it is killed when collected)."""

    _reading: ClassVar[set[int]] = set()  # the read ends of live children's pipes

    def __init__(self, work: Work, what: str = "background work") -> None:
        self.what = what
        self._work: Work | None = work
        self._pid: int | None = None
        self._fd: int | None = None
        self._files: dict[str, bytes] | None = None
        if can_fork():
            self._start(work)
        self._finalizer = weakref.finalize(self, _kill, self._pid, self._fd)

    def _start(self, work: Work) -> None:
        """Fork the child. It waits for a go-ahead byte before working and ends at once if its
        pipe closes without one, so a signal raised in the parent at any point of this (the
        caller's handlers raise; signals are also held back across the fork, so none is lost
        inside fork's own handlers) cannot leave a child the parent does not know."""
        r, w = os.pipe()
        go_r, go_w = os.pipe()
        pid = None
        sys.stdout.flush()
        sys.stderr.flush()
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        try:
            try:
                with warnings.catch_warnings():  # 3.12+ warns of threads: idle BLAS and numba
                    warnings.simplefilter("ignore", DeprecationWarning)  # workers, unused there
                    pid = os.fork()
            except OSError:  # no process to spare (memory, process limits): run when asked
                os.close(r)
                return
            if pid == 0:  # the child: compute, send, end without the caller's cleanup
                self._child(work, r, w, go_r, go_w)
            self._pid, self._fd, self._work = pid, r, None
            Background._reading.add(r)
            os.write(go_w, b"1")
        except BaseException:  # the child, if any, is killed (or ends on the closed pipe)
            _kill(pid, r)
            self._pid = self._fd = None
            raise
        finally:
            for fd in (w, go_r, go_w):
                os.close(fd)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    @staticmethod
    def _child(work: Work, r: int, w: int, go_r: int, go_w: int) -> None:
        code = 1
        try:
            for s in _SIGNALS:  # a signal ends the child at once, unless the caller ignores it
                if signal.getsignal(s) is not signal.SIG_IGN:
                    signal.signal(s, signal.SIG_DFL)
            for fd in (r, go_w, *Background._reading):  # other children's pipes are not ours
                os.close(fd)
            _end_with_parent()
            if os.read(go_r, 1) != b"1":
                os._exit(0)  # the parent did not take us on
            signal.pthread_sigmask(signal.SIG_SETMASK, set())
            serial_in_this_process()  # no numba thread pool (nor its process-wide lock) here
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
        except BaseException:  # a signal while waiting: the child is not waited for
            self.cancel()
            raise
        fd, self._fd = self._fd, None
        Background._reading.discard(fd)
        os.close(fd)
        pid, self._pid = self._pid, None
        code = _reap(pid)
        self._finalizer.detach()
        if data[:1] == _OK and code in (0, None):
            return unframe(data[1:])
        detail = data[1:].decode(errors="replace").strip() if data[:1] == _FAILED else ""
        raise BackgroundError(
            f"{self.what} failed in its child process (exit status {code})"
            + (f":\n{detail}" if detail else "")
        )

    def cancel(self) -> None:
        """Kill the child if it still runs, and wait for it."""
        pid, fd = self._pid, self._fd
        self._pid = self._fd = self._work = None
        _kill(pid, fd)
        self._finalizer.detach()

    def __enter__(self) -> Background:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cancel()


def _kill(pid: int | None, fd: int | None) -> None:
    """Kill and reap child ``pid`` and close its pipe's read end ``fd`` (either may be None)."""
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        _reap(pid)
    if fd is not None:
        Background._reading.discard(fd)
        with contextlib.suppress(OSError):
            os.close(fd)
