"""Force continuity of HybridCalculator: one atom crosses the switching shell in steps of h.

Run:  .venv/bin/python bench/qmml_continuity.py        (about 4 minutes on one free core)

System: a Cu fcc ball, every atom within 8 A of atom 0 (177 atoms, rattled 0.03 A, not
periodic: every atom whose force the path can change is at least 2 A inside the surface, so
periodic images would add cost, not physics); high = EMT; shell 3.1 -> 4.1 A around a fixed
point at atom 0; buffer 2.0 A.

Low levels. The realistic use is a low level *fitted to* the high level (an MLIP trained
on it): on the geometries here such a model differs from its reference by a few tens of
meV/A (our Cu MLIP: force MAE 14 meV/A at 1000 K, BENCHMARKS.md mlip-accuracy). Training one
takes minutes, so the stand-in is EMT with every Cu parameter multiplied by (1 + 0.003 N(0,1))
(``atomistic.emt_committee.PerturbedEMT``, seed 0; 0.003 is the project's EMTCommittee default
spread, chosen there to mimic a committee's disagreement, not here): a refit of the same
functional form. Its force MAE vs EMT on the cell rattled by 0.1 A (about the thermal
amplitude of Cu at 1000 K) and the largest |F_high - F_low| on the path are printed below the
table, next to the MLIP's 14 meV/A. Lennard-Jones fitted to Cu is kept as a
deliberately distant low level (|F_high - F_low| of order 1 eV/A).

Two paths, both stepping through the whole shell:

A. drag: the second neighbour of atom 0 moves radially from 3.08 to 4.12 A in steps h. The
   dragged atom has a physical force constant k (~10 eV/A^2 here, compressing and
   stretching real bonds), so *any* potential, the pure high level included, changes its
   force by k h per step: the raw jump cannot fall below k h. We report the raw jump,
   the same path with pure EMT, and the excess max |dF_hybrid - dF_EMT|: the part of the
   jump the coupling adds;
B. moving shell: the atoms stay fixed and the region's centre moves by h per step along
   the same line, so the same atom crosses the shell. Pure potentials give exactly zero
   jump on this path: every bit of the raw jump is the coupling's. Moving the region also
   moves the cluster edge, so atoms join and leave the cluster; with a buffer of the EMT
   cutoff (6 A) that changes the weighted atoms' forces by < 1e-6 eV/A and the jump is the
   switching's alone; one row with the 2 A buffer shows the membership jump.

Per row: max jump = largest |F(n+1) - F(n)| over all atoms and components (eV/A); max 2nd
difference |F(n+1) - 2F(n) + F(n-1)|: O(h^2) for a smooth force, O(h) at a kink (linear
switching), O(1) at a jump (abrupt switching).

Amended 2026-12-08 (recipe, path and target unchanged; a diagnosis added): the trained
row's excess over pure EMT (2.47e-3 eV/A) sat on the dragged atom at its last step, where
its weight is 0 and the hybrid force is the low level's own. So the trained row now also
gives the pure trained MLIP's excess over pure EMT on the same path (no coupling), and the
coupling's own part: the hybrid's jump beyond the w-blend of the two pure levels' jumps.
The target is still judged on the excess over pure EMT, as the issue states it.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
from ase.build import bulk
from ase.calculators.emt import EMT, parameters
from ase.calculators.lj import LennardJones

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from atomistic.emt_committee import PerturbedEMT  # noqa: E402
from bench._record import markdown_table, record  # noqa: E402
from couplers import HybridCalculator  # noqa: E402
from couplers.regions import SphereRegion  # noqa: E402

FAST = os.environ.get("MULTISCALE_FAST") == "1"
R_IN, R_OUT = 3.1, 4.1
SPREAD = 0.003


def fitted_low():
    f = 1 + SPREAD * np.random.default_rng(0).standard_normal(7)
    return PerturbedEMT({"Cu": tuple(np.asarray(parameters["Cu"]) * f)})


CACHE = Path(__file__).resolve().parent / "out" / "qmml_continuity_cache"


def trained_low():
    """Our MLIP trained on EMT frames of periodic Cu (the recipe in the module doc)."""
    from atomistic.mlip.potential import load_potential
    from atomistic.mlip.reference_frames import langevin_frames, rattled_fcc
    from atomistic.mlip.training import train_committee

    path = CACHE / ("trained_fast.mlip.pt" if FAST else "trained.mlip.pt")
    if not path.is_file():
        cell = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(3)
        n = 5 if FAST else 30
        frames = rattled_fcc("Cu", EMT(), 8 if FAST else 40, size=(3, 3, 3), seed=0)
        frames += langevin_frames(cell, EMT(), 300.0, n, seed=1)
        frames += langevin_frames(cell, EMT(), 1000.0, n, seed=2)
        train_committee(frames, {"n_members": 1, "epochs": 4 if FAST else 60, "dtype": "float64"},
                        path=path, progress=False)
    calc = load_potential(path, dtype="float64")
    return calc


def lj_low():
    return LennardJones(epsilon=0.4093, sigma=2.338, rc=5.5, ro=4.5, smooth=True)


def system():
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(6)
    atoms = atoms[np.linalg.norm(atoms.positions - 3 * 3.61, axis=1) < 8.0]  # around site (3,3,3)a
    atoms.pbc = False
    atoms.rattle(0.03, seed=3)
    first = int(np.argmin(np.linalg.norm(atoms.positions - 3 * 3.61, axis=1)))
    centre = atoms.positions[first].copy()
    # a second neighbour (3.61 A): moving it radially strains bonds least
    mover = int(np.argmin(np.abs(np.linalg.norm(atoms.positions - centre, axis=1) - 3.61)))
    u = atoms.positions[mover] - centre
    return atoms, centre, mover, u / np.linalg.norm(u)


def drag(make_calc, h, weights=None):
    """Path A: forces (steps, N, 3) and, for hybrids, the (F_high - F_low) on the path;
    a list given as ``weights`` gets each step's switching weights (N,)."""
    atoms, centre, mover, u = system()
    atoms.calc = make_calc(centre)
    forces, gap = [], 0.0
    for r in np.arange(R_IN - 0.02, R_OUT + 0.02, h):
        atoms.positions[mover] = centre + r * u
        forces.append(atoms.get_forces().copy())
        comp = getattr(atoms.calc, "components", None)
        if comp:
            sel = comp["weights"] > 0
            gap = max(gap, np.abs(comp["forces_high"][sel] - comp["forces_low"][sel]).max())
            if weights is not None:
                weights.append(comp["weights"].copy())
    return np.array(forces), gap


def excess(f, f_ref):
    """max |dF - dF_ref| over steps, atoms and components: the jump of ``f`` beyond that of
    ``f_ref`` on the same path (both (steps, N, 3))."""
    return float(np.abs(np.diff(f, axis=0) - np.diff(f_ref, axis=0)).max())


def coupling_part(f_hybrid, weights, f_high, f_low):
    """max |dF_hybrid - (w dF_high + (1 - w) dF_low)| over steps, atoms and components: the
    hybrid's jump beyond the blend of the two pure levels' own jumps on the same path,
    with w each atom's weight averaged over the step. Where w = 0 the hybrid is the low
    level and this is zero, whatever the low level's own force constants."""
    w = np.asarray(weights)
    w = 0.5 * (w[1:] + w[:-1])[..., None]
    blend = w * np.diff(f_high, axis=0) + (1 - w) * np.diff(f_low, axis=0)
    return float(np.abs(np.diff(f_hybrid, axis=0) - blend).max())


def moving_shell(make_low, switch, h, buffer):
    """Path B: atoms fixed, region centre moved by h per step; forces (steps, N, 3)."""
    atoms, centre, mover, u = system()
    r0 = np.linalg.norm(atoms.positions[mover] - centre)
    region = SphereRegion(R_IN, R_OUT, centre=centre)
    atoms.calc = HybridCalculator(EMT(), make_low(), region, switch=switch, buffer=buffer)
    forces = []
    for r in np.arange(R_IN - 0.02, R_OUT + 0.02, h):
        # the mover's distance from the centre goes from R_IN - 0.02 to R_OUT + 0.02
        region.point = centre + (r0 - r) * u
        atoms.calc.reset()
        forces.append(atoms.get_forces().copy())
    return np.array(forces)


def jumps(f):
    return float(np.abs(np.diff(f, axis=0)).max()), float(np.abs(np.diff(f, 2, axis=0)).max())


def main():
    # two steps a factor 2 apart show the scaling; the target is set at h = 1e-3 A
    steps = [8e-3, 4e-3] if FAST else [2e-3, 1e-3]
    all_h = ["quintic", "linear", "abrupt"]
    pure = {h: drag(lambda c: EMT(), h)[0] for h in steps}
    print("pure path done", flush=True)

    rows_a, res_a, gaps, split = [], {}, {}, {}
    cases = [("quintic", h, "fitted") for h in steps]
    cases += [("quintic", h, "trained") for h in steps]
    cases += [("quintic", steps[-1], "LJ")]
    trained = trained_low()            # trained once, shared (a pure function of positions)
    for sw, h, which in cases:
        make = {"fitted": fitted_low, "LJ": lj_low, "trained": lambda: trained}[which]
        weights = []
        f, gap = drag(lambda c: HybridCalculator(EMT(), make(), SphereRegion(R_IN, R_OUT, centre=c),
                                                 switch=sw, buffer=2.0), h, weights)
        gaps[which] = max(gaps.get(which, 0.0), gap)
        jump, curv = jumps(f)
        res_a[(sw, h, which)] = (jump, excess(f, pure[h]))
        if which == "trained":   # where the excess comes from: the low level alone, or the coupling
            low = drag(lambda c: trained, h)[0]
            split[h] = (excess(low, pure[h]), coupling_part(f, weights, pure[h], low))
        rows_a.append([which, sw, h, f"{jump:.3e}", f"{jumps(pure[h])[0]:.3e}", f"{res_a[(sw, h, which)][1]:.3e}",
                       f"{curv:.2e}"])
        print(rows_a[-1], flush=True)
    pj, pc = jumps(pure[steps[-1]])
    rows_a.append(["(pure EMT, high)", "-", steps[-1], f"{pj:.3e}", f"{pj:.3e}", "0", f"{pc:.2e}"])
    table_a = markdown_table(["low level", "switch", "step h (A)", "raw max jump (eV/A)",
                              "pure EMT, same path (eV/A)", "excess over pure EMT (eV/A)",
                              "max 2nd difference (eV/A)"], rows_a)

    rows_b, res_b, curv_b = [], {}, {}
    cases_b = [("quintic", steps[-1], 2.0)] + [("quintic", h, 6.0) for h in steps]
    cases_b += [(sw, steps[-1], 6.0) for sw in ("linear", "abrupt")]
    for sw, h, buffer in cases_b:
        jump, curv = jumps(moving_shell(fitted_low, sw, h, buffer))
        if buffer == 6.0:
            res_b[(sw, h)] = jump
            curv_b[(sw, h)] = curv
        else:
            membership_jump = jump
        rows_b.append([sw, h, buffer, f"{jump:.3e}", f"{curv:.2e}"])
        print(rows_b[-1], flush=True)
    for h in steps:
        jump, curv = jumps(moving_shell(lambda: trained, "quintic", h, 6.0))
        res_b[("trained", h)] = jump
        rows_b.append(["quintic (trained low level)", h, 6.0, f"{jump:.3e}", f"{curv:.2e}"])
        print(rows_b[-1], flush=True)
    table_b = markdown_table(["switch", "step h (A)", "buffer (A)", "raw max jump (eV/A)",
                              "max 2nd difference (eV/A)"], rows_b)

    probe, _, _, _ = system()
    probe.rattle(0.1, seed=11)
    probe.calc = EMT()
    f_emt = probe.get_forces()
    probe.calc = fitted_low()
    mae = float(np.abs(probe.get_forces() - f_emt).mean())
    probe.calc = trained
    mae_trained = float(np.abs(probe.get_forces() - f_emt).mean())
    h0, h1 = steps[0], steps[-1]
    fall = lambda d, key: d[key(h0)] / d[key(h1)]  # noqa: E731
    qa = res_a[("quintic", h1, "fitted")]
    ratio_raw = res_a[("quintic", h0, "fitted")][0] / qa[0]
    ratio_ex = res_a[("quintic", h0, "fitted")][1] / qa[1]
    ratio_b = fall(res_b, lambda h: ("quintic", h))
    ok_b = res_b[("quintic", h1)] < 1e-3
    ok_ex = qa[1] < 1e-3
    summary = (
        f"\nFitted low level vs EMT: force MAE {mae * 1000:.1f} meV/A on the cell rattled by 0.1 A "
        f"(our Cu MLIP: 14 meV/A at 1000 K). "
        f"Measured max |F_high - F_low| over weighted atoms on path A: fitted low level "
        f"{gaps['fitted']:.3f} eV/A, Lennard-Jones {gaps['LJ']:.3f} eV/A, trained MLIP "
        f"{gaps['trained']:.3f} eV/A (its force MAE vs EMT on the rattled ball: "
        f"{mae_trained * 1000:.1f} meV/A; trained on periodic bulk frames only).\n\n"
        f"Target: largest jump < 1e-3 eV/A at h = 1e-3 A, shrinking linearly with h; abrupt and "
        f"linear side by side.\n\n"
        f"- Path B (moving shell, pure potentials jump 0), buffer 6 A (= EMT cutoff, so the "
        "cluster's forces on weighted atoms are exact to ~1e-7 eV/A): quintic raw jump "
        f"{res_b[('quintic', h1)]:.2e} "
        f"eV/A at h = {h1:g} ({'met' if ok_b else 'missed'}); it falls {ratio_b:.2f}x for a "
        f"{h0 / h1:g}x smaller step (linear). Abrupt: {res_b[('abrupt', h1)]:.2e} eV/A, the crossing atom's whole "
        f"F_high - F_low in one step, whatever h (O(1)); linear switching: a similar jump but a "
        f"kink, 2nd difference {curv_b[('linear', h1)]:.1e} vs {curv_b[('quintic', h1)]:.1e} "
        f"eV/A for the quintic (O(h) instead of O(h^2)). With the 2 A buffer the moving region also moves the cluster edge: atoms join "
        f"and leave the cluster, and the forces on weighted atoms change by the buffer's "
        f"truncation error ({membership_jump:.2e} eV/A, at any h; cf. 5.8e-2 eV/A core error at "
        "a 2 A buffer in qmml_accuracy). In MD this is the jump to expect when cluster "
        "membership changes; it is set by the buffer, not the switch: choose the buffer from "
        "the accuracy benchmark, and use hysteresis so it happens rarely.\n"
        f"- Path A (dragged atom), fitted low level, quintic: raw jump {qa[0]:.2e} eV/A at h = "
        f"{h1:g} (missed as a raw number), but pure EMT on the same path jumps "
        f"{jumps(pure[h1])[0]:.2e}: that is k h, the physics of the dragged atom, and no coupling "
        f"can remove it (it would need k < 1 eV/A^2). The coupling's excess over pure EMT is "
        f"{qa[1]:.2e} eV/A ({'met' if ok_ex else 'missed'}). Both fall linearly: "
        f"{ratio_raw:.2f}x and {ratio_ex:.2f}x for {h0 / h1:g}x smaller h.\n"
        f"- The trained MLIP as low level (the headline's case): path A excess over pure EMT "
        f"{res_a[('quintic', h1, 'trained')][1]:.2e} eV/A at h = {h1:g} "
        f"({'met' if res_a[('quintic', h1, 'trained')][1] < 1e-3 else 'missed'}, target < 1e-3), "
        f"{res_a[('quintic', h0, 'trained')][1]:.2e} at h = {h0:g}; path B raw jump "
        f"{res_b[('trained', h1)]:.2e} eV/A at h = {h1:g} "
        f"({'met' if res_b[('trained', h1)] < 1e-3 else 'missed'}). Where path A's excess "
        f"comes from, at h = {h1:g}: the pure trained MLIP on the same path, with no coupling "
        f"at all, differs from pure EMT's jump by {split[h1][0]:.2e} eV/A (its own force "
        f"constants against EMT's); the hybrid's jump beyond the w-blend of the two pure "
        f"levels' jumps (the coupling's own part: switching and cluster cut) is at most "
        f"{split[h1][1]:.2e} eV/A ({split[h0][1]:.2e} at h = {h0:g}).\n"
        f"- With the distant Lennard-Jones low level the excess is "
        f"{res_a[('quintic', h1, 'LJ')][1]:.2e} eV/A at h = {h1:g}: the switching's part is "
        "|dS/dx| (h / shell width) |F_high - F_low| plus (1 - w) (k_low - k_high) h, so it scales "
        "with how far the low level is from the high level; a low level that far away needs a "
        "wider shell.\n")
    body = ("### Path A: drag one atom through the shell\n\n" + table_a +
            "\n\n### Path B: move the shell over fixed atoms (fitted low level unless the row says trained)\n\n" + table_b +
            "\n" + summary)
    print(body)
    if not FAST:
        record("qmml_continuity", "python bench/qmml_continuity.py", body)


if __name__ == "__main__":
    main()
