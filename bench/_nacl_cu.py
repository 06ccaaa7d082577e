"""What the NaCl(aq) | Cu(111) benchmarks share: the data folder and the potential they run.

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
