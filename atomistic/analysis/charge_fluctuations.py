"""Differential capacitance from electrode-charge fluctuations in constant-potential MD.

At fixed electrode potential the total electrode charge Q fluctuates, and linear
response gives the integral (here: differential at the simulated potential)
capacitance per area (e.g. Scalfi et al., J. Chem. Phys. 153, 174704 (2020))::

    C = beta <dQ^2> / A,   beta = 1 / (k_B T),   dQ = Q - <Q>

Units: Q in e (ASE's charge unit), A in Angstrom^2, T in K; C is returned in
SI, F/m^2 (1 F/m^2 = 100 uF/cm^2), ready to compare with continuum's C(U).
The error bar comes from block averaging (``atomistic.analysis.block_average``): <dQ^2>
is evaluated per contiguous block about the whole-run mean (no per-block
mean-subtraction bias); C itself is the whole-run value.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .block_average import block_estimate
from ..errors import InputError

E_CHARGE = 1.602176634e-19  # C
K_B = 1.380649e-23          # J/K
ANGSTROM2 = 1e-20           # m^2


@dataclasses.dataclass(frozen=True)
class FluctuationCapacitance:
    """capacitance, stderr: F/m^2 (block standard error); variance: <dQ^2> in e^2;
    mean_charge: <Q> in e; n_blocks; block_values: (n_blocks,) F/m^2 per block;
    block_correlation: lag-1 correlation of block values (near 0 when the blocks are
    long enough to be independent; > ~0.3 means the error bar is too small);
    area: Angstrom^2; temperature: K."""
    capacitance: float
    stderr: float
    variance: float
    mean_charge: float
    n_blocks: int
    block_values: np.ndarray
    block_correlation: float
    area: float
    temperature: float

    @property
    def capacitance_uF_cm2(self) -> tuple[float, float]:
        """(C, stderr) in uF/cm^2."""
        return 100.0 * self.capacitance, 100.0 * self.stderr


def fluctuation_capacitance(charges, area: float, temperature: float, *, n_blocks: int = 10,
                            discard: int = 0) -> FluctuationCapacitance:
    """C = <dQ^2> / (k_B T A) from an electrode-charge series ``charges`` (e; shape (n_frames,)).

    area: electrode area, Angstrom^2; temperature: K; n_blocks: contiguous blocks for
    the error bar (>= 5; each should span many charge correlation times); discard:
    leading frames to drop as equilibration.
    """
    q = np.asarray(charges, dtype=float)
    if q.ndim != 1:
        raise InputError(f"charges: shape {q.shape}; expected a 1D series of total electrode charge (e)")
    if not np.all(np.isfinite(q)):
        raise InputError("charges: non-finite values; expected finite e")
    if not (np.isfinite(area) and area > 0):
        raise InputError(f"area: {area!r}; expected a positive electrode area in Angstrom^2")
    if not (np.isfinite(temperature) and temperature > 0):
        raise InputError(f"temperature: {temperature!r}; expected a positive K")
    if int(discard) != discard or not 0 <= discard < len(q):
        raise InputError(f"discard: {discard!r}; expected an integer in [0, {len(q)})")
    q = q[int(discard):]
    qbar = q.mean()
    to_si = E_CHARGE ** 2 / (K_B * temperature * area * ANGSTROM2)  # e^2 / (kT A) -> F/m^2
    est = block_estimate(q, lambda b: np.mean((b - qbar) ** 2) * to_si, n_blocks, min_block=10, name="charges")
    var = float(np.mean((q - qbar) ** 2))
    return FluctuationCapacitance(capacitance=var * to_si, stderr=est.stderr, variance=var, mean_charge=float(qbar),
                                  n_blocks=int(n_blocks), block_values=est.values,
                                  block_correlation=est.block_correlation, area=float(area),
                                  temperature=float(temperature))
