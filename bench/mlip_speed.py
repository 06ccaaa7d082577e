"""Speed of the learned potential: energy+forces atom-steps per second.

Side by side in one run, on the same rattled fcc Cu structures (108, 256,
864 atoms): our MomentPotential (one member, float32, default size), ASE's
EMT, and an untrained MACE of comparable size (mace-torch, the `bench`
extra). Plus GPAW LCAO on a 2-atom Al cell: the speed-up over DFT.
Torch uses 2 threads (the machine's 2 cores, shared with other jobs).

    .venv/bin/python bench/mlip_speed.py          # MULTISCALE_FAST=1 for a smoke run
"""
from __future__ import annotations

import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# Idle OpenMP threads must sleep, not spin: with another job on one of the 2 cores a
# spinning second thread made every torch model ~40x slower (measured 260 vs 11000
# atom-steps/s at 108 atoms). Must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
warnings.filterwarnings("ignore")


def _structures(sizes):
    from ase.build import bulk
    out = {}
    for n_rep in sizes:
        atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(n_rep)
        atoms.rattle(0.05, seed=1)
        out[len(atoms)] = atoms
    return out


def _rate(atoms, calc, min_time=2.0, min_calls=3):
    """atom-steps/s for energy+forces; every call moves the atoms (no caching)."""
    a = atoms.copy()
    a.calc = calc
    a.get_forces()  # warm-up (allocations, JIT, neighbour lists)
    rng = np.random.default_rng(0)
    calls, t0 = 0, time.perf_counter()
    while calls < min_calls or time.perf_counter() - t0 < min_time:
        a.positions += rng.normal(0, 0.002, a.positions.shape)
        a.get_potential_energy()
        a.get_forces()
        calls += 1
    return len(a) * calls / (time.perf_counter() - t0)


def _ours():
    import torch
    from atomistic.mlip.calculator import CommitteeCalculator
    from atomistic.mlip.model import DEFAULT_HYPERPARAMETERS, MomentPotential
    torch.manual_seed(0)
    model = MomentPotential([29], **DEFAULT_HYPERPARAMETERS)
    n_par = sum(p.numel() for p in model.parameters())
    return CommitteeCalculator([model]), n_par


def _mace():
    import torch
    # e3nn 0.4 ships a constants file that pickles `slice`; torch>=2.6 loads weights_only
    torch.serialization.add_safe_globals([slice])
    from e3nn import o3
    from mace import modules
    from mace.calculators import MACECalculator
    torch.manual_seed(0)
    block = modules.interaction_classes["RealAgnosticResidualInteractionBlock"]
    model = modules.MACE(
        r_max=5.0, num_bessel=8, num_polynomial_cutoff=6, max_ell=2, interaction_cls=block,
        interaction_cls_first=block, num_interactions=2, num_elements=1,
        hidden_irreps=o3.Irreps("16x0e+16x1o"), MLP_irreps=o3.Irreps("16x0e"),
        atomic_energies=np.zeros(1), avg_num_neighbors=54.0, atomic_numbers=[29],
        correlation=3, gate=torch.nn.functional.silu).float()
    n_par = sum(p.numel() for p in model.parameters())
    return MACECalculator(models=[model], device="cpu", default_dtype="float32"), n_par


def _gpaw_rate(fast):
    from ase.build import bulk
    from atomistic.mlip.dataset import gpaw_lcao_calculator
    atoms = bulk("Al", "fcc", a=4.05).repeat((2, 1, 1))  # the cells of examples/mlip_gpaw_al.py
    atoms.rattle(0.05, seed=2)
    atoms.calc = gpaw_lcao_calculator(kpts=(1, 1, 1) if fast else (2, 2, 2), h=0.25)
    t0 = time.perf_counter()
    atoms.get_forces()
    return len(atoms) / (time.perf_counter() - t0), len(atoms)


def main():
    import torch
    from ase.calculators.emt import EMT
    from bench._record import markdown_table, record

    fast = os.environ.get("MULTISCALE_FAST") == "1"
    torch.set_num_threads(2)
    sizes = [(3, 3, 3)] if fast else [(3, 3, 3), (4, 4, 4), (6, 6, 6)]
    ours, n_ours = _ours()
    try:
        mace, n_mace = _mace()
    except ImportError as exc:
        print(f"mace-torch not installed ({exc}); pip install 'multiscale[bench]'")
        mace, n_mace = None, 0
    rows, rates = [], {}
    for n, atoms in _structures(sizes).items():
        r_ours = _rate(atoms, ours, min_time=0.5 if fast else 3.0)
        r_emt = _rate(atoms, EMT(), min_time=0.5 if fast else 3.0)
        r_mace = _rate(atoms, mace, min_time=0.5 if fast else 3.0) if mace else float("nan")
        rates[n] = r_ours
        rows.append([n, round(r_ours), round(r_emt), round(r_mace), r_ours / r_mace,
                     r_ours / r_emt])
        print(rows[-1], flush=True)
    table = markdown_table(
        ["atoms", "ours (atom-steps/s)", "ASE EMT", "MACE untrained", "ours/MACE", "ours/EMT"],
        rows)
    ns = sorted(rates)
    scaling = (f"Linear scaling: atom-steps/s at {ns[-1]} atoms is "
               f"{rates[ns[-1]] / rates[ns[0]]:.2f}x that at {ns[0]} atoms (1.0 = linear).")
    r_gpaw, n_gpaw = _gpaw_rate(fast)
    from ase.build import bulk
    small = bulk("Cu", "fcc", a=3.6).repeat((2, 1, 1))
    small.rattle(0.05, seed=2)
    r_small = _rate(small, ours, min_time=0.5)
    dft = markdown_table(["model", "atoms", "energy+forces atom-steps/s", "speed-up over DFT"],
                         [["GPAW LCAO dzp PBE, 2x2x2 k, h 0.25" if not fast else
                           "GPAW LCAO (Gamma)", n_gpaw, r_gpaw, 1.0],
                          ["ours (2-atom fcc cell)", 2, round(r_small), r_small / r_gpaw],
                          ["ours (864 atoms)", ns[-1], round(rates[ns[-1]]),
                           rates[ns[-1]] / r_gpaw]])
    body = (f"Energy+forces per second x atoms on rattled fcc Cu, 2 torch threads, float32. "
            f"Ours: MomentPotential, {n_ours} parameters (one committee member; an N-member "
            f"committee costs N x). MACE: untrained, 2 interactions, 16x0e+16x1o, "
            f"max_ell 2, correlation 3, {n_mace} parameters.\n\n{table}\n\n{scaling}\n\n"
            f"Versus DFT (Al, 2-atom fcc cell, one SCF from scratch, energy+forces):\n\n{dft}\n")
    print(body)
    if not fast:
        record("mlip-speed", "python bench/mlip_speed.py", body)


if __name__ == "__main__":
    main()
