"""Publishing a command's outputs: the whole output folder is written beside ``--out`` and put
in its place by one atomic step.

A run writes every file into a staging folder next to ``out`` (``.NAME.simcore-staging-*`` in
``out``'s parent, on the same filesystem). When every file is complete, one system call swaps
the staging folder and ``out`` (Linux ``renameat2(RENAME_EXCHANGE)``, macOS
``renamex_np(RENAME_SWAP)``; a plain ``rename`` when ``out`` does not exist yet), and the earlier
folder, now under the staging name, is deleted. A signal at any instruction, SIGKILL included,
therefore leaves ``out`` holding either the earlier run or the new one, complete.

Where the filesystem cannot swap, two renames are used (``out`` to ``.NAME.simcore-old-*``, then
the staging folder to ``out``); a run killed between them leaves the earlier folder complete
under the old name, and the next command that uses ``out`` renames it back before anything else.

Each staging folder has a lock file beside it (``<staging>.lock``) that its run holds with
``flock`` while it lives: the kernel drops the lock when the process dies, however it dies, so
another run can tell a live run from a dead one without trusting process IDs (which are
reused). Leftovers of dead runs are removed by the next run that uses the same ``out``.

Because the folder is replaced as a whole, ``out`` must hold only what the command writes: a
folder with other files is refused before any work starts (an empty folder is fine).

Every filesystem call of the commit goes through :data:`_fs_hook` so that tests can fault it at
each step (``SIMCORE_FAULT_AT=N:SIGNAL`` in the environment does the same in a subprocess).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import re
import secrets
import shutil
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simcore.io.files import StrPath

fcntl: ModuleType | None
try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock, so a live run cannot be detected
    fcntl = None

STAGING = ".simcore-staging-"
OLD = ".simcore-old-"
LOCK_SUFFIX = ".lock"


class OutputError(Exception):
    """``--out`` cannot be used (another live run, foreign files, a mount point): exit code 1."""


# -- fault injection for tests --------------------------------------------------------------------
_fs_calls = 0


def _fault_from_env() -> tuple[int, int] | None:
    spec = os.environ.get("SIMCORE_FAULT_AT")
    if not spec:
        return None
    at, _, sig = spec.partition(":")
    return int(at), int(getattr(signal, sig or "SIGKILL"))


def _fs_hook(what: str) -> None:
    """Called before every filesystem call of the commit; with ``SIMCORE_FAULT_AT=N:SIGNAL``
    the process sends itself SIGNAL before its N-th call (1-based)."""
    global _fs_calls
    _fs_calls += 1
    fault = _fault_from_env()
    if fault is not None and fault[0] == _fs_calls:
        os.kill(os.getpid(), fault[1])


# -- the atomic swap ------------------------------------------------------------------------------
def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    except OSError:  # pragma: no cover
        return None


def exchange(a: Path, b: Path) -> bool:
    """Swap the directory entries ``a`` and ``b`` in one atomic step; False where this OS or
    filesystem cannot (the caller falls back to two renames)."""
    libc = _libc()
    if libc is None:  # pragma: no cover
        return False
    if sys.platform.startswith("linux") and hasattr(libc, "renameat2"):
        at_fdcwd, rename_exchange = -100, 2
        rc = libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    elif sys.platform == "darwin" and hasattr(libc, "renamex_np"):  # pragma: no cover
        rc = libc.renamex_np(os.fsencode(a), os.fsencode(b), 0x2)  # RENAME_SWAP
    else:  # pragma: no cover
        return False
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # this filesystem cannot exchange
    raise OSError(err, f"cannot swap {b} into place: {os.strerror(err)}", str(b))


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# -- locks and leftovers --------------------------------------------------------------------------
def _lock_held(lock: Path) -> bool:
    """Whether a live process holds ``lock`` (a missing file is not held)."""
    if fcntl is None:  # pragma: no cover
        return False
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also drops our probe lock
    return False


def _lock_owner(lock: Path) -> str:
    with contextlib.suppress(OSError, ValueError):
        return f" (pid {int(lock.read_text().strip())})"
    return ""


class OutputFolder:
    """The output folder ``out`` of one command, written whole and published atomically.

    ``known`` is a predicate on file names that says which names the command may have written
    (anything else in ``out`` is a foreign file and makes the folder unusable); ``guard`` is a
    context manager factory that holds signals back during the publish and the cleanup.

    Use::

        folder = OutputFolder(out, known)
        folder.prepare()            # before any work: leftovers, live runs, foreign files
        with folder.staging() as stage:
            ...write files into stage...
            folder.publish()        # the one atomic step
    """

    def __init__(
        self,
        out: StrPath,
        known: Callable[[str], object],
        guard: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext,
    ) -> None:
        out = Path(out)
        if out.is_symlink():  # publish into the folder the link names, and keep the link
            out = Path(os.path.realpath(out))
        self.out = out.absolute()
        self.known = known
        self.guard = guard  # a context manager that holds signals back (publish, cleanup)
        self.parent = self.out.parent
        self.prefix = f".{self.out.name}"
        self._stage: Path | None = None  # while staging(): the staging folder, its lock
        self._lock: Path | None = None
        self._lock_fd: int | None = None
        self._old: Path | None = None  # the two-rename fallback's name for the earlier folder
        self._published = False
        self._made_parents: list[Path] = []
        self.previous: dict[str, Any] | None = None  # the earlier run's outputs (the CLI's)

    # -- before any work
    def prepare(self) -> None:
        """Recover or remove what dead runs left, refuse a live run's folder, a folder holding
        files the command did not write, and a mount point. Raises :class:`OutputError`."""
        out = self.out
        if out.exists() and not out.is_dir():
            raise OutputError(f"--out {out} exists and is not a directory")
        cwd = Path.cwd().resolve()
        if out.exists() and (out.resolve() == cwd or out.resolve() in cwd.parents):
            raise OutputError(
                f"--out {out} is the current folder or holds it; simcore replaces "
                f"its output folder as a whole, so give it a folder of its own "
                f"(e.g. --out {out / 'simcore-out'})"
            )
        if self.parent.is_dir():
            self._clean_leftovers()
        if out.is_dir():
            if os.stat(out).st_dev != os.stat(self.parent).st_dev:
                raise OutputError(
                    f"--out {out} is a mount point; simcore replaces its output "
                    f"folder as a whole, so give it a folder inside it"
                )
            foreign = sorted(
                p.name + ("/" if p.is_dir() else "")
                for p in out.iterdir()
                if not (p.is_file() and not p.is_symlink() and self.known(p.name))
            )
            if foreign:
                shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
                raise OutputError(
                    f"--out {out} holds {len(foreign)} entr{'y' if len(foreign) == 1 else 'ies'}"
                    f" simcore did not write ({shown}); simcore replaces its output folder as a "
                    f"whole, so give it a new or empty folder, or one it wrote before"
                )

    def _clean_leftovers(self) -> None:
        pattern = re.compile(
            re.escape(self.prefix)
            + "("
            + re.escape(STAGING)
            + "|"
            + re.escape(OLD)
            + r")(\d+-[0-9a-f]+)(\.lock)?$"
        )
        entries = sorted(p for p in self.parent.iterdir() if pattern.match(p.name))
        for p in entries:  # old- sorts before staging-: a restore comes first
            if p.name.endswith(LOCK_SUFFIX):
                continue
            m = pattern.match(p.name)
            assert m is not None  # entries are the names that match
            token = m.group(2)
            lock = self.parent / f"{self.prefix}{STAGING}{token}{LOCK_SUFFIX}"
            if _lock_held(lock):
                raise OutputError(
                    f"another simcore run{_lock_owner(lock)} is writing to "
                    f"{self.out}; wait for it or use another --out"
                )
            if OLD in p.name and not self.out.exists() and p.is_dir():
                os.rename(p, self.out)  # a fallback publish died between its two renames
                _fsync_dir(self.parent)
            else:
                shutil.rmtree(p, ignore_errors=True)
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()
        for p in entries:  # locks whose folder is gone
            if p.name.endswith(LOCK_SUFFIX) and not _lock_held(p):
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()

    # -- the run
    @contextlib.contextmanager
    def staging(self) -> Iterator[Path]:
        """A fresh staging folder beside ``out`` (locked for this process); removed on the way
        out unless published."""
        missing: list[Path] = []
        p = self.parent
        while not p.exists():
            missing.append(p)
            p = p.parent
        self.parent.mkdir(parents=True, exist_ok=True)
        self._made_parents = missing  # innermost first
        token = f"{os.getpid()}-{secrets.token_hex(4)}"
        stage = self.parent / f"{self.prefix}{STAGING}{token}"
        lock = stage.with_name(stage.name + LOCK_SUFFIX)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            try:  # a run cleaning up at this very moment may have taken the new file for stale
                ours = os.stat(lock).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                ours = False
            if not ours:
                raise OutputError(
                    f"another simcore run is starting in {self.out}; wait for it "
                    f"or use another --out"
                )
            os.write(fd, f"{os.getpid()}\n".encode())
            stage.mkdir()  # mode 0o777 less the umask, as any new folder
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                lock.unlink()
            raise
        self._stage, self._lock_fd, self._lock = stage, fd, lock
        self._published = False
        try:
            yield stage
        finally:
            with self.guard():
                self._finish()

    def publish(self) -> None:
        """Put the staging folder in ``out``'s place in one step and delete the earlier folder.
        Call it inside :meth:`staging` once every file is complete."""
        with self.guard():
            self._publish()

    def _publish(self) -> None:
        stage, out = self._stage, self.out
        assert stage is not None, "publish() outside staging()"
        _fs_hook("fsync staging")
        _fsync_dir(stage)
        if not out.exists():
            _fs_hook("rename")
            try:
                os.rename(stage, out)
            except OSError as exc:
                if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise
                self._swap(stage, out)  # another run made out meanwhile
        else:
            self._swap(stage, out)
        self._published = True
        _fs_hook("fsync parent")
        _fsync_dir(self.parent)

    def _swap(self, stage: Path, out: Path) -> None:
        _fs_hook("exchange")
        if exchange(stage, out):
            return  # stage now holds the earlier folder; _finish deletes it
        old = self._old = stage.with_name(stage.name.replace(STAGING, OLD))
        _fs_hook("rename out away")
        os.rename(out, old)  # killed here: the next run renames old back (_clean_leftovers)
        _fs_hook("rename staging in")
        os.rename(stage, out)

    def _finish(self) -> None:
        """Delete the staging folder (after a publish: the earlier folder under its name) and
        the lock; without a publish, also the parents this run made, if still empty."""
        published = self._published
        for p in (self._stage, self._old):
            if p is not None and p.exists() and not p.is_symlink():
                _fs_hook("remove earlier folder" if published else "remove staging")
                shutil.rmtree(p, ignore_errors=True)
        lock, lock_fd = self._lock, self._lock_fd
        assert lock is not None and lock_fd is not None, "_finish() outside staging()"
        with contextlib.suppress(OSError):
            lock.unlink()
        os.close(lock_fd)
        self._stage = self._lock = self._lock_fd = self._old = None
        if not published:
            for p in self._made_parents:  # innermost first
                with contextlib.suppress(OSError):
                    p.rmdir()
