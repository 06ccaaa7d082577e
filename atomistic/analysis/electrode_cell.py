"""Profiles, surface charge and potential drop of a periodic electrode | electrolyte cell.

The cell is the one ``atomistic.interface.electrolyte_cells.electrode_water_cell`` builds
and the NaCl(aq) | Cu(111) campaign labels: a metal slab whose periodic images along z are
separated by an electrolyte film, no vacuum. The film therefore has two interfaces: the
*lower* one above the slab's top layer and the *upper* one below the next image's bottom
layer. Every quantity here is given per interface, as a function of x, the distance from
that interface's metal surface plane (the mean z of its outermost metal layer, per frame).

Electrostatics (SI: C, m, V). Atoms carry charges q_i (e; e.g. a learned potential's
predicted charges) and the MD may add a uniform field E0 along z
(``atomistic.md.applied_field``). The long-range sum of a fully periodic cell (Ewald/PME
with conducting, "tin-foil", boundaries) keeps the cell-averaged field at E0: that is the
constant-E ensemble, in which the potential drop across one period, -E0 L_z, is fixed
(Zhang & Sprik, Phys. Rev. B 93, 144201 (2016)). Gauss's law with that constraint gives
the field everywhere from the charges of the frame. Measured from just above the lower
surface plane (u = 0, u growing into the film)::

    E(u) = E0 + M / (eps0 A L_z) + Q(< u) / (eps0 A),   M = sum_i q_i u_i,  u_i in [0, L_z)

where Q(< u) is the charge between 0 and u. The charge of the lower interface's electrode
is the displacement just outside its surface, sigma_lower = eps0 E(0+) (the metal's own
charges, top layer included, count as the electrode's); the upper electrode's is
sigma_upper = -eps0 E(L_f-) = -(sigma_lower + Q_film / A), L_f the film thickness between
the two surface planes. phi(u) = -int_0^u E; each interface's potential drop is
phi(surface) - phi(film middle): the electrode's potential against the film's bulk, PNP's
boundary value.

What the charges are decides what "the electrode" is. A learned potential's metal charges
are a function of positions only: they do not respond to the applied field as a metal's
electrons would, so the slab screens nothing and carries part of the period's potential
drop itself. The quantities here hold whatever the charges are; the reader of a result
should know this one.

Units of the inputs are ASE's (A, e, V/A); results are SI with the unit stated.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import InputError
from .block_average import block_estimate, split_blocks
from .profiles import E_CHARGE, EPS0, Profile

SIDES = ("lower", "upper")
A = 1e-10          # m per Angstrom


@dataclasses.dataclass
class InterfaceSide:
    """One interface of the film: profiles on x (m, from the metal surface plane; bin
    centres, up to the film's middle), each a ``profiles.Profile`` with block errors (a
    density's error is at least one count in the whole run, 1 / (frames x bin volume)).

    density: {symbol: number density, 1/m^3}; bound_charge, free_charge: C/m^3 (the
    charges of ``bound`` symbols, e.g. water's O and H, and of the others except the
    metal, e.g. ions); potential: phi(x) - phi(film middle), V; sigma, sigma_stderr: the
    electrode's surface charge, C/m^2; delta_phi, delta_phi_stderr: phi(surface) -
    phi(film middle), V."""
    x: np.ndarray
    density: dict
    bound_charge: Profile
    free_charge: Profile
    potential: Profile
    sigma: float
    sigma_stderr: float
    delta_phi: float
    delta_phi_stderr: float


@dataclasses.dataclass
class ElectrodeCellAnalysis:
    """Both interfaces of the film plus the per-frame series the averages come from.

    sigma_lower(t) (C/m^2) and delta_phi_lower/upper(t) (V) per frame; film_thickness (m,
    mean over frames); area (m^2); field_V_per_A: the applied E0; n_blocks."""
    lower: InterfaceSide
    upper: InterfaceSide
    sigma_lower: np.ndarray
    sigma_upper: np.ndarray
    delta_phi_lower: np.ndarray
    delta_phi_upper: np.ndarray
    film_thickness: float
    area: float
    field_V_per_A: float
    n_blocks: int

    def side(self, name: str) -> InterfaceSide:
        if name not in SIDES:
            raise InputError(f"side: {name!r}; expected one of {SIDES}")
        return getattr(self, name)


def _planes(z_metal: np.ndarray, layer_size: int):
    """(z of the top layer, z of the bottom layer) of one slab, per frame (A)."""
    zs = np.sort(z_metal, axis=1)
    return zs[:, -layer_size:].mean(axis=1), zs[:, :layer_size].mean(axis=1)


def film_coordinates(positions, symbols, cell, *, metal: str, layer_size: int):
    """Per frame and atom: u (A) along z from the lower surface plane (metal atoms placed
    beyond the film, at L_f + their height above the slab's bottom plane), and the film
    thickness L_f (A) per frame. ``positions`` (frames, atoms, 3) unwrapped, A; the cell's
    third vector must be along z (the surface normal)."""
    x = np.asarray(positions, dtype=float)
    cell = np.asarray(cell, dtype=float)
    sym = np.asarray(symbols)
    if x.ndim != 3 or x.shape[2] != 3 or x.shape[1] != len(sym):
        raise InputError(f"positions: shape {x.shape} for {len(sym)} symbols; expected "
                         "(frames, atoms, 3)")
    if cell.shape != (3, 3) or abs(cell[2, 0]) > 1e-8 or abs(cell[2, 1]) > 1e-8 \
            or abs(cell[0, 2]) > 1e-8 or abs(cell[1, 2]) > 1e-8:
        raise InputError("cell: expected a slab cell with its third vector along z and the "
                         "first two in the xy plane (electrode_water_cell's)")
    is_metal = sym == metal
    n_metal = int(is_metal.sum())
    if n_metal == 0:
        raise InputError(f"metal: no {metal!r} atoms among the symbols")
    if layer_size < 1 or n_metal % layer_size or n_metal < 2 * layer_size:
        raise InputError(f"layer_size: {layer_size} for {n_metal} {metal} atoms; expected the "
                         "atoms of one layer (at least two layers)")
    lz = cell[2, 2]
    top, bottom = _planes(x[:, is_metal, 2], layer_size)
    film = bottom + lz - top
    if np.any(film <= 0) or np.any(film >= lz):
        raise InputError("positions: the slab is not one contiguous slab along z in every "
                         "frame (expected unwrapped positions of an intact slab)")
    u = np.mod(x[:, :, 2] - top[:, None], lz)
    u[:, is_metal] = film[:, None] + (x[:, is_metal, 2] - bottom[:, None])
    return np.clip(u, 0.0, lz), film


def analyse_electrode_cell(positions, charges, symbols, cell, *, metal: str, layer_size: int,
                           field_V_per_A: float = 0.0, bound=("O", "H"), bin_A: float = 0.25,
                           n_blocks: int = 5) -> ElectrodeCellAnalysis:
    """Profiles, surface charges and potential drops of both interfaces (module docstring).

    positions: (frames, atoms, 3) unwrapped, A; charges: (frames, atoms) e (or (atoms,)
    fixed); symbols; cell (3x3, A); metal, layer_size: the electrode's element and the atoms
    in one of its layers; field_V_per_A: the uniform field the MD applied along +z; bound:
    the symbols whose charge is the solvent's (the rest, metal excepted, is free charge);
    bin_A: profile bin width (A); n_blocks: contiguous blocks of frames for the errors.
    """
    x = np.asarray(positions, dtype=float)
    sym = np.asarray(symbols)
    q = np.asarray(charges, dtype=float)
    if q.ndim == 1:
        q = np.broadcast_to(q, x.shape[:2])
    if q.shape != x.shape[:2]:
        raise InputError(f"charges: shape {q.shape}; expected (frames, atoms) = {x.shape[:2]}")
    if not np.all(np.isfinite(q)) or not np.all(np.isfinite(x)):
        raise InputError("positions, charges: contain NaN or inf")
    if not (np.isfinite(bin_A) and bin_A > 0):
        raise InputError(f"bin_A: {bin_A}; expected a positive bin width in A")
    if len(x) < 2 * n_blocks:
        raise InputError(f"positions: {len(x)} frames for {n_blocks} blocks; expected at least "
                         f"{2 * n_blocks}")
    cell = np.asarray(cell, dtype=float)
    u, film = film_coordinates(x, sym, cell, metal=metal, layer_size=layer_size)
    lz = cell[2, 2]
    area = float(np.linalg.norm(np.cross(cell[0], cell[1])))          # A^2
    is_metal = sym == metal
    is_bound = np.isin(sym, list(bound)) & ~is_metal
    is_free = ~is_bound & ~is_metal
    # surface charge, C/m^2: eps0 E0 + M / (A L_z)
    m = np.sum(q * u, axis=1)                                           # e A
    sigma_lo = EPS0 * field_V_per_A / A + m * E_CHARGE / (area * lz * A * A)
    q_film = np.sum(np.where(is_metal, 0.0, q), axis=1)
    sigma_up = -(sigma_lo + q_film * E_CHARGE / (area * A * A))
    half = 0.5 * film.min()
    n_bins = max(1, int(half // bin_A))
    edges = np.arange(n_bins + 1) * bin_A                              # A from the surface
    centres = 0.5 * (edges[1:] + edges[:-1])
    names = sorted(set(sym[~is_metal]))
    per = {s: {"density": {n: [] for n in names}, "bound": [], "free": [], "phi": []}
           for s in SIDES}
    dphi = {s: np.empty(len(x)) for s in SIDES}
    vol = area * bin_A * A ** 3                                        # m^3 per bin
    inside = ~is_metal
    for f in range(len(x)):
        lf = film[f]
        order = np.argsort(u[f, inside])
        us, qs = u[f, inside][order], q[f, inside][order]
        s0 = np.concatenate([[0.0], np.cumsum(qs)])
        s1 = np.concatenate([[0.0], np.cumsum(qs * us)])

        def phi(at, f=f, us=us, s0=s0, s1=s1):
            """-int_0^at E du, exact for point charges (V): E is piecewise constant."""
            k = np.searchsorted(us, at, side="right")
            return -(sigma_lo[f] / EPS0 * at * A
                     + (s0[k] * at - s1[k]) * E_CHARGE / (EPS0 * area * A * A) * A)

        phi_mid = phi(np.array(0.5 * lf))
        dphi["lower"][f] = -phi_mid
        dphi["upper"][f] = phi(np.array(lf)) - phi_mid
        for side in SIDES:
            xs = u[f] if side == "lower" else lf - u[f]
            keep = inside & (xs >= 0) & (xs < edges[-1])
            bins = np.digitize(xs[keep], edges) - 1
            ks, qk = sym[keep], q[f, keep]
            for n in names:
                per[side]["density"][n].append(np.bincount(bins[ks == n], minlength=n_bins) / vol)
            for key, mask in (("bound", is_bound[keep]), ("free", is_free[keep])):
                per[side][key].append(np.bincount(bins[mask], weights=qk[mask], minlength=n_bins)
                                      * E_CHARGE / vol)
            per[side]["phi"].append(phi(centres if side == "lower" else lf - centres) - phi_mid)

    def prof(series, unit, floor=0.0):
        arr = np.asarray(series)
        blocks = np.array([b.mean(axis=0) for b in split_blocks(arr, n_blocks)])
        se = blocks.std(axis=0, ddof=1) / np.sqrt(n_blocks)
        return Profile(z=centres * A, values=arr.mean(axis=0), stderr=np.maximum(se, floor),
                       unit=unit)

    # a density is known only to one count in the whole run: a bin no atom visited (or one
    # visited in a single block) is not known to be empty better than that
    resolution = 1.0 / (len(x) * vol)

    def mean_se(series, name):
        est = block_estimate(series, np.mean, n_blocks, min_block=2, name=name)
        return float(np.mean(series)), float(est.stderr)

    sides = {}
    for side, sig in (("lower", sigma_lo), ("upper", sigma_up)):
        s_mean, s_se = mean_se(sig, f"sigma_{side}")
        p_mean, p_se = mean_se(dphi[side], f"delta_phi_{side}")
        sides[side] = InterfaceSide(
            x=centres * A,
            density={n: prof(v, "1/m^3", resolution) for n, v in per[side]["density"].items()},
            bound_charge=prof(per[side]["bound"], "C/m^3"),
            free_charge=prof(per[side]["free"], "C/m^3"),
            potential=prof(per[side]["phi"], "V"), sigma=s_mean, sigma_stderr=s_se,
            delta_phi=p_mean, delta_phi_stderr=p_se)
    return ElectrodeCellAnalysis(lower=sides["lower"], upper=sides["upper"],
                                 sigma_lower=sigma_lo, sigma_upper=sigma_up,
                                 delta_phi_lower=dphi["lower"], delta_phi_upper=dphi["upper"],
                                 film_thickness=float(film.mean()) * A, area=area * A * A,
                                 field_V_per_A=float(field_V_per_A), n_blocks=int(n_blocks))
