"""Atomic, reproducible file writing shared by results, the CLI and the reports."""

from __future__ import annotations

import contextlib
import os
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any, TypeAlias

import numpy as np

StrPath: TypeAlias = "str | os.PathLike[str]"  # a file name: what open() and Path() take
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the zip format's epoch: no wall-clock time in any output


def _file_mode() -> int:
    """0o666 less the process umask: the mode ``open()`` would give a new file."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: StrPath, write: Callable[[IO[bytes]], object]) -> Path:
    """Create ``path`` atomically: ``write(fh)`` fills a temporary file in the same directory,
    which is flushed, fsynced and renamed over ``path``; on any error it is removed, so an
    interrupted write leaves no partial file and never damages an existing ``path``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fchmod(fh.fileno(), _file_mode())  # mkstemp makes 0600; outputs are shared
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def write_npz(fh: IO[bytes], arrays: Mapping[str, Any]) -> None:
    """An ``.npz`` archive (what ``np.load`` reads, ``allow_pickle=False``) with a fixed date on
    every entry, so the same arrays always give the same bytes (``np.savez`` stamps the time)."""
    with zipfile.ZipFile(fh, "w", allowZip64=True) as zf:
        for name, value in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=ZIP_DATE)
            info.create_system = 3
            info.external_attr = 0o644 << 16
            with zf.open(info, "w", force_zip64=True) as out:
                np.lib.format.write_array(out, np.asanyarray(value), allow_pickle=False)
