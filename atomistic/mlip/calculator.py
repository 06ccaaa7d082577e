"""``CommitteeCalculator``: a committee of learned potentials as one ASE calculator.

Results are committee means (energy eV, forces eV/Angstrom, stress eV/Angstrom^3
in ASE's Voigt order) plus the spread:

- ``energy_std`` (eV): standard deviation of the members' total energies;
- ``forces_std`` (N,) eV/Angstrom: per atom sqrt(<|F_i - <F_i>|^2>);
- ``max_force_dev`` (eV/Angstrom): max_i of ``forces_std``, the DeePMD/DP-GEN
  model-deviation measure used to pick frames for labelling.

These are raw spreads. With a ``calibration`` (variance scale factors fitted
on held-out frames, see ``atomistic.mlip.calibration``; stored in the
potential file and loaded with it) the calculator also reports the calibrated
uncertainties, what an error bar should quote:

- ``energy_sigma`` (eV): energy_scale * (members' energy std, ddof=1);
- ``forces_sigma`` (N,) eV/Angstrom: force_scale * sqrt(M/(M-1)) * ``forces_std``
  (ddof=1, per atom, as per-component calibration fits it).

Without a calibration both equal the ddof=1 spreads (scale 1). The raw
``max_force_dev`` is left as it is: trust levels are defined on it.

Every member sees the same neighbour list, built once per call.
A one-member committee reports zero spread.
"""
from __future__ import annotations

import numpy as np
from ase.calculators.calculator import Calculator, all_changes
from ase.stress import full_3x3_to_voigt_6_stress

from ..structures import check_atoms
from .graph import atoms_to_graph, collate


class CommitteeCalculator(Calculator):
    """ASE calculator averaging a committee of ``MomentPotential`` models.

    Args:
        models: the committee members (torch modules sharing elements and cutoff).
        dtype: "float32" (fast, default) or "float64".
        metadata: free-form information kept as ``.metadata`` (file provenance, metrics).
        calibration: a dict from ``CommitteeCalibration.to_dict()`` (variance scale
            factors), kept as ``.calibration``; None: uncalibrated.
    """

    implemented_properties = ("energy", "free_energy", "forces", "stress", "energies",
                              "energy_std", "forces_std", "max_force_dev", "energy_sigma",
                              "forces_sigma", "charges")

    def __init__(self, models, dtype: str = "float32", metadata: dict | None = None,
                 calibration: dict | None = None, **kwargs):
        super().__init__(**kwargs)
        import torch

        if not models:
            from ..errors import InputError

            raise InputError("models: an empty committee; expected at least one model")
        self._torch = torch
        self.dtype = {"float32": torch.float32, "float64": torch.float64}[dtype]
        self.models = [m.to(self.dtype).eval() for m in models]
        self.elements = list(self.models[0].elements)
        self.cutoff = float(self.models[0].cutoff)
        self.metadata = dict(metadata or {})
        self.calibration = dict(calibration) if calibration else None

    @property
    def members(self):
        """One ASE calculator per committee member (for per-member property workflows)."""
        if len(self.models) < 2:
            return [self]
        return [CommitteeCalculator([m], dtype=str(self.dtype).split(".")[-1],
                                    metadata=self.metadata) for m in self.models]

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        torch = self._torch
        atoms = self.atoms
        # a NaN coordinate falls outside every cutoff and would give a finite, wrong energy
        check_atoms(atoms, "atoms given to the learned potential", min_fraction=0)
        want_stress = "stress" in properties and bool(np.all(atoms.pbc))
        batch = collate([atoms_to_graph(atoms, self.elements, self.cutoff)], dtype=self.dtype)
        total = atoms.info.get("charge")
        if total is not None:
            batch["total_charge"] = torch.as_tensor([float(total)], dtype=self.dtype)
        energies, forces, stresses, atomic, charges = [], [], [], [], []
        for model in self.models:
            out = model(batch, compute_forces=True, compute_stress=want_stress)
            if "charges" in out:
                charges.append(out["charges"].detach().to(torch.float64).numpy())
            energies.append(float(out["energy"].detach()[0]))
            forces.append(out["forces"].detach().to(torch.float64).numpy())
            atomic.append(out["atomic_energies"].detach().to(torch.float64).numpy())
            if want_stress:
                stresses.append(out["stress"].detach().to(torch.float64).numpy()[0])
        energies = np.array(energies)
        forces = np.array(forces)  # (M, N, 3)
        mean_f = forces.mean(axis=0)
        f_std = np.sqrt(((forces - mean_f) ** 2).sum(axis=2).mean(axis=0))
        e = float(energies.mean())
        self.results = {
            "energy": e,
            "free_energy": e,
            "energies": np.mean(atomic, axis=0),
            "forces": mean_f,
            "energy_std": float(energies.std()),
            "forces_std": f_std,
            "max_force_dev": float(f_std.max()) if len(f_std) else 0.0,
            "member_energies": energies,
        }
        m = len(energies)
        if m > 1:
            cal = self.calibration or {}
            ddof1 = np.sqrt(m / (m - 1))
            self.results["energy_sigma"] = float(cal.get("energy_scale", 1.0) * energies.std(ddof=1))
            self.results["forces_sigma"] = cal.get("force_scale", 1.0) * ddof1 * f_std
        else:
            self.results["energy_sigma"] = 0.0
            self.results["forces_sigma"] = np.zeros_like(f_std)
        if want_stress:
            self.results["stress"] = full_3x3_to_voigt_6_stress(np.mean(stresses, axis=0))
        if charges:  # committee mean; each member's sum is the frame's total charge
            self.results["charges"] = np.mean(charges, axis=0)
            self.results["charges_std"] = np.std(charges, axis=0)
