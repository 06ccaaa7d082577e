"""The learned interatomic potential: a moment-tensor descriptor network in PyTorch.

Architecture (``MomentPotential``)
----------------------------------
For every pair i-j within the cutoff ``r_c`` (Angstrom) with unit vector u_ij:

1. Radial basis: Bessel functions b_n(r) = sqrt(2/r_c) sin(n pi r / r_c) / r,
   n = 1..n_basis, times the C2-smooth envelope f_c(r) = (1 - (r/r_c)^2)^3,
   so energy and forces go to zero continuously at the cutoff (MD conserves
   energy across neighbour-list changes).
2. Learned radial channels R_k(r_ij) = sum_n W[z_i, z_j, k, n] b_n(r_ij) f_c(r_ij),
   one weight block per ordered element pair.
3. Cartesian moments M_{i,k}^{(l)} = sum_j R_k(r_ij) u_ij^{(x)l} for l = 0..l_max
   (a scalar, a vector, a 3x3 and a 3x3x3 tensor), and their rotational
   invariants |M^{(l)}|^2 = sum_jk R_k(r_ij) R_k(r_ik) cos^l(theta_jik): the
   Behler-Parrinello/ACE "radial x Legendre" body-order-3 channels, computed
   in O(neighbours) instead of O(neighbours^2).
   With ``coupling=True`` every channel pair enters, M_a^(l) . M_b^(l) for
   a <= b (the SOAP power spectrum): K(K+1)/2 invariants per order instead
   of K. On 18 NaCl/Cu GPAW frames it over-fitted (validation force RMSE
   285/497 vs 250/264 meV/A, bench/electrolyte_architecture.py), so it is off
   by default; it is there for larger datasets.
4. The invariants, standardised with training-set statistics, feed a
   per-element MLP that gives the atomic energy; E = sum_i (e0[z_i] + s * MLP).
   e0 are per-element reference energies fitted first by least squares; s is
   the force scale of the training set.
5. Forces = -dE/dr and stress = (1/V) dE/d(eps) by autograd through
   positions and a symmetric strain eps applied to positions and cell.

Why this and not message passing: one descriptor pass plus a small MLP is a
few dense ops on (pairs x channels) arrays, so energy+forces cost about
2-3 sweeps over the pair list, with no equivariant tensor products. On 2 CPU
cores it is several times faster than an untrained MACE of similar width,
and EMT-like metals (embedded-atom physics: a nonlinear function of
neighbour densities) are exactly what step 3-4 represents. Measured
(2 shared CPU cores, BENCHMARKS.md): energy+forces 8,300 / 10,400 / 7,900
atom-steps/s at 108 / 256 / 864 Cu atoms vs untrained MACE (2 layers,
16x0e+16x1o) 700 / 510 / 410 (12-20x faster) and ASE EMT 4,300 / 6,300 / 2,900;
held-out EMT Cu force MAE 4.2 meV/A (300 K), 13.7 meV/A (1000 K), energy
MAE 0.09 / 0.16 meV/atom; Al 5.1 / 15.5 meV/A; NVE 10 ps drift 0.016 meV/atom.
l_max = 3 costs 2x the time of l_max = 2 for no gain on these metals.

Modules here take and return dicts of tensors and know nothing of ASE:
``atomistic.mlip.graph`` converts ``ase.Atoms``.
"""
from __future__ import annotations

import math
from typing import Optional

import torch
from torch import nn

#: Hyperparameters a potential is built from (saved with its weights).
DEFAULT_HYPERPARAMETERS: dict = {
    "cutoff": 5.0,        # Angstrom
    "n_basis": 8,         # Bessel functions
    "n_channels": 16,     # learned radial channels per angular order
    "l_max": 2,           # highest Cartesian moment order (0..3)
    "hidden": [64, 64],   # per-element MLP widths
    "charges": False,     # predict atomic charges + their long-range Ewald energy
    "smearing": 1.0,      # Angstrom: Gaussian width of those charges
    "coupling": False,    # invariants of every channel pair (k, k'), not only k = k'
    "n_heads": 1,         # energy heads on one shared descriptor (a cheap committee)
    "repulsion": False,   # a fixed ZBL core repulsion under the network
}


def pair_slots(i, n_atoms: int):
    """Position of each pair among its centre atom's pairs (pairs sorted by i): the
    column of the padded (atom, slot) layout. A free function, so TorchScript
    (atomistic.mlip.export) compiles the same code."""
    counts = torch.bincount(i, minlength=n_atoms)
    first = torch.cumsum(counts, 0) - counts
    return torch.arange(i.shape[0], device=i.device) - first[i]


def pair_vectors(positions, edge_index, shifts, cell, batch):
    """r_j - r_i + S @ cell of each directed pair (E, 3), Angstrom, with its frame's cell.
    A free function, so TorchScript (atomistic.mlip.export) compiles the same code."""
    i, j = edge_index[0], edge_index[1]
    return positions[j] - positions[i] + torch.einsum("ea,eab->eb", shifts, cell[batch[i]])


class MomentPotential(nn.Module):
    """Energy, forces and stress of atomic structures from a batch of graphs.

    Args:
        elements: atomic numbers the model knows, in species-index order.
        cutoff: neighbour cutoff in Angstrom.
        n_basis, n_channels, l_max, hidden: see ``DEFAULT_HYPERPARAMETERS``.

    ``forward(batch)`` takes a dict of tensors (N atoms, E directed pairs, B frames):
        positions (N, 3) Angstrom; species (N,) long; cell (B, 3, 3) Angstrom
        (rows are cell vectors); edge_index (2, E) long [i, j]; shifts (E, 3)
        integer image shifts S such that r_ij = r_j - r_i + S @ cell;
        batch (N,) long frame index.
    and returns a dict: energy (B,) eV, atomic_energies (N,) eV, and, when asked,
    forces (N, 3) eV/Angstrom and stress (B, 3, 3) eV/Angstrom^3 (ASE sign:
    (1/V) dE/d strain).

    With ``charges=True`` (for ions, water, electrodes) a second head predicts
    atomic charges (N,) e, neutral per frame (or summing to ``total_charge``
    (B,) in the batch), and the energy gains their long-range Ewald term
    (``atomistic.mlip.electrostatics``); the output then has ``charges`` and
    ``long_range_energy`` (B,). Off by default: a metal needs neither.

    With ``repulsion=True`` every atomic energy (of every head) includes the ZBL
    screened nuclear repulsion of its close pairs (``atomistic.mlip.repulsion``), a
    fixed prior that keeps MD out of the short-distance holes no data covers.
    """

    def __init__(self, elements: list[int], cutoff: float = 5.0, n_basis: int = 8,
                 n_channels: int = 16, l_max: int = 2, hidden: list[int] | tuple = (64, 64),
                 charges: bool = False, smearing: float = 1.0, coupling: bool = False,
                 n_heads: int = 1, repulsion: bool = False):
        super().__init__()
        self.elements = [int(z) for z in elements]
        self.cutoff = float(cutoff)
        self.n_basis = int(n_basis)
        self.n_channels = int(n_channels)
        self.l_max = int(l_max)
        self.hidden = [int(h) for h in hidden]
        n_el = len(self.elements)
        n_pairs = n_el * n_el
        # radial mixing: one (n_basis -> n_channels) block per ordered element pair
        self.radial = nn.Parameter(torch.randn(self.n_basis, n_pairs * self.n_channels)
                                   / math.sqrt(self.n_basis))
        self.coupling = bool(coupling)
        k = self.n_channels
        n_features = k + self.l_max * (k * (k + 1) // 2 if self.coupling else k)
        if self.coupling:  # the upper triangle of each (K, K) Gram matrix
            self.register_buffer("pair_k", torch.triu_indices(k, k), persistent=False)
        self.n_heads = int(n_heads)
        if self.n_heads < 1:
            raise ValueError(f"n_heads = {n_heads}: expected at least 1")
        # one MLP per (head, element), at index head * n_el + element
        self.mlps = nn.ModuleList()
        for _ in range(n_el * self.n_heads):
            layers, width = [], n_features
            for h in self.hidden:
                layers += [nn.Linear(width, h), nn.SiLU()]
                width = h
            layers.append(nn.Linear(width, 1))
            self.mlps.append(nn.Sequential(*layers))
        self.charges = bool(charges)
        self.smearing = float(smearing)
        if self.charges:
            from .electrostatics import ChargeHead, LongRangeCoulomb

            self.charge_head = ChargeHead(n_features, n_el)
            self.coulomb = LongRangeCoulomb(self.smearing)
        self.repulsion = bool(repulsion)
        if self.repulsion:  # a fixed ZBL floor under the network (atomistic.mlip.repulsion)
            from .repulsion import CoreRepulsion

            self.core = CoreRepulsion(self.elements)
        # set from training data by ``set_statistics``; saved with the weights
        self.register_buffer("feature_mean", torch.zeros(n_features))
        self.register_buffer("feature_std", torch.ones(n_features))
        self.register_buffer("reference_energies", torch.zeros(n_el))  # eV per atom
        self.register_buffer("energy_scale", torch.ones(()))           # eV

    def reset_parameters(self, generator=None) -> None:
        """Re-draw all weights from ``generator`` (a torch.Generator), not the global RNG,
        so members initialised concurrently (threads of one Dask worker) stay reproducible."""
        with torch.no_grad():
            self.radial.copy_(torch.randn(self.radial.shape, generator=generator)
                              / math.sqrt(self.n_basis))
            heads = [self.mlps] + ([self.charge_head] if self.charges else [])
            for module in (m for head in heads for m in head.modules()):
                if isinstance(module, nn.Linear):
                    bound = 1.0 / math.sqrt(module.in_features)
                    # PyTorch's default Linear init: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
                    module.weight.uniform_(-bound, bound, generator=generator)
                    module.bias.uniform_(-bound, bound, generator=generator)

    # --- descriptor -------------------------------------------------------
    def descriptors(self, positions, species, cell, edge_index, shifts, batch,
                    strain: Optional[torch.Tensor] = None, slots: Optional[torch.Tensor] = None):
        """Invariant per-atom features (N, n_channels * (l_max + 1)), unstandardised."""
        i, j = edge_index[0], edge_index[1]
        if strain is not None:
            positions, cell = self.strained(positions, cell, strain, batch)
        vec = pair_vectors(positions, edge_index, shifts, cell, batch)
        r = torch.linalg.vector_norm(vec, dim=1)
        u = vec / r[:, None]
        n = torch.arange(1, self.n_basis + 1, dtype=r.dtype, device=r.device)
        x = r / self.cutoff
        envelope = (1.0 - x * x).clamp(min=0.0) ** 3
        basis = math.sqrt(2.0 / self.cutoff) * torch.sin(n * math.pi * x[:, None]) / r[:, None]
        basis = basis * envelope[:, None]
        n_el = len(self.elements)
        pair_type = species[i] * n_el + species[j]
        # each pair's own (n_basis, K) block, gathered: mixing every pair with all
        # n_el^2 blocks and keeping one (a dense (E, n_el^2 K) product) was 5x slower
        # for the six elements of the electrolyte potential
        blocks = self.radial.view(self.n_basis, n_el * n_el, self.n_channels).transpose(0, 1)
        radial = torch.einsum("en,enk->ek", basis, blocks[pair_type])  # (E, K)
        # angular parts u^(x)l flattened: 1, 3, 9, 27 components
        parts = [torch.ones_like(r)[:, None]]
        tensor = torch.ones_like(r)[:, None]
        for _ in range(self.l_max):
            tensor = (tensor[:, :, None] * u[:, None, :]).reshape(u.shape[0], -1)
            parts.append(tensor)
        angular = torch.cat(parts, dim=1)  # (E, C)
        # Sum over neighbours as a batched matmul on a padded (atom, slot) layout:
        # (N, K, slots) @ (N, slots, C) never materialises an (E, K, C) array,
        # which made energy+forces ~3x slower at 864 atoms.
        n_atoms = positions.shape[0]
        slot = pair_slots(i, n_atoms) if slots is None else slots
        n_slots = int(slot.max()) + 1 if slot.numel() else 1
        r_pad = radial.new_zeros(n_atoms, n_slots, self.n_channels).index_put((i, slot), radial)
        a_pad = angular.new_zeros(n_atoms, n_slots, angular.shape[1]).index_put((i, slot), angular)
        moments = torch.bmm(r_pad.transpose(1, 2), a_pad)  # (N, K, C)
        feats = [moments[:, :, 0]]
        start = 1
        for l in range(1, self.l_max + 1):
            width = int(3 ** l)  # an int for TorchScript, where int ** int is a float
            block = moments[:, :, start:start + width]
            if self.coupling:  # sum_jk R_a(r_ij) R_b(r_ik) cos^l(theta_jik) for a <= b
                gram = torch.bmm(block, block.transpose(1, 2))
                feats.append(gram[:, self.pair_k[0], self.pair_k[1]])
            else:
                feats.append((block ** 2).sum(-1))
            start += width
        return torch.cat(feats, dim=1)

    def repulsion_energies(self, positions, species, cell, edge_index, shifts, batch):
        """Atomic ZBL energies (N,) eV of the pairs (zero without ``repulsion``)."""
        if not self.repulsion:
            return positions.new_zeros(positions.shape[0])
        i, j = edge_index[0], edge_index[1]
        vec = pair_vectors(positions, edge_index, shifts, cell, batch)
        pair_type = species[i] * len(self.elements) + species[j]
        return self.core(torch.linalg.vector_norm(vec, dim=1), pair_type, i, positions.shape[0])

    @staticmethod
    def strained(positions, cell, strain, batch):
        """Positions and cells under x -> x (1 + eps); autograd through eps gives the virial."""
        deform = torch.eye(3, dtype=positions.dtype, device=positions.device) + strain
        return torch.einsum("na,nab->nb", positions, deform[batch]), torch.bmm(cell, deform)

    def atomic_energies(self, features, species, z: Optional[torch.Tensor] = None):
        """Atomic energies (N,) eV from unstandardised features (N, F); the heads' mean."""
        return self.head_atomic_energies(features, species, z).mean(dim=1)

    def head_atomic_energies(self, features, species, z: Optional[torch.Tensor] = None):
        """Atomic energies of every head (N, n_heads) eV."""
        if z is None:
            z = (features - self.feature_mean) / self.feature_std
        n_el = len(self.elements)
        heads = [features.new_zeros(features.shape[0]) for _ in range(self.n_heads)]
        # enumerate, not self.mlps[h * n_el + s]: TorchScript (atomistic.mlip.export)
        # indexes a ModuleList only by literals
        for k, mlp in enumerate(self.mlps):
            h, s = k // n_el, k % n_el
            mask = species == s
            if bool(mask.any()):
                heads[h] = heads[h].index_put((mask,), mlp(z[mask]).squeeze(-1))
        out = torch.stack(heads, dim=1)
        return self.reference_energies[species][:, None] + self.energy_scale * out

    def forward(self, batch: dict, compute_forces: bool = True, compute_stress: bool = False,
                create_graph: bool = False, head_forces: bool = False) -> dict:
        """``head_forces`` (with ``n_heads`` > 1): also each head's forces (n_heads, N, 3),
        one backward pass per head, and ``forces`` their mean."""
        positions = batch["positions"]
        n_frames = batch["cell"].shape[0]
        if compute_forces and not positions.requires_grad:
            positions = positions.detach().requires_grad_(True)
        strain = None
        if compute_stress:
            strain = torch.zeros(n_frames, 3, 3, dtype=positions.dtype, device=positions.device,
                                 requires_grad=True)
        feats = self.descriptors(positions, batch["species"], batch["cell"], batch["edge_index"],
                                 batch["shifts"], batch["batch"], strain, batch.get("slots"))
        z = (feats - self.feature_mean) / self.feature_std
        per_head = self.head_atomic_energies(feats, batch["species"], z)
        if self.repulsion:
            pos, cell = positions, batch["cell"]
            if strain is not None:
                pos, cell = self.strained(pos, cell, strain, batch["batch"])
            per_head = per_head + self.repulsion_energies(
                pos, batch["species"], cell, batch["edge_index"], batch["shifts"],
                batch["batch"])[:, None]
        atomic = per_head.mean(dim=1)
        head_energy = positions.new_zeros(n_frames, self.n_heads).index_add(
            0, batch["batch"], per_head)
        energy = head_energy.mean(dim=1)
        out = {"energy": energy, "atomic_energies": atomic}
        if self.n_heads > 1:
            out["head_atomic_energies"] = per_head
        if self.charges:
            from .electrostatics import neutralise

            q = neutralise(self.charge_head(z, batch["species"]), batch["batch"], n_frames,
                           batch.get("total_charge"))
            pos, cell = positions, batch["cell"]
            if strain is not None:  # the Ewald term feels the strain too (stress)
                pos, cell = self.strained(pos, cell, strain, batch["batch"])
            e_lr = self.coulomb(pos, q, cell, batch["batch"], n_frames)
            energy = energy + e_lr
            head_energy = head_energy + e_lr[:, None]
            out.update(energy=energy, charges=q, long_range_energy=e_lr)
        if self.n_heads > 1:
            out["head_energies"] = head_energy
        if head_forces and self.n_heads > 1 and compute_forces:
            grads = [torch.autograd.grad(head_energy[:, h].sum(), positions,
                                         retain_graph=True, create_graph=create_graph)[0]
                     for h in range(self.n_heads)]
            out["head_forces"] = -torch.stack(grads)
            out["forces"] = out["head_forces"].mean(dim=0)
            compute_forces = False
        if compute_forces or compute_stress:
            inputs = [positions] + ([strain] if compute_stress else [])
            grads = torch.autograd.grad(energy.sum(), inputs, create_graph=create_graph)
            if compute_forces:
                out["forces"] = -grads[0]
            if compute_stress:
                volume = torch.linalg.det(batch["cell"]).abs()
                virial = grads[1]
                out["stress"] = 0.5 * (virial + virial.transpose(1, 2)) / volume[:, None, None]
        return out

    def single_head(self, h: int) -> "MomentPotential":
        """Head ``h`` alone as a one-head potential (a copy: descriptor, charges, head h)."""
        if not 0 <= h < self.n_heads:
            raise IndexError(f"head {h}: this potential has {self.n_heads} head(s)")
        n_el = len(self.elements)
        one = MomentPotential(self.elements, **{**self.hyperparameters(), "n_heads": 1})
        state = {k: v for k, v in self.state_dict().items() if not k.startswith("mlps.")}
        for s in range(n_el):
            for k, v in self.mlps[h * n_el + s].state_dict().items():
                state[f"mlps.{s}.{k}"] = v
        one.load_state_dict(state)
        return one.to(self.feature_mean.dtype)

    def hyperparameters(self) -> dict:
        return {"cutoff": self.cutoff, "n_basis": self.n_basis, "n_channels": self.n_channels,
                "l_max": self.l_max, "hidden": list(self.hidden), "charges": self.charges,
                "smearing": self.smearing, "coupling": self.coupling, "n_heads": self.n_heads,
                "repulsion": self.repulsion}
