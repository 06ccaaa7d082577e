"""A committee of EMT potentials with perturbed parameters, for calibrating committee error bars.

``EMTCommittee(n_members, spread)`` is an ASE calculator whose ``members``
are real EMT calculators, each with its seven EMT parameters per element
multiplied by (1 + spread * N(0, 1)) factors. Its own predictions are the
member means (energy, forces, stress), as a committee of learned potentials
reports. It lets property workflows and their error-bar propagation be
tested and calibrated against plain EMT without a trained model.
"""
from __future__ import annotations

import numpy as np
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.emt import EMT


class PerturbedEMT(EMT):
    """EMT with its parameter table replaced by ``table`` (element -> 7-tuple as in ase.calculators.emt)."""

    def __init__(self, table: dict[str, tuple], **kwargs):
        super().__init__(**kwargs)
        self.table = dict(table)

    def initialize(self, atoms):
        import ase.calculators.emt as emt

        # EMT.initialize reads the module-level table; swap ours in only for this call
        saved = emt.parameters
        emt.parameters = {**saved, **self.table}
        try:
            super().initialize(atoms)
        finally:
            emt.parameters = saved


class EMTCommittee(Calculator):
    """Mean of ``n_members`` perturbed-EMT members; ``members`` exposes them (see atomistic.ensemble)."""

    implemented_properties = ["energy", "forces", "stress"]

    def __init__(self, n_members: int = 5, spread: float = 0.003, seed: int = 0,
                 elements: tuple[str, ...] = ("Al", "Cu", "Ag", "Au", "Ni", "Pd", "Pt"), **kwargs):
        from ase.calculators.emt import parameters

        super().__init__(**kwargs)
        rng = np.random.default_rng(seed)
        self.members = []
        for _ in range(n_members):
            table = {el: tuple(np.asarray(parameters[el]) * (1 + spread * rng.standard_normal(7)))
                     for el in elements}
            self.members.append(PerturbedEMT(table))

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        res = {"energy": [], "forces": [], "stress": []}
        for m in self.members:
            a = self.atoms.copy()
            a.calc = m
            res["energy"].append(a.get_potential_energy())
            res["forces"].append(a.get_forces())
            res["stress"].append(a.get_stress())
        self.results = {k: np.mean(v, axis=0) for k, v in res.items()}
        self.results["energy"] = float(self.results["energy"])
        self.results["free_energy"] = self.results["energy"]
