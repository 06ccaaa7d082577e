"""Aluminium's properties from one calculator, with committee error bars.

Run:  .venv/bin/python examples/properties_al.py     (about 1 min; MULTISCALE_FAST=1: ~20 s)

A committee of five EMT potentials with slightly perturbed parameters stands
in for a learned-potential committee: every property below is computed by
each member too, and the spread is the error bar. Swap in any ASE calculator
(GPAW, atomistic.load_potential(...)) and the code is the same.
"""
import os

import numpy as np
from ase.build import bulk

from atomistic.properties.elastic import elastic_constants, eos_bulk_modulus, relax_cell
from atomistic.emt_committee import EMTCommittee
from atomistic.properties.free_energy import frenkel_ladd, harmonic_free_energy
from atomistic.properties.phonons import phonons
from atomistic.analysis.rdf import rdf
from atomistic.md.timestep import estimate_timestep

FAST = os.environ.get("MULTISCALE_FAST") == "1"


def main():
    calc = EMTCommittee(n_members=3 if FAST else 5, spread=0.003)
    al = relax_cell(bulk("Al", "fcc"), calc)

    el = elastic_constants(al, calc)
    eos = eos_bulk_modulus(al, calc, span=0.01)
    print("Elastic constants (GPa), committee mean ± member spread:")
    for name, (i, j) in {"C11": (0, 0), "C12": (0, 1), "C44": (3, 3)}.items():
        print(f"  {name} = {el.C[i, j]:7.2f} ± {el.C_spread[i, j]:.2f}")
    print(f"  B (VRH) = {el.moduli['K_VRH']:.2f} ± {el.moduli_spread['K_VRH']:.2f};  B (EOS) = {eos.B:.2f}")
    print(f"  Born stable: {el.stable}")

    ph = phonons(al, calc, supercell=(3, 3, 3))
    fx = ph.frequencies([0.5, 0, 0.5])[0]
    sx = ph.member_frequencies([0.5, 0, 0.5])[:, 0].std(axis=0, ddof=1)
    print("Phonons at X (THz):", ", ".join(f"{f:.2f} ± {s:.2f}" for f, s in zip(fx, sx)))
    fe = ph.free_energy([300], mesh=(12, 12, 12))
    print(f"Vibrational F(300 K) = {1e3 * fe['F'][0]:.2f} ± {1e3 * fe['std'][0]:.2f} meV/atom")

    ts = estimate_timestep(al, calc)
    print(f"Time step: Verlet bound {ts.dt_crit:.1f} fs, recommended {ts.dt_recommended:.1f} fs "
          f"(highest frequency {ts.f_max:.2f} THz, max over members)")

    cell = al.repeat((2, 2, 2)) if FAST else relax_cell(bulk("Al", "fcc", cubic=True), calc).repeat(2)
    fl = frenkel_ladd(cell, calc, 100, n_switch=100 if FAST else 1000, n_eq=30 if FAST else 300, n_repeats=2)
    h = harmonic_free_energy(cell, calc, 100)
    print(f"Frenkel-Ladd F(100 K) = {1e3 * fl.F:.2f} ± {1e3 * fl.F_err:.2f} meV/atom; "
          f"harmonic (same cell) {1e3 * h['F_classical']:.2f} meV/atom")

    # g(r) of the thermal crystal from the Frenkel-Ladd cell, Gaussian-rattled (a stand-in for MD frames)
    rng = np.random.default_rng(0)
    frames = []
    for _ in range(20):
        a = cell.copy()
        a.positions += rng.normal(0, 0.08, a.positions.shape)
        frames.append(a)
    g = rdf(frames, r_max=4.0, n_bins=60, n_blocks=5)
    n, n_err, r_cut = g.coordination()
    print(f"First shell: {n:.2f} ± {n_err:.2f} neighbours within {r_cut:.2f} A")


if __name__ == "__main__":
    main()
