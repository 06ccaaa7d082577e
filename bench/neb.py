"""NEB barrier of an adatom hop on EMT fcc(100): ours vs ASE's own NEB run, and the MLIP committee's.

Run:  .venv/bin/python bench/neb.py          (10-30 min on 2 shared cores, nearly all training)

System: the classic ASE diffusion case, an Au adatom hopping between
neighbouring hollow sites of Al(100) (2x2x3 slab, bottom layer fixed,
EMT), both endpoints relaxed with EMT to fmax 0.01 eV/A.

1. ASE side by side: the plain ASE recipe (``ase.mep.NEB``, climbing image,
   linear interpolation, 3 images, one EMT per image, BFGS to fmax 0.05,
   ``NEBTools.get_barrier``) vs ``atomistic.neb.run_neb`` (IDPP
   interpolation, 5 images, FIRE to fmax 0.03, the same calculator).
   Target: |Ea_ours - Ea_ASE| <= 0.02 eV.
2. MLIP committee: 4 ``MomentPotential`` members trained
   (``atomistic.training.train_committee``) on EMT-labelled frames around the
   path (the endpoints and ASE's band images, rattled); then ``run_neb`` on the
   committee: barrier +- the committee's standard deviation over members.
   Target: |Ea_MLIP - Ea_EMT| <= reported error (1 sigma; 2 sigma also shown).
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

from atomistic.neb import plot_neb, run_neb  # noqa: E402
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


def main():
    import torch

    from atomistic.training import train_committee

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

    # the committee: trained on frames around the path (our band + ASE's band)
    frames = training_frames(initial, final, ours.images + ase_band[1:-1])
    out = Path(tempfile.gettempdir()) / "multiscale-neb-bench"
    shutil.rmtree(out, ignore_errors=True)  # always train from scratch
    # a fixed epoch budget (no wall-clock cap), so the committee and the table are reproducible
    settings = {"n_members": 4, "epochs": 100, "early_stopping_patience": 20, "seed": 0,
                "energy_weight": 20.0, "cutoff": 5.0}
    t = time.perf_counter()
    committee = train_committee(frames, settings, out / "au_al100.mlip.pt", progress=False)
    t_train = time.perf_counter() - t
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

    diff_ase = ours.barrier - ase_barrier
    diff_ml = ml.barrier - ours.barrier
    rows = [
        ["barrier, ours (run_neb, EMT) vs ASE NEB (EMT)", round(ours.barrier, 4),
         round(ase_barrier, 4), round(ours.barrier / ase_barrier, 4), f"{diff_ase:+.4f}",
         "abs <= 0.02", "met" if abs(diff_ase) <= 0.02 else "missed"],
        ["reaction energy, ours vs ASE", round(ours.reaction_energy, 4), round(ase_dE, 4), "-",
         f"{ours.reaction_energy - ase_dE:+.4f}", "-", "-"],
        [f"barrier, MLIP committee ± σ vs EMT (ours)", f"{ml.barrier:.4f} ± {ml.barrier_std:.4f}",
         round(ours.barrier, 4), round(ml.barrier / ours.barrier, 4), f"{diff_ml:+.4f}",
         "abs <= σ", ("met" if abs(diff_ml) <= ml.barrier_std else
                      ("missed (within 2σ)" if abs(diff_ml) <= 2 * ml.barrier_std else "missed"))],
        ["reaction energy, MLIP ± σ vs EMT", f"{ml.reaction_energy:.4f} ± {ml.reaction_energy_std:.4f}",
         round(ours.reaction_energy, 4), "-", f"{ml.reaction_energy - ours.reaction_energy:+.4f}",
         "-", "-"],
        ["EMT barrier along the MLIP's path", round(float(e_emt_on_ml.max()), 4),
         round(ours.barrier, 4), "-", f"{e_emt_on_ml.max() - ours.barrier:+.4f}", "-", "-"],
    ]
    table = markdown_table(["quantity (eV)", "ours", "reference", "ratio", "diff", "target",
                            "status"], rows)
    speed = markdown_table(
        ["run", "wall (s)", "images", "optimiser steps"],
        [["ASE NEB, EMT (3 images, BFGS, fmax 0.05)", round(t_ase, 2), 3, "-"],
         ["run_neb, EMT (5 images, IDPP, FIRE, fmax 0.03)", round(t_ours, 2), 5, ours.steps],
         ["run_neb, MLIP committee (4 members)", round(t_ml, 2), 5, ml.steps],
         [f"committee training ({len(frames)} frames)", round(t_train, 1), "-", "-"]])
    dev = ", ".join(f"{d:.3f}" for d in ml.max_force_dev)
    plot_neb(ml, Path(__file__).with_name("out") / "neb_profile.png",
             title="Au hop on Al(100): MLIP committee vs EMT", reference=ours)
    notes = (f"Au adatom, hollow -> hollow on Al(100) 2x2x3 (bottom layer fixed), EMT. "
             f"Committee max force deviation per image (eV/Å): {dev}; trust level "
             f"{ml.trust_level} eV/Å, doubted images: {ml.doubted or 'none'}. "
             f"Total bench wall time {time.perf_counter() - t0:.0f} s. "
             "Profile with committee band: bench/out/neb_profile.png.")
    body = table + "\n\n" + speed + "\n\n" + notes
    print(body)
    record("neb", ".venv/bin/python bench/neb.py", body)


if __name__ == "__main__":
    main()
