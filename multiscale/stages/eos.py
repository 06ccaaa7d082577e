"""Stage ``eos``: equilibrium lattice constant and bulk modulus of cubic metals.

One independent energy-volume scan per element (run through the executor,
so in parallel under Dask), fitted with ASE's equation-of-state fit.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..config import StageParams, stage_kind


class EOSParams(StageParams):
    elements: list[str] = Field(min_length=1, description="chemical symbols, e.g. ['Cu', 'Al']")
    structure: Literal["fcc", "bcc", "sc"] = "fcc"
    calculator: Literal["emt"] = "emt"
    points: int = Field(default=7, ge=5, le=41, description="volumes in the scan")
    strain: float = Field(default=0.03, gt=0, le=0.2, description="max linear strain of the scan")


def _scan(task: dict) -> dict:
    import numpy as np
    from ase.build import bulk
    from ase.calculators.emt import EMT
    from ase.eos import EquationOfState
    from ase.units import GPa

    # cubic=True: the conventional cell, so a0 = (V0 per atom * atoms in it)^(1/3)
    atoms0 = bulk(task["element"], task["structure"], cubic=True)
    volumes, energies = [], []
    for s in np.linspace(1 - task["strain"], 1 + task["strain"], task["points"]):
        atoms = atoms0.copy()
        atoms.set_cell(atoms0.cell * s, scale_atoms=True)
        atoms.calc = EMT()
        volumes.append(atoms.get_volume() / len(atoms))
        energies.append(atoms.get_potential_energy() / len(atoms))
    v0, e0, b = EquationOfState(volumes, energies, eos="birchmurnaghan").fit()
    return {"element": task["element"], "a0_A": float((v0 * len(atoms0)) ** (1 / 3)),
            "B_GPa": float(b / GPa), "E0_eV_per_atom": float(e0),
            "volumes": volumes, "energies": energies}


@stage_kind("eos", EOSParams)
def run(ctx) -> dict:
    p = ctx.params
    tasks = [{"element": el, "structure": p.structure, "points": p.points, "strain": p.strain}
             for el in p.elements]
    fits = ctx.executor.map(_scan, tasks, desc="EOS scans")
    return {"fits": fits,
            "headline": {f"{f['element']} a0, B": f"{f['a0_A']:.4f} A, {f['B_GPa']:.1f} GPa"
                         for f in fits}}
