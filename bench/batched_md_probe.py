"""Batched walkers vs one after another: Langevin atom-steps per second (issue 22, item 2).

8 walkers of 32 rattled fcc Cu atoms, a 3-member committee of default-size
``MomentPotential`` (untrained: speed does not depend on the weights), float32,
torch 1 thread. Baseline: each walker in turn through ASE's ``Langevin`` with the
``CommitteeCalculator``; batched: ``atomistic.md.batched.BatchedMD`` over all 8 at once.
Batched both with neighbour lists rebuilt every step and with the default 0.5 A Verlet
skin; and the committee evaluation alone (one model, the models in turn, stacked).
Prints the table: a profiling aid that breaks the batched speed-up down (skin or
not, the committee evaluation alone). The recorded row is bench/mlip_speed.py's
(BENCHMARKS.md `mlip-speed`, trained weights, 2 threads). The other core of the 2-core machine is usually busy: runs are
interleaved and the best of ``--repeats`` is kept.

    OMP_NUM_THREADS=1 .venv/bin/python bench/batched_md_probe.py [--steps 100] [--profile]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see bench/mlip_speed.py
warnings.filterwarnings("ignore")

N_WALKERS, N_MEMBERS, TIMESTEP_FS, TEMPERATURE_K, FRICTION = 8, 3, 2.0, 300.0, 0.01


def walkers(n=N_WALKERS):
    from ase.build import bulk
    from atomistic.md.velocities import thermalize

    out = []
    for k in range(n):
        atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat((2, 2, 2))
        atoms.rattle(0.05, seed=k)
        thermalize(atoms, TEMPERATURE_K, rng=np.random.default_rng(100 + k))
        out.append(atoms)
    return out


def committee(dtype="float32"):
    import torch
    from atomistic.mlip.calculator import CommitteeCalculator
    from atomistic.mlip.model import DEFAULT_HYPERPARAMETERS, MomentPotential

    torch.manual_seed(0)
    return CommitteeCalculator([MomentPotential([29], **DEFAULT_HYPERPARAMETERS)
                                for _ in range(N_MEMBERS)],
                               dtype=dtype)


def serial_rate(calc, steps):
    """atom-steps/s of the walkers run one after another with ASE's Langevin."""
    from ase import units
    from ase.md.langevin import Langevin

    ws = walkers()
    dyns = []
    for k, atoms in enumerate(ws):
        atoms.calc = calc
        dyns.append(Langevin(atoms, TIMESTEP_FS * units.fs, temperature_K=TEMPERATURE_K,
                             friction=FRICTION / units.fs, fixcm=False,
                             rng=np.random.default_rng([0, k])))
    for dyn in dyns:  # warm-up: first force call, allocations
        dyn.run(2)
    t0 = time.perf_counter()
    for dyn in dyns:
        dyn.run(steps)
    wall = time.perf_counter() - t0
    return sum(len(a) for a in ws) * steps / wall


def batched_rate(calc, steps, skin=0.5):
    from atomistic.md.batched import BatchedMD

    ws = walkers()
    md = BatchedMD(ws, calc, TIMESTEP_FS, temperature_K=TEMPERATURE_K, friction=FRICTION,
                   skin=skin)
    md.run(2)  # warm-up
    builds = md.neighbour_list_builds
    t0 = time.perf_counter()
    md.run(steps)
    wall = time.perf_counter() - t0
    return sum(len(a) for a in ws) * steps / wall, md.neighbour_list_builds - builds


def evaluation_ms(calc, repeats=20):
    """ms per committee evaluation of all walkers: each model's own batched forward +
    backward (the models one after another) vs the stacked pass."""
    import torch

    from atomistic.md.batched import _BatchEvaluator
    from atomistic.mlip.stacked import stacked_energies_forces

    ws = walkers()
    ev = _BatchEvaluator(ws, calc)
    pos_t, i, j, S, slot, vec = ev.pairs(np.concatenate([a.positions for a in ws]))
    batch = {"positions": pos_t, "species": ev.species, "cell": ev.cells, "batch": ev.frame,
             "edge_index": torch.stack([i, j]), "shifts": S, "slots": slot}

    def per_model():
        return [m(batch) for m in calc.models]

    def stacked():
        return stacked_energies_forces(calc.models, pos_t, batch["edge_index"], slot, vec,
                                       ev.species, ev.frame, len(ws))

    out = {}
    for name, fn in (("one model", lambda: calc.models[0](batch)), ("per model", per_model),
                     ("stacked", stacked)):
        fn()
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            for _ in range(repeats):
                fn()
            best = min(best, (time.perf_counter() - t0) / repeats * 1e3)
        out[name] = best
    return out


def main():
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile the batched run")
    args = parser.parse_args()
    torch.set_num_threads(1)
    calc = committee()
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.runcall(batched_rate, calc, args.steps)
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        return
    serial, fresh, skinned, builds = [], [], [], []
    for _ in range(args.repeats):  # interleaved, best of: the other core is shared
        serial.append(serial_rate(calc, args.steps))
        fresh.append(batched_rate(calc, args.steps, skin=0.0)[0])
        rate, n = batched_rate(calc, args.steps)
        skinned.append(rate)
        builds.append(n)
    s, f, b = max(serial), max(fresh), max(skinned)
    ms = evaluation_ms(calc)
    print(f"{N_WALKERS} walkers x 32 Cu atoms, {N_MEMBERS}-member committee (default size, "
          f"float32), Langevin {TIMESTEP_FS} fs at {TEMPERATURE_K} K, {args.steps} steps, "
          f"torch {torch.get_num_threads()} thread, best of {args.repeats}")
    print(f"{'':<44}{'atom-steps/s':>14}{'speed-up':>10}")
    print(f"{'ASE Langevin + CommitteeCalculator, in turn':<44}{s:>14,.0f}{1:>9.2f}x")
    print(f"{'BatchedMD, neighbour lists every step':<44}{f:>14,.0f}{f / s:>9.2f}x")
    print(f"{'BatchedMD, Verlet skin 0.5 A (default)':<44}{b:>14,.0f}{b / s:>9.2f}x")
    print(f"  (skin 0.5 A: {min(builds)}-{max(builds)} walker list rebuilds in "
          f"{args.steps} steps x {N_WALKERS} walkers)")
    print(f"committee evaluation of all {N_WALKERS * 32} atoms, ms: one model "
          f"{ms['one model']:.1f}, {N_MEMBERS} models in turn {ms['per model']:.1f}, "
          f"stacked {ms['stacked']:.1f}")


if __name__ == "__main__":
    main()
