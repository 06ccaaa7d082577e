"""Atomic file writes: nothing a user computed is ever left half-written."""
from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

__all__ = ["atomic_open", "jsonable", "save_figure", "write_json"]


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w") -> Iterator[IO]:
    """Open a temporary file beside ``path`` for writing; on a clean exit it is flushed to disk
    and renamed over ``path``, on any error (Ctrl-C included) it is removed and ``path`` is
    left as it was. ``mode``: "w" (text) or "wb" (bytes)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_figure(fig, path: str | Path, dpi: int = 120) -> Path:
    """Write a matplotlib figure as PNG through ``atomic_open`` (never a half-written plot)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    with atomic_open(path, "wb") as fh:
        fh.write(buf.getvalue())
    return Path(path)


def jsonable(x):
    """``x`` with numpy arrays and scalars turned into lists and Python numbers, keys into str."""
    import numpy as np

    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, (np.floating, np.integer, np.bool_)):
        return x.item()
    return x


def write_json(path: str | Path, data, indent: int = 1) -> Path:
    """``data`` (numpy allowed, see ``jsonable``) as JSON through ``atomic_open``."""
    import json

    with atomic_open(path) as fh:
        fh.write(json.dumps(jsonable(data), indent=indent))
    return Path(path)
