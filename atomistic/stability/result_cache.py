"""A folder of small JSON results keyed by what produced them, written atomically.

Screening runs thousands of independent evaluations; each one's result is a
file ``<folder>/<level>/<key>.json`` whose key hashes the structure (species,
positions and cell to 1e-6), the level's settings and the calculator's
identity. A run that is interrupted and started again finds the finished
files and skips that work (resumable), and a result is either complete on
disk or absent (temp file + ``os.replace``), never half-written, even when
several Dask workers write at once.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
from ase import Atoms

from foundation.files import atomic_open


def structure_key(atoms: Atoms, *parts) -> str:
    """A hex digest of ``atoms`` (species, positions, cell, pbc; rounded to 1e-6) and ``parts``."""
    payload = {
        "symbols": atoms.get_chemical_symbols(),
        "positions": np.round(atoms.get_positions(), 6).tolist(),
        "cell": np.round(np.array(atoms.cell), 6).tolist(),
        "pbc": [bool(p) for p in atoms.pbc],
        "parts": [str(p) for p in parts],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


class ResultCache:
    """JSON results under ``folder`` (None: a cache that remembers nothing)."""

    def __init__(self, folder: str | Path | None):
        self.folder = Path(folder) if folder is not None else None

    def _path(self, level: str, key: str) -> Path:
        return self.folder / level / f"{key}.json"

    def get(self, level: str, key: str) -> dict | None:
        if self.folder is None:
            return None
        path = self._path(level, key)
        try:
            value = json.loads(path.read_bytes().decode("utf-8"))
        except FileNotFoundError:
            return None
        except (ValueError, OSError):  # not ours (writes are atomic): recompute rather than trust it
            return None                # (ValueError: bad JSON or bad UTF-8; OSError: a folder)
        return value if isinstance(value, dict) else None

    def put(self, level: str, key: str, value: dict) -> None:
        if self.folder is None:
            return
        with atomic_open(self._path(level, key)) as fh:
            json.dump(value, fh)

    def count(self, level: str) -> int:
        if self.folder is None or not (self.folder / level).exists():
            return 0
        return sum(1 for _ in (self.folder / level).glob("*.json"))
