"""Calculator specs: the strings ``--calc`` and run configs use to name an ASE calculator.

- ``emt``: ASE's EMT.
- ``emt-committee`` (or ``emt-committee:N``): N perturbed-EMT members
  (``atomistic.emt_committee``), for error bars without a trained model.
- ``gpaw``: GPAW LCAO (PBE, dzp, a small k-mesh); slow, keep the cell tiny.
- ``mlip:PATH``: a trained committee from ``atomistic.load_potential``.
"""
from __future__ import annotations

from .errors import InputError

__all__ = ["make_calculator"]


def make_calculator(spec: str):
    """An ASE calculator from a spec string (see module doc)."""
    if spec == "emt":
        from ase.calculators.emt import EMT

        return EMT()
    if spec.startswith("emt-committee"):
        from atomistic.emt_committee import EMTCommittee

        n = int(spec.split(":", 1)[1]) if ":" in spec else 5
        return EMTCommittee(n_members=n)
    if spec == "gpaw":
        from foundation.engines import engine_importer

        from .errors import EngineMissingError

        gpaw = engine_importer(EngineMissingError)("gpaw")
        return gpaw.GPAW(mode="lcao", basis="dzp", xc="PBE", kpts=(4, 4, 4), txt=None,
                         occupations={"name": "fermi-dirac", "width": 0.1})
    if spec.startswith("mlip:"):
        from atomistic.mlip.potential import load_potential

        return load_potential(spec.split(":", 1)[1])
    raise InputError(f"calc = {spec!r}: expected 'emt', 'emt-committee[:N]', 'gpaw' or 'mlip:PATH'")
