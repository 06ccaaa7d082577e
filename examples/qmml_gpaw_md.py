"""QM/ML molecular dynamics: a GPAW (LCAO) region inside a learned-potential environment.

Run:  .venv/bin/python examples/qmml_gpaw_md.py [MODEL]     (about 1-2 minutes on one core;
      MULTISCALE_FAST=1 runs 3 steps in seconds)

System: bulk Al (3x3x3 cubic cell, 108 atoms) at 300 K. One Al atom and whatever comes
within 2.6 A of it are treated with GPAW; its shell of neighbours (2.6 -> 3.1 A) is switched
smoothly (quintic) to the low level; everything else is the low level.

Low level: the trained MLIP (``atomistic.load_potential(MODEL)``) when a model file is given
(argument or the MULTISCALE_MLIP_MODEL variable) and exists; otherwise EMT, and the script
says so. Writes qmml_gpaw_md.png (weights, forces and energy vs time) and qmml_gpaw_md.traj
(each frame carries the region state in atoms.info["qmml_state"]).
"""
from __future__ import annotations

import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from ase import units  # noqa: E402
from ase.build import bulk  # noqa: E402
from ase.calculators.emt import EMT  # noqa: E402
from ase.io.trajectory import Trajectory  # noqa: E402
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution  # noqa: E402
from ase.md.verlet import VelocityVerlet  # noqa: E402
from gpaw import GPAW  # noqa: E402

from couplers import HybridCalculator  # noqa: E402
from couplers.regions import SphereRegion  # noqa: E402

FAST = os.environ.get("MULTISCALE_FAST") == "1"


def low_level():
    """The trained MLIP if a model file is available, else EMT (and say which)."""
    path = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("MULTISCALE_MLIP_MODEL")
    if path and os.path.exists(path):
        import atomistic

        print(f"low level: trained MLIP from {path}")
        return atomistic.load_potential(path)
    print("low level: EMT (no trained MLIP model given; pass its path as the first argument)")
    return EMT()


def main():
    atoms = bulk("Al", "fcc", a=4.05, cubic=True).repeat(3)
    MaxwellBoltzmannDistribution(atoms, temperature_K=600, rng=np.random.default_rng(0))
    high = GPAW(mode="lcao", basis="sz(dzp)", h=0.3, xc="LDA", txt=None,
                occupations={"name": "fermi-dirac", "width": 0.1})
    calc = HybridCalculator(high, low_level(), SphereRegion(2.6, 3.1, atoms=[0], hysteresis=0.2),
                            buffer=0.5, vacuum=3.0, mode="force")
    atoms.calc = calc
    dyn = VelocityVerlet(atoms, 2 * units.fs)
    traj = Trajectory("qmml_gpaw_md.traj", "w", atoms)
    steps = 3 if FAST else 15
    log = {"t": [], "w": [], "f": [], "epot": [], "etot": [], "t_high": [], "t_low": []}
    shell = None

    def record():
        nonlocal shell
        info = calc.step_info
        if shell is None:  # follow the atoms that start in the shell
            shell = np.flatnonzero((calc.weights > 0) & (calc.weights < 1))[:6]
        log["t"].append(dyn.get_time() / units.fs)
        log["w"].append(calc.weights[shell].copy())
        log["f"].append(np.linalg.norm(atoms.get_forces()[shell], axis=1))
        log["epot"].append(atoms.get_potential_energy())
        log["etot"].append(atoms.get_potential_energy() + atoms.get_kinetic_energy())
        log["t_high"].append(info["t_high"])
        log["t_low"].append(info["t_low"])
        traj.write()
        print(f"t = {log['t'][-1]:5.1f} fs  E_tot = {log['etot'][-1]:.4f} eV  "
              f"cluster {info['n_cluster']} atoms  high {info['t_high']:.2f} s  "
              f"low {info['t_low']:.3f} s", flush=True)

    atoms.get_forces()
    record()
    for _ in range(steps):
        dyn.run(1)
        record()
    traj.close()

    t = np.array(log["t"])
    fig, ax = plt.subplots(3, 1, figsize=(6, 8), sharex=True)
    ax[0].plot(t, np.array(log["w"]))
    ax[0].set_ylabel("weight w (shell atoms)")
    ax[1].plot(t, np.array(log["f"]))
    ax[1].set_ylabel("|F| shell atoms (eV/A)")
    ax[2].plot(t, np.array(log["etot"]) - log["etot"][0], label="E_kin + E (conserved estimate)")
    ax[2].plot(t, np.array(log["epot"]) - log["epot"][0], label="E (low + mixing work)")
    ax[2].set_ylabel("energy change (eV)")
    ax[2].set_xlabel("time (fs)")
    ax[2].legend(fontsize=8)
    fig.suptitle("GPAW region in a low-level environment (force mixing, quintic)")
    fig.tight_layout()
    fig.savefig("qmml_gpaw_md.png", dpi=100)
    print(f"mean time per step: high {np.mean(log['t_high']):.2f} s, low {np.mean(log['t_low']):.3f} s;"
          " wrote qmml_gpaw_md.png and qmml_gpaw_md.traj")


if __name__ == "__main__":
    main()
