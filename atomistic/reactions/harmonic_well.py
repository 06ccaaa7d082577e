"""``HarmonicWell``: an ASE calculator for E = k/2 |r - r0|^2 + offset, the diabatic state of Marcus theory.

Two wells with the same spring constant and displaced minima (``r0_R``,
``r0_P``) are the displaced-harmonic-oscillator model in which linear-response
Marcus theory is exact: reorganisation energy lambda = k/2 |r0_P - r0_R|^2 and
reaction free energy dG = offset_P - offset_R. It is the analytic oracle for
:mod:`atomistic.reactions.marcus` and the energy-gap sampler.
"""
from __future__ import annotations

import numpy as np
from ase.calculators.calculator import Calculator, all_changes

from ..errors import InputError


class HarmonicWell(Calculator):
    """E = k/2 sum_i |r_i - r0_i|^2 + offset.

    Args:
        minimum: (N, 3) positions of the minimum (Angstrom).
        k: spring constant (eV/Angstrom^2), > 0.
        offset: energy at the minimum (eV).
    """

    implemented_properties = ("energy", "free_energy", "forces")

    def __init__(self, minimum, k: float = 1.0, offset: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        if k <= 0:
            raise InputError(f"k = {k}; expected a positive spring constant (eV/A^2)")
        self.minimum = np.array(minimum, float)
        self.k = float(k)
        self.offset = float(offset)

    def check_state(self, atoms, tol=1e-15):
        # only positions matter here; ASE's full comparison (cell, numbers, magmoms, ...)
        # and the Atoms copy behind it would dominate an MD step
        last = getattr(self, "_last_positions", None)
        if last is None or last.shape != atoms.positions.shape or not np.array_equal(
                last, atoms.positions):
            return ["positions"]
        return []

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        atoms = atoms if atoms is not None else self.atoms
        if atoms.positions.shape != self.minimum.shape:
            raise InputError(f"atoms: {len(atoms)} atoms but the well's minimum has "
                             f"{len(self.minimum)}; expected the same")
        self._last_positions = atoms.positions.copy()
        d = atoms.positions - self.minimum
        e = 0.5 * self.k * float((d * d).sum()) + self.offset
        self.results = {"energy": e, "free_energy": e, "forces": -self.k * d}
