"""Built-in reaction endpoints: structures to run a reaction path between.

``adatom_hop(adatom, substrate)`` builds the classic test case, an adatom
hopping between neighbouring hollow sites of an fcc(100) slab (bottom layer
fixed), both endpoints relaxed with the given calculator (default EMT).
Units: Angstrom, eV/Angstrom (``fmax``).
"""
from __future__ import annotations

from ..errors import InputError


def adatom_hop(adatom: str = "Au", substrate: str = "Al", size=(2, 2, 3), calc=None,
               fmax: float = 0.01):
    """(initial, final): ``adatom`` in a hollow of ``substrate``(100) and in the next hollow along x.

    calc: relaxes both endpoints (default EMT; a committee relaxes on its mean).
    """
    from ase.build import add_adsorbate, fcc100
    from ase.calculators.emt import EMT
    from ase.constraints import FixAtoms
    from ase.optimize import BFGS

    try:
        slab = fcc100(substrate, size=tuple(size))
    except Exception as exc:
        raise InputError(f"substrate = {substrate!r}: not an fcc metal ASE can build ({exc})") from None
    add_adsorbate(slab, adatom, 1.7, "hollow")
    slab.center(axis=2, vacuum=4.0)
    slab.set_constraint(FixAtoms(mask=[a.tag > 1 for a in slab]))
    ends = []
    for shift in (0.0, 0.5):
        a = slab.copy()
        a[-1].x += shift * a.cell[0, 0]
        a.calc = calc if calc is not None else EMT()
        BFGS(a, logfile=None).run(fmax=fmax, steps=500)
        a.calc = None
        a.info.pop("adsorbate_info", None)  # a dict of arrays that extxyz cannot store
        ends.append(a)
    return ends[0], ends[1]
