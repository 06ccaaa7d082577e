"""The result of a PNP solve: fields and electrode quantities, SI, gathered onto every rank."""
from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass
class PNPResult:
    """Fields of a PNP (or Poisson-Boltzmann) solve, SI, gathered onto every MPI rank and sorted by x.

    x: (n,) m, x coordinate of every potential dof (not unique on a 2D/3D mesh); phi: (n,) V;
    c: (n_species, n) mol/m^3; coordinates: (n, gdim) m, the dofs' coordinates in the same order;
    surface_charge: C/m^2, the first electrode's charge per area (see ``PNPSolver``);
    surface_charges: {tag: C/m^2} for every electrode; reaction_fluxes: {(species, tag): mol/(m^2 s)}
    mean FBV consumption rate; current_densities: {tag: A/m^2} sum of z_i F J_i at each reacting
    electrode; newton_iterations: every Newton iteration of the solve, failed attempts included;
    continuation: electrode-potential fractions at which Newton converged, in order;
    debye_length: m; thermal_voltage: kT/e in V; species: names; totals: (n_steps+1, n_species)
    mol/m^2 per area of the first electrode after a transient, else None; n_cells: cells of the mesh;
    functions: the dolfinx Function (psi in kT/e, g_i the reduced electrochemical potentials) on the
    local rank; discretisation_error: for an equilibrium planar slab, |sigma_h / sigma_FI - 1| of the
    first electrode, where sigma_FI is the exact planar first integral at the solved electrode-surface
    potential (Grahame's law, generalised to any valences, sterics and a finite cell); the discrete
    surface charge's own error where the electrode is Dirichlet. None where no such identity holds
    (reactions, transients, closed cells, non-slab geometry).
    """
    x: np.ndarray
    phi: np.ndarray
    c: np.ndarray
    surface_charge: float
    newton_iterations: int
    debye_length: float
    thermal_voltage: float
    species: list
    totals: np.ndarray | None = None
    functions: tuple = ()
    n_cells: int = 0
    discretisation_error: float | None = None
    coordinates: np.ndarray | None = None
    surface_charges: dict = dataclasses.field(default_factory=dict)
    reaction_fluxes: dict = dataclasses.field(default_factory=dict)
    current_densities: dict = dataclasses.field(default_factory=dict)
    continuation: list = dataclasses.field(default_factory=list)
