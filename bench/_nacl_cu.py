"""What the NaCl(aq) | Cu(111) benchmarks share: the data folder and the potential they run.

The potential is the shipped one (data/nacl_cu/potential.mlip.pt), or a candidate committee
given by ``ELECTROLYTE_POTENTIAL=path``: a benchmark tries a candidate before it is shipped
and records nothing for it.
"""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "nacl_cu"
CANDIDATE = os.environ.get("ELECTROLYTE_POTENTIAL")
POTENTIAL = Path(CANDIDATE).resolve() if CANDIDATE else DATA / "potential.mlip.pt"
