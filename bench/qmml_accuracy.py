"""Accuracy of HybridCalculator against the full high-level calculation, vs buffer width.

Run:  .venv/bin/python bench/qmml_accuracy.py      (about 10 minutes on one free core)

Part 1 (EMT high, Lennard-Jones low): Cu fcc 8x8x8 cubic cell (2048 atoms, rattled
0.05 A, periodic), region: sphere 1.0 -> 2.0 A around atom 0. Core = atoms with weight 1.
Error = max |F_hybrid - F_EMT(full system)| over core force components. EMT's forces
reach 2 x its cutoff, so a buffer of 2 x cutoff should make the error vanish.

Part 2 (GPAW LCAO high, EMT low; the full-GPAW reference is the whole finite system;
error = RMS over core force components). Both systems are placed on GPAW's grid (box of 4k
spacings, shifted by whole spacings) and the hybrid gets ``grid_spacing`` = GPAW's h, so the
cluster sees the same grid as the reference and the error measured is the cut, not the
egg-box effect:

(a) a 55-atom Al fcc nanoparticle (rattled 0.05 A), core = the central atom (sphere 0.5 ->
    1.0 A); the egg-box floor is measured by translating the full particle;
(b) the standard QM/MM test: an all-trans alkane chain (C12H26, rattled 0.05 A), core = the
    central CH2 (sphere 1.2 -> 1.8 A around the central C), C-C bonds cut by the cluster capped
    with H. One extra row repeats a buffer with the box following the cluster (no alignment).
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.calculators.lj import LennardJones

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._record import markdown_table, record  # noqa: E402
from couplers import HybridCalculator  # noqa: E402
from couplers.regions import SphereRegion  # noqa: E402

FAST = os.environ.get("MULTISCALE_FAST") == "1"


def emt_part():
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(8)
    atoms.rattle(0.05, seed=6)
    ref = atoms.copy()
    ref.calc = EMT()
    f_ref = ref.get_forces()
    cutoff = ref.calc.rc_list
    core = SphereRegion(1.0, 2.0, atoms=[0]).distances(atoms) < 1.0
    rows, errors = [], []
    for buffer in sorted((1.0, 2.0, 4.0, cutoff, 8.0, 10.0, 2 * cutoff)):
        atoms.calc = HybridCalculator(EMT(), LennardJones(epsilon=0.4093, sigma=2.338, rc=5.5,
                                                          ro=4.5, smooth=True),
                                      SphereRegion(1.0, 2.0, atoms=[0]), buffer=buffer)
        err = np.max(np.abs(atoms.get_forces()[core] - f_ref[core]))
        errors.append(err)
        rows.append([f"{buffer:.2f}", f"{buffer / cutoff:.2f}", atoms.calc.step_info["n_cluster"],
                     f"{err:.2e}"])
        print(rows[-1], flush=True)
    # below 1e-12 eV/A the error is summation rounding, not buffer truncation
    mono = all(b < a or max(a, b) < 1e-12 for a, b in zip(errors, errors[1:]))
    return rows, errors, mono, cutoff


def on_grid(atoms, h, vacuum):
    """Shift ``atoms`` by whole grid spacings and give it a box of 4k spacings (GPAW's grid)."""
    atoms = atoms.copy()
    lo = atoms.positions.min(axis=0) - vacuum
    atoms.positions -= np.floor(lo / h) * h
    atoms.cell = np.diag(np.ceil((atoms.positions.max(axis=0) + vacuum) / (4 * h)) * 4 * h)
    atoms.pbc = False
    return atoms


def alkane(n):
    """All-trans C_nH_(2n+2): C-C 1.53 A, C-C-C 112 deg, C-H 1.09 A."""
    from ase import Atoms

    dx, dy = 1.53 * np.sin(np.radians(56)), 1.53 * np.cos(np.radians(56)) / 2
    ch = np.radians(54.75)
    pos, sym = [], []
    for i in range(n):
        s = 1 if i % 2 else -1
        c = np.array([i * dx, s * dy, 0.0])
        pos.append(c)
        sym.append("C")
        for z in (1, -1):
            pos.append(c + 1.09 * np.array([0.0, s * np.cos(ch), z * np.sin(ch)]))
            sym.append("H")
        if i in (0, n - 1):
            pos.append(c + 1.09 * np.array([-1.0 if i == 0 else 1.0, 0.0, 0.0]))
            sym.append("H")
    return Atoms(sym, positions=pos)


def compare(system, dft, region, buffers, vacuum, h, caps=False, unaligned=()):
    """Core force RMS error (eV/A) of the hybrid vs the full calculation, per buffer."""
    t0 = time.perf_counter()
    ref = system.copy()
    ref.calc = dft()
    f_ref = ref.get_forces()
    rows = [["full GPAW", "-", len(system), "0", f"{time.perf_counter() - t0:.1f}"]]
    core = region().distances(system) < region().r_inner
    rms = {}
    cases = [(b, True) for b in buffers] + [(b, False) for b in unaligned]
    for buffer, aligned in cases:
        a = system.copy()
        a.calc = HybridCalculator(dft(), EMT(), region(), buffer=buffer, vacuum=vacuum,
                                  hydrogen_caps=caps, grid_spacing=h if aligned else None)
        t0 = time.perf_counter()
        f = a.get_forces()
        err = float(np.sqrt(np.mean((f[core] - f_ref[core]) ** 2)))
        if aligned:
            rms[buffer] = err
        rows.append([f"buffer {buffer} A", "yes" if aligned else "no (box follows the cluster)",
                     a.calc.step_info["n_cluster"], f"{err:.4f}", f"{time.perf_counter() - t0:.1f}"])
        print(rows[-1], flush=True)
    return rows, rms, int(core.sum()), f_ref, core


def gpaw_part():
    from gpaw import GPAW

    # (a) a 55-atom Al particle, core = its central atom
    h = 0.3
    bulk_al = bulk("Al", "fcc", a=4.05, cubic=True).repeat(5)
    centre = bulk_al.positions[np.argmin(np.linalg.norm(bulk_al.positions - bulk_al.cell.sum(0) / 2,
                                                        axis=1))]
    particle = bulk_al[np.linalg.norm(bulk_al.positions - centre, axis=1) < 6.0]
    particle.rattle(0.05, seed=9)
    particle = on_grid(particle, h, 3.0)
    mid = int(np.argmin(np.linalg.norm(particle.positions - particle.positions.mean(0), axis=1)))

    def dft_al():
        return GPAW(mode="lcao", basis="sz(dzp)", h=h, xc="LDA", txt=None,
                    occupations={"name": "fermi-dirac", "width": 0.1})

    al_rows, al_rms, al_core, f_ref, core = compare(
        particle, dft_al, lambda: SphereRegion(0.5, 1.0, atoms=[mid]),
        (3.0,) if FAST else (3.0, 4.5), 3.0, h)
    eggbox = float("nan")
    if not FAST:
        # the egg-box floor: the same particle translated by a fraction of a grid spacing
        moved = particle.copy()
        moved.positions += [0.11, 0.07, 0.13]
        moved.calc = dft_al()
        eggbox = float(np.sqrt(np.mean((moved.get_forces()[core] - f_ref[core]) ** 2)))

    # (b) an alkane chain cut with hydrogen caps, core = its central CH2
    h = 0.2
    chain = alkane(8 if FAST else 12)
    chain.rattle(0.05, seed=1)
    chain = on_grid(chain, h, 4.0)
    ic = int(np.argmin(np.linalg.norm(chain.positions - chain.positions.mean(0), axis=1)
                       + 100.0 * (chain.numbers != 6)))

    def dft_ch():
        return GPAW(mode="lcao", basis="dzp", h=h, xc="PBE", txt=None)

    ch_rows, ch_rms, ch_core, _, _ = compare(
        chain, dft_ch, lambda: SphereRegion(1.2, 1.8, atoms=[ic]),
        (2.0,) if FAST else (2.0, 3.0, 4.0), 4.0, h, caps=True,
        unaligned=() if FAST else (3.0,))
    return {"al": (al_rows, al_rms, al_core, len(particle), eggbox),
            "ch": (ch_rows, ch_rms, ch_core, len(chain), chain.get_chemical_formula())}


def main():
    rows, errors, mono, cutoff = emt_part()
    t1 = markdown_table(["buffer (A)", "buffer / EMT cutoff", "cluster atoms",
                         "max core force error (eV/A)"], rows)
    s1 = (f"\nEMT cutoff {cutoff:.3f} A. Error falls monotonically: {'yes (met)' if mono else 'no (missed)'}; "
          f"at buffer = 2 x cutoff: {errors[-1]:.1e} eV/A vs target < 1e-6 "
          f"({'met' if errors[-1] < 1e-6 else 'missed'}).\n")
    print(t1 + s1)
    g = gpaw_part()
    heads = ["calculation", "cluster on the full system's grid", "atoms in DFT",
             "core force RMS error vs full GPAW (eV/A)", "wall time (s)"]
    al_rows, al_rms, al_core, npart, eggbox = g["al"]
    ch_rows, ch_rms, ch_core, nchain, formula = g["ch"]
    t2 = markdown_table(heads, al_rows)
    t3 = markdown_table(heads, ch_rows)
    best_al, best_ch = min(al_rms.values()), min(ch_rms.values())
    ch_b = sorted(ch_rms)
    ch_mono = all(ch_rms[b] < ch_rms[a] for a, b in zip(ch_b, ch_b[1:]))
    s2 = (f"\n{npart}-atom Al particle, {al_core} core atom, GPAW LCAO sz(dzp) LDA h=0.3 A, "
          f"Fermi-Dirac 0.1 eV, low = EMT. Best core RMS error {best_al:.3f} eV/A vs target < 0.05 "
          f"({'met' if best_al < 0.05 else 'missed'}). Egg-box floor (the full particle moved by "
          f"(0.11, 0.07, 0.13) A): {eggbox:.3f} eV/A. The cluster shares the full particle's grid "
          "here, so the error is the cut itself: a small metal cluster has no electronic locality "
          "at this size (quantum-size/shell effects: 14 and 43 atoms are not pieces of the 55-atom "
          "electronic structure), and a larger buffer need not be closer.\n")
    s3 = (f"\n{formula} chain ({nchain} atoms), C-C bonds cut by the cluster capped with H, "
          f"{ch_core} core atoms (central CH2), GPAW LCAO dzp PBE h=0.2 A, low = EMT. Error falls "
          f"monotonically with the buffer: {'yes' if ch_mono else 'no'}; best core RMS error "
          f"{best_ch:.4f} eV/A vs target < 0.05 ({'met' if best_ch < 0.05 else 'missed'}). The "
          "unaligned row shows what the grid alignment (``grid_spacing``) removes.\n")
    print(t2 + s2 + t3 + s3)
    if not FAST:
        record("qmml_accuracy", "python bench/qmml_accuracy.py",
               "### EMT high, Lennard-Jones low\n\n" + t1 + "\n" + s1 +
               "\n### GPAW high, EMT low: 55-atom Al particle\n\n" + t2 + "\n" + s2 +
               "\n### GPAW high, EMT low: alkane with hydrogen caps\n\n" + t3 + "\n" + s3)


if __name__ == "__main__":
    main()
