"""QM/ML on aqueous NaCl: GPAW on a Na+ and its first water shell, the shipped potential around it.

Run:  OMP_NUM_THREADS=1 .venv/bin/python bench/qmml_electrolyte.py
      (about 90 minutes on one core beside another job; kill-safe: every GPAW result
      is cached and the NVE run is checkpointed each step, so a rerun continues)
      QMML_LOW=<file.mlip.pt> uses another potential as the low level (nothing recorded).

The README's headline, on the system the toolkit now has data for: GPAW as the high level,
the learned NaCl/Cu committee (``data/nacl_cu/potential.mlip.pt``, the one ``make demo``
ships) as the low level, force mixing with the quintic switch.

System. The 98-atom NaCl(aq) frame ``w15-s2482`` of the GPAW campaign
(``data/nacl_cu/campaign/dataset.extxyz``, append-only, so the frame stays; 32 H2O + NaCl, a
snapshot of bulk production MD near 330 K, its stored momenta used as they are), repeated
2 x 2 x 2 (784 atoms, 20.4 A box). The repeat is what lets the cluster be cut: the 10.2 A box
is narrower than twice the cluster radius, and the cluster would meet its own image. The
potential's cutoff (5 A) is below half the small box, so the repeat changes none of its
forces.

Region: ``IndexRegion([Na])``, weight 1 within 3.0 A of the Na+ (its first shell: Na-O
2.2-2.9 A in this frame; the first minimum of Na-O g(r) is near 3.1 A), switched to 0 at
3.6 A; buffer 1.5 A (zero-weight atoms within 5.1 A), grown to whole water molecules
(``whole_molecules``), hysteresis 0.3 A. The cluster (about 56 atoms) is charged by the
formal charges of its ions (``cluster_charge="formal"``: +1 for Na+ and waters, 0 when the
Cl- is in it). GPAW: the campaign's labelling settings (LCAO dzp, PBE, h = 0.2 A,
Fermi-Dirac 0.1 eV, legacy code) with a tighter SCF (density 1e-6, forces 1e-5 eV/A), since
the jumps measured here are 1e-4 to 1e-3 eV/A; the cluster box is aligned to the grid
(``grid_spacing``).

1. Drag through the shell. The water molecule whose O sits in the shell is moved rigidly
   along the Na -> O direction, from O at 3.05 A to 3.55 A (5 points), and at each point
   by h and 2h (h = 1e-3 A). Per step: the raw jump max|F(n+1) - F(n)| over all atoms; the
   pure high level's own jump (GPAW's cluster forces on the atoms with weight > 0: the
   physics of the moved molecule, k h); and the coupling's excess over it,
   max |dF_hybrid - dF_high| on those atoms. Force mixing makes the excess
   dw (F_high - F_low) + (1 - w)(dF_low - dF_high): the switching part, which the quintic
   keeps O(h), and the part set by how differently the two levels respond (their force
   constants), which no switch removes. Both are printed. Momentum conservation is off
   here (it shifts every atom's force by the same vector, itself continuous).
2. NVE, velocity Verlet 0.5 fs, hybrid (conserve_momentum on) and the pure potential from the
   same state: the frame re-thermalised under the pure potential first (200 fs of
   Langevin at 300 K, friction 0.01/fs; the campaign frame is not at equilibrium for the
   shipped potential, and NVE from it heats by ~25 K in the first 2 fs). Reported:
   E_kin + E_low over time (for the pure run: its conserved energy; for the hybrid run,
   the energy the mixing puts into the system: the work of F_hybrid - F_low, the GPAW
   core's and the shell's), as net flux +- standard error over blocks and rms block flux;
   temperature; shell crossings; cluster size and charge; and the low level's committee
   spread (max_force_dev) along both runs. The run is 32 fs: what fits a session at
   ~60 s per GPAW step; rerun with a larger STEPS to extend it from its checkpoint.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from ase import units
from ase.io import read
from ase.md.verlet import VelocityVerlet

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._record import markdown_table, record  # noqa: E402  (starts the wall clock)
from atomistic import load_potential  # noqa: E402
from couplers import HybridCalculator  # noqa: E402
from couplers.regions import IndexRegion, mic_vectors  # noqa: E402
from foundation.files import atomic_path, save_figure  # noqa: E402

FAST = os.environ.get("MULTISCALE_FAST") == "1"
ROOT = Path(__file__).resolve().parents[1]
DATASET = ROOT / "data/nacl_cu/campaign/dataset.extxyz"
FRAME_ID = "w15-s2482"
SHIPPED = ROOT / "data/nacl_cu/potential.mlip.pt"
LOW = Path(os.environ.get("QMML_LOW", SHIPPED))
OUT = ROOT / "bench/out" / ("qmml_electrolyte" + ("_fast" if FAST else "")
                            + ("" if LOW == SHIPPED else "_" + LOW.stem))
R_IN, R_OUT, BUFFER, HYSTERESIS = 3.0, 3.6, 1.5, 0.3
H = 1e-3                                   # A, drag step
O_POINTS = (3.3,) if FAST else (3.05, 3.2, 3.3, 3.4, 3.55)
DT = 0.5                                   # fs
STEPS = 4 if FAST else 64
BLOCKS = 2 if FAST else 4                  # 8 fs blocks
GPAW = dict(basis="sz(dzp)" if FAST else "dzp", xc="PBE", h=0.25 if FAST else 0.2,   # LCAO
            occupations={"name": "fermi-dirac", "width": 0.1}, legacy_gpaw=True,
            convergence={"density": 1e-6, "forces": 1e-5}, txt=None)


def start():
    frame = next(a for a in read(DATASET, ":") if a.info.get("al_id") == FRAME_ID)
    atoms = frame.repeat((2, 2, 2))
    atoms.calc = None
    na = int(np.flatnonzero(atoms.symbols == "Na")[0])
    return atoms, na


def gpaw_high():
    from atomistic.mlip.dataset import gpaw_lcao_calculator

    return gpaw_lcao_calculator(kpts=(1, 1, 1), **GPAW)   # the cluster is finite: Gamma


def make_calc(na, low, high, conserve_momentum):
    return HybridCalculator(high, low, IndexRegion([na], R_IN, R_OUT, hysteresis=HYSTERESIS),
                            buffer=BUFFER, whole_molecules=True, cluster_charge="formal",
                            grid_spacing=GPAW["h"], vacuum=4.0,
                            conserve_momentum=conserve_momentum, failure_dir=OUT)


def settled(atoms0, low):
    """The start re-thermalised under the pure potential (cached: deterministic, seeded)."""
    from ase.md.langevin import Langevin

    cache = OUT / "settled.npz"
    atoms = atoms0.copy()
    if cache.exists():
        z = np.load(cache)
        atoms.positions, atoms.arrays["momenta"] = z["positions"], z["momenta"]
        return atoms
    atoms.calc = low
    Langevin(atoms, DT * units.fs, temperature_K=300.0, friction=0.01 / units.fs, fixcm=False,
             rng=np.random.default_rng(5)).run(8 if FAST else 400)
    with atomic_path(cache) as tmp:
        np.savez(tmp, positions=atoms.positions, momenta=atoms.get_momenta())
    atoms.calc = None
    return atoms


def shell_molecule(atoms, na):
    """The water whose O is nearest the middle of the shell: its atoms (O, H, H) and the unit
    vector Na -> O."""
    o = np.flatnonzero(atoms.symbols == "O")
    d = atoms.get_distances(na, o, mic=True)
    oi = int(o[np.argmin(np.abs(d - 0.5 * (R_IN + R_OUT)))])
    dh = atoms.get_distances(oi, np.flatnonzero(atoms.symbols == "H"), mic=True)
    hs = np.flatnonzero(atoms.symbols == "H")[np.argsort(dh)[:2]]
    u = mic_vectors(atoms.positions[oi] - atoms.positions[na], atoms)[0]
    return np.array([oi, *hs]), u / np.linalg.norm(u), float(np.linalg.norm(u))


def drag(atoms0, na, low, high):
    """Per point: hybrid, high (GPAW cluster), low forces and weights at x, x + h, x + 2h."""
    mol, u, d0 = shell_molecule(atoms0, na)
    results = []
    calc = make_calc(na, low, high, conserve_momentum=False)
    for p, target in enumerate(O_POINTS):
        cache = OUT / f"drag_{p}.npz"
        if cache.exists():
            results.append(dict(np.load(cache)))
            continue
        rec = {k: [] for k in ("f", "f_high", "f_low", "w", "charge", "n_cluster")}
        for k in range(3):
            atoms = atoms0.copy()
            atoms.positions[mol] += (target - d0 + k * H) * u
            atoms.calc = calc
            t0 = time.perf_counter()
            rec["f"].append(atoms.get_forces())
            comp = calc.components
            rec["f_high"].append(comp["forces_high"])
            rec["f_low"].append(comp["forces_low"])
            rec["w"].append(comp["weights"])
            rec["charge"].append(calc.step_info["cluster_charge"])
            rec["n_cluster"].append(calc.step_info["n_cluster"])
            print(f"drag point {p} (O at {target:.2f} A) step {k}: {time.perf_counter() - t0:.0f} s, "
                  f"{calc.step_info['n_cluster']} cluster atoms", flush=True)
        out = {k: np.asarray(v) for k, v in rec.items()}
        out["target"] = np.array(target)
        out["mol"] = mol
        with atomic_path(cache) as tmp:
            np.savez(tmp, **out)
        results.append(out)
    return results


def drag_row(r):
    f, fh, fl, w = r["f"], r["f_high"], r["f_low"], r["w"]
    weighted = np.any(w > 0, axis=0)

    def mx(x, mask=None):
        x = np.linalg.norm(x, axis=-1)
        return float((x if mask is None else x[mask]).max())

    raw = max(mx(f[1] - f[0]), mx(f[2] - f[1]))
    own = max(mx(fh[1] - fh[0], weighted), mx(fh[2] - fh[1], weighted))
    excess = [mx((f[k + 1] - f[k]) - (fh[k + 1] - fh[k]), weighted) for k in (0, 1)]
    excess_2h = mx((f[2] - f[0]) - (fh[2] - fh[0]), weighted)
    switching = max(mx((w[k + 1] - w[k])[:, None] * (fh[k] - fl[k]), weighted) for k in (0, 1))
    stiffness = max(mx((1 - w[k])[:, None] * ((fl[k + 1] - fl[k]) - (fh[k + 1] - fh[k])), weighted)
                    for k in (0, 1))
    second = mx(f[2] - 2 * f[1] + f[0])
    second_high = mx(fh[2] - 2 * fh[1] + fh[0], weighted)
    mol = r["mol"]
    return dict(target=float(r["target"]), w_mol=[float(x) for x in w[0][mol]], raw=raw, own=own,
                excess=max(excess), excess_2h=excess_2h, switching=switching, stiffness=stiffness,
                second=second, second_high=second_high,
                gap=mx(fh[0] - fl[0], w[0] > 0), charge=int(r["charge"][0]),
                n_cluster=int(r["n_cluster"][0]))


def nve(atoms0, na, low, high, hybrid_run: bool):
    """NVE from the start state; checkpointed every step (kill-safe; a rerun continues)."""
    name = "nve_hybrid" if hybrid_run else "nve_low"
    ckpt = OUT / f"{name}.npz"
    atoms = atoms0.copy()
    calc = make_calc(na, low, high, conserve_momentum=True) if hybrid_run else low
    atoms.calc = calc
    keys = ("t_fs", "ekin", "e_low", "temp", "dev", "n_cluster", "n_shell", "charge", "t_high",
            "net_force")
    rec = {k: [] for k in keys}
    shells = []
    if ckpt.exists():
        z = np.load(ckpt)
        atoms.positions, atoms.arrays["momenta"] = z["positions"], z["momenta"]
        rec = {k: list(z[k]) for k in keys}
        shells = list(z["in_shell"])
        if hybrid_run:
            calc.load_state(str(z["calc_state"]))
        print(f"{name}: resumed at step {len(rec['t_fs']) - 1}", flush=True)
    dyn = VelocityVerlet(atoms, DT * units.fs)
    while len(rec["t_fs"]) <= STEPS:
        t0 = time.perf_counter()
        if rec["t_fs"]:
            dyn.run(1)
        atoms.get_forces()
        info = calc.step_info if hybrid_run else {}
        low_results = low.results
        rec["t_fs"].append(DT * len(rec["t_fs"]))
        rec["ekin"].append(atoms.get_kinetic_energy())
        rec["e_low"].append(info["e_low"] if hybrid_run else atoms.get_potential_energy())
        rec["temp"].append(atoms.get_temperature())
        rec["dev"].append(float(low_results.get("max_force_dev", np.nan)))
        rec["n_cluster"].append(info.get("n_cluster", 0))
        w = calc.weights if hybrid_run else np.zeros(len(atoms))
        shells.append((w > 0) & (w < 1))
        rec["n_shell"].append(int(shells[-1].sum()))
        rec["charge"].append(info.get("cluster_charge", 0))
        rec["t_high"].append(info.get("t_high", 0.0))
        rec["net_force"].append(float(np.linalg.norm(info.get("net_force_removed", np.zeros(3)))))
        arrays = {k: np.asarray(v) for k, v in rec.items()}
        with atomic_path(ckpt) as tmp:
            np.savez(tmp, positions=atoms.positions, momenta=atoms.get_momenta(),
                     in_shell=np.asarray(shells),
                     calc_state=json.dumps(calc.state()) if hybrid_run else "", **arrays)
        if hybrid_run:
            print(f"{name} step {len(rec['t_fs']) - 1}/{STEPS}: T {rec['temp'][-1]:.0f} K, "
                  f"{info['n_cluster']} cluster atoms (charge {info['cluster_charge']:+d}), "
                  f"dev {rec['dev'][-1]:.2f} eV/A, {time.perf_counter() - t0:.0f} s", flush=True)
    # a checkpoint from a longer run (STEPS lowered since): compare the same length
    out = {k: np.asarray(v, dtype=float)[:STEPS + 1] for k, v in rec.items()}
    s = np.asarray(shells)[:STEPS + 1]
    out["events"] = int(np.sum(s[1:] != s[:-1])) if len(s) > 1 else 0
    return out


def flux(t_fs, e):
    """(net flux, its standard error over BLOCKS blocks, rms block flux), eV/ps."""
    t = np.asarray(t_fs) / 1000.0
    edges = np.linspace(0, len(t) - 1, BLOCKS + 1).round().astype(int)
    f = np.array([(e[b] - e[a]) / (t[b] - t[a]) for a, b in zip(edges, edges[1:])])
    return float(f.mean()), float(f.std(ddof=1) / np.sqrt(len(f))), float(np.sqrt(np.mean(f ** 2)))


def plot(rows, runs, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(15, 4.2))
    x = [r["target"] for r in rows]
    for key, label in (("raw", "raw jump"), ("own", "GPAW's own jump (weighted atoms)"),
                       ("excess", "excess over GPAW"), ("switching", "switching part"),
                       ("stiffness", "force-constant part")):
        ax[0].semilogy(x, [r[key] for r in rows], "o-", label=label)
    ax[0].axhline(1e-3, color="k", ls=":", label="target (excess)")
    ax[0].axvspan(R_IN, R_OUT, color="0.9")
    ax[0].set(xlabel="Na-O distance of the dragged water (A)", ylabel=f"max |dF| per {H:g} A step (eV/A)",
              title="Drag through the shell")
    ax[0].legend(fontsize=7)
    for name, r in runs.items():
        e = r["ekin"] + r["e_low"]
        ax[1].plot(r["t_fs"], e - e[0], label=name)
        ax[2].plot(r["t_fs"], r["temp"], label=name)
    ax[1].set(xlabel="t (fs)", ylabel="E_kin + E_low - start (eV)", title="NVE, 784 atoms")
    ax[2].set(xlabel="t (fs)", ylabel="T (K)")
    ax[1].legend()
    ax[2].legend()
    save_figure(fig, path)
    plt.close(fig)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    if not LOW.exists():
        sys.exit(f"QMML_LOW={LOW}: no such potential file")
    low = load_potential(str(LOW))
    digest = hashlib.sha256(LOW.read_bytes()).hexdigest()[:12]
    atoms0, na = start()
    high = gpaw_high()
    rows = [drag_row(r) for r in drag(atoms0, na, low, high)]
    start_md = settled(atoms0, low)
    runs = {"pure potential": nve(start_md, na, low, high, hybrid_run=False),
            "GPAW / potential": nve(start_md, na, low, high, hybrid_run=True)}

    table_a = markdown_table(
        ["O at (A)", "w of O, H, H", "cluster atoms (charge)", "raw jump (eV/A)",
         "GPAW's own jump (eV/A)", "excess over GPAW (eV/A)", "excess at 2h (eV/A)",
         "switching part", "force-constant part", "|F_GPAW - F_low|, weighted (eV/A)",
         "2nd difference, hybrid / GPAW (eV/A)"],
        [[f"{r['target']:.2f}", ", ".join(f"{x:.2f}" for x in r["w_mol"]),
          f"{r['n_cluster']} ({r['charge']:+d})", f"{r['raw']:.2e}", f"{r['own']:.2e}",
          f"{r['excess']:.2e}", f"{r['excess_2h']:.2e}", f"{r['switching']:.2e}",
          f"{r['stiffness']:.2e}", f"{r['gap']:.2f}",
          f"{r['second']:.1e} / {r['second_high']:.1e}"] for r in rows])
    worst = max(r["excess"] for r in rows)
    met = worst < 1e-3
    lin = np.median([r["excess_2h"] / r["excess"] for r in rows])

    nrows, fl = [], {}
    for name, r in runs.items():
        e = r["ekin"] + r["e_low"]
        fl[name] = flux(r["t_fs"], e)
        nb = max(1, len(e) // BLOCKS)
        high_s = r["t_high"][1:].mean() if name != "pure potential" else 0.0
        nrows.append([name, f"{r['t_fs'][-1]:.0f}", f"{fl[name][0]:+.2f} ± {fl[name][1]:.2f}",
                      f"{fl[name][2]:.2f}", f"{np.ptp(e):.3f}",
                      f"{r['temp'][:nb].mean():.0f} -> {r['temp'][-nb:].mean():.0f}",
                      f"{np.median(r['dev']):.2f} / {np.max(r['dev']):.2f}",
                      "-" if name == "pure potential" else
                      f"{r['n_shell'].mean():.1f}, {r['events']}",
                      "-" if name == "pure potential" else
                      f"{int(r['n_cluster'].min())}-{int(r['n_cluster'].max())}, "
                      f"{sorted({int(c) for c in r['charge']})}",
                      "-" if name == "pure potential" else f"{high_s:.1f}"])
    table_b = markdown_table(
        ["run", "length (fs)", "d(E_kin + E_low)/dt, net (eV/ps)", "rms block flux (eV/ps)",
         "spread of E_kin + E_low (eV)", "T first -> last block (K)",
         "low-level max_force_dev median / max (eV/A)", "shell atoms (mean), entries + exits",
         "cluster atoms, charges", "GPAW s per step"], nrows)
    hy, pu = fl["GPAW / potential"], fl["pure potential"]
    plot(rows, runs, OUT.parent / ("qmml_electrolyte.png" if not FAST else "qmml_electrolyte_fast.png"))
    switch_max = max(r["switching"] for r in rows)
    stiff_wins = sum(r["stiffness"] > r["switching"] for r in rows)
    from ase import units as u
    heating = 2.0 * hy[0] / (3.0 * len(atoms0) * u.kB)     # K/ps, were it all heat
    sigma_away = abs(hy[0]) / hy[1] if hy[1] > 0 else float("inf")
    summary = (
        f"Low level: `{LOW.relative_to(ROOT) if LOW.is_relative_to(ROOT) else LOW}` "
        f"(sha256 {digest}...). Start: frame {FRAME_ID} of the GPAW campaign x 2x2x2 "
        f"({len(atoms0)} atoms); region 1 within {R_IN} A of the Na+, 0 beyond {R_OUT} A, buffer "
        f"{BUFFER} A, whole molecules, formal cluster charge; NVE from the frame re-thermalised "
        f"under the potential (200 fs Langevin, 300 K). GPAW LCAO {GPAW['basis']} PBE h = "
        f"{GPAW['h']} A. Drag step h = {H:g} A; NVE {STEPS} x {DT} fs, {BLOCKS} blocks.\n\n"
        f"- Drag: the coupling's largest excess over GPAW's own jump is {worst:.2e} eV/A per "
        f"{H:g} A step (target < 1e-3: {'met' if met else 'missed'}); it grows {lin:.2f}x for "
        "a 2x step (linear: a continuous force, no jump). It splits into the switching part "
        f"dw (F_GPAW - F_low), at most {switch_max:.1e} eV/A "
        f"({'below' if switch_max < 1e-3 else 'above'} the target by itself), and the "
        "force-constant part (1 - w)(dF_low - dF_GPAW), which measures how differently the "
        "two levels respond to the same step and which no switching function removes: it "
        f"is the larger at {stiff_wins} of {len(rows)} points. The low level here is up to "
        f"{max(r['gap'] for r in rows):.1f} eV/A from the cluster's GPAW on weighted atoms; "
        "a low level closer to GPAW shrinks both parts in proportion.\n"
        f"- NVE: E_kin + E_low changes by {hy[0]:+.2f} ± {hy[1]:.2f} eV/ps in the hybrid run "
        f"(rms block flux {hy[2]:.2f}; {sigma_away:.1f} standard errors from zero) against "
        f"{pu[0]:+.2f} ± {pu[1]:.2f} eV/ps for the pure potential, whose E_kin + E_pot is its "
        "conserved energy (the integrator's drift). In the hybrid run the difference is the "
        "work of F_hybrid - F_low, the GPAW core's forces as well as the shell's mixing, not "
        f"a conserved quantity: were it all heat, {heating:+.0f} K/ps for the {len(atoms0)} "
        "atoms. Over 32 fs this is what the boundary between two levels this far apart "
        "passes; a longer run (resumable: raise STEPS) would tell a steady flux from a "
        "transient.\n"
        f"Plot: bench/out/qmml_electrolyte.png.\n")
    body = ("### Drag one water through the shell\n\n" + table_a + "\n\n### NVE\n\n" + table_b +
            "\n\n" + summary)
    print(body)
    if not FAST and LOW == SHIPPED:
        record("qmml_electrolyte", "OMP_NUM_THREADS=1 .venv/bin/python bench/qmml_electrolyte.py",
               body)


if __name__ == "__main__":
    main()
