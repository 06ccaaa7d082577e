"""Active learning from a TOML file: what ``multiscale learn CONFIG`` runs.

Example config (paths relative to the config file)::

    folder = "cu_al"                  # run folder: dataset, committee, state, log
    test = "cu_test.extxyz"           # optional labelled held-out frames
    # initial = "cu_seed.extxyz"      # optional labelled frames to start from
    [reference]
    calculator = "emt"                # "emt", or "gpaw" (LCAO) with options below
    # gpaw = { kpts = [1, 1, 1], basis = "dzp", h = 0.2 }
    [[structures]]                    # starting structures, built ...
    element = "Cu"
    kind = "vacancy"                  # "bulk", "vacancy" or "surface"
    size = 2
    # [[structures]]  file = "start.xyz"   # ... or read (every frame of the file)
    [settings]                        # any field of ActiveLearningSettings
    mode = "batch"
    final_temperature_K = 1000
    [settings.train]                  # any field of TrainSettings
    n_members = 3

Errors name the key (``learn.toml: settings.trust_low: unknown key; did you mean 'trust_lo'?``).
The stage ``active_learning`` builds its structures and reference with the same
``StructureSpec`` / ``ReferenceSpec``.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from atomistic.learning.settings import ActiveLearningSettings
from atomistic.mlip.training import TrainSettings

from ..config import load_toml, validate_section
from ..errors import InputError


class StructureSpec(BaseModel):
    """A starting structure: built from an element and a kind, or read from ``file``."""

    model_config = ConfigDict(extra="forbid")
    file: str | None = None
    element: str = "Cu"
    kind: Literal["bulk", "vacancy", "surface"] = "bulk"
    size: int = Field(2, ge=1, le=6, description="conventional cells per edge / layers")
    vacuum_A: float = Field(6.0, gt=0.0, description="surface: vacuum on each side")


class ReferenceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    calculator: Literal["emt", "gpaw"] = "emt"
    gpaw: dict[str, Any] = Field(default_factory=dict,
                                 description="atomistic.mlip.dataset.gpaw_lcao_calculator options")


class LearnConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    folder: str = "active_learning"
    test: str | None = None
    initial: str | None = None
    reference: ReferenceSpec = Field(default_factory=ReferenceSpec)
    structures: list[StructureSpec] = Field(min_length=1)
    settings: ActiveLearningSettings = Field(default_factory=ActiveLearningSettings)


def build_structure(spec: StructureSpec, here: Path | None = None) -> list:
    """The structure(s) a spec names (Angstrom; fully periodic, surfaces with vacuum)."""
    from ase.build import bulk, fcc111

    if spec.file:
        from atomistic.structures import read_structures

        return read_structures((here or Path.cwd()) / spec.file)
    try:
        cell = bulk(spec.element, cubic=True)
    except (ValueError, KeyError) as exc:
        raise InputError(f"structures.element: {spec.element!r}: no default crystal ({exc})"
                         ) from None
    if spec.kind == "surface":
        a = cell.cell.lengths()[0]
        atoms = fcc111(spec.element, size=(3, 3, max(spec.size, 2) + 1), a=a,
                       vacuum=spec.vacuum_A, periodic=True)
        return [atoms]
    atoms = cell.repeat((spec.size,) * 3)
    if spec.kind == "vacancy":
        del atoms[len(atoms) // 2]
    return [atoms]


def reference_factory(spec: ReferenceSpec):
    """A picklable zero-argument factory for the reference calculator."""
    from atomistic.mlip.dataset import emt_calculator, gpaw_lcao_calculator

    if spec.calculator == "emt":
        return emt_calculator
    opts = dict(spec.gpaw)
    if "kpts" in opts:
        opts["kpts"] = tuple(opts["kpts"])
    return functools.partial(gpaw_lcao_calculator, **opts)


def load_learn_config(path: str | Path) -> LearnConfig:
    """Parse and validate a learning config (``settings.train`` too); ``ConfigError`` lines name
    each bad key."""
    cfg = load_toml(path, LearnConfig)
    validate_section(TrainSettings, cfg.settings.train, str(path), "settings.train")
    return cfg


def learn_from_config(path: str | Path, progress: bool = True):
    """Run (or resume) the loop a config describes; returns (LearningResult, plot path)."""
    from atomistic.learning.display import plot_learning_curve
    from atomistic.learning.loop import learn
    from atomistic.mlip.dataset import read_frames

    path = Path(path)
    cfg = load_learn_config(path)
    here = path.resolve().parent
    structures = [a for spec in cfg.structures for a in build_structure(spec, here)]
    test = read_frames(here / cfg.test) if cfg.test else None
    initial = read_frames(here / cfg.initial) if cfg.initial else None
    folder = here / cfg.folder
    result = learn(structures, reference_factory(cfg.reference), folder, cfg.settings,
                   test_frames=test, initial_frames=initial, progress=progress)
    plot = plot_learning_curve(result, folder / "learning_curve.png")
    return result, plot
