"""From a reaction path to PyBaMM kinetics: NEB barrier with error bars, alpha(U), Marcus lambda, handoff.

Run:  .venv/bin/python examples/reaction_kinetics.py     (about 1-2 min; MULTISCALE_FAST=1: ~20 s)

1. An Au adatom hops between hollow sites of Al(100). A committee of EMT
   potentials with perturbed parameters stands in for a learned-potential
   committee (swap in ``atomistic.load_potential(...)``): climbing-image NEB,
   barrier +- the members' spread, the images the committee doubts.
2. (full run only) The same hop at three electrode potentials with the
   double-layer field model (a partial charge on the adatom): dEa/d(eU) with
   a confidence interval from the members' own slopes.
3. Marcus theory on displaced harmonic wells: the reorganisation energy from
   energy-gap MD in both states (Stokes shift and variance), alpha(dG).
4. A kinetics handoff file with the parameter names PyBaMM reads.
Files go to the current folder: neb.png, alpha.png (full run), kinetics.toml.
"""
import os

import numpy as np
from ase import Atoms, units

from atomistic.emt_committee import EMTCommittee
from atomistic.reactions.energy_gap import sample_energy_gap
from atomistic.reactions.harmonic_well import HarmonicWell
from atomistic.reactions.marcus import reorganisation_energy
from atomistic.reactions.neb import plot_neb, run_neb
from atomistic.reactions.endpoints import adatom_hop
from atomistic.reactions.potential_dependent_barriers import DoubleLayerField, barriers_vs_potential
from atomistic.reactions.transfer_coefficient import fit_transfer_coefficient, plot_transfer_fit
from couplers.reaction_kinetics import kinetics_entry, kinetics_handoff, pybamm_parameters

FAST = os.environ.get("MULTISCALE_FAST") == "1"


def main():
    committee = EMTCommittee(n_members=3 if FAST else 5, spread=0.01, elements=("Al", "Au"))
    initial, final = adatom_hop("Au", "Al")
    band = run_neb(initial, final, committee, n_images=3, fmax=0.05 if FAST else 0.03)
    plot_neb(band, "neb.png", title="Au hop on Al(100), EMT committee")
    print(f"barrier {band.barrier:.3f} ± {band.barrier_std:.3f} eV, reaction energy "
          f"{band.reaction_energy:+.4f} ± {band.reaction_energy_std:.4f} eV")
    print("max force deviation per image (eV/Å):", np.round(band.max_force_dev, 3),
          f"-> {len(band.doubted_frames)} frame(s) to label")

    if not FAST:
        z_surface = initial.positions[:-1, 2].max()
        scan = barriers_vs_potential(
            initial, final,
            lambda U: DoubleLayerField(committee, {len(initial) - 1: 0.5}, U, z_surface, 3.0),
            [-0.3, 0.0, 0.3], reference_electrode="SHE", n_images=3, fmax=0.03,
            relax_endpoints=True)
        fit = fit_transfer_coefficient(scan["potentials"], scan["barriers"], scan["barrier_std"],
                                       member_barriers=scan["member_barriers"],
                                       reference_electrode="SHE", model="linear")
        plot_transfer_fit(fit, "alpha.png", title="Au$^{+0.5}$ hop in a 3 Å compact layer")
        print(f"dEa/d(eU) = {fit.alpha:.4f} [{fit.alpha_ci[0]:.4f}, {fit.alpha_ci[1]:.4f}] "
              "(an ion hop, not an electron transfer: a field effect, near zero)")

    # Marcus: two wells, lambda = k/2 |d|^2 = 0.4 eV, dG = -0.1 eV, 300 K
    rng = np.random.default_rng(0)
    n, k, mass = 4, 2.0, 10.0
    atoms = Atoms("H" * n, positions=rng.normal(0, 2, (n, 3)), masses=[mass] * n)
    d = rng.normal(size=(n, 3))
    d *= np.sqrt(2 * 0.4 / k / (d * d).sum())
    R, P = HarmonicWell(atoms.positions, k), HarmonicWell(atoms.positions + d, k, -0.1)
    omega = np.sqrt(k / mass) * units.fs
    kw = dict(temperature_K=300.0, n_samples=1500 if FAST else 10000, interval=2,
              timestep_fs=0.5 / omega, friction=omega)
    marcus = reorganisation_energy(sample_energy_gap(atoms, R, P, state="reactant", seed=1, **kw),
                                   sample_energy_gap(atoms, R, P, state="product", seed=2, **kw),
                                   300.0)
    a, a_err = marcus.alpha()
    print(f"lambda: Stokes {marcus.lambda_stokes:.3f} ± {marcus.lambda_stokes_err:.3f} eV, "
          f"variance {marcus.lambda_variance:.3f} ± {marcus.lambda_variance_err:.3f} eV "
          f"(exact 0.4); dG {marcus.reaction_free_energy:+.3f} eV; alpha_red {a:.3f} ± {a_err:.3f}")

    handoff = kinetics_handoff([kinetics_entry(None, marcus, electrode="negative",
                                               reaction="model electron transfer")],
                               temperature=300.0)
    handoff.save("kinetics.toml")
    for name, value in pybamm_parameters(handoff).items():
        print(f"  {name} = {value:.4f}")
    print("wrote neb.png" + ("" if FAST else ", alpha.png") + " and kinetics.toml")


if __name__ == "__main__":
    main()
