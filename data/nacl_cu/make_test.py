"""The held-out GPAW frames of the NaCl(aq) | Cu(111) potential: test/*.extxyz.

Run:  OMP_NUM_THREADS=1 .venv/bin/python data/nacl_cu/make_test.py [--set test|broad|fresh|contact]
      (test: ~45 min on one core, broad: ~1.5 h; kill-safe: rerunning resumes, keeping
      every MD frame and label already written)

Each set's recipe (``SETS``) is frozen here before any of its frames is labelled, and it
shares nothing with the training campaign (learn.toml) but the DFT settings:

- its own starting cells (seeds the campaign does not use);
- its own trajectories, run with the universal potential (CHGNet, not the committee
  being judged): Langevin, 0.5 fs, friction 0.01 / fs; after ``equilibrate`` steps,
  every ``sample_every`` steps one frame, ``n_frames`` per trajectory;
- labelled with exactly the campaign's GPAW settings (read from learn.toml).

``test`` (test/test.extxyz, 16 frames): bulk 32 H2O + NaCl and 14 H2O + Na on the
Cu(111) 3x3 slab, one 300 K trajectory each, a frame every 20 fs. The accuracy rows of
bench/electrolyte_potential.py are measured on it.

``broad`` (test/broad.extxyz, 36 frames; added 2026-12-06, after the committee's
uncertainty was found to rank ``test`` no better than chance, Spearman 0.16): the same
frozen training recipe judged on a set that can show a ranking at all. ``test``'s 16
frames come from two correlated 300 K trajectories, so their worst-atom errors barely
spread. ``broad`` has six trajectories of five compositions (NaCl and LiCl bulk; Na and
Cl at the electrode) at 300, 400 and 500 K: inside the campaign's 300-400 K and one
step beyond it, as an active-learning walker meets them; a frame every 30 fs. Nothing of
the training recipe changes with it, and ``test``'s rows stay in the record.

``fresh`` (test/fresh.extxyz, 25 frames; added 2026-12-07, its recipe written here
before any of its frames existed): ``test`` and ``broad`` were looked at while the next
potential's recipe took shape (the ZBL core repulsion, the campaign's production-snapshot
walkers and trust_hi 1.5, all chosen after bulk MD failures measured against them), so
they no longer count as held out for it. ``fresh`` judges that recipe once: five new
trajectories (NaCl bulk at 300 and 400 K, LiCl bulk at 300 K, Na and Cl at the electrode
at 300 and 400 K), 200 fs of equilibration from the packed cell, a frame every 30 fs.

``contact`` (test/contact.extxyz, 20 frames; added 2026-12-07 evening, its recipe written
here before any of its frames existed): the judge of the next potential recipe. ``fresh``
was looked at with recipe v2, and no held-out frame had an ion in contact with Cu, where
the interface benchmark left the shipped committee's trust. Bulk NaCl at 300 and 400 K
(4 frames each) and three 20 A films of the campaign's film walkers' kind (about 115
atoms, 10-30 min of GPAW each): a Na+ placed in contact with Cu, a Cl- placed in contact,
and neither; new seeds, 200 fs of CHGNet first, a frame every 30 fs.

Each set's sha256 (``atomistic.mlip.dataset.dataset_hash``) is written to
test/README.md; a benchmark records it beside its numbers.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE / "test"


@dataclasses.dataclass(frozen=True)
class Trajectory:
    name: str               # test_id prefix and MD file stem
    system: str             # "bulk" or "interface": the benchmarks' grouping
    ions: tuple
    seed: int               # of the starting cell
    temperature_K: float = 300.0
    # interface cells: "small" (14 H2O on Cu(111) 3x3x3, 10 A gap), "film" (30 H2O + the
    # ions, 20 A gap: make_film_starts.py's cell) or "contact" (that film with ions[0]
    # moved onto a hollow of the top Cu layer: make_contact_starts.in_contact)
    cell: str = "small"


@dataclasses.dataclass(frozen=True)
class TestSet:
    file: str
    md_prefix: str
    trajectories: tuple
    equilibrate: int        # MD steps before the first frame
    sample_every: int       # MD steps between frames
    n_frames: int           # per trajectory
    seed: int               # velocities and Langevin noise


SETS = {
    # 200 steps = 100 fs before the first frame; 40 steps = 20 fs between frames
    # (O-H and H-bond motions decorrelate)
    "test": TestSet("test.extxyz", "", (Trajectory("bulk", "bulk", ("Na", "Cl"), 101),
                                        Trajectory("interface", "interface", ("Na",), 201)),
                    equilibrate=200, sample_every=40, n_frames=8, seed=7),
    "broad": TestSet("broad.extxyz", "broad_", (
        Trajectory("nacl-300K", "bulk", ("Na", "Cl"), 301, 300.0),
        Trajectory("nacl-500K", "bulk", ("Na", "Cl"), 302, 500.0),
        Trajectory("licl-400K", "bulk", ("Li", "Cl"), 303, 400.0),
        Trajectory("cu-na-400K", "interface", ("Na",), 304, 400.0),
        Trajectory("cu-cl-300K", "interface", ("Cl",), 305, 300.0),
        Trajectory("cu-cl-500K", "interface", ("Cl",), 306, 500.0)),
        equilibrate=200, sample_every=60, n_frames=6, seed=11),
    "fresh": TestSet("fresh.extxyz", "fresh_", (
        Trajectory("nacl-300K", "bulk", ("Na", "Cl"), 401, 300.0),
        Trajectory("nacl-400K", "bulk", ("Na", "Cl"), 402, 400.0),
        Trajectory("licl-300K", "bulk", ("Li", "Cl"), 403, 300.0),
        Trajectory("cu-na-300K", "interface", ("Na",), 404, 300.0),
        Trajectory("cu-cl-400K", "interface", ("Cl",), 405, 400.0)),
        equilibrate=400, sample_every=60, n_frames=5, seed=13),
    # "contact" (added 2026-12-07 evening, this recipe written before any of its frames):
    # the judge of the next potential recipe. ``fresh`` was looked at with recipe v2, and
    # no held-out frame had an ion in contact with Cu, where the interface benchmark's
    # run left the shipped committee's trust (a Na+ 2.7 A from Cu). Bulk NaCl at 300 and
    # 400 K from new seeds; the 20 A film of the campaign's film and contact walkers from
    # new seeds, with a Na+ or a Cl- placed in contact and without; CHGNet carries them
    # wherever it does in 200 fs (the README table gives each frame set's ion-Cu distance).
    "contact": TestSet("contact.extxyz", "contact_", (
        Trajectory("nacl-300K", "bulk", ("Na", "Cl"), 501, 300.0),
        Trajectory("nacl-400K", "bulk", ("Na", "Cl"), 502, 400.0),
        Trajectory("film-na-contact-300K", "interface", ("Na", "Cl"), 503, 300.0, "contact"),
        Trajectory("film-cl-contact-300K", "interface", ("Cl", "Na"), 504, 300.0, "contact"),
        Trajectory("film-300K", "interface", ("Na", "Cl"), 505, 300.0, "film")),
        equilibrate=400, sample_every=60, n_frames=4, seed=17),
}


def _start(traj: Trajectory):
    sys.path.insert(0, str(HERE))
    from make_start import CU_PBE_A

    from atomistic.interface.electrolyte_cells import electrode_water_cell, water_box

    if traj.system == "bulk":
        atoms = water_box(32, traj.ions, seed=traj.seed)
    elif traj.cell == "small":
        atoms = electrode_water_cell("Cu", (3, 3, 3), 14, traj.ions, gap_A=10.0,
                                     seed=traj.seed, lattice_A=CU_PBE_A)
    else:   # the campaign's 20 A film (make_film_starts.py), from this trajectory's seed
        atoms = electrode_water_cell("Cu", (3, 3, 3), 30, traj.ions, gap_A=20.0,
                                     seed=traj.seed, lattice_A=CU_PBE_A)
        if traj.cell == "contact":
            from make_contact_starts import in_contact

            atoms = in_contact(atoms, traj.ions[0])
    atoms.info["system"] = traj.system
    return atoms


def _candidates(spec: TestSet, traj: Trajectory, calc):
    """``spec.n_frames`` MD frames of one trajectory; resumes from the last frame written."""
    from ase import units
    from ase.io import read, write
    from ase.md.langevin import Langevin
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution

    from foundation.files import atomic_path

    path = OUT / f"{spec.md_prefix}{traj.name}_md.extxyz"
    frames = read(path, ":") if path.is_file() else []
    if len(frames) >= spec.n_frames:
        return frames[:spec.n_frames]
    atoms = _start(traj)
    T = traj.temperature_K
    if frames:  # continue from the last frame, its momenta included
        atoms.positions = frames[-1].positions
        atoms.set_momenta(frames[-1].get_momenta())
        todo = spec.sample_every
    else:
        MaxwellBoltzmannDistribution(atoms, temperature_K=T,
                                     rng=np.random.default_rng(spec.seed))
        todo = spec.equilibrate
    atoms.calc = calc
    md = Langevin(atoms, 0.5 * units.fs, temperature_K=T, friction=0.01 / units.fs,
                  rng=np.random.default_rng(spec.seed + len(frames)))
    while len(frames) < spec.n_frames:
        md.run(todo)
        todo = spec.sample_every
        frame = atoms.copy()
        frame.calc = None
        frame.set_momenta(atoms.get_momenta())
        frame.info.update(test_id=f"{traj.name}-{len(frames)}", md_step=md.nsteps,
                          md_driver=f"CHGNet 0.3.0 Langevin {T:.0f} K 0.5 fs")
        frames.append(frame)
        with atomic_path(path) as tmp:
            write(tmp, frames, format="extxyz")
        print(f"{traj.name}: MD frame {len(frames)}/{spec.n_frames} (step {md.nsteps})",
              flush=True)
    return frames


def _make(spec: TestSet, dft, properties, calc) -> list:
    """Label every candidate of ``spec`` not yet in its file; the labelled frames."""
    from atomistic.mlip.dataset import label_frames, read_frames, write_frames

    test_path = OUT / spec.file
    labelled = read_frames(test_path) if test_path.is_file() else []
    done = {a.info["test_id"] for a in labelled}
    for traj in spec.trajectories:
        for frame in _candidates(spec, traj, calc):
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
            print(f"{frame.info['test_id']}: labelled ({len(labelled)} in {spec.file})",
                  flush=True)
    return labelled


def _ion_cu(frames) -> str:
    """Each frame's shortest Na-Cu and Cl-Cu distances, A ("-" for a bulk frame)."""
    out = []
    for a in frames:
        sym = a.get_chemical_symbols()
        cu = [k for k, x in enumerate(sym) if x == "Cu"]
        parts = []
        for ion in ("Na", "Cl"):
            idx = [k for k, x in enumerate(sym) if x == ion]
            if cu and idx:
                nearest = min(a.get_distances(k, cu, mic=True).min() for k in idx)
                parts.append(f"{ion} {nearest:.1f}")
        out.append("/".join(parts) or "-")
    return "-" if all(x == "-" for x in out) else ", ".join(out)


def _describe(name: str, spec: TestSet) -> str:
    from atomistic.mlip.dataset import dataset_hash, read_frames

    path = OUT / spec.file
    frames = read_frames(path) if path.is_file() else []
    rows = []
    has_film = any(t.cell != "small" and t.system != "bulk" for t in spec.trajectories)
    for t in spec.trajectories:
        mine = [a for a in frames if a.info["test_id"].rsplit("-", 1)[0] == t.name]
        if t.system == "bulk":
            what = "32 H2O + " + "".join(t.ions)
        elif t.cell == "small":
            what = "14 H2O + " + ("".join(t.ions) or "no ion") + " on Cu(111) 3x3x3"
        else:
            what = (f"{len(mine[0]) if mine else '~113-119'} atoms: 20 A film of H2O + "
                    + "".join(t.ions) + " on Cu(111) 3x3x3"
                    + (f", {t.ions[0]} placed in contact" if t.cell == "contact" else ""))
        rows.append(f"| {t.name} | {what} | {t.temperature_K:.0f} K | {t.seed} | {len(mine)} |"
                    + (f" {_ion_cu(mine)} |" if has_film else ""))
    digest = dataset_hash(frames) if frames else "(no frames yet)"
    return f"""## `{name}`: {spec.file}, {len(frames)} frames

| trajectory (test_id prefix) | system | T | start-cell seed | frames |""" + (
        " ion-Cu distances (A) |\n|---|---|---|---|---|---|\n" if has_film
        else "\n|---|---|---|---|---|\n") + "\n".join(rows) + f"""

CHGNet 0.3.0 Langevin MD, 0.5 fs, friction 0.01/fs, velocity seed {spec.seed};
{spec.equilibrate} steps before the first frame, then one every {spec.sample_every}.

dataset_hash (atomistic.mlip.dataset) of {spec.file}: `{digest}`
"""


def main():
    from atomistic.universal import universal_calculator
    from foundation.files import write_text
    from multiscale.configs.learn import load_learn_config, reference_factory

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--set", choices=sorted(SETS), action="append",
                    help="the set(s) to make or extend (default: every set)")
    names = ap.parse_args().set or list(SETS)
    OUT.mkdir(exist_ok=True)
    config = load_learn_config(HERE / "learn.toml")
    dft = reference_factory(config.reference)
    properties = tuple(config.settings.reference_properties)
    calc = universal_calculator()
    for name in names:
        labelled = _make(SETS[name], dft, properties, calc)
        print(f"{name}: {len(labelled)} frames in {SETS[name].file}", flush=True)
    write_text(OUT / "README.md", "# Held-out GPAW frames (written by make_test.py)\n\n"
               "Labels: the campaign's GPAW settings (learn.toml). Starting cells with seeds "
               "the training campaign does not use; trajectories the campaign did not run. "
               "The recipes, and why there are four sets: make_test.py.\n\n"
               + "\n".join(_describe(n, s) for n, s in SETS.items()))


if __name__ == "__main__":
    main()
