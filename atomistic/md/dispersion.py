"""Grimme's D3 dispersion on top of any ASE calculator: E = E_base + E_D3.

``D3(base, functional="PBE", damping="d3bj")`` adds the D3 energy, forces and (where the
base gives one) stress of simple-dftd3, the reference implementation by Grimme's group
(PyPI ``dftd3``, in the ``dft`` extra), to what ``base`` computes. Every other result of
the base stays as it was: a learned committee's ``max_force_dev`` and ``charges``, so the
trust guards of ``atomistic.md`` and ``UniformField`` work through the wrapper.

Why a wrapper and not ``ase.calculators.mixing.SumCalculator``: a sum keeps only the
properties every member implements, and the committee's uncertainty would be lost.

D3 depends only on the positions (not on the density), so it can be added to a plain-DFT
potential at run time, as here, or to stored DFT labels afterwards. In liquid water it is
a small term (BENCHMARKS.md ``water_reference``: about 8 meV/A per force component over the
NaCl(aq) campaign's bulk frames, under 1 % of the GPAW forces).
"""
from __future__ import annotations

import numpy as np
from ase.calculators.calculator import Calculator, all_changes

from .._engines import import_engine
from ..errors import InputError

# simple-dftd3's damping names -> its parameter classes (dftd3.interface)
DAMPINGS = {"d3bj": "RationalDampingParam", "d3zero": "ZeroDampingParam",
            "d3bjm": "ModifiedRationalDampingParam", "d3zerom": "ModifiedZeroDampingParam",
            "d3op": "OptimizedPowerDampingParam"}


class D3(Calculator):
    """``base`` plus D3 dispersion for ``functional`` with ``damping`` (simple-dftd3 names:
    ``d3bj`` Becke-Johnson, ``d3zero`` zero damping, ...), with the published parameters
    (three-body term included)."""

    def __init__(self, base, functional: str = "PBE", damping: str = "d3bj", **kwargs):
        super().__init__(**kwargs)
        if damping not in DAMPINGS:
            raise InputError(f"damping: {damping!r}; expected one of {list(DAMPINGS)}")
        try:   # simple-dftd3 looks its table up here: an unknown functional fails now
            getattr(import_engine("dftd3.interface"), DAMPINGS[damping])(method=functional)
        except RuntimeError as exc:
            raise InputError(f"functional: {functional!r}: simple-dftd3 has no {damping} "
                             f"parameters for it ({exc})") from None
        self.base = base
        self.d3 = import_engine("dftd3.ase").DFTD3(method=functional, damping=damping)
        self.functional, self.damping = functional, damping
        props = set(getattr(base, "implemented_properties", ())) | {"energy", "forces"}
        self.implemented_properties = tuple(props | {"dispersion_energy"})

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        wanted = (set(properties) - {"dispersion_energy"}) | {"energy", "forces"}
        self.base.calculate(self.atoms, list(wanted), system_changes)
        self.results = dict(self.base.results)
        disp = self.atoms.copy()
        disp.calc = self.d3
        e = disp.get_potential_energy()
        self.results["energy"] = self.results["energy"] + e
        if "free_energy" in self.results:
            self.results["free_energy"] = self.results["free_energy"] + e
        self.results["forces"] = np.asarray(self.results["forces"]) + disp.get_forces()
        if "stress" in self.results:
            self.results["stress"] = np.asarray(self.results["stress"]) + disp.get_stress()
        self.results["dispersion_energy"] = e
