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

import numpy as np
from ase import units
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.io.trajectory import Trajectory
from ase.md.velocitydistribution import thermalize_momenta
from ase.md.verlet import VelocityVerlet
from gpaw import GPAW

from couplers import HybridCalculator
from couplers.qmml_trace import HybridTrace
from couplers.regions import SphereRegion

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
    thermalize_momenta(atoms, 600, rng=np.random.default_rng(0))
    # symmetry off: the cluster found symmetric at step 0 (a perfect lattice) is not later
    high = GPAW(mode="lcao", basis="sz(dzp)", h=0.3, xc="LDA", txt=None, symmetry="off",
                occupations={"name": "fermi-dirac", "width": 0.1})
    calc = HybridCalculator(high, low_level(), SphereRegion(2.6, 3.1, atoms=[0], hysteresis=0.2),
                            buffer=0.5, vacuum=3.0, mode="force", grid_spacing=0.3)
    atoms.calc = calc
    dyn = VelocityVerlet(atoms, 2 * units.fs)
    traj = Trajectory("qmml_gpaw_md.traj", "w", atoms)
    trace = HybridTrace(calc, atoms, dyn)  # follows atoms that start in the shell
    steps = 3 if FAST else 15

    def record():
        trace.record()
        traj.write()
        info = calc.step_info
        print(f"t = {trace.time_fs[-1]:5.1f} fs  E_tot = {trace.epot[-1] + trace.ekin[-1]:.4f} eV  "
              f"cluster {info['n_cluster']} atoms  high {info['t_high']:.2f} s  "
              f"low {info['t_low']:.3f} s", flush=True)

    dyn.attach(record, interval=1)  # also called once before the first step
    dyn.run(steps)
    traj.close()
    trace.plot("qmml_gpaw_md.png", title="GPAW region in a low-level environment "
                                         "(force mixing, quintic)")
    s = trace.summary()
    print(f"mean time per step: high {s['t_high_s']:.2f} s, low {s['t_low_s']:.3f} s;"
          " wrote qmml_gpaw_md.png and qmml_gpaw_md.traj")


if __name__ == "__main__":
    main()
