"""Stage ``hybrid_md``: NVE molecular dynamics with a high-level region inside a low-level system.

The system is an fcc metal supercell; the high-level region is a sphere around one
atom (moving with it), switched smoothly to the low level over a shell
(``couplers.HybridCalculator``). High level: EMT (seconds) or GPAW LCAO (minutes).
Low level: the MLIP committee of a ``mlip_train`` stage named in ``needs``, or EMT
with perturbed parameters (a stand-in for a potential fitted to the high level), or
Lennard-Jones fitted to Cu (a deliberately different one). Writes the trajectory
(every frame carries the region state), a JSON record of the time split, and the
weights / forces / energy-vs-time figure.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ..config import Quantity, StageParams, stage_kind


class HybridMDParams(StageParams):
    element: str = "Cu"
    size: int = Field(3, ge=2, le=8, description="fcc conventional cells per edge")
    high: Literal["emt", "gpaw"] = "emt"
    low: Literal["mlip", "perturbed_emt", "lj"] = "perturbed_emt"
    low_spread: float = Field(0.02, ge=0, le=0.2, description="perturbed_emt: relative "
                              "parameter perturbation (standard deviation)")
    gpaw_basis: str = "sz(dzp)"
    gpaw_h: Quantity("angstrom", gt=0.1, le=0.4) = 0.3
    gpaw_xc: str = "LDA"
    mode: Literal["force", "energy"] = "force"
    switch: Literal["quintic", "septic", "cosine", "cubic", "linear", "abrupt"] = "quintic"
    centre_atom: int = Field(0, ge=0, description="the region is a sphere around this atom")
    r_inner: Quantity("angstrom", ge=0) = 2.0
    r_outer: Quantity("angstrom", ge=0) = 3.0
    buffer: Quantity("angstrom", ge=0) = 2.0
    hysteresis: Quantity("angstrom", ge=0) = 0.2
    temperature: Quantity("K", gt=0) = 600.0
    timestep: Quantity("fs", gt=0, le=10) = 2.0
    steps: int = Field(100, ge=2, le=1_000_000)

    @model_validator(mode="after")
    def _check(self):
        if self.r_outer < self.r_inner:
            raise ValueError(f"r_outer = {self.r_outer} A < r_inner = {self.r_inner} A: expected "
                             "r_inner <= r_outer")
        if self.buffer < self.r_outer - self.r_inner:
            raise ValueError(f"buffer = {self.buffer} A is narrower than the switching shell "
                             f"({self.r_outer - self.r_inner} A): expected buffer >= r_outer - r_inner")
        if self.low == "mlip" and len(self.needs) != 1:
            raise ValueError("low = 'mlip' needs exactly one mlip_train stage in 'needs'")
        return self


def _low(ctx):
    p = ctx.params
    if p.low == "mlip":
        from atomistic.mlip.potential import load_potential

        (train,) = p.needs
        if "potential" not in ctx.inputs[train]:
            from ..errors import InputError

            raise InputError(f"stage.{ctx.name}.needs: {train!r} has no 'potential' output: "
                             "expected an mlip_train stage")
        return load_potential(ctx.input_dirs[train] / ctx.inputs[train]["potential"])
    if p.low == "lj":
        from ase.calculators.lj import LennardJones

        # Lennard-Jones fitted to Cu (cohesive energy and lattice constant)
        return LennardJones(epsilon=0.4093, sigma=2.338, rc=5.5, ro=4.5, smooth=True)
    import numpy as np
    from ase.calculators.emt import parameters

    from atomistic.emt_committee import PerturbedEMT

    rng = np.random.default_rng(ctx.seed)
    factors = 1 + p.low_spread * rng.standard_normal(7)
    return PerturbedEMT({p.element: tuple(np.asarray(parameters[p.element]) * factors)})


def _high(p):
    if p.high == "gpaw":
        from gpaw import GPAW

        # symmetry off: a cluster that is symmetric at step 0 (perfect lattice) is not later
        return GPAW(mode="lcao", basis=p.gpaw_basis, h=p.gpaw_h, xc=p.gpaw_xc, txt=None,
                    symmetry="off",
                    occupations={"name": "fermi-dirac", "width": 0.1})
    from ase.calculators.emt import EMT

    return EMT()


@stage_kind("hybrid_md", HybridMDParams)
def hybrid_md(ctx) -> dict:
    import json

    import numpy as np
    from ase import units
    from ase.build import bulk
    from ase.io.trajectory import Trajectory
    from ase.md.velocitydistribution import thermalize_momenta
    from ase.md.verlet import VelocityVerlet

    from couplers import HybridCalculator
    from couplers.qmml_trace import HybridTrace
    from couplers.regions import SphereRegion

    from foundation.files import write_text
    from ..errors import InputError

    p = ctx.params
    atoms = bulk(p.element, "fcc", cubic=True).repeat((p.size,) * 3)
    if p.centre_atom >= len(atoms):
        raise InputError(f"stage.{ctx.name}.centre_atom: {p.centre_atom}: expected an index "
                         f"below {len(atoms)} (atoms in the supercell)")
    calc = HybridCalculator(_high(p), _low(ctx),
                            SphereRegion(p.r_inner, p.r_outer, atoms=[p.centre_atom],
                                         hysteresis=p.hysteresis),
                            switch=p.switch, buffer=p.buffer, mode=p.mode, vacuum=3.0,
                            grid_spacing=p.gpaw_h if p.high == "gpaw" else None)
    atoms.calc = calc
    dyn = VelocityVerlet(atoms, p.timestep * units.fs)
    trace = HybridTrace(calc, atoms, dyn)
    path = ctx.dir / "hybrid_md.traj"
    saved = ctx.load_checkpoint()
    if saved is None:
        thermalize_momenta(atoms, p.temperature, rng=np.random.default_rng(ctx.seed))
        path.unlink(missing_ok=True)
    else:
        _resume(ctx, saved, atoms, calc, dyn, trace, path)
    every = max(1, p.steps // 50)   # steps between checkpoints
    with Trajectory(str(path), "a", atoms) as traj:
        def step():
            trace.record()
            traj.write()

        dyn.attach(step, interval=1)  # ASE also calls it once before the first step (not on resume)
        ctx.progress(f"{p.steps} NVE steps, {p.high} in {p.low}, {p.mode} mode")
        while dyn.nsteps < p.steps:
            ctx.progress(f"NVE step {dyn.nsteps}/{p.steps}")
            dyn.run(min(every, p.steps - dyn.nsteps))
            _checkpoint(ctx, atoms, calc, dyn, trace, path)
    s = trace.summary()
    trace.plot(ctx.dir / "hybrid_md.png",
               title=f"{p.high} region in {p.low} ({p.mode} mode, {p.switch})")
    write_text(ctx.dir / "timings.json", json.dumps(calc.timings))
    info = calc.step_info
    headline = {
        "hybrid MD": f"{len(atoms)} atoms, {p.steps} x {p.timestep:g} fs NVE, cluster "
                     f"{info['n_cluster']} atoms ({info['n_core']} fully high-level)",
        "time per step": f"high {s['t_high_s']:.3g} s, low {s['t_low_s']:.3g} s",
        "drift of E_kin + E": f"{s['etot_drift_eV_per_ps']:+.3g} eV/ps",
    }
    if "weighted_drift_eV_per_ps" in s:
        headline["boundary flux d(E_kin + E_w)/dt"] = f"{s['weighted_drift_eV_per_ps']:+.3g} eV/ps"
    return {**s, "trajectory": "hybrid_md.traj", "timings": "timings.json",
            "n_cluster": int(info["n_cluster"]), "region_history": calc.region.history,
            "figures": ["hybrid_md.png"], "headline": headline}


# Checkpoints (issue 18): after every chunk of steps the stage's folder gets positions, momenta,
# the step count, the calculator's state (region membership with its hysteresis and history,
# mixing work), its timings and the HybridTrace record; the trajectory holds one frame per step
# so far (step 0 included). A resumed stage cuts the trajectory back to the checkpoint's frames
# and continues. Velocity Verlet is deterministic, so with EMT (or any calculator that is a pure
# function of the positions) the resumed run is the uninterrupted one. GPAW restarts cold: its
# wave functions are not checkpointed (they are large, tied to the cluster's grid and the MPI
# layout), so the first SCF after a resume starts from scratch at the checkpointed positions and
# the trajectory agrees with an uninterrupted one to the SCF tolerance, not bit for bit.

_TIMED = ("step", "t_low", "t_high", "t_cluster")   # calc.timings entries, in the checkpoint


def _checkpoint(ctx, atoms, calc, dyn, trace, path):
    import numpy as np

    from foundation.files import fsync_path

    from ..ranks import world

    if world().root:       # the frames so far reach the disk before the checkpoint that counts them
        fsync_path(path)
    timings = np.array([[t[k] for k in _TIMED] for t in calc.timings], dtype=float)
    ctx.save_checkpoint({"nsteps": dyn.nsteps, "calc": calc.state()},
                        {"positions": atoms.get_positions(), "momenta": atoms.get_momenta(),
                         "timings": timings.reshape(-1, len(_TIMED)),
                         **{f"trace_{k}": v for k, v in trace.state().items()}})


def _resume(ctx, saved, atoms, calc, dyn, trace, path):
    from ase.io.trajectory import Trajectory

    from foundation.files import atomic_path

    from ..ranks import world

    meta, arr = saved
    dyn.nsteps = int(meta["nsteps"])
    frames = dyn.nsteps + 1
    if world().root:       # drop the frames written after the checkpoint
        with Trajectory(str(path)) as old:
            if len(old) < frames:
                raise RuntimeError(f"{path}: {len(old)} frames, the checkpoint expects {frames}; "
                                   f"delete {ctx.dir} to start the stage over")
            with atomic_path(path) as tmp, Trajectory(str(tmp), "w") as new:
                for k in range(frames):
                    new.write(old[k])
    atoms.set_positions(arr["positions"])
    atoms.set_momenta(arr["momenta"])
    trace.load_state({k[len("trace_"):]: v for k, v in arr.items() if k.startswith("trace_")})
    # A fresh calculator holds no forces: the checkpointed frame is computed once more (and timed
    # again) under the step number it had, so step numbers, region history and mixing work go on
    # exactly as in an uninterrupted run (membership with hysteresis is idempotent on one frame).
    calc.load_state({**meta["calc"], "step": meta["calc"]["step"] - 1})
    calc.timings = [{"step": int(row[0]), **dict(zip(_TIMED[1:], map(float, row[1:])))}
                    for row in arr["timings"][:-1]]
    atoms.get_forces()
    ctx.progress(f"resumed at NVE step {dyn.nsteps}/{ctx.params.steps} from the checkpoint")
