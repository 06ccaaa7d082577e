"""Speed of the learned potential, side by side in one run (issues 19 and 22).

    .venv/bin/python bench/mlip_speed.py        (~15 min on 2 cores; MULTISCALE_FAST=1: smoke)
    (the MACE peer needs lock/bench.txt installed, README "Benchmarks"; without it its
    columns say "not installed")

Frozen recipe (committed before its first run):

- frames, all EMT copper (ASE's EMT is the teacher here: this benchmark measures
  speed; accuracy claims are made against GPAW elsewhere): training, 16 rattled and
  strained 32-atom cells (``rattled_fcc``, seed 1) + 16 Langevin frames at 600 K (seed 2),
  10 % of them for validation (early stopping); test, 10 Langevin frames at 900 K from
  seed 3 (another trajectory and temperature). Force errors on the test frames show
  that both models are trained; speed does not depend on the weights' values.
- ours: ``MomentPotential`` at ``DEFAULT_HYPERPARAMETERS``, a 3-member committee
  (``train_committee``, EPOCHS epochs at most). MACE: ``bench/_mace_peer.py`` (the
  widest ``num_channels`` within 1.5x of one member's parameters, max_L 1, 2 layers,
  correlation 3, radial MLP 3 x 16 (MACE_OPTIONS), the same frames, split, epochs, loss weights, batch size, learning
  rate), float32.
- speed: rattled (0.05 A) fcc Cu of 32, 108, 256 and 864 atoms; energy + forces of
  moved atoms (no cached result); float32; 2 torch threads; OMP_WAIT_POLICY=PASSIVE.
  The contenders are called in turn, one call each per turn, for SECONDS x their
  number, so a changing machine load slows all alike. Contenders:
  - ours, one member, as an ASE calculator (``CommitteeCalculator``: a neighbour list
    per call);
  - ours, one member, one MD step of ``BatchedMD`` on the one structure (Verlet skin
    0.5 A, no ASE calculator in the loop): the per-call overhead removed;
  - 3-member committee, ASE calculator (the members one after another);
  - 3-member committee, ``BatchedMD`` (one stacked pass of all members);
  - ASE's EMT; MACE.
  Amended 2026-12-07: ``CommitteeCalculator`` itself now takes the stacked pass and keeps a
  Verlet list (skin 0.5 A), so "ASE calculator" is that, and a column "members in turn"
  (``stacked=False, skin=0``) keeps the calculator as it was; the sequential walkers of
  the batched comparison use the new calculator (the fastest sequential path there is).
  Amended 2026-12-07 (evening): the library now runs calls below 100k member-pairs on
  one torch thread (``atomistic.mlip.threads``; the process stays set to 2), so the
  "ours" columns are what a user gets. Like for like, MACE is measured both ways in the
  same interleaved turns, on 2 threads and with one thread during its calls, and its
  column (and the ours/MACE ratio) takes the faster of the two at each size.
- batched walkers: 8 walkers of 32 atoms, Langevin 2 fs at 300 K, the trained
  3-member committee (float32): ``BatchedMD`` against the same walkers run one after
  another through ASE's ``Langevin`` with the ``CommitteeCalculator``, 200 steps each,
  interleaved, best of 3. Identity: 2 walkers x 30 steps in float64 against ASE, the
  largest position difference.
- GPU rows: measured when torch sees CUDA, else "not measured (no GPU)".
- targets (issue 22): one member >= 2e4 atom-steps/s from 32 atoms up, on 2 cores;
  committee <= 1.5x one member; 8 x 32-atom walkers >= 4x the sequential throughput.
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
# Idle OpenMP threads must sleep, not spin: with another job on one of the 2 cores a
# spinning second thread made every torch model ~40x slower (measured 260 vs 11000
# atom-steps/s at 108 atoms). Must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
warnings.filterwarnings("ignore")

FAST = os.environ.get("MULTISCALE_FAST") == "1"
OUT = ROOT / "bench" / "out" / "mlip_speed"
EPOCHS = 3 if FAST else 60
SECONDS = 0.3 if FAST else 2.0
REPEATS = (2, 3, 4, 6)          # cubic fcc repeats: 32, 108, 256, 864 atoms
N_MEMBERS = 3
N_WALKERS, WALKER_STEPS = 8, 20 if FAST else 200
TRAIN = {"n_members": N_MEMBERS, "epochs": EPOCHS, "valid_fraction": 0.1, "seed": 0,
         "batch_size": 4, "learning_rate": 5e-3, "energy_weight": 10.0, "force_weight": 1.0,
         "early_stopping_patience": 30}
MACE_CHANNELS = (32, 16, 8, 4)
# MACE's default radial MLP (3 x 64) alone outweighs one of our members (7.5k parameters):
# with it even 4 channels make 21.9k (2.9x); a 3 x 16 radial MLP lets the width match
MACE_OPTIONS = ("--radial_MLP=[16,16,16]",)


def frames():
    from ase.build import bulk
    from ase.calculators.emt import EMT

    from atomistic.mlip.reference_frames import langevin_frames, rattled_fcc

    n = 4 if FAST else 16
    cell = bulk("Cu", "fcc", a=3.6, cubic=True).repeat((2, 2, 2))
    train = (rattled_fcc("Cu", EMT(), n, size=(2, 2, 2), rattle=0.08, seed=1)
             + langevin_frames(cell, EMT(), 600.0, n, interval=20, seed=2))
    test = langevin_frames(cell, EMT(), 900.0, 3 if FAST else 10, interval=20, seed=3)
    return train, test


def structure(rep):
    from ase.build import bulk

    atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(rep)
    atoms.rattle(0.05, seed=1)
    return atoms


class _Calls:
    """One energy+forces call of an ASE calculator on atoms moved a little each time."""

    def __init__(self, atoms, calc, seed=0):
        self.atoms = atoms.copy()
        self.atoms.calc = calc
        # contenders sharing one calculator need their own moves (seed): with the same
        # positions the second would get the first's cached result
        self.rng = np.random.default_rng(seed)
        self.atoms.get_forces()   # warm-up: allocations, first neighbour list

    def __call__(self):
        self.atoms.positions += self.rng.normal(0, 0.002, self.atoms.positions.shape)
        self.atoms.get_potential_energy()
        self.atoms.get_forces()
        return len(self.atoms)


class _Steps:
    """One Langevin step of BatchedMD on the given walkers."""

    def __init__(self, walkers, calc):
        from atomistic.md.batched import BatchedMD
        from atomistic.md.velocities import thermalize

        walkers = [a.copy() for a in walkers]
        for k, a in enumerate(walkers):
            thermalize(a, 300.0, rng=np.random.default_rng(k))
        self.md = BatchedMD(walkers, calc, 2.0, temperature_K=300.0, friction=0.01)
        self.n = sum(len(a) for a in walkers)
        self.md.run(2)

    def __call__(self):
        self.md.run(1)
        return self.n


class _OneThread:
    """A contender called with torch on one thread (the process's 2 restored after):
    ``threads_for`` with no work is the library's own one-thread switch."""

    def __init__(self, call):
        self.call = call

    def __call__(self):
        from atomistic.mlip.threads import threads_for

        with threads_for(0):
            return self.call()


def interleaved_rates(contenders: dict, seconds: float) -> dict:
    """atom-steps/s of each contender, called in turn until each had ``seconds``."""
    spent = dict.fromkeys(contenders, 0.0)
    done = dict.fromkeys(contenders, 0)
    t_end = time.perf_counter() + seconds * len(contenders)
    turns = 0
    while turns < 3 or time.perf_counter() < t_end:
        for name, call in contenders.items():
            t = time.perf_counter()
            done[name] += call()
            spent[name] += time.perf_counter() - t
        turns += 1
    return {name: done[name] / spent[name] for name in contenders}


def walker_rates(calc, steps, repeats=3):
    """(sequential, batched) atom-steps/s of N_WALKERS x 32-atom walkers, best of repeats."""
    from ase import units
    from ase.md.langevin import Langevin

    from atomistic.md.batched import BatchedMD
    from atomistic.md.velocities import thermalize

    def walkers():
        out = []
        for k in range(N_WALKERS):
            a = structure((2, 2, 2))
            a.rattle(0.05, seed=10 + k)
            thermalize(a, 300.0, rng=np.random.default_rng(100 + k))
            out.append(a)
        return out

    seq, bat = [], []
    for _ in range(repeats):
        ws = walkers()
        dyns = []
        for k, a in enumerate(ws):
            a.calc = calc
            dyns.append(Langevin(a, 2.0 * units.fs, temperature_K=300.0,
                                 friction=0.01 / units.fs, fixcm=False,
                                 rng=np.random.default_rng([0, k])))
            dyns[-1].run(2)
        t0 = time.perf_counter()
        for d in dyns:
            d.run(steps)
        seq.append(32 * N_WALKERS * steps / (time.perf_counter() - t0))
        md = BatchedMD(walkers(), calc, 2.0, temperature_K=300.0, friction=0.01)
        md.run(2)
        t0 = time.perf_counter()
        md.run(steps)
        bat.append(32 * N_WALKERS * steps / (time.perf_counter() - t0))
    return max(seq), max(bat)


def identity(models):
    """Largest |x_batched - x_ASE| (A) of 2 walkers x 30 Langevin steps, float64."""
    from ase import units
    from ase.md.langevin import Langevin

    from atomistic.md.batched import BatchedMD
    from atomistic.md.velocities import thermalize
    from atomistic.mlip.calculator import CommitteeCalculator

    import copy

    # copies: CommitteeCalculator casts its modules in place, and ours stay float32
    calc = CommitteeCalculator([copy.deepcopy(m) for m in models], dtype="float64")
    ws = []
    for k in range(2):
        a = structure((2, 2, 2))
        a.rattle(0.05, seed=20 + k)
        thermalize(a, 300.0, rng=np.random.default_rng(k))
        ws.append(a)
    alone = [a.copy() for a in ws]
    BatchedMD(ws, calc, 2.0, temperature_K=300.0, friction=0.01, seed=5).run(30)
    worst = 0.0
    for k, a in enumerate(alone):
        a.calc = calc
        Langevin(a, 2.0 * units.fs, temperature_K=300.0, friction=0.01 / units.fs,
                 fixcm=False, rng=np.random.default_rng([5, k])).run(30)
        worst = max(worst, float(np.abs(a.positions - ws[k].positions).max()))
    return worst


def gpu_rows():
    import torch

    if not torch.cuda.is_available():
        return "GPU: not measured (no GPU on this machine; the CPU path is what is tested)."
    return "GPU: torch sees CUDA, but this script has no GPU path yet: not measured."


def main():
    import torch
    from ase.calculators.emt import EMT

    if not FAST:
        import bench._record  # noqa: F401  (first: the recorded wall time starts here)
    from bench._mace_peer import mace_peer
    from bench._record import markdown_table, record

    from atomistic.mlip.calculator import CommitteeCalculator
    from atomistic.mlip.evaluation import prediction_errors
    from atomistic.mlip.model import DEFAULT_HYPERPARAMETERS
    from atomistic.mlip.training import train_committee

    torch.set_num_threads(2)
    OUT.mkdir(parents=True, exist_ok=True)
    train, test = frames()
    t0 = time.perf_counter()
    ours = train_committee(train, {**DEFAULT_HYPERPARAMETERS, **TRAIN},
                           path=OUT / "ours.mlip.pt", checkpoint_dir=OUT / "ours.ckpt",
                           progress=not FAST)
    t_ours = time.perf_counter() - t0
    n_ours = sum(p.numel() for p in ours.models[0].parameters())
    settings = {**TRAIN, "cutoff": DEFAULT_HYPERPARAMETERS["cutoff"]}
    try:
        peer = mace_peer(train, OUT, n_ours, settings, MACE_CHANNELS, MACE_OPTIONS)
    except RuntimeError as exc:   # no width within 1.5x: a miss to report, not a crash
        print(f"MACE peer: {exc}", flush=True)
        peer = None
    one = CommitteeCalculator(ours.models[:1])
    in_turn = CommitteeCalculator(ours.models, stacked=False, skin=0.0)
    err_ours = prediction_errors(ours, test)
    err_mace = prediction_errors(peer[0], test) if peer else None

    rows, ratios = [], {}
    for rep in REPEATS[:2] if FAST else REPEATS:
        atoms = structure(rep)
        n = len(atoms)
        contenders = {"one": _Calls(atoms, one), "one_md": _Steps([atoms], one),
                      "committee": _Calls(atoms, ours), "committee_md": _Steps([atoms], ours),
                      "committee_turn": _Calls(atoms, in_turn),
                      "emt": _Calls(atoms, EMT())}
        if peer:
            contenders["mace"] = _Calls(atoms, peer[0])
            contenders["mace_1t"] = _OneThread(_Calls(atoms, peer[0], seed=1))
        r = interleaved_rates(contenders, SECONDS)
        ratios[n] = r
        mace = max(r["mace"], r["mace_1t"]) if peer else None
        rows.append([n, f"{r['one']:,.0f}", f"{r['one_md']:,.0f}", f"{r['committee_turn']:,.0f}",
                     f"{r['committee']:,.0f}", f"{r['committee_md']:,.0f}", f"{r['emt']:,.0f}",
                     f"{mace:,.0f}" if mace else "not installed",
                     f"{r['one_md'] / r['committee_md']:.2f}",
                     f"{r['one'] / mace:.1f}" if mace else "-"])
        print(rows[-1], flush=True)
    table = markdown_table(
        ["atoms", "ours, 1 member, ASE calculator", "ours, 1 member, BatchedMD step",
         f"{N_MEMBERS}-member committee, ASE calculator, members in turn",
         f"{N_MEMBERS}-member committee, ASE calculator (stacked, Verlet list)",
         f"{N_MEMBERS}-member committee, BatchedMD (stacked)", "ASE EMT",
         "MACE (faster of 1 / 2 threads)",
         "committee cost / one member (BatchedMD)", "ours/MACE (ASE calculators)"], rows)
    seq, bat = walker_rates(ours, WALKER_STEPS, repeats=1 if FAST else 3)
    worst = identity(ours.models)

    sizes = sorted(ratios)
    best_one = {n: max(ratios[n]["one"], ratios[n]["one_md"]) for n in sizes}
    floor = min(best_one.values())
    cost = max(ratios[n]["one_md"] / ratios[n]["committee_md"] for n in sizes)
    t1 = (f"one member >= 2e4 atom-steps/s from 32 atoms up: slowest size "
          f"{min(best_one, key=best_one.get)} atoms at {floor:,.0f} "
          f"({'met' if floor >= 2e4 else 'missed'})")
    t2 = (f"committee <= 1.5x one member: at most {cost:.2f}x over the sizes "
          f"({'met' if cost <= 1.5 else 'missed'})")
    t3 = (f"{N_WALKERS} walkers x 32 atoms >= 4x sequential: {bat / seq:.2f}x "
          f"({'met' if bat >= 4 * seq else 'missed'})")
    mace_note = (f"MACE: {peer[1]:,} parameters ({peer[1] / n_ours:.2f}x), num_channels "
                 f"{peer[3]}, trained in {peer[2] / 60:.1f} min, test force MAE per "
                 f"component {1e3 * err_mace.force_mae:.0f} meV/A" if peer else
                 "MACE: not installed or no width within 1.5x (see the run's output)")
    body = (
        f"Recipe: bench/mlip_speed.py (docstring). Float32, the process set to 2 torch threads "
        f"(ours runs calls below 100k member-pairs on one: atomistic.mlip.threads; MACE is "
        f"measured on 2 and on 1 and the faster counts), rattled fcc Cu; contenders called "
        f"in turn.\n\n"
        f"Ours: {n_ours:,} parameters per member, {N_MEMBERS} members trained in "
        f"{t_ours / 60:.1f} min on {len(train)} EMT frames of 32 atoms, test force MAE per "
        f"component {1e3 * err_ours.force_mae:.0f} meV/A ({len(test)} frames at 900 K). "
        f"{mace_note}.\n\n"
        f"Energy + forces, atom-steps/s:\n\n{table}\n\n"
        f"Batched walkers ({N_WALKERS} x 32 atoms, Langevin 2 fs, {N_MEMBERS}-member "
        f"committee, {WALKER_STEPS} steps, best of 3): one after another through ASE "
        f"{seq:,.0f} atom-steps/s, BatchedMD {bat:,.0f} ({bat / seq:.2f}x). Identity: "
        f"2 walkers x 30 steps in float64 against ASE's Langevin walker by walker, largest "
        f"position difference {worst:.1e} A.\n\n"
        f"Targets (issue 22):\n- {t1}\n- {t2}\n- {t3}\n\n{gpu_rows()}\n")
    print(body)
    if not FAST:
        record("mlip-speed", "OMP_NUM_THREADS=2 .venv/bin/python bench/mlip_speed.py", body)


if __name__ == "__main__":
    main()
