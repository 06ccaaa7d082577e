"""Stages of the learned-potential branch: reference data -> committee -> MD with uncertainty.

- ``mlip_data``: reference frames written to ``frames.extxyz``: either stored labelled
  frames (``file``, e.g. the GPAW NaCl/Cu dataset, optionally ``frames`` of them spread
  evenly over the file), or EMT-labelled frames of an fcc metal made on the spot (rattled
  and strained cells, Langevin MD snapshots at several temperatures).
- ``mlip_train``: a committee trained on them (``potential.mlip.pt``).
- ``mlip_md``: Langevin MD driven by the committee, with the committee's force
  disagreement along the trajectory and an honest check of the potential on frames it
  never saw: held-out labelled frames (``check_file``, e.g. GPAW's) or, for the EMT
  metal, EMT on the MD's own frames. The start is an fcc cell of ``element`` or the
  frame ``start_frame`` of ``start_file``.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from ..config import StageParams, refuse_large, stage_kind

# Size limits (lift one with ``allow_large = true`` in the stage's table); README "Size limits".
DATA_ATOM_STEPS_LIMIT = 1e8      # mlip_data: EMT force calls x atoms (labels and MD steps)
TRAIN_EPOCHS_LIMIT = 2e4         # mlip_train: members x epochs
TRAIN_FRAME_EPOCHS_LIMIT = 1e7   # mlip_train: members x epochs x frames (checked once frames are read)
MD_ATOM_STEPS_LIMIT = 1e7        # mlip_md: MD steps x atoms with the committee


class MLIPDataParams(StageParams):
    file: str | None = Field(None, description="stored labelled frames (extxyz with energies "
                             "and forces); when given, the EMT settings below are not used")
    frames: int | None = Field(None, ge=1, le=10 ** 6, description="with file: this many "
                               "frames, spread evenly over the file (None: all)")
    first: int | None = Field(None, ge=1, le=10 ** 7, description="with file: only its first "
                              "this many frames (an append-only file that grows, like a "
                              "running campaign's, then gives the same frames; None: all)")
    element: str = "Cu"
    calculator: Literal["emt"] = "emt"
    size: int = Field(2, ge=1, le=4, description="fcc conventional cells per edge")
    rattled: int = Field(20, ge=0, le=100_000, description="rattled + strained cells")
    temperatures_K: list[Annotated[float, Field(gt=0, allow_inf_nan=False)]] = Field(
        default_factory=lambda: [300.0, 1000.0], max_length=100)   # Langevin needs T > 0 K
    frames_per_temperature: int = Field(20, ge=0, le=100_000)
    interval: int = Field(10, ge=1, le=100_000, description="MD steps between snapshots")

    def estimates(self):
        if self.file is not None:
            return []
        atoms = 4 * self.size ** 3
        calls = self.rattled + len(self.temperatures_K) * self.frames_per_temperature * self.interval
        return [("EMT atom-steps (frames and MD steps x atoms)", float(calls * atoms),
                 DATA_ATOM_STEPS_LIMIT)]


@stage_kind("mlip_data", MLIPDataParams)
def mlip_data(ctx) -> dict:
    from ase.build import bulk
    from ase.calculators.emt import EMT

    from atomistic.mlip.dataset import read_frames, write_frames
    from foundation.files import write_text
    from atomistic.mlip.reference_frames import langevin_frames, rattled_fcc

    p = ctx.params
    if p.file is not None:
        return _stored_frames(ctx)
    start = bulk(p.element, "fcc", cubic=True).repeat((p.size,) * 3)
    # Each batch of labelled frames is committed (atomically) to parts/ as soon as it is done;
    # a resumed stage reads the batches it already has instead of labelling them again.
    parts = ctx.dir / "parts"
    parts.mkdir(exist_ok=True)
    jobs = [("rattled", "rattled and strained cells",
             lambda: rattled_fcc(p.element, EMT(), p.rattled, size=(p.size,) * 3, seed=ctx.seed))]
    jobs += [(f"T{k}", f"Langevin frames at {T:.0f} K",
              lambda k=k, T=T: langevin_frames(start, EMT(), T, p.frames_per_temperature,
                                               interval=p.interval, seed=ctx.seed + 1 + k))
             for k, T in enumerate(p.temperatures_K)]
    frames = []
    for n, (tag, what, make) in enumerate(jobs):
        part = parts / f"{tag}.extxyz"
        if part.is_file():
            ctx.progress(f"batch {n + 1}/{len(jobs)}: {what}: kept from the interrupted attempt")
            frames += read_frames(part) if part.stat().st_size else []
            continue
        ctx.progress(f"batch {n + 1}/{len(jobs)}: {what}")
        batch = make()
        if batch:
            write_frames(batch, part)
        else:
            write_text(part, "")
        frames += batch
    write_frames(frames, ctx.dir / "frames.extxyz")
    return {"frames": "frames.extxyz", "n_frames": len(frames), "atoms_per_frame": len(start),
            "headline": {"reference frames": f"{len(frames)} EMT-labelled {p.element} cells of "
                                              f"{len(start)} atoms"}}


def _stored_frames(ctx) -> dict:
    import numpy as np

    from atomistic.mlip.dataset import read_frames, write_frames

    p = ctx.params
    path = ctx.resolve(p.file)
    frames = read_frames(path)   # names the file and the frame when labels are missing
    if p.first is not None:
        if p.first > len(frames):
            from ..config import ConfigError

            raise ConfigError(f"stage.{ctx.name}.first: {p.first} frames of {path}, which "
                              f"holds {len(frames)}; expected at most {len(frames)}")
        frames = frames[:p.first]
    total = len(frames)
    if p.frames is not None and p.frames < total:
        # evenly spread, not the first n: a campaign's file is in the order it was labelled,
        # and its first frames are the rattled starting cells
        frames = [frames[int(k)] for k in np.linspace(0, total - 1, p.frames).round()]
    write_frames(frames, ctx.dir / "frames.extxyz")
    formulas = sorted({a.get_chemical_formula() for a in frames})
    return {"frames": "frames.extxyz", "n_frames": len(frames),
            "atoms_per_frame": int(np.median([len(a) for a in frames])),
            "headline": {"reference frames": f"{len(frames)} of the "
                                              f"{'first ' if p.first else ''}{total} labelled "
                                              f"frames of {p.file} ({', '.join(formulas[:4])}"
                                              f"{', ...' if len(formulas) > 4 else ''})"}}


class MLIPTrainParams(StageParams):
    settings: dict[str, Any] = Field(default_factory=dict,
                                     description="atomistic.mlip.training.TrainSettings fields")

    def _settings(self, where: str, prefix: str):
        from atomistic.mlip.training import TrainSettings

        from ..config import validate_section

        return validate_section(TrainSettings, self.settings, where, prefix)

    def check_settings(self, where, prefix):
        self._settings(where, prefix)

    def estimates(self):
        s = self._settings("<config>", "settings")
        return [("member-epochs (n_members x epochs)", float(s.n_members * s.epochs),
                 TRAIN_EPOCHS_LIMIT)]


@stage_kind("mlip_train", MLIPTrainParams)
def mlip_train(ctx) -> dict:
    from atomistic.mlip.dataset import read_frames
    from atomistic.mlip.training import TrainSettings, train_committee

    from ..config import validate_section

    (data,) = ctx.params.needs
    settings = validate_section(TrainSettings, {"seed": ctx.seed, **ctx.params.settings},
                                str(ctx.config.source or "<config>"), f"stage.{ctx.name}.settings")
    frames = read_frames(ctx.input_dirs[data] / ctx.inputs[data]["frames"])
    refuse_large(ctx.params, str(ctx.config.source or "<config>"), f"stage.{ctx.name}",
                 [("frame-epochs (n_members x epochs x frames)",
                   float(settings.n_members * settings.epochs * len(frames)), TRAIN_FRAME_EPOCHS_LIMIT)])
    # checkpoints live in the stage's folder: a killed run resumes finished members and epochs
    calc = train_committee(frames, settings, path=ctx.dir / "potential.mlip.pt",
                           checkpoint_dir=ctx.dir / "checkpoints", progress=ctx.progress)
    metrics = dict(getattr(calc, "metadata", {}).get("metrics", {}) or {})
    return {"potential": "potential.mlip.pt", "members": settings.n_members, "metrics": metrics,
            "headline": {"committee": f"{settings.n_members} members trained on {len(frames)} frames"}}


class MLIPMDParams(StageParams):
    potential_file: str | None = Field(None, description="a stored potential (.mlip.pt, e.g. "
                                       "data/nacl_cu/potential.mlip.pt) instead of the one "
                                       "an mlip_train stage in `needs` made")
    element: str = "Cu"
    temperature_K: float = Field(600.0, gt=0)
    steps: int = Field(200, ge=10, le=10 ** 9)
    timestep_fs: float = Field(2.0, gt=0, le=10)
    size: int = Field(3, ge=1, le=6, description="fcc conventional cells per edge")
    start_file: str | None = Field(None, description="start from a frame of this file "
                                   "(extxyz) instead of an fcc cell of element x size")
    start_frame: int = Field(0, description="which frame of start_file (Python index)")
    check_file: str | None = Field(None, description="held-out labelled frames (extxyz) "
                                   "to check the potential against, instead of re-labelling "
                                   "MD frames with EMT (which knows only a few metals)")
    check_frames: int = Field(5, ge=1, le=1000,
                              description="MD frames re-labelled with EMT to check the potential")

    @model_validator(mode="after")
    def _one_potential(self):
        if (self.potential_file is None) == (len(self.needs) != 1):
            raise ValueError("expected either potential_file or needs = [one mlip_train stage], "
                             f"not {'both' if self.potential_file else 'neither'} (needs = "
                             f"{self.needs})")
        return self

    def estimates(self):
        atoms = 100 if self.start_file is not None else 4 * self.size ** 3   # a typical cell
        return [("MD atom-steps (steps x atoms)", float(self.steps * atoms), MD_ATOM_STEPS_LIMIT)]


@stage_kind("mlip_md", MLIPMDParams)
def mlip_md(ctx) -> dict:
    import numpy as np
    from ase.build import bulk
    from ase.calculators.emt import EMT
    from ase.md.langevin import Langevin
    from atomistic.md.velocities import thermalize
    from ase import units

    from atomistic.mlip.potential import load_potential

    p = ctx.params
    if p.potential_file is not None:
        calc = load_potential(ctx.resolve(p.potential_file))
    else:
        (train,) = p.needs
        calc = load_potential(ctx.input_dirs[train] / ctx.inputs[train]["potential"])
    if p.start_file is not None:
        from ase.io import read

        from ..config import ConfigError

        path = ctx.resolve(p.start_file)
        try:
            frames = read(path, index=":")
        except (OSError, ValueError, StopIteration) as exc:
            raise ConfigError(f"stage.{ctx.name}.start_file: {path} could not be read "
                              f"({type(exc).__name__}: {exc}); expected an extxyz file") from None
        if not -len(frames) <= p.start_frame < len(frames):
            raise ConfigError(f"stage.{ctx.name}.start_frame: frame {p.start_frame} of {path}, "
                              f"which holds {len(frames)}; expected an index in "
                              f"[{-len(frames)}, {len(frames) - 1}]")
        atoms = frames[p.start_frame]
        atoms.calc = None
    else:
        atoms = bulk(p.element, "fcc", cubic=True).repeat((p.size,) * 3)
    atoms.calc = calc
    rng = np.random.default_rng(ctx.seed)
    every = max(1, p.steps // 50)
    chunks = max(1, p.steps // every)
    check = set(np.linspace(chunks // 2, chunks - 1, p.check_frames).astype(int).tolist())
    # After every chunk the whole state goes to a checkpoint in the stage's folder (kept across a
    # kill, under the stage's key): positions, momenta, the thermostat's random stream and what
    # the stage has gathered. A resumed stage continues from there, and the trajectory is the
    # one an uninterrupted run makes (the committee is a pure function of the positions).
    saved = ctx.load_checkpoint()
    if saved is None:
        thermalize(atoms, p.temperature_K, rng=rng)
        done, times, dev, temps, snaps = 0, [], [], [], []
    else:
        meta, arr = saved
        atoms.set_positions(arr["positions"])
        atoms.set_momenta(arr["momenta"])
        rng.bit_generator.state = meta["rng"]
        done = int(meta["chunks"])
        times, dev, temps = (arr[k].tolist() for k in ("times", "dev", "temps"))
        snaps = list(zip(arr["snap_positions"], arr["snap_forces"]))
        ctx.progress(f"resumed at MD step {done * every}/{chunks * every} from the checkpoint")
    dyn = Langevin(atoms, p.timestep_fs * units.fs, temperature_K=p.temperature_K,
                   friction=0.02 / units.fs,
                   fixcm=False, rng=rng)
    dyn.nsteps = done * every
    ctx.progress(f"{chunks * every} Langevin steps at {p.temperature_K:.0f} K")
    for k in range(done, chunks):
        ctx.progress(f"MD step {k * every}/{chunks * every}")
        dyn.run(every)
        times.append(dyn.nsteps * p.timestep_fs)
        dev.append(float(calc.get_property("max_force_dev", atoms)))
        temps.append(float(atoms.get_temperature()))
        if k in check:
            snaps.append((atoms.get_positions(), atoms.get_forces().copy()))
        shape = (len(snaps), len(atoms), 3)
        ctx.save_checkpoint({"chunks": k + 1, "rng": rng.bit_generator.state}, {
            "positions": atoms.get_positions(), "momenta": atoms.get_momenta(),
            "times": np.asarray(times), "dev": np.asarray(dev), "temps": np.asarray(temps),
            "snap_positions": np.reshape([s[0] for s in snaps], shape),
            "snap_forces": np.reshape([s[1] for s in snaps], shape)})
    if p.check_file is not None:
        # Honest check: labelled frames the potential never saw (a held-out set)
        from atomistic.mlip.dataset import read_frames

        held_out = read_frames(ctx.resolve(p.check_file))
        err, err_atom = [], []
        for frame in held_out:
            ref = frame.get_forces()
            probe = frame.copy()
            probe.calc = calc
            diff = probe.get_forces() - ref
            err.append(np.abs(diff).mean())
            err_atom.append(np.linalg.norm(diff, axis=1).mean())
        check = (f"MLIP vs the {len(held_out)} held-out frames of {p.check_file}",
                 "force MAE {:.1f} meV/A per component, "
                 f"{np.mean(err_atom) * 1000:.1f} meV/A per atom (|dF|)")
    else:
        # Honest check: the reference calculator on frames the potential generated.
        err = []
        for positions, f_ml in snaps:
            snap = atoms.copy()
            snap.set_positions(positions)
            snap.calc = EMT()
            err.append(np.abs(snap.get_forces() - f_ml).mean())
        check = ("MLIP vs EMT on its own MD frames", "force MAE {:.1f} meV/A")
    mae = float(np.mean(err)) * 1000 if err else float("nan")
    _plot(ctx.dir / "md_uncertainty.png", times, dev, temps, p.temperature_K)
    return {"force_mae_vs_reference_meV_per_A": mae, "max_force_dev_mean": float(np.mean(dev)),
            "max_force_dev_max": float(np.max(dev)), "mean_temperature_K": float(np.mean(temps)),
            "figures": ["md_uncertainty.png"],
            "headline": {"MLIP MD": f"{len(atoms)} atoms, {p.steps} steps at {p.temperature_K:.0f} K, "
                                    f"committee max force deviation {np.mean(dev)*1000:.0f} meV/A "
                                    f"on average",
                         check[0]: check[1].format(mae)}}


def _plot(path, times, dev, temps, target):
    from matplotlib.figure import Figure

    from foundation.files import save_figure

    fig = Figure(figsize=(6, 5))
    a, b = fig.subplots(2, 1, sharex=True)
    a.plot(times, [d * 1000 for d in dev])
    a.set_ylabel("max force deviation\n(meV/Å)")
    b.plot(times, temps)
    b.axhline(target, color="k", lw=0.8, ls="--")
    b.set_ylabel("T (K)")
    b.set_xlabel("time (fs)")
    fig.tight_layout()
    save_figure(fig, path, dpi=120)
