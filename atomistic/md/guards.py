"""What keeps MD honest: ``MDBlowUp`` and the checks that raise it.

A ``BlowUpGuard`` looks at a running trajectory (``check(atoms, step)``, every
``check_every`` steps in ``run_md``): non-finite energies, forces or positions,
an NVE total-energy drift beyond ``max_drift_eV_per_atom`` (eV/atom, against
the first check), or a kinetic temperature above ``max_temperature_K`` raise
``MDBlowUp`` naming the step and the time step, instead of integrating silent NaNs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import CalculationFailed


class MDBlowUp(CalculationFailed):
    """The dynamics left physical territory (NaN, runaway energy or temperature)."""


@dataclass
class BlowUpGuard:
    """The blow-up checks of one run; ``max_drift_eV_per_atom=None`` checks no drift (thermostats)."""

    timestep_fs: float
    max_temperature_K: float
    max_drift_eV_per_atom: float | None = None
    _e0: float | None = None

    def check(self, atoms, step: int) -> tuple[float, float, float]:
        """(potential, total energy per atom (eV), temperature (K)) at ``step``, or ``MDBlowUp``."""
        epot = atoms.get_potential_energy()
        ekin = atoms.get_kinetic_energy()
        temp = atoms.get_temperature()
        dt = self.timestep_fs
        if not (np.isfinite(epot) and np.isfinite(ekin) and np.all(np.isfinite(atoms.positions))
                and np.all(np.isfinite(atoms.get_forces()))):
            raise MDBlowUp(f"step {step}: non-finite energy, forces or positions "
                           f"(time step {dt:.3g} fs; try a smaller one)")
        n = len(atoms)
        etot = (epot + ekin) / n
        if self._e0 is None:
            self._e0 = etot
        if self.max_drift_eV_per_atom is not None and \
                abs(etot - self._e0) > self.max_drift_eV_per_atom:
            raise MDBlowUp(f"step {step}: total energy drifted by {etot - self._e0:+.4g} eV/atom "
                           f"(bound {self.max_drift_eV_per_atom} eV/atom; time step {dt:.3g} fs)")
        if temp > self.max_temperature_K:
            raise MDBlowUp(f"step {step}: temperature {temp:.4g} K exceeds "
                           f"{self.max_temperature_K:.4g} K (time step {dt:.3g} fs)")
        return epot / n, etot, temp
