"""Labelled structure datasets: read/write (extxyz, ASE db), split, hash, label.

A dataset is a list of ``ase.Atoms``; each labelled frame carries its labels
in a ``SinglePointCalculator`` (energy eV, forces eV/Angstrom (N, 3), stress
eV/Angstrom^3 Voigt (6,)) and free-form metadata in ``atoms.info``.

- ``read_frames(path)`` / ``write_frames(frames, path)``: ``.xyz``/``.extxyz``
  or ``.db`` (ASE database), chosen by suffix; writes are atomic.
- ``as_stored(atoms, path)``: a frame exactly as it reads back from a file like ``path``
  (extxyz keeps 8 decimals), for code that keeps a dataset in memory and on disk.
- ``split_frames(frames, fractions, seed)``: reproducible random splits.
- ``dataset_hash(frames)``: sha256 of structures and labels (stored in
  potential files so a model names the data it learned from).
- ``label_frames(frames, calc)``: run any ASE calculator over frames; a frame
  whose calculation raises is recorded in ``LabelResult.failures`` and the
  batch goes on; ``checkpoint=path`` keeps each labelled frame on disk as it is done,
  so a killed run resumes where it stopped. ``emt_calculator`` and
  ``gpaw_lcao_calculator`` are presets.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from ase.calculators.singlepoint import SinglePointCalculator

from foundation.files import atomic_path
from foundation.reading import reading

from ..errors import InputError
from ..structures import check_labels, read_structures

_XYZ = {".xyz", ".extxyz"}


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in _XYZ:
        return "extxyz"
    if suffix == ".db":
        return "db"
    raise InputError(f"path: {str(path)!r}: unknown dataset format {suffix!r}; "
                     "expected .xyz, .extxyz or .db")


def read_frames(path: str | Path) -> list:
    """All frames of an extxyz file or ASE database, with their labels and info; a file that is
    unreadable or holds a non-finite frame raises InputError naming it (an empty extxyz: [])."""
    path = Path(path)
    kind = _kind(path)
    if kind == "extxyz":
        return read_structures(path, fmt="extxyz", min_fraction=0, allow_empty=True)
    import ase.db

    frames = []
    with reading(path, "dataset file", InputError), ase.db.connect(path) as db:
        for row in db.select():
            atoms = row.toatoms(add_additional_information=False)
            atoms.info.update(row.key_value_pairs)
            atoms.info.update(row.data.get("info", {}))
            frames.append(check_labels(atoms, f"{path} row {row.id}"))
    return frames


def write_frames(frames, path: str | Path) -> Path:
    """Write frames (labels + ``info``) atomically to extxyz or an ASE database."""
    import ase.io

    path = Path(path)
    kind = _kind(path)
    frames = [check_labels(a, f"{path} frame {k}") for k, a in enumerate(frames)]
    with atomic_path(path) as tmp:
        if kind == "extxyz":
            ase.io.write(tmp, list(frames), format="extxyz")
        else:
            import ase.db

            tmp.unlink()     # ase.db makes its own file
            with ase.db.connect(tmp, type="db") as db:
                for atoms in frames:
                    simple = {k: v for k, v in atoms.info.items()
                              if isinstance(v, (bool, int, float, str, np.integer, np.floating))
                              and k.isidentifier() and k not in _DB_RESERVED}
                    db.write(atoms, key_value_pairs=simple, data={"info": dict(atoms.info)})
    return path


def as_stored(atoms, path: str | Path):
    """``atoms`` with its labels and info exactly as :func:`read_frames` would give them back from
    a file of ``path``'s kind. extxyz writes positions and forces with 8 decimals, so a loop that
    keeps the full-precision frame in memory while a resumed run reads the file would train on
    other numbers (1e-8 eV/A apart, enough to move an MD trajectory): keep this copy instead.
    An ASE database stores every float exactly: the frame is returned as it is."""
    import io

    import ase.io

    if _kind(Path(path)) != "extxyz":
        return atoms
    text = io.StringIO()
    ase.io.write(text, check_labels(atoms, f"{path} (new frame)"), format="extxyz")
    text.seek(0)
    return ase.io.read(text, index=0, format="extxyz")


_DB_RESERVED = {"id", "unique_id", "ctime", "mtime", "user", "calculator", "energy", "natoms",
                "charge", "mass", "fmax", "smax", "volume", "pbc", "cell", "numbers", "positions",
                "forces", "stress", "magmom", "age", "formula"}


def split_frames(frames, fractions=(0.8, 0.1, 0.1), seed: int = 0) -> list[list]:
    """Shuffle with ``seed`` and cut into parts with the given fractions (summing to 1)."""
    fractions = [float(f) for f in fractions]
    if any(f < 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-9:
        raise InputError(f"fractions: {fractions}: expected non-negative numbers summing to 1")
    order = np.random.default_rng(seed).permutation(len(frames))
    bounds = np.round(np.cumsum([0.0] + fractions) * len(frames)).astype(int)
    return [[frames[k] for k in order[a:b]] for a, b in zip(bounds[:-1], bounds[1:])]


def labels_of(atoms) -> dict:
    """The labels of a frame: energy (eV), forces (N, 3), stress (6,), charges (N,) (e)
    and dipole (3,) (e A) when present."""
    calc = atoms.calc
    results = getattr(calc, "results", {}) if calc is not None else {}
    out = {}
    for key in LABEL_PROPERTIES:
        if key in results:
            out[key] = np.asarray(results[key], dtype=np.float64)
    if "energy" not in out and "free_energy" in results:
        out["energy"] = np.asarray(results["free_energy"], dtype=np.float64)
    return out


def dataset_hash(frames) -> str:
    """sha256 over numbers, positions, cell, pbc and labels of every frame.

    Exact bytes: a frame re-read from extxyz (8 decimals) hashes differently
    from the in-memory original, which is intended (it is different data).
    """
    h = hashlib.sha256()
    for atoms in frames:
        h.update(np.ascontiguousarray(atoms.numbers, dtype=np.int64).tobytes())
        h.update(np.ascontiguousarray(atoms.pbc, dtype=bool).tobytes())
        for arr in (atoms.positions, atoms.cell.array):
            h.update(np.ascontiguousarray(arr, dtype=np.float64).tobytes())
        for key, value in sorted(labels_of(atoms).items()):
            h.update(key.encode())
            h.update(np.ascontiguousarray(value, dtype=np.float64).tobytes())
    return h.hexdigest()


#: what ``label_frames`` can compute: charges are Hirshfeld charges for GPAW
#: (``calc.get_charges()`` for any other calculator); dipole is the cell's dipole
#: moment (e A; meaningful along a non-periodic or vacuum-separated axis only)
LABEL_PROPERTIES = ("energy", "forces", "stress", "charges", "dipole")


def _source_name(calc, factory: bool) -> str:
    """What labelled a frame, e.g. ``EMT`` or ``gpaw_lcao_calculator(basis='dzp', ...)``."""
    import functools

    if isinstance(calc, functools.partial):
        args = [repr(a) for a in calc.args] + [f"{k}={v!r}" for k, v in calc.keywords.items()]
        return f"{getattr(calc.func, '__name__', 'calculator')}({', '.join(args)})"
    return getattr(calc, "__name__", "calculator") if factory else type(calc).__name__


def reference_charges(atoms) -> np.ndarray:
    """Atomic charges (e) of ``atoms`` after its calculator ran: Hirshfeld for GPAW."""
    calc = atoms.calc
    if type(calc).__module__.startswith("gpaw"):
        from gpaw.analyse.hirshfeld import HirshfeldPartitioning

        try:
            return np.asarray(HirshfeldPartitioning(calc).get_charges(), dtype=np.float64)
        except ValueError as exc:
            if "legacy" in str(exc).lower():
                raise InputError("charges: GPAW's Hirshfeld partitioning needs the legacy "
                                 "calculator: pass legacy_gpaw=True to the GPAW reference "
                                 "(config: [reference] gpaw = { legacy_gpaw = true })") from None
            raise
    return np.asarray(atoms.get_charges(), dtype=np.float64)


@dataclass
class LabelResult:
    """Frames that were labelled, and (index, error message) of those that failed."""
    frames: list = field(default_factory=list)
    failures: list[tuple[int, str]] = field(default_factory=list)


def label_frames(frames, calc, properties=("energy", "forces"), progress: bool = True,
                 checkpoint: str | Path | None = None) -> LabelResult:
    """Label copies of ``frames`` with ASE calculator ``calc``.

    Args:
        frames: structures (not modified).
        calc: an ASE calculator instance, or a zero-argument factory returning one
            (used for calculators that must not be shared between structures).
        properties: what to compute: any of ``LABEL_PROPERTIES``.
        progress: show a rich progress bar.
        checkpoint: an extxyz file that holds every frame labelled so far (rewritten
            atomically after each one, with its place in ``frames`` as
            ``info['label_index']``). A rerun with the same file takes the frames found
            there instead of recomputing them, so a killed labelling resumes. A stored
            frame is reused only if its structure is the one at its index (numbers,
            cell, pbc; positions to the file's 8 decimals) and its ``label_source`` is
            this calculator's name; else InputError. The name of a lambda or of a
            calculator instance does not hold its settings (k-points, basis): give a
            checkpoint file per setting. Failures are not stored: a rerun tries them again.

    Each labelled frame carries ``info['label_source']`` (the calculator's name) and
    ``info['label_s']`` (the seconds its calculation took; kept in a checkpoint).
    """
    from rich.progress import Progress

    unknown = sorted(set(properties) - set(LABEL_PROPERTIES))
    if unknown or "energy" not in properties:
        raise InputError(f"properties: {list(properties)}: expected 'energy' and any of "
                         f"{list(LABEL_PROPERTIES)}")

    result = LabelResult()
    # A calculator class (EMT) has a ``calculate`` attribute too, but it is a factory.
    factory = isinstance(calc, type) or (callable(calc) and not hasattr(calc, "calculate"))
    done = ({} if checkpoint is None
            else _resumed(frames, checkpoint, _source_name(calc, factory)))
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("labelling", total=len(frames))
        for k, atoms in enumerate(frames):
            if k in done:
                result.frames.append(done[k])
                bar.advance(task)
                continue
            atoms = atoms.copy()
            t0 = time.perf_counter()
            try:
                atoms.calc = calc() if factory else calc
                res = {"energy": atoms.get_potential_energy()}
                if "forces" in properties:
                    res["forces"] = atoms.get_forces()
                if "stress" in properties:
                    res["stress"] = atoms.get_stress()
                if "dipole" in properties:
                    res["dipole"] = atoms.get_dipole_moment()
                if "charges" in properties:
                    res["charges"] = reference_charges(atoms)
                if not all(np.all(np.isfinite(v)) for v in res.values()):
                    raise ValueError("non-finite result")
            except InputError:  # a wrong request, not an engine failure: say it now
                raise
            except Exception as exc:  # record any engine failure, keep labelling
                result.failures.append((k, f"{type(exc).__name__}: {exc}"))
            else:
                atoms.calc = SinglePointCalculator(atoms, **res)
                atoms.info.setdefault("label_source", _source_name(calc, factory))
                atoms.info["label_s"] = time.perf_counter() - t0
                result.frames.append(atoms)
                if checkpoint is not None:
                    atoms.info["label_index"] = k
                    write_frames(result.frames, checkpoint)
            bar.advance(task)
    return result


def _resumed(frames, checkpoint, source: str) -> dict:
    """{index: labelled frame} from a ``label_frames`` checkpoint (none yet: {})."""
    path = Path(checkpoint)
    if _kind(path) != "extxyz":
        raise InputError(f"checkpoint: {str(path)!r}: expected an .extxyz or .xyz file")
    if not path.is_file():
        return {}
    done = {}
    for stored in read_frames(path):
        k = stored.info.get("label_index")
        if not isinstance(k, (int, np.integer)) or not 0 <= k < len(frames):
            raise InputError(f"checkpoint: {str(path)!r} holds a frame with label_index "
                             f"{k!r}, not one of these {len(frames)} frames: delete the file "
                             "or name another")
        want = frames[int(k)]
        same = (len(stored) == len(want)
                and np.array_equal(stored.numbers, want.numbers)
                and np.array_equal(stored.pbc, want.pbc)
                and np.allclose(stored.cell.array, want.cell.array, rtol=0, atol=1e-7)
                and np.allclose(stored.positions, want.positions, rtol=0, atol=1e-7))
        if not same:   # 1e-7 A: above extxyz's 8 decimals, far below any real difference
            raise InputError(f"checkpoint: {str(path)!r}: its frame {int(k)} is not the "
                             f"structure given at index {int(k)} (another labelling's file?): "
                             "delete it or name another")
        if stored.info.get("label_source") != source:
            raise InputError(f"checkpoint: {str(path)!r}: its frame {int(k)} was labelled by "
                             f"{stored.info.get('label_source')!r}, not {source!r}: delete it "
                             "or name another")
        done[int(k)] = stored
    return done


def emt_calculator():
    """ASE's EMT (Cu, Al, Ni, Ag, Au, Pd, Pt, H, C, N, O): a fast reference for tests."""
    from ase.calculators.emt import EMT

    return EMT()


def gpaw_lcao_calculator(basis: str = "dzp", xc: str = "PBE", kpts=(2, 2, 2),
                         h: float = 0.2, txt=None, **kwargs):
    """A GPAW LCAO calculator preset (DFT labels in minutes on a laptop for small cells)."""
    from .._engines import import_engine

    gpaw = import_engine("gpaw")
    return gpaw.GPAW(mode="lcao", basis=basis, xc=xc, kpts=kpts, h=h, txt=txt, **kwargs)
