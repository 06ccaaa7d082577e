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

import math
from typing import Optional

import torch
from torch import nn

from ..errors import InputError

#: default Gaussian width of the charges (A): LES's choice, short enough that the
#: remainder sits inside a 5 A cutoff
DEFAULT_SMEARING_A = 1.0


class ChargeHead(nn.Module):
    """Raw atomic charges (N,) from standardised features: one small MLP per element,
    whose output is the raw charge.

    ``reference_charges`` (q0, the training set's mean reference charge per element) is
    set before training and stored, but ``forward`` puts each MLP's output in its place
    rather than adding it: q0 was meant as an offset the MLPs learn around. Every saved
    potential (the shipped one included) was trained this way, so making q0 an offset
    would change their predictions; it needs a flag in the saved hyperparameters first.
    """

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


def _volume(cell):
    """|det cell| (A^3) of one frame's cell, or an InputError if it has none."""
    volume = torch.linalg.det(cell).abs()
    if float(volume.detach()) < 1e-6:
        raise InputError("charges: a frame without a periodic cell: the long-range "
                         "term is an Ewald sum; put the structure in a box with "
                         "pbc=True")
    return volume


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
            _volume(cell[b])
            q = charges[mask][:, None]
            potential = self.calculator(q, cell[b], positions[mask], empty_i, empty_d)
            energies.append((q * potential).sum())
        return torch.stack(energies)

    @torch.no_grad()
    def members(self, positions, charges, cell, batch, n_frames: int):
        """Every committee member's energy and its gradients at once, without autograd
        through the mesh: ``charges`` (M, N), one row per member, on shared positions (N, 3).

        Returns energies (M, B) eV, dE/dq (M, N) eV/e and dE/dr (M, N, 3) eV/A. The
        energy is quadratic in the charges, E = q.A(r).q / 2 (self and background terms
        included), so dE/dq = A q, twice torch-pme's per-atom potential. With PME one
        spreading and one FFT serve all members (the charges are the mesh's channels), and
        since A is symmetric, dE/dr_i = q_i d/dr_i of the interpolated mesh potential
        with the mesh held fixed: only the interpolation is differentiated, and that by
        hand (``_mesh_gradient``). The same numbers as M separate ``forward`` calls
        differentiated by autograd, to float round-off (tests/test_electrostatics.py).
        """
        M, n_atoms = charges.shape
        energies = charges.new_zeros(M, n_frames)
        d_q = torch.zeros_like(charges)
        d_r = positions.new_zeros(M, n_atoms, 3)
        pme = getattr(self.calculator, "mesh_interpolator", None) is not None
        for b in range(n_frames):
            mask = batch == b
            ivolume = _volume(cell[b]).reciprocal()
            q, r = charges[:, mask].T.contiguous(), positions[mask]      # (n, M), (n, 3)
            if not pme:          # Ewald: autograd, member by member
                for m in range(M):
                    with torch.enable_grad():
                        qm = q[:, m:m + 1].clone().requires_grad_(True)
                        rm = r.clone().requires_grad_(True)
                        e = self.forward(rm, qm[:, 0], cell[b][None],
                                         torch.zeros_like(qm[:, 0], dtype=torch.long), 1)[0]
                        gq, gr = torch.autograd.grad(e, (qm, rm))
                    energies[m, b], d_q[m, mask], d_r[m, mask] = e.detach(), gq[:, 0], gr
                continue
            potential, mesh = self._pme(q, cell[b], r, ivolume)
            energies[:, b] = (q * potential).sum(0)
            d_q[:, mask] = 2 * potential.T
            d_r[:, mask] = q.T[..., None] * self._mesh_gradient(mesh, r) * ivolume
        return energies, d_q, d_r

    def _mesh_gradient(self, mesh, positions):
        """d/dr of the mesh's channels interpolated at ``positions`` (n, 3), the mesh held
        fixed: (M, n, 3). The interpolation is a product of 1D Lagrange weights of each
        fractional coordinate (torch-pme's ``method="Lagrange"``, nodes at the mesh points
        around it); its gradient swaps one factor for that factor's derivative, with the
        indices torch-pme's ``compute_weights`` just set (``_pme``, on these positions)."""
        interp = self.calculator.mesh_interpolator
        nodes = self.calculator.interpolation_nodes
        rel = interp.ns_mesh * (positions @ interp.inverse_cell)
        even = nodes % 2 == 0
        x = rel - (torch.floor(rel) + 0.5 if even else torch.round(rel))     # (n, 3)
        # the nodes' offsets from the point's base, in torch-pme's order
        t = [k - 0.5 * even for k in range(1 - (nodes + 1) // 2, 1 + nodes // 2)]
        w, dw = [], []
        for k, tk in enumerate(t):
            others = [tj for j, tj in enumerate(t) if j != k]
            norm = math.prod(tk - tj for tj in others)
            factors = [x - tj for tj in others]
            w.append(math.prod(factors) / norm)
            dw.append(sum(math.prod(f for i, f in enumerate(factors) if i != l)
                          for l in range(len(factors))) / norm)
        w, dw = torch.stack(w), torch.stack(dw)                  # (nodes, n, 3) each
        shape = (-1, nodes, nodes, nodes, positions.shape[0])
        g = mesh[:, interp.x_indices, interp.y_indices, interp.z_indices].reshape(shape)
        d_frac = torch.stack([
            torch.einsum("mabcn,an,bn,cn->mn", g, dw[..., 0], w[..., 1], w[..., 2]),
            torch.einsum("mabcn,an,bn,cn->mn", g, w[..., 0], dw[..., 1], w[..., 2]),
            torch.einsum("mabcn,an,bn,cn->mn", g, w[..., 0], w[..., 1], dw[..., 2])], dim=-1)
        # frac = ns * (r @ inverse_cell): dV/dr = (dV/dfrac * ns) @ inverse_cell^T
        return (d_frac * interp.ns_mesh) @ interp.inverse_cell.T

    def _pme(self, charges, cell, positions, ivolume):
        """torch-pme's ``PMECalculator._compute_kspace`` (1.x) for channels ``charges`` (n, M),
        keeping the mesh potential: (per-atom potential (n, M), mesh (M, ...)); ``ivolume``:
        1 / the cell's volume."""
        from torchpme.lib import get_ns_mesh

        calc = self.calculator
        ns = get_ns_mesh(cell, calc.mesh_spacing)
        calc.mesh_interpolator.update(cell, ns)
        calc.kspace_filter.update(cell, ns)
        calc.mesh_interpolator.compute_weights(positions)
        mesh = calc.kspace_filter.forward(calc.mesh_interpolator.points_to_mesh(
            particle_weights=charges))
        potential = calc.mesh_interpolator.mesh_to_points(mesh) * ivolume
        potential -= charges * calc.potential.self_contribution()
        potential -= 2 * calc.potential.background_correction() * charges.sum(0) * ivolume
        potential += calc.potential.pbc_correction(None, positions, cell, charges)
        return potential / 2, mesh
