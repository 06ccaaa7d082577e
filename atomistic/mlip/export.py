"""Export a learned potential to TorchScript, for MD engines that run torch models.

``export_torchscript(potential, path)`` writes one self-contained TorchScript
file (``torch.jit.script``, not trace: the padded neighbour layout and the
per-element masks depend on the data, which a trace would freeze). Loading it
needs only torch (``torch.jit.load`` in Python, ``torch::jit::load`` in C++):
not this package, not torch-pme. Its forward is

    energy, forces = module(positions, atomic_numbers, cell, edge_index, shifts)

    positions       (N, 3) float   Angstrom
    atomic_numbers  (N,)   long    elements the potential was trained on
    cell            (3, 3) float   Angstrom, rows are cell vectors (zeros: no cell)
    edge_index      (2, E) long    FULL directed neighbour list: both (i, j) and
                                   (j, i), every pair within ``cutoff``, no self
                                   pair (i == j at zero shift); any order
    shifts          (E, 3) float   integer image shifts S: r_ij = r_j - r_i + S @ cell
    -> energy ()  eV,  forces (N, 3) eV/Angstrom  (forces = -dE/dr by autograd inside)

in the file's dtype (inputs are cast to it). Pairs beyond the cutoff
contribute exactly zero (the envelope is clamped), so a Verlet list with a
skin is fine. These are the tensors an engine with a neighbour list has;
each engine's torch interface (OpenMM-Torch's ``TorchForce``: positions in nm
and box only; LAMMPS torch pair styles: a dict of their own keys) takes the
file through a few-line adapter module that builds or renames them and
converts units (docs/mlip.md). No adapter is shipped here.

A committee becomes one file with the committee MEAN energy (every member,
every head; forces are minus its gradient, equal to the mean of the members'
forces), as ``CommitteeCalculator`` reports; ``member=k`` exports member k
alone. The spread is not exported: MD in an engine runs on the mean.

Potentials with ``charges=True`` are exported whole: the charge head, the
per-frame neutralisation (to ``total_charge``) and the torch-pme reciprocal-space
Coulomb energy all script. Their cell must be periodic (nonzero volume).
Stress/virial is not exported (NVT/NVE only; NPT needs it).

``TorchScriptCalculator(path)`` runs an exported file as an ASE calculator,
with the same neighbour list as ``CommitteeCalculator``: the check that the
export reproduces the potential, and a way to use it without this package's
model code.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Optional, Tuple

import numpy as np
from ase.calculators.calculator import Calculator, all_changes

from .._engines import import_engine
from ..errors import InputError

#: name of the metadata entry stored in the TorchScript archive (``_extra_files``)
METADATA_FILE = "multiscale_metadata.json"
FORMAT = "multiscale-mlip-torchscript"
VERSION = 1


def _members_of(potential):
    """The MomentPotential members of a calculator, a model, a list of models or a file."""
    if isinstance(potential, (str, Path)):
        from .potential import build_models, read_potential_file

        return build_models(read_potential_file(potential))
    if hasattr(potential, "models"):  # CommitteeCalculator
        return list(potential.models)
    if isinstance(potential, (list, tuple)):
        return list(potential)
    return [potential]


def _scriptable_classes(torch):
    """The TorchScript modules, defined on first use so importing this file needs no torch."""
    from torch import nn

    from .electrostatics import neutralise
    from .model import MomentPotential, pair_slots

    class _Member(MomentPotential):
        """One MomentPotential with a plain-tensor forward: the energy (scalar, eV) of one
        structure. Descriptors, heads and charges are the parent's own methods."""

        # constants let TorchScript drop the branches for submodules this member lacks
        __constants__ = ["charges", "coupling", "repulsion"]

        def forward(self, positions, species, cell, edge_index, shifts, slots,
                    total_charge):
            batch = torch.zeros_like(species)
            feats = self.descriptors(positions, species, cell[None], edge_index, shifts, batch,
                                     None, slots)
            z = (feats - self.feature_mean) / self.feature_std
            energy = self.head_atomic_energies(feats, species, z).sum(0).mean()
            if self.repulsion:
                energy = energy + self.repulsion_energies(positions, species, cell[None],
                                                          edge_index, shifts, batch).sum()
            if self.charges:
                q = neutralise(self.charge_head(z, species), batch, 1, total_charge)
                energy = energy + self.coulomb(positions, q, cell[None], batch, 1)[0]
            return energy

    class ExportedPotential(nn.Module):
        """Committee-mean energy and forces from plain tensors; see the module docstring."""

        def __init__(self, members: list, elements: list[int], cutoff: float,
                     total_charge: float, dtype):
            super().__init__()
            self.members = nn.ModuleList(members)
            self.cutoff = float(cutoff)
            self.elements = [int(z) for z in elements]
            lookup = torch.full((max(self.elements) + 1,), -1, dtype=torch.long)
            lookup[torch.as_tensor(self.elements)] = torch.arange(len(self.elements))
            self.register_buffer("species_of_z", lookup)
            self.register_buffer("total_charge", torch.tensor([float(total_charge)], dtype=dtype))
            self.register_buffer("_dtype_probe", torch.zeros((), dtype=dtype))

        def forward(self, positions, atomic_numbers, cell, edge_index,
                    shifts) -> Tuple[torch.Tensor, torch.Tensor]:
            dtype = self._dtype_probe.dtype
            z = atomic_numbers.long()
            if bool((z < 0).any()) or bool((z >= self.species_of_z.shape[0]).any()):
                raise ValueError("atomic_numbers: an element this potential was not trained on")
            species = self.species_of_z[z]
            if bool((species < 0).any()):
                raise ValueError("atomic_numbers: an element this potential was not trained on")
            pos = positions.detach().to(dtype).requires_grad_(True)
            box = cell.to(dtype)
            # the model's padded layout wants pairs grouped by centre atom i
            i_sorted, order = torch.sort(edge_index[0], stable=True)
            edges = edge_index[:, order]
            shift = shifts.to(dtype)[order]
            slots = pair_slots(i_sorted, pos.shape[0])  # once, for every member
            energy = pos.new_zeros(())
            for member in self.members:
                energy = energy + member(pos, species, box, edges, shift, slots,
                                         self.total_charge)
            energy = energy / len(self.members)
            grads = torch.autograd.grad([energy], [pos], allow_unused=True)
            grad = grads[0]
            if grad is None:  # Optional for TorchScript; the model reads every position
                forces = torch.zeros_like(pos)
            else:
                forces = -grad
            return energy.detach(), forces

    return _Member, ExportedPotential


def export_torchscript(potential, path: str | Path, member: Optional[int] = None,
                       dtype: str = "float32", total_charge: float = 0.0) -> Path:
    """Write ``potential`` as a TorchScript file an MD engine can load; returns the path.

    Args:
        potential: a ``CommitteeCalculator`` (``load_potential``), a potential file path,
            a ``MomentPotential`` or a list of them.
        path: the TorchScript file to write (conventionally ``*.pt``); atomic write.
        member: None: the committee mean (every member, every head); k: member k alone.
        dtype: "float32" (engines' usual precision) or "float64".
        total_charge: e, the charge of the whole cell, for potentials with charges
            (their charges are shifted to sum to it); ignored without charges.

    The forward's inputs and outputs are in the module docstring. The metadata
    (elements, cutoff, dtype, members) travel inside the file as ``METADATA_FILE``.
    """
    torch = import_engine("torch")
    from foundation.files import atomic_open

    if dtype not in ("float32", "float64"):
        raise InputError(f"dtype: {dtype!r}: expected 'float32' or 'float64'")
    models = _members_of(potential)
    if not models:
        raise InputError("potential: an empty committee; expected at least one model")
    if member is not None:
        if not 0 <= int(member) < len(models):
            raise InputError(f"member: {member}: expected 0..{len(models) - 1} "
                             f"(this committee has {len(models)} member(s))")
        models = [models[int(member)]]
    first = models[0]
    for k, m in enumerate(models):
        if list(m.elements) != list(first.elements) or float(m.cutoff) != float(first.cutoff):
            raise InputError(f"potential: member {k} has elements {list(m.elements)} and cutoff "
                             f"{m.cutoff} A; expected those of member 0 ({list(first.elements)}, "
                             f"{first.cutoff} A)")
    torch_dtype = getattr(torch, dtype)
    member_cls, exported_cls = _scriptable_classes(torch)
    members = []
    for m in models:
        copy = member_cls(list(m.elements), **m.hyperparameters())
        copy.load_state_dict(m.state_dict())
        members.append(copy.to(torch_dtype).eval())
    module = exported_cls(members, list(first.elements), float(first.cutoff), total_charge,
                          torch_dtype).eval()
    with warnings.catch_warnings():  # torch >= 2.10 calls TorchScript deprecated; engines
        warnings.simplefilter("ignore", FutureWarning)  # (LAMMPS, OpenMM-Torch) still load it
        scripted = torch.jit.script(module)
    metadata = {"format": FORMAT, "version": VERSION, "elements": list(first.elements),
                "cutoff": float(first.cutoff), "dtype": dtype,
                "members": len(models), "member": member,
                "hyperparameters": first.hyperparameters(), "total_charge": float(total_charge),
                "torch": torch.__version__}
    with atomic_open(path, "wb") as fh, warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.jit.save(scripted, fh, _extra_files={METADATA_FILE: json.dumps(metadata)})
    return Path(path)


def load_torchscript(path: str | Path, device: str = "cpu"):
    """``(module, metadata)`` of a file written by ``export_torchscript``."""
    torch = import_engine("torch")
    path = Path(path)
    if not path.is_file():
        raise InputError(f"path: {str(path)!r}: no such TorchScript file")
    extra = {METADATA_FILE: ""}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            module = torch.jit.load(str(path), map_location=device, _extra_files=extra)
        metadata = json.loads(extra[METADATA_FILE])
    except Exception as exc:  # torch raises many types for a foreign or truncated file
        raise InputError(f"path: {str(path)!r}: not a TorchScript potential written by "
                         f"export_torchscript ({type(exc).__name__})") from None
    if metadata.get("format") != FORMAT:
        raise InputError(f"path: {str(path)!r}: no {FORMAT!r} metadata; expected a file "
                         "written by atomistic.mlip.export.export_torchscript")
    return module.eval(), metadata


class TorchScriptCalculator(Calculator):
    """ASE calculator running a file from ``export_torchscript`` (energy eV, forces eV/A).

    Args:
        path: the exported TorchScript file.
        device: torch device to run on ("cpu", "cuda").

    The neighbour list is ``atomistic.mlip.graph``'s (the one ``CommitteeCalculator``
    uses), at the cutoff stored in the file.
    """

    implemented_properties = ("energy", "free_energy", "forces")

    def __init__(self, path: str | Path, device: str = "cpu", **kwargs):
        super().__init__(**kwargs)
        self._torch = import_engine("torch")
        self.module, self.metadata = load_torchscript(path, device)
        self.device = device
        self.elements = list(self.metadata["elements"])
        self.cutoff = float(self.metadata["cutoff"])
        self.dtype = getattr(self._torch, self.metadata["dtype"])

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        from ..structures import check_atoms
        from .graph import neighbour_pairs, species_of

        torch = self._torch
        atoms = self.atoms
        check_atoms(atoms, "atoms given to the exported potential", min_fraction=0)
        species_of(atoms.numbers, self.elements)  # UnknownElementError names the stranger
        i, j, shifts = neighbour_pairs(atoms, self.cutoff)
        as_t = lambda a, dt: torch.as_tensor(np.ascontiguousarray(a), dtype=dt,  # noqa: E731
                                             device=self.device)
        energy, forces = self.module(as_t(atoms.positions, self.dtype),
                                     as_t(atoms.numbers, torch.long),
                                     as_t(atoms.cell.array, self.dtype),
                                     as_t(np.stack([i, j]), torch.long),
                                     as_t(shifts, self.dtype))
        e = float(energy)
        self.results = {"energy": e, "free_energy": e,
                        "forces": forces.detach().cpu().to(torch.float64).numpy()}


__all__ = ["export_torchscript", "load_torchscript", "TorchScriptCalculator"]
