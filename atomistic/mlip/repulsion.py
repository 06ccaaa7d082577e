"""Core repulsion: the ZBL screened nuclear repulsion as a fixed prior under the network.

A learned potential knows nothing where it has no data. Two atoms pushed closer than any
training frame (a Na+ driven into a water O at 1.5 A in a hot start, say) may find an
energy that keeps falling, and MD collapses. A physical floor closes that hole: the
Ziegler-Biersack-Littmark universal screened Coulomb repulsion between the nuclei,

    E_ij = k_e Z_i Z_j / r * phi(r / a),   a = 0.46850 A / (Z_i^0.23 + Z_j^0.23),
    phi(x) = 0.18175 e^-3.19980x + 0.50986 e^-0.94229x + 0.28022 e^-0.40290x
             + 0.02817 e^-0.20162x

(Ziegler, Biersack & Littmark, The Stopping and Range of Ions in Solids, 1985), switched
off smoothly by the polynomial envelope 1 - 28 x^6 + 48 x^7 - 21 x^8 (x = r / r_max,
value, slope and curvature zero at r_max) at r_max = the sum of the two covalent radii
(ASE's ``covalent_radii``, Cordero 2008). These are the choices of MACE's
``--pair_repulsion``. The network then learns the rest of the energy; at bonded distances
the prior is small (O-H at 0.96 A: the envelope is ~0 at 0.97 A) and it grows without bound
as r -> 0, where phi -> 1 and E -> the bare nuclear Coulomb energy.

Fixed, not learned: no parameters, only buffers from the elements, so it is saved and
exported with the model and a committee's members share it exactly.
"""
from __future__ import annotations

import torch
from torch import nn

ZBL_A0 = 0.46850      # A: the universal screening length's prefactor


class CoreRepulsion(nn.Module):
    """Per-atom ZBL energies (N,) eV from directed pairs (each pair counted half per
    direction) of a model's elements."""

    def __init__(self, elements: list[int]):
        super().__init__()
        from ase.data import covalent_radii

        z = torch.tensor([float(e) for e in elements], dtype=torch.float64)
        radii = torch.tensor([float(covalent_radii[e]) for e in elements], dtype=torch.float64)
        n = len(elements)
        # derived from the elements, not saved: a model gains or loses the prior without
        # changing its state dict (a warm start from a model without it loads)
        self.register_buffer("zz", (z[:, None] * z[None, :]).reshape(n * n), persistent=False)
        self.register_buffer("screening", (ZBL_A0 / (z[:, None] ** 0.23 + z[None, :] ** 0.23))
                             .reshape(n * n), persistent=False)
        self.register_buffer("r_max", (radii[:, None] + radii[None, :]).reshape(n * n),
                             persistent=False)
        self.n_elements = n

    def forward(self, r, pair_type, i, n_atoms: int):
        """r (E,) A of directed pairs i -> j, pair_type (E,) = species_i * n_el + species_j,
        i (E,) the centre atoms; returns atomic energies (N,) eV."""
        x = r / self.r_max[pair_type].to(r.dtype)
        inside = x < 1.0
        xc = torch.where(inside, x, torch.zeros_like(x))
        envelope = 1.0 - 28.0 * xc ** 6 + 48.0 * xc ** 7 - 21.0 * xc ** 8
        envelope = torch.where(inside, envelope, torch.zeros_like(x))
        s = r / self.screening[pair_type].to(r.dtype)
        # the constants written out: TorchScript (atomistic.mlip.export) reads no globals
        phi = (0.18175 * torch.exp(-3.19980 * s) + 0.50986 * torch.exp(-0.94229 * s)
               + 0.28022 * torch.exp(-0.40290 * s) + 0.02817 * torch.exp(-0.20162 * s))
        # beyond r_max r is never small, so the 1/r there is finite (and multiplied by 0)
        e = 0.5 * 14.399645 * self.zz[pair_type].to(r.dtype) * phi / r * envelope
        return r.new_zeros(n_atoms).index_add(0, i, e)
