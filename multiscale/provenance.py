"""Provenance: what produced an output (config hash, code and engine versions, time, host)."""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import platform
from importlib.metadata import PackageNotFoundError, version
from typing import Any

ENGINES = ("torch", "ase", "gpaw", "dolfinx-solver-real", "pybamm", "numpy", "scipy")


def engine_versions() -> dict[str, str | None]:
    """Installed versions of the engines, read from package metadata (imports nothing)."""
    out: dict[str, str | None] = {}
    for dist in ENGINES:
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = None
    return out


def provenance(cfg: Any = None) -> dict[str, Any]:
    from . import __version__

    record: dict[str, Any] = {
        "code_version": __version__,
        "engines": engine_versions(),
        "time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(),
        "python": platform.python_version(),
    }
    if cfg is not None:
        blob = json.dumps(cfg.model_dump(mode="json"), sort_keys=True).encode()
        record["config_sha256"] = hashlib.sha256(blob).hexdigest()
    return record
