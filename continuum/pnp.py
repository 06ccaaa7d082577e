"""The Poisson-Nernst-Planck solver of the toolkit: any dolfinx mesh (1D/2D/3D), SI at the interface.

One formulation for every PNP and Poisson-Boltzmann problem of ``continuum``: open cells (a bulk
reservoir) and closed cells (electrodes only), steady states and backward-Euler transients, Stern
(Robin) electrodes, Bikerman sterics, Frumkin-Butler-Volmer reactions, graded and adaptive meshes,
MPI. :meth:`PNPSolver.slab` and :func:`PNPSolver1D` are thin constructors that build a slab
(interval, strip or box) mesh for it; the Poisson-Boltzmann problem is its equilibrium mode (a
steady state with a reservoir and blocking electrodes, see :meth:`PNPSolver.solve_steady`).

The mesh is given in metres with its boundary facets tagged (``facet_tags``): electrode tags
carry a potential (Dirichlet, or a Stern layer as a Robin condition) and block every species
except those reacting there; bulk tags hold the reservoir (phi = 0, c_i = c_i,bulk); untagged
boundary is insulating and impermeable.

Internally nondimensional (lengths by lambda_D, potential by kT/e, concentrations by their bulk
values, time by lambda_D^2 / D_ref); the mesh stays in metres and the forms carry the scale
factors, so every integral equals its dimensionless counterpart exactly. Every material number
enters the forms as a dolfinx Constant, so the compiled forms depend only on the valences, the
element and the options: a new concentration, Stern layer, ion size or mesh reuses the JIT cache.
Unknowns are the potential psi and the (dimensionless) electrochemical potentials
g_i = ln(c_i/c_i,b) + z_i psi + mu_steric,i (quasi-Fermi levels, as in semiconductor device codes),
so that

    c_i = exp(g_i - z_i psi) / (1 - nu + nu sum_j f_j exp(g_j - z_j psi))   (Bikerman; nu = 0: ideal)
    flux_i = -d_i c_i grad(g_i).

Why g rather than u_i = ln c_i: at 20-30 kT/e the flux of the log-concentration form,
c grad(u + z psi), is a cancellation of two O(30) numbers divided by cells of 1e-8 lambda_D,
which puts a floor under the Newton residual and stalls Newton from any guess that is not
already at the answer (the former 1D solver stalled above ~12 kT/e that way). In g the
equilibrium is g = const exactly, the flux is computed without cancellation, and the Bikerman
concentration is closed-form in (psi, g). Reactions: ``continuum.reactions``.
"""
from __future__ import annotations

import math

import numpy as np

from ._engines import import_engine
from ._petsc import newton_lu_options, weak_precheck
from .electrolyte import (EPS0, FARADAY, bikerman_concentrations, check_electrolyte, debye_length,
                          packing_fraction, planar_first_integral, thermal_voltage)
from .errors import ConvergenceError, InputError
from .gouy_chapman import planar_layer, stern_diffuse_potential
from .meshes import layer_first_cell, slab_mesh
from .results import PNPResult

_PREDICTORS = ("planar", "debye", "current")


def _collapse(sub):
    """(collapsed space, parent dof indices as an array); dolfinx 0.11 returns the map in a list."""
    V, m = sub.collapse()
    if isinstance(m, list) and len(m) and not np.isscalar(m[0]):
        m = m[0]
    return V, np.asarray(m, dtype=np.int64)


def _reference_diffusivity(D, n_species: int) -> float:
    """The largest constant diffusivity in ``D`` (m^2/s): the time and flux scale.

    ``D``: None (equilibrium only), one value for all species or one per species, each a number or
    a callable D(X) (skipped here); 1e-9 m^2/s when no D is a number.
    """
    if D is None:
        return 1e-9
    if isinstance(D, (list, tuple, np.ndarray)) and len(D) != n_species:
        raise InputError(f"diffusivities: {len(D)} given for {n_species} species; expected one each")
    vals = []
    for i in range(n_species):
        d = D[i] if isinstance(D, (list, tuple, np.ndarray)) else D
        if callable(d):
            continue
        if not np.isfinite(d) or d <= 0:
            raise InputError(f"diffusivities[{i}]: {d}; expected a positive finite m^2/s")
        vals.append(float(d))
    return max(vals) if vals else 1e-9


class PNPSolver:
    """Steady or transient PNP on a dolfinx mesh (coordinates in m) with tagged boundaries.

    ``species``: names; ``valences``: integers z_i; ``concentrations``: bulk mol/m^3 (electroneutral);
    ``diffusivities``: m^2/s, a number per species (or one for all), or a callable D(X) with X of shape
    (3, n) in m returning (n,) m^2/s; None for equilibrium work only (Poisson-Boltzmann: transients,
    reactions and non-equilibrium steady states need D). ``electrodes``: facet tags of electrodes
    (potential set per solve); ``bulk``: facet tags held at the bulk reservoir (``()``: a closed cell);
    ``permittivity``: relative; ``temperature``: K; ``stern_length``: m, a Robin (Stern) layer at every
    electrode, or {tag: m} for some of them (others Dirichlet), None for Dirichlet electrodes;
    ``ion_size``: m (Bikerman sterics, None: ideal ions); ``reactions``: ``continuum.reactions.FBVReaction``
    list (their electrodes need a Stern layer: the Frumkin drop lives in it); ``degree``: Lagrange
    degree 1-3; ``fixed_potentials``: {tag: V} electrodes held at that potential whenever a solve does
    not name them (e.g. the counter electrode of a closed cell; a single number given to a solve then
    sets the other electrodes); ``initial_potential``: the default Newton start of ``solve_steady``.
    Works under ``mpirun -n N`` (the mesh's communicator).

    Structure from MD (Bonthuis & Netz, PRL 107, 166102 (2011), here for PNP):
    ``permittivity_profile``: a callable X (3, n) in m -> relative permittivity (n,) > 0, replacing
    ``permittivity`` in Poisson's equation (``permittivity`` stays the reservoir's value: it sets the
    Debye length, the scales and the Stern layer's permittivity); ``mean_force_potentials``: {species:
    callable X -> W (J/mol)}, a potential of mean force that each ion feels on top of the mean field,
    so that c_i = c_i,b exp(g_i - z_i psi - W_i / RT) (/ the Bikerman factor). W must vanish at the
    reservoir (it is measured relative to the bulk). The analytic checks of planar layers
    (``discretisation_error``) do not apply with either and are skipped.

    Surface charge per electrode: the discrete Gauss flux, i.e. the volume part of the Poisson
    residual tested with a function of the potential space that is 1 on the electrode's dofs and 0 on
    every other electrode and reservoir dof. Every other residual row vanishes at the discrete
    solution, so any such test function gives the same charge, exact for the discrete solution (with
    a Stern layer equal to eps (phi_E - phi(0)) / l_S). The solver takes exp(-d / lambda_D) between
    (d: distance from the electrode): it varies on the layer's scale, not the first cell's, so no
    difference psi_1 - psi_0 across a cell 1e-12 lambda_D thin is divided by that cell (which cost the
    hat-function flux up to 4e-5 of sigma at 38 kT/e), and it vanishes in the bulk, so no bulk charge
    cancels in the sum.
    """

    def __init__(self, species, valences, concentrations, diffusivities, mesh, facet_tags, *,
                 electrodes=(1,), bulk=(2,), permittivity=78.5, temperature=298.15, degree=1,
                 stern_length=None, ion_size=None, reactions=(), fixed_potentials=None,
                 initial_potential="planar", petsc_options=None, permittivity_profile=None,
                 mean_force_potentials=None):
        self.species, self.z, self.c_bulk = check_electrolyte(species, valences, concentrations)
        if degree not in (1, 2, 3):
            raise InputError(f"degree: {degree!r}; expected 1, 2 or 3")
        self.electrodes, self.bulk = [int(t) for t in electrodes], [int(t) for t in bulk]
        if not self.electrodes or set(self.electrodes) & set(self.bulk):
            raise InputError(f"electrodes, bulk: {self.electrodes}, {self.bulk}; expected at least one "
                             "electrode tag and no tag in both")
        self.D, self.T, self.eps_r, self.degree = diffusivities, float(temperature), float(permittivity), int(degree)
        self.Dref = _reference_diffusivity(diffusivities, len(self.species))
        self.kT_e = thermal_voltage(self.T)
        self.lD = debye_length(self.c_bulk, self.z, self.eps_r, self.T)
        self.nu = packing_fraction(self.c_bulk, ion_size)
        self.ion_size = ion_size
        self._ls = self._stern_lengths(stern_length)
        self.stern_length = stern_length
        self.reactions = list(reactions)
        for r in self.reactions:
            if r.species not in self.species:
                raise InputError(f"reactions: species {r.species!r} not in {self.species}")
            if r.electrode not in self.electrodes:
                raise InputError(f"reactions: electrode tag {r.electrode}; expected one of {self.electrodes}")
            if not (0 < r.alpha < 1) or not (r.k_forward >= 0 and r.k_backward >= 0):
                raise InputError(f"reactions: {r}; expected 0 < alpha < 1 and non-negative rate constants")
            if self._ls[r.electrode] is None:
                raise InputError(f"stern_length: None at electrode {r.electrode}; expected a Stern layer (m) "
                                 "with FBV reactions: the Frumkin rate depends on the Stern-layer potential drop")
        if self.reactions and diffusivities is None:
            raise InputError("diffusivities: None; expected D (m^2/s) with FBV reactions (the rate competes "
                             "with transport)")
        self.fixed_potentials = {int(t): float(v) for t, v in (fixed_potentials or {}).items()}
        if set(self.fixed_potentials) - set(self.electrodes):
            raise InputError(f"fixed_potentials: tags {sorted(set(self.fixed_potentials) - set(self.electrodes))}; "
                             f"expected electrode tags {self.electrodes}")
        self.initial_potential = self._check_start(initial_potential)
        self.max_update = 3.0
        self._user_opts = dict(petsc_options or {})
        self._slab = None          # the recipe of a slab mesh that follows the potential (PNPSolver.slab)
        if permittivity_profile is not None and not callable(permittivity_profile):
            raise InputError("permittivity_profile: expected a callable X (3, n) in m -> relative "
                             "permittivity (n,), or None")
        pmf = dict(mean_force_potentials or {})
        for name, w in pmf.items():
            if name not in self.species:
                raise InputError(f"mean_force_potentials: species {name!r} not in {self.species}")
            if not callable(w):
                raise InputError(f"mean_force_potentials[{name!r}]: expected a callable X -> W (J/mol)")
        self.permittivity_profile, self.mean_force_potentials = permittivity_profile, pmf
        self._build(mesh, facet_tags)

    def _stern_lengths(self, stern_length) -> dict:
        """{electrode tag: Stern length (m) or None}, checked."""
        if isinstance(stern_length, dict):
            unknown = set(stern_length) - set(self.electrodes)
            if unknown:
                raise InputError(f"stern_length: tags {sorted(unknown)}; expected electrode tags {self.electrodes}")
            out = {t: stern_length.get(t) for t in self.electrodes}
        else:
            out = {t: stern_length for t in self.electrodes}
        for t, v in out.items():
            if v is not None and not (np.isfinite(v) and v > 0):
                raise InputError(f"stern_length: {v} at electrode {t}; expected a positive m or None")
        return out

    @staticmethod
    def _check_start(start):
        if not (isinstance(start, str) and start in _PREDICTORS or callable(start)):
            raise InputError(f"initial_potential: {start!r}; expected 'planar', 'debye', 'current' or a "
                             "callable X -> phi (V)")
        return start

    @classmethod
    def slab(cls, species, valences, concentrations, diffusivities=None, *, max_potential=None, length=None,
             n_cells=100, grading=None, h_min=None, cells_per_decade=10, lateral=(), n_cells_lateral=(),
             cells="simplex", closed=False, comm=None, permittivity=78.5, temperature=298.15,
             stern_length=None, ion_size=None, **kwargs) -> "PNPSolver":
        """A solver on the slab [0, length] (x ``lateral``, m) with the electrode on x = 0 (tag 1).

        The default mesh of the toolkit's 1D/2D/3D double layers. x = ``length`` (default 20 Debye
        lengths) is the bulk reservoir (tag 2), or with ``closed=True`` a second electrode (a closed
        cell: ``electrodes=(1, 2)``, no reservoir; give its potential per solve or as
        ``fixed_potentials``). Along x, ``grading``:

        - "layer" (default for an open cell): ``n_cells`` Debye-graded cells, preceded by
          ``cells_per_decade`` geometric cells per decade down to a first cell that resolves the
          layer's local Debye length (:func:`continuum.meshes.layer_first_cell`: 2 % of it) at
          ``max_potential`` (V); with ``max_potential=None`` at the potential being solved, rounded
          down to a power of ten and rebuilt when a solve needs a finer first cell. The surface charge
          stays within 1 % of the analytic one up to 40 kT/e (bench/pnp_sweep.py).
        - "debye": Debye-graded nodes (:func:`continuum.meshes.debye_graded_nodes`);
        - "uniform" (default for a closed cell, which has electrodes at both ends).

        ``h_min`` (m) overrides ``grading`` with a geometric mesh of that first cell. ``lateral``: (),
        (W,) or (W, H) m with ``n_cells_lateral`` cells each; ``cells``: "simplex" or "box". Other
        keywords go to :class:`PNPSolver`.
        """
        species, z, c = check_electrolyte(species, valences, concentrations)
        grading = ("uniform" if closed else "layer") if grading is None else grading
        if grading not in ("layer", "debye", "uniform"):
            raise InputError(f"grading: {grading!r}; expected 'layer', 'debye' or 'uniform'")
        if closed and grading == "layer" and h_min is None:
            raise InputError("grading: 'layer' grades from the electrode at x = 0 only; a closed cell "
                             "has electrodes at both ends: use 'uniform', 'debye' or h_min")
        if max_potential is not None and not np.isfinite(max_potential):
            raise InputError(f"max_potential: {max_potential}; expected a finite V or None")
        lD = debye_length(c, z, permittivity, temperature)
        length = 20.0 * lD if length is None else float(length)
        if closed:
            kwargs.setdefault("electrodes", (1, 2))
            kwargs.setdefault("bulk", ())
        recipe = dict(length=length, n_cells=int(n_cells), lateral=tuple(lateral),
                      n_cells_lateral=tuple(n_cells_lateral) if lateral else (), cells=cells,
                      cells_per_decade=cells_per_decade, decay_length=lD, comm=comm)
        first = None
        if h_min is not None:
            recipe["h_min"] = h_min
        elif grading == "debye":
            recipe["grading"] = "debye"
        elif grading == "layer":
            nu = packing_fraction(c, ion_size)
            ls = stern_length.get(1) if isinstance(stern_length, dict) else stern_length
            ls = None if ls is None else ls / lD
            if max_potential is None:
                first = cls._rounded_first_cell(4.0, c, z, nu, ls)
            else:
                first = layer_first_cell(max_potential / thermal_voltage(temperature), c, z, nu, ls)
            recipe.update(grading="layer", first_cell=first * lD)
        msh, tags = slab_mesh(**recipe)
        s = cls(species, z, c, diffusivities, msh, tags, permittivity=permittivity, temperature=temperature,
                stern_length=stern_length, ion_size=ion_size, **kwargs)
        if grading == "layer" and h_min is None and max_potential is None:
            s._slab = recipe     # the mesh follows the potential (see _adapt_mesh)
        return s

    @staticmethod
    def _rounded_first_cell(psi, concentrations, valences, packing, stern_length) -> float:
        """First cell (Debye lengths) for |psi| (kT/e, at least 4) rounded down to a power of ten, so
        that nearby potentials share one mesh."""
        need = layer_first_cell(max(abs(psi), 4.0), concentrations, valences, packing, stern_length)
        return 10.0 ** math.floor(math.log10(need))

    def _adapt_mesh(self, targets) -> bool:
        """On a slab that follows the potential, rebuild it when ``targets`` (V) need a finer first cell."""
        if self._slab is None:
            return False
        ls = self._ls[self.electrodes[0]]
        psi = max(abs(v) for v in targets.values()) / self.kT_e
        want = self._rounded_first_cell(psi, self.c_bulk, self.z, self.nu, None if ls is None else ls / self.lD)
        if want * self.lD >= self._slab["first_cell"] * (1 - 1e-12):
            return False
        self._slab["first_cell"] = want * self.lD
        self._build(*slab_mesh(**{**self._slab, "comm": self.comm}))
        return True

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
        self._cache = {}           # forms and problems built on first use, for this mesh
        self._problem = None
        self._equilibrium_state = False
        ns = len(self.species)
        tdim = msh.topology.dim
        fdim = tdim - 1
        msh.topology.create_connectivity(fdim, tdim)
        el = basix.ufl.element("Lagrange", msh.basix_cell(), self.degree)
        self.W = fem.functionspace(msh, basix.ufl.mixed_element([el] * (ns + 1)))
        self.w, self.w_old = fem.Function(self.W), fem.Function(self.W)
        K = lambda v: fem.Constant(msh, float(v))
        self.dt, self.transient = K(1.0), K(0.0)
        lD = self.lD
        # Scale factors: the mesh is in metres, the equations in Debye units.
        self._vol, self._area, lDc = K(lD ** -tdim), K(lD ** -(tdim - 1)), K(lD)
        self._G = lambda f: lDc * ufl.grad(f)
        q = 2 * self.degree + 4
        # One fixed quadrature for every form: the species balance (residual tested with 1)
        # and the reported totals must use the same rule to agree to round-off.
        self.dx = ufl.Measure("dx", domain=msh, metadata={"quadrature_degree": q})
        self.ds = ufl.Measure("ds", domain=msh, subdomain_data=tags, metadata={"quadrature_degree": q})
        ionic = float(np.dot(np.square(self.z), self.c_bulk))
        self._wts = [K(ci / ionic) for ci in self.c_bulk]          # also the Bikerman fractions (proportional)
        self._nu_c = None if self.nu is None else K(self.nu)
        self._psiE = {t: K(0.0) for t in self.electrodes}
        self._inv_ls = {t: K(lD / ls) for t, ls in self._ls.items() if ls is not None}
        self._di = [self._D_expr(i, K, fem, basix) for i in range(ns)]
        spaces = [_collapse(self.W.sub(k)) for k in range(ns + 1)]
        self._V0 = spaces[0][0]
        self._eps_rel, self._pmf = self._structure_fields(fem)
        self._fbv = []
        for r in self.reactions:
            i = self.species.index(r.species)
            self._fbv.append((r, i, K(r.k_forward * lD / self.Dref),
                              K(r.k_backward * lD / (self.Dref * self.c_bulk[i])), K(r.alpha)))

        parts, old = ufl.split(self.w), ufl.split(self.w_old)
        psi, gs = parts[0], parts[1:]
        cs = self._concentrations(psi, gs)
        self._cs = cs
        self._rho = sum(zi * wi * ci for zi, wi, ci in zip(self.z, self._wts, cs))
        self._poisson_volume = lambda v, p=psi, rho=self._rho: self._vol * (
            self._stiffness(p, v) - rho * v) * self.dx
        self._J = [(r, i, self._fbv_rate(psi, cs[i], r, i, kf, kb, al)) for r, i, kf, kb, al in self._fbv]
        self._parts, self._old = (psi, gs), old

        # Dirichlet conditions: the potential on Dirichlet electrodes, every field at the reservoir.
        self.bcs = []
        self._maps = [m for _, m in spaces]       # each field's dofs in W
        V0 = self._V0 = spaces[0][0]
        self._bcE = {}
        for t in self.electrodes:
            if self._ls[t] is None:
                f = fem.Function(V0)
                dofs = fem.locate_dofs_topological((self.W.sub(0), V0), fdim, tags.find(t))
                self.bcs.append(fem.dirichletbc(f, dofs, self.W.sub(0)))
                self._bcE[t] = f
        for t in self.bulk:
            for k, (Vk, _) in enumerate(spaces):
                dofs = fem.locate_dofs_topological((self.W.sub(k), Vk), fdim, tags.find(t))
                self.bcs.append(fem.dirichletbc(fem.Function(Vk), dofs, self.W.sub(k)))
        self._prefix = f"pnp{id(self)}_"
        # Electrode areas (Debye units) and the Gauss-flux test functions (class doc).
        self._areas, self._chi = {}, {}
        for t in self.electrodes:
            a = fem.assemble_scalar(fem.form(self._area * K(1.0) * self.ds(t)))
            self._areas[t] = self.comm.allreduce(a)
            if self._areas[t] <= 0:
                raise InputError(f"electrodes: tag {t} marks no boundary facet; expected tagged facets")
        for t in self.electrodes:
            self._chi[t] = self._gauss_weight(t)
        self._chi_bulk = self._indicator(self.bulk) if self.bulk else None
        self._area_bulk = sum(self.comm.allreduce(fem.assemble_scalar(
            fem.form(self._area * K(1.0) * self.ds(b)))) for b in self.bulk)

    def _indicator(self, tag_list):
        """A function of the potential space that is 1 on the dofs of the facets of ``tag_list``, else 0."""
        from dolfinx import fem
        chi = fem.Function(self._V0)
        fdim = self.mesh.topology.dim - 1
        for t in tag_list:
            chi.x.array[fem.locate_dofs_topological(self._V0, fdim, self.tags.find(t))] = 1.0
        chi.x.scatter_forward()
        return chi

    def _gauss_weight(self, tag):
        """The Gauss-flux test function of electrode ``tag`` (see the class doc): exp(-d / lambda_D),
        set to 1 on the electrode's dofs and 0 on every other electrode's and reservoir's dofs."""
        from dolfinx import fem
        for t in self.electrodes:
            self._planes(t)        # collective (allgather): every rank, before the local interpolation
        chi = fem.Function(self._V0)
        chi.interpolate(lambda X: np.exp(-self._distance(tag, X) / self.lD))
        fdim = self.mesh.topology.dim - 1
        for t in self.electrodes + self.bulk:
            chi.x.array[fem.locate_dofs_topological(self._V0, fdim, self.tags.find(t))] = float(t == tag)
        chi.x.scatter_forward()
        return chi

    def _concentrations(self, psi, gs=None):
        """c_i / c_i,bulk as UFL expressions of psi and the electrochemical potentials (None: g = 0)."""
        import ufl
        if any(w is not None for w in self._pmf):    # the mean force enters as g_i - W_i / RT
            gs = [(0.0 if gs is None else gs[i]) - (0.0 if w is None else w)
                  for i, w in enumerate(self._pmf)]
        return bikerman_concentrations(psi, self._wts, self.z, self._nu_c, g=gs, exp=ufl.exp)

    def _stiffness(self, p, v):
        """The Poisson operator's bilinear part, eps(X)/eps_bulk-weighted with a permittivity profile."""
        import ufl
        form = ufl.inner(self._G(p), self._G(v))
        return form if self._eps_rel is None else self._eps_rel * form

    def _structure_fields(self, fem):
        """eps(X)/eps_bulk and W_i(X)/RT as Functions of the potential's space (None where not given):
        their dofs are psi's, so the result's numpy concentrations can read W node by node."""
        V = self._V0
        eps = None
        if self.permittivity_profile is not None:
            eps = fem.Function(V)
            eps.interpolate(lambda X: np.asarray(self.permittivity_profile(X), dtype=float) / self.eps_r)
            bad = np.any(~np.isfinite(eps.x.array)) or np.any(eps.x.array <= 0)
            if self.comm.allreduce(bad, op=self._MPI.LOR):
                raise InputError("permittivity_profile: non-positive or non-finite values; expected eps_r > 0")
        RT = FARADAY * self.kT_e
        pmf = []
        for name in self.species:
            w = self.mean_force_potentials.get(name)
            if w is None:
                pmf.append(None)
                continue
            f = fem.Function(V)
            f.interpolate(lambda X, w=w: np.asarray(w(X), dtype=float) / RT)
            fdim = self.mesh.topology.dim - 1
            at_bulk = np.concatenate([f.x.array[fem.locate_dofs_topological(V, fdim, self.tags.find(t))]
                                      for t in self.bulk] or [np.zeros(0)])
            bad = bool(np.any(~np.isfinite(f.x.array))) or bool(np.any(np.abs(at_bulk) > 1e-6))
            if self.comm.allreduce(bad, op=self._MPI.LOR):
                raise InputError(f"mean_force_potentials[{name!r}]: non-finite, or nonzero at the "
                                 "reservoir; expected W measured from the bulk (W = 0 there), J/mol")
            pmf.append(f)
        return eps, pmf

    def _fbv_rate(self, psi, ci, r, i, kf, kb, alpha):
        """Dimensionless FBV consumption rate of species i by reaction r (flux unit D_ref c_i,b / lambda_D);
        ``kf``, ``kb``, ``alpha``: the reaction's reduced rate constants and transfer coefficient."""
        import ufl
        zi = self.z[i]
        drop = self._psiE[r.electrode] - psi
        return kf * ci * ufl.exp(-alpha * zi * drop) - kb * ufl.exp((1 - alpha) * zi * drop)

    def _D_expr(self, i, K, fem, basix):
        d = self.D[i] if isinstance(self.D, (list, tuple, np.ndarray)) else self.D
        if d is None:
            return K(1.0)      # equilibrium only: D never enters (the full problem refuses to build)
        if callable(d):
            V = fem.functionspace(self.mesh, basix.ufl.element("Lagrange", self.mesh.basix_cell(), 1))
            f = fem.Function(V)
            f.interpolate(lambda X: np.asarray(d(X), dtype=float) / self.Dref)
            bad = np.any(f.x.array <= 0) or np.any(~np.isfinite(f.x.array))
            if self.comm.allreduce(bad, op=self._MPI.LOR):
                raise InputError(f"diffusivities[{i}]: D(X) has non-positive or non-finite values; expected > 0")
            return f
        return K(float(d) / self.Dref)

    @property
    def problem(self):
        """The full PNP Newton problem in (psi, g_1..g_n), built on first use (transients, reactions,
        closed cells); an equilibrium steady state never needs it."""
        if self._problem is None:
            if self.D is None:
                raise InputError("diffusivities: None; expected D (m^2/s) for transients, reactions and "
                                 "steady states without a reservoir (only the equilibrium needs none)")
            import ufl
            from dolfinx import fem
            psi, gs = self._parts
            tests = ufl.TestFunctions(self.W)
            cs_old = self._concentrations(self._old[0], self._old[1:])
            F = self._poisson_volume(tests[0])
            for t, inv_ls in self._inv_ls.items():
                # Robin: psi - l_S dpsi/dn_in = psi_E, i.e. outward flux (psi_E - psi)/l_S.
                F -= self._area * (self._psiE[t] - psi) * inv_ls * tests[0] * self.ds(t)
            for i in range(len(self.species)):
                F += self._vol * (self.transient * (self._cs[i] - cs_old[i]) / self.dt * tests[i + 1]
                                  + self._di[i] * self._cs[i] * ufl.inner(self._G(gs[i]), self._G(tests[i + 1]))
                                  ) * self.dx
            for r, i, J in self._J:
                # Outward normal flux of species i through the reaction plane = its consumption J.
                F += self._area * J * tests[i + 1] * self.ds(r.electrode)
            self.F = F
            self._problem = fem.petsc.NonlinearProblem(
                F, self.w, bcs=self.bcs, petsc_options_prefix=self._prefix,
                petsc_options=newton_lu_options(1e-9, 30, self._user_opts))
            self._problem.solver.setLineSearchPreCheck(weak_precheck(self._limit_step))
        return self._problem

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
        cache = self._cache.setdefault("planes", {})
        if tag in cache:
            return cache[tag]
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
        cache[tag] = out
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

    def _start(self, targets, start):
        """Write the Newton start ``start`` for electrode potentials ``targets`` (V) into the full state.

        "planar": each electrode's semi-infinite planar equilibrium layer (psi, kT/e; after the Stern
        drop of a planar Stern + diffuse layer) at each point's distance from it, with g = 0, the
        equilibrium with the reservoir, exact for blocking electrodes: on a slab this is the continuum
        answer, so Newton only corrects for the mesh and the finite cell (without a reservoir: zero).
        "debye": the Debye-Hueckel layers psi_E exp(-d / lambda_D), g = 0. "current": the present
        state. A callable: X (3, n) in m -> phi (V), with g = 0.
        """
        from dolfinx import fem
        if isinstance(start, str) and start == "current":
            return
        V0, m0 = self._V0, self._maps[0]
        self.w.x.array[:] = 0.0
        if isinstance(start, str) and start == "planar" and not self.bulk:
            self.w.x.scatter_forward()
            return
        if callable(start):
            fn = lambda X: np.asarray(start(X), dtype=float) / self.kT_e
        else:
            layers = []
            for t, v in targets.items():
                psi0 = v / self.kT_e
                if start == "debye":
                    layers.append((t, lambda d, p=psi0: p * np.exp(-d)))
                    continue
                if self._ls[t] is not None:
                    psi0 = stern_diffuse_potential(psi0, self.c_bulk, self.z, self._ls[t] / self.lD, self.nu)
                layers.append((t, planar_layer(psi0, self.c_bulk, self.z, self.nu)))
            for t in targets:
                self._planes(t)    # collective (allgather): every rank, before the local interpolation
            fn = lambda X: sum(layer(self._distance(t, X) / self.lD) for t, layer in layers)
        f = fem.Function(V0)
        f.interpolate(fn)
        self.w.x.array[m0] = f.x.array
        self.w.x.scatter_forward()

    # --- solves ----------------------------------------------------------
    def _targets(self, potential) -> dict:
        """{electrode tag: V}: a number sets every electrode not in ``fixed_potentials``; a dict names
        electrodes (the others keep their fixed potential, else 0 V)."""
        fixed = self.fixed_potentials
        if isinstance(potential, dict):
            unknown = set(potential) - set(self.electrodes)
            if unknown:
                raise InputError(f"potential: tags {sorted(unknown)}; expected electrode tags {self.electrodes}")
            out = {t: float(potential.get(t, fixed.get(t, 0.0))) for t in self.electrodes}
        else:
            out = {t: fixed[t] if t in fixed else float(potential) for t in self.electrodes}
        for t, v in out.items():
            if not np.isfinite(v):
                raise InputError(f"potential[{t}]: {v}; expected a finite V")
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
        """The steady problem of a cell in equilibrium with its reservoir, reduced to psi alone: the
        Poisson-Boltzmann(-Bikerman) problem.

        With blocking electrodes (no reactions) and a bulk reservoir, g_i = 0 makes every flux
        d_i c_i grad(g_i) vanish identically, so (psi, g = 0) solves the Nernst-Planck rows exactly
        for any psi, and the steady PNP problem is -div(grad psi) = rho(psi, g = 0) on the same mesh,
        spaces, quadrature and boundary terms. Its Jacobian is stiffness + rho'(psi) mass: no rows
        weighted by exp(+-z psi), which at 20-40 kT/e span 1e+-17 and break the LU of the full mixed
        system (DIVERGED_LINEAR_SOLVE). Returns (problem, psi Function, its Dirichlet conditions,
        residual form, diffuse charge density rho(psi)).
        """
        if "eq" in self._cache:
            return self._cache["eq"]
        import ufl
        from dolfinx import fem
        V0 = self._V0
        fdim = self.mesh.topology.dim - 1
        psi, v = fem.Function(V0), ufl.TestFunction(V0)
        rho = sum(zi * wi * c for zi, wi, c in zip(self.z, self._wts, self._concentrations(psi)))
        F = self._vol * (self._stiffness(psi, v) - rho * v) * self.dx
        for t, inv_ls in self._inv_ls.items():
            F -= self._area * (self._psiE[t] - psi) * inv_ls * v * self.ds(t)
        bcs = [fem.dirichletbc(self._bcE[t], fem.locate_dofs_topological(V0, fdim, self.tags.find(t)))
               for t in self._bcE]
        bcs += [fem.dirichletbc(fem.Function(V0), fem.locate_dofs_topological(V0, fdim, self.tags.find(t)))
                for t in self.bulk]
        problem = fem.petsc.NonlinearProblem(
            F, psi, bcs=bcs, petsc_options_prefix=self._prefix + "eq_",
            petsc_options=newton_lu_options(1e-9, 30, self._user_opts))
        problem.solver.setLineSearchPreCheck(weak_precheck(self._limit_step))
        problem.solver.setTolerances(atol=1e-12, stol=1e-9)
        self._cache["eq"] = (problem, psi, bcs, F, rho)
        return self._cache["eq"]

    def solve_steady(self, potential, *, steps=None, initial_potential=None, min_fraction=1e-3) -> PNPResult:
        """Steady state for electrode potentials (V vs bulk): one number for every electrode or {tag: V}.

        With a bulk reservoir and no reactions the steady state is the equilibrium, solved exactly
        as the reduced psi problem, Poisson-Boltzmann(-Bikerman) (``_equilibrium``; no D needed);
        otherwise the full PNP system. First Newton from ``initial_potential`` (None: the solver's
        default, "planar" unless constructed otherwise): "planar" (planar equilibrium layers, see
        ``_start``), "debye" (Debye-Hueckel layers), "current" (the present state, e.g. a neighbouring
        potential's answer), or a callable X (3, n) in m -> phi in V with equilibrium concentrations.
        If that fails, or with ``steps`` given, adaptive potential continuation from the exact
        zero-potential state: the electrode potentials are scaled by a fraction that starts at
        1/``steps`` (1/2 after a failed first attempt), grows after a converged stage and is cut by 4
        after a failed one (restarting from the last converged state). ``newton_iterations`` counts
        every iteration, failed attempts included. Raises ConvergenceError naming the last converged
        electrode potentials when the fraction step falls below ``min_fraction``.
        """
        targets = self._targets(potential)
        start = self._check_start(self.initial_potential if initial_potential is None else initial_potential)
        if self._adapt_mesh(targets) and isinstance(start, str) and start == "current":
            start = "planar"     # the mesh changed under the present state
        self.transient.value = 0.0
        self._equilibrium_state = False
        m0 = self._maps[0]
        equilibrium = bool(self.bulk) and not self.reactions
        # The unknowns Newton works on: psi alone (equilibrium) or the full (psi, g) state.
        if equilibrium:
            problem, u, bcs = self._equilibrium()[:3]
        else:
            problem, u, bcs = self.problem, self.w, self.bcs
            problem.solver.setTolerances(atol=1e-12, stol=1e-9)
        total, path = 0, []
        self._last_ok = {t: float("nan") for t in targets}
        if steps is None:
            self._start(targets, start)
            if equilibrium:
                u.x.array[:] = self.w.x.array[m0]
            self._set_bc(targets, 1.0, u, bcs)
            ok, its = self._try_newton(problem, u)
            total += its
            if ok:
                return self._finish(equilibrium, u, m0, total, [1.0])
            dlam = 0.5
        else:
            if int(steps) < 1:
                raise InputError(f"steps: {steps!r}; expected a positive integer or None")
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
            self._equilibrium_state = True
        return self._result(total, path)

    def run_transient(self, potential, dt: float, n_steps: int, initial=None, vtx=None) -> PNPResult:
        """Backward-Euler run (``dt`` in s) after a step of the electrodes to ``potential`` (V; a number
        or {tag: V}, as in ``solve_steady``).

        ``initial``: None (uniform bulk concentrations, zero potential) or 'keep' (continue from the
        current state). Closed cells conserve each species exactly in the discrete scheme (the weak
        form tested with 1 is the balance). ``vtx``: a path to write phi and c_i at every step
        (VTX/ADIOS2). The result's ``totals`` holds (n_steps+1, n_species) mol/m^2 per area of the
        first electrode.
        """
        targets = self._targets(potential)
        if not (np.isfinite(dt) and dt > 0) or int(n_steps) != n_steps or n_steps < 0:
            raise InputError(f"dt, n_steps: {dt!r}, {n_steps!r}; expected a positive s and a count >= 0")
        if initial is None:
            self._adapt_mesh(targets)
        elif not (isinstance(initial, str) and initial == "keep"):
            raise InputError(f"initial: {initial!r}; expected None (uniform bulk) or 'keep'")
        problem = self.problem
        self.dt.value = dt * self.Dref / self.lD ** 2
        self.transient.value = 1.0
        self._equilibrium_state = False
        # Species balance holds to the residual: converge the transient on the residual (absolute
        # 1e-13 in the scaled equations), or once the Newton step is 1e-12 of the state: from ~12 kT/e
        # round-off puts a floor of ~3e-13 under the residual (terms of e^12), and a step that small
        # in Newton's quadratic phase leaves the residual at that floor.
        problem.solver.setTolerances(atol=1e-13, stol=1e-12)
        if initial is None:
            self.w.x.array[:] = 0.0
        self.w_old.x.array[:] = self.w.x.array
        self._set_bc(targets, 1.0)
        self._last_ok = {t: float("nan") for t in targets}
        writer = self._vtx_writer(vtx) if vtx is not None else None
        totals, total = [self.totals()], 0
        try:
            if writer is not None:
                self._update_output()
                writer[0].write(0.0)
            for k in range(int(n_steps)):
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
        """Amount of each species per area of the first electrode, mol/m^2 (the solver's quadrature)."""
        from dolfinx import fem
        forms = self._cache.get("totals")
        if forms is None:
            forms = self._cache["totals"] = [fem.form(self._vol * ci * self.dx) for ci in self._cs]
        a0 = self._areas[self.electrodes[0]]
        return np.array([self.comm.allreduce(fem.assemble_scalar(f)) / a0 * self.c_bulk[i] * self.lD
                         for i, f in enumerate(forms)])

    def _fluxes(self):
        """Gauss fluxes (Debye units) of the current state: {electrode tag: R_t} (the Poisson residual's
        volume part tested with the electrode's Gauss weight, see the class doc) and that of the
        reservoir faces (tested with 1 on their dofs; 0 without a reservoir). One residual vector
        assembled, dotted with each test function."""
        import ufl
        from dolfinx import fem, la
        form = self._cache.get("residual")
        if form is None:
            form = self._cache["residual"] = fem.form(self._poisson_volume(ufl.TestFunction(self._V0)))
        b = fem.assemble_vector(form)
        b.scatter_reverse(la.InsertMode.add)
        n = self._V0.dofmap.index_map.size_local
        dot = lambda chi: self.comm.allreduce(float(np.dot(b.array[:n], chi.x.array[:n])))
        bulk = dot(self._chi_bulk) if self._chi_bulk is not None else 0.0
        return {t: dot(self._chi[t]) for t in self.electrodes}, bulk

    def _result(self, its, path) -> PNPResult:
        from dolfinx import fem
        unit = self.eps_r * EPS0 * self.kT_e / self.lD
        R, R_bulk = self._fluxes()
        sig = {t: float(unit * R[t] / self._areas[t]) for t in self.electrodes}
        fluxes, currents = {}, {}
        fbv = self._cache.get("fbv")
        if fbv is None:
            fbv = self._cache["fbv"] = [fem.form(self._area * J * self.ds(r.electrode)) for r, _, J in self._J]
        for (r, i, J), form in zip(self._J, fbv):
            val = self.comm.allreduce(fem.assemble_scalar(form))
            jsi = val / self._areas[r.electrode] * self.Dref * self.c_bulk[i] / self.lD
            fluxes[(r.species, r.electrode)] = float(jsi)
            currents[r.electrode] = currents.get(r.electrode, 0.0) + float(self.z[i] * FARADAY * jsi)
        disc = (self._first_integral_error(sig[self.electrodes[0]], unit, R_bulk)
                if not self.transient.value else None)
        nloc = self._V0.dofmap.index_map.size_local
        X = self._V0.tabulate_dof_coordinates()[:nloc, :self.mesh.geometry.dim]
        fields = [self.w.x.array[m][:nloc] for m in self._maps]
        X = np.concatenate(self.comm.allgather(X))
        fields = [np.concatenate(self.comm.allgather(f)) for f in fields]
        order = np.argsort(X[:, 0], kind="stable")
        psi = fields[0][order]
        gs = [f[order] for f in fields[1:]]
        for i, w in enumerate(self._pmf):   # the same degree and dofs as psi: W_i / RT at each node
            if w is not None:
                gs[i] = gs[i] - np.concatenate(self.comm.allgather(w.x.array[:nloc]))[order]
        c = np.array(bikerman_concentrations(psi, self.c_bulk, self.z, self.nu, g=gs))
        e0 = self.electrodes[0]
        return PNPResult(x=X[order, 0], phi=psi * self.kT_e, c=c * self.c_bulk[:, None],
                         surface_charge=sig[e0], newton_iterations=int(its), debye_length=self.lD,
                         thermal_voltage=self.kT_e, species=self.species, functions=(self.w,),
                         n_cells=self.mesh.topology.index_map(self.mesh.topology.dim).size_global,
                         coordinates=X[order], surface_charges=sig, reaction_fluxes=fluxes,
                         current_densities=currents, continuation=list(path), discretisation_error=disc)

    def _first_integral_error(self, sigma, unit, bulk_flux):
        """|sigma_h / sigma_FI - 1| at the electrode of an equilibrium slab, or None where it does not apply.

        For a planar layer in equilibrium with the reservoir, Poisson times psi' integrates to
        psi'(0)^2 - psi'(L)^2 = F(psi(0)) exactly (F: :func:`continuum.electrolyte.planar_first_integral`),
        whatever the valences, sterics or the Stern layer outside. The discrete surface charge
        (Gauss flux) against the charge this identity gives at the solved electrode-surface potential
        is then the solver's own estimate of its discretisation error; with a Dirichlet electrode it is
        the error against the analytic (Grahame) charge itself. Warns (DiscretisationWarning) above 1 %.
        ``bulk_flux``: the Gauss flux through the reservoir faces (Debye units), from ``_fluxes``.
        """
        import ufl
        from dolfinx import fem
        e0 = self.electrodes[0]
        if len(self.electrodes) != 1 or not self._planar(e0) or self._eps_rel is not None \
                or any(w is not None for w in self._pmf):
            return None
        if self._ls[e0] is None:
            psi_s = float(self._psiE[e0].value)
        else:
            form_s = self._cache.get("surface_potential")
            if form_s is None:
                form_s = self._cache["surface_potential"] = fem.form(self._area * ufl.split(self.w)[0] * self.ds(e0))
            psi_s = self.comm.allreduce(fem.assemble_scalar(form_s)) / self._areas[e0]
        # The field left at the reservoir face (zero for a semi-infinite layer): its Gauss flux.
        e_L = bulk_flux / self._area_bulk
        F = float(planar_first_integral(psi_s, self.c_bulk, self.z, self.nu)[0])
        sigma_fi = math.copysign(unit * math.sqrt(max(F, 0.0) + e_L ** 2), psi_s)
        if abs(sigma_fi) < 1e-9 * unit:
            # a layer at (nearly) zero potential: both charges are round-off, their ratio says
            # nothing about the mesh (a Brent search of the potential probes such points)
            return None
        err = abs(sigma / sigma_fi - 1)
        if err > 0.01:
            import warnings
            from .errors import DiscretisationWarning
            warnings.warn(f"PNPSolver: surface charge {sigma:.6g} C/m^2 differs by {100 * err:.3g} % from the "
                          f"planar first integral at the electrode's potential ({sigma_fi:.6g} C/m^2): the mesh "
                          f"does not resolve the layer; refine at the electrode (PNPSolver.slab's default "
                          f"grading, a smaller h_min, or slab_mesh(grading='layer', first_cell=...))",
                          DiscretisationWarning, stacklevel=4)
        return float(err)

    def charge_sensitivity(self) -> float:
        """d sigma / d phi (F/m^2) of the first electrode at the current equilibrium (after solve_steady).

        The other electrodes' potentials are held. At equilibrium every species is
        Boltzmann(-Bikerman) distributed in psi, so the tangent of the steady problem is the
        linearised Poisson-Boltzmann problem J dpsi = -dF/dphi_E (dpsi = 1 on a Dirichlet electrode,
        or the Robin/Stern condition's right-hand side), and d sigma/d phi is the derivative of the
        discrete surface charge in direction dpsi: one linear solve, the exact derivative of the
        discrete sigma(phi) (no finite-difference step error). Eliminating the species is also what
        keeps it accurate: the full mixed tangent carries rows scaled by exp(+-z psi), which at
        10-30 kT/e ruins a one-shot LU solve. With a Stern (Robin) electrode keep the first cell near
        1e-2 of the local Debye length: cells many decades thinner than the layer cost digits in this
        one-shot solve (GCS, 0.2 V, 1000 mol/m^3: 3.6e-6 relative at 1e-9 lambda_D, 4e-9 at 1e-3).
        """
        import ufl
        from dolfinx import fem
        import dolfinx.fem.petsc as fpetsc
        from petsc4py import PETSc
        if not self._equilibrium_state or self.transient.value != 0.0:
            raise InputError("charge_sensitivity: needs an equilibrium steady state (a bulk reservoir, no "
                             "reactions, after solve_steady)")
        e0 = self.electrodes[0]
        if "tangent" not in self._cache:
            _, psi, _, F, rho = self._equilibrium()
            V0, fdim = self._V0, self.mesh.topology.dim - 1
            v = F.arguments()[0]
            dpsi, sol = ufl.TrialFunction(V0), fem.Function(V0)
            a = ufl.derivative(F, psi, dpsi)
            one, zero = fem.Function(V0), fem.Function(V0)
            one.x.array[:] = 1.0
            dofs = lambda t: fem.locate_dofs_topological(V0, fdim, self.tags.find(t))
            bcs = [fem.dirichletbc(one if t == e0 else zero, dofs(t)) for t in self._bcE]
            bcs += [fem.dirichletbc(zero, dofs(t)) for t in self.bulk]
            if e0 in self._inv_ls:
                L = self._area * self._inv_ls[e0] * v * self.ds(e0)
            else:
                L = fem.Constant(self.mesh, 0.0) * v * self.dx
            dq = ufl.derivative(self._poisson_volume(self._chi[e0], psi, rho), psi, sol)
            ksp = PETSc.KSP().create(self.comm)
            ksp.setOptionsPrefix(self._prefix + "tangent_")
            ksp.setType("preonly")
            ksp.getPC().setType("lu")
            ksp.getPC().setFactorSolverType("mumps")
            self._cache["tangent"] = (fem.form(a), fem.form(L), bcs, sol, fem.form(dq), ksp)
        a, L, bcs, sol, dq, ksp = self._cache["tangent"]
        A = fpetsc.assemble_matrix(a, bcs=bcs)
        A.assemble()
        b = fpetsc.assemble_vector(L)
        fpetsc.apply_lifting(b, [a], bcs=[bcs])
        b.ghostUpdate(addv=PETSc.InsertMode.ADD, mode=PETSc.ScatterMode.REVERSE)
        fpetsc.set_bc(b, bcs)
        ksp.setOperators(A)
        ksp.solve(b, sol.x.petsc_vec)
        reason = ksp.getConvergedReason()
        A.destroy()
        b.destroy()
        if reason <= 0:
            raise ConvergenceError(f"charge_sensitivity: tangent LU solve failed (KSP reason {reason})")
        sol.x.scatter_forward()
        dR = self.comm.allreduce(fem.assemble_scalar(dq))
        return float(self.eps_r * EPS0 / self.lD * dR / self._areas[e0])

    def _update_output(self):
        """Interpolate phi (V) and c_i (mol/m^3) into the output Functions (degree of the solver)."""
        from dolfinx import fem
        if "out" not in self._cache:
            V0 = self._V0
            phi = fem.Function(V0, name="phi")
            cs = [fem.Function(V0, name=f"c_{s}") for s in self.species]
            pts = V0.element.interpolation_points
            exprs = [fem.Expression(ufl_expr, pts) for ufl_expr in
                     [self.kT_e * self.w.sub(0)] + [cb * c for cb, c in zip(self.c_bulk, self._cs)]]
            self._cache["out"] = ([phi] + cs, exprs)
        funcs, exprs = self._cache["out"]
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

        Readable by ParaView (open the ``.bp`` folder) and by the adios2 Python bindings; ``time`` in s.
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


def PNPSolver1D(species, valences, concentrations, diffusivities=None, *, permittivity=78.5,
                temperature=298.15, length=None, n_cells=200, degree=1, h_min=None, grading=None,
                stern_length=None, ion_size=None, closed=False, phi_right=0.0, predictor="planar",
                width=None, n_cells_y=None, comm=None, petsc_options=None, permittivity_profile=None,
                mean_force_potentials=None) -> PNPSolver:
    """A :class:`PNPSolver` on the interval [0, length] (or the 2D strip [0, length] x [0, width]), SI.

    A thin constructor over :meth:`PNPSolver.slab` with the 1D conventions: electrode at x = 0 (tag 1);
    at x = ``length`` (m; default 20 Debye lengths) the bulk reservoir, or with ``closed=True`` a
    second blocking electrode (tag 2) held at ``phi_right`` (V), so that ``solve_steady(V)`` and
    ``run_transient(V, ...)`` set the electrode at x = 0. ``diffusivities``: m^2/s per species (numbers
    or callables D(x) of the distance x in m), None for Poisson-Boltzmann (equilibrium) work.
    ``n_cells``: cells along x; ``grading``: None ("auto" for an open cell, "uniform" for a closed one),
    "auto" (the slab's "layer" grading, following the potential being solved), "debye" or "uniform";
    ``h_min`` (m): geometric mesh with that first cell instead. ``stern_length`` (m): Robin layer at
    x = 0; ``ion_size`` (m): Bikerman sterics; ``predictor``: "planar" or "debye", the default Newton
    start; ``width`` (m) and ``n_cells_y`` (default ``n_cells``): a strip of triangles with no-flux sides.
    ``permittivity_profile`` (callable eps_r(x)) and ``mean_force_potentials`` ({species: callable
    W(x), J/mol}) of the distance x in m: see :class:`PNPSolver`.
    """
    if predictor not in ("planar", "debye"):
        raise InputError(f"predictor: {predictor!r}; expected 'planar' or 'debye'")
    if grading not in (None, "auto", "debye", "uniform"):
        raise InputError(f"grading: {grading!r}; expected None, 'auto', 'debye' or 'uniform'")
    if closed and grading == "auto":
        raise InputError("grading: 'auto' grades from the electrode at x = 0 only; a closed cell "
                         "has electrodes at both ends: use 'uniform', 'debye' or h_min")
    if not closed and phi_right != 0.0:
        raise InputError(f"phi_right: {phi_right!r}; expected 0 for an open cell (the reservoir is the "
                         "potential reference) or closed=True")
    grading = {None: None, "auto": "layer"}.get(grading, grading)
    D = diffusivities
    one = lambda d: (lambda X, d=d: d(X[0])) if callable(d) else d   # noqa: E731  (x: distance, m)
    if D is not None:
        D = [one(d) for d in D] if isinstance(D, (list, tuple, np.ndarray)) else one(D)
    lateral, ncl = ((), ()) if width is None else ((float(width),), (int(n_cells_y or n_cells),))
    eps = None if permittivity_profile is None else one(permittivity_profile)
    pmf = {k: one(w) for k, w in (mean_force_potentials or {}).items()}
    return PNPSolver.slab(species, valences, concentrations, D, length=length, n_cells=n_cells,
                          grading=grading, h_min=h_min, lateral=lateral, n_cells_lateral=ncl, closed=closed,
                          comm=comm, permittivity=permittivity, temperature=temperature, degree=degree,
                          stern_length={1: stern_length} if closed else stern_length, ion_size=ion_size,
                          fixed_potentials={2: float(phi_right)} if closed else None,
                          initial_potential=predictor, petsc_options=petsc_options,
                          permittivity_profile=eps, mean_force_potentials=pmf)
