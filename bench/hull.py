"""Convex hulls and voltages: ours vs pymatgen vs ASE on the same entries; average voltages by hand.

Run:  .venv/bin/python bench/hull.py       (about a minute on 2 cores)

1. Hull identity. Entries: every symmetry-distinct decoration of the 4-site
   fcc cube by Cu, Au, Pt (binaries and ternaries), relaxed with EMT, plus
   the three fcc elements. The same (formula, total energy) list goes to
   atomistic.stability.hull.hull_from_energies, to pymatgen's PhaseDiagram used
   directly, and to ase.phasediagram.PhaseDiagram. Compared: energy above
   hull per entry (ASE: (E - E_decompose) / N), the stable set and the
   decomposition products (atom fractions).
2. Average voltages. Two insertion electrodes with energies stated below, at
   Materials-Project scale (GGA(+U) total energies per formula unit; the
   machine is offline, so they are illustrative values, not a download; the
   check is the formula, which holds for any energies):
   LixCoO2 with a Li0.5CoO2 ordering (two plateaus) inside a Li-Co-O hull,
   and LixFePO4 (one plateau). Ours (atomistic.stability.electrode_potential) vs
   pymatgen's InsertionElectrode vs the hand formula
   V = -[E(Li_x2 H) - E(Li_x1 H) - (x2 - x1) E(Li)] / (x2 - x1) e.
3. Committee voltage (no peer): Cu alloying into Au, Cu_x Au, with an
   8-member perturbed-EMT committee: V(x) +- sigma and the hull with
   error bars, plotted to bench/out/hull_committee.png and hull_voltage.png.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ase.build import bulk  # noqa: E402
from ase.calculators.emt import EMT  # noqa: E402

from atomistic.stability.decorations import decorations  # noqa: E402
from atomistic.stability.electrode_potential import voltage_profile  # noqa: E402
from atomistic.emt_committee import EMTCommittee  # noqa: E402
from atomistic.stability.hull import formation_hull, hull_from_energies  # noqa: E402
from bench._record import markdown_table, record  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"

LI_METAL = -1.909  # eV/atom, bcc Li
LICOO2_SET = [  # (name, formula, total energy eV per formula as written)
    ("Li", "Li", LI_METAL), ("Co", "Co", -7.108), ("O2", "O2", -9.896),
    ("CoO2", "CoO2", -20.304), ("Li0.5CoO2", "LiCo2O4", -46.617), ("LiCoO2", "LiCoO2", -25.913),
    ("Li2O", "Li2O", -14.310), ("CoO", "CoO", -14.200), ("Co3O4", "Co3O4", -46.000),
    ("Li2O2", "Li2O2", -19.800),
]
LIFEPO4_SET = [
    ("Li", "Li", LI_METAL), ("Fe", "Fe", -8.470), ("P", "P", -5.410), ("O2", "O2", -9.896),
    ("FePO4", "FePO4", -47.072), ("LiFePO4", "LiFePO4", -52.431),
]


def hand_voltage(e_lo: float, x_lo: float, e_hi: float, x_hi: float) -> float:
    """Average voltage between host+x_lo Li and host+x_hi Li (energies per host formula unit)."""
    return -(e_hi - e_lo - (x_hi - x_lo) * LI_METAL) / (x_hi - x_lo)


def part_hull_identity():
    from ase.phasediagram import PhaseDiagram as ASEPhaseDiagram
    from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
    from pymatgen.core import Composition

    structs = [bulk(e, "fcc") for e in ("Cu", "Au", "Pt")]
    structs += decorations(bulk("Cu", "fcc", a=3.6, cubic=True), ["Cu", "Au", "Pt"], max_species=3,
                           prefix="fcc4")
    t0 = time.perf_counter()
    h = formation_hull(structs, EMT(), names=[a.info.get("name", a.get_chemical_formula())
                                               for a in structs])
    t_relax = time.perf_counter() - t0
    entries = list(zip(h.names, h.formulas, h.energies))

    t0 = time.perf_counter()
    ours = hull_from_energies(entries)
    t_ours = time.perf_counter() - t0

    t0 = time.perf_counter()
    pm_entries = [PDEntry(Composition(f), e, name=n) for n, f, e in entries]
    pd = PhaseDiagram(pm_entries)
    pm_ehull = np.array([pd.get_e_above_hull(e, allow_negative=True) for e in pm_entries])
    pm_stable = {e.name for e in pd.stable_entries}
    pm_decomp = [{p.name: f for p, f in pd.get_decomposition(e.composition).items()}
                 for e in pm_entries]
    t_pm = time.perf_counter() - t0

    t0 = time.perf_counter()
    counts = [{str(el): int(a) for el, a in Composition(f).items()} for _, f, _ in entries]
    apd = ASEPhaseDiagram([(c, e) for c, (_, _, e) in zip(counts, entries)], verbose=False)
    ase_ehull, ase_decomp = [], []
    for c, (_, _, e) in zip(counts, entries):
        n = sum(c.values())
        e_hull, idx, coefs = apd.decompose(**c)
        ase_ehull.append((e - e_hull) / n)
        ase_decomp.append({entries[i][0]: coef * apd.references[i][3] / n
                           for i, coef in zip(idx, coefs) if coef > 1e-9})
    ase_ehull = np.array(ase_ehull)
    t_ase = time.perf_counter() - t0
    ase_stable = {entries[i][0] for i in np.flatnonzero(ase_ehull < 1e-9)}

    def decomp_diff(a, b):
        keys = set(a) | set(b)
        return max(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in keys)

    ours_stable = set(ours.stable_names)
    d_pm = max(decomp_diff(o, p) for o, p in zip(ours.decomposition, pm_decomp))
    # ASE decomposes a composition over the hull vertices; ours reports a stable entry as itself
    d_ase = max(decomp_diff(o, a) for o, a in zip(ours.decomposition, ase_decomp))
    rows = [
        ["max abs(e_above_hull - ours) (eV/atom)", 0.0, float(np.abs(pm_ehull - ours.e_above_hull).max()),
         float(np.abs(np.maximum(ase_ehull, 0) - ours.e_above_hull).max())],
        ["stable set", len(ours_stable), "identical" if pm_stable == ours_stable else "differs",
         "identical" if ase_stable == ours_stable else f"differs: {sorted(ase_stable ^ ours_stable)}"],
        ["max abs(decomposition fraction - ours)", 0.0, d_pm, d_ase],
        ["hull time (ms)", 1e3 * t_ours, 1e3 * t_pm, 1e3 * t_ase],
    ]
    table = markdown_table(["", "ours (atomistic.stability.hull)", "pymatgen PhaseDiagram", "ASE PhaseDiagram"],
                           rows)
    return (f"Cu-Au-Pt: {len(entries)} entries relaxed with EMT in {t_relax:.1f} s, "
            f"{len(ours_stable)} on the hull ({', '.join(sorted(ours_stable))}).\n\n" + table)


def part_voltages():
    from pymatgen.apps.battery.insertion_battery import InsertionElectrode
    from pymatgen.entries.computed_entries import ComputedEntry

    E = {n: e for n, _, e in LICOO2_SET}
    e_half = E["Li0.5CoO2"] / 2  # per CoO2 formula unit
    cases = []
    h = hull_from_energies(LICOO2_SET)
    prof = voltage_profile(h, "Li", "CoO2", x_max=1.0)
    ie = InsertionElectrode.from_entries(
        [ComputedEntry(f, e) for n, f, e in LICOO2_SET if n in ("CoO2", "Li0.5CoO2", "LiCoO2")],
        ComputedEntry("Li", LI_METAL))
    cases.append(["LixCoO2, x 0 -> 1", prof.average_voltage(), ie.get_average_voltage(),
                  hand_voltage(E["CoO2"], 0, E["LiCoO2"], 1)])
    cases.append(["LixCoO2, x 0 -> 0.5", prof.average_voltage(0, 0.5), ie.voltage_pairs[0].voltage,
                  hand_voltage(E["CoO2"], 0, e_half, 0.5)])
    cases.append(["LixCoO2, x 0.5 -> 1", prof.average_voltage(0.5, 1), ie.voltage_pairs[1].voltage,
                  hand_voltage(e_half, 0.5, E["LiCoO2"], 1)])
    F = {n: e for n, _, e in LIFEPO4_SET}
    h2 = hull_from_energies(LIFEPO4_SET)
    prof2 = voltage_profile(h2, "Li", "FePO4", x_max=1.0)
    ie2 = InsertionElectrode.from_entries(
        [ComputedEntry(f, e) for n, f, e in LIFEPO4_SET if n in ("FePO4", "LiFePO4")],
        ComputedEntry("Li", LI_METAL))
    cases.append(["LixFePO4, x 0 -> 1", prof2.average_voltage(), ie2.get_average_voltage(),
                  hand_voltage(F["FePO4"], 0, F["LiFePO4"], 1)])
    rows = []
    worst = 0.0
    for name, ours, pm, hand in cases:
        worst = max(worst, abs(ours - hand))
        rows.append([name, f"{ours:.9f}", f"{pm:.9f}", f"{hand:.9f}", f"{abs(ours - hand):.1e}",
                     f"{abs(pm - hand):.1e}"])
    table = markdown_table(["average voltage (V vs Li/Li+), synthetic energies", "ours",
                            "pymatgen InsertionElectrode",
                            "hand formula", "|ours - hand|", "|pymatgen - hand|"], rows)
    energies = "; ".join(f"{n} {e:.3f}" for n, _, e in LICOO2_SET + LIFEPO4_SET[1:])
    return ("The energies are synthetic: values typed in at Materials-Project scale, not computed "
            "by any code here, so these voltages check the formula and its implementations, not "
            "the chemistry of LiCoO2 or LiFePO4.\n\n" + table
            + f"\n\nTarget |ours - hand| <= 1e-6 V: {'met' if worst <= 1e-6 else 'missed'} "
            f"(worst {worst:.1e} V). Energies (eV per formula as written; Li0.5CoO2 as LiCo2O4): "
            f"{energies}.")


def part_committee():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from foundation.files import save_figure as save_png
    from atomistic.stability.plots import plot_hull, plot_voltage

    structs = [bulk("Cu", "fcc"), bulk("Au", "fcc")]
    # the 8-site cell's decorations include every 4-site cube ordering (no duplicates to split P)
    structs += decorations(bulk("Cu", "fcc", a=3.9, cubic=True).repeat((2, 1, 1)), ["Cu", "Au"],
                           prefix="fcc8")
    committee = EMTCommittee(8, spread=0.001, seed=1)
    t0 = time.perf_counter()
    h = formation_hull(structs, committee, names=[a.info.get("name", a.get_chemical_formula())
                                                   for a in structs])
    t = time.perf_counter() - t0
    prof = voltage_profile(h, "Cu", "Au")
    fig, ax = plt.subplots(figsize=(6, 4))
    plot_hull(h, ax, x_element="Au")
    save_png(fig, OUT / "hull_committee.png")
    fig, ax = plt.subplots(figsize=(6, 4))
    plot_voltage(prof, ax)
    save_png(fig, OUT / "hull_voltage.png")
    rows = [[f"{prof.x[i]:.3g} -> {prof.x[i + 1]:.3g}", f"{prof.voltage[i]:.4f}",
             f"{np.std([m.voltage_at((prof.x[i] + prof.x[i + 1]) / 2)[0] for m in prof.member_profiles]):.4f}"]
            for i in range(len(prof.voltage))]
    table = markdown_table(["x in Cu_x Au", "V (V vs Cu/Cu+)", "committee sigma (V)"], rows)
    stable = [f"{n} (P={p:.2f})" for n, p in zip(h.names, h.p_stable) if p > 0]
    return (f"{len(structs)} Cu-Au structures relaxed with the committee mean, 8 members re-evaluated "
            f"({t:.1f} s). Average V = {prof.average_voltage():.4f} +- "
            f"{prof.average_voltage_std():.4f} V. P(stable) > 0: {', '.join(stable)}.\n\n" + table
            + "\n\nPlots: bench/out/hull_committee.png, bench/out/hull_voltage.png")


def main():
    body = ("### Hull: ours vs pymatgen vs ASE, same entries\n\n" + part_hull_identity()
            + "\n\n### Average intercalation voltages from synthetic energies\n\n" + part_voltages()
            + "\n\n### Committee hull and voltage (Cu into Au, EMT committee)\n\n" + part_committee())
    print(body)
    record("hull", "python bench/hull.py", body)


if __name__ == "__main__":
    main()
