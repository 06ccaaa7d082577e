"""NEB barrier of an adatom hop on EMT fcc(100): ours vs ASE's own NEB run, and the MLIP committee's.

Run:  .venv/bin/python bench/neb.py          (10-30 min on 2 shared cores, nearly all training;
                                              ~2 min when the committee's checkpoints are cached)
      .venv/bin/python bench/neb.py --fresh  (retrain the committee from scratch)

System: the classic ASE diffusion case, an Au adatom hopping between
neighbouring hollow sites of Al(100) (2x2x3 slab, bottom layer fixed,
EMT), both endpoints relaxed with EMT to fmax 0.01 eV/A.

1. ASE side by side: the plain ASE recipe (``ase.mep.NEB``, climbing image,
   linear interpolation, 3 images, one EMT per image, BFGS to fmax 0.05,
   ``NEBTools.get_barrier``) vs ``atomistic.reactions.neb.run_neb`` (IDPP
   interpolation, 5 images, FIRE to fmax 0.03, the same calculator).
   Target: |Ea_ours - Ea_ASE| <= 0.02 eV.
2. MLIP committee: 4 ``MomentPotential`` members trained
   (``atomistic.mlip.training.train_committee``) on EMT-labelled frames a user has
   before any NEB has converged: the IDPP guess of the path (the images ``run_neb``
   starts from, made without any energy) rattled, and Langevin MD of both endpoints at
   300 and 700 K. No converged band, ours or ASE's, enters the training or the
   calibration (until 2026-12-07 both were rattles of the converged bands, so the
   committee was judged on the path it had been fitted around). Then ``run_neb`` on the
   committee: barrier +- the committee's standard deviation over members.
   Target: |Ea_MLIP - Ea_EMT| <= reported error (1 sigma; 2 sigma also shown).
3. Calibrated committee (``atomistic.mlip.calibration``, Musil et al.
   2019): variance scale factors fitted on other frames of the same kinds (the
   rattled guess path and endpoint MD with other seeds), stored in the potential
   file, then ``run_neb`` again: the barrier's error is now alpha * sigma. The
   calibration is checked on two held-out sets: rattles of the converged EMT bands
   (used for this check only) and 300 K EMT MD of both endpoints with other seeds:
   <z^2> of energies, energy differences and forces should be ~1.
4. Better data where it matters: trust levels calibrated on the same
   held-out frames (``calibrate_trust_levels``, accepting a worst-atom force
   error equal to the NEB's own fmax); the committee's band images above
   trust_lo are its ``doubted_frames``; they and rattled copies are labelled
   with EMT and the committee is retrained from its own weights (warm start,
   30 epochs at most), the active-learning loop's step; then calibrated as
   in 3 and NEB again. This row carries the target.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ase.build import add_adsorbate, fcc100  # noqa: E402
from ase.calculators.emt import EMT  # noqa: E402
from ase.calculators.singlepoint import SinglePointCalculator  # noqa: E402
from ase.constraints import FixAtoms  # noqa: E402
from ase.optimize import BFGS  # noqa: E402

from atomistic.reactions.neb import plot_neb, run_neb  # noqa: E402
from bench._record import markdown_table, record  # noqa: E402


def endpoints():
    """Relaxed initial and final states of the Au hop on Al(100) (ASE's diffusion tutorial)."""
    slab = fcc100("Al", size=(2, 2, 3))
    add_adsorbate(slab, "Au", 1.7, "hollow")
    slab.center(axis=2, vacuum=4.0)
    slab.set_constraint(FixAtoms(mask=[atom.tag > 1 for atom in slab]))
    initial = slab.copy()
    initial.calc = EMT()
    BFGS(initial, logfile=None).run(fmax=0.01)
    final = initial.copy()
    final[-1].x += final.cell[0, 0] / 2  # next hollow site
    final.calc = EMT()
    BFGS(final, logfile=None).run(fmax=0.01)
    return initial, final


def ase_reference(initial, final):
    """ASE's own recipe, as in its NEB documentation."""
    from ase.mep import NEB, NEBTools

    images = [initial.copy()] + [initial.copy() for _ in range(3)] + [final.copy()]
    for image in images:
        image.calc = EMT()
    neb = NEB(images, climb=True, method="improvedtangent")
    neb.interpolate()
    BFGS(neb, logfile=None).run(fmax=0.05, steps=1000)
    barrier, dE = NEBTools(images).get_barrier()
    return float(barrier), float(dE), images


def training_frames(initial, final, band, n_rattle=14, seed=0):
    """EMT-labelled frames around the path: every band image, rattled at two amplitudes."""
    rng = np.random.default_rng(seed)
    fixed = initial.constraints[0].index
    frames = []
    for image in band:
        for k in range(n_rattle):
            a = image.copy()
            a.set_constraint()
            step = rng.normal(0.0, 0.04 if k % 2 else 0.10, a.positions.shape)
            step[fixed] *= 0.3  # fixed atoms move little in the NEB, but not never in MD
            a.positions += step
            a.calc = EMT()
            e, f = a.get_potential_energy(), a.get_forces()
            a.calc = SinglePointCalculator(a, energy=e, forces=f)
            frames.append(a)
    return frames


def guess_path(initial, final, n_images=5):
    """The IDPP guess of the path between the endpoints (no energies used): what run_neb
    starts from, and what a user has before any band has converged."""
    from ase.mep import NEB

    images = [initial.copy()] + [initial.copy() for _ in range(n_images)] + [final.copy()]
    NEB(images, method="improvedtangent").interpolate("idpp")
    return images


def md_frames(atoms, n_frames=12, steps_between=20, temperature_K=300.0, seed=0):
    """EMT-labelled snapshots of Langevin MD from ``atoms``."""
    from ase import units
    from ase.md.langevin import Langevin
    from ase.md.velocitydistribution import thermalize_momenta

    a = atoms.copy()
    a.calc = EMT()
    thermalize_momenta(a, temperature_K=temperature_K, rng=np.random.default_rng(seed))
    dyn = Langevin(a, 2 * units.fs, temperature_K=temperature_K, friction=0.02, fixcm=False,
                   rng=np.random.default_rng(seed + 1))
    frames = []
    for _ in range(n_frames):
        dyn.run(steps_between)
        f = a.copy()
        f.set_constraint()
        f.calc = SinglePointCalculator(f, energy=a.get_potential_energy(),
                                       forces=a.get_forces(apply_constraint=False))
        frames.append(f)
    return frames


def main():
    import torch

    from atomistic.mlip.calibration import (calibrate_committee, check_calibration,
                                                 store_calibration)
    from atomistic.mlip.dataset import label_frames
    from atomistic.mlip.potential import load_potential
    from atomistic.learning.trust_levels import calibrate_trust_levels
    from atomistic.mlip.training import train_committee

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    initial, final = endpoints()
    t = time.perf_counter()
    ase_barrier, ase_dE, ase_band = ase_reference(initial, final)
    t_ase = time.perf_counter() - t
    t = time.perf_counter()
    ours = run_neb(initial, final, EMT, n_images=5, fmax=0.03)
    t_ours = time.perf_counter() - t
    print(f"EMT: ours {ours.barrier:.4f} eV ({t_ours:.1f} s), ASE {ase_barrier:.4f} eV "
          f"({t_ase:.1f} s)", flush=True)

    # the committee: trained on what exists before any band converged (the rattled IDPP
    # guess and endpoint MD); the converged bands are kept for checking only
    guess = guess_path(initial, final)

    def unconverged(seed, n_rattle):
        return (training_frames(initial, final, guess, n_rattle=n_rattle, seed=seed)
                + [f for k, (a, T) in enumerate([(initial, 300.0), (final, 300.0),
                                                 (initial, 700.0), (final, 700.0)])
                   for f in md_frames(a, temperature_K=T, seed=10 * seed + 2 * k + 100)])

    frames = unconverged(0, 14)
    out = Path(tempfile.gettempdir()) / "multiscale-neb-bench"
    if "--fresh" in sys.argv:
        shutil.rmtree(out, ignore_errors=True)
    # otherwise train_committee's per-member checkpoints (keyed by settings and data hash)
    # make a rerun reuse the finished committee: same data and settings, same weights
    # a fixed epoch budget (no wall-clock cap), so the committee and the table are reproducible
    settings = {"n_members": 4, "epochs": 100, "early_stopping_patience": 20, "seed": 0,
                "energy_weight": 20.0, "cutoff": 5.0}
    t = time.perf_counter()
    committee = train_committee(frames, settings, out / "au_al100.mlip.pt", progress=False)
    t_train = time.perf_counter() - t
    cached = t_train < 60
    print(f"trained {settings['n_members']} members on {len(frames)} frames in {t_train:.0f} s",
          flush=True)
    t = time.perf_counter()
    ml = run_neb(initial, final, committee, n_images=5, fmax=0.03)
    t_ml = time.perf_counter() - t
    # EMT on the committee's own path: how far the committee's path is from EMT's
    e_emt_on_ml = []
    for image in ml.images:
        a = image.copy()
        a.calc = EMT()
        e_emt_on_ml.append(a.get_potential_energy())
    e_emt_on_ml = np.array(e_emt_on_ml) - e_emt_on_ml[0]

    # frames never trained on: the same kinds with seed 1 fit the calibration and the trust
    # levels (20 rattles per guess image: with 4 members z^2 is heavy-tailed, so alpha needs
    # many values); rattles of the converged bands and 300 K MD check that it transfers
    band = ours.images + ase_band[1:-1]
    cal_frames = unconverged(1, 20)
    check_sets = {"rattled converged band images": training_frames(initial, final, band,
                                                                   n_rattle=20, seed=2),
                  "300 K EMT MD of both endpoints": md_frames(initial, seed=3)
                  + md_frames(final, seed=4)}

    def calibrated_run(calc, path):
        """Calibrate ``calc`` on cal_frames (energy differences against the initial state),
        store it in its potential file, check it on the other sets, NEB on the result."""
        t = time.perf_counter()
        cal = calibrate_committee(calc, cal_frames, reference_structure=initial,
                                  reference_calc=EMT)
        calibrated = load_potential(store_calibration(path, cal))
        checks = {name: check_calibration(calibrated, fr, cal, initial, EMT)
                  for name, fr in check_sets.items()}
        t_cal = time.perf_counter() - t
        t = time.perf_counter()
        res = run_neb(initial, final, calibrated, n_images=5, fmax=0.03)
        return cal, checks, res, t_cal, time.perf_counter() - t

    def emt_along(result):
        e = []
        for image in result.images:
            a = image.copy()
            a.calc = EMT()
            e.append(a.get_potential_energy())
        return np.array(e) - e[0]

    # 3. calibration alone, on the committee as trained
    cal0, checks0, mlc0, t_cal, t_mlc = calibrated_run(committee, out / "au_al100.mlip.pt")

    # 4. better data where it matters: images doubted at a calibrated trust level -> EMT ->
    # warm-start retrain (the active-learning loop's step). The accepted worst-atom force
    # error is the NEB's own fmax: a larger error would move the converged band.
    trust = calibrate_trust_levels(committee, cal_frames, max_error=0.03)
    ml_t = run_neb(initial, final, committee, n_images=5, fmax=0.03, trust_level=trust.trust_lo)
    doubted = ml_t.doubted_frames
    t_al, new_frames, ml_al = 0.0, [], None
    cal, checks, mlc = cal0, checks0, mlc0
    if doubted:
        new_frames = label_frames(doubted, EMT, progress=False).frames + training_frames(
            initial, final, doubted, n_rattle=8, seed=5)
        t = time.perf_counter()
        committee_al = train_committee(frames + new_frames, {**settings, "epochs": 30},
                                       out / "au_al100_al.mlip.pt", progress=False,
                                       warm_start=out / "au_al100.mlip.pt")
        t_al = time.perf_counter() - t
        print(f"trust_lo {trust.trust_lo:.4f} eV/A: doubted images {ml_t.doubted}; retrained "
              f"on {len(frames) + len(new_frames)} frames in {t_al:.0f} s", flush=True)
        ml_al = run_neb(initial, final, committee_al, n_images=5, fmax=0.03)
        e_emt_on_ml = emt_along(ml_al)
        cal, checks, mlc, _, _ = calibrated_run(committee_al, out / "au_al100_al.mlip.pt")

    diff_ase = ours.barrier - ase_barrier

    def status(diff, sigma):
        return ("met" if abs(diff) <= sigma else
                ("missed (within 2σ)" if abs(diff) <= 2 * sigma else "missed"))

    def barrier_row(label, res, target):
        d = res.barrier - ours.barrier
        return [label, f"{res.barrier:.4f} ± {res.barrier_std:.4f}", round(ours.barrier, 4),
                round(res.barrier / ours.barrier, 4), f"{d:+.5f} ({abs(d) / res.barrier_std:.3f}σ)",
                "abs <= σ" if target else "-", status(d, res.barrier_std)]

    rows = [
        ["barrier, ours (run_neb, EMT) vs ASE NEB (EMT)", round(ours.barrier, 4),
         round(ase_barrier, 4), round(ours.barrier / ase_barrier, 4), f"{diff_ase:+.4f}",
         "abs <= 0.02", "met" if abs(diff_ase) <= 0.02 else "missed"],
        ["reaction energy, ours vs ASE", round(ours.reaction_energy, 4), round(ase_dE, 4), "-",
         f"{ours.reaction_energy - ase_dE:+.4f}", "-", "-"],
        barrier_row("barrier, MLIP committee as trained ± raw σ (members' spread) vs EMT",
                    ml, False),
        barrier_row(f"barrier, same committee calibrated ± ασ (α = {mlc0.uncertainty_scale:.3f})",
                    mlc0, ml_al is None),
    ]
    if ml_al is not None:
        rows += [
            barrier_row(f"barrier, retrained on {len(new_frames)} frames at doubted images "
                        "± raw σ", ml_al, False),
            barrier_row(f"barrier, retrained and calibrated ± ασ (α = {mlc.uncertainty_scale:.3f})",
                        mlc, True)]
    rows += [
        ["reaction energy, final calibrated MLIP ± ασ vs EMT",
         f"{mlc.reaction_energy:.4f} ± {mlc.reaction_energy_std:.4f}",
         round(ours.reaction_energy, 4), "-",
         f"{mlc.reaction_energy - ours.reaction_energy:+.4f}", "-", "-"],
        ["EMT barrier along the final MLIP's path", round(float(e_emt_on_ml.max()), 4),
         round(ours.barrier, 4), "-", f"{e_emt_on_ml.max() - ours.barrier:+.4f}", "-", "-"],
    ]
    table = markdown_table(["quantity (eV)", "ours", "reference", "ratio", "diff", "target",
                            "status"], rows)
    scales = {"energy": cal.energy_scale, "energy_difference": cal.energy_difference_scale,
              "force": cal.force_scale}
    cal_rows = []
    for q in ("energy_difference", "energy", "force"):
        lo, hi = cal.intervals[q]
        row = [q.replace("_", " "), f"{scales[q]:.3f} [{lo:.2f}, {hi:.2f}]",
               round(cal.z_variance_raw[q], 3)]
        for check in checks.values():
            row += [f"{check[q]['raw']:.3f} → {check[q]['calibrated']:.3f}"]
        cal_rows.append(row)
    cal_table = markdown_table(
        ["quantity (final committee)",
         f"α [95 % bootstrap CI] (fit on {cal.n_frames} held-out frames)",
         "<z²> raw, fit set"]
        + [f"<z²> raw → calibrated, {name} ({next(iter(c.values()))['n']} values)"
           for name, c in checks.items()], cal_rows)
    speed = markdown_table(
        ["run", "wall (s)", "images", "optimiser steps"],
        [["ASE NEB, EMT (3 images, BFGS, fmax 0.05)", round(t_ase, 2), 3, "-"],
         ["run_neb, EMT (5 images, IDPP, FIRE, fmax 0.03)", round(t_ours, 2), 5, ours.steps],
         ["run_neb, MLIP committee (4 members)", round(t_ml, 2), 5, ml.steps],
         ["run_neb, calibrated MLIP committee", round(t_mlc, 2), 5, mlc0.steps],
         [f"warm-start retrain (30 epochs max, {len(new_frames)} new frames)", round(t_al, 1),
          "-", "-"],
         [f"committee training ({len(frames)} frames)"
          + (" (cached checkpoints)" if cached else ""), round(t_train, 1), "-", "-"],
         ["calibration: fit + two checks (frames labelled before)", round(t_cal, 1), "-",
          "-"]])
    lo_d, hi_d = cal.intervals["energy_difference"]
    dev = ", ".join(f"{d:.3f}" for d in ml.max_force_dev)
    plot_neb(mlc, Path(__file__).with_name("out") / "neb_profile.png",
             title="Au hop on Al(100): calibrated MLIP committee vs EMT", reference=ours)
    notes = (f"Au adatom, hollow -> hollow on Al(100) 2x2x3 (bottom layer fixed), EMT. "
             f"Committee max force deviation per image (eV/Å): {dev}; trust level "
             f"{ml.trust_level} eV/Å (default), doubted images: {ml.doubted or 'none'}; at the "
             f"calibrated trust_lo {trust.trust_lo:.4f} eV/Å (calibrate_trust_levels, max_error "
             f"= fmax 0.03 eV/Å, error/dev ratio {trust.ratio:.2f}, Spearman "
             f"{trust.spearman:.2f}): doubted {ml_t.doubted or 'none'}"
             + (f", labelled with EMT with 8 rattles each and retrained from the committee's "
                f"weights" if ml_al is not None else "") + ". "
             f"Total bench wall time {time.perf_counter() - t0:.0f} s. "
             "Profile with the calibrated committee band: bench/out/neb_profile.png. "
             "Training: the rattled IDPP guess path (amplitudes 0.04/0.10 Å) and Langevin MD "
             "of both endpoints at 300 and 700 K, never a converged band. "
             "Calibration (atomistic.mlip.calibration, method 'likelihood': α² = <z²> "
             "on held-out values, z = (committee mean − EMT)/σ, σ the members' std): fitted on "
             "frames of the same kinds with other seeds, energy differences taken against the "
             "relaxed initial state; <z²> ≈ 1 on the check sets (rattled converged bands, "
             "300 K endpoint MD) means the calibration transfers. Neither training nor "
             "calibration sees the NEB images or the barrier. "
             f"With the difference factor at its bootstrap CI ends [{lo_d:.2f}, {hi_d:.2f}] the "
             f"final barrier's σ would be [{lo_d * mlc.barrier_std_raw:.4f}, "
             f"{hi_d * mlc.barrier_std_raw:.4f}] eV, |diff|/σ = "
             f"[{abs(mlc.barrier - ours.barrier) / (hi_d * mlc.barrier_std_raw):.2f}, "
             f"{abs(mlc.barrier - ours.barrier) / (lo_d * mlc.barrier_std_raw):.2f}].")
    body = table + "\n\n" + cal_table + "\n\n" + speed + "\n\n" + notes
    print(body)
    record("neb", ".venv/bin/python bench/neb.py", body)


if __name__ == "__main__":
    main()
