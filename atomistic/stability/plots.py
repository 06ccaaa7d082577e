"""Pictures of stability: hull diagrams with error bars, voltage profiles, reliability diagrams.

Each function draws on a matplotlib Axes and returns it; with no Axes it
draws on a new ``matplotlib.figure.Figure`` (no pyplot, no backend chosen for
the caller), reachable as ``ax.figure``. Save with
``foundation.files.save_figure(ax.figure, path)`` (atomic PNG).
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError


def _axes(ax):
    if ax is None:
        from matplotlib.figure import Figure

        ax = Figure(figsize=(6, 4)).subplots()
    return ax


def plot_hull(hull, ax=None, x_element: str | None = None):
    """Formation energy vs composition of a binary (or a binary cut): hull line, points, error bars.

    x_element: the element on the x axis (its atom fraction); default the
    second element alphabetically. Committee hulls get 1-sigma error bars
    and colour by P(stable). Entries with other elements are left out.
    """
    ax = _axes(ax)
    elements = hull.elements
    x_element = x_element or elements[-1]
    if x_element not in elements:
        raise InputError(f"x_element = {x_element!r}: not in the hull's elements {elements}")
    pd = hull.phase_diagram
    from pymatgen.core import Composition

    xs = np.array([Composition(f).get_atomic_fraction(x_element) for f in hull.formulas])
    ef = hull.formation_energy
    err = hull.formation_energy_std if hull.formation_energy_std is not None else np.zeros_like(ef)
    color = hull.p_stable if hull.p_stable is not None else hull.stable.astype(float)
    on = hull.stable
    order = np.argsort(xs[on])
    ax.plot(xs[on][order], ef[on][order], "k-", lw=1, label="hull")
    ax.errorbar(xs, ef, yerr=err, fmt="none", ecolor="0.6", elinewidth=1, capsize=2)
    sc = ax.scatter(xs, ef, c=color, cmap="viridis", vmin=0, vmax=1, zorder=3, s=25,
                    edgecolors="k", linewidths=0.4)
    ax.figure.colorbar(sc, ax=ax, label="P(stable)" if hull.p_stable is not None else "on hull")
    ax.set_xlabel(f"atom fraction {x_element}")
    ax.set_ylabel("formation energy (eV/atom)")
    ax.set_title(" - ".join(str(e) for e in pd.elements))
    return ax


def plot_voltage(profile, ax=None, n: int = 400):
    """Voltage vs x (ions per host formula): the plateaus, with the committee's +-1 sigma band."""
    ax = _axes(ax)
    x = np.linspace(profile.x[0], profile.x[-1], n)
    mean, std = profile.voltage_band(x)
    ax.step(profile.x, np.r_[profile.voltage, profile.voltage[-1]], where="post", color="C0",
            label="central")
    if np.any(std > 0):
        ax.fill_between(x, mean - std, mean + std, step=None, color="C0", alpha=0.25,
                        label="committee ±1σ")
    avg = profile.average_voltage()
    ax.axhline(avg, color="C3", ls="--", lw=1, label=f"average {avg:.3f} V")
    ax.set_xlabel(f"x in {profile.ion}$_x${profile.host}")
    ax.set_ylabel(f"voltage (V vs {profile.reference})")
    ax.legend()
    return ax


def plot_reliability(rel: dict, ax=None, label: str = "committee", diagonal: bool = True):
    """Reliability diagram from ``atomistic.stability.calibration.reliability`` numbers.

    diagonal: draw the perfect-calibration line (once per Axes when overlaying curves).
    """
    ax = _axes(ax)
    if diagonal:
        ax.plot([0, 1], [0, 1], "k:", lw=1, label="perfect")
    mp, fr, cnt = (np.array(rel[k], dtype=float) for k in ("mean_p", "frequency", "count"))
    ok = cnt > 0
    ax.plot(mp[ok], fr[ok], "o-", label=f"{label} (ECE {rel['ece']:.3f})")
    for x, y, c in zip(mp[ok], fr[ok], cnt[ok]):
        ax.annotate(f"{int(c)}", (x, y), textcoords="offset points", xytext=(4, -10), fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("predicted P(stable)")
    ax.set_ylabel("observed frequency of reference-stable")
    ax.legend(loc="upper left", fontsize=8)
    return ax
