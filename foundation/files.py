"""The one atomic writer: a reader sees the old file or the new one, never half of one.

Every file the toolkit writes (datasets, potentials, reports, results, plots,
handoff files, caches) goes through :func:`atomic_open` or :func:`atomic_path`:
the bytes go to a temporary file beside the target, are flushed and fsync'ed,
and the temporary file is renamed over the target (``os.replace``, atomic on
POSIX); the folder is fsync'ed so the rename survives a power cut. On any
error, Ctrl-C included, the temporary file is removed and the target is left
as it was.

Permissions: ``tempfile.mkstemp`` creates files readable by their owner only
(0600). A result a colleague cannot read is a lost result, so the new file is
given the mode ``open()`` would have given it (0666 less the umask), and a file
that already exists keeps its own mode.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_open", "atomic_path", "fsync_path", "jsonable", "output_folder", "save_figure", "write_bytes",
           "write_json", "write_text"]


def _umask() -> int:
    """The process umask, read without changing it where the OS allows (Linux: /proc)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    old = os.umask(0o022)   # elsewhere: the only portable read is a set-and-restore
    os.umask(old)
    return old


def _target_mode(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        return 0o666 & ~_umask()


def fsync_path(path: str | Path) -> None:
    """Push what has been written to ``path`` (a file another object holds open, or a folder's
    entries) to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):       # some file systems cannot open or sync a folder
        fsync_path(folder)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (same suffix, so libraries that pick a format by
    the file name, like ``ase.io.write`` or ``numpy.savez``, still do); whatever is written there
    becomes ``path`` on a clean exit. For writers that want a file name, not a file object."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix or ".tmp")
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.chmod(tmp, _target_mode(path))
        with open(tmp, "rb+") as fh:         # the writer may have closed without syncing
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w") -> Iterator[IO]:
    """Open a temporary file beside ``path`` for writing; on a clean exit it is flushed, synced
    and renamed over ``path``; on any error it is removed and ``path`` is left as it was.
    ``mode``: "w" (text, UTF-8) or "wb" (bytes)."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open: mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, _target_mode(path))
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def output_folder(path: str | Path, field: str = "out", error: type | None = None) -> Path:
    """``path`` as a ``Path`` if it can be a folder to write into (absent or a folder); an existing
    file raises ``error`` (default ``foundation.errors.InputError``) naming ``field``."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        from .errors import InputError

        raise (error or InputError)(f"{field} = {str(path)!r}: is a file; expected a folder to "
                                    "write into")
    return path


def write_text(path: str | Path, text: str) -> Path:
    """``text`` into ``path``, atomically."""
    with atomic_open(path) as fh:
        fh.write(text)
    return Path(path)


def write_bytes(path: str | Path, data: bytes) -> Path:
    """``data`` into ``path``, atomically."""
    with atomic_open(path, "wb") as fh:
        fh.write(data)
    return Path(path)


def jsonable(x: Any) -> Any:
    """``x`` with numpy arrays and scalars turned into lists and Python numbers, keys into str."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if hasattr(x, "tolist") and type(x).__module__ == "numpy":   # arrays and numpy scalars
        return x.tolist()
    return x


def write_json(path: str | Path, data: Any, indent: int = 2) -> Path:
    """``data`` (numpy allowed, see :func:`jsonable`) as JSON with a final newline, atomically."""
    return write_text(path, json.dumps(jsonable(data), indent=indent) + "\n")


def save_figure(fig, path: str | Path, dpi: int = 120) -> Path:
    """A matplotlib figure as PNG, atomically (never a half-written plot). Works with a bare
    ``matplotlib.figure.Figure()``: no pyplot, no backend selection."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return write_bytes(path, buf.getvalue())
