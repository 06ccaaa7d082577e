"""Training a committee of ``MomentPotential`` models on labelled frames.

``train_committee(frames, settings, path)`` is the whole recipe:

1. Validate ``TrainSettings`` (pydantic; unknown keys and bad values name the key).
2. Split off a validation set by ``seed``; each member trains on a bootstrap
   resample of the rest (``bootstrap=True``) from its own random initialisation.
3. Per-element reference energies by least squares on the training energies
   (E_frame ~ sum_Z n_Z e0_Z), descriptor standardisation and the energy
   scale (RMS force) from the training frames, before any gradient step.
4. Adam on the loss  w_E <(dE/N)^2> + w_F <|dF|^2>/3 + w_S <|d sigma|^2>/9
   (eV/atom, eV/Angstrom, eV/Angstrom^3), ReduceLROnPlateau on the
   validation loss, early stopping with the best weights restored.
5. Checkpoints (atomic) after every epoch under ``checkpoint_dir``; calling
   again with the same settings and data resumes where it stopped.
   ``warm_start=<potential file>`` starts every member from that committee's
   weights and keeps its standardisation and reference energies (step 3 is
   skipped), so a few epochs on a grown dataset refine rather than restart
   (the active-learning loop retrains this way).
6. Save the committee with the training-set hash and validation metrics.

Deterministic for a given seed: initialisation, bootstrap and batch order are
drawn from generators seeded by (seed, member, epoch), so a resumed run
matches an uninterrupted one.
"""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Literal

import numpy as np
import pydantic
from pydantic import BaseModel, ConfigDict, Field

from foundation.validation import format_errors, model_vocabulary

from .._engines import import_engine
from .dataset import dataset_hash, labels_of
from ..errors import InputError


class TrainSettings(BaseModel):
    """Everything that decides a trained potential. Units: Angstrom, eV, seconds."""

    model_config = ConfigDict(extra="forbid")

    cutoff: float = Field(5.0, gt=1.0, le=12.0)
    n_basis: int = Field(8, ge=2, le=32)
    n_channels: int = Field(16, ge=1, le=128)
    l_max: int = Field(2, ge=0, le=3)
    hidden: list[int] = Field(default_factory=lambda: [64, 64])
    n_members: int = Field(4, ge=1, le=64)
    bootstrap: bool = True
    epochs: int = Field(200, ge=1)
    batch_size: int = Field(4, ge=1)
    learning_rate: float = Field(5e-3, gt=0.0)
    lr_factor: float = Field(0.5, gt=0.0, lt=1.0)
    lr_patience: int = Field(8, ge=1)
    min_learning_rate: float = Field(1e-5, gt=0.0)
    early_stopping_patience: int = Field(30, ge=1)
    energy_weight: float = Field(10.0, ge=0.0)
    force_weight: float = Field(1.0, ge=0.0)
    stress_weight: float = Field(0.0, ge=0.0)
    charges: bool = Field(False, description="predict atomic charges with a long-range Ewald "
                          "energy (atomistic.mlip.electrostatics); for ions, water, electrodes")
    smearing: float = Field(1.0, gt=0.1, le=3.0, description="A: Gaussian width of the charges")
    coupling: bool = Field(False, description="descriptor invariants of every pair of radial "
                           "channels (SOAP-like power spectrum; K(K+1)/2 per angular order "
                           "instead of K); on the first NaCl/Cu campaign it over-fitted "
                           "(bench/electrolyte_architecture.py)")
    repulsion: bool = Field(False, description="a fixed ZBL core repulsion under the network "
                            "(atomistic.mlip.repulsion): MD cannot collapse two atoms where "
                            "no frame was")
    n_heads: int = Field(1, ge=1, le=16, description="energy heads on one shared descriptor: "
                         "a cheap committee inside each member (the heads' spread is its "
                         "uncertainty; CommitteeCalculator(head_forces=...))")
    charge_weight: float = Field(10.0, ge=0.0, description="weight of the charge error (e^2) "
                                 "against reference charges, where frames carry them")
    valid_fraction: float = Field(0.1, ge=0.0, lt=1.0)
    seed: int = 0
    dtype: Literal["float32", "float64"] = "float32"
    max_time_s: float | None = Field(None, gt=0.0)

    def model_kwargs(self) -> dict:
        return {"cutoff": self.cutoff, "n_basis": self.n_basis, "n_channels": self.n_channels,
                "l_max": self.l_max, "hidden": list(self.hidden), "charges": self.charges,
                "smearing": self.smearing, "coupling": self.coupling,
                "n_heads": self.n_heads, "repulsion": self.repulsion}


def validate_settings(settings: dict | TrainSettings | None, where: str = "settings"
                      ) -> TrainSettings:
    """A ``TrainSettings`` from a dict; errors name the offending key."""
    if isinstance(settings, TrainSettings):
        return settings
    try:
        return TrainSettings.model_validate(settings or {})
    except pydantic.ValidationError as exc:
        raise InputError(format_errors(exc, "", model_vocabulary(TrainSettings), prefix=where)) from None


# --- data -------------------------------------------------------------------

def frames_to_graphs(frames, elements: list[int], cutoff: float) -> list[dict]:
    """Graphs (numpy) with labels attached; frames without energy are refused."""
    from .graph import atoms_to_graph

    graphs = []
    for k, atoms in enumerate(frames):
        labels = labels_of(atoms)
        if "energy" not in labels:
            raise InputError(f"frames[{k}]: no energy label; label frames first "
                             "(atomistic.mlip.dataset.label_frames)")
        g = atoms_to_graph(atoms, elements, cutoff)
        g["energy"] = float(labels["energy"])
        g["forces"] = labels.get("forces", np.zeros((len(atoms), 3)))
        g["has_forces"] = "forces" in labels
        g["charges"] = labels.get("charges", np.zeros(len(atoms)))
        g["has_charges"] = "charges" in labels
        g["total_charge"] = float(atoms.info.get("charge", 0.0))
        if "stress" in labels and np.all(atoms.pbc):
            from ase.stress import voigt_6_to_full_3x3_stress

            g["stress"] = voigt_6_to_full_3x3_stress(labels["stress"])
        graphs.append(g)
    return graphs


def fit_reference_energies(graphs, n_elements: int) -> np.ndarray:
    """Per-element energies e0 (eV) minimising sum_frames (E - sum_Z n_Z e0_Z)^2."""
    counts = np.array([np.bincount(g["species"], minlength=n_elements) for g in graphs], float)
    energies = np.array([g["energy"] for g in graphs])
    e0, *_ = np.linalg.lstsq(counts, energies, rcond=None)
    return e0


def _prepare(model, graphs, torch, dtype):
    """Set the model's reference energies, feature statistics and energy scale."""
    from .graph import collate

    n_el = len(model.elements)
    e0 = fit_reference_energies(graphs, n_el)
    forces = np.concatenate([g["forces"] for g in graphs if g["has_forces"]] or [np.ones((1, 3))])
    scale = float(np.sqrt(np.mean(forces ** 2))) or 1.0
    with torch.no_grad():
        feats = []
        for k in range(0, len(graphs), 16):
            b = collate(graphs[k:k + 16], dtype=dtype)
            feats.append(model.descriptors(b["positions"], b["species"], b["cell"],
                                           b["edge_index"], b["shifts"], b["batch"],
                                           slots=b["slots"]))
        feats = torch.cat(feats)
        model.feature_mean.copy_(feats.mean(0))
        # floor the spread at 1% of the feature's size: a feature (nearly) constant over a
        # small training set must not be divided by ~0 and explode on new structures
        mean = feats.mean(0)
        std = torch.sqrt(feats.var(0, unbiased=False) + (0.01 * mean.abs()) ** 2 + 1e-6)
        model.feature_std.copy_(std)
        model.reference_energies.copy_(torch.as_tensor(e0, dtype=dtype))
        model.energy_scale.fill_(scale)
        if getattr(model, "charges", False):  # start the charges at each element's mean
            q0 = np.zeros(n_el)
            labelled = [g for g in graphs if g.get("has_charges")]
            if labelled:
                species = np.concatenate([g["species"] for g in labelled])
                charges = np.concatenate([g["charges"] for g in labelled])
                for s in range(n_el):
                    if np.any(species == s):
                        q0[s] = charges[species == s].mean()
            model.charge_head.reference_charges.copy_(torch.as_tensor(q0, dtype=dtype))


def _batch_loss(model, b, s: TrainSettings, torch, create_graph=True):
    want_stress = s.stress_weight > 0 and "stress" in b
    heads = getattr(model, "n_heads", 1) > 1
    out = model(b, compute_forces=True, compute_stress=want_stress, create_graph=create_graph,
                head_forces=heads)
    n = b["n_atoms"]
    de = (out["energy"] - b["energy"]) / n
    df = out["forces"] - b["forces"]
    fmask = b["force_mask"]
    if heads:  # every head is a whole potential: each one is fitted, not only their mean
        de_h = (out["head_energies"] - b["energy"][:, None]) / n[:, None]
        loss = s.energy_weight * (de_h ** 2).mean()
        if bool(fmask.any()):
            df_h = out["head_forces"] - b["forces"][None]
            loss = loss + s.force_weight * (df_h[:, fmask] ** 2).mean()
    else:
        loss = s.energy_weight * (de ** 2).mean()
        if bool(fmask.any()):
            loss = loss + s.force_weight * (df[fmask] ** 2).mean()
    if want_stress:
        loss = loss + s.stress_weight * ((out["stress"] - b["stress"]) ** 2).mean()
    qmask = b.get("charge_mask")
    if "charges" in out and qmask is not None and bool(qmask.any()):
        loss = loss + s.charge_weight * ((out["charges"] - b["charges"])[qmask] ** 2).mean()
    stats = {"e_abs": de.detach().abs().sum().item(), "n_frames": len(n),
             "f_abs": df[fmask].detach().abs().sum().item(), "n_f": int(fmask.sum()) * 3}
    return loss, stats


def _collate_labelled(graphs, dtype, torch):
    from .graph import collate

    b = collate(graphs, dtype=dtype)
    b["force_mask"] = torch.as_tensor(np.concatenate(
        [np.full(len(g["species"]), g["has_forces"]) for g in graphs]))
    b["charge_mask"] = torch.as_tensor(np.concatenate(
        [np.full(len(g["species"]), g.get("has_charges", False)) for g in graphs]))
    if not all("stress" in g for g in graphs):
        b.pop("stress", None)
    return b


def evaluate(model, graphs, settings: TrainSettings, torch, dtype) -> dict:
    """Validation loss, energy MAE (eV/atom) and force MAE (eV/Angstrom)."""
    tot = {"loss": 0.0, "e_abs": 0.0, "n_frames": 0, "f_abs": 0.0, "n_f": 0}
    for k in range(0, len(graphs), settings.batch_size):
        b = _collate_labelled(graphs[k:k + settings.batch_size], dtype, torch)
        loss, st = _batch_loss(model, b, settings, torch, create_graph=False)
        tot["loss"] += loss.item() * st["n_frames"]
        for key in ("e_abs", "n_frames", "f_abs", "n_f"):
            tot[key] += st[key]
    return {"loss": tot["loss"] / max(tot["n_frames"], 1),
            "energy_mae": tot["e_abs"] / max(tot["n_frames"], 1),
            "force_mae": tot["f_abs"] / max(tot["n_f"], 1)}


# --- one member -------------------------------------------------------------

_RECIPE = "moment-potential-training-2"

# Settings added after checkpoints were first keyed with the current fields: at these
# (default) values they do not change what is trained, so they are left out of the key
# and a checkpoint written before they existed still resumes.
_NEUTRAL_DEFAULTS = {"n_heads": 1}


def _settings_key(settings: TrainSettings, data_hash: str, member: int) -> str:
    # bump _RECIPE when the training code changes meaning, so stale checkpoints are ignored
    dump = {k: v for k, v in settings.model_dump().items()
            if not (k in _NEUTRAL_DEFAULTS and v == _NEUTRAL_DEFAULTS[k])}
    text = (_RECIPE + json.dumps(dump, sort_keys=True) + data_hash + str(member))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def train_member(train_graphs, valid_graphs, elements, settings: TrainSettings, member: int,
                 checkpoint: Path | None = None, key: str = "", progress=None,
                 init_state: dict | None = None):
    """Train one committee member; returns (model, metrics). Resumes from ``checkpoint``.

    ``init_state``: a state dict to start from (warm start): weights, feature statistics and
    reference energies are kept instead of drawn and fitted. Bit for bit reproducible for given
    settings, data and thread count (:mod:`atomistic.mlip.determinism`).
    """
    from .determinism import deterministic_kernels

    torch = import_engine("torch")
    with deterministic_kernels(torch):
        return _train_member(torch, train_graphs, valid_graphs, elements, settings, member,
                             checkpoint, key, progress, init_state)


def _train_member(torch, train_graphs, valid_graphs, elements, settings: TrainSettings,
                  member: int, checkpoint: Path | None, key: str, progress,
                  init_state: dict | None):
    from .model import MomentPotential
    from .potential import atomic_torch_save, read_training_checkpoint

    dtype = getattr(torch, settings.dtype)
    model = MomentPotential(elements, **settings.model_kwargs())
    model.reset_parameters(torch.Generator().manual_seed(settings.seed * 1009 + member))
    model = model.to(dtype)
    rng = np.random.default_rng([settings.seed, member])
    if settings.bootstrap and settings.n_members > 1:
        pick = rng.integers(0, len(train_graphs), len(train_graphs))
        train_graphs = [train_graphs[k] for k in pick]
    if init_state is not None:
        model.load_state_dict(init_state)
    else:
        _prepare(model, train_graphs, torch, dtype)
    opt = torch.optim.Adam(model.parameters(), lr=settings.learning_rate)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt, factor=settings.lr_factor, patience=settings.lr_patience,
        min_lr=settings.min_learning_rate)
    state = {"epoch": 0, "best": float("inf"), "bad": 0, "best_state": None, "done": False,
             "history": []}
    if checkpoint is not None and checkpoint.is_file():
        ck = read_training_checkpoint(checkpoint)
        if ck.get("key") == key:
            model.load_state_dict(ck["model"])
            opt.load_state_dict(ck["optimizer"])
            sched.load_state_dict(ck["scheduler"])
            state = ck["state"]
    monitor = valid_graphs or train_graphs
    t0 = time.perf_counter()
    task = progress.add_task(f"member {member}", total=settings.epochs,
                             completed=state["epoch"]) if progress is not None else None
    while not state["done"]:
        epoch = state["epoch"]
        order = np.random.default_rng([settings.seed, member, epoch]).permutation(len(train_graphs))
        model.train()
        for k in range(0, len(order), settings.batch_size):
            b = _collate_labelled([train_graphs[q] for q in order[k:k + settings.batch_size]],
                                  dtype, torch)
            opt.zero_grad()
            loss, _ = _batch_loss(model, b, settings, torch)
            loss.backward()
            opt.step()
        model.eval()
        metrics = evaluate(model, monitor, settings, torch, dtype)
        sched.step(metrics["loss"])
        state["history"].append([float(metrics["loss"]), float(opt.param_groups[0]["lr"])])
        if metrics["loss"] < state["best"]:
            state["best"], state["bad"] = float(metrics["loss"]), 0
            state["best_state"] = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            state["bad"] += 1
        state["epoch"] = epoch + 1
        out_of_time = (settings.max_time_s is not None
                       and time.perf_counter() - t0 > settings.max_time_s)
        state["done"] = (state["epoch"] >= settings.epochs
                         or state["bad"] >= settings.early_stopping_patience
                         or opt.param_groups[0]["lr"] <= settings.min_learning_rate * 1.0001
                         and state["bad"] >= settings.lr_patience
                         or out_of_time)
        if checkpoint is not None:
            atomic_torch_save({"key": key, "model": model.state_dict(),
                               "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                               "state": state}, checkpoint)
        if progress is not None:
            progress.update(task, completed=state["epoch"],
                            description=f"member {member}  F MAE "
                                        f"{1000 * metrics['force_mae']:.1f} meV/Å")
    if state["best_state"] is not None:
        model.load_state_dict(state["best_state"])
    model.eval()
    final = evaluate(model, monitor, settings, torch, dtype)
    final.update(epochs=state["epoch"])
    return model, final


def _member_job(args):
    """Top-level (picklable) wrapper so Dask workers can train a member."""
    train_graphs, valid_graphs, elements, settings, member, checkpoint, key, init = args
    torch = import_engine("torch")
    torch.set_num_threads(1)
    model, metrics = train_member(train_graphs, valid_graphs, elements, settings, member,
                                  checkpoint, key, init_state=init)
    return {k: v.detach().clone() for k, v in model.state_dict().items()}, metrics


# --- the committee ------------------------------------------------------------

def _warm_start_states(path, s: TrainSettings, elements: list[int]):
    """(member states, the file's elements, a key naming the file's content) for a warm start."""
    from .potential import read_potential_file

    path = Path(path)
    payload = read_potential_file(path)
    known = [int(z) for z in payload["elements"]]
    missing = sorted(set(elements) - set(known))
    if missing:
        raise InputError(f"warm_start: {str(path)!r} knows elements {known}, the frames also "
                         f"contain {missing}; train from scratch to add elements")
    from .model import DEFAULT_HYPERPARAMETERS

    # the ZBL prior has no parameters: it may be switched on or off across a warm start
    arch = {**DEFAULT_HYPERPARAMETERS, **payload["hyperparameters"],
            "repulsion": s.repulsion}
    if arch != s.model_kwargs():
        raise InputError(f"warm_start: {str(path)!r}: hyperparameters "
                         f"{payload['hyperparameters']} differ from the settings' "
                         f"{s.model_kwargs()}; expected the same architecture")
    members = payload["members"]
    states = [members[m % len(members)] for m in range(s.n_members)]
    key = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return states, known, key


class _Reporter:
    """The two calls ``train_member`` makes on a rich ``Progress``, as one-line messages."""

    def __init__(self, say, n_members: int):
        self.say, self.n_members, self.total = say, n_members, {}

    def add_task(self, description, total, completed=0):
        member = int(description.split()[-1])
        self.total[member] = total
        if completed:
            self.say(f"member {member + 1}/{self.n_members}: resumed at epoch {completed}/{total}")
        return member

    def update(self, member, completed, description=""):
        detail = description.split("  ", 1)[1] if "  " in description else ""
        self.say(f"member {member + 1}/{self.n_members}: epoch {completed}/{self.total[member]}"
                 + (f", {detail}" if detail else ""))


def train_committee(frames, settings: dict | TrainSettings | None = None,
                    path: str | Path = "potential.mlip.pt", valid_frames=None,
                    checkpoint_dir: str | Path | None = None, progress: bool = True,
                    executor=None, warm_start: str | Path | None = None):
    """Train ``settings.n_members`` potentials on labelled ``frames`` and save them.

    Args:
        frames: labelled ``ase.Atoms`` (energy, and forces/stress when available).
        settings: ``TrainSettings`` or a dict of its fields.
        path: where to write the potential file (``load_potential`` reads it).
        valid_frames: explicit validation frames; default: ``valid_fraction`` of
            ``frames`` split off by ``seed``.
        checkpoint_dir: folder for per-member checkpoints (default: ``<path>.ckpt/``);
            a rerun with the same settings and data resumes from them.
        progress: show a rich progress bar (True), nothing (False), or call this
            function with a one-line status (``"member 1/4: epoch 12/200"``) after
            every epoch (a pipeline's ``ctx.progress``; the caller rate-limits).
        executor: a ``foundation.executor.Executor`` (or anything with its ``map``);
            when given, members train as its tasks, e.g. in parallel on Dask
            (``Executor(workers=4)``, ``Executor(client=client)``); otherwise one
            after the other in this process, with a progress bar.
        warm_start: a potential file (same hyperparameters) whose members are the
            starting points (member m starts from member m mod its size); its
            elements must include every element of ``frames``.

    Returns:
        The trained committee as an ASE calculator (``CommitteeCalculator``).
    """
    torch = import_engine("torch")
    from .dataset import split_frames
    from .potential import load_potential, save_potential

    s = validate_settings(settings)
    frames = list(frames)
    if len(frames) < 2:
        raise InputError(f"frames: {len(frames)} frame(s): expected at least 2 labelled frames")
    if valid_frames is None and s.valid_fraction > 0:
        train, valid = split_frames(frames, (1 - s.valid_fraction, s.valid_fraction), s.seed)
        if not valid:
            valid, train = train[:1], train[1:]
    else:
        train, valid = frames, list(valid_frames or [])
    elements = sorted({int(z) for atoms in frames + valid for z in atoms.numbers})
    inits, warm_key = [None] * s.n_members, ""
    if warm_start is not None:
        inits, elements, warm_key = _warm_start_states(warm_start, s, elements)
    train_g = frames_to_graphs(train, elements, s.cutoff)
    valid_g = frames_to_graphs(valid, elements, s.cutoff)
    data_hash = dataset_hash(frames + valid if valid_frames is not None else frames)
    path = Path(path)
    ckdir = Path(checkpoint_dir) if checkpoint_dir else path.with_name(path.name + ".ckpt")
    ckdir.mkdir(parents=True, exist_ok=True)
    jobs = [(train_g, valid_g, elements, s, m, ckdir / f"member{m}.pt",
             _settings_key(s, data_hash + warm_key, m), inits[m]) for m in range(s.n_members)]
    models, metrics = [], []
    from .model import MomentPotential

    t0 = time.perf_counter()
    if executor is not None:
        for state, met in executor.map(_member_job, jobs, desc="committee members"):
            model = MomentPotential(elements, **s.model_kwargs()).to(getattr(torch, s.dtype))
            model.load_state_dict(state)
            models.append(model)
            metrics.append(met)
    elif callable(progress):
        for *job, init in jobs:
            model, met = train_member(*job, progress=_Reporter(progress, s.n_members),
                                      init_state=init)
            models.append(model)
            metrics.append(met)
    else:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn(
                "epoch {task.completed}/{task.total}"), TimeElapsedColumn(),
                disable=not progress) as bar:
            for *job, init in jobs:
                model, met = train_member(*job, progress=bar if progress else None,
                                          init_state=init)
                models.append(model)
                metrics.append(met)
    summary = {
        "n_train": len(train), "n_valid": len(valid), "members": metrics,
        "valid_energy_mae_eV_per_atom": float(np.mean([m["energy_mae"] for m in metrics])),
        "valid_force_mae_eV_per_A": float(np.mean([m["force_mae"] for m in metrics])),
        "train_seconds": time.perf_counter() - t0,
        "settings": s.model_dump(),
    }
    save_potential(models, path, training_set_hash=data_hash, metrics=summary)
    return load_potential(path, dtype=s.dtype)
