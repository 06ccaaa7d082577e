"""Which descriptor for the NaCl(aq) | Cu(111) potential: chosen on a validation split.

    OMP_NUM_THREADS=2 .venv/bin/python bench/electrolyte_architecture.py
    (MULTISCALE_FAST=1: a smoke run, nothing recorded)

The held-out test frames (data/nacl_cu/test/) are never read here: the choice is
made on VALID of the campaign's own frames (split seed 1, a quarter, so that both
systems are in it), and bench/electrolyte_potential.py then trains the chosen
recipe on every campaign frame and meets the test set once.

Candidates (one member each, same epochs, loss weights, charges and PME long range):
- ``diagonal``: the invariants |M_k^(l)|^2 of each radial channel k (16 x 3 features);
- ``wide``: the same with twice the channels (32 x 3), the cheap way to more features;
- ``coupled``: M_a^(l) . M_b^(l) for every channel pair a <= b (16 + 2 x 136 features),
  the SOAP-like power spectrum; more expressive across six elements.
"""
from __future__ import annotations

import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
warnings.filterwarnings("ignore")

FAST = os.environ.get("MULTISCALE_FAST") == "1"
DATA = ROOT / "data" / "nacl_cu" / "campaign" / "dataset.extxyz"
OUT = ROOT / "bench" / "out" / ("electrolyte_architecture" + ("_fast" if FAST else ""))
EPOCHS = 3 if FAST else 120
BASE = {"charges": True, "cutoff": 5.0, "n_basis": 8, "l_max": 2, "hidden": [64, 64],
        "n_members": 1, "epochs": EPOCHS, "batch_size": 4, "learning_rate": 5e-3,
        "energy_weight": 10.0, "force_weight": 1.0, "charge_weight": 10.0, "seed": 0,
        "early_stopping_patience": 30}
CANDIDATES = {"diagonal": {"n_channels": 16},
              "wide": {"n_channels": 32},
              "coupled": {"n_channels": 16, "coupling": True}}


def _system(atoms) -> str:
    return "interface" if 29 in atoms.numbers else "bulk"


def _force_rmse(calc, frames):
    """Force RMSE per component (meV/A) by system, and the charge MAE (e)."""
    from atomistic.mlip.dataset import labels_of

    out, dq = {}, []
    for f in frames:
        ref = labels_of(f)
        a = f.copy()
        a.calc = calc
        out.setdefault(_system(f), []).append((a.get_forces() - ref["forces"]).ravel())
        if "charges" in ref:
            dq.append(np.abs(a.get_charges() - ref["charges"]))
    rmse = {k: 1e3 * float(np.sqrt(np.mean(np.concatenate(v) ** 2))) for k, v in out.items()}
    return rmse, float(np.mean(np.concatenate(dq))) if dq else float("nan")


def _speed(calc, n_water=332):
    import torch

    from atomistic.interface.electrolyte_cells import water_box

    torch.set_num_threads(2)
    atoms = water_box(n_water, ("Na", "Cl"), seed=11)
    atoms.calc = calc
    atoms.get_forces()
    calls, t0 = 0, time.perf_counter()
    while calls < 3 or time.perf_counter() - t0 < 2.0:
        atoms.positions[0, 0] += 1e-3
        atoms.get_forces()
        calls += 1
    return len(atoms) * calls / (time.perf_counter() - t0), len(atoms)


def main():
    from atomistic.mlip.dataset import read_frames, split_frames
    from atomistic.mlip.training import train_committee
    from bench._record import markdown_table, record

    OUT.mkdir(parents=True, exist_ok=True)
    frames = read_frames(DATA)
    train, valid = split_frames(frames, (0.75, 0.25), seed=1)
    if FAST:
        train, valid = train[:6], valid[:2]
    rows = []
    for name, extra in CANDIDATES.items():
        t0 = time.perf_counter()
        calc = train_committee(train, {**BASE, **extra}, valid_frames=valid,
                               path=OUT / f"{name}.mlip.pt", checkpoint_dir=OUT / f"{name}.ckpt",
                               progress=not FAST)
        minutes = (time.perf_counter() - t0) / 60
        rmse, q_mae = _force_rmse(calc, valid)
        rate, n_atoms = _speed(calc)
        n_par = sum(p.numel() for p in calc.models[0].parameters())
        rows.append([name, f"{n_par:,}", f"{rmse.get('bulk', float('nan')):.0f}",
                     f"{rmse.get('interface', float('nan')):.0f}", f"{q_mae:.3f}",
                     f"{rate:,.0f}", f"{minutes:.1f}"])
        print(rows[-1], flush=True)
    counts = {s: sum(_system(f) == s for f in valid) for s in ("bulk", "interface")}
    body = (f"Campaign frames: {len(frames)}; train {len(train)}, validation {len(valid)} "
            f"({counts['bulk']} bulk, {counts['interface']} interface; split seed 1). "
            f"One member each, at most {EPOCHS} epochs, charges + PME. The test set is not read.\n\n"
            + markdown_table(["descriptor", "parameters", "valid F RMSE bulk (meV/A)",
                              "valid F RMSE interface (meV/A)", "valid charge MAE (e)",
                              f"speed at {n_atoms} atoms (atom-steps/s, 2 threads)",
                              "train (min)"], rows))
    print(body)
    if not FAST:
        record("electrolyte_architecture", "OMP_NUM_THREADS=2 .venv/bin/python "
               "bench/electrolyte_architecture.py", body)


if __name__ == "__main__":
    main()
