"""NVE energy behaviour of HybridCalculator with atoms diffusing through the switching shell.

Run:  .venv/bin/python bench/qmml_nve.py        (17 minutes at load ~7 on 2 shared cores, 2026-11-23)

System: liquid Cu, 256 atoms in a periodic 4x4x4 fcc box at a = 3.70 A, melted with EMT
(Langevin, 400 fs at 3000 K then 200 fs at 1800 K, then 50 fs of EMT NVE), then re-thermalised
at 1800 K under each low level alone (150 fs Langevin, 50 fs NVE; see ``settled``); NVE velocity Verlet, dt = 1 fs. High = EMT. Two low levels:

- "close": EMT with every Cu parameter multiplied by (1 + 0.003 N(0, 1))
  (``atomistic.emt_committee.PerturbedEMT``, seed 0, as in bench/qmml_continuity.py): the
  project's stand-in for an MLIP trained on the high level (force MAE ~12 meV/A vs EMT there);
- "LJ": Lennard-Jones fitted to Cu, deliberately far from EMT (~1 eV/A force differences).

Region: a sphere around the box centre (a fixed point, so atoms diffuse through the shell
instead of vibrating on lattice sites: a liquid gives many true crossings, a 1000 K solid
almost none), inner radius 1.5 A, buffer 4.0 A (core force error vs full EMT ~1e-4 eV/A,
BENCHMARKS.md qmml_accuracy: the measured flux is the mixing's, not the cut's). Shell widths
0.5 / 1.0 / 1.5 A; 2.0 A does not fit: r_inner + width + buffer = 7.5 A would exceed half
the 14.8 A box and the cluster would meet its own image (a 5x5x5 box doubles the cost).

- energy mode (subtractive, fixed core): drift of E_kin + E vs the low level alone (LJ).
- force mode: E_w = sum_i w_i e_i^high + (1 - w_i) e_i^low is the weighted per-atom energy
  (low-level per-atom energies shifted by the mean e_high - e_low of the starting liquid:
  a constant per atom, so no force changes). e_i^high are EMT's per-atom energies of the
  *full* system, computed for this measurement only: per-atom energies of atoms near the
  cluster edge are not those of the full system, and they jump whenever an atom joins or
  leaves the buffer, so they would not make a state function. Force mixing is not the gradient of E_w, and
  d(E_kin + E_w)/dt = sum_k v_k . G_k with
      G_k = sum_i (w_i - w_k) grad_k (e_i^high - e_i^low)  +  grad_k w_k (e_k^high - e_k^low).
  The second term is the energy mismatch an atom carries across the shell: sum_k (dw_k/dt)
  (e_k^high - e_k^low), whose integral over one crossing is ~ e^high - e^low whatever the
  width (a property of the two potentials, not of the switching). The first term is the
  switching's own error: it scales as (interaction range / shell width) per shell atom.
  We measure the total flux and split it: the "crossing" part is accumulated exactly from
  the per-atom energies and the weight changes step by step (trapezoid rule); the
  "switching" part is the rest.

Statistics. Both parts are sums of v . (something depending on positions): in a thermal
state their instantaneous mean is zero, so the net flux over a short run is mostly a random
walk of E_kin + E_w, and a single slope says little without its error. Each force-mode run is
cut into BLOCKS consecutive blocks; per block the flux is (change of the cumulative energy) /
(block time). We report the mean over blocks (= net change / run time) with its standard
error (std / sqrt(BLOCKS)), and the rms block flux, sqrt(mean of squares), which measures how
much energy goes back and forth through the boundary on the block time scale whatever its
sign: that magnitude is the quantity that should fall as the shell widens. The temperature
trace (first and last block means, slope with its block error) checks that the liquid is
not heated or cooled by the mixing.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
from ase import units
from ase.build import bulk
from ase.calculators.emt import EMT, parameters
from ase.calculators.lj import LennardJones
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import thermalize_momenta
from ase.md.verlet import VelocityVerlet

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from atomistic.emt_committee import PerturbedEMT  # noqa: E402
from bench._record import markdown_table, record  # noqa: E402
from couplers import HybridCalculator  # noqa: E402
from couplers.regions import SphereRegion  # noqa: E402
from foundation.files import save_figure  # noqa: E402

FAST = os.environ.get("MULTISCALE_FAST") == "1"
STEPS = 20 if FAST else 400
BLOCKS = 2 if FAST else 8  # 50 fs blocks: longer than a shell crossing (~20-40 fs at 1800 K)
DT = 1.0  # fs
R_IN = 1.5
BUFFER = 4.0
SPREAD = 0.003
WIDTHS = (1.0,) if FAST else (0.5, 1.0, 1.5)
OUT = Path(__file__).resolve().parent / "out"


def lj_low():
    return LennardJones(epsilon=0.4093, sigma=2.338, rc=5.5, ro=4.5, smooth=True)


def close_low():
    f = 1 + SPREAD * np.random.default_rng(0).standard_normal(7)
    return PerturbedEMT({"Cu": tuple(np.asarray(parameters["Cu"]) * f)})


LOWS = {"close": close_low, "LJ": lj_low}


def liquid():
    atoms = bulk("Cu", "fcc", a=3.70, cubic=True).repeat(4)
    rng = np.random.default_rng(1)
    thermalize_momenta(atoms, 3000, rng=rng)
    atoms.calc = EMT()
    for temp, steps in ((3000, 20 if FAST else 200), (1800, 10 if FAST else 100)):
        Langevin(atoms, 2 * units.fs, temperature_K=temp, friction=0.05, rng=rng, fixcm=False).run(steps)
    VelocityVerlet(atoms, DT * units.fs).run(5 if FAST else 50)  # off the thermostat's transient
    return atoms


def settled(start, low):
    """The EMT liquid re-thermalised at 1800 K under ``low`` alone, then 50 fs of NVE.

    Switching a liquid equilibrated with EMT to Lennard-Jones releases ~2.5 eV/atom of
    potential-energy mismatch into heat (the liquid jumps from 1800 K to ~4000 K within
    20 fs); every run therefore starts from a liquid at 1800 K under its own low level
    (the high-level sphere holds < 10 of the 256 atoms).
    """
    atoms = start.copy()
    atoms.calc = low()
    rng = np.random.default_rng(2)
    Langevin(atoms, DT * units.fs, temperature_K=1800, friction=0.02 / units.fs, rng=rng,
             fixcm=False).run(10 if FAST else 150)
    VelocityVerlet(atoms, DT * units.fs).run(5 if FAST else 50)
    return atoms


def shift_for(atoms, low):
    """Mean e_high - e_low per atom in the starting liquid (eV)."""
    a = atoms.copy()
    a.calc = EMT()
    eh = a.get_potential_energies()
    a.calc = low()
    return float(np.mean(eh - a.get_potential_energies()))


def blocks(t, y):
    """Per-block flux (dy/dt over each of BLOCKS consecutive blocks), shape (BLOCKS,)."""
    edges = np.linspace(0, len(t) - 1, BLOCKS + 1).round().astype(int)
    return np.array([(y[b] - y[a]) / (t[b] - t[a]) for a, b in zip(edges, edges[1:])])


def stats(t, y):
    """(mean flux, its standard error, rms block flux), all in units of y per ps."""
    f = blocks(t, y)
    return float(f.mean()), float(f.std(ddof=1) / np.sqrt(len(f))), float(np.sqrt(np.mean(f ** 2)))


def run(start, calc, shift=0.0):
    atoms = start.copy()
    atoms.calc = calc
    dyn = VelocityVerlet(atoms, DT * units.fs)
    probe = atoms.copy()
    probe.calc = EMT()  # the full system's per-atom high-level energies, for the measure only
    t, etot, ew, cross, nshell, temp = [], [], [], [], [], []
    crossing, prev, events = 0.0, None, 0
    for step in range(STEPS + 1):
        if step:
            dyn.run(1)
        ekin = atoms.get_kinetic_energy()
        t.append(step * DT / 1000.0)  # ps
        temp.append(atoms.get_temperature())
        etot.append(ekin + atoms.get_potential_energy())
        comp = getattr(calc, "components", None)
        if comp and comp.get("energies_high") is not None:
            w = comp["weights"]
            probe.positions = atoms.positions
            de = probe.get_potential_energies() - comp["energies_low"] - shift
            ew.append(ekin + float(np.sum(comp["energies_low"] + shift + w * de)))
            inshell = (w > 0) & (w < 1)
            nshell.append(int(inshell.sum()))
            if prev is not None:
                w0, de0, in0 = prev
                # sum_k (dw_k) (e_k^high - e_k^low): the energy mismatch carried across
                crossing += float(np.sum((w - w0) * 0.5 * (de + de0)))
                events += int(np.sum(inshell != in0))
            prev = (w.copy(), de.copy(), inshell)
            cross.append(crossing)
    t, etot, temp = np.asarray(t), np.asarray(etot), np.asarray(temp)
    nb = len(t) // BLOCKS
    out = {"drift": float(np.polyfit(t, etot, 1)[0]), "spread": float(np.ptp(etot)), "t": t,
           "temp": temp, "t_first": float(temp[:nb].mean()), "t_last": float(temp[-nb:].mean()),
           "t_slope": stats(t, temp)}
    if ew:
        ew, cross = np.asarray(ew), np.asarray(cross)
        out.update(ew=ew - ew[0], cross=cross, flux=stats(t, ew), crossing=stats(t, cross),
                   switching=stats(t, ew - cross), nshell=float(np.mean(nshell)), events=events)
    return out


def pm(s, fmt=".2f"):
    return f"{s[0]:+{fmt}} ± {s[1]:{fmt}}"


def plot(res):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(2, 2, figsize=(10, 6), sharex=True)
    for j, name in enumerate(LOWS):
        for width in WIDTHS:
            r = res[name, width]
            ax[0, j].plot(r["t"], r["ew"] - r["cross"], label=f"switching part, width {width} A")
            ax[0, j].plot(r["t"], r["cross"], ls=":", label=f"crossing part, width {width} A")
            ax[1, j].plot(r["t"], r["temp"], label=f"width {width} A")
        ax[0, j].set_title(f"low level: {name}")
        ax[0, j].set_ylabel("cumulative boundary energy (eV)")
        ax[1, j].set_ylabel("temperature (K)")
        ax[1, j].set_xlabel("time (ps)")
        ax[0, j].legend(fontsize=6)
        ax[1, j].legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, OUT / "qmml_nve.png", dpi=90)
    plt.close(fig)


def main():
    start = liquid()
    print(f"liquid ready, T = {start.get_temperature():.0f} K", flush=True)
    centre = start.cell.sum(axis=0) / 2
    rows = []
    starts = {name: settled(start, low) for name, low in LOWS.items()}
    print(", ".join(f"{k}: T = {a.get_temperature():.0f} K" for k, a in starts.items()), flush=True)
    base = run(starts["LJ"], lj_low())
    rows.append(["LJ only", "-", f"{base['drift']:+.3f}", f"{base['spread']:.4f}"] + ["-"] * 7
                + [f"{base['t_first']:.0f} -> {base['t_last']:.0f}"])
    em = run(starts["LJ"], HybridCalculator(EMT(), lj_low(), SphereRegion(R_IN, R_IN + 1.0, centre=centre),
                                     buffer=BUFFER, mode="energy"))
    rows.append(["energy mode, LJ", "1.0", f"{em['drift']:+.3f}", f"{em['spread']:.4f}"] + ["-"] * 7
                + [f"{em['t_first']:.0f} -> {em['t_last']:.0f}"])
    print(rows, flush=True)
    res, shifts = {}, {}
    for name, low in LOWS.items():
        shifts[name] = shift_for(starts[name], low)
        for width in WIDTHS:
            fm = run(starts[name], HybridCalculator(EMT(), low(), SphereRegion(R_IN, R_IN + width, centre=centre),
                                             buffer=BUFFER, mode="force"), shifts[name])
            res[name, width] = fm
            sw = fm["switching"]
            rows.append([f"force mode, {name}", f"{width}", f"{fm['drift']:+.3f}", f"{fm['spread']:.4f}",
                         pm(fm["flux"]), pm(fm["crossing"]), pm(sw), f"{sw[2]:.2f}",
                         f"{fm['nshell']:.1f}", f"{sw[2] / fm['nshell']:.3f}", fm["events"],
                         f"{fm['t_first']:.0f} -> {fm['t_last']:.0f} ({pm(fm['t_slope'], '.0f')} K/ps)"])
            print(rows[-1], flush=True)
    table = markdown_table(["run", "shell width (A)", "drift of E_kin + E (eV/ps)",
                            "spread of E_kin + E (eV)", "net flux d(E_kin + E_w)/dt (eV/ps)",
                            "crossing part, net (eV/ps)", "switching part, net (eV/ps)",
                            "switching part, rms block flux (eV/ps)", "mean atoms in shell",
                            "switching rms per shell atom (eV/ps)", "shell entries + exits",
                            "T first -> last block (K)"], rows)
    ratio = abs(em["drift"]) / max(abs(base["drift"]), 1e-12)
    falls = lambda v: all(b < a for a, b in zip(v, v[1:]))  # noqa: E731
    lines = []
    for name in LOWS:
        sw = [res[name, w]["switching"] for w in WIDTHS]
        rms = [s[2] for s in sw]
        per = [s[2] / res[name, w]["nshell"] for s, w in zip(sw, WIDTHS)]
        nonzero = [abs(s[0]) > 2 * s[1] for s in sw]
        lines.append(
            f"- {name} low level (shift {shifts[name]:+.3f} eV/atom): net switching flux "
            f"{', '.join(pm(s) for s in sw)} eV/ps for widths {', '.join(f'{w:g}' for w in WIDTHS)} A "
            f"({sum(nonzero)} of {len(sw)} differ from zero by more than 2 standard errors); "
            f"rms block flux falls with width in total: {'yes' if falls(rms) else 'no'} "
            f"({', '.join(f'{v:.2f}' for v in rms)}), per shell atom: "
            f"{'yes' if falls(per) else 'no'} ({', '.join(f'{v:.3f}' for v in per)} eV/ps).")
    summary = (
        f"\n{STEPS} steps of {DT} fs per run; errors are standard errors over {BLOCKS} blocks of "
        f"{STEPS * DT / BLOCKS:g} fs; rms = sqrt(mean of squared block fluxes). Energy mode "
        f"|drift| / low-only |drift| = {ratio:.2f} (target <= 2: {'met' if ratio <= 2 else 'missed'}); "
        f"spreads {em['spread']:.4f} vs {base['spread']:.4f} eV. In force mode E_kin + E "
        "(E = E_low + mixing work) is the conserved-quantity estimate and stays flat by "
        "construction; the boundary flux is the change of E_kin + E_w, split as above.\n\n"
        + "\n".join(lines)
        + "\n\nThe crossing part is set by e_high - e_low of the atoms that cross, not by the shell; "
        "a low level fitted to the high level makes it (and the switching part) small. "
        "Plot: bench/out/qmml_nve.png (cumulative switching and crossing energy, temperature).\n")
    print(table + summary)
    if not FAST:
        plot(res)
        record("qmml_nve", "python bench/qmml_nve.py", table + "\n" + summary)


if __name__ == "__main__":
    main()
