"""Meshes for double layers: graded node sets along the electrode normal and the slab mesh itself.

A double layer is thin where the potential is high (its local Debye length shrinks as
exp(-z psi0 / 2)) and decays as exp(-x / lambda_D) into the bulk; the node sets here follow that.
Node functions work in any length unit (the same for every argument); :func:`slab_mesh` takes
metres, and :func:`layer_first_cell` reduced units (potential in kT/e, lengths in Debye lengths).
"""
from __future__ import annotations

import math

import numpy as np

from ._engines import import_engine
from .errors import InputError
from .gouy_chapman import stern_diffuse_potential


def graded_nodes(length: float, n_cells: int, h_min: float) -> np.ndarray:
    """Nodes on [0, length] with the first cell h_min and geometric growth (shape (n_cells+1,)).

    Geometric grading keeps a fixed number of cells per decade of distance,
    which is what a Boltzmann layer whose width shrinks as exp(-psi0/2) needs.
    Falls back to a uniform mesh when h_min >= length / n_cells. Same unit for both lengths.
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


def layer_first_cell(psi, concentrations, valences, packing=None, stern_length=None, fraction=0.02) -> float:
    """First-cell size (Debye lengths) that resolves a planar layer at electrode potential ``psi`` (kT/e).

    The thinnest structure of the layer is its local Debye length at the electrode (or the outer
    Helmholtz plane, at the diffuse potential a Stern layer of ``stern_length`` Debye lengths
    leaves): lambda_D / sqrt(sum_i z_i^2 w_i c_i(0)/c_i,b), the Gouy-Chapman decay length
    (lambda_D e^(-|psi|/2) for 1:1 at high potential). ``fraction`` of it, and never more than
    the Debye-Hueckel resolution 0.02 lambda_D; both signs of psi are covered, so a mesh made
    for |psi| serves either polarity. ``concentrations``: bulk (any unit); ``packing``: Bikerman nu.
    """
    a0 = abs(float(psi))
    zz, cb = np.asarray(valences, dtype=float), np.asarray(concentrations, dtype=float)
    w = cb * zz ** 2 / float(np.dot(zz ** 2, cb))
    worst = 1.0
    for s in (1.0, -1.0):
        psid = s * a0 if stern_length is None else stern_diffuse_potential(s * a0, cb, valences, stern_length,
                                                                           packing)
        boltz = np.exp(np.clip(-zz * psid, None, 700))
        den = 1.0 if packing is None else 1 + packing * float(np.dot(cb / cb.sum(), boltz - 1))
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


def slab_mesh(length: float, n_cells: int, *, lateral=(), n_cells_lateral=(), h_min=None,
              grading=None, decay_length=None, first_cell=None, cells_per_decade=10, cells="simplex",
              comm=None):
    """Slab [0, length] x lateral (m) meshed with intervals, triangles or tetrahedra; (mesh, facet_tags).

    ``lateral``: () for 1D, (W,) for 2D, (W, H) for 3D (m), with ``n_cells_lateral`` cells each.
    Along x the nodes are uniform (``grading=None``), geometric (``h_min``, m: first cell), or
    ``grading="debye"`` (:func:`debye_graded_nodes` with ``decay_length``, m, usually lambda_D), or
    ``grading="layer"``: geometric from ``first_cell`` (m) through the compact high-potential layer,
    then Debye-graded (:func:`layer_graded_nodes`; ``PNPSolver.slab`` picks ``first_cell`` from the
    electrode potential).
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
