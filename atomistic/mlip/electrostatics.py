"""Predicted atomic charges and their long-range electrostatic energy.

A potential built with ``charges=True`` (``MomentPotential``) adds to its
short-range energy

    E_lr = (k_e / 2) sum_k (4 pi / V k^2) exp(-sigma^2 k^2 / 2) |sum_i q_i exp(i k.r_i)|^2
           - self terms

the Ewald reciprocal-space energy of Gaussian charges of width ``smearing``
(sigma, A) on every atom: the part of the Coulomb energy that is smooth
beyond ~3 sigma and that no finite cutoff can see. The short-range remainder
(erfc(r / sqrt(2) sigma) / r, gone by ~4 A at sigma = 1 A) is left to the
network's cutoff. This is the split of Cheng's latent Ewald summation
(npj Comput. Mater. 2025); here the charges are in addition trained on
reference charges (GPAW Hirshfeld) when the frames carry them, so they are
physical charges a user can read, not only latent variables.

- ``ChargeHead``: a per-element MLP on the standardised descriptors gives raw
  charges; ``neutralise`` shifts them equally so each frame carries its
  total charge (``atoms.info["charge"]``, default 0) exactly.
- ``LongRangeCoulomb``: E_lr per frame with torch-pme (the reciprocal sum only:
  an empty real-space neighbour list), by particle-mesh Ewald (``method="pme"``,
  the default: mesh spacing = smearing, 5 interpolation nodes) or a plain Ewald
  sum (``"ewald"``, lr_wavelength = smearing / 2). Measured here, 1 thread,
  energy + forces of random charges: 98 atoms (10 A box) PME 4 ms, Ewald 30 ms;
  1000 atoms (31 A) PME 18 ms, Ewald 26 s. Against pymatgen's Ewald sum for an
  ion pair 8 A apart (sigma = 1 A): Ewald 1e-9 relative, PME 5e-5
  (tests/test_electrostatics.py); a 5e-5 error of the Coulomb energy of
  Hirshfeld-sized charges is far below a meV per cell.

Units: e, A, eV (torch-pme's eV_A prefactor, k_e = 14.3996 eV A / e^2). Only
fully periodic cells: an Ewald sum needs a cell; put a molecule in a box.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from ..errors import InputError

#: default Gaussian width of the charges (A): LES's choice, short enough that the
#: remainder sits inside a 5 A cutoff
DEFAULT_SMEARING_A = 1.0


class ChargeHead(nn.Module):
    """Raw atomic charges (N,) from standardised features: q0[element] (the training
    set's mean reference charge, set before training) plus one small MLP per element."""

    def __init__(self, n_features: int, n_elements: int, hidden: int = 32):
        super().__init__()
        self.mlps = nn.ModuleList(
            nn.Sequential(nn.Linear(n_features, hidden), nn.SiLU(), nn.Linear(hidden, 1))
            for _ in range(n_elements))
        self.register_buffer("reference_charges", torch.zeros(n_elements))  # e

    def forward(self, z, species):
        out = self.reference_charges[species].to(z.dtype)
        for s, mlp in enumerate(self.mlps):
            mask = species == s
            if bool(mask.any()):
                out = out.index_put((mask,), mlp(z[mask]).squeeze(-1))
        return out


def neutralise(raw, batch, n_frames: int, total_charge: Optional[torch.Tensor] = None):
    """Charges whose sum per frame is ``total_charge`` (B,) (zeros when None): the
    excess of each frame spread equally over its atoms."""
    counts = torch.zeros(n_frames, dtype=raw.dtype, device=raw.device).index_add(
        0, batch, torch.ones_like(raw))
    sums = torch.zeros(n_frames, dtype=raw.dtype, device=raw.device).index_add(0, batch, raw)
    target = torch.zeros_like(sums) if total_charge is None else total_charge.to(raw.dtype)
    return raw - ((sums - target) / counts)[batch]


class LongRangeCoulomb(nn.Module):
    """Ewald reciprocal-space energy (B,) eV of Gaussian charges; see the module docstring."""

    def __init__(self, smearing: float = DEFAULT_SMEARING_A, method: str = "pme"):
        super().__init__()
        from .._engines import import_engine

        torchpme = import_engine("torchpme")
        if not smearing > 0:
            raise InputError(f"smearing: {smearing}: expected > 0 A")
        if method not in ("pme", "ewald"):
            raise InputError(f"method: {method!r}: expected 'pme' or 'ewald'")
        self.smearing = float(smearing)
        potential = torchpme.CoulombPotential(smearing=self.smearing,
                                              prefactor=torchpme.prefactors.eV_A)
        if method == "pme":
            self.calculator = torchpme.PMECalculator(potential, mesh_spacing=self.smearing,
                                                     interpolation_nodes=5)
        else:
            self.calculator = torchpme.EwaldCalculator(potential,
                                                       lr_wavelength=self.smearing / 2)

    def forward(self, positions, charges, cell, batch, n_frames: int):
        energies = []
        empty_i = torch.zeros((0, 2), dtype=torch.long, device=positions.device)
        empty_d = positions.new_zeros(0)
        for b in range(n_frames):
            mask = batch == b
            volume = torch.linalg.det(cell[b]).abs()
            if float(volume.detach()) < 1e-6:
                raise InputError("charges: a frame without a periodic cell: the long-range "
                                 "term is an Ewald sum; put the structure in a box with "
                                 "pbc=True")
            q = charges[mask][:, None]
            potential = self.calculator(q, cell[b], positions[mask], empty_i, empty_d)
            energies.append((q * potential).sum())
        return torch.stack(energies)
