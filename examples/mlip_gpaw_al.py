"""Learn aluminium from DFT: GPAW LCAO labels -> a committee potential -> held-out test.

Run:  .venv/bin/python examples/mlip_gpaw_al.py     (about 8 min on one core;
      MULTISCALE_FAST=1: Gamma point only, 4 frames, under a minute)

1. Rattled (0.1 A) and strained (2 %) 2-atom fcc Al cells, labelled with GPAW
   LCAO (dzp, PBE; ~20 s per frame here). A failed SCF would be recorded and
   skipped, not fatal. GPAW's LCAO mode has no stress, so none is learned.
2. A committee of learned potentials trained on energies and forces.
3. Errors on held-out DFT frames, the committee's own uncertainty
   (max_force_dev), and the speed-up over DFT per energy+forces call.
The labelled data (extxyz) and the potential file are written to the
current directory; the full run records its numbers in BENCHMARKS.md.
Labelling keeps a checkpoint there (``al_gpaw.labels.k2.extxyz``): a killed run
picks up where it stopped.

Recipe v2 (frozen 2026-12-08, before its test set was labelled). v1 trained on
16 frames and tested on the next 6 of the same seed-7 stream: 60.2 meV/A against
the <= 60 target. Six 2-atom frames are 36 force components, so that MAE carries
a sampling error near 10 % (+-6 meV/A) and the verdict was a coin toss; 16 frames
(96 force components) is also a thin training set for a 4-member committee. v2:
48 training frames (seed 7; v1's test frames are now among them) and 24 test
frames from seed 11, drawn for v2 and used for nothing else; the committee
settings are v1's, unchanged. The row gives the test MAE's standard error over
the test frames beside the verdict.

What v2 showed (measured 2026-12-08, one seed-11 frame): the reference is not
converged in k-points. Against k=(8, 8, 8) the frame's k=(2, 2, 2) energy is off by
240 meV/atom and its forces by 260-340 meV/A per component; k=(4, 4, 4) is still
off by 41 meV/atom and 60-90 meV/A. A 2-atom metal cell's k-sampling error depends
on the whole cell's shape, not on the atoms within the cutoff, so no local potential
can fit it: the ~55 meV/atom energy MAE of v1 and v2 is that floor. A converged
reference (k=(8, 8, 8): 300 s per frame here, against 8 s) would make the example
a 6-hour run; it keeps k=(2, 2, 2) so that it runs in minutes, and its numbers
measure the fit to that reference, not to converged PBE.
"""
import os
import sys
import time
from pathlib import Path

import numpy as np
from ase.build import bulk

from atomistic import label_frames, train_committee, write_frames
from atomistic.mlip.dataset import gpaw_lcao_calculator
from atomistic.mlip.evaluation import prediction_errors

FAST = os.environ.get("MULTISCALE_FAST") == "1"


def structures(n, seed):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        atoms = bulk("Al", "fcc", a=4.04).repeat((2, 1, 1))
        eps = rng.normal(0, 0.02, (3, 3))
        atoms.set_cell(atoms.cell.array @ (np.eye(3) + 0.5 * (eps + eps.T)), scale_atoms=True)
        atoms.positions += rng.normal(0, 0.1, atoms.positions.shape)
        out.append(atoms)
    return out


def main():
    if not FAST:   # first: the recorded wall time starts when bench._record is imported
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        import bench._record  # noqa: F401
    kpts = (1, 1, 1) if FAST else (2, 2, 2)
    n_train, n_test = (3, 1) if FAST else (48, 24)
    dft = lambda: gpaw_lcao_calculator(kpts=kpts, h=0.3 if FAST else 0.25)  # noqa: E731
    structs = structures(n_train, seed=7) + structures(n_test, seed=11)
    labelled = label_frames(structs, dft, properties=("energy", "forces"),
                            progress=not FAST,
                            # a file per setting: a smoke run's Gamma-point labels are not these
                            checkpoint=f"al_gpaw.labels.k{kpts[0]}.extxyz")
    if labelled.failures:
        print(f"GPAW LCAO: {len(labelled.failures)} frames failed: {labelled.failures}")
    # the DFT cost per frame: timed on one frame, as a resumed run labels only the rest
    t0 = time.perf_counter()
    label_frames(structs[:1], dft, progress=False)
    t_dft = time.perf_counter() - t0
    print(f"GPAW LCAO: {len(labelled.frames)} frames labelled, {t_dft:.1f} s per frame")
    index = [a.info["label_index"] for a in labelled.frames]
    train = [a for a, k in zip(labelled.frames, index) if k < n_train]
    test = [a for a, k in zip(labelled.frames, index) if k >= n_train]
    write_frames(labelled.frames, "al_gpaw.extxyz")
    settings = {"n_members": 2 if FAST else 4, "epochs": 5 if FAST else 300,
                "cutoff": 5.0, "early_stopping_patience": 40,
                "batch_size": 2, "seed": 0}
    t0 = time.perf_counter()
    calc = train_committee(train, settings, "al_gpaw.mlip.pt", progress=not FAST)
    t_train = time.perf_counter() - t0
    err = prediction_errors(calc, test)
    e_err, f_err, dev, fmax_err = err.energy_mae, err.force_mae, err.max_force_dev, err.max_force_error
    per_frame = err.force_mae_per_frame   # the spread between test frames gives the SE
    f_se = np.std(per_frame, ddof=1) / np.sqrt(len(per_frame)) if len(test) > 1 else np.nan
    force_rms = np.sqrt(np.mean([np.mean(f.get_forces() ** 2) for f in test]))
    a = test[0].copy()
    a.calc = calc
    t0 = time.perf_counter()
    for _ in range(20):
        a.positions[0, 0] += 1e-4
        a.get_forces()
    t_ml = (time.perf_counter() - t0) / 20
    rows = [
        ["training / test frames", f"{len(train)} / {len(test)}"],
        ["energy MAE (meV/atom)", f"{1000 * np.mean(e_err):.2f}"],
        ["force MAE per component (meV/A)", f"{1000 * np.mean(f_err):.1f} +- "
         f"{1000 * f_se:.1f} (standard error over the "
         f"test frames; force RMS {1000 * force_rms:.0f}); target <= 60 (mlip-accuracy's "
         f"1000 K target: a 0.1 A rattle is about Al's 1000 K amplitude): "
         f"{'met' if np.mean(f_err) <= 0.060 else 'missed'}"],
        ["force MAE per atom ‖dF‖ (meV/A)", f"{1000 * err.force_mae_per_atom:.1f}"],
        ["mean max_force_dev vs true max error (meV/A)",
         f"{1000 * np.mean(dev):.1f} vs {1000 * np.mean(fmax_err):.1f}"],
        ["DFT s/frame, ML s/frame (committee of "
         f"{settings['n_members']}), speed-up", f"{t_dft:.2f}, {t_ml:.4f}, {t_dft / t_ml:.0f}x"],
        ["training time (s)", f"{t_train:.0f}"],
    ]
    text = "\n".join(f"  {k}: {v}" for k, v in rows)
    print(text)
    if not FAST:
        from bench._record import markdown_table, record

        record("mlip-gpaw-al", "python examples/mlip_gpaw_al.py",
               f"2-atom fcc Al cells rattled 0.1 A and strained 2 %, GPAW LCAO dzp PBE "
               f"k={kpts}, h=0.25 A; committee settings {settings}. Recipe v2 (48 training "
               "frames, a fresh 24-frame test set; docstring). The reference is not "
               "k-converged: on one test frame k=(2, 2, 2) is 240 meV/atom and 260-340 "
               "meV/A per force component from k=(8, 8, 8), an error set by the whole "
               "cell's shape that no local potential can fit (the docstring has the "
               "numbers); the errors below are against the k=(2, 2, 2) labels.\n\n"
               + markdown_table(["quantity", "value"], rows))
    return rows


if __name__ == "__main__":
    main()
