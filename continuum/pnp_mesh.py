"""Poisson-Nernst-Planck on any dolfinx mesh (1D/2D/3D) with tagged electrodes, Frumkin-Butler-Volmer
reactions, adaptive potential continuation and VTX output. SI at the interface.

The mesh is given in metres with its boundary facets tagged (``facet_tags``): electrode tags
carry a potential (Dirichlet, or a Stern layer as a Robin condition) and block every species
except those reacting there; bulk tags hold the reservoir (phi = 0, c_i = c_i,bulk); untagged
boundary is insulating and impermeable. ``slab_mesh`` builds graded 1D/2D/3D slabs with the
electrode on x = 0 (tag 1) and the far face x = L (tag 2).

Internally nondimensional (lengths by lambda_D, potential by kT/e, concentrations by their bulk
values, time by lambda_D^2 / D_ref); the mesh stays in metres and the forms carry the scale
factors, so every integral equals its dimensionless counterpart exactly. Unknowns are the
potential psi and the (dimensionless) electrochemical potentials g_i = ln(c_i/c_i,b) + z_i psi
+ mu_steric,i (quasi-Fermi levels, as in semiconductor device codes), so that

    c_i = exp(g_i - z_i psi) / (1 - nu + nu sum_j f_j exp(g_j - z_j psi))   (Bikerman; nu = 0: ideal)
    flux_i = -d_i c_i grad(g_i).

Why g rather than u_i = ln c_i: at 20-30 kT/e the flux of the log-concentration form,
c grad(u + z psi), is a cancellation of two O(30) numbers divided by cells of 1e-8 lambda_D,
which puts a floor under the Newton residual and stalls Newton from any guess that is not
already at the answer. In g the equilibrium is g = const exactly, the flux is computed without
cancellation, and the Bikerman concentration is closed-form in (psi, g).

Frumkin-Butler-Volmer (``FBVReaction``): at the reaction plane (the outer Helmholtz plane, where
the domain starts; the Stern layer between it and the metal is the Robin condition) species i
is consumed at the rate, mol/(m^2 s),

    J_i = k_f c_i(0) exp(-alpha z_i e dphi_S / kT) - k_b exp((1 - alpha) z_i e dphi_S / kT),

where dphi_S = phi_electrode - phi(0) is the Stern-layer drop (the Frumkin correction: the rate
sees the Stern drop and the concentration at the reaction plane, not the overpotential and bulk
concentration), z_i electrons are transferred (M^{z+} + z e- <-> M), and alpha is the transfer
coefficient. The electrode's current density is z_i F J_i (A/m^2; cathodic positive for cations).
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from ._engines import import_engine
from ._petsc import newton_lu_options, weak_precheck
from .errors import ConvergenceError, InputError
from .pnp import (E_CHARGE, EPS0, K_B, N_A, PNPResult, _collapse, debye_graded_nodes, debye_length,
                  electrolyte, first_integral_error, graded_nodes, layer_first_cell, layer_graded_nodes,
                  planar_layer, reference_diffusivity, stern_diffuse_potential)

FARADAY = E_CHARGE * N_A   # C/mol


@dataclasses.dataclass(frozen=True)
class FBVReaction:
    """One Frumkin-Butler-Volmer reaction of ``species`` at the electrode with facet tag ``electrode``.

    k_forward: m/s, consumption of the species (its discharge, M^{z+} + z e- -> M);
    k_backward: mol/(m^2 s), its production (M -> M^{z+} + z e-); alpha: transfer coefficient of the
    forward direction (0 < alpha < 1). Equilibrium (J = 0) at the Stern drop
    dphi_S = (kT / z e) ln(k_forward c(0) / k_backward).
    """
    species: str
    k_forward: float
    k_backward: float
    alpha: float = 0.5
    electrode: int = 1


@dataclasses.dataclass
class PNPFieldResult(PNPResult):
    """PNPResult plus per-electrode quantities and full coordinates.

    coordinates: (n, gdim) m, dof coordinates in the order of ``phi`` and ``c``; surface_charges:
    {tag: C/m^2} electrode charge per area from the discrete (variationally consistent) Gauss flux;
    reaction_fluxes: {(species, tag): mol/(m^2 s)} mean FBV consumption rate;
    current_densities: {tag: A/m^2} sum of z_i F J_i at each reacting electrode;
    continuation: electrode-potential fractions at which Newton converged, in order;
    discretisation_error: for an equilibrium planar slab, |sigma_h / sigma_FI - 1| of the first
    electrode, where sigma_FI is the exact planar first integral at the solved electrode-surface
    potential (Grahame's law, generalised to any valences, sterics and a finite cell); the
    discrete surface charge's own error where the electrode is Dirichlet. None where no such
    identity holds (reactions, transients, non-slab geometry).
    """
    coordinates: np.ndarray | None = None
    surface_charges: dict = dataclasses.field(default_factory=dict)
    reaction_fluxes: dict = dataclasses.field(default_factory=dict)
    current_densities: dict = dataclasses.field(default_factory=dict)
    continuation: list = dataclasses.field(default_factory=list)


def slab_mesh(length: float, n_cells: int, *, lateral=(), n_cells_lateral=(), h_min=None,
              grading=None, decay_length=None, first_cell=None, cells_per_decade=10, cells="simplex",
              comm=None):
    """Slab [0, length] x lateral (m) meshed with intervals, triangles or tetrahedra; (mesh, facet_tags).

    ``lateral``: () for 1D, (W,) for 2D, (W, H) for 3D, with ``n_cells_lateral`` cells each.
    Along x the nodes are uniform, geometric (``h_min``, m: first cell), or ``grading="debye"``
    (:func:`continuum.pnp.debye_graded_nodes` with ``decay_length``, m, usually lambda_D), or
    ``grading="layer"``: geometric from ``first_cell`` (m) through the compact high-potential layer,
    then Debye-graded (:func:`continuum.pnp.layer_graded_nodes`; ``PNPSolver.slab`` picks
    ``first_cell`` from the electrode potential).
    ``cells``: "simplex" (triangles/tetrahedra) or "box" (quadrilaterals/hexahedra; their
    tensor-product elements make a laterally invariant field exactly representable with the 1D
    quadrature, so a slab of boxes reproduces the 1D solution to solver precision).
    Facet tags: 1 on x = 0 (electrode), 2 on x = length; the lateral faces are untagged.
    """
    import_engine("dolfinx")
    from mpi4py import MPI
    from dolfinx import mesh

    comm = comm if comm is not None else MPI.COMM_WORLD
    lateral, ncl = tuple(float(v) for v in lateral), tuple(int(v) for v in n_cells_lateral)
    if len(lateral) != len(ncl) or len(lateral) > 2:
        raise InputError(f"lateral, n_cells_lateral: {lateral}, {ncl}; expected () , (W,), or (W, H) "
                         "with one cell count each")
    if not (length > 0 and n_cells >= 1):
        raise InputError(f"length, n_cells: {length}, {n_cells}; expected > 0 m and >= 1")
    if cells not in ("simplex", "box"):
        raise InputError(f"cells: {cells!r}; expected 'simplex' or 'box'")
    box = cells == "box"
    nodes = None
    if h_min is not None:
        nodes = graded_nodes(length, n_cells, h_min)
    elif grading in ("debye", "layer"):
        if decay_length is None:
            raise InputError(f"decay_length: None; expected the Debye length (m) for grading={grading!r}")
        if grading == "debye":
            nodes = debye_graded_nodes(length, n_cells, decay_length)
        elif first_cell is None or not first_cell > 0:
            raise InputError(f"first_cell: {first_cell!r}; expected a positive m for grading='layer'")
        else:
            nodes = layer_graded_nodes(length, n_cells, first_cell, decay_length, cells_per_decade)
    elif grading is not None:
        raise InputError(f"grading: {grading!r}; expected None, 'debye' or 'layer'")
    nx = n_cells if nodes is None else len(nodes) - 1
    if len(lateral) == 0:
        msh = mesh.create_interval(comm, nx, [0.0, length])
    elif len(lateral) == 1:
        msh = mesh.create_rectangle(comm, [np.array([0.0, 0.0]), np.array([length, lateral[0]])],
                                    [nx, ncl[0]],
                                    mesh.CellType.quadrilateral if box else mesh.CellType.triangle)
    else:
        msh = mesh.create_box(comm, [np.array([0.0, 0.0, 0.0]), np.array([length, *lateral])],
                              [nx, *ncl],
                              mesh.CellType.hexahedron if box else mesh.CellType.tetrahedron)
    if nodes is not None:
        xg = msh.geometry.x
        # The uniform coordinate maps onto the graded one vertex by vertex (exact at nodes).
        xg[:, 0] = np.interp(xg[:, 0] / length * nx, np.arange(nx + 1), nodes)
    tdim = msh.topology.dim
    fdim = tdim - 1
    tol = 1e-9 * length
    left = mesh.locate_entities_boundary(msh, fdim, lambda X: np.abs(X[0]) < tol)
    right = mesh.locate_entities_boundary(msh, fdim, lambda X: np.abs(X[0] - length) < tol)
    facets = np.concatenate([left, right]).astype(np.int32)
    values = np.concatenate([np.full(len(left), 1), np.full(len(right), 2)]).astype(np.int32)
    order = np.argsort(facets)
    tags = mesh.meshtags(msh, fdim, facets[order], values[order])
    return msh, tags


class PNPSolver:
    """Steady or transient PNP on a dolfinx mesh (coordinates in m) with tagged boundaries.

    species, z (integers), c_bulk (mol/m^3, electroneutral), D (m^2/s: a number per species, or a
    callable D(X) with X of shape (3, n) in m, returning (n,) m^2/s); ``electrodes``: facet tags of
    electrodes (potential set per solve); ``bulk``: facet tags held at the bulk reservoir;
    ``stern_length`` (m; None: Dirichlet electrodes); ``ion_size`` (m; Bikerman sterics);
    ``reactions``: FBVReaction list (needs a Stern layer: the Frumkin drop lives in it);
    ``degree``: Lagrange degree 1-3. Works under ``mpirun -n N`` (the mesh's communicator).
    """

    def __init__(self, species, z, c_bulk, D, mesh, facet_tags, *, electrodes=(1,), bulk=(2,),
                 epsilon_r=78.5, temperature=298.15, degree=1, stern_length=None, ion_size=None,
                 reactions=(), petsc_options=None):
        self.species, self.z, self.c_bulk = electrolyte(species, z, c_bulk, degree)
        self.electrodes, self.bulk = [int(t) for t in electrodes], [int(t) for t in bulk]
        if not self.electrodes or set(self.electrodes) & set(self.bulk):
            raise InputError(f"electrodes, bulk: {self.electrodes}, {self.bulk}; expected at least one "
                             "electrode tag and no tag in both")
        self.D, self.T, self.eps_r, self.degree = D, float(temperature), float(epsilon_r), int(degree)
        self.kT_e = K_B * self.T / E_CHARGE
        self.lD = debye_length(self.c_bulk, self.z, self.eps_r, self.T)
        if stern_length is not None and not (np.isfinite(stern_length) and stern_length > 0):
            raise InputError(f"stern_length: {stern_length}; expected a positive m or None")
        self.stern_length, self.ion_size = stern_length, ion_size
        self.reactions = list(reactions)
        for r in self.reactions:
            if r.species not in self.species:
                raise InputError(f"reactions: species {r.species!r} not in {self.species}")
            if r.electrode not in self.electrodes:
                raise InputError(f"reactions: electrode tag {r.electrode}; expected one of {self.electrodes}")
            if not (0 < r.alpha < 1) or not (r.k_forward >= 0 and r.k_backward >= 0):
                raise InputError(f"reactions: {r}; expected 0 < alpha < 1 and non-negative rate constants")
        if self.reactions and stern_length is None:
            raise InputError("stern_length: None; expected a Stern layer (m) with FBV reactions: the "
                             "Frumkin rate depends on the Stern-layer potential drop")
        self.max_update = 3.0
        self._user_opts = dict(petsc_options or {})
        self._build(mesh, facet_tags)

    @classmethod
    def slab(cls, species, z, c_bulk, D, *, max_potential, length=None, n_cells=100, cells_per_decade=10,
             lateral=(), n_cells_lateral=(), cells="simplex", comm=None, epsilon_r=78.5, temperature=298.15,
             stern_length=None, ion_size=None, **kwargs) -> "PNPSolver":
        """A solver on a slab [0, length] (x lateral) meshed for electrode potentials up to |max_potential| (V).

        The default mesh of the toolkit's 1D/2D/3D double layers: the electrode on x = 0 (tag 1), the
        bulk reservoir on x = length (tag 2; default 20 Debye lengths). Along x: ``n_cells``
        Debye-graded cells, preceded by ``cells_per_decade`` geometric cells per decade down to a first
        cell that resolves the layer's local Debye length at ``max_potential``
        (:func:`continuum.pnp.layer_first_cell`: 2 % of it; :func:`continuum.pnp.layer_graded_nodes`),
        so the surface charge stays within 1 % of the analytic one up to 40 kT/e (bench/pnp_sweep.py).
        Other keywords go to :class:`PNPSolver`.
        """
        species, z, c_bulk = electrolyte(species, z, c_bulk, kwargs.get("degree", 1))
        if not np.isfinite(max_potential):
            raise InputError(f"max_potential: {max_potential}; expected a finite V")
        lD = debye_length(c_bulk, z, epsilon_r, temperature)
        length = 20.0 * lD if length is None else float(length)
        kT_e = K_B * temperature / E_CHARGE
        nu = None if ion_size is None else float(ion_size ** 3 * N_A * c_bulk.sum())
        first = layer_first_cell(max_potential / kT_e, z, c_bulk, nu,
                                 None if stern_length is None else stern_length / lD) * lD
        msh, tags = slab_mesh(length, n_cells, lateral=lateral, n_cells_lateral=n_cells_lateral,
                              grading="layer", decay_length=lD, first_cell=first,
                              cells_per_decade=cells_per_decade, cells=cells, comm=comm)
        return cls(species, z, c_bulk, D, msh, tags, epsilon_r=epsilon_r, temperature=temperature,
                   stern_length=stern_length, ion_size=ion_size, **kwargs)

    # --- set-up --------------------------------------------------------
    def _build(self, msh, tags):
        import_engine("dolfinx")
        import basix.ufl
        import ufl
        from dolfinx import fem
        import dolfinx.fem.petsc  # noqa: F401  (registers fem.petsc)
        from mpi4py import MPI

        self.mesh, self.tags, self.comm = msh, tags, msh.comm
        self._MPI = MPI
        ns = len(self.species)
        tdim = msh.topology.dim
        fdim = tdim - 1
        msh.topology.create_connectivity(fdim, tdim)
        el = basix.ufl.element("Lagrange", msh.basix_cell(), self.degree)
        self.W = fem.functionspace(msh, basix.ufl.mixed_element([el] * (ns + 1)))
        self.w, self.w_old = fem.Function(self.W), fem.Function(self.W)
        self.dt = fem.Constant(msh, 1.0)
        self.transient = fem.Constant(msh, 0.0)
        lD = self.lD
        # Scale factors: the mesh is in metres, the equations in Debye units.
        self._vol, self._area = lD ** -tdim, lD ** -(tdim - 1)
        G = lambda f: lD * ufl.grad(f)
        q = 2 * self.degree + 4
        # One fixed quadrature for every form: the species balance (residual tested with 1)
        # and the reported totals must use the same rule to agree to round-off.
        self.dx = ufl.Measure("dx", domain=msh, metadata={"quadrature_degree": q})
        self.ds = ufl.Measure("ds", domain=msh, subdomain_data=tags, metadata={"quadrature_degree": q})
        parts, old = ufl.split(self.w), ufl.split(self.w_old)
        tests = ufl.TestFunctions(self.W)
        ionic = float(np.dot(np.square(self.z), self.c_bulk))
        wts = [ci / ionic for ci in self.c_bulk]
        self._conc = lambda p: self._concentrations(p, ufl)
        cs, cs_old = self._conc(parts), self._conc(old)
        psi, gs = parts[0], parts[1:]
        rho = sum(zi * wi * ci for zi, wi, ci in zip(self.z, wts, cs))
        vol, area = self._vol, self._area
        self._poisson_volume = lambda v: vol * (ufl.inner(G(psi), G(v)) - rho * v) * self.dx
        F = self._poisson_volume(tests[0])
        self._psiE = {t: fem.Constant(msh, 0.0) for t in self.electrodes}
        if self.stern_length is not None:
            ls = self.stern_length / lD
            # Robin: psi - l_S dpsi/dn_in = psi_E, i.e. outward flux (psi_E - psi)/l_S.
            for t in self.electrodes:
                F -= area * (self._psiE[t] - psi) / ls * tests[0] * self.ds(t)
        Dref = self._D_ref()
        self.Dref = Dref
        for i in range(ns):
            di = self._D_expr(i, Dref, fem, basix)
            F += vol * (self.transient * (cs[i] - cs_old[i]) / self.dt * tests[i + 1]
                        + di * cs[i] * ufl.inner(G(gs[i]), G(tests[i + 1]))) * self.dx
        self._J = []
        for r in self.reactions:
            i = self.species.index(r.species)
            J = self._fbv_rate(r, i, psi, cs[i], Dref, ufl)
            self._J.append((r, i, J))
            # Outward normal flux of species i through the reaction plane = its consumption J.
            F += area * J * tests[i + 1] * self.ds(r.electrode)
        self.F, self._rho, self._cs = F, rho, cs

        # Dirichlet conditions
        self.bcs = []
        V0, _ = self.W.sub(0).collapse()
        self._V0 = V0
        self._bcE = {}
        for t in self.electrodes:
            facets = tags.find(t)
            if self.stern_length is None:
                f = fem.Function(V0)
                dofs = fem.locate_dofs_topological((self.W.sub(0), V0), fdim, facets)
                self.bcs.append(fem.dirichletbc(f, dofs, self.W.sub(0)))
                self._bcE[t] = f
        for t in self.bulk:
            facets = tags.find(t)
            for k in range(ns + 1):
                Vk, _ = self.W.sub(k).collapse()
                dofs = fem.locate_dofs_topological((self.W.sub(k), Vk), fdim, facets)
                self.bcs.append(fem.dirichletbc(fem.Function(Vk), dofs, self.W.sub(k)))
        self._prefix = f"pnpmesh{id(self)}_"
        self.problem = fem.petsc.NonlinearProblem(
            self.F, self.w, bcs=self.bcs, petsc_options_prefix=self._prefix,
            petsc_options=newton_lu_options(1e-9, 30, self._user_opts))
        self.problem.solver.setLineSearchPreCheck(weak_precheck(self._limit_step))
        # Electrode areas (Debye units) and the Gauss-flux test functions, one per electrode.
        self._areas, self._chi = {}, {}
        for t in self.electrodes:
            a = fem.assemble_scalar(fem.form(area * fem.Constant(msh, 1.0) * self.ds(t)))
            self._areas[t] = self.comm.allreduce(a)
            if self._areas[t] <= 0:
                raise InputError(f"electrodes: tag {t} marks no boundary facet; expected tagged facets")
            chi = fem.Function(V0)
            chi.x.array[fem.locate_dofs_topological(V0, fdim, tags.find(t))] = 1.0
            chi.x.scatter_forward()
            self._chi[t] = chi

    def _concentrations(self, parts, ufl):
        """c_i / c_i,bulk as UFL expressions of (psi, g_1..g_n)."""
        psi, gs = parts[0], parts[1:]
        A = [ufl.exp(g - zi * psi) for zi, g in zip(self.z, gs)]
        if self.ion_size is None:
            return A
        self.nu = float(self.ion_size ** 3 * N_A * self.c_bulk.sum())
        if not 0 < self.nu < 1:
            raise InputError(f"ion_size: {self.ion_size} m packs the bulk to nu = {self.nu:.3g}; expected < 1")
        f = self.c_bulk / self.c_bulk.sum()
        # c_i = A_i (1 - nu S)/(1 - nu) with S = sum f_j c_j solves to the closed form below.
        den = 1 - self.nu + self.nu * sum(fj * a for fj, a in zip(f, A))
        return [a / den for a in A]

    def _fbv_rate(self, r, i, psi, ci, Dref, ufl):
        """Dimensionless FBV consumption rate of species i (flux unit D_ref c_i,b / lambda_D)."""
        zi = self.z[i]
        drop = self._psiE[r.electrode] - psi
        kf = r.k_forward * self.lD / Dref
        kb = r.k_backward * self.lD / (Dref * self.c_bulk[i])
        return (kf * ci * ufl.exp(-r.alpha * zi * drop)
                - kb * ufl.exp((1 - r.alpha) * zi * drop))

    def _D_ref(self):
        return reference_diffusivity(self.D, len(self.species))

    def _D_expr(self, i, Dref, fem, basix):
        d = self.D[i] if isinstance(self.D, (list, tuple, np.ndarray)) else self.D
        if callable(d):
            V = fem.functionspace(self.mesh, basix.ufl.element("Lagrange", self.mesh.basix_cell(), 1))
            f = fem.Function(V)
            f.interpolate(lambda X: np.asarray(d(X), dtype=float) / Dref)
            bad = np.any(f.x.array <= 0) or np.any(~np.isfinite(f.x.array))
            if self.comm.allreduce(bad, op=self._MPI.LOR):
                raise InputError(f"D[{i}]: D(X) has non-positive or non-finite values; expected > 0")
            return f
        return float(d) / Dref

    def _limit_step(self, x, y, *args):
        """Scale the Newton step so no unknown moves by more than max_update (kT/e or ln units).

        An unlimited step multiplies exp(-z psi) by e^(z dpsi) and overflows from a poor guess.
        Records whether it had to scale: a converged-looking iterate reached by a scaled
        (small-looking) step is not accepted as converged.
        """
        ymax = self.comm.allreduce(float(np.max(np.abs(y.array_r))) if y.getLocalSize() else 0.0,
                                   op=self._MPI.MAX)
        self._limited = ymax > self.max_update
        if self._limited:
            y.scale(self.max_update / ymax)

    # --- geometry of the electrodes ---------------------------------------
    def _planes(self, tag):
        """Every rank's facets of ``tag`` as (a point on each, unit normal of each, area of each), m.

        For the planar-layer predictor (distance from an electrode) and the first-integral check.
        A point facet (1D) has normal (1, 0, 0) and area 1.
        """
        if not hasattr(self, "_plane_cache"):
            self._plane_cache = {}
        if tag in self._plane_cache:
            return self._plane_cache[tag]
        from dolfinx import mesh as dmesh
        msh = self.mesh
        fdim = msh.topology.dim - 1
        facets = self.tags.find(tag)
        facets = facets[facets < msh.topology.index_map(fdim).size_local]   # owned: each facet once
        if len(facets) == 0:    # this rank holds none of the electrode
            mid, normal, area = np.zeros((0, 3)), np.zeros((0, 3)), np.zeros(0)
        else:
            X = msh.geometry.x[dmesh.entities_to_geometry(msh, fdim, facets, False)]
            if fdim == 0:
                normal = np.tile([1.0, 0.0, 0.0], (len(X), 1))
                area = np.ones(len(X))
            elif fdim == 1:
                t = X[:, 1] - X[:, 0]
                normal = np.stack([-t[:, 1], t[:, 0], np.zeros(len(t))], axis=1)
                area = np.linalg.norm(t, axis=1)
            else:
                # A quadrilateral's first three vertices span its plane as well as a triangle's do.
                normal = np.cross(X[:, 1] - X[:, 0], X[:, 2] - X[:, 0])
                area = np.linalg.norm(normal, axis=1) * (1.0 if X.shape[1] == 4 else 0.5)
            normal = normal / np.maximum(np.linalg.norm(normal, axis=1), 1e-300)[:, None]
            mid = X.mean(axis=1)
        out = tuple(np.concatenate(self.comm.allgather(a)) for a in (mid, normal, area))
        self._plane_cache[tag] = out
        return out

    def _distance(self, tag, X):
        """Distance (m) of points X (3, n) from the facets of ``tag``: to the plane of the nearest facet."""
        from scipy.spatial import cKDTree
        mid, normal, _ = self._planes(tag)
        P = np.asarray(X, dtype=float).T
        if len(P) == 0:
            return np.zeros(0)
        _, k = cKDTree(mid).query(P)
        return np.abs(np.einsum("ij,ij->i", P - mid[k], normal[k]))

    def _planar(self, tag):
        """Whether ``tag`` and every bulk tag are parallel planes of equal area: a slab, where the
        planar first integral holds exactly for an equilibrium layer."""
        if not self.bulk or self.reactions:
            return False
        mid, normal, area = self._planes(tag)
        n0 = normal[0]
        if np.any(np.abs(np.abs(normal @ n0) - 1) > 1e-8) or np.ptp(mid @ n0) > 1e-9 * self.lD:
            return False
        for b in self.bulk:
            bm, bn, ba = self._planes(b)
            if (len(bm) == 0 or np.any(np.abs(np.abs(bn @ n0) - 1) > 1e-8) or np.ptp(bm @ n0) > 1e-9 * self.lD
                    or abs(ba.sum() / area.sum() - 1) > 1e-9):
                return False
        return True

    def _predictor(self, targets):
        """Planar equilibrium layers at every electrode (psi, kT/e) with g = 0, as the Newton start.

        Each electrode contributes the semi-infinite planar layer of its potential (after the Stern
        drop of a planar Stern + diffuse layer) at each point's distance from it; g = 0 is the
        equilibrium with the reservoir, exact for blocking electrodes. On a slab this is the
        continuum answer, so Newton only corrects for the mesh and the finite cell.
        """
        from dolfinx import fem
        nu = getattr(self, "nu", None)
        layers = []
        for t, v in targets.items():
            psi0 = v / self.kT_e
            if self.stern_length is not None:
                psi0 = stern_diffuse_potential(psi0, self.z, self.c_bulk, self.stern_length / self.lD, nu)
            layers.append((t, planar_layer(psi0, self.z, self.c_bulk, nu)))
        for t in targets:
            self._planes(t)    # collective (allgather): every rank, before the local interpolation
        V0, m0 = _collapse(self.W.sub(0))
        f = fem.Function(V0)
        f.interpolate(lambda X: sum(layer(self._distance(t, X) / self.lD) for t, layer in layers))
        self.w.x.array[:] = 0.0
        self.w.x.array[m0] = f.x.array
        self.w.x.scatter_forward()

    # --- solves ----------------------------------------------------------
    def _targets(self, potentials) -> dict:
        if isinstance(potentials, dict):
            unknown = set(potentials) - set(self.electrodes)
            if unknown:
                raise InputError(f"potentials: tags {sorted(unknown)}; expected electrode tags {self.electrodes}")
            out = {t: float(potentials.get(t, 0.0)) for t in self.electrodes}
        else:
            out = {t: float(potentials) for t in self.electrodes}
        for t, v in out.items():
            if not np.isfinite(v):
                raise InputError(f"potentials[{t}]: {v}; expected a finite V")
        return out

    def _set_bc(self, targets, lam, u=None, bcs=()):
        """Set the electrode potentials to ``lam`` x ``targets`` (V); with ``u``, also write the Dirichlet
        values ``bcs`` into that iterate."""
        for t, v in targets.items():
            nd = lam * v / self.kT_e
            self._psiE[t].value = nd
            if t in self._bcE:
                self._bcE[t].x.array[:] = nd
        # Put the boundary values into the iterate itself: otherwise Newton's first update carries
        # the whole jump (30 at the electrode dofs), and the step cap then scales the entire step
        # by 1/10, spending ~10 iterations on nothing but climbing the boundary value. (Not in
        # transients: there the iterate starts as the previous time level, whose amounts count.)
        if u is None:
            return
        for bc in bcs:
            bc.set(u.x.array)
        u.x.scatter_forward()

    def _try_newton(self, problem=None, u=None):
        """One SNES solve of ``problem`` (default: the full PNP system) from the current iterate ``u``:
        (converged, iterations)."""
        problem, u = (self.problem, self.w) if problem is None else (problem, u)
        self._limited = False
        snes = problem.solver
        try:
            problem.solve()
            reason, its = snes.getConvergedReason(), snes.getIterationNumber()
        except Exception:  # PETSc errors (e.g. a NaN in the LU) count as a failed attempt
            reason, its = -1, max(snes.getIterationNumber(), 1)
        if reason <= 0:
            # A failed factorisation leaves the preconditioner in an error state that would
            # fail every later solve: reset it so the continuation can retry.
            snes.getKSP().getPC().reset()
        u.x.scatter_forward()
        finite = self.comm.allreduce(bool(np.all(np.isfinite(u.x.array))), op=self._MPI.LAND)
        return bool(reason > 0 and finite and not self._limited), int(its)

    def _equilibrium(self):
        """The steady problem of a cell in equilibrium with its reservoir, reduced to psi alone.

        With blocking electrodes (no reactions) and a bulk reservoir, g_i = 0 makes every flux
        d_i c_i grad(g_i) vanish identically, so (psi, g = 0) solves the Nernst-Planck rows exactly
        for any psi, and the steady PNP problem is the Poisson-Boltzmann(-Bikerman) problem
        -div(grad psi) = rho(psi, g = 0) on the same mesh, spaces, quadrature and boundary terms.
        Its Jacobian is stiffness + rho'(psi) mass: no rows weighted by exp(+-z psi), which at
        20-40 kT/e span 1e+-17 and break the LU of the full mixed system (DIVERGED_LINEAR_SOLVE).
        Returns (problem, psi Function, its Dirichlet conditions).
        """
        if hasattr(self, "_eq"):
            return self._eq
        import ufl
        from dolfinx import fem
        V0 = self._V0
        fdim = self.mesh.topology.dim - 1
        psi, v = fem.Function(V0), ufl.TestFunction(V0)
        cs = self._concentrations([psi] + [0.0] * len(self.species), ufl)
        ionic = float(np.dot(np.square(self.z), self.c_bulk))
        rho = sum(zi * ci / ionic * c for zi, ci, c in zip(self.z, self.c_bulk, cs))
        G = lambda f: self.lD * ufl.grad(f)
        F = self._vol * (ufl.inner(G(psi), G(v)) - rho * v) * self.dx
        if self.stern_length is not None:
            ls = self.stern_length / self.lD
            for t in self.electrodes:
                F -= self._area * (self._psiE[t] - psi) / ls * v * self.ds(t)
        bcs = [fem.dirichletbc(self._bcE[t], fem.locate_dofs_topological(V0, fdim, self.tags.find(t)))
               for t in self._bcE]
        bcs += [fem.dirichletbc(fem.Function(V0), fem.locate_dofs_topological(V0, fdim, self.tags.find(t)))
                for t in self.bulk]
        problem = fem.petsc.NonlinearProblem(
            F, psi, bcs=bcs, petsc_options_prefix=self._prefix + "eq_",
            petsc_options=newton_lu_options(1e-9, 30, self._user_opts))
        problem.solver.setLineSearchPreCheck(weak_precheck(self._limit_step))
        problem.solver.setTolerances(atol=1e-12, stol=1e-9)
        self._eq = (problem, psi, bcs)
        return self._eq

    def solve_steady(self, potentials, *, steps=None, initial_potential="planar",
                     min_fraction=1e-3) -> PNPFieldResult:
        """Steady state for electrode potentials (V vs bulk): one number for every electrode or {tag: V}.

        With a bulk reservoir and no reactions the steady state is the equilibrium, solved exactly
        as the reduced psi problem (``_equilibrium``); otherwise the full PNP system. First Newton
        from ``initial_potential``: "planar" (default, also None; with a bulk reservoir, the planar equilibrium
        layer of each electrode at each point's distance from it, see ``_predictor``; without one,
        zero), "current" (the present state, e.g. a neighbouring potential's answer), or a callable
        X (3, n) in m -> phi in V with equilibrium concentrations. If that fails, or with ``steps``
        given, adaptive potential continuation from the exact zero-potential state: the electrode
        potentials are scaled by a fraction that grows after a converged stage and is cut by 4 after
        a failed one (restarting from the last converged state). ``newton_iterations`` counts every
        iteration, failed attempts included. Raises ConvergenceError naming the last converged
        electrode potentials when the fraction step falls below ``min_fraction``.
        """
        from dolfinx import fem
        targets = self._targets(potentials)
        initial_potential = "planar" if initial_potential is None else initial_potential
        if not (isinstance(initial_potential, str) and initial_potential in ("planar", "current")
                or callable(initial_potential)):
            raise InputError(f"initial_potential: {initial_potential!r}; expected 'planar', "
                             "'current' or a callable X -> phi (V)")
        self.transient.value = 0.0
        self.problem.solver.setTolerances(atol=1e-12, stol=1e-9)
        V0, m0 = _collapse(self.W.sub(0))
        equilibrium = bool(self.bulk) and not self.reactions
        # The unknowns Newton works on: psi alone (equilibrium) or the full (psi, g) state.
        problem, u, bcs = self._equilibrium() if equilibrium else (self.problem, self.w, self.bcs)
        total, path = 0, []
        self._last_ok = {t: float("nan") for t in targets}
        if steps is None:
            if callable(initial_potential):
                f = fem.Function(V0)
                f.interpolate(lambda X: np.asarray(initial_potential(X), dtype=float) / self.kT_e)
                self.w.x.array[:] = 0.0
                self.w.x.array[m0] = f.x.array
            elif initial_potential == "planar":
                if self.bulk:
                    self._predictor(targets)
                else:
                    self.w.x.array[:] = 0.0
            self.w.x.scatter_forward()
            if equilibrium:
                u.x.array[:] = self.w.x.array[m0]
            self._set_bc(targets, 1.0, u, bcs)
            ok, its = self._try_newton(problem, u)
            total += its
            if ok:
                return self._finish(equilibrium, u, m0, total, [1.0])
            dlam = 0.5
        else:
            dlam = 1.0 / int(steps)
        saved = np.zeros_like(u.x.array)   # psi = 0, g = 0: the exact state at zero potential
        lam = 0.0
        while lam < 1.0:
            trial = min(1.0, lam + dlam)
            u.x.array[:] = saved
            self._set_bc(targets, trial, u, bcs)
            ok, its = self._try_newton(problem, u)
            total += its
            if ok:
                saved[:] = u.x.array
                lam = trial
                path.append(lam)
                self._last_ok = {t: lam * v for t, v in targets.items()}
                dlam *= 2.0 if its <= 8 else 1.0
            else:
                dlam *= 0.25
                if dlam < min_fraction:
                    u.x.array[:] = saved
                    u.x.scatter_forward()
                    if equilibrium:   # leave the last converged state in the full unknowns
                        self.w.x.array[:] = 0.0
                        self.w.x.array[m0] = u.x.array
                        self.w.x.scatter_forward()
                    last = ", ".join(f"tag {t}: {v:.6g} V" for t, v in self._last_ok.items())
                    raise ConvergenceError(
                        f"PNP Newton did not converge at electrode potentials "
                        f"{ {t: trial * v for t, v in targets.items()} } V after {total} iterations "
                        f"(continuation step fell below {min_fraction:g}); last converged electrode "
                        f"potential: {last if path else 'none'}")
        return self._finish(equilibrium, u, m0, total, path)

    def _finish(self, equilibrium, u, m0, total, path):
        """Copy an equilibrium psi into the full state (g = 0) and build the result."""
        if equilibrium:
            self.w.x.array[:] = 0.0
            self.w.x.array[m0] = u.x.array
            self.w.x.scatter_forward()
        return self._result(total, path)

    def run_transient(self, potentials, dt: float, n_steps: int, initial=None, vtx=None) -> PNPFieldResult:
        """Backward-Euler run (dt in s) after a step of the electrodes to ``potentials`` (V).

        ``initial``: None (uniform bulk) or 'keep' (continue from the current state). Closed
        cells conserve each species exactly in the discrete scheme. ``vtx``: a path to write
        phi and c_i at every step (VTX/ADIOS2). ``totals`` holds (n_steps+1, n_species) mol/m^2
        per area of the first electrode.
        """
        targets = self._targets(potentials)
        self.dt.value = dt * self.Dref / self.lD ** 2
        self.transient.value = 1.0
        # Species balance holds to the residual: converge the transient on the residual.
        self.problem.solver.setTolerances(atol=1e-13, stol=1e-16)
        if initial is None:
            self.w.x.array[:] = 0.0
        elif not (isinstance(initial, str) and initial == "keep"):
            raise InputError(f"initial: {initial!r}; expected None (uniform bulk) or 'keep'")
        self.w_old.x.array[:] = self.w.x.array
        self._set_bc(targets, 1.0)
        self._last_ok = {t: float("nan") for t in targets}
        writer = self._vtx_writer(vtx) if vtx is not None else None
        totals, total = [self.totals()], 0
        try:
            if writer is not None:
                self._update_output()
                writer[0].write(0.0)
            for k in range(n_steps):
                ok, its = self._try_newton()
                total += its
                if not ok:
                    raise ConvergenceError(f"PNP Newton did not converge at time step {k + 1} "
                                           f"(t={(k + 1) * dt:.3g} s); last converged electrode potential: "
                                           f"{'time step ' + str(k) if k else 'none'}")
                self.w_old.x.array[:] = self.w.x.array
                totals.append(self.totals())
                if writer is not None:
                    self._update_output()
                    writer[0].write((k + 1) * dt)
        finally:
            if writer is not None:
                writer[0].close()
        res = self._result(total, [1.0])
        res.totals = np.array(totals)
        return res

    # --- outputs -----------------------------------------------------------
    def totals(self) -> np.ndarray:
        """Amount of each species per area of the first electrode, mol/m^2 (solver's quadrature)."""
        from dolfinx import fem
        a0 = self._areas[self.electrodes[0]]
        out = []
        for i, ci in enumerate(self._cs):
            val = self.comm.allreduce(fem.assemble_scalar(fem.form(self._vol * ci * self.dx)))
            out.append(val / a0 * self.c_bulk[i] * self.lD)
        return np.array(out)

    def _result(self, its, path) -> PNPFieldResult:
        from dolfinx import fem
        # Electrode charge: the Poisson residual's volume part tested with chi_t (1 on the
        # electrode's dofs) is the discrete Gauss flux through it, exact for the discrete solution
        # (and, with a Stern layer, equal to int (psi_E - psi)/l_S).
        unit = self.eps_r * EPS0 * self.kT_e / self.lD
        sig = {}
        for t in self.electrodes:
            R = self.comm.allreduce(fem.assemble_scalar(fem.form(self._poisson_volume(self._chi[t]))))
            sig[t] = float(unit * R / self._areas[t])
        fluxes, currents = {}, {}
        for r, i, J in self._J:
            val = self.comm.allreduce(fem.assemble_scalar(fem.form(self._area * J * self.ds(r.electrode))))
            jsi = val / self._areas[r.electrode] * self.Dref * self.c_bulk[i] / self.lD
            fluxes[(r.species, r.electrode)] = float(jsi)
            currents[r.electrode] = currents.get(r.electrode, 0.0) + float(self.z[i] * FARADAY * jsi)
        disc = self._first_integral_error(sig[self.electrodes[0]], unit) if not self.transient.value else None
        ns = len(self.species)
        V0, m0 = _collapse(self.W.sub(0))
        nloc = V0.dofmap.index_map.size_local
        X = V0.tabulate_dof_coordinates()[:nloc, :self.mesh.geometry.dim]
        fields = [self.w.x.array[m0][:nloc]]
        for k in range(ns):
            _, mk = _collapse(self.W.sub(k + 1))
            fields.append(self.w.x.array[mk][:nloc])
        X = np.concatenate(self.comm.allgather(X))
        fields = [np.concatenate(self.comm.allgather(f)) for f in fields]
        order = np.argsort(X[:, 0], kind="stable")
        psi = fields[0][order]
        g = np.array([f[order] for f in fields[1:]])
        A = np.exp(g - np.asarray(self.z, dtype=float)[:, None] * psi[None, :])
        if self.ion_size is not None:
            fr = self.c_bulk / self.c_bulk.sum()
            A = A / (1 - self.nu + self.nu * np.sum(fr[:, None] * A, axis=0))[None, :]
        e0 = self.electrodes[0]
        return PNPFieldResult(x=X[order, 0], phi=psi * self.kT_e, c=A * self.c_bulk[:, None],
                              surface_charge=sig[e0], newton_iterations=int(its), debye_length=self.lD,
                              thermal_voltage=self.kT_e, species=self.species, functions=(self.w,),
                              n_cells=self.mesh.topology.index_map(self.mesh.topology.dim).size_global,
                              coordinates=X[order], surface_charges=sig, reaction_fluxes=fluxes,
                              current_densities=currents, continuation=list(path),
                              discretisation_error=disc)

    def _first_integral_error(self, sigma, unit):
        """|sigma_h / sigma_FI - 1| at the electrode of an equilibrium slab, or None where it does not apply.

        For a planar layer in equilibrium with the reservoir, Poisson times psi' integrates to
        psi'(0)^2 - psi'(L)^2 = F(psi(0)) exactly (F: :func:`continuum.pnp.planar_first_integral`),
        whatever the valences, sterics or the Stern layer outside. The discrete surface charge
        (Gauss flux) against the charge this identity gives at the solved electrode-surface potential
        is then the solver's own estimate of its discretisation error; with a Dirichlet electrode it is
        the error against the analytic (Grahame) charge itself. Warns above 1 %.
        """
        import ufl
        from dolfinx import fem
        e0 = self.electrodes[0]
        if len(self.electrodes) != 1 or not self._planar(e0):
            return None
        if self.stern_length is None:
            psi_s = float(self._psiE[e0].value)
        else:
            psi_s = self.comm.allreduce(fem.assemble_scalar(
                fem.form(self._area * ufl.split(self.w)[0] * self.ds(e0)))) / self._areas[e0]
        # The field left at the reservoir face (zero for a semi-infinite layer): its Gauss flux.
        if not hasattr(self, "_chi_bulk"):
            V0 = self._V0
            fdim = self.mesh.topology.dim - 1
            chi = fem.Function(V0)
            for b in self.bulk:
                chi.x.array[fem.locate_dofs_topological(V0, fdim, self.tags.find(b))] = 1.0
            chi.x.scatter_forward()
            area_b = sum(self.comm.allreduce(fem.assemble_scalar(
                fem.form(self._area * fem.Constant(self.mesh, 1.0) * self.ds(b)))) for b in self.bulk)
            self._chi_bulk = (fem.form(self._poisson_volume(chi)), area_b)
        form_b, area_b = self._chi_bulk
        e_L = self.comm.allreduce(fem.assemble_scalar(form_b)) / area_b
        return first_integral_error(sigma, psi_s, self.z, self.c_bulk, getattr(self, "nu", None), unit,
                                    field_far=e_L, solver="PNPSolver",
                                    fix="refine at the electrode (PNPSolver.slab, or "
                                        "slab_mesh(grading='layer', first_cell=...))")

    def _update_output(self):
        """Interpolate phi (V) and c_i (mol/m^3) into the output Functions (degree of the solver)."""
        from dolfinx import fem
        if not hasattr(self, "_out"):
            V0 = self._V0
            phi = fem.Function(V0, name="phi")
            cs = [fem.Function(V0, name=f"c_{s}") for s in self.species]
            pts = V0.element.interpolation_points
            exprs = [fem.Expression(ufl_expr, pts) for ufl_expr in
                     [self.kT_e * self.w.sub(0)] + [cb * c for cb, c in zip(self.c_bulk, self._cs)]]
            self._out = ([phi] + cs, exprs)
        funcs, exprs = self._out
        for f, e in zip(funcs, exprs):
            f.interpolate(e)
        return funcs

    def _vtx_writer(self, path):
        import_engine("dolfinx")
        from dolfinx import io
        if not io.has_adios2:
            raise InputError("vtx: this dolfinx has no ADIOS2; use write_xdmf instead")
        funcs = self._update_output()
        return (io.VTXWriter(self.comm, str(path), funcs, engine="BP4"),)

    def write_vtx(self, path, time: float = 0.0) -> None:
        """Write phi (V) and c_i (mol/m^3) of the current state, mesh in m, to a VTX (ADIOS2 BP4) folder.

        Readable by ParaView (open the ``.bp`` folder) and by the adios2 Python bindings.
        """
        writer = self._vtx_writer(path)[0]
        try:
            writer.write(float(time))
        finally:
            writer.close()

    def write_xdmf(self, path) -> None:
        """Write phi (V) and c_i (mol/m^3) as P1 fields (mesh in m) to an XDMF file."""
        import basix.ufl
        from dolfinx import fem, io
        funcs = self._update_output()
        V1 = fem.functionspace(self.mesh, basix.ufl.element("Lagrange", self.mesh.basix_cell(), 1))
        with io.XDMFFile(self.comm, str(path), "w") as fh:
            fh.write_mesh(self.mesh)
            for f in funcs:
                g = fem.Function(V1, name=f.name)
                g.interpolate(f)
                fh.write_function(g)


def thin_film_fbv_current(potential, c_bulk, D, length, k_forward, k_backward, stern_length, *,
                          alpha=0.5, epsilon_r=78.5, temperature=298.15):
    """Steady FBV current of a z:z cell with one reacting cation, thin double-layer limit (A/m^2).

    Bazant, Chu & Bayly, SIAM J. Appl. Math. 65, 1463 (2005), leading order in lambda_D / L, for a
    1:1 (z = 1) electrolyte: cation discharged at x = 0 (FBV through a Stern layer of thickness
    ``stern_length``), anion blocked, bulk reservoir at x = length. The neutral bulk carries
    c(x) = c_b - J (length - x) / (2 D) (limiting current 2 F D c_b / length) with
    phi = (kT/e) ln(c/c_b); the diffuse layer at its edge c0 is in equilibrium (Gouy-Chapman,
    zeta) and the Stern layer is a capacitor, eps (phi_E - phi_d)/l_S = sqrt(8 eps kT n0) sinh(zeta/2).
    ``potential``: electrode potential vs the reservoir (V). Returns (current density A/m^2,
    diffuse-layer potential zeta V, Stern drop V).
    """
    from scipy.optimize import brentq
    kT_e = K_B * temperature / E_CHARGE
    lD = debye_length([c_bulk, c_bulk], [1, -1], epsilon_r, temperature)
    ls = stern_length / lD
    V = potential / kT_e
    Jlim = 2 * D * c_bulk / length

    def state(J):
        c0 = 1 - J / Jlim                     # c(0+)/c_b
        psi_edge = math.log(c0)
        # Stern + Gouy-Chapman at local concentration c0: (V - psi_d)/ls = 2 sqrt(c0) sinh(zeta/2).
        zeta = brentq(lambda zt: (V - psi_edge - zt) / ls - 2 * math.sqrt(c0) * math.sinh(zt / 2),
                      -80.0, 80.0, xtol=1e-14)
        drop = V - psi_edge - zeta
        rate = (k_forward * c_bulk * c0 * math.exp(-zeta) * math.exp(-alpha * drop)
                - k_backward * math.exp((1 - alpha) * drop))
        return rate, zeta, drop

    f = lambda J: state(J)[0] - J
    lo = -Jlim
    while f(lo) < 0:          # anodic currents are unbounded: widen the bracket until it holds the root
        lo *= 4
        if lo < -1e12 * Jlim:
            raise InputError(f"potential: {potential} V; no finite anodic thin-film current found")
    J = brentq(f, lo, Jlim * (1 - 1e-12), xtol=1e-16 * Jlim, rtol=1e-14)
    _, zeta, drop = state(J)
    return J * FARADAY, zeta * kT_e, drop * kT_e
