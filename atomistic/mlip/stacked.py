"""A committee of ``MomentPotential`` members evaluated as one stacked pass.

``stacked_energies_forces`` gives every member's energies and forces for a batch of
frames, the numbers ``model(batch, head_forces=True)`` gives member by member, at roughly
the cost of one member: the geometry (distances, Bessel basis, angular parts and their
padded layout) is shared, and the members' radial mixing, moments and MLPs run as
member-stacked tensor ops. Every energy head of every model is a member, as in
``CommitteeCalculator``. ``stackable(models)`` says whether a committee qualifies: one
architecture and one set of elements (a committee from one file).

Predicted charges (``charges=True``): each member's charges come from its own charge
head on its own features, and its long-range (Ewald/PME) energy is a function of them
and of the positions. The Ewald energies of all members come from one mesh (the members'
charges are its channels) with their gradients written out (``LongRangeCoulomb.members``);
the descriptor work stays shared. The ZBL core repulsion is the same fixed term in every
member: computed once.

Why by hand: per-member forces need per-member gradients, and one autograd pass through
shared tensors sums them. So the whole chain rule (energies -> MLPs and charge heads ->
invariants -> moments -> radial channels and angular parts -> r and u -> positions) is
written out, batched over members; only the ZBL term uses autograd.
Measured in bench/batched_md_probe.py (3 default-size members, 8 x 32 Cu atoms, float32,
1 thread): 11 ms, what one member's forward + backward costs, against 33 ms in turn.

Tensors only, like ``model``: ``atomistic.md.batched`` builds the pairs from ``ase.Atoms``.
Agreement with ``model(batch)`` to float round-off: tests/test_batched_md.py.
"""
from __future__ import annotations

import math


def stackable(models) -> bool:
    """True if ``models`` share one architecture and elements (heads may differ), with
    MLPs of Linear and SiLU layers (the layers ``_stacked_mlps`` differentiates)."""
    import torch

    try:
        first = {k: v for k, v in models[0].hyperparameters().items() if k != "n_heads"}
        heads = [mlp for m in models for mlp in list(m.mlps)
                 + (list(m.charge_head.mlps) if m.charges else [])]
        return (all(isinstance(layer, (torch.nn.Linear, torch.nn.SiLU))
                    for mlp in heads for layer in mlp)
                and all(list(m.elements) == list(models[0].elements)
                        and {k: v for k, v in m.hyperparameters().items()
                             if k != "n_heads"} == first
                        for m in models))
    except AttributeError:  # not a MomentPotential (e.g. a TorchScript export)
        return False


def stacked_energies_forces(models, positions, edge_index, slots, vec, species, frame,
                            n_frames: int, cell=None, total_charge=None, details: bool = False):
    """Energies (M, B) eV and forces (M, N, 3) eV/A of every member (model, head).

    Args (N atoms, E directed pairs within the cutoff, grouped by centre atom i):
        models: ``MomentPotential`` members for which ``stackable`` is True.
        positions (N, 3) Angstrom; edge_index (2, E) [i, j]; slots (E,) each pair's
        position among its centre's pairs; vec (E, 3) r_j - r_i + image shift, Angstrom;
        species (N,) species index; frame (N,) frame index; n_frames: B.
        cell (B, 3, 3) Angstrom and total_charge (B,) e (None: neutral): models with
        charges only (the Ewald sum's cells).
        details: also return the members' atomic energies (M, N) eV (the short-range
            part, as ``model(batch)["atomic_energies"]``) and charges (M, N) e (None for
            models without charges).
    Members are ordered model by model, head by head within a model.
    """
    import torch

    members = [(m, h) for m in models for h in range(m.n_heads)]
    first = members[0][0]
    M, nb, K = len(members), first.n_basis, first.n_channels
    n_el = len(first.elements)
    i, j = edge_index[0], edge_index[1]
    n_atoms, n_edges = positions.shape[0], i.shape[0]
    r, u, basis, d_basis, angular = _geometry(vec, first)
    C = angular.shape[1]
    # the padded (atom, slot) layout of model.descriptors, flattened: one row per pair
    n_slots = int(slots.max()) + 1 if slots.numel() else 1
    row = i * n_slots + slots
    a_pad = angular.new_zeros(n_atoms * n_slots, C).index_copy_(0, row, angular)
    a_pad = a_pad.view(n_atoms, n_slots, C)
    # all members' radial channels (E, M K) at once, per element pair: column m K + k is
    # member m's channel k
    W = torch.stack([m.radial.detach().view(nb, n_el * n_el, K) for m, _ in members], dim=2)
    W = W.reshape(nb, n_el * n_el, M * K)
    if n_el == 1:
        radial, d_radial_dr = basis @ W[:, 0], d_basis @ W[:, 0]
    else:
        pair_type = species[i] * n_el + species[j]
        radial = basis.new_empty(n_edges, M * K)
        d_radial_dr = basis.new_empty(n_edges, M * K)
        for p in torch.unique(pair_type).tolist():
            idx = torch.nonzero(pair_type == p).squeeze(1)
            radial[idx] = basis[idx] @ W[:, p]
            d_radial_dr[idx] = d_basis[idx] @ W[:, p]
    r_pad = radial.new_zeros(n_atoms * n_slots, M * K).index_copy_(0, row, radial)
    r_pad = r_pad.view(n_atoms, n_slots, M * K)
    moments = torch.bmm(a_pad.transpose(1, 2), r_pad)  # (N, C, M K)
    long_range = None
    if first.charges:
        if cell is None:
            from ..errors import InputError

            raise InputError("cell: None; a model with charges needs the frames' cells")
        long_range = (positions, cell, total_charge)
    energy, d_mom, atomic, charges, d_pos = _energies(members, moments, species, frame,
                                                      n_frames, long_range)
    # by hand, each member apart: moments -> radial channels and angular parts -> r, u
    d_radial = torch.bmm(a_pad, d_mom).view(-1, M * K).index_select(0, row)  # (E, M K)
    d_r = (d_radial * d_radial_dr).view(n_edges, M, K).sum(-1)  # (E, M)
    # d angular[e, m, c] = sum_k radial[e, m k] d_mom[i_e, c, m k], on the padded layout
    r_pad_m = r_pad.view(n_atoms, n_slots, M, K).transpose(1, 2).reshape(-1, n_slots, K)
    d_mom_m = d_mom.view(n_atoms, C, M, K).permute(0, 2, 3, 1).reshape(-1, K, C)
    d_ang = torch.bmm(r_pad_m, d_mom_m).view(n_atoms, M, n_slots, C).transpose(1, 2)
    d_ang = d_ang.reshape(n_atoms * n_slots, M, C).index_select(0, row)  # (E, M, C)
    d_u = _power_gradient(d_ang, u, first.l_max)  # (E, M, 3)
    # -> vec = r u, then -> positions (vec = r_j - r_i + shift)
    u_m = u[:, None, :]
    d_u_perp = d_u - (d_u * u_m).sum(-1, keepdim=True) * u_m  # du/dvec = (1 - u u^T) / r
    d_vec = d_r[..., None] * u_m + d_u_perp / r[:, None, None]
    d_vec = d_vec.reshape(n_edges, M * 3)
    grad = positions.new_zeros(n_atoms, M * 3).index_add(0, j, d_vec).index_add(0, i, -d_vec)
    forces = -grad.view(n_atoms, M, 3).transpose(0, 1)
    if d_pos is not None:   # the Ewald term's own dependence on the positions
        forces = forces - d_pos
    if first.repulsion:   # the same fixed ZBL term in every member: computed once
        e_rep, f_rep, a_rep = _repulsion(first, vec, i, j, species, frame, n_atoms, n_frames)
        energy, forces, atomic = energy + e_rep[None], forces + f_rep[None], atomic + a_rep[None]
    if details:
        return energy, forces, atomic, charges
    return energy, forces


def _repulsion(model, vec, i, j, species, frame, n_atoms: int, n_frames: int):
    """The ZBL core repulsion's frame energies (B,) eV, forces (N, 3) eV/A and atomic
    energies (N,) eV (``model.repulsion_energies``' term, differentiated through the pair
    vectors)."""
    import torch

    with torch.enable_grad():
        v = vec.detach().requires_grad_(True)
        pair_type = species[i] * len(model.elements) + species[j]
        atomic = model.core(torch.linalg.vector_norm(v, dim=1), pair_type, i, n_atoms)
        energy = atomic.new_zeros(n_frames).index_add(0, frame, atomic)
        (d_vec,) = torch.autograd.grad(energy.sum(), v)
    grad = d_vec.new_zeros(n_atoms, 3).index_add(0, j, d_vec).index_add(0, i, -d_vec)
    return energy.detach(), -grad, atomic.detach()


def _geometry(vec, model):
    """r (E,), u (E, 3), the Bessel basis (E, nb) and its r-derivative, the angular parts
    u^(x)l (E, C): model.descriptors' expressions, in its order (so the same round-off)."""
    import torch

    rc, nb = model.cutoff, model.n_basis
    r = torch.linalg.vector_norm(vec, dim=1)
    u = vec / r[:, None]
    n = torch.arange(1, nb + 1, dtype=r.dtype)
    x = r / rc
    inside = (1.0 - x * x).clamp(min=0.0)
    envelope = inside ** 3
    arg = n * math.pi * x[:, None]
    sin = torch.sin(arg)
    basis = math.sqrt(2.0 / rc) * sin / r[:, None]
    basis = basis * envelope[:, None]
    d_envelope = -6.0 * x * inside ** 2 / rc  # zero beyond the cutoff, where the clamp is
    sin_r = sin / r[:, None]
    d_basis = math.sqrt(2.0 / rc) * (
        ((n * math.pi / rc) * torch.cos(arg) - sin_r) / r[:, None] * envelope[:, None]
        + sin_r * d_envelope[:, None])
    parts = [torch.ones_like(r)[:, None]]
    tensor = parts[0]
    for _ in range(model.l_max):
        tensor = (tensor[:, :, None] * u[:, None, :]).reshape(vec.shape[0], -1)
        parts.append(tensor)
    return r, u, basis, d_basis, torch.cat(parts, dim=1)


def _stacked_mlps(mlps, h):
    """The same-shaped MLPs (one per member) on member-stacked inputs h (M, n, F): (M, n)
    and a function that takes the gradient g (M, n) on that output back to h (M, n, F).

    Written out rather than by autograd: Linear and SiLU layers, forward and backward, are
    a dozen batched ops, and autograd's graph and engine cost as much again (measured: the
    energies' gradient of a 32-atom cell 0.27 ms by hand against 0.55 ms by autograd)."""
    import torch

    linears = [k for k, layer in enumerate(mlps[0]) if isinstance(layer, torch.nn.Linear)]
    weights, saved = [], []
    for k in linears:
        weight = torch.stack([mlp[k].weight.detach() for mlp in mlps])   # (M, out, in)
        bias = torch.stack([mlp[k].bias.detach() for mlp in mlps])[:, None]
        weights.append(weight)
        h = torch.baddbmm(bias, h, weight.transpose(1, 2))
        if k != linears[-1]:
            s = torch.sigmoid(h)
            saved.append((h, s))
            h = h * s                       # SiLU
    last = weights[-1]                      # (M, 1, width)

    def backward(g):
        g = g[..., None] * last             # (M, n, width)
        for weight, (a, s) in zip(reversed(weights[:-1]), reversed(saved)):
            g = g * (s * (1.0 + a * (1.0 - s)))   # SiLU'(a)
            g = torch.bmm(g, weight)
        return g

    return h[..., 0], backward


def _per_element(z, groups, mlps_of):
    """Each element's stacked MLPs (``mlps_of(s)``) on that element's atoms, in atom order,
    and the backward function of the whole (gradient (M, N) -> (M, N, F))."""
    import torch

    if len(groups) == 1:
        return _stacked_mlps(mlps_of(groups[0][0]), z)
    parts = [(idx, *_stacked_mlps(mlps_of(s), z[:, idx])) for s, idx in groups]
    out = z.new_empty(z.shape[:2])
    for idx, o, _ in parts:
        out[:, idx] = o

    def backward(g):
        grad = torch.empty_like(z)
        for idx, _, back in parts:
            grad[:, idx] = back(g[:, idx])
        return grad

    return out, backward


def _energies(members, moments, species, frame, n_frames, long_range=None):
    """Member energies (M, B), their gradient on the moments (N, C, M K), atomic energies
    (M, N) and, with ``long_range`` = (positions, cell, total_charge), charges (M, N) and
    the Ewald energy's direct position gradient (M, N, 3), through the invariants,
    standardisation, per-element MLPs and charge heads (member-stacked, the chain rule
    written out: ``_stacked_mlps``)."""
    import torch

    first = members[0][0]
    M, K, n_el = len(members), first.n_channels, len(first.elements)
    n_atoms, C = moments.shape[:2]
    mean = torch.stack([m.feature_mean for m, _ in members])[:, None]
    std = torch.stack([m.feature_std for m, _ in members])[:, None]
    ref = torch.stack([m.reference_energies for m, _ in members])
    scale = torch.stack([m.energy_scale for m, _ in members])
    mom = moments.view(n_atoms, C, M, K)
    feats, blocks = [mom[:, 0]], []
    start = 1
    for l in range(1, first.l_max + 1):
        block = mom[:, start:start + 3 ** l]  # (N, 3^l, M, K)
        if first.coupling:
            block = block.permute(0, 2, 3, 1)   # (N, M, K, 3^l)
            gram = torch.matmul(block, block.transpose(2, 3))
            feats.append(gram[..., first.pair_k[0], first.pair_k[1]])
        else:
            feats.append((block ** 2).sum(1))
        blocks.append((start, block))
        start += 3 ** l
    z = (torch.cat(feats, dim=-1).transpose(0, 1) - mean) / std  # (M, N, F)
    # each element's MLPs on that element's atoms, put back in atom order
    groups = ([(0, None)] if n_el == 1 else   # one element: every atom, no lookup
              [(s, torch.nonzero(species == s).squeeze(1))
               for s in torch.unique(species).tolist()])
    out, back = _per_element(z, groups,
                             lambda s: [m.mlps[head * n_el + s] for m, head in members])
    atomic = ref[:, species] + scale[:, None] * out
    energy = atomic.new_zeros(M, n_frames).index_add(1, frame, atomic)
    g_z = back(scale[:, None].expand(M, n_atoms))
    charges = d_pos = None
    if long_range is not None:
        positions, cell, total_charge = long_range
        # ChargeHead: each element's MLP output is the raw charge (index_put replaces the
        # reference charge), then ``neutralise`` per frame, member by member
        raw, back_q = _per_element(z, groups,
                                   lambda s: [m.charge_head.mlps[s] for m, _ in members])
        counts = raw.new_zeros(n_frames).index_add(0, frame, torch.ones_like(raw[0]))
        sums = raw.new_zeros(M, n_frames).index_add(1, frame, raw)
        target = (raw.new_zeros(n_frames) if total_charge is None
                  else total_charge.to(raw.dtype))
        charges = raw - ((sums - target) / counts)[:, frame]
        # all members' Ewald energies with their charge and position gradients, one mesh
        # for all (LongRangeCoulomb.members); the charge gradient goes back through the
        # neutralisation (minus its frame mean) and the charge heads
        e_lr, d_q, d_pos = first.coulomb.members(positions.detach(), charges, cell, frame,
                                                 n_frames)
        d_raw = d_q - (d_q.new_zeros(M, n_frames).index_add(1, frame, d_q) / counts)[:, frame]
        g_z = g_z + back_q(d_raw)
        energy = energy + e_lr
    g = (g_z / std).transpose(0, 1)   # (N, M, F) on the unstandardised invariants
    grad = torch.empty_like(mom)
    grad[:, 0] = g[..., :K]
    col = K
    for lo, block in blocks:   # block l: columns lo .. lo + 3^l of the moments
        width = block.shape[-1] if first.coupling else block.shape[1]
        if first.coupling:   # f_ab = sum_c B_ac B_bc (a <= b): df/dB = (G + G^T) B
            n_pairs = first.pair_k.shape[1]
            G = g.new_zeros(n_atoms, M, K, K)
            G[..., first.pair_k[0], first.pair_k[1]] = g[..., col:col + n_pairs]
            d_block = torch.matmul(G + G.transpose(2, 3), block)   # (N, M, K, 3^l)
            grad[:, lo:lo + width] = d_block.permute(0, 3, 1, 2)
            col += n_pairs
        else:                # f_k = sum_c B_ck^2: df/dB = 2 B
            grad[:, lo:lo + width] = 2.0 * block * g[:, None, :, col:col + K]
            col += K
    return (energy, grad.view(n_atoms, C, M * K), atomic, charges, d_pos)


def _power_gradient(d_ang, u, l_max):
    """d/du of sum_c d_ang[..., c] (u^(x)l)_c over l = 1..l_max: (E, M, 3) from (E, M, C).

    u^(x)l is a product of l copies of u: its gradient contracts the coefficient tensor
    with u in every slot but the differentiated one, summed over which slot that is (the
    symmetrised tensor, contracted with u l - 1 times)."""
    n_edges, M = d_ang.shape[:2]
    grad = d_ang[..., 1:4].clone() if l_max >= 1 else d_ang.new_zeros(n_edges, M, 3)
    start = 4
    for l in range(2, l_max + 1):
        coef = d_ang[..., start:start + 3 ** l].reshape(n_edges, M, *([3] * l))
        t = sum(coef.movedim(2 + k, 2) for k in range(l))  # each slot in turn first
        for _ in range(l - 1):  # contract the last slot with u
            t = (t * u.view(n_edges, 1, *([1] * (t.dim() - 3)), 3)).sum(-1)
        grad = grad + t
        start += 3 ** l
    return grad
