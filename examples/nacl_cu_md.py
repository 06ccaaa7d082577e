"""MD of a water film with a Na+ ion on Cu(111), with the shipped GPAW-trained potential.

Run:  .venv/bin/python examples/nacl_cu_md.py [STEPS]   (default 2000 steps = 1 ps,
      about 1 min on 2 cores; MULTISCALE_FAST=1 runs 40 steps in seconds)

No training and no DFT: the committee in data/nacl_cu/potential.mlip.pt was trained
on the committed GPAW campaign (data/nacl_cu/README.md) and judged on held-out GPAW
frames (BENCHMARKS.md, section electrolyte_potential). It predicts atomic charges
(neutral per cell) beside energies and forces, so the charge density along the
surface normal, and phi(z) from it, come from the potential itself.

Writes nacl_cu_md.traj (every 20 steps, charges in the per-atom arrays),
nacl_cu_md.png (charge density and phi(z) across the film; the committee's
max force deviation vs time) and prints the mean charge of each element.
The committee's deviation is the warning light: above ~0.8 eV/A (the campaign's
trust_hi) the potential is outside what GPAW taught it; extend the dataset
(docs/electrolyte_potential.md) before trusting such a run.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
from ase import units
from ase.io.trajectory import Trajectory
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import thermalize_momenta

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FAST = os.environ.get("MULTISCALE_FAST") == "1"
POTENTIAL = ROOT / "data" / "nacl_cu" / "potential.mlip.pt"


def main():
    from atomistic import load_potential
    from atomistic.analysis.profiles import density_profile, potential_from_charge
    from atomistic.mlip.dataset import read_frames

    steps = int(sys.argv[1]) if len(sys.argv) > 1 else (40 if FAST else 2000)
    calc = load_potential(POTENTIAL)
    # start where the campaign's own MD went (its last Na-on-Cu frame), not from a freshly
    # inserted, unrelaxed cell: that one would heat by hundreds of K while it relaxes
    frames = read_frames(ROOT / "data" / "nacl_cu" / "campaign" / "dataset.extxyz")
    atoms = [a for a in frames if {11, 29} <= set(a.numbers) and 17 not in a.numbers][-1]
    atoms = atoms.copy()
    atoms.calc = calc
    thermalize_momenta(atoms, temperature_K=300.0, rng=np.random.default_rng(0))
    md = Langevin(atoms, 0.5 * units.fs, temperature_K=300.0, friction=0.01 / units.fs,
                  fixcm=False, rng=np.random.default_rng(1))
    every = 20
    frames, charges, devs = [], [], []
    traj = Trajectory("nacl_cu_md.traj", "w")

    def record():
        q = atoms.get_charges()
        charges.append(q)
        devs.append(calc.results["max_force_dev"])
        frames.append(atoms.get_positions(wrap=True))
        atoms.set_array("mlip_charges", q)
        traj.write(atoms)

    md.attach(record, interval=every)
    md.run(steps)
    traj.close()
    charges, frames = np.array(charges), np.array(frames)
    symbols = np.array(atoms.get_chemical_symbols())
    for el in ("Cu", "O", "H", "Na"):
        print(f"mean charge {el:2s}: {charges[:, symbols == el].mean():+.3f} e")
    print(f"max force deviation: mean {np.mean(devs):.3f}, max {np.max(devs):.3f} eV/A "
          f"over {len(devs)} frames")
    print(f"temperature at the end: {atoms.get_temperature():.0f} K")

    # charge density and phi(z) across the film, from the potential's own charges
    cell = atoms.cell.array
    area = float(np.linalg.norm(np.cross(cell[0], cell[1]))) * 1e-20  # m^2
    # the top Cu layer: the one below the widest gap between Cu planes (the film), found
    # around the periodic cell, since the slab may straddle its boundary
    cu_z = np.sort(atoms.get_positions(wrap=True)[symbols == "Cu", 2])
    gaps = np.diff(np.append(cu_z, cu_z[0] + cell[2, 2]))
    top = cu_z[int(np.argmax(gaps))]
    edges = np.linspace(top - 1.0, top - 1.0 + cell[2, 2], 81) * 1e-10
    z = frames.copy()
    z[:, :, 2] = np.where(z[:, :, 2] < top - 1.0, z[:, :, 2] + cell[2, 2], z[:, :, 2])
    prof = density_profile(z * 1e-10, 2, edges, area, weights=charges.mean(0) * units._e,
                           n_blocks=min(5, len(frames)))
    phi = potential_from_charge(prof.z, prof.values, epsilon_r=1.0)
    # a periodic cell: the field at the start is whatever makes phi periodic
    # (phi(z0 + c) = phi(z0)), not zero; phi is linear in it
    phi.phi = phi.phi - phi.phi[-1] * (phi.z - phi.z[0]) / (phi.z[-1] - phi.z[0])
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(13, 3.6))
    ax[0].plot(prof.z * 1e10 - top, prof.values / units._e * 1e-30, lw=1)
    ax[0].set(xlabel="z - top Cu layer (A)", ylabel="charge density (e/A^3)",
              title="atomic charges of the potential")
    ax[1].plot(phi.z * 1e10 - top, phi.phi, lw=1)
    ax[1].set(xlabel="z - top Cu layer (A)", ylabel="phi (V)", title="phi(z), vacuum permittivity")
    ax[2].plot(np.arange(len(devs)) * every * 0.5e-3, devs, lw=1)
    ax[2].axhline(0.8, color="r", ls="--", lw=0.8, label="campaign trust_hi")
    ax[2].set(xlabel="t (ps)", ylabel="max force deviation (eV/A)", title="committee spread")
    ax[2].legend()
    fig.tight_layout()
    fig.savefig("nacl_cu_md.png", dpi=120)
    print("wrote nacl_cu_md.traj, nacl_cu_md.png")


if __name__ == "__main__":
    main()
