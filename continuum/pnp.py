"""Poisson-Nernst-Planck (PNP) solver on FEniCSx (dolfinx 0.11), SI at the interface.

Internally nondimensional: lengths by the Debye length lambda_D, potential by
kT/e, concentrations by each species' bulk value. Unknowns are the potential
psi and the log-concentrations u_i = ln(c_i / c_i,bulk): concentrations stay
positive by construction and the steady Boltzmann layer at 20-30 kT/e is a
smooth function of u, which is what lets Newton converge there.

Dimensionless equations (x by lambda_D, t by lambda_D^2 / D_ref)::

    -psi''           = sum_i z_i w_i exp(u_i)                 (Poisson)
    d exp(u_i)/dt    = div( d_i exp(u_i) grad(u_i + z_i psi + mu_steric) )   (Nernst-Planck)

with w_i = c_i,bulk / sum_j z_j^2 c_j,bulk, d_i = D_i / D_ref, and the optional
Bikerman steric chemical potential mu_steric = -ln(1 - a^3 N_A sum_j c_j) with the
bulk packing fraction nu = a^3 N_A sum_j c_j,bulk.

Boundary conditions (1D interval [0, L], electrode at x=0):

- electrode: Dirichlet potential psi0 (or Stern/Robin: psi - l_S psi' = psi0),
  no flux for every species;
- x = L: bulk reservoir (psi = 0, u_i = 0), or a second electrode (``closed``)
  with no flux, for closed-cell transients that must conserve each species.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from ._engines import import_engine
from ._petsc import newton_lu_options, weak_precheck
from .errors import ConvergenceError, InputError

E_CHARGE = 1.602176634e-19      # C
K_B = 1.380649e-23              # J/K
EPS0 = 8.8541878128e-12         # F/m
N_A = 6.02214076e23             # 1/mol


@dataclasses.dataclass
class PNPResult:
    """Fields of a PNP solve, SI, gathered onto every rank and sorted by x.

    x: (n,) m; phi: (n,) V; c: (n_species, n) mol/m^3; surface_charge: C/m^2
    (Gauss' law from the diffuse charge); newton_iterations: total over the
    continuation; debye_length: m; thermal_voltage: V. ``functions`` holds
    the dolfinx Functions (psi, u_i) in dimensionless form on the local rank.
    ``discretisation_error``: the solver's own estimate of the surface charge's relative error
    where an exact identity allows one (an open planar cell at equilibrium: the planar first
    integral at the solved electrode potential, see ``PNPSolver1D._first_integral_error``), else None.
    """
    x: np.ndarray   # in 2D: x coordinate of every dof (not unique)
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


def _collapse(sub):
    """(collapsed space, parent dof indices as an array); dolfinx 0.11 returns the map in a list."""
    V, m = sub.collapse()
    if isinstance(m, list) and len(m) and not np.isscalar(m[0]):
        m = m[0]
    return V, np.asarray(m, dtype=np.int64)


def debye_length(c_bulk, z, epsilon_r: float, temperature: float) -> float:
    """Debye length (m) for bulk concentrations ``c_bulk`` (mol/m^3) and valences ``z``."""
    ionic = sum(zi * zi * ci for zi, ci in zip(z, c_bulk)) * N_A
    return math.sqrt(epsilon_r * EPS0 * K_B * temperature / (E_CHARGE ** 2 * ionic))


def graded_nodes(length: float, n_cells: int, h_min: float) -> np.ndarray:
    """Nodes on [0, length] with the first cell h_min and geometric growth (shape (n_cells+1,)).

    Geometric grading keeps a fixed number of cells per decade of distance,
    which is what a Boltzmann layer whose width shrinks as exp(-psi0/2) needs.
    Falls back to a uniform mesh when h_min >= length / n_cells.
    """
    if h_min >= length / n_cells:
        return np.linspace(0.0, length, n_cells + 1)
    lo, hi = 1.0, 2.0
    while h_min * (hi ** n_cells - 1) / (hi - 1) < length:
        hi *= 2
    for _ in range(200):
        r = 0.5 * (lo + hi)
        if h_min * (r ** n_cells - 1) / (r - 1) < length:
            lo = r
        else:
            hi = r
    r = 0.5 * (lo + hi)
    x = h_min * (r ** np.arange(n_cells + 1) - 1) / (r - 1)
    return x * (length / x[-1])


def debye_graded_nodes(length: float, n_cells: int, decay_length: float = 1.0) -> np.ndarray:
    """Nodes on [0, length] equidistributing the P1 L2 error of a Debye-decaying field (shape (n_cells+1,)).

    The P1 error of a cell is ~ h^(5/2) |psi''| in L2; with |psi''| ~ exp(-x/decay_length)
    (the Debye-Hueckel tail of any double layer), equidistribution gives the local
    cell size h(x) ~ exp(2x / (5 decay_length)), i.e. nodes
    x_k = -(5/2) decay_length ln(1 - (k/n)(1 - exp(-2 length / (5 decay_length)))).
    Same units as ``length`` and ``decay_length``.
    """
    a = 2.0 / (5.0 * decay_length)
    k = np.arange(n_cells + 1) / n_cells
    x = -np.log1p(-k * -np.expm1(-a * length)) / a
    x[-1] = length
    return x


def planar_first_integral(psi, z, c_bulk, nu=None):
    """(dpsi/dx)^2 of the semi-infinite planar equilibrium layer at dimensionless potential(s) psi.

    Lengths in Debye lengths, psi in kT/e; the bulk must be electroneutral. Ideal ions: 2 sum_i w_i (exp(-z_i psi) - 1)
    with w_i = c_i / sum_j z_j^2 c_j; Bikerman (bulk packing ``nu``): the lattice-gas form
    (2 sum w / nu) ln(1 + nu sum_i f_i (exp(-z_i psi) - 1)), which tends to the ideal one
    as nu -> 0. Shape of ``psi`` (at least 1D).
    """
    c_bulk = np.asarray(c_bulk, dtype=float)
    w = c_bulk / float(np.dot(np.square(z), c_bulk))
    zz = np.asarray(z, dtype=float)
    t = -zz[:, None] * np.atleast_1d(np.asarray(psi, dtype=float))[None, :]
    # exp(t) - 1 - t instead of exp(t) - 1: the linear terms cancel in the neutral bulk
    # (sum_i w_i z_i = sum_i f_i z_i = 0), and dropping them analytically keeps F ~ psi^2
    # accurate down to psi ~ 1e-300 instead of drowning in round-off (which had made
    # F <= 0 and the predictor's tabulated x blow up for small potentials).
    small = np.abs(t) < 1e-3
    ts = np.where(small, t, 0.0)
    boltz = np.where(small, ts * ts * (0.5 + ts * (1 / 6 + ts / 24)), np.expm1(t) - t)
    if nu is None:
        return 2 * np.sum(w[:, None] * boltz, axis=0)
    f = c_bulk / c_bulk.sum()
    return 2 * w.sum() / nu * np.log1p(nu * np.sum(f[:, None] * boltz, axis=0))


def stern_diffuse_potential(psi0, z, c_bulk, stern_length, nu=None):
    """Diffuse-layer potential psi_d (kT/e) of a planar Stern + semi-infinite diffuse layer.

    Solves psi0 - psi_d = l_S |psi'(0)| sign(psi0) (``stern_length`` l_S in Debye lengths,
    the Stern layer in the electrolyte's permittivity) with the first integral, by
    bisection: the left side falls and the right side rises monotonically in psi_d.
    """
    lo, hi = (0.0, psi0) if psi0 >= 0 else (psi0, 0.0)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        g = mid + np.sign(mid) * stern_length * math.sqrt(
            max(float(planar_first_integral(mid, z, c_bulk, nu)[0]), 0.0)) - psi0
        if g < 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def planar_layer(psi0, z, c_bulk, nu=None):
    """psi(d) of the semi-infinite planar equilibrium layer at electrode potential ``psi0`` (kT/e).

    Any valences, ideal or Bikerman (bulk packing ``nu``); ``d``: distance from the electrode
    in Debye lengths (array). From the first integral (psi')^2 = F(psi)
    (:func:`planar_first_integral`), d(psi) = int_psi^psi0 ds / sqrt(F(s)) is tabulated by
    quadrature in ln|psi| and inverted. It is the solvers' Newton predictor: the equilibrium of
    an isolated planar layer, so Newton only corrects for the finite cell, the mesh, a Stern
    layer or a curved electrode, instead of climbing an exp(30) charge from a Debye-Hueckel guess.
    """
    sgn = 1.0 if psi0 >= 0 else -1.0
    a0 = abs(float(psi0))
    if a0 < 1e-12:
        return lambda d: np.zeros_like(np.asarray(d, dtype=float))
    # |psi| from a0 down to 1e-12 a0, log-spaced; below that the layer is Debye-Hueckel.
    mag = a0 * np.logspace(0, -12, 4000)
    slope = np.sqrt(np.maximum(planar_first_integral(sgn * mag, z, c_bulk, nu), 1e-300))
    integrand = mag / slope
    lnm = np.log(mag)
    x = np.concatenate([[0.0], np.cumsum(0.5 * (integrand[1:] + integrand[:-1]) * -np.diff(lnm))])
    x_end, m_end = x[-1], mag[-1]

    def psi(d):
        d = np.asarray(d, dtype=float)
        inner = np.exp(np.interp(d, x, lnm))
        return sgn * np.where(d <= x_end, inner, m_end * np.exp(-(d - x_end)))
    return psi


def first_integral_error(sigma, psi_s, z, c_bulk, nu, unit, field_far=0.0, solver="PNP", fix=""):
    """|sigma / sigma_FI - 1|, where sigma_FI = sign(psi_s) unit sqrt(F(psi_s) + field_far^2) is the
    planar first integral's charge at the electrode-surface potential ``psi_s`` (kT/e); None when
    sigma_FI is 0. ``unit``: eps kT / (e lambda_D) in C/m^2; ``field_far``: the dimensionless field
    left at the reservoir face. Warns (DiscretisationWarning) above 1 %, naming ``fix``.
    """
    F = float(planar_first_integral(psi_s, z, c_bulk, nu)[0])
    sigma_fi = math.copysign(unit * math.sqrt(max(F, 0.0) + field_far ** 2), psi_s)
    if sigma_fi == 0.0:
        return None
    err = abs(sigma / sigma_fi - 1)
    if err > 0.01:
        import warnings
        from .errors import DiscretisationWarning
        warnings.warn(f"{solver}: surface charge {sigma:.6g} C/m^2 differs by {100 * err:.3g} % from the "
                      f"planar first integral at the electrode's potential ({sigma_fi:.6g} C/m^2): the mesh "
                      f"does not resolve the layer; {fix}", DiscretisationWarning, stacklevel=4)
    return float(err)

def layer_first_cell(psi0, z, c_bulk, nu=None, stern_length=None, fraction=0.02):
    """First-cell size (Debye lengths) that resolves a planar layer at electrode potential psi0 (kT/e).

    The thinnest structure of the layer is its local Debye length at the electrode (or the outer
    Helmholtz plane, at the diffuse potential a Stern layer of ``stern_length`` Debye lengths
    leaves): lambda_D / sqrt(sum_i z_i^2 w_i c_i(0)/c_i,b), the Gouy-Chapman decay length
    (lambda_D e^(-|psi0|/2) for 1:1 at high potential). ``fraction`` of it, and never more than
    the Debye-Hueckel resolution 0.02 lambda_D; both signs of psi0 are covered, so a mesh made
    for |psi0| serves either polarity.
    """
    a0 = abs(float(psi0))
    zz, cb = np.asarray(z, dtype=float), np.asarray(c_bulk, dtype=float)
    w = cb * zz ** 2 / float(np.dot(zz ** 2, cb))
    worst = 1.0
    for s in (1.0, -1.0):
        psid = s * a0 if stern_length is None else stern_diffuse_potential(s * a0, z, c_bulk, stern_length, nu)
        boltz = np.exp(np.clip(-zz * psid, None, 700))
        den = 1.0 if nu is None else 1 + nu * float(np.dot(cb / cb.sum(), boltz - 1))
        worst = max(worst, float(np.dot(w, boltz)) / den)
    return min(0.02, fraction / math.sqrt(worst))


def layer_graded_nodes(length: float, n_cells: int, first_cell: float, decay_length: float = 1.0,
                       cells_per_decade: int = 10) -> np.ndarray:
    """Nodes on [0, length]: ``n_cells`` Debye-graded cells (:func:`debye_graded_nodes`), preceded by a
    geometric run from ``first_cell`` up to the first Debye-graded cell with ``cells_per_decade``
    cells per decade of cell size. Shape (n_cells + n_geometric + 1,).

    The geometric run keeps a fixed number of cells per decade through the compact high-potential
    layer (its width shrinks as exp(-z psi0/2)); the Debye-graded part equidistributes the P1 error
    of the exp(-x/decay_length) tail. Same units for all lengths. With a first Debye-graded cell
    already below ``first_cell`` there is no geometric run.
    """
    if not (length > 0 and n_cells >= 1 and first_cell > 0 and decay_length > 0 and cells_per_decade >= 1):
        raise InputError(f"layer_graded_nodes: length {length}, n_cells {n_cells}, first_cell {first_cell}, "
                         f"decay_length {decay_length}, cells_per_decade {cells_per_decade}; expected "
                         "positive sizes and counts")
    tail = debye_graded_nodes(length, n_cells, decay_length)
    h_d = tail[1]
    if h_d <= first_cell:
        return tail
    n_geo = int(math.ceil(cells_per_decade * math.log10(h_d / first_cell)))
    growth = (h_d / first_cell) ** (1.0 / n_geo)
    # Cells first_cell * growth^k, k = 0 .. n_geo-1; the last ends where the tail's first cell begins.
    geo = first_cell * (growth ** np.arange(n_geo + 1) - 1) / (growth - 1)
    rest = debye_graded_nodes(length - geo[-1], n_cells, decay_length)
    return np.concatenate([geo, geo[-1] + rest[1:]])


def electrolyte(species, z, c_bulk, degree: int = 1) -> tuple[list[str], list[int], np.ndarray]:
    """Checked (species, valences, bulk concentrations in mol/m^3) of an electroneutral bulk.

    Shared by every PNP/PB solver so that they refuse the same bad input with the same words.
    """
    species, z = list(species), [int(v) for v in z]
    c_bulk = np.asarray(c_bulk, dtype=float)
    if not (len(species) == len(z) == len(c_bulk)):
        raise InputError(f"species, z, c_bulk: lengths {len(species)}, {len(z)}, "
                         f"{len(c_bulk)}; expected equal")
    if np.any(~np.isfinite(c_bulk)) or np.any(c_bulk <= 0):
        raise InputError(f"c_bulk: {c_bulk.tolist()}; expected positive finite mol/m^3")
    net = float(np.dot(z, c_bulk))
    if abs(net) > 1e-9 * float(np.dot(np.abs(z), c_bulk)):
        raise InputError(f"c_bulk: net bulk charge {net:g} mol/m^3; expected electroneutral bulk")
    if degree not in (1, 2, 3):
        raise InputError(f"degree: {degree}; expected 1, 2 or 3")
    return species, z, c_bulk


def reference_diffusivity(D, n_species: int) -> float:
    """The largest constant diffusivity in ``D`` (m^2/s): the solvers' time and flux scale.

    ``D``: one value for all species or one per species, each a number or a callable D(x)
    (skipped here); 1e-9 m^2/s when every D is a function.
    """
    vals = []
    for i in range(n_species):
        d = D[i] if isinstance(D, (list, tuple, np.ndarray)) else D
        if callable(d):
            continue
        if not np.isfinite(d) or d <= 0:
            raise InputError(f"D[{i}]: {d}; expected a positive finite m^2/s")
        vals.append(float(d))
    return max(vals) if vals else 1e-9

class PNPSolver1D:
    """Steady or transient PNP between an electrode (x=0) and a bulk reservoir or second electrode.

    Parameters (SI): species names, valences ``z`` (integers), bulk
    concentrations ``c_bulk`` (mol/m^3), diffusivities ``D`` (m^2/s; a number
    per species or a callable D(x_m) -> m^2/s), ``epsilon_r``, ``temperature`` (K),
    ``length`` (m), ``n_cells``, ``degree`` (1 or 2), ``h_min`` (m; first-cell
    size of the geometric mesh), ``grading``: None (default) is "auto" for an open cell
    and "uniform" for a closed one; "auto": ``n_cells`` Debye-graded cells preceded by a geometric
    run (10 cells a decade) down to a first cell that resolves the layer at the potential being
    solved (:func:`layer_first_cell`), rebuilt when a solve needs a finer one, so the default mesh
    keeps the surface charge within 1 % of the analytic value up to 40 kT/e; "debye": nodes of
    :func:`debye_graded_nodes`, which beat h_min-geometric and uniform meshes for P1
    at a given cell count; "uniform". Ignored when h_min is given. ``stern_length`` (m; None for a
    Dirichlet electrode), ``ion_size`` (m; Bikerman steric term, None for off),
    ``closed`` (True: second electrode at x=L with no flux instead of a bulk
    reservoir; potential there ``phi_right``).
    """

    def __init__(self, species, z, c_bulk, D, *, epsilon_r=78.5, temperature=298.15,
                 length=None, n_cells=200, degree=1, h_min=None, stern_length=None,
                 ion_size=None, closed=False, phi_right=0.0, comm=None, petsc_options=None,
                 predictor="planar", width=None, n_cells_y=None, grading=None):
        self.species, self.z, self.c_bulk = electrolyte(species, z, c_bulk, degree)
        self.D = D
        self.T = float(temperature)
        self.eps_r = float(epsilon_r)
        self.kT_e = K_B * self.T / E_CHARGE
        self.lD = debye_length(self.c_bulk, self.z, self.eps_r, self.T)
        self.length = float(length) if length is not None else 20.0 * self.lD
        self.n_cells, self.degree = int(n_cells), int(degree)
        self.h_min = h_min
        if grading not in (None, "auto", "debye", "uniform"):
            raise InputError(f"grading: {grading!r}; expected None, 'auto', 'debye' or 'uniform'")
        if grading is None:
            grading = "uniform" if closed else "auto"
        if grading == "auto" and closed:
            raise InputError("grading: 'auto' grades from the electrode at x = 0 only; a closed cell "
                             "has electrodes at both ends: use 'uniform', 'debye' or h_min")
        self.grading = grading
        self._first_cell = None   # Debye lengths; set by "auto" for the potential being solved
        self.stern_length, self.ion_size = stern_length, ion_size
        self.closed, self.phi_right = bool(closed), float(phi_right)
        self._user_opts = dict(petsc_options or {})
        # Optional 2D strip [0, L] x [0, width] (triangles), electrode on x = 0, no-flux sides:
        # the same 1D physics on a 2D mesh, for solver scaling and x-y extensions.
        self.width, self.n_cells_y = width, n_cells_y
        if predictor not in ("planar", "debye"):
            raise InputError(f"predictor: {predictor!r}; expected 'planar' or 'debye'")
        self.predictor = predictor
        self._build(comm)

    # --- set-up --------------------------------------------------------
    def _make_mesh(self):
        """Interval [0, L/lambda_D] (or strip), graded as set up; sets self._Lnd and self._nx."""
        from dolfinx import mesh
        L = self._Lnd = self.length / self.lD
        if self.h_min is not None:
            nodes = graded_nodes(L, self.n_cells, self.h_min / self.lD)
        elif self.grading == "debye":
            nodes = debye_graded_nodes(L, self.n_cells)
        elif self.grading == "auto":
            if self._first_cell is None:
                self._first_cell = self._auto_first_cell(4.0)
            nodes = layer_graded_nodes(L, self.n_cells, self._first_cell)
        else:
            nodes = None
        nx = self._nx = self.n_cells if nodes is None else len(nodes) - 1
        if self.width is None:
            msh = mesh.create_interval(self.comm, nx, [0.0, L])
        else:
            ny = int(self.n_cells_y or self.n_cells)
            msh = mesh.create_rectangle(self.comm, [np.array([0.0, 0.0]), np.array([L, self.width / self.lD])],
                                        [nx, ny], mesh.CellType.triangle)
        if nodes is not None:
            # Map the uniform coordinate onto the graded one, vertex by vertex
            # (piecewise-linear in the uniform coordinate, so it is exact at nodes).
            xg = msh.geometry.x
            xg[:, 0] = np.interp(xg[:, 0] / L * nx, np.arange(nx + 1), nodes)
        return msh

    def _auto_first_cell(self, psi0_nd) -> float:
        """First cell (Debye lengths) for |psi0| up to psi0_nd, rounded down to a power of ten so
        that nearby potentials share one mesh."""
        nu = None if self.ion_size is None else float(self.ion_size ** 3 * N_A * self.c_bulk.sum())
        ls = None if self.stern_length is None else self.stern_length / self.lD
        need = layer_first_cell(max(abs(psi0_nd), 4.0), self.z, self.c_bulk, nu, ls)
        return 10.0 ** math.floor(math.log10(need))

    def _adapt_mesh(self, phi0):
        """With grading "auto", rebuild the mesh when the potential phi0 (V) needs a finer first cell."""
        if self.grading != "auto" or self.h_min is not None:
            return
        want = self._auto_first_cell(phi0 / self.kT_e)
        if want < self._first_cell * (1 - 1e-12):
            self._first_cell = want
            self.__dict__.pop("_tangent", None)
            self._build(self.comm)

    def _first_integral_error(self, res) -> float | None:
        """|sigma_h / sigma_FI - 1| for an open cell at equilibrium, or None.

        The planar first integral psi'(0)^2 = F(psi(0)) (:func:`planar_first_integral`) holds
        exactly for the semi-infinite layer whatever the valences, sterics or Stern layer; at
        L >= 10 lambda_D the field left at the reservoir changes it by < 1e-4 relative. The
        discrete charge against it at the solved electrode-surface potential is this solver's
        own estimate of its discretisation error (with a Dirichlet electrode, the error against
        the analytic charge itself). Warns (DiscretisationWarning) above 1 %.
        """
        if self.closed or self._Lnd < 10.0:
            return None
        return first_integral_error(res.surface_charge, float(res.phi[0] / self.kT_e), self.z, self.c_bulk,
                                    getattr(self, "nu", None), self.eps_r * EPS0 * self.kT_e / self.lD,
                                    solver=type(self).__name__,
                                    fix="use the default grading ('auto') or a smaller h_min")

    def _build(self, comm):
        dolfinx = import_engine("dolfinx")
        from mpi4py import MPI
        import basix.ufl
        import ufl
        from dolfinx import fem, mesh
        import dolfinx.fem.petsc  # noqa: F401  (registers fem.petsc)

        self.comm = comm if comm is not None else MPI.COMM_WORLD
        msh = self._make_mesh()
        L = self._Lnd
        self.mesh = msh
        ns = len(self.species)
        el = basix.ufl.element("Lagrange", msh.basix_cell(), self.degree)
        self.W = fem.functionspace(msh, basix.ufl.mixed_element([el] * (ns + 1)))
        self.w = fem.Function(self.W)
        self.w_old = fem.Function(self.W)
        self.dt = fem.Constant(msh, 1.0)
        self.psi0 = fem.Constant(msh, 0.0)
        self.transient = fem.Constant(msh, 0.0)

        x = ufl.SpatialCoordinate(msh)
        # One fixed quadrature for every form: the species balance (residual tested with 1)
        # and the reported totals must use the same rule to agree to round-off.
        self.dx = dx = ufl.Measure("dx", domain=msh, metadata={"quadrature_degree": 2 * self.degree + 4})
        parts = ufl.split(self.w)
        old = ufl.split(self.w_old)
        tests = ufl.TestFunctions(self.W)
        psi, us = parts[0], parts[1:]
        ionic = float(np.dot(np.square(self.z), self.c_bulk))
        wts = [ci / ionic for ci in self.c_bulk]
        rho = sum(zi * wi * ufl.exp(ui) for zi, wi, ui in zip(self.z, wts, us))
        F = ufl.inner(ufl.grad(psi), ufl.grad(tests[0])) * dx - rho * tests[0] * dx
        if self.stern_length is not None:
            # Robin: psi - l_S dpsi/dn_in = psi0 -> flux term (psi0 - psi)/l_S on the electrode.
            ls = self.stern_length / self.lD
            fdim = msh.topology.dim - 1
            facets = mesh.locate_entities_boundary(msh, fdim, lambda X: np.isclose(X[0], 0.0))
            tags = mesh.meshtags(msh, fdim, facets, np.full(len(facets), 1, dtype=np.int32))
            ds = ufl.Measure("ds", domain=msh, subdomain_data=tags)
            F -= (self.psi0 - psi) / ls * tests[0] * ds(1)
        steric = 0
        if self.ion_size is not None:
            nu = float(self.ion_size ** 3 * N_A * self.c_bulk.sum())
            frac = [ci / self.c_bulk.sum() for ci in self.c_bulk]
            # Lattice-gas excess chemical potential -ln(1 - sum a^3 c_j); its gradient is all that enters.
            steric = -ufl.ln(1 - nu * sum(f * ufl.exp(u) for f, u in zip(frac, us)))
            self.nu = nu
        Dref = self._D_ref()
        for i, (zi, ui, uo) in enumerate(zip(self.z, us, old[1:])):
            di = self._D_expr(i, x, Dref, ufl, fem, msh)
            ci = ufl.exp(ui)
            flux = di * ci * ufl.grad(ui + zi * psi + steric)
            F += (self.transient * (ci - ufl.exp(uo)) / self.dt * tests[i + 1] * dx
                  + ufl.inner(flux, ufl.grad(tests[i + 1])) * dx)
        self.F = F
        self._rho = rho
        self._us = us

        # Dirichlet conditions
        self.bcs = []
        fdim = msh.topology.dim - 1
        left = mesh.locate_entities_boundary(msh, fdim, lambda X: np.isclose(X[0], 0.0))
        right = mesh.locate_entities_boundary(msh, fdim, lambda X: np.isclose(X[0], L))
        V0, _ = self.W.sub(0).collapse()
        self._V0 = V0
        if self.stern_length is None:
            self._bc_left = fem.Function(V0)
            dofs = fem.locate_dofs_topological((self.W.sub(0), V0), fdim, left)
            self.bcs.append(fem.dirichletbc(self._bc_left, dofs, self.W.sub(0)))
        else:
            self._bc_left = None
        self._bc_right = fem.Function(V0)
        dofs = fem.locate_dofs_topological((self.W.sub(0), V0), fdim, right)
        self.bcs.append(fem.dirichletbc(self._bc_right, dofs, self.W.sub(0)))
        if not self.closed:
            for i in range(ns):
                Vi, _ = self.W.sub(i + 1).collapse()
                zero = fem.Function(Vi)
                dofs = fem.locate_dofs_topological((self.W.sub(i + 1), Vi), fdim, right)
                self.bcs.append(fem.dirichletbc(zero, dofs, self.W.sub(i + 1)))
        self._prefix = f"pnp{id(self)}_"
        self.problem = fem.petsc.NonlinearProblem(
            self.F, self.w, bcs=self.bcs, petsc_options_prefix=self._prefix,
            petsc_options=newton_lu_options(1e-8, 50, self._user_opts))
        self._Lnd = L
        # Convergence on the Newton step (relative 1e-8; Newton is quadratic there, so the
        # iterate is converged to round-off), not on the residual: a continuation
        # stage starts with a residual ~1e11 from the boundary jump, so a relative residual
        # test would stop far from the solution; an exact-zero residual is unreachable in
        # floating point when concentrations span e^+-30.
        self.max_update = 3.0
        self.problem.solver.setLineSearchPreCheck(weak_precheck(self._limit_step))

    def _limit_step(self, x, y, *args):
        """Scale the Newton step so no potential or log-concentration moves more than max_update.

        An unlimited step in psi multiplies exp(-z psi) by e^(z dpsi): from a poor guess at
        20-30 kT/e that overflows and the line search fails. Capping the step (as in
        semiconductor device codes) keeps every iterate physical.
        """
        ymax = self.comm.allreduce(float(np.max(np.abs(y.array_r))) if y.getLocalSize() else 0.0,
                                   op=__import__("mpi4py").MPI.MAX)
        if ymax > self.max_update:
            y.scale(self.max_update / ymax)

    def _D_ref(self):
        return reference_diffusivity(self.D, len(self.species))

    def _D_expr(self, i, x, Dref, ufl, fem, msh):
        d = self.D[i] if isinstance(self.D, (list, tuple, np.ndarray)) else self.D
        if callable(d):
            # D(x) interpolated into a P1 function of the dimensionless coordinate.
            import basix.ufl
            V = fem.functionspace(msh, basix.ufl.element("Lagrange", msh.basix_cell(), 1))
            f = fem.Function(V)
            lD = self.lD
            f.interpolate(lambda X: np.asarray(d(X[0] * lD), dtype=float) / Dref)
            if np.any(f.x.array <= 0) or np.any(~np.isfinite(f.x.array)):
                raise InputError(f"D[{i}]: D(x) has non-positive or non-finite values; expected > 0")
            return f
        return float(d) / Dref

    # --- solves ----------------------------------------------------------
    def _set_bc(self, psi0_nd, psi_right_nd):
        self.psi0.value = psi0_nd
        if self._bc_left is not None:
            self._bc_left.x.array[:] = psi0_nd
        self._bc_right.x.array[:] = psi_right_nd

    def _newton(self, label):
        self.problem.solve()
        snes = self.problem.solver
        reason, its = snes.getConvergedReason(), snes.getIterationNumber()
        self.w.x.scatter_forward()
        if reason <= 0 or not np.all(np.isfinite(self.w.x.array)):
            raise ConvergenceError(f"PNP Newton did not converge at {label} (SNES reason {reason}, "
                                   f"{its} iterations); last converged electrode potential: "
                                   f"{self._last_ok:.6g} V")
        if float(self.transient.value) == 0.0:
            # Every steady state of this solver is an equilibrium (no reactions, blocking or
            # reservoir boundaries): each electrochemical potential u_i + z_i psi (+ steric) is
            # constant. The step test can be met on a wrong state when the Jacobian is ruined by
            # round-off (30 kT/e from a poor guess: step -> 0 with sigma 169% off), so check it.
            spread = self._equilibrium_defect()
            if spread > 1e-2:
                raise ConvergenceError(f"PNP Newton stopped at {label} on a non-equilibrium state "
                                       f"(electrochemical potential spread {spread:.3g} kT, SNES reason "
                                       f"{reason}, {its} iterations); last converged electrode potential: "
                                       f"{self._last_ok:.6g} V")
        return its

    def _equilibrium_defect(self) -> float:
        """max over species of the spread (max - min over dofs) of u_i + z_i psi + mu_steric, in kT."""
        psi = self.w.x.array[_collapse(self.W.sub(0))[1]]
        us = [self.w.x.array[_collapse(self.W.sub(i + 1))[1]] for i in range(len(self.species))]
        mu = 0.0
        if self.ion_size is not None:
            frac = self.c_bulk / self.c_bulk.sum()
            mu = -np.log1p(-self.nu * sum(f * np.exp(u) for f, u in zip(frac, us)))
        out = 0.0
        for zi, u in zip(self.z, us):
            g = u + zi * psi + mu
            lo = self.comm.allreduce(float(g.min()) if g.size else np.inf, op=__import__("mpi4py").MPI.MIN)
            hi = self.comm.allreduce(float(g.max()) if g.size else -np.inf, op=__import__("mpi4py").MPI.MAX)
            out = max(out, hi - lo)
        return out

    def _first_integral(self, psi):
        return planar_first_integral(psi, self.z, self.c_bulk, getattr(self, "nu", None))

    def _stern_diffuse_potential(self, psi0_nd):
        return stern_diffuse_potential(psi0_nd, self.z, self.c_bulk, self.stern_length / self.lD,
                                       getattr(self, "nu", None))

    def _planar_equilibrium(self, psi0_nd):
        """psi(X) of the semi-infinite planar layer at psi0_nd (see :func:`planar_layer`), distance X[0]."""
        layer = planar_layer(psi0_nd, self.z, self.c_bulk, getattr(self, "nu", None))
        return lambda X: layer(X[0])

    def _initial_guess(self, psi0_nd, psi_r_nd):
        """Planar-equilibrium potential (or Debye-Hueckel) with Boltzmann concentrations."""
        import dolfinx
        ns = len(self.species)
        V0, map0 = _collapse(self.W.sub(0))
        Lnd = self._Lnd
        if self.closed:
            guess = lambda X: psi0_nd * np.exp(-X[0]) + psi_r_nd * np.exp(-(Lnd - X[0]))
        elif self.predictor == "planar" and self.stern_length is not None:
            # The Stern layer takes part of the drop: start from the planar layer at the
            # diffuse potential it leaves (exact for a semi-infinite cell), not at psi0.
            guess = self._planar_equilibrium(self._stern_diffuse_potential(psi0_nd))
        elif self.predictor == "planar":
            guess = self._planar_equilibrium(psi0_nd)
        else:
            guess = lambda X: psi0_nd * np.exp(-X[0]) * (1 - X[0] / Lnd)
        f = dolfinx.fem.Function(V0)
        f.interpolate(guess)
        self.w.x.array[map0] = f.x.array
        shift = 0.0
        if self.ion_size is not None and not self.closed:
            # Bikerman equilibrium: c_i/c_i,b = exp(-z_i psi) / (1 + nu sum_j f_j (exp(-z_j psi) - 1)).
            fr = self.c_bulk / self.c_bulk.sum()
            shift = -np.log1p(self.nu * sum(fj * np.expm1(-zj * f.x.array) for fj, zj in zip(fr, self.z)))
        for i in range(ns):
            Vi, mapi = _collapse(self.W.sub(i + 1))
            self.w.x.array[mapi] = -self.z[i] * f.x.array + shift if not self.closed else 0.0
        self.w.x.scatter_forward()

    def solve_steady(self, phi0: float, steps=None) -> PNPResult:
        """Steady state for electrode potential ``phi0`` (V vs bulk); continuation in ``steps`` stages.

        ``steps`` None: one stage with the planar predictor, else one per 10 kT/e. Raises
        ConvergenceError naming the last converged electrode potential.
        """
        self._adapt_mesh(phi0)
        if (steps is None and self.predictor == "planar" and not self.closed and self.width is None
                and type(self) is PNPSolver1D):
            res = self._equilibrium_solve(phi0)
            res.discretisation_error = self._first_integral_error(res)
            return res
        psi_target = phi0 / self.kT_e
        psi_r = self.phi_right / self.kT_e
        if steps is None:
            # The planar predictor is already near the answer: one stage. Otherwise 10 kT/e a stage.
            steps = 1 if self.predictor == "planar" else max(1, int(math.ceil(abs(psi_target) / 10.0)))
        n = steps
        self.transient.value = 0.0
        self._last_ok = float("nan")
        total = 0
        self._initial_guess(psi_target / n, psi_r / n)
        try:
            for k in range(1, n + 1):
                self._set_bc(psi_target * k / n, psi_r * k / n)
                total += self._newton(f"electrode potential {phi0 * k / n:.6g} V")
                self._last_ok = phi0 * k / n
        except ConvergenceError:
            if self.closed or self.predictor == "planar":
                raise
            # Automatic fallback for an open cell: restart from the planar equilibrium layer.
            # (In these log-concentration unknowns Newton from a Debye-Hueckel start stalls above
            # ~12 kT/e on a residual floor set by the cancellation u + z psi; continuum.pnp_mesh.PNPSolver's
            # electrochemical-potential unknowns do not have it.)
            total += self.problem.solver.getIterationNumber()
            self.predictor = "planar"
            try:
                self._initial_guess(psi_target, psi_r)
                self._set_bc(psi_target, psi_r)
                total += self._newton(f"electrode potential {phi0:.6g} V (planar-predictor fallback)")
            finally:
                self.predictor = "debye"
        res = self._result(total)
        res.discretisation_error = self._first_integral_error(res)
        return res

    def _equilibrium_solve(self, phi0) -> PNPResult:
        """The steady state of an open cell, solved as its Poisson-Boltzmann(-Bikerman) problem.

        With a reservoir and blocking electrode the steady state is the equilibrium: every
        u_i + z_i psi + mu_steric is zero, so psi solves PoissonBoltzmann1D on the same mesh and
        the u_i follow in closed form. That scalar Newton (stiffness + rho' mass) settles in 2-4
        iterations from the planar predictor at any potential to 40 kT/e, where the mixed system's
        rows weighted by exp(u_i) (spanning e^+-40) stall or break the LU.
        """
        from .poisson_boltzmann import PoissonBoltzmann1D
        pb = self.__dict__.get("_pb")
        if pb is None:
            # The same mesh settings; with grading "auto" both adapt by the same rule to the same
            # potentials, so their meshes stay identical.
            pb = self._pb = PoissonBoltzmann1D(
                self.z, list(self.c_bulk), species=self.species, epsilon_r=self.eps_r, temperature=self.T,
                length=self.length, n_cells=self.n_cells, degree=self.degree, h_min=self.h_min,
                stern_length=self.stern_length, ion_size=self.ion_size, comm=self.comm,
                petsc_options=self._user_opts, grading=self.grading)
        self._last_ok = float("nan")
        r = pb.solve_steady(phi0)
        # Same mesh and element: psi dof by dof through the coordinates (unique in 1D), gathered
        # from every rank so that a different partition cannot misplace a value.
        V0, m0 = _collapse(self.W.sub(0))
        xs_pb = np.concatenate(self.comm.allgather(pb.W.tabulate_dof_coordinates()[:, 0]))
        vals = np.concatenate(self.comm.allgather(pb.w.x.array))
        xs = V0.tabulate_dof_coordinates()[:, 0]
        order = np.argsort(xs_pb)
        psi = np.interp(xs, xs_pb[order], vals[order])
        self.w.x.array[m0] = psi
        shift = 0.0
        if self.ion_size is not None:
            fr = self.c_bulk / self.c_bulk.sum()
            shift = -np.log1p(self.nu * sum(fj * np.expm1(-zj * psi) for fj, zj in zip(fr, self.z)))
        for i in range(len(self.species)):
            _, mi = _collapse(self.W.sub(i + 1))
            self.w.x.array[mi] = -self.z[i] * psi + shift
        self.w.x.scatter_forward()
        self._set_bc(phi0 / self.kT_e, 0.0)
        self._last_ok = phi0
        return self._result(r.newton_iterations)

    def run_transient(self, phi0: float, dt: float, n_steps: int, initial=None) -> PNPResult:
        """Backward-Euler run (dt in s) from uniform bulk concentrations after a step to ``phi0`` (V).

        Closed cells (``closed=True``) conserve each species' total exactly in
        the discrete scheme (the weak form tested with 1 is the balance).
        ``initial='keep'`` continues from the current state.
        Returns the final state; ``totals`` holds (n_steps+1, n_species) mol/m^2.
        """
        if initial is None:
            self._adapt_mesh(phi0)
        ns = len(self.species)
        Dref = self._D_ref()
        self.dt.value = dt * Dref / self.lD ** 2
        self.transient.value = 1.0
        self._last_ok = float("nan")
        # Species balance holds to the residual, so converge the transient on the residual
        # (absolute 1e-13 in the scaled equations) rather than the step.
        self.problem.solver.setTolerances(atol=1e-13, stol=1e-16)
        if initial is None:
            self.w.x.array[:] = 0.0
        elif isinstance(initial, str) and initial == "keep":
            pass  # continue from the current state
        else:
            raise InputError(f"initial: {initial!r}; expected None (uniform bulk) or 'keep'")
        self.w_old.x.array[:] = self.w.x.array
        self._set_bc(phi0 / self.kT_e, self.phi_right / self.kT_e)
        totals = [self.totals()]
        total = 0
        for k in range(n_steps):
            total += self._newton(f"time step {k + 1} (t={(k + 1) * dt:.3g} s)")
            self._last_ok = phi0
            self.w_old.x.array[:] = self.w.x.array
            totals.append(self.totals())
        res = self._result(total)
        res.totals = np.array(totals)
        return res

    def totals(self) -> np.ndarray:
        """Amount of each species per electrode area, mol/m^2, with the solver's own quadrature."""
        from dolfinx import fem
        import ufl
        out = []
        for i, ui in enumerate(ufl.split(self.w)[1:]):
            val = fem.assemble_scalar(fem.form(ufl.exp(ui) * self.dx))
            per_area = self.lD if self.width is None else self.lD / (self.width / self.lD)
            out.append(self.comm.allreduce(val) * self.c_bulk[i] * per_area)
        return np.array(out)

    def _result(self, its) -> PNPResult:
        from dolfinx import fem
        import ufl
        q = fem.assemble_scalar(fem.form(self._rho * self.dx))
        q = self.comm.allreduce(q)
        if self.width is not None:
            q /= self.width / self.lD  # per unit electrode area
        ionic = float(np.dot(np.square(self.z), self.c_bulk)) * N_A * E_CHARGE
        # Electrode charge balances the diffuse charge; scale rho_nd * x_nd to C/m^2.
        sigma = -q * ionic * self.lD
        ns = len(self.species)
        xs, vals = [], []
        for k in range(ns + 1):
            V, m = _collapse(self.W.sub(k))
            nloc = V.dofmap.index_map.size_local * V.dofmap.index_map_bs
            vals.append(self.w.x.array[m][:nloc])
            if k == 0:
                xs = V.tabulate_dof_coordinates()[:nloc, 0]
        xs = np.concatenate(self.comm.allgather(xs))
        vals = [np.concatenate(self.comm.allgather(v)) for v in vals]
        order = np.argsort(xs, kind="stable")
        x = xs[order] * self.lD
        phi = vals[0][order] * self.kT_e
        c = np.array([np.exp(vals[k + 1][order]) * self.c_bulk[k] for k in range(ns)])
        return PNPResult(x=x, phi=phi, c=c, surface_charge=float(sigma), newton_iterations=int(its),
                         debye_length=self.lD, thermal_voltage=self.kT_e, species=self.species,
                         functions=(self.w,), n_cells=self._nx)

    def charge_sensitivity(self) -> float:
        """d sigma / d phi0 (F/m^2) at the current steady state of an open cell (bulk reservoir).

        At equilibrium every species is Boltzmann(-Bikerman) distributed in psi, so the
        tangent of the steady PNP problem reduces to the linearised Poisson-Boltzmann
        problem  -dpsi'' - rho'(psi) dpsi = 0  (dpsi = 1 on a Dirichlet electrode, or
        the Robin/Stern condition dpsi - l_S dpsi' = 1), and d sigma/d psi0 =
        -int rho'(psi) dpsi dx. One linear solve, the exact derivative of the discrete
        sigma(phi0) for ideal ions (no finite-difference step error); eliminating the
        species is also what keeps it accurate: the full mixed tangent carries rows
        scaled by exp(+-z psi), which at 10-30 kT/e ruins a one-shot LU solve.
        With a Stern (Robin) electrode keep the first cell near 1e-2 of the local Debye
        length: cells many decades thinner than the layer cost digits in this one-shot
        solve (GCS, 0.2 V, 1000 mol/m^3: 3.6e-6 relative at 1e-9 lambda_D, 4e-9 at 1e-3).
        Call after solve_steady.
        """
        from dolfinx import fem, mesh
        import dolfinx.fem.petsc as fpetsc
        import ufl
        from petsc4py import PETSc
        if self.closed or self.transient.value != 0.0:
            raise InputError("charge_sensitivity: needs a steady state of an open cell "
                             "(closed=False, after solve_steady)")
        if not hasattr(self, "_tangent"):
            msh, V0 = self.mesh, self._V0
            dpsi, v = ufl.TrialFunction(V0), ufl.TestFunction(V0)
            sol = fem.Function(V0)
            if self.W.num_sub_spaces == 0:
                # Equilibrium (PB) subclass: rho is already a function of psi = w alone.
                a = (ufl.inner(ufl.grad(dpsi), ufl.grad(v)) * self.dx
                     - ufl.derivative(self._rho, self.w, dpsi) * v * self.dx)
                dq = ufl.derivative(self._rho, self.w, sol) * self.dx
            else:
                psi = ufl.variable(ufl.split(self.w)[0])
                ionic = float(np.dot(np.square(self.z), self.c_bulk))
                boltz = [ufl.exp(-zi * psi) for zi in self.z]
                den = 1.0
                if self.ion_size is not None:
                    fr = self.c_bulk / self.c_bulk.sum()
                    den = 1 + self.nu * sum(f * (b - 1) for f, b in zip(fr, boltz))
                rho = sum(zi * ci / ionic * b / den for zi, ci, b in zip(self.z, self.c_bulk, boltz))
                drho = ufl.diff(rho, psi)
                a = ufl.inner(ufl.grad(dpsi), ufl.grad(v)) * self.dx - drho * dpsi * v * self.dx
                dq = drho * sol * self.dx
            L = fem.Constant(msh, 0.0) * v * self.dx
            fdim = msh.topology.dim - 1
            bcs = []
            right = mesh.locate_entities_boundary(msh, fdim, lambda X: np.isclose(X[0], self._Lnd))
            bcs.append(fem.dirichletbc(0.0, fem.locate_dofs_topological(V0, fdim, right), V0))
            left = mesh.locate_entities_boundary(msh, fdim, lambda X: np.isclose(X[0], 0.0))
            if self.stern_length is None:
                bcs.append(fem.dirichletbc(1.0, fem.locate_dofs_topological(V0, fdim, left), V0))
            else:
                inv_ls = self._inv_ls if hasattr(self, "_inv_ls") else self.lD / self.stern_length
                tags = mesh.meshtags(msh, fdim, left, np.full(len(left), 1, dtype=np.int32))
                ds = ufl.Measure("ds", domain=msh, subdomain_data=tags)
                a += dpsi * inv_ls * v * ds(1)
                L = inv_ls * v * ds(1)
            a, L, dq = fem.form(a), fem.form(L), fem.form(dq)
            ksp = PETSc.KSP().create(self.comm)
            ksp.setOptionsPrefix(self._prefix + "tangent_")
            ksp.setType("preonly")
            ksp.getPC().setType("lu")
            ksp.getPC().setFactorSolverType("mumps")
            self._tangent = (a, L, bcs, sol, dq, ksp)
        a, L, bcs, sol, dq, ksp = self._tangent
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
        dqv = self.comm.allreduce(fem.assemble_scalar(dq))
        if self.width is not None:
            dqv /= self.width / self.lD
        ionic = float(np.dot(np.square(self.z), self.c_bulk)) * N_A * E_CHARGE
        return float(-dqv * ionic * self.lD / self.kT_e)

    def write_xdmf(self, path) -> None:
        """Write potential (dimensionless) and log-concentrations as P1 fields to an XDMF file."""
        from dolfinx import fem, io
        import basix.ufl
        V1 = fem.functionspace(self.mesh, basix.ufl.element("Lagrange", self.mesh.basix_cell(), 1))
        with io.XDMFFile(self.comm, str(path), "w") as fh:
            fh.write_mesh(self.mesh)
            names = ["psi"] + [f"ln_c_{s}" for s in self.species]
            for k, name in enumerate(names):
                f = fem.Function(V1, name=name)
                f.interpolate(self.w.sub(k))
                fh.write_function(f)


def gouy_chapman_potential(x, phi0, c_bulk, epsilon_r=78.5, temperature=298.15):
    """Analytic 1:1 Gouy-Chapman potential (V) at x (m) for surface potential phi0 (V)."""
    from .gouy_chapman import gouy_chapman_potential as _gc
    return _gc(x, phi0, c_bulk, 1, epsilon_r, temperature)


def grahame_charge(phi0, c_bulk, epsilon_r=78.5, temperature=298.15):
    """Grahame surface charge (C/m^2) of a 1:1 electrolyte at surface potential phi0 (V)."""
    from .gouy_chapman import gouy_chapman_charge
    return float(gouy_chapman_charge(phi0, c_bulk, 1, epsilon_r, temperature))


def bikerman_charge(phi0, c_bulk, ion_size, epsilon_r=78.5, temperature=298.15):
    """Bikerman (steric) 1:1 surface charge (C/m^2): first integral of modified PB (Kilic et al. 2007)."""
    from .gouy_chapman import bikerman_charge as _bikerman
    return float(_bikerman(phi0, c_bulk, ion_size, 1, epsilon_r, temperature))
