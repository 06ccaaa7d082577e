"""The held-out GPAW frames of the NaCl(aq) | Cu(111) potential: test/test.extxyz.

Run:  OMP_NUM_THREADS=1 .venv/bin/python data/nacl_cu/make_test.py   (~45 min on one core;
      kill-safe: rerunning resumes, keeping every MD frame and label already written)

The recipe is frozen here, before any frame is labelled, and it shares nothing with
the training campaign (learn.toml) but the DFT settings:

- its own starting cells (seeds 101 and 201, which the campaign does not use):
  bulk 32 H2O + NaCl, and 14 H2O + Na on the Cu(111) 3x3 slab;
- its own trajectories, run with the universal potential (CHGNet, not the committee
  being judged): Langevin at 300 K, 0.5 fs, friction 0.01 / fs; after EQUILIBRATE
  steps, every SAMPLE_EVERY steps one frame, N_FRAMES per system;
- labelled with exactly the campaign's GPAW settings (read from learn.toml).

The frames' sha256 (``atomistic.mlip.dataset.dataset_hash``) is written to
test/README.md; a benchmark records it beside its numbers.
"""
from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE / "test"
EQUILIBRATE = 200     # MD steps before the first frame (100 fs)
SAMPLE_EVERY = 40     # MD steps between frames (20 fs: O-H and H-bond motions decorrelate)
N_FRAMES = 8          # per system
SEED = 7


def _systems():
    sys.path.insert(0, str(HERE))
    from make_start import CU_PBE_A

    from atomistic.interface.electrolyte_cells import electrode_water_cell, water_box

    bulk = water_box(32, ("Na", "Cl"), seed=101)
    bulk.info["system"] = "bulk"
    film = electrode_water_cell("Cu", (3, 3, 3), 14, ("Na",), gap_A=10.0, seed=201,
                                lattice_A=CU_PBE_A)
    film.info["system"] = "interface"
    return {"bulk": bulk, "interface": film}


def _candidates(name, start, calc):
    """N_FRAMES MD frames of one system; resumes from the last frame written."""
    from ase import units
    from ase.io import read, write
    from ase.md.langevin import Langevin
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution

    from foundation.files import atomic_path

    path = OUT / f"{name}_md.extxyz"
    frames = read(path, ":") if path.is_file() else []
    if len(frames) >= N_FRAMES:
        return frames[:N_FRAMES]
    atoms = start.copy()
    if frames:  # continue from the last frame, its momenta included
        atoms.positions = frames[-1].positions
        atoms.set_momenta(frames[-1].get_momenta())
        todo = SAMPLE_EVERY
    else:
        MaxwellBoltzmannDistribution(atoms, temperature_K=300.0,
                                     rng=np.random.default_rng(SEED))
        todo = EQUILIBRATE
    atoms.calc = calc
    md = Langevin(atoms, 0.5 * units.fs, temperature_K=300.0, friction=0.01 / units.fs,
                  rng=np.random.default_rng(SEED + len(frames)))
    while len(frames) < N_FRAMES:
        md.run(todo)
        todo = SAMPLE_EVERY
        frame = atoms.copy()
        frame.calc = None
        frame.set_momenta(atoms.get_momenta())
        frame.info.update(test_id=f"{name}-{len(frames)}", md_step=md.nsteps,
                          md_driver="CHGNet 0.3.0 Langevin 300 K 0.5 fs")
        frames.append(frame)
        with atomic_path(path) as tmp:
            write(tmp, frames, format="extxyz")
        print(f"{name}: MD frame {len(frames)}/{N_FRAMES} (step {md.nsteps})", flush=True)
    return frames


def main():
    from atomistic.mlip.dataset import dataset_hash, label_frames, read_frames, write_frames
    from atomistic.universal import universal_calculator
    from foundation.files import write_text
    from multiscale.configs.learn import load_learn_config, reference_factory

    OUT.mkdir(exist_ok=True)
    config = load_learn_config(HERE / "learn.toml")
    dft = reference_factory(config.reference)
    properties = tuple(config.settings.reference_properties)
    test_path = OUT / "test.extxyz"
    labelled = read_frames(test_path) if test_path.is_file() else []
    done = {a.info["test_id"] for a in labelled}
    calc = universal_calculator()
    for name, start in _systems().items():
        for frame in _candidates(name, start, calc):
            if frame.info["test_id"] in done:
                continue
            frame = frame.copy()
            frame.set_momenta(np.zeros_like(frame.positions))
            result = label_frames([frame], dft, properties=properties, progress=False)
            if result.failures:
                print(f"{frame.info['test_id']}: GPAW failed: {result.failures[0][1]}",
                      flush=True)
                continue
            labelled.append(result.frames[0])
            write_frames(labelled, test_path)  # the commit point of this label
            print(f"{frame.info['test_id']}: labelled ({len(labelled)} in test.extxyz)",
                  flush=True)
    digest = dataset_hash(read_frames(test_path))
    counts = {s: sum(a.info.get("system") == s for a in labelled) for s in ("bulk", "interface")}
    write_text(OUT / "README.md", f"""# Held-out GPAW frames (written by make_test.py)

{len(labelled)} frames: {counts['bulk']} bulk 32 H2O + NaCl, {counts['interface']} 14 H2O + Na
on Cu(111). Trajectories: CHGNet 0.3.0 Langevin MD at 300 K from starting cells with seeds
101 / 201, which the training campaign does not use; {EQUILIBRATE} steps of 0.5 fs before the
first frame, then one every {SAMPLE_EVERY}. Labels: the campaign's GPAW settings (learn.toml).

dataset_hash (atomistic.mlip.dataset) of test.extxyz: `{digest}`
""")
    print(f"test set: {len(labelled)} frames, hash {digest[:16]}")


if __name__ == "__main__":
    main()
