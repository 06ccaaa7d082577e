"""Adsorption energies on named surface sites.

    E_ads(site) = E(slab + adsorbate at site) - E(slab) - E(adsorbate)

all relaxed with the same calculator (negative: binding). The slab is one
of ASE's builders' slabs (``fcc111``, ``fcc100``, ``bcc110``, ...), whose
``info["adsorbate_info"]["sites"]`` names its sites (ontop, bridge, fcc,
hcp, hollow, ...); ``ase.build.add_adsorbate`` places the adsorbate at
``height`` Angstrom above the site. The bottom ``fix_layers`` layers are held
at bulk positions (the slab's far side stands for the bulk); everything else
relaxes. The adsorbate reference is the isolated adsorbate (a free atom or
molecule in a box) unless ``reference_energy`` (eV) is given, e.g. half an
O2 molecule's energy for O.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from ase import Atoms

from ..errors import InputError


@dataclass
class AdsorptionEnergy:
    """E_ads (eV) per site name, with the energies that make it up (eV)."""

    adsorbate: str
    energies: dict[str, float]  # site -> E_ads, eV
    slab_energy: float
    reference_energy: float
    heights: dict[str, float]  # site -> relaxed adsorbate height above the top layer, Angstrom

    @property
    def best_site(self) -> str:
        return min(self.energies, key=self.energies.get)

    def to_dict(self) -> dict:
        return {"adsorbate": self.adsorbate, "E_ads_eV": self.energies, "best_site": self.best_site,
                "slab_energy_eV": self.slab_energy, "reference_energy_eV": self.reference_energy,
                "height_A": self.heights}


def _layer_tags(slab: Atoms) -> np.ndarray:
    """Layer index of every atom, 0 = bottom (by z, atoms within 0.3 A share a layer)."""
    z = slab.positions[:, 2]
    levels: list[float] = []
    for zi in np.sort(z):
        if not levels or zi - levels[-1] > 0.3:
            levels.append(zi)
    return np.array([int(np.argmin(np.abs(np.array(levels) - zi))) for zi in z])


def adsorption_energies(slab: Atoms, adsorbate: str | Atoms, calc, sites: Sequence[str] | None = None,
                        height: float = 1.8, fix_layers: int = 1, reference_energy: float | None = None,
                        fmax: float = 0.02, steps: int = 300,
                        progress: Callable[[str], None] | None = None) -> AdsorptionEnergy:
    """E_ads of ``adsorbate`` on each of ``sites`` of ``slab`` (default: every named site).

    Args:
        slab: an ASE-built slab carrying ``info['adsorbate_info']``.
        adsorbate: a chemical symbol or a molecule (ase.Atoms).
        calc: any ASE calculator.
        height: starting height above the site, Angstrom.
        fix_layers: bottom layers held fixed.
        reference_energy: E(adsorbate) in eV; default the relaxed isolated adsorbate.
    """
    from ase.build import add_adsorbate
    from ase.constraints import FixAtoms

    from .relaxation import relax

    info = slab.info.get("adsorbate_info", {}).get("sites")
    if not info:
        raise InputError("slab: no info['adsorbate_info']['sites']; build it with ase.build "
                         "(fcc111, fcc100, bcc110, hcp0001, ...), which names its sites")
    sites = list(info) if sites is None else list(sites)
    unknown = [s for s in sites if s not in info]
    if unknown:
        raise InputError(f"sites: {unknown} not on this slab; its sites are {sorted(info)}")
    say = progress or (lambda _msg: None)
    tags = _layer_tags(slab)
    base = slab.copy()
    base.set_constraint(FixAtoms(mask=tags < fix_layers))
    say("relaxing the clean slab")
    e_slab = relax(base, calc, name="clean slab", fmax=fmax, steps=steps, cell=False).energy
    mol = Atoms(adsorbate) if isinstance(adsorbate, str) else adsorbate.copy()
    label = adsorbate if isinstance(adsorbate, str) else adsorbate.get_chemical_formula()
    if reference_energy is None:
        free = mol.copy()
        free.center(vacuum=6.0)
        free.pbc = False
        say(f"relaxing the isolated {label}")
        e_ref = relax(free, calc, name=f"isolated {label}", fmax=fmax, steps=steps, cell=False).energy
    else:
        e_ref = float(reference_energy)
    z_top = slab.positions[tags == tags.max(), 2].mean()
    energies, heights = {}, {}
    for site in sites:
        a = base.copy()
        add_adsorbate(a, mol, height, position=site)
        say(f"relaxing {label} at {site}")
        r = relax(a, calc, name=f"{label} at {site}", fmax=fmax, steps=steps, cell=False)
        energies[site] = r.energy - e_slab - e_ref
        heights[site] = float(r.atoms.positions[len(slab):, 2].min() - z_top)
    return AdsorptionEnergy(adsorbate=label, energies=energies, slab_energy=e_slab,
                            reference_energy=e_ref, heights=heights)
