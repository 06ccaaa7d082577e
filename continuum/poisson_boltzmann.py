"""Equilibrium Poisson-Boltzmann(-Bikerman) in 1D on FEniCSx: the PNP solver's zero-flux limit.

Same scaling, mesh, Stern (Robin) electrode, planar first-integral predictor,
Newton driver with step limiter and tangent (capacitance) solve as
``continuum.pnp.PNPSolver1D``; only the unknowns differ. At equilibrium with a
bulk reservoir every species is Boltzmann(-Bikerman) distributed, so the
log-concentrations are eliminated and the one unknown is the potential::

    -psi'' = rho(psi) = sum_i z_i w_i exp(-z_i psi) / (1 + nu sum_j f_j (exp(-z_j psi) - 1))

(x in Debye lengths, psi in kT/e, w_i = c_i,b / sum_j z_j^2 c_j,b, f_i = c_i,b / sum_j c_j,b,
nu the bulk packing a^3 N_A sum_j c_j,b, 0 for ideal ions), psi = psi0 on the electrode
or psi - l_S psi' = psi0 (Stern layer of Robin length l_S), psi = 0 at x = L.

Why not the PNP steady state itself: its Nernst-Planck rows are weighted by
exp(u_i), which spans e^+-20 and more at 0.5 V; the Newton step then carries
round-off of that size and the step test can stall. The scalar PB Jacobian is
stiffness + rho'(psi) mass, positive and diagonally dominant, so the same Newton
settles to round-off in 2-4 iterations from the planar predictor.
"""
from __future__ import annotations

import numpy as np

from ._engines import import_engine
from ._petsc import newton_lu_options, weak_precheck
from .pnp import E_CHARGE, N_A, PNPResult, PNPSolver1D


class PoissonBoltzmann1D(PNPSolver1D):
    """Equilibrium double layer between an electrode (x = 0) and a bulk reservoir (x = L).

    Parameters as :class:`continuum.pnp.PNPSolver1D` without diffusivities, transients
    or closed cells: valences ``z``, bulk ``c_bulk`` (mol/m^3), ``epsilon_r``,
    ``temperature`` (K), ``length`` (m), ``n_cells``, ``degree``, ``h_min`` (m),
    ``stern_length`` (m, Robin length in the electrolyte's permittivity), ``ion_size`` (m).
    Use ``solve_steady(phi0)`` and ``charge_sensitivity()`` as there.
    """

    def __init__(self, z, c_bulk, **kwargs):
        for bad in ("closed", "D", "width"):
            if kwargs.get(bad):
                from .errors import InputError
                raise InputError(f"{bad}: {kwargs[bad]!r}; the equilibrium solver has a bulk reservoir, "
                                 "no transport and a 1D mesh")
        species = kwargs.pop("species", [f"species{i}" for i in range(len(z))])
        super().__init__(species, z, c_bulk, 1e-9, **kwargs)

    def _build(self, comm):
        import_engine("dolfinx")
        from mpi4py import MPI
        import basix.ufl
        import ufl
        from dolfinx import fem, mesh
        import dolfinx.fem.petsc  # noqa: F401  (registers fem.petsc)

        self.comm = comm if comm is not None else MPI.COMM_WORLD
        msh = self.mesh = self._make_mesh()
        L = self._Lnd
        self.W = self._V0 = fem.functionspace(msh, basix.ufl.element("Lagrange", msh.basix_cell(), self.degree))
        self.w = fem.Function(self.W)
        self.psi0 = fem.Constant(msh, 0.0)
        self.transient = fem.Constant(msh, 0.0)  # always steady; kept for the shared interface
        self.dx = dx = ufl.Measure("dx", domain=msh, metadata={"quadrature_degree": 2 * self.degree + 4})
        psi, v = self.w, ufl.TestFunction(self.W)
        # Material numbers enter as fem.Constants, not Python floats, so the compiled forms
        # depend only on the valences and the options: a new concentration, ion size or
        # Stern layer reuses the JIT cache instead of compiling every form again (~1 s each).
        ionic = float(np.dot(np.square(self.z), self.c_bulk))
        w = [fem.Constant(msh, float(ci / ionic)) for ci in self.c_bulk]
        boltz = [ufl.exp(-zi * psi) for zi in self.z]
        den = 1.0
        if self.ion_size is not None:
            self.nu = float(self.ion_size ** 3 * N_A * self.c_bulk.sum())
            nuf = [fem.Constant(msh, float(self.nu * ci / self.c_bulk.sum())) for ci in self.c_bulk]
            den = 1 + sum(f * (b - 1) for f, b in zip(nuf, boltz))
        self._rho = sum(zi * wi * b / den for zi, wi, b in zip(self.z, w, boltz))
        F = ufl.inner(ufl.grad(psi), ufl.grad(v)) * dx - self._rho * v * dx
        fdim = msh.topology.dim - 1
        left = mesh.locate_entities_boundary(msh, fdim, lambda X: np.isclose(X[0], 0.0))
        right = mesh.locate_entities_boundary(msh, fdim, lambda X: np.isclose(X[0], L))
        self.bcs = []
        if self.stern_length is not None:
            # Robin: psi - l_S dpsi/dn_in = psi0 -> flux term (psi0 - psi)/l_S on the electrode.
            self._inv_ls = fem.Constant(msh, float(self.lD / self.stern_length))
            tags = mesh.meshtags(msh, fdim, left, np.full(len(left), 1, dtype=np.int32))
            self._ds = ds = ufl.Measure("ds", domain=msh, subdomain_data=tags)
            F -= (self.psi0 - psi) * self._inv_ls * v * ds(1)
            self._bc_left = None
        else:
            self._bc_left = fem.Function(self.W)
            self.bcs.append(fem.dirichletbc(self._bc_left, fem.locate_dofs_topological(self.W, fdim, left)))
        self._bc_right = fem.Function(self.W)
        self.bcs.append(fem.dirichletbc(self._bc_right, fem.locate_dofs_topological(self.W, fdim, right)))
        self.F = F
        self._prefix = f"pb{id(self)}_"
        self.problem = fem.petsc.NonlinearProblem(
            F, self.w, bcs=self.bcs, petsc_options_prefix=self._prefix,
            petsc_options=newton_lu_options(1e-10, 50, self._user_opts))
        self.max_update = 3.0
        self.problem.solver.setLineSearchPreCheck(weak_precheck(self._limit_step))

    def _initial_guess(self, psi0_nd, psi_r_nd):
        """Planar-equilibrium potential (Stern-aware), as in PNPSolver1D."""
        if self.predictor != "planar":
            guess = lambda X: psi0_nd * np.exp(-X[0]) * (1 - X[0] / self._Lnd)
        elif self.stern_length is not None:
            guess = self._planar_equilibrium(self._stern_diffuse_potential(psi0_nd))
        else:
            guess = self._planar_equilibrium(psi0_nd)
        self.w.interpolate(guess)
        self.w.x.scatter_forward()

    def _equilibrium_defect(self) -> float:
        """Zero: the species are Boltzmann(-Bikerman) distributed by construction here."""
        return 0.0

    def run_transient(self, *args, **kwargs):
        from .errors import InputError
        raise InputError("run_transient: PoissonBoltzmann1D is the equilibrium limit; use PNPSolver1D")

    def totals(self) -> np.ndarray:
        """Amount of each species per electrode area, mol/m^2."""
        from dolfinx import fem
        import ufl
        out = []
        for i, zi in enumerate(self.z):
            val = fem.assemble_scalar(fem.form(self._concentration(i, ufl) * self.dx))
            out.append(self.comm.allreduce(val) * self.c_bulk[i] * self.lD)
        return np.array(out)

    def _concentration(self, i, ufl):
        den = 1.0
        if self.ion_size is not None:
            fr = self.c_bulk / self.c_bulk.sum()
            den = 1 + self.nu * sum(f * (ufl.exp(-zj * self.w) - 1) for f, zj in zip(fr, self.z))
        return ufl.exp(-self.z[i] * self.w) / den

    def _result(self, its) -> PNPResult:
        from dolfinx import fem

        q = self.comm.allreduce(fem.assemble_scalar(fem.form(self._rho * self.dx)))
        ionic = float(np.dot(np.square(self.z), self.c_bulk)) * N_A * E_CHARGE
        sigma = -q * ionic * self.lD
        V = self.W
        nloc = V.dofmap.index_map.size_local
        xs = np.concatenate(self.comm.allgather(V.tabulate_dof_coordinates()[:nloc, 0]))
        ps = np.concatenate(self.comm.allgather(self.w.x.array[:nloc]))
        order = np.argsort(xs, kind="stable")
        x, psi = xs[order] * self.lD, ps[order]
        z = np.asarray(self.z, dtype=float)
        boltz = np.exp(-z[:, None] * psi[None, :])
        den = 1.0
        if self.ion_size is not None:
            fr = self.c_bulk / self.c_bulk.sum()
            den = 1 + self.nu * np.sum(fr[:, None] * (boltz - 1), axis=0)
        c = self.c_bulk[:, None] * boltz / den
        return PNPResult(x=x, phi=psi * self.kT_e, c=c, surface_charge=float(sigma), newton_iterations=int(its),
                         debye_length=self.lD, thermal_voltage=self.kT_e, species=self.species,
                         functions=(self.w,), n_cells=self._nx)
