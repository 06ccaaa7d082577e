"""Free energies: TI between two harmonic spring models, and Frenkel-Ladd for EMT Al at 100 K.

Run:  .venv/bin/python bench/properties_free_energy.py      (about 4 min on one core)

1. Switching between two Einstein crystals (k = 1 and 3 eV/A^2, 32 Al atoms,
   300 K): the exact classical difference is (3/2) kT ln(k1/k0) per atom.
2. Frenkel-Ladd: EMT Al, 2x2x2 conventional cell (32 atoms) at its 0 K
   lattice constant, 100 K, centre of mass fixed. Reference: the classical
   harmonic free energy of the same cell (its 3N-3 normal modes: the phonons
   commensurate with the cell), i.e. the quasi-harmonic phonon result at the
   volume simulated; classical MD can only be compared with the classical
   harmonic value. Phonopy's values on a dense mesh (classical and quantum)
   are shown for scale: they differ from the 32-atom cell by finite-size terms
   and (quantum) zero-point energy, neither of which is a TI error.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ase import units  # noqa: E402
from ase.build import bulk  # noqa: E402
from ase.calculators.emt import EMT  # noqa: E402

from atomistic.properties.elastic import relax_cell  # noqa: E402
from atomistic.properties.free_energy import EinsteinCrystal, frenkel_ladd, harmonic_free_energy, switch_free_energy  # noqa: E402
from atomistic.properties.phonons import phonons  # noqa: E402
from bench._record import markdown_table, record  # noqa: E402

FAST = os.environ.get("MULTISCALE_FAST") == "1"


def main():
    al = relax_cell(bulk("Al", "fcc", cubic=True), EMT())
    cell = al.repeat(2)
    rows = []

    T = 300.0
    t0 = time.perf_counter()
    sw = switch_free_energy(cell, EinsteinCrystal(cell.positions, 1.0), EinsteinCrystal(cell.positions, 3.0), T,
                            n_switch=400 if FAST else 2000, n_eq=100 if FAST else 400, n_repeats=4, seed=3)
    t_sw = time.perf_counter() - t0
    exact = 1.5 * units.kB * T * np.log(3.0)
    err = sw.dF_per_atom - exact
    rows.append(["TI Einstein k=1 → k=3 eV/Å², 300 K (meV/atom)",
                 f"{1e3 * sw.dF_per_atom:.3f} ± {1e3 * sw.dF_err / sw.n_atoms:.3f}", f"{1e3 * exact:.3f} (analytic)",
                 f"{1e3 * err:+.3f}", "≤ 1", "met" if abs(err) <= 1e-3 else "missed", f"{t_sw:.0f}"])

    T = 100.0
    t0 = time.perf_counter()
    fl = frenkel_ladd(cell, EMT(), T, n_switch=300 if FAST else 1500, n_eq=100 if FAST else 400, n_repeats=4, seed=5)
    t_fl = time.perf_counter() - t0
    t0 = time.perf_counter()
    h = harmonic_free_energy(cell, EMT(), T)
    t_h = time.perf_counter() - t0
    d = fl.F - h["F_classical"]
    rows.append(["Frenkel–Ladd EMT Al, 100 K (meV/atom)", f"{1e3 * fl.F:.3f} ± {1e3 * fl.F_err:.3f}",
                 f"{1e3 * h['F_classical']:.3f} (harmonic, same cell)", f"{1e3 * d:+.3f}", "≤ 2",
                 "met" if abs(d) <= 2e-3 else "missed", f"{t_fl:.0f} (harmonic {t_h:.1f})"])
    ph = phonons(relax_cell(bulk("Al", "fcc"), EMT()), EMT(), supercell=(4, 4, 4))
    f_cl = ph.free_energy([T], mesh=(24, 24, 24), classical=True)["F"][0] + h["E0"]
    f_q = ph.free_energy([T], mesh=(24, 24, 24))["F"][0] + h["E0"]
    body = markdown_table(["check", "ours", "reference", "difference", "target", "status", "wall s"], rows)
    body += (f"\n\nFrenkel–Ladd details: spring k = {fl.k:.3f} eV/Å² (self force constant), Einstein reference "
             f"{1e3 * fl.F_einstein:.3f} meV/atom, switching dissipation {1e3 * fl.switch.dissipation / 32:.3f} "
             f"meV/atom, W_f = {np.round(fl.switch.W_forward, 4).tolist()} eV, "
             f"W_b = {np.round(fl.switch.W_backward, 4).tolist()} eV.\n"
             f"For scale (not the target): phonopy 24³ mesh, same static energy: classical {1e3 * f_cl:.3f}, "
             f"quantum {1e3 * f_q:.3f} meV/atom (zero-point motion is absent from classical MD).\n")
    print(body)
    if not FAST:
        record("properties: free energies by thermodynamic integration", "python bench/properties_free_energy.py",
               body)


if __name__ == "__main__":
    main()
