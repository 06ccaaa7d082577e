"""atomistic.md: molecular dynamics and the time step (guide: docs/md.md).

- ``dynamics``: ``run_md``, guarded NVE / Langevin / Nose-Hoover MD with any ASE calculator.
- ``timestep``: the one time-step API: the Hessian's highest frequency, ``stable_timestep``,
  ``estimate_timestep`` (Verlet bound, committee-aware), ``nve_drift``.
- ``production``: ``run_production``, long NVT runs recorded and checkpointed in one file,
  continued after a kill on the same trajectory.
- ``applied_field``: ``UniformField``, q E on every atom on top of any calculator.
- ``dispersion``: ``D3``, Grimme's D3 (simple-dftd3) on top of any calculator.
- ``brownian``: overdamped Brownian dynamics of a primitive-model electrolyte (SI), the MD
  reference of the MD -> PNP chain.
"""
