"""Trained potential files: save a committee, load it back as an ASE calculator.

A potential is one file (conventionally ``*.mlip.pt``) written with
``torch.save`` and read with ``torch.load(weights_only=True)``, so loading runs
no pickled code. It holds only tensors and plain data::

    {"format": "multiscale-mlip", "version": 1,
     "elements": [29, ...], "cutoff": 5.0, "hyperparameters": {...},
     "members": [state_dict, ...], "training_set_hash": "sha256...",
     "metrics": {...}, "created": "ISO time",
     "calibration": {...}}   # optional: atomistic.mlip.calibration.store_calibration

Writes are atomic (temp file + rename). A file that is not ours, or is
truncated/corrupt, raises ``PotentialFileError`` naming the path and the fault.
"""
from __future__ import annotations

import datetime as _dt
from pathlib import Path

from .._engines import import_engine
from foundation.files import atomic_open
from ..errors import InputError

FORMAT = "multiscale-mlip"
VERSION = 1


class PotentialFileError(InputError):
    """A potential file is missing, corrupt, or not a multiscale potential."""


def atomic_torch_save(obj, path: str | Path) -> None:
    """``torch.save`` to a temp file in the same folder, then rename over ``path``."""
    torch = import_engine("torch")
    with atomic_open(path, "wb") as fh:
        torch.save(obj, fh)


def read_training_checkpoint(path: str | Path) -> dict:
    """What :func:`atomic_torch_save` wrote for a training checkpoint. Written atomically, so an
    unreadable one was damaged outside the run: one line naming it and the way out, not a torch
    traceback."""
    from foundation.reading import reading

    torch = import_engine("torch")
    fix = "; delete it to train this member from epoch 0"
    try:
        with reading(path, "training checkpoint", InputError) as p:
            ck = torch.load(p, map_location="cpu", weights_only=True)
    except InputError as exc:
        raise InputError(f"{exc}{fix}") from None
    if not isinstance(ck, dict):
        raise InputError(f"{path}: not a training checkpoint (found {type(ck).__name__}){fix}")
    return ck


def save_potential(models, path: str | Path, training_set_hash: str = "",
                   metrics: dict | None = None) -> Path:
    """Write a committee (list of ``MomentPotential``) to ``path``; returns the path."""
    first = models[0]
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "elements": list(first.elements),
        "cutoff": float(first.cutoff),
        "hyperparameters": first.hyperparameters(),
        "members": [{k: v.detach().cpu().clone() for k, v in m.state_dict().items()}
                    for m in models],
        "training_set_hash": str(training_set_hash),
        "metrics": dict(metrics or {}),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    atomic_torch_save(payload, path)
    return Path(path)


def read_potential_file(path: str | Path) -> dict:
    """The validated payload of a potential file (raises PotentialFileError)."""
    torch = import_engine("torch")
    path = Path(path)
    if not path.is_file():
        raise PotentialFileError(f"path: {str(path)!r}: no such potential file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for garbage input
        raise PotentialFileError(
            f"path: {str(path)!r}: not a readable potential file ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:200] if str(exc) else 'corrupt'}); expected a file "
            "written by atomistic.save_potential") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise PotentialFileError(
            f"path: {str(path)!r}: not a multiscale potential (no format={FORMAT!r} marker); "
            "expected a file written by atomistic.save_potential")
    if payload.get("version") != VERSION:
        raise PotentialFileError(f"path: {str(path)!r}: version {payload.get('version')!r}: "
                                 f"this code reads version {VERSION}")
    missing = [k for k in ("elements", "hyperparameters", "members") if k not in payload]
    if missing or not payload["members"]:
        raise PotentialFileError(f"path: {str(path)!r}: incomplete potential file "
                                 f"(missing {missing or ['members']})")
    return payload


def potential_digest(path: str | Path) -> str:
    """A sha1 of what makes a potential file the potential it is: elements, cutoff,
    hyperparameters and every member's weights; not when it was written or its metrics.
    Two saves of the same trained committee have the same digest (and different bytes)."""
    import hashlib
    import json

    payload = read_potential_file(path)
    h = hashlib.sha1(json.dumps([payload["elements"], payload.get("cutoff"),
                                 payload["hyperparameters"]], sort_keys=True).encode())
    for member in payload["members"]:
        for key in sorted(member):
            h.update(key.encode())
            h.update(member[key].contiguous().numpy().tobytes())
    return h.hexdigest()


def build_models(payload: dict):
    """The committee members (``MomentPotential``) described by a file payload."""
    from .model import MomentPotential

    models = []
    for k, state in enumerate(payload["members"]):
        model = MomentPotential(payload["elements"], **payload["hyperparameters"])  # older
        # files lack the charge keys: the constructor's defaults (no charges) apply
        try:
            model.load_state_dict(state)
        except RuntimeError as exc:
            raise PotentialFileError(f"members[{k}]: weights do not match the hyperparameters "
                                     f"({str(exc).splitlines()[0]})") from None
        models.append(model)
    return models


def load_potential(path: str | Path, dtype: str = "float32"):
    """Load a trained committee as an ASE calculator (``CommitteeCalculator``).

    Args:
        path: a file written by ``save_potential`` / ``train_committee``.
        dtype: "float32" (fast) or "float64".

    A calibration stored in the file (``committee_calibration.store_calibration``)
    comes with the calculator: it then reports calibrated uncertainties.
    """
    from .calculator import CommitteeCalculator

    if dtype not in ("float32", "float64"):
        raise InputError(f"dtype: {dtype!r}: expected 'float32' or 'float64'")
    payload = read_potential_file(path)
    meta = {k: payload.get(k) for k in ("training_set_hash", "metrics", "created", "cutoff",
                                        "elements", "hyperparameters")}
    meta["path"] = str(path)
    return CommitteeCalculator(build_models(payload), dtype=dtype, metadata=meta,
                               calibration=payload.get("calibration"))
