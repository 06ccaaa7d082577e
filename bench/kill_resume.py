"""Resume after SIGKILL (issue 18, item 4): kill -9 real jobs at random moments, rerun, compare.

Run:  .venv/bin/python bench/kill_resume.py          (~6-8 min on 2 cores; 24 trials)
      MULTISCALE_FAST=1 .venv/bin/python bench/kill_resume.py    (smoke run: 3 trials, nothing recorded)
      .venv/bin/python bench/kill_resume.py --case hybrid_md --trials 2   (development; nothing recorded)

Expected (the issue): 0 labelled frames lost, 0 duplicated, no epoch (or MD step, or
labelling batch) redone before the last checkpoint, and the final result equal to an
uninterrupted run where the algorithm is deterministic.

Cases (``CASES``, a registry: a new resumable stage is one more ``Case(...)``), each a
small real job labelled by EMT, run through the command a user types:

- ``mlip_train``:  ``multiscale run`` of mlip_data (8 frames of 4 Cu atoms) -> mlip_train
  (2 members x 20 epochs, float64): checkpoints every epoch of every member.
- ``mlip_data``:   ``multiscale run`` of mlip_data alone (32-atom cells: 20 rattled, 4 Langevin
  frames at each of 300/600/900 K): each labelling batch is committed to parts/.
- ``learn_batch`` / ``learn_onthefly``: ``multiscale learn`` (Cu 2x2x2 with a vacancy, one
  walker, max 9 EMT calls, a 2-member committee retrained after every label/round).
- ``mlip_md``:     ``multiscale run`` of mlip_md (32 atoms, 100 Langevin steps, a checkpoint every
  2 steps) on a committee trained once beforehand (its data/train stages are copied in, cached).
- ``hybrid_md``:   ``multiscale run`` of hybrid_md (EMT region in perturbed EMT, 108 atoms,
  40 NVE steps, a checkpoint every step).

Per case: an uninterrupted reference run first (timed: its duration T and the moment of its
first checkpoint t1), and a second one to check the job is deterministic at all. Per trial,
in a fresh folder: the job is started as a subprocess (``bench/_kill_resume_child.py``: the
real CLI plus a journal of every checkpoint it writes), SIGKILLed (its whole process group)
at t1 + U * (T - t1) with U uniform from a seeded generator, and rerun; some trials are
killed 2 or 3 times (each rerun again at a uniform moment of the work left), then a last
rerun completes. A run that finishes before its kill moment ends the trial there (a first
attempt that does redraws the trial, at most 3 times). Measured:

- frames lost: frames committed at any kill (mlip_data parts/, the learn dataset, MD records
  up to the checkpoint) missing from the final result. (A final result that went another way
  than the uninterrupted run is not counted here but in "final == uninterrupted": the first
  run counted the uninterrupted run's frames too, so one diverged trajectory read as frames
  lost that had never been computed);
- frames duplicated: copies in the final result beyond the reference's count. Frames match by
  a hash of their numbers and positions (bit for bit), hybrid_md by positions within 1e-8 A
  (its resumed trajectory agrees to round-off, see below). For mlip_md a "frame" is one
  chunk's record (time, committee deviation, temperature);
- redone before the last checkpoint: journal lines of a rerun for a checkpoint file whose
  key and progress the disk already held at the kill (epochs of a member, MD chunks in steps,
  parts/ batches, reference calls of frames already in the learn dataset); for epochs also
  total epochs trained over all attempts minus the reference's, which catches a training
  restarted under a new key;
- final == uninterrupted: per case (``equal_means``), bit for bit where the code is
  deterministic;
- resume overhead: wall time of all attempts minus the reference's (startup of each rerun
  plus work lost since the last checkpoint).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._record import markdown_table, record  # noqa: E402  (first: wall time starts here)

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHILD = Path(__file__).resolve().parent / "_kill_resume_child.py"
FAST = os.environ.get("MULTISCALE_FAST") == "1"
WORK = Path(os.environ.get("KILL_RESUME_DIR", "/tmp/bench_kill_resume"))


# --- what a case is ---------------------------------------------------------------------------

@dataclasses.dataclass
class Case:
    name: str
    what: str                                   # one line for the notes
    files: dict[str, str]                       # files written into each trial folder
    argv: Callable[[Path], list[str]]           # CLI arguments (after `multiscale`)
    frames: Callable[[Path, bool], list]        # (folder, final) -> frames: committed / final result
    equal: Callable[[Path, Path], tuple[bool, str]]   # (resumed, reference) -> (equal, detail)
    equal_means: str
    units: tuple[str, ...]                      # what "redone" counts here
    trials: list[int]                           # planned kills per trial
    fast: bool = False                          # part of the smoke run (its first trial)
    seed_stages: list[str] | None = None        # stages run once and copied in (cached upstream)
    md_every: int = 1                           # MD steps per checkpoint
    tol: float = 0.0                            # frame match tolerance (A); 0: bit for bit


CASES: list[Case] = []


# --- reading what a job left on disk ----------------------------------------------------------

def _read_xyz(path: Path) -> list:
    import ase.io

    return ase.io.read(path, ":") if path.is_file() and path.stat().st_size else []


def _frame(atoms) -> tuple:
    return (atoms.numbers.tobytes(), np.asarray(atoms.positions, float).ravel())


def _parts_frames(folder: Path, final: bool) -> list:
    if final:
        return [_frame(a) for a in _read_xyz(folder / "out" / "stages" / "data" / "frames.extxyz")]
    return [_frame(a) for f in sorted((folder / "out" / "stages").glob("*/parts/*.extxyz"))
            for a in _read_xyz(f)]


def _members_equal(a: Path, b: Path) -> tuple[bool, str]:
    import torch

    from atomistic.mlip.potential import read_potential_file

    ma, mb = read_potential_file(a)["members"], read_potential_file(b)["members"]
    if len(ma) != len(mb):
        return False, f"{len(ma)} vs {len(mb)} members"
    worst = 0.0
    for x, y in zip(ma, mb):
        if x.keys() != y.keys():
            return False, "different parameter names"
        for k in x:
            if x[k].shape != y[k].shape:
                return False, f"{k}: shape {tuple(x[k].shape)} vs {tuple(y[k].shape)}"
            if not torch.equal(x[k], y[k]):
                worst = max(worst, float((x[k].double() - y[k].double()).abs().max()))
    return worst == 0.0, "weights bit for bit" if worst == 0.0 else f"weights differ by {worst:.2e}"


def _text_equal(a: Path, b: Path) -> bool:
    return a.is_file() and b.is_file() and a.read_bytes() == b.read_bytes()


def _checkpoint_meta(path: Path) -> dict | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            return json.loads(z["_meta"].tobytes())
    except (OSError, ValueError, KeyError):
        return None


def disk_checkpoints(folder: Path) -> dict[str, tuple[str, int]]:
    """slot -> (key, progress) of every checkpoint on disk, named as the child's journal names them."""
    import torch

    found: dict[str, tuple[str, int]] = {}
    for f in folder.rglob("member*.pt"):
        try:
            ck = torch.load(f, map_location="cpu", weights_only=True)
            found[os.path.realpath(f)] = (str(ck.get("key", "")), int(ck["state"]["epoch"]))
        except Exception:  # noqa: BLE001  a torn file would be a finding of its own: no progress
            found[os.path.realpath(f)] = ("?", -1)
    for f in folder.rglob("checkpoint.npz"):
        meta = _checkpoint_meta(f) or {}
        found[os.path.realpath(f)] = (str(meta.get("stage_key", "?")),
                                      int(meta.get("chunks", meta.get("nsteps", -1))))
    for f in folder.rglob("*.extxyz"):
        if f.parent.name == "parts":
            found[os.path.realpath(f)] = ("", 1)
    for f in folder.rglob("dataset.extxyz"):
        for a in _read_xyz(f):
            found[f"label:{a.info.get('al_id')}"] = ("", 1)
    return found


def _unit(slot: str) -> str:
    if slot.startswith("label:"):
        return "labels"
    if slot.endswith(".pt"):
        return "epochs"
    if slot.endswith(".npz"):
        return "MD steps"
    return "batches"


# --- the cases ----------------------------------------------------------------------------------

DATA_SMALL = """[stage.data]
kind = "mlip_data"
size = 1
rattled = 4
temperatures_K = [300.0, 900.0]
frames_per_temperature = 2
interval = 2
"""
TRAIN = ('settings = { n_members = 2, epochs = %d, batch_size = 2, n_channels = 4, n_basis = 4, '
         'l_max = 1, hidden = [8], early_stopping_patience = 1000, lr_patience = 1000, '
         'min_learning_rate = 1e-12, dtype = "float64", valid_fraction = 0.2 }\n')


def _run_argv(folder: Path) -> list[str]:
    return ["run", str(folder / "run.toml"), "--out", str(folder / "out"), "-q"]


def _train_equal(a: Path, b: Path) -> tuple[bool, str]:
    sa, sb = a / "out" / "stages", b / "out" / "stages"
    if not _text_equal(sa / "data" / "frames.extxyz", sb / "data" / "frames.extxyz"):
        return False, "frames.extxyz differs"
    if not (sa / "train" / "potential.mlip.pt").is_file():
        return False, "no potential"
    return _members_equal(sa / "train" / "potential.mlip.pt", sb / "train" / "potential.mlip.pt")


CASES.append(Case(
    name="mlip_train", what="`multiscale run`: mlip_data (8 frames of 4 atoms) -> mlip_train "
                            "(2 members x 20 epochs)",
    files={"run.toml": '[run]\nname = "kr_train"\n' + DATA_SMALL + '[stage.train]\nkind = '
                       '"mlip_train"\nneeds = ["data"]\n' + TRAIN % 20},
    argv=_run_argv, frames=_parts_frames, equal=_train_equal,
    equal_means="frames.extxyz byte for byte and every committee weight bit for bit",
    units=("epochs", "batches"), trials=[1, 1, 2, 1, 3], fast=True))


def _data_equal(a: Path, b: Path) -> tuple[bool, str]:
    same = _text_equal(a / "out/stages/data/frames.extxyz", b / "out/stages/data/frames.extxyz")
    return same, "frames.extxyz byte for byte" if same else "frames.extxyz differs"


CASES.append(Case(
    name="mlip_data", what="`multiscale run`: mlip_data alone (32-atom cells: 20 rattled, "
                           "4 Langevin frames at each of 300/600/900 K; 4 batches)",
    files={"run.toml": '[run]\nname = "kr_data"\n[stage.data]\nkind = "mlip_data"\nsize = 2\n'
                       'rattled = 20\ntemperatures_K = [300.0, 600.0, 900.0]\n'
                       'frames_per_temperature = 4\ninterval = 10\n'},
    argv=_run_argv, frames=_parts_frames, equal=_data_equal,
    equal_means="frames.extxyz byte for byte", units=("batches",), trials=[1, 2, 1]))


LEARN = """folder = "run"
[[structures]]
element = "Cu"
kind = "vacancy"
size = 2
[settings]
mode = "%s"
trust_lo = 0.03
trust_hi = 0.5
steps = 12
rounds = 3
select_per_round = 2
min_separation_steps = 3
max_calls = 9
initial_rattled = 1
checkpoint_every = 5
retrain_epochs = 4
seed = 4
[settings.train]
n_members = 2
epochs = 8
hidden = [8]
n_channels = 4
cutoff = 4.0
"""


def _learn_argv(folder: Path) -> list[str]:
    return ["learn", str(folder / "learn.toml"), "-q"]


def _learn_frames(folder: Path, final: bool) -> list:
    return [_frame(a) for a in _read_xyz(folder / "run" / "dataset.extxyz")]


def _learn_equal(a: Path, b: Path) -> tuple[bool, str]:
    ra, rb = a / "run", b / "run"
    fa, fb = _read_xyz(ra / "dataset.extxyz"), _read_xyz(rb / "dataset.extxyz")
    if [x.info.get("al_id") for x in fa] != [y.info.get("al_id") for y in fb]:
        return False, "labelled frames (ids, order) differ"
    for x, y in zip(fa, fb):
        if not (np.array_equal(x.numbers, y.numbers) and np.array_equal(x.positions, y.positions)
                and x.get_potential_energy() == y.get_potential_energy()
                and np.array_equal(x.get_forces(), y.get_forces())):
            return False, f"frame {x.info.get('al_id')} differs"
    sa, sb = (json.loads((r / "state.json").read_text()) for r in (ra, rb))

    def story(s):  # everything but wall-clock times
        log = [(e["frame"], e["decision"], e["walker"], e["step"], e["dev"], e["calls"])
               for e in s["log"]]
        curve = [{k: v for k, v in c.items() if k != "train_s"} for c in s["curve"]]
        return (s["n_calls"], s["stop_reason"], s["trained_on"], s["round"], s["rounds"], log,
                curve, s["walkers"], s["pending"])

    if story(sa) != story(sb):
        return False, "state.json (log, curve, walkers or counters) differs"
    return _members_equal(ra / "potential.mlip.pt", rb / "potential.mlip.pt")


LEARN_EQUAL = ("the labelled frames (ids, order, positions, EMT energies and forces) bit for bit, "
               "state.json (decision log, counters, curve, rounds, walkers with their RNG) equal "
               "except wall-clock times, and the committee's weights bit for bit")
for _mode in ("batch", "onthefly"):
    CASES.append(Case(
        name=f"learn_{_mode}", what=f"`multiscale learn`, mode {_mode}: Cu 2x2x2 with a vacancy, "
                                    "1 walker, <= 9 EMT calls, 2-member committee",
        files={"learn.toml": LEARN % _mode}, argv=_learn_argv, frames=_learn_frames,
        equal=_learn_equal, equal_means=LEARN_EQUAL, units=("epochs", "labels"),
        trials=[1, 2, 1, 1], fast=_mode == "batch"))


def _md_frames(folder: Path, final: bool) -> list:
    stages = folder / "out" / "stages"
    ck = stages / "md" / "checkpoint.npz" if final else next(
        iter(sorted(stages.glob("md*/checkpoint.npz"))), None)
    if ck is None or not ck.is_file():
        return []
    with np.load(ck, allow_pickle=False) as z:
        rows = np.stack([z["times"], z["dev"], z["temps"]], axis=1) if len(z["times"]) else []
    return [(b"record", np.asarray(r)) for r in rows]


def _md_equal(a: Path, b: Path) -> tuple[bool, str]:
    ja, jb = (json.loads((x / "out/stages/md/stage.json").read_text())["results"] for x in (a, b))
    with np.load(a / "out/stages/md/checkpoint.npz") as za, \
            np.load(b / "out/stages/md/checkpoint.npz") as zb:
        arrays = all(np.array_equal(za[k], zb[k]) for k in zb.files if k != "_meta")
    same = ja == jb and arrays
    return same, "results and final MD state bit for bit" if same else "results differ"


CASES.append(Case(
    name="mlip_md", what="`multiscale run`: mlip_md (32 atoms, 100 Langevin steps at 600 K, "
                         "a checkpoint every 2 steps) on a committee trained beforehand",
    files={"run.toml": '[run]\nname = "kr_md"\n' + DATA_SMALL + '[stage.train]\nkind = '
                       '"mlip_train"\nneeds = ["data"]\n' + TRAIN % 2 +
                       '[stage.md]\nkind = "mlip_md"\nneeds = ["train"]\nsize = 2\nsteps = 100\n'
                       'check_frames = 5\n'},
    argv=_run_argv, frames=_md_frames, equal=_md_equal,
    equal_means="stage results (deviations, temperatures, EMT check MAE) and the final positions, "
                "momenta and per-chunk records bit for bit",
    units=("MD steps",), trials=[1, 2, 1, 1], seed_stages=["data", "train"], md_every=2))


HYBRID_TOL = 1e-8   # A: matching frames, and the largest position difference called "equal"


def _traj_positions(path: Path, first: int | None = None) -> list:
    from ase.io.trajectory import Trajectory

    if not path.is_file():
        return []
    try:
        with Trajectory(str(path)) as traj:
            n = len(traj) if first is None else min(first, len(traj))
            return [_frame(traj[k]) for k in range(n)]
    except Exception:  # noqa: BLE001  a torn trajectory: nothing committed can be read
        return []


def _hybrid_frames(folder: Path, final: bool) -> list:
    stages = folder / "out" / "stages"
    if final:
        return _traj_positions(stages / "hybrid" / "hybrid_md.traj")
    for d in (stages / "hybrid.partial", stages / "hybrid"):
        meta = _checkpoint_meta(d / "checkpoint.npz")
        if meta is not None:          # frames 0..nsteps are what the checkpoint counts
            return _traj_positions(d / "hybrid_md.traj", int(meta["nsteps"]) + 1)
    return []


def _hybrid_equal(a: Path, b: Path) -> tuple[bool, str]:
    fa, fb = (_hybrid_frames(x, True) for x in (a, b))
    if len(fa) != len(fb) or not fb:
        return False, f"{len(fa)} vs {len(fb)} frames"
    dx = max(float(np.abs(x[1] - y[1]).max()) for x, y in zip(fa, fb))
    ra, rb = (json.loads((x / "out/stages/hybrid/stage.json").read_text())["results"]
              for x in (a, b))
    numbers = [k for k, v in rb.items() if isinstance(v, float) and not k.startswith("t_")]
    rel = max((abs(ra[k] - rb[k]) / max(abs(rb[k]), 1e-10) for k in numbers), default=0.0)
    same = (dx <= HYBRID_TOL and rel <= 1e-8 and ra["region_history"] == rb["region_history"]
            and ra["steps"] == rb["steps"])
    return same, f"max dx {dx:.1e} A, results rel {rel:.1e}"


CASES.append(Case(
    name="hybrid_md", what="`multiscale run`: hybrid_md (EMT sphere in perturbed EMT, 108 atoms, "
                           "40 NVE steps at 900 K, a checkpoint every step)",
    files={"run.toml": '[run]\nname = "kr_hybrid"\n[stage.hybrid]\nkind = "hybrid_md"\n'
                       'steps = 40\nbuffer = 1.5\nhysteresis = 0.3\ntemperature = 900.0\n'},
    argv=_run_argv, frames=_hybrid_frames, equal=_hybrid_equal,
    equal_means=f"every trajectory frame within {HYBRID_TOL:g} A, region history equal, the "
                "stage's numbers (drift, spread) within 1e-8 relative; not bit for bit by design: "
                "the resumed EMT rebuilds its neighbour list and sums pairs in another order "
                "(multiscale/stages/qmml.py)",
    units=("MD steps",), trials=[1, 2, 1, 1], tol=HYBRID_TOL, fast=True))


# --- running one attempt ------------------------------------------------------------------------

@dataclasses.dataclass
class Attempt:
    wall: float
    killed: bool
    rc: int | None
    first_checkpoint: float | None   # s from start to the first journal line of this attempt


def _journal(folder: Path) -> list[dict]:
    f = folder / "journal.jsonl"
    if not f.is_file():
        return []
    out = []
    for line in f.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return out


def run_attempt(case: Case, folder: Path, k: int, kill_at: float | None,
                timeout: float) -> Attempt:
    env = {**os.environ, "KILL_RESUME_JOURNAL": str(folder / "journal.jsonl"),
           "KILL_RESUME_ATTEMPT": str(k), "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    with open(folder / f"attempt{k}.log", "wb") as log:
        t0 = time.time()
        proc = subprocess.Popen([sys.executable, str(CHILD), *case.argv(folder)], cwd=folder,
                                env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        killed = False
        while proc.poll() is None:
            now = time.time() - t0
            if (kill_at is not None and now >= kill_at) or now > timeout:
                os.killpg(proc.pid, signal.SIGKILL)     # the job's own process group
                proc.wait()
                killed = kill_at is not None and now >= kill_at
                break
            time.sleep(0.005)
        wall = time.time() - t0
    mine = [e["t"] - t0 for e in _journal(folder) if e["attempt"] == k]
    return Attempt(wall, killed, proc.returncode, min(mine) if mine else None)


def prepare(case: Case, folder: Path, seed: Path | None) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name, text in case.files.items():
        (folder / name).write_text(text)
    if seed is not None:
        (folder / "out" / "stages").mkdir(parents=True)
        for stage in case.seed_stages:
            shutil.copytree(seed / "out" / "stages" / stage, folder / "out" / "stages" / stage)


# --- comparing ----------------------------------------------------------------------------------

def frame_counts(case: Case, reference: list, final: list, committed: list) -> tuple[int, int]:
    """(lost, duplicated): see the module docstring."""
    groups: list[tuple] = []       # representatives: (numbers, positions)

    def gid(f) -> int:
        for i, (nums, pos) in enumerate(groups):
            if nums == f[0] and pos.shape == f[1].shape and (
                    np.array_equal(pos, f[1]) if case.tol == 0 else
                    float(np.abs(pos - f[1]).max()) <= case.tol):
                return i
        groups.append(f)
        return len(groups) - 1

    ref = [gid(f) for f in reference]
    fin = [gid(f) for f in final]
    com = {gid(f) for f in committed}
    lost = sum(1 for g in com if g not in fin)
    dup = sum(max(0, fin.count(g) - max(ref.count(g), 1)) for g in set(fin))
    return lost, dup


def redone(case: Case, journal: list[dict], states: list[dict], reference: list[dict]) -> dict:
    """Work a rerun did again although the disk held its checkpoint at a kill (per unit)."""
    out = {u: 0 for u in case.units}
    best: dict[str, tuple[str, int]] = {}
    for a, state in enumerate(states, start=1):      # states[a-1]: the disk after kill a
        for slot, (key, progress) in state.items():
            if slot not in best or best[slot][0] != key or progress > best[slot][1]:
                best[slot] = (key, progress)
        for e in journal:
            if e["attempt"] != a:
                continue
            held = best.get(e["slot"])
            if held is not None and held[0] == e["key"] and e["progress"] <= held[1]:
                unit = _unit(e["slot"])
                out[unit] = out.get(unit, 0) + (case.md_every if unit == "MD steps" else 1)
    if "epochs" in out and states:    # a training restarted under another key is still redone work
        epochs = sum(1 for e in journal if _unit(e["slot"]) == "epochs")
        epochs_ref = sum(1 for e in reference if _unit(e["slot"]) == "epochs")
        out["epochs"] = max(out["epochs"], epochs - epochs_ref)
    return out


# --- the benchmark --------------------------------------------------------------------------------

def run_case(case: Case, n_trials: int | None) -> dict:
    root = WORK / case.name
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    seed = None
    if case.seed_stages:                 # upstream stages once; every run finds them cached
        seed = root / "seed"
        prepare(case, seed, None)
        for stage in case.seed_stages:
            subprocess.run([sys.executable, str(CHILD), *case.argv(seed), "--only", stage],
                           cwd=seed, env={**os.environ, "KILL_RESUME_JOURNAL": str(seed / "j"),
                                          "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)},
                           check=True, capture_output=True)
    refs = []
    for r in range(1 if FAST else 2):
        folder = root / f"reference{r}"
        prepare(case, folder, seed)
        att = run_attempt(case, folder, 0, None, timeout=600)
        if att.rc != 0:
            raise SystemExit(f"{case.name}: the uninterrupted run failed; see {folder}/attempt0.log")
        refs.append((folder, att))
    ref_dir, ref = refs[0]
    duration, first = ref.wall, ref.first_checkpoint or 0.0
    deterministic = case.equal(refs[1][0], ref_dir) if len(refs) > 1 else (None, "not checked")
    ref_frames, ref_journal = case.frames(ref_dir, True), _journal(ref_dir)
    rng = np.random.default_rng([18, zlib.crc32(case.name.encode())])
    plans = case.trials[:n_trials] if n_trials else case.trials
    trials = []
    for i, plan in enumerate(plans):
        for _draw in range(3):
            folder = root / f"trial{i}"
            prepare(case, folder, seed)
            walls, states, committed, kill_times, done, failed = [], [], [], [], 0.0, None
            for k in range(plan + 1):
                kill_at = first + rng.uniform() * max(duration - first - done, 0.5) \
                    if k < plan else None
                att = run_attempt(case, folder, k, kill_at, timeout=5 * duration + 60)
                walls.append(att.wall)
                if att.killed:
                    kill_times.append(kill_at)
                    done += kill_at - first
                    states.append(disk_checkpoints(folder))
                    committed += case.frames(folder, False)
                    continue
                if att.rc != 0:
                    failed = f"attempt {k} exited {att.rc}; see {folder}/attempt{k}.log"
                break
            if kill_times or plan == 0:
                break                      # else the first run beat its kill moment: draw again
        if failed is None:
            # the last attempt ran to its end: compare; a miss keeps its folder for a look
            lost, dup = frame_counts(case, ref_frames, case.frames(folder, True), committed)
            same, detail = case.equal(folder, ref_dir)
        else:
            lost, dup, same, detail = 0, 0, False, failed
        again = redone(case, _journal(folder), states, ref_journal)
        t = {"kills": len(kill_times), "kill_at": kill_times, "lost": lost, "dup": dup,
             "redone": again, "equal": same, "detail": detail,
             "overhead": sum(walls) - duration}
        trials.append(t)
        print(f"  {case.name} trial {i}: kills at {', '.join(f'{x:.1f}' for x in kill_times) or '-'} s,"
              f" lost {lost}, duplicated {dup}, redone "
              f"{', '.join(f'{v} {u}' for u, v in again.items())}, final == uninterrupted: {same} "
              f"({detail}), overhead {t['overhead']:.1f} s", flush=True)
        if same and lost == dup == 0 and not any(again.values()):
            shutil.rmtree(folder, ignore_errors=True)
    return {"case": case, "trials": trials, "duration": duration, "first": first,
            "deterministic": deterministic}


def _cell(n: int, unit: str = "") -> str:
    text = f"{n}{' ' + unit if unit else ''}"
    return text if n == 0 else f"{text} (missed)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--case", action="append", help="only this case (repeatable); nothing recorded")
    ap.add_argument("--trials", type=int, help="at most this many trials per case; nothing recorded")
    args = ap.parse_args()
    known = {c.name for c in CASES}
    if args.case and not set(args.case) <= known:
        ap.error(f"--case: unknown {sorted(set(args.case) - known)}; known: {sorted(known)}")
    cases = [c for c in CASES if (c.name in args.case if args.case else (c.fast or not FAST))]
    n_trials = args.trials or (1 if FAST else None)
    results = []
    for case in cases:
        print(f"{case.name}: {case.what}", flush=True)
        results.append(run_case(case, n_trials))

    rows, refs = [], []
    for r in results:
        c, ts = r["case"], r["trials"]
        n, n_equal = len(ts), sum(t["equal"] for t in ts)
        rows.append([c.name, n, sum(t["kills"] for t in ts), _cell(sum(t["lost"] for t in ts)),
                     _cell(sum(t["dup"] for t in ts)),
                     ", ".join(_cell(sum(t["redone"].get(u, 0) for t in ts), u) for u in c.units),
                     f"{n_equal}/{n}" + ("" if n_equal == n else " (missed)"),
                     f"{np.median([t['overhead'] for t in ts]):.1f}"])
        det = r["deterministic"][0]
        refs.append([c.name, f"{r['duration']:.1f}", f"{r['first']:.1f}",
                     "not checked" if det is None else ("yes" if det else "no") +
                     f" ({r['deterministic'][1]})", c.equal_means])
    total = sum(row[1] for row in rows)
    table = markdown_table(["case", "trials", "kills", "frames lost", "frames duplicated",
                            "epochs redone (or the case's unit)", "final == uninterrupted",
                            "median resume overhead (s)"], rows)
    ref_table = markdown_table(["case", "uninterrupted run (s)", "first checkpoint at (s)",
                                "two uninterrupted runs equal", "\"equal\" means"], refs)
    cases_text = "\n".join(f"- `{r['case'].name}`: {r['case'].what}." for r in results)
    body = (f"{total} trials, each killed with SIGKILL at a uniformly drawn moment between the "
            "first checkpoint and the expected end of the work left (seeded), some 2-3 times, "
            "then rerun to completion and compared with an uninterrupted run. Target: 0 frames "
            "lost, 0 duplicated, 0 redone before the last checkpoint, final == uninterrupted "
            f"n/n; a miss reads `(missed)`.\n\n{table}\n\n{ref_table}\n\n{cases_text}\n\n"
            "Frames lost: committed at a kill, absent from the final result; duplicated: final "
            "copies beyond the uninterrupted run's count (numbers + positions, bit for bit; "
            "hybrid_md within 1e-8 A; mlip_md: per-chunk MD records). "
            "Redone: checkpoints a rerun wrote again at a progress the disk already held at the "
            "kill (same file, same key), journalled by bench/_kill_resume_child.py; epochs also "
            "as total epochs over all attempts minus the uninterrupted run's. Overhead: wall time "
            "of all attempts minus the uninterrupted run's (each rerun's start-up plus the work "
            "since the last checkpoint). One thread per job (torch and OpenMP).")
    print("\n" + body)
    if FAST or args.case or args.trials:
        print("\n(smoke or partial run: nothing recorded)")
        return
    if total < 20:
        raise SystemExit(f"only {total} trials; the benchmark needs >= 20")
    record("kill_resume", "python bench/kill_resume.py", body)


if __name__ == "__main__":
    main()
