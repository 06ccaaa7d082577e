"""Surface energies of slabs, converged in thickness.

    gamma(n) = [E_slab(n) - N(n) e_bulk] / (2 A)

for a symmetric slab of n layers cut from the relaxed bulk along the Miller
plane (hkl) (``ase.build.surface``; one "layer" is one period of the
oriented cell, e.g. three close-packed planes for fcc(111)), N(n) atoms, two faces of area A, and
e_bulk the relaxed bulk energy per atom from the same calculator. Miller
indices refer to the conventional standard cell (spglib), so (100) means
the cube face whatever cell the bulk came in (``bulk('Cu')`` is primitive,
whose own (100) would be a close-packed plane). The slab's
ions are relaxed in a fixed cell (vacuum along z). n grows from
``layers[0]`` until two successive gamma differ by less than ``tol``; the
whole series is reported, and a slab that never converges within ``layers``
is a ``ConvergenceError`` that shows the series and asks for thicker slabs.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from ase import Atoms

from ..errors import ConvergenceError, InputError
from ..structures import checks_atoms

EV_PER_A2_IN_J_PER_M2 = 16.021766339999996  # 1 eV/A^2 = 1.602176634e-19 J / 1e-20 m^2


@dataclass
class SurfaceEnergy:
    """gamma (eV/Angstrom^2 and J/m^2) of one (hkl), with its thickness series.

    ``layers`` (k,) slab thicknesses tried, ``series`` (k,) gamma in eV/A^2
    for each; ``gamma`` is the last (converged) value; ``area`` A^2 of one face.
    """

    miller: tuple[int, int, int]
    gamma: float
    layers: list[int]
    series: list[float]
    area: float
    bulk_energy_per_atom: float
    tol: float
    n_atoms: list[int] = field(default_factory=list)

    @property
    def gamma_J_m2(self) -> float:
        return self.gamma * EV_PER_A2_IN_J_PER_M2

    def to_dict(self) -> dict:
        return {"miller": list(self.miller), "gamma_eV_per_A2": self.gamma,
                "gamma_J_per_m2": self.gamma_J_m2, "layers": self.layers,
                "series_eV_per_A2": self.series, "series_J_per_m2":
                [g * EV_PER_A2_IN_J_PER_M2 for g in self.series], "area_A2": self.area,
                "bulk_energy_per_atom_eV": self.bulk_energy_per_atom, "tol_eV_per_A2": self.tol,
                "n_atoms": self.n_atoms}


def _conventional(atoms: Atoms) -> Atoms:
    """The conventional standard cell of ``atoms`` (spglib), the cell Miller indices refer to."""
    import spglib

    cell = (np.array(atoms.cell), atoms.get_scaled_positions(), atoms.numbers)
    with warnings.catch_warnings():  # spglib 2.x warns about its own error-handling switch
        warnings.simplefilter("ignore", DeprecationWarning)
        std = spglib.standardize_cell(cell, to_primitive=False, no_idealize=False, symprec=1e-3)
    if std is None:
        return atoms.copy()
    lattice, frac, numbers = std
    return Atoms(numbers=numbers, cell=lattice, scaled_positions=frac, pbc=True)


@checks_atoms("bulk")
def surface_energy(bulk: Atoms, calc, miller: Sequence[int], layers: Sequence[int] = (1, 2, 3, 4, 5, 6),
                   vacuum: float = 8.0, tol: float = 0.01 / EV_PER_A2_IN_J_PER_M2,
                   relax: bool = True, fmax: float = 0.02, steps: int = 300,
                   progress: Callable[[str], None] | None = None) -> SurfaceEnergy:
    """Surface energy of ``bulk`` cut along ``miller`` with ``calc`` (see module doc).

    Args:
        bulk: the bulk crystal (any cell; it is relaxed first, ions and cell).
        calc: any ASE calculator.
        miller: (h, k, l).
        layers: slab thicknesses to try, in ``ase.build.surface`` layers, increasing.
        vacuum: Angstrom of vacuum on each side.
        tol: convergence threshold on successive gamma, eV/A^2 (default 0.01 J/m^2).
        relax: relax the slab ions (fixed cell).
    """
    from ase.build import surface

    from .relaxation import relax as relax_one
    from .relaxation import single_point

    miller = tuple(int(i) for i in miller)
    if len(miller) != 3 or miller == (0, 0, 0):
        raise InputError(f"miller = {miller}: expected three integers, not all zero")
    layers = [int(n) for n in layers]
    if len(layers) < 2 or any(b <= a for a, b in zip(layers, layers[1:])) or layers[0] < 1:
        raise InputError(f"layers = {layers}: expected at least two increasing thicknesses >= 1")
    say = progress or (lambda _msg: None)
    say(f"relaxing bulk {bulk.get_chemical_formula()}")
    bulk = _conventional(bulk)
    rb = relax_one(bulk, calc, name=f"bulk {bulk.get_chemical_formula()}", fmax=fmax / 10, steps=steps)
    e_bulk = rb.energy / len(rb.atoms)
    series, sizes = [], []
    area = float("nan")
    for n in layers:
        slab = surface(rb.atoms, miller, n, vacuum=vacuum)
        area = float(np.linalg.norm(np.cross(slab.cell[0], slab.cell[1])))
        name = f"slab {miller} x{n}"
        say(f"{name}: {len(slab)} atoms")
        e = (relax_one(slab, calc, name=name, fmax=fmax, steps=steps, cell=False).energy if relax
             else single_point(slab, calc, name=name))
        series.append((e - len(slab) * e_bulk) / (2 * area))
        sizes.append(len(slab))
        if len(series) >= 2 and abs(series[-1] - series[-2]) < tol:
            return SurfaceEnergy(miller=miller, gamma=series[-1], layers=layers[:len(series)],
                                 series=series, area=area, bulk_energy_per_atom=e_bulk, tol=tol,
                                 n_atoms=sizes)
    shown = ", ".join(f"{n}: {g * EV_PER_A2_IN_J_PER_M2:.4f}" for n, g in zip(layers, series))
    raise ConvergenceError(
        f"surface {miller}: gamma (J/m^2) by layers {{{shown}}} did not settle within "
        f"tol = {tol * EV_PER_A2_IN_J_PER_M2:.3g} J/m^2; pass thicker layers= (or a looser tol=)")
