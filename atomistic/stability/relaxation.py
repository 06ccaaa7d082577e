"""Relaxing named structures with any ASE calculator, failing loudly and by name.

``relax(atoms, calc, name=...)`` relaxes the ions (and, for periodic cells,
the cell through ASE's ``UnitCellFilter``, which reaches the same minimum as
``FrechetCellFilter`` and is about three times faster on small cells, whose
matrix logarithms dominate a Frechet step) with BFGS and returns a
``Relaxed`` record: the relaxed copy, its energy (eV) and the number of steps.
A structure that does not reach ``fmax`` in ``steps``, or whose energy comes
out non-finite, or whose calculator raises, is reported by its name with the
fix: raise ``steps``, loosen ``fmax``, check the starting geometry (overlapping
atoms are the usual cause), or pass ``relax=False`` to use it as given.
Stability workflows (hulls, screening, surfaces) all relax through here so a
bad structure is named the same way everywhere.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase import Atoms

from ..errors import CalculationFailed, ConvergenceError, InputError
from ..structures import check_atoms


@dataclass
class Relaxed:
    """A relaxed structure: ``atoms`` (no calculator attached), ``energy`` (eV), BFGS ``steps``."""

    name: str
    atoms: Atoms
    energy: float
    steps: int


def _fix(name: str) -> str:
    return (f"structure {name!r}: raise steps=, loosen fmax=, check the starting geometry "
            "(overlapping atoms are the usual cause), or pass relax=False to use it as given")


def relax(atoms: Atoms, calc, name: str | None = None, fmax: float = 0.02, steps: int = 300,
          cell: bool = True) -> Relaxed:
    """Relax ``atoms`` with ``calc`` (BFGS; the cell too when ``cell`` and fully periodic).

    Args:
        atoms: the starting structure (not modified).
        calc: any ASE calculator.
        name: how errors name the structure (default: its chemical formula).
        fmax: force threshold in eV/Angstrom (cell: the filter's generalised force).
        steps: most BFGS steps before ConvergenceError.
        cell: relax the cell of fully periodic structures as well.
    """
    from ase.optimize import BFGS

    name = name or atoms.get_chemical_formula()
    if not isinstance(atoms, Atoms) or len(atoms) == 0:
        raise InputError(f"structure {name!r}: expected a non-empty ase.Atoms, got {atoms!r}")
    check_atoms(atoms, f"structure {name!r}")   # finite, no overlapping atoms: named as below
    if fmax <= 0 or steps < 0:
        raise InputError(f"fmax = {fmax}, steps = {steps}: expected fmax > 0 and steps >= 0")
    work = atoms.copy()
    work.calc = calc
    target = work
    if cell and bool(np.all(work.pbc)):
        from ase.filters import UnitCellFilter

        target = UnitCellFilter(work)
    try:
        opt = BFGS(target, logfile=None)
        converged = opt.run(fmax=fmax, steps=steps)
        energy = float(work.get_potential_energy())
    except (InputError, ConvergenceError):
        raise
    except Exception as exc:  # engine failures come in every type; name the structure once
        raise CalculationFailed(f"{_fix(name)}; the calculator failed: "
                                f"{type(exc).__name__}: {exc}") from exc
    if not np.isfinite(energy):
        raise CalculationFailed(f"{_fix(name)}; the energy is {energy}")
    if not converged:
        f = float(np.sqrt((target.get_forces() ** 2).sum(axis=1).max()))
        raise ConvergenceError(f"{_fix(name)}; not relaxed to fmax = {fmax} eV/A in {steps} "
                               f"steps (max force still {f:.3g} eV/A)")
    work.calc = None
    return Relaxed(name=name, atoms=work, energy=energy, steps=int(opt.nsteps))


def single_point(atoms: Atoms, calc, name: str | None = None) -> float:
    """Energy (eV) of ``atoms`` as given, with the same by-name error as ``relax``."""
    name = name or atoms.get_chemical_formula()
    check_atoms(atoms, f"structure {name!r}")
    work = atoms.copy()
    work.calc = calc
    try:
        energy = float(work.get_potential_energy())
    except Exception as exc:  # as in relax: any engine failure, named once
        raise CalculationFailed(f"structure {name!r}: the calculator failed: "
                                f"{type(exc).__name__}: {exc}") from exc
    if not np.isfinite(energy):
        raise CalculationFailed(f"structure {name!r}: the energy is {energy}")
    return energy
