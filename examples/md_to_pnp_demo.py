"""MD -> PNP demo: a primitive-model 1:1 electrolyte between two electrodes, D and profiles -> PNP.

Engine (why): overdamped Brownian dynamics in numpy with implicit solvent (eps_r = 78.5).
Ion-ion electrostatics is the slab mean field: each step the 1D Poisson equation is solved
for the instantaneous ion charge histogram with the electrode potentials as Dirichlet
conditions (an Ewald-free 1D-wall treatment). That is the physics the PNP model contains,
so the PNP must reproduce the MD profiles within MD noise -- the test of the handoff chain.
Correlations beyond mean field (which PNP lacks by construction) are absent at this
concentration anyway (plasma parameter small at 0.1 M, eps_r = 78.5). Lateral motion is
unconfined, so D_+ and D_- come from the lateral MSD; Brownian D_in = k_B T/(m gamma).

Writes md_to_pnp_handoff.toml, md_to_pnp_comparison.png in the output folder (argv[1] or
./md_to_pnp_out). MULTISCALE_FAST=1 shortens the run.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

from atomistic.md.brownian import brownian_slab
from couplers.md_to_pnp import compare_profiles, handoff_from_positions, plot_comparison, pnp_closed_cell

E, KB, EPS0, NA = 1.602176634e-19, 1.380649e-23, 8.8541878128e-12, 6.02214076e23


def main(out=None):
    fast = os.environ.get("MULTISCALE_FAST") == "1"
    out = Path(out or (sys.argv[1] if len(sys.argv) > 1 else "md_to_pnp_out"))
    out.mkdir(parents=True, exist_ok=True)
    T, eps_r = 298.15, 78.5
    c0 = 100.0                                    # mol/m^3 (0.1 M)
    L, area = 10e-9, (25e-9) ** 2
    n = int(round(c0 * NA * L * area))            # ions per species
    D_in = [1.33e-9, 2.03e-9]                     # Na+, Cl- (m^2/s), the BD input k_B T/(m gamma)
    kT_e = KB * T / E
    phi_l, phi_r = 2 * kT_e, -2 * kT_e
    dt = 2e-12
    n_steps = 20000 if fast else 80000
    n_equil = n_steps // 4
    rng = np.random.default_rng(7)
    t0 = time.time()
    frames, kind = brownian_slab([n, n], L, area, D_in, [1, -1], phi_l, phi_r, T, eps_r, dt,
                                 n_steps, stride=20, n_bins=50, rng=rng)
    frames = frames[n_equil // 20:]
    t_md = time.time() - t0
    h = handoff_from_positions({"Na": (1, frames[:, kind == 0]), "Cl": (-1, frames[:, kind == 1])},
                               dt * 20, axis=2, edges=np.linspace(0, L, 26), area=area,
                               temperature=T, epsilon_r=eps_r, code_version="multiscale demo")
    h.save(out / "md_to_pnp_handoff.toml")
    solver, res = pnp_closed_cell(h, length=L, phi_left=phi_l, phi_right=phi_r, n_cells=200)
    metrics = compare_profiles(h, res)
    plot_comparison(h, res, out / "md_to_pnp_comparison.png")
    for d, din in zip(h.diffusivities, D_in):
        print(f"D_{d.species}: {d.value:.4g} +- {d.stderr:.2g} m^2/s (BD input {din:.4g}; "
              f"{(d.value - din) / d.stderr:+.2f} sigma), fit window {d.fit_window}")
    for name, m in metrics.items():
        print(f"{name}: rel L2 (PNP vs BD) = {m['rel_l2']:.3g}, chi2/bin = {m['chi2_per_bin']:.2f}")
    print(f"MD {t_md:.1f} s, {n} ions per species; files in {out}")
    return h, res, metrics


if __name__ == "__main__":
    main()
