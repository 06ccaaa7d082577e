"""The one boundary for reading a file: any decode, parse or IO error becomes one line.

Every reader of a file a user hands the toolkit (configs, handoff files,
structures, trajectories, datasets, battery residuals, arrays) goes through
:func:`reading` (or :func:`read_text`, for text), so a truncated JSON, a UTF-16
config, a directory or a pickle where an array was expected raises the
package's ``InputError``::

    PATH: cannot read WHAT: REASON

instead of a traceback from deep inside ``json``, ``tomllib``, ``numpy`` or
``ase.io``. Errors the toolkit raises on purpose (``ToolkitError``) pass
through unchanged: they already name what is wrong.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from .errors import InputError, ToolkitError

__all__ = ["reading", "read_text", "reason"]


def reason(exc: BaseException, key: str | None = None) -> str:
    """What ``exc`` says went wrong, in one short line. A ``KeyError`` is an entry the file lacks,
    or, when ``key`` says what its keys are (``"element"``), an unknown one."""
    if isinstance(exc, KeyError) and exc.args:
        return f"unknown {key} {exc.args[0]!r}" if key else f"missing entry {exc.args[0]!r}"
    if isinstance(exc, UnicodeDecodeError):
        return (f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at position {exc.start}); "
                "save it as UTF-8")
    if isinstance(exc, IsADirectoryError):
        return "is a folder, expected a file"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


@contextlib.contextmanager
def reading(path: str | Path, what: str, error: type[InputError] = InputError,
            key: str | None = None) -> Iterator[Path]:
    """Yield ``path`` (a ``Path``) for reading ``what`` (e.g. "handoff file"); any exception in the
    block but a ``ToolkitError`` becomes ``error("PATH: cannot read WHAT: REASON")``. A missing
    file or a folder is refused before the block runs. ``key``: what a ``KeyError`` means here
    (``"element"`` for structures)."""
    path = Path(path)
    if not path.exists():
        raise error(f"{path}: no such {what}")
    if path.is_dir():
        raise error(f"{path}: is a folder, expected a {what}")
    try:
        yield path
    except ToolkitError:
        raise
    except Exception as exc:   # the boundary: parsers raise many types for bad bytes
        raise error(f"{path}: cannot read {what}: {reason(exc, key)}") from None


def read_text(path: str | Path, what: str, error: type[InputError] = InputError) -> str:
    """The UTF-8 text of ``path`` (strict: a UTF-16 or Latin-1 file is refused, by byte)."""
    with reading(path, what, error) as p:
        return p.read_bytes().decode("utf-8")
