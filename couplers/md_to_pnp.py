"""MD -> PNP: trajectory -> handoff (D_i, profiles) -> PNP solver -> comparison with the MD profiles.

Positions in m, times in s, concentrations in mol/m^3. The PNP side is a
closed 1D cell between two electrodes along the profile axis (the geometry of
an MD slab between two walls); the amount of each species equals the MD's.
"""
from __future__ import annotations

import datetime as _dt
import hashlib

import numpy as np
from scipy.constants import N_A

from atomistic.analysis.diffusion import self_diffusion
from atomistic.analysis.profiles import density_profile

from .errors import InputError
from .handoff import Diffusivity, Handoff, ProfileData, Provenance, Species


def handoff_from_positions(species: dict, dt: float, *, axis: int, edges, area: float,
                           temperature: float, epsilon_r: float, lateral_axes=(0, 1),
                           trajectory_sha256: str = "", code_version: str = "",
                           n_blocks: int = 5) -> Handoff:
    """Build a Handoff from unwrapped positions per species.

    ``species``: {name: (charge_number, positions (n_frames, n_atoms, 3) in m)}. D is the
    lateral self-diffusion (``lateral_axes``, unconfined by the walls), profiles are number
    densities along ``axis`` converted to mol/m^3 with block standard errors; the bulk
    concentration recorded is each species' mean concentration in the slab.
    """
    if not species:
        raise InputError("species: empty; expected {name: (charge_number, positions)}")
    edges = np.asarray(edges, dtype=float)
    sp, ds, profs, bulk = [], [], [], {}
    h = hashlib.sha256()
    for name, (z, pos) in species.items():
        pos = np.asarray(pos, dtype=float)
        h.update(np.ascontiguousarray(pos).tobytes())
        r = self_diffusion(pos[:, :, list(lateral_axes)], dt, n_blocks=n_blocks)
        prof = density_profile(pos, axis, edges, area, n_blocks=n_blocks)
        sp.append(Species(name=name, charge_number=int(z)))
        ds.append(Diffusivity(species=name, value=r.D, stderr=r.stderr, unit="m^2/s",
                              method=f"MSD lateral axes {list(lateral_axes)}; {r.method}",
                              fit_window=r.fit_window))
        profs.append(ProfileData(name=name, grid=prof.z.tolist(), values=(prof.values / N_A).tolist(),
                                 stderr=(prof.stderr / N_A).tolist(), grid_unit="m", unit="mol/m^3",
                                 reference=f"axis {axis}, bin centres; wall at z = {edges[0]:.6g} m",
                                 kind="concentration", species=name))
        bulk[name] = float(pos.shape[1] / (area * (edges[-1] - edges[0])) / N_A)
    return Handoff.validate_data(dict(
        temperature=temperature, relative_permittivity=epsilon_r,
        species=[s.model_dump() for s in sp], bulk_concentrations=bulk,
        diffusivities=[d.model_dump() for d in ds], profiles=[p.model_dump() for p in profs],
        provenance=Provenance(trajectory_sha256=trajectory_sha256 or h.hexdigest(),
                              code_version=code_version,
                              created=_dt.datetime.now(_dt.timezone.utc).isoformat()).model_dump()))


def pnp_closed_cell(handoff: Handoff, *, length: float, phi_left: float, phi_right: float,
                    n_cells: int = 200, degree: int = 1, t_end_debye_times: float = 200.0,
                    n_steps: int = 40):
    """Steady state of a closed two-electrode PNP cell parametrised by ``handoff``.

    The cell is the toolkit's PNP solver on a uniform slab of ``length`` (m) with ``n_cells``
    cells of Lagrange ``degree``, electrodes at x = 0 (``phi_left``, V) and x = length
    (``phi_right``, V), no reservoir. Runs backward Euler from uniform concentrations (the
    handoff's mean concentrations, mol/m^3) with geometrically growing steps until t_end (in
    units of lambda_D^2 / D_max); the closed cell conserves each species, so the steady state
    has the MD's ion count. Returns (continuum.pnp.PNPSolver, continuum.results.PNPResult).
    """
    from continuum.pnp import PNPSolver
    if not handoff.species or handoff.relative_permittivity is None:
        raise InputError("handoff: no species/relative_permittivity (a kinetics-only handoff?); "
                         "a PNP cell needs a transport handoff (couplers.md_to_pnp.handoff_from_positions)")
    names = [s.name for s in handoff.species]
    z = [s.charge_number for s in handoff.species]
    c = [handoff.bulk_concentrations[n] for n in names]
    D = [handoff.diffusivity_si(n) for n in names]
    solver = PNPSolver.slab(names, z, c, D, permittivity=handoff.relative_permittivity,
                            temperature=handoff.temperature, length=length, n_cells=n_cells,
                            degree=degree, closed=True, grading="uniform")
    potentials = {1: float(phi_left), 2: float(phi_right)}
    t_unit = solver.lD ** 2 / max(D)
    # Geometric steps: resolve the fast double-layer charging, then march to steady state.
    dts = np.geomspace(1e-3, 1.0, n_steps)
    dts *= t_end_debye_times * t_unit / dts.sum()
    res = solver.run_transient(potentials, dt=float(dts[0]), n_steps=1)
    for dt in dts[1:]:
        res = solver.run_transient(potentials, dt=float(dt), n_steps=1, initial="keep")
    return solver, res


def _profile_function(profile: ProfileData, origin: float, outside: float):
    """x (m, distance from the electrode) -> the profile's SI value, linear between grid points;
    ``outside`` beyond the grid's far end (the bulk), the first value before its start."""
    z, v, _ = profile.si()
    order = np.argsort(z)
    z, v = z[order] - origin, v[order]
    return lambda x: np.interp(x, z, v, right=outside)


def pnp_open_cell(handoff: Handoff, potential: float, *, informed: bool, origin: float = 0.0,
                  length: float | None = None, n_cells: int = 400, **solver_kwargs):
    """Equilibrium PNP of the electrode-electrolyte half cell the handoff describes, plain or MD-informed.

    The electrode is at x = 0 (at ``origin`` on the profiles' grid, m) held at ``potential`` (V vs the
    bulk); x = ``length`` (default 20 Debye lengths) is the bulk reservoir at the handoff's bulk
    concentrations. ``informed=False``: plain PNP, bulk D and ``relative_permittivity``.
    ``informed=True``: the handoff's MD structure (Bonthuis & Netz, PRL 107, 166102 (2011)):
    its "permittivity" profile as eps(x), each species' "mean_force_potential" profile as W_i(x)
    and "diffusivity" profile as D_i(x) where present (bulk values beyond each grid; a W_i that
    has not decayed to 0 by its grid's end makes the solver refuse it). Returns
    (continuum.pnp.PNPSolver, continuum.results.PNPResult).
    """
    from continuum.pnp import PNPSolver1D

    if not handoff.species or handoff.relative_permittivity is None:
        raise InputError("handoff: no species/relative_permittivity; a PNP cell needs a transport handoff")
    names = [s.name for s in handoff.species]
    z = [s.charge_number for s in handoff.species]
    c = [handoff.bulk_concentrations[n] for n in names]
    D = [handoff.diffusivity_si(n) for n in names] if handoff.diffusivities else None
    eps, pmf = None, {}
    if informed:
        p = handoff.profile("permittivity")
        if p is not None:
            eps = _profile_function(p, origin, handoff.relative_permittivity)
        for k, n in enumerate(names):
            w = handoff.profile("mean_force_potential", n)
            if w is not None:
                pmf[n] = _profile_function(w, origin, 0.0)
            d = handoff.profile("diffusivity", n)
            if d is not None and D is not None:
                D[k] = _profile_function(d, origin, D[k])
        if eps is None and not pmf:
            raise InputError("handoff: informed=True but no permittivity or mean_force_potential "
                             "profile; expected the MD structure (couplers.md_to_pnp) or informed=False")
    solver = PNPSolver1D(names, z, c, D, permittivity=handoff.relative_permittivity,
                         temperature=handoff.temperature, length=length, n_cells=n_cells,
                         permittivity_profile=eps, mean_force_potentials=pmf or None, **solver_kwargs)
    return solver, solver.solve_steady(float(potential))


def _concentration_profile(handoff: Handoff, name: str) -> ProfileData:
    p = handoff.profile("concentration", name)
    if p is None:   # files written before profiles had a kind: the species' name
        p = next((q for q in handoff.profiles if q.name == name and q.kind is None), None)
    if p is None:
        raise InputError(f"handoff: no concentration profile of {name!r}")
    return p


def compare_profiles(handoff: Handoff, result, *, origin: float = 0.0, x_min: float | None = None) -> dict:
    """Error metrics of PNP concentrations vs the MD profiles, per species.

    rel_l2: ||c_pnp - c_md|| / ||c_md|| on the MD bins (PNP averaged over each bin); chi2_per_bin: mean of
    ((c_pnp - c_md)/stderr_md)^2 (about 1 when the PNP is within MD noise); within_2se: the fraction of
    bins where |c_pnp - c_md| <= 2 stderr; max_abs_z: the largest |c_pnp - c_md| / stderr.
    ``origin``: where the PNP's x = 0 sits on the MD grid (m); ``x_min``: only bins at least this far
    from it count (e.g. beyond the first adsorption layer); bins beyond the PNP domain never count.
    """
    out = {}
    for k, s in enumerate(handoff.species):
        p = _concentration_profile(handoff, s.name)
        zg, cm, se = p.si()
        zg = zg - origin
        se = se if se is not None else np.full_like(cm, np.nan)
        keep = (zg >= (x_min if x_min is not None else -np.inf)) & (zg >= result.x[0]) & (zg <= result.x[-1])
        zg, cm, se = zg[keep], cm[keep], se[keep]
        # MD values are bin averages: average the PNP field over the same bins (uniform bins).
        half = 0.5 * (zg[1] - zg[0]) if len(zg) > 1 else 0.0
        fine = np.linspace(-half, half, 41)
        cp = np.array([np.interp(zi + fine, result.x, result.c[k]).mean() for zi in zg])
        zs = (cp - cm) / np.where(se > 0, se, np.nan)
        out[s.name] = {"rel_l2": float(np.linalg.norm(cp - cm) / np.linalg.norm(cm)),
                       "chi2_per_bin": float(np.nanmean(zs ** 2)),
                       "within_2se": float(np.mean(np.abs(zs) <= 2)) if len(zs) else float("nan"),
                       "max_abs_z": float(np.nanmax(np.abs(zs))) if len(zs) else float("nan"),
                       "bins": int(len(zg))}
    return out


def plot_comparison(handoff: Handoff, result, path) -> None:
    """One plot: MD profiles (points with error bars) and PNP curves, written to ``path`` (PNG).

    Drawn on a ``matplotlib.figure.Figure`` of its own, which renders without pyplot or a GUI
    backend, so the caller's backend choice is left alone.
    """
    from matplotlib.figure import Figure
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    for k, s in enumerate(handoff.species):
        p = _concentration_profile(handoff, s.name)
        line, = ax.plot(result.x * 1e9, result.c[k], label=f"PNP {s.name}")
        ax.errorbar(np.asarray(p.grid) * 1e9, p.values, yerr=p.stderr, fmt="o", ms=3,
                    color=line.get_color(), label=f"MD {s.name}")
    ax.set_xlabel("z (nm)")
    ax.set_ylabel("concentration (mol/m$^3$)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


#: W_i where the MD never put the ion (c = 0): this many RT, an exclusion the PNP keeps
EXCLUDED_RT = 15.0
#: eps_perp is kept within [1, EPS_PERP_MAX]: 1/eps_perp from MD crosses zero next to a
#: surface (over-screening), and a Poisson solver needs a positive, finite permittivity
EPS_PERP_MAX = 500.0


def interface_handoff(*, temperature: float, species: dict, bulk_concentrations: dict,
                      diffusivities: dict, epsilon_r: float, x, concentrations: dict | None = None,
                      mean_force_potentials: dict | None = None, permittivity=None,
                      slab_diffusivities: dict | None = None, charge_density=None, potential=None,
                      reference: str, method: str = "", code_version: str = "",
                      double_layer: dict | None = None, notes: str = "") -> Handoff:
    """A transport handoff for one electrode | electrolyte interface, from plain MD numbers.

    SI throughout: x (m) from the electrode's surface plane (bin centres); species {name:
    charge number}; bulk_concentrations mol/m^3; diffusivities {name: (D, stderr)} m^2/s;
    concentrations {name: (values, stderr)} mol/m^3; mean_force_potentials {name: (W,
    stderr)} J/mol (NaN where the ion never went: set to EXCLUDED_RT RT, an exclusion);
    permittivity (eps, stderr) relative (NaN where the MD could not say: the bulk
    ``epsilon_r``; clipped to [1, EPS_PERP_MAX], see EPS_PERP_MAX); slab_diffusivities {name:
    (D, stderr)} m^2/s (NaN: the bulk D); charge_density, potential: (values, stderr) in
    C/m^3 and V. ``reference`` says where x = 0 is and what phi is measured against.
    double_layer: the MD's own double-layer numbers (``couplers.handoff.DoubleLayerData``
    fields: potential vs the pzc, capacitance, surface_charge, first_layer_end), which
    ``pnp_at_md_charge`` reads; notes: where the numbers came from (the provenance).
    What was replaced (NaN, clipped) is counted in each profile's name, so nobody mistakes a
    filled value for a measured one.
    """
    from scipy.constants import R

    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or len(x) < 2 or not np.all(np.diff(x) > 0):
        raise InputError("x: expected increasing bin centres (m), at least two")
    names = list(species)
    for label, d in (("bulk_concentrations", bulk_concentrations), ("diffusivities", diffusivities)):
        missing = [n for n in names if n not in d]
        if missing:
            raise InputError(f"{label}: no entry for {missing}; expected one per species {names}")
    grid = (x * 1e10).tolist()

    def prof(name, kind, sp, values, stderr, unit, filled=0):
        v = np.asarray(values, dtype=float)
        if v.shape != x.shape:
            raise InputError(f"{name}: {v.shape[0] if v.ndim else 0} values for {len(x)} bins")
        se = None if stderr is None else np.nan_to_num(np.asarray(stderr, dtype=float), nan=0.0)
        label = f"{name} ({filled} bins filled)" if filled else name
        return dict(name=label, kind=kind, species=sp, grid=grid, values=v.tolist(),
                    stderr=None if se is None else se.tolist(), grid_unit="A", unit=unit,
                    reference=reference)

    profiles = []
    for n, (c, se) in (concentrations or {}).items():
        profiles.append(prof(f"c_{n}", "concentration", n, c, se, "mol/m^3"))
    for n, (w, se) in (mean_force_potentials or {}).items():
        w = np.asarray(w, dtype=float)
        bad = ~np.isfinite(w)
        profiles.append(prof(f"W_{n}", "mean_force_potential", n,
                             np.where(bad, EXCLUDED_RT * R * temperature, w), se, "J/mol",
                             int(bad.sum())))
    if permittivity is not None:
        eps, se = (np.asarray(a, dtype=float) for a in permittivity)
        bad = ~np.isfinite(eps) | (eps < 1) | (eps > EPS_PERP_MAX)
        filled = np.where(np.isfinite(eps), np.clip(eps, 1.0, EPS_PERP_MAX), epsilon_r)
        profiles.append(prof("eps_perp", "permittivity", None, filled, se, "dimensionless",
                             int(bad.sum())))
    for n, (d, se) in (slab_diffusivities or {}).items():
        d = np.asarray(d, dtype=float)
        bad = ~np.isfinite(d)
        profiles.append(prof(f"D_{n}", "diffusivity", n, np.where(bad, diffusivities[n][0], d),
                             se, "m^2/s", int(bad.sum())))
    if charge_density is not None:
        profiles.append(prof("rho", "charge_density", None, *charge_density, "C/m^3"))
    if potential is not None:
        profiles.append(prof("phi", "potential", None, *potential, "V"))
    return Handoff.validate_data(dict(
        temperature=temperature, relative_permittivity=epsilon_r,
        species=[dict(name=n, charge_number=int(z)) for n, z in species.items()],
        bulk_concentrations={n: float(bulk_concentrations[n]) for n in names},
        diffusivities=[dict(species=n, value=float(diffusivities[n][0]),
                            stderr=float(diffusivities[n][1]), unit="m^2/s", method=method)
                       for n in names],
        profiles=profiles, double_layer=double_layer,
        provenance=Provenance(code_version=code_version, notes=notes,
                              created=_dt.datetime.now(_dt.timezone.utc).isoformat()).model_dump()))


def pnp_at_surface_charge(handoff: Handoff, sigma: float, *, informed: bool, bracket=(-1.0, 1.0),
                          xtol: float = 1e-6, **kwargs):
    """The open-cell PNP (``pnp_open_cell``) whose electrode carries ``sigma`` (C/m^2): the
    electrode potential is found by Brent's method within ``bracket`` (V vs the bulk).
    Returns (potential V, PNPResult). An MD fixes the charge, a PNP cell the potential; this
    compares the two at equal charge, as Bonthuis & Netz (2011) did."""
    from scipy.optimize import brentq

    if not np.isfinite(sigma):
        raise InputError(f"sigma: {sigma}; expected a finite surface charge in C/m^2")
    cache = {}

    def excess(psi):
        cache[psi] = pnp_open_cell(handoff, psi, informed=informed, **kwargs)[1]
        return cache[psi].surface_charge - sigma

    lo, hi = bracket
    f_lo, f_hi = excess(lo), excess(hi)
    if f_lo * f_hi > 0:
        raise InputError(f"sigma: {sigma} C/m^2 is outside what potentials {bracket} V give "
                         f"({f_lo + sigma:.3g} .. {f_hi + sigma:.3g} C/m^2); widen the bracket")
    psi = brentq(excess, lo, hi, xtol=xtol)
    if psi not in cache:
        excess(psi)
    return psi, cache[psi]


def pnp_capacitance(handoff: Handoff, potential: float, *, informed: bool, step: float = 5e-3,
                    **kwargs) -> float:
    """Differential capacitance dsigma/dpsi (F/m^2) of the open-cell PNP at ``potential``
    (V vs the bulk), by a central difference of +- ``step`` V (second order)."""
    hi = pnp_open_cell(handoff, potential + step, informed=informed, **kwargs)[1].surface_charge
    lo = pnp_open_cell(handoff, potential - step, informed=informed, **kwargs)[1].surface_charge
    return (hi - lo) / (2 * step)


def pnp_at_md_charge(handoff: Handoff, *, bracket=(-2.0, 2.0), **kwargs) -> dict:
    """Plain and MD-informed PNP at the surface charge the handoff's MD measured, each judged
    against the MD's ion profiles beyond its first adsorption layer.

    Reads ``handoff.double_layer``: surface_charge[0] (C/m^2, what the PNP electrode must
    carry), first_layer_end (m; profiles are compared beyond it, all bins when unset) and,
    when present, the MD's capacitance[0] (F/m^2) with its stderr. Returns {"plain": ...,
    "informed": ...}, each {"potential" (V vs the bulk), "result" (PNPResult), "profiles"
    (``compare_profiles``), "capacitance" (F/m^2, ``pnp_capacitance``), "capacitance_ratio"
    (PNP / MD, NaN without an MD capacitance)}.
    """
    dl = handoff.double_layer
    if dl is None or not dl.surface_charge:
        raise InputError("handoff: no double_layer.surface_charge; expected the MD's surface "
                         "charge (couplers.md_to_pnp.interface_handoff(double_layer=...))")
    md_cap = dl.capacitance[0] if dl.capacitance else float("nan")
    out = {}
    for informed in (False, True):
        psi, r = pnp_at_surface_charge(handoff, dl.surface_charge[0], informed=informed,
                                       bracket=bracket, **kwargs)
        cap = pnp_capacitance(handoff, psi, informed=informed, **kwargs)
        out["informed" if informed else "plain"] = {
            "potential": psi, "result": r, "capacitance": cap,
            "capacitance_ratio": cap / md_cap if md_cap else float("nan"),
            "profiles": compare_profiles(handoff, r, x_min=dl.first_layer_end)}
    return out


def plot_md_charge_comparison(handoff: Handoff, comparison: dict, path) -> None:
    """MD ion profiles (points, 2 SE bars) against the plain (thin) and informed (thick) PNP
    of ``pnp_at_md_charge``, with the first adsorption layer shaded, and the MD structure
    the informed PNP was handed (1/eps_perp, W_i / RT); a PNG at ``path``."""
    from matplotlib.figure import Figure
    from scipy.constants import R

    from foundation.files import save_figure

    dl = handoff.double_layer
    fig = Figure(figsize=(11, 4))
    ax, bx = fig.subplots(1, 2)
    for k, s in enumerate(handoff.species):
        zg, cm, se = _concentration_profile(handoff, s.name).si()
        line = ax.errorbar(zg * 1e10, cm / 1e3, yerr=None if se is None else 2 * se / 1e3, fmt="o",
                           ms=3, alpha=0.6, label=f"MD {s.name} (2 SE)")
        color = line[0].get_color()
        for label, lw in (("plain", 0.9), ("informed", 2.0)):
            r = comparison[label]["result"]
            ax.plot(r.x * 1e10, r.c[k] / 1e3, color=color, lw=lw, label=f"{label} PNP {s.name}")
        w = handoff.profile("mean_force_potential", s.name)
        if w is not None:
            zw, vw, _ = w.si()
            bx.plot(zw * 1e10, vw / (R * handoff.temperature), ":", color=color,
                    label=f"W_{s.name} / RT")
    top = max(zg.max() * 1e10, 1.0)
    if dl is not None and dl.first_layer_end:
        ax.axvspan(0, dl.first_layer_end * 1e10, color="0.9", zorder=0,
                   label="first adsorption layer (not judged)")
    ax.set(xlim=(0, top), xlabel="x from the electrode's surface plane (A)",
           ylabel="concentration (mol/L)",
           title=f"at the MD's surface charge ({dl.surface_charge[0] * 100:+.2f} uC/cm^2)"
           if dl is not None and dl.surface_charge else "")
    ax.legend(fontsize=6)
    eps = handoff.profile("permittivity")
    if eps is not None:
        ze, ve, _ = eps.si()
        bx.plot(ze * 1e10, 1 / ve, "k", label="1/eps_perp")
    bx.axhline(0, color="0.7", lw=0.6)
    bx.set(xlim=(0, top), ylim=(-3, 6), xlabel="x (A)",
           title="MD structure handed to the informed PNP")
    bx.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path, dpi=120)
