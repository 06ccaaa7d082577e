"""What the NaCl(aq) | Cu(111) benchmarks share: the data folder, the potential they run, the
starting configurations (``universal_start``), the bulk MD protocol
(``equilibrate_and_produce``) and the measures of whether water is still liquid
(``water_msd``, ``liquid_msd``, ``arrest_measures``).

The potential is the shipped one (data/nacl_cu/potential.mlip.pt), or a candidate committee
given by ``ELECTROLYTE_POTENTIAL=path``: a benchmark tries a candidate before it is shipped
and records nothing for it.
"""
import os
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "nacl_cu"
CANDIDATE = os.environ.get("ELECTROLYTE_POTENTIAL")
POTENTIAL = Path(CANDIDATE).resolve() if CANDIDATE else DATA / "potential.mlip.pt"


def campaign_trust() -> tuple[float, float]:
    """(trust_lo, trust_hi) in eV/A: the campaign's trust levels (data/nacl_cu/learn.toml),
    against which every NaCl/Cu production reads the committee's max_force_dev."""
    with open(DATA / "learn.toml", "rb") as fh:
        s = tomllib.load(fh)["settings"]
    return float(s["trust_lo"]), float(s["trust_hi"])


def shown(path: Path) -> Path:
    """A path as a report names it: relative to the repository where it lies inside it."""
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def water_msd(x, frame_dt_fs: float, lag_ps: float) -> float:
    """Mean square displacement (A^2) of positions ``x`` (frames, atoms, 3) at ``lag_ps``,
    over every time origin; nan when the stretch is no longer than the lag. ``x``: a
    production's water O, ``Production.com_free_positions()[:, oxygens]``."""
    k = int(round(lag_ps * 1000 / frame_dt_fs))
    if len(x) <= k:
        return float("nan")
    return float(((x[k:] - x[:-k]) ** 2).sum(-1).mean())


def liquid_msd(prod) -> tuple:
    """Is a water production still liquid? (1 ps MSD of water O in the first half, in the last
    half, the whole run's MSD at 1 and 2 ps, A^2, centre of mass removed). Halves, not
    fifths: over a 5 ps run a fifth is no longer than the 1 ps lag."""
    x = prod.com_free_positions()[:, [i for i, s in enumerate(prod.symbols) if s == "O"]]
    n = len(x) // 2
    half = [water_msd(p, prod.frame_dt_fs, 1.0) for p in (x[:n], x[-n:])]
    whole = [water_msd(x, prod.frame_dt_fs, lag) for lag in (1.0, 2.0)]
    return (*half, *whole)


def arrest_measures(prod) -> tuple:
    """``liquid_msd`` and the O-O g(r) first peak's r (A) and g."""
    import numpy as np

    from atomistic.analysis.rdf import rdf

    g = rdf(prod.frames(every=4), 0.49 * prod.cell[0, 0], n_bins=60, pair=("O", "O"), n_blocks=5)
    i = int(np.argmax(g.g))
    return (*liquid_msd(prod), float(g.r[i]), float(g.g[i]))


def universal_start(packed, path: Path, t_k: float, ps: float, dt_fs: float = 0.5) -> str:
    """The cell ``packed()`` makes after ``ps`` of CHGNet Langevin at ``t_k`` (friction
    0.01/fs, seed 0, one torch thread), cached in ``path`` (extxyz, with its momenta;
    ``packed`` is called only when the file is missing); returns the path. The universal potential as the tool that makes starting configurations: the
    committees leave their trust on packed cells (overlaps no campaign frame has), not on the
    liquid made from them."""
    import numpy as np
    import torch

    torch.set_num_threads(1)
    from ase import units
    from ase.io import read, write
    from ase.md.langevin import Langevin

    from atomistic.md.velocities import thermalize
    from atomistic.universal import universal_calculator
    from foundation.files import atomic_path

    if not path.is_file():
        atoms = packed()
        atoms.calc = universal_calculator()
        rng = np.random.default_rng(0)
        thermalize(atoms, t_k, rng=rng)
        Langevin(atoms, dt_fs * units.fs, temperature_K=t_k, friction=0.01 / units.fs,
                 rng=rng).run(int(ps * 1000 / dt_fs))
        with atomic_path(path) as tmp:
            write(tmp, atoms, format="extxyz")
    read(path)   # a readable file, or the error here
    return str(path)


def equilibrate_and_produce(atoms, calc, out: Path, name: str, t_k: float, eq_ps: float,
                            prod_ps: float, dt_fs: float = 0.5, record_every: int = 10):
    """The NaCl/Cu benchmarks' bulk protocol: ``eq_ps`` of Langevin (0.01/fs, seed 1), then
    ``prod_ps`` of Bussi NVT (tau 100 fs, seed 2), under the campaign's trust guard (trust_hi
    for 10 recorded frames); out/<name>_eq.npz and out/<name>.npz, resumed after a kill.
    Returns (Production, None), or (None, why it stopped): a stop is a measured outcome."""
    import time

    from atomistic.md.guards import MDBlowUp
    from atomistic.md.production import run_production

    guard = dict(trust_limit=campaign_trust()[1], trust_patience=10)
    t0 = time.perf_counter()

    def say(done, total):
        print(f"{name}: {done}/{total} steps ({time.perf_counter() - t0:.0f} s)", flush=True)

    try:
        run_production(atoms, calc, out / f"{name}_eq.npz", steps=int(eq_ps * 1000 / dt_fs),
                       timestep_fs=dt_fs, temperature_K=t_k, thermostat="langevin",
                       friction=0.01, record_every=record_every,
                       checkpoint_every=20 * record_every, seed=1, **guard)
        return run_production(atoms, calc, out / f"{name}.npz", steps=int(prod_ps * 1000 / dt_fs),
                              timestep_fs=dt_fs, temperature_K=t_k, thermostat="bussi",
                              taut_fs=100.0, record_every=record_every,
                              checkpoint_every=100 * record_every, seed=2, progress=say,
                              **guard), None
    except MDBlowUp as exc:
        return None, str(exc)
