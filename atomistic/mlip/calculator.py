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

Every member sees the same neighbour list: a Verlet list (``graph.VerletPairs``, skin
0.5 A by default) kept from call to call while no atom has moved more than half the skin,
so MD does not pay a fresh list every step. Members of one
architecture (a committee from one file) are evaluated in one stacked pass
(``atomistic.mlip.stacked``: the geometry shared, the members' weights as stacked
tensors), the same numbers to round-off at a fraction of the cost of calling them in
turn; stress, and the cheap head mode below, call the members in turn.
A one-member committee reports zero spread.

Members with several energy heads on one descriptor (``n_heads`` > 1, a cheap
committee) count each head as a member. Their force spread needs one backward
pass per head (about 2x the cost of one head at 3 heads); with
``head_forces=False`` only the mean force is differentiated, and the spread is
reported in energies alone, at ~1.1x the cost of one head:

- ``energies_std`` (N,) eV: per atom, the heads' standard deviation of the
  atomic energy; ``max_energy_dev`` (eV) its maximum, the cheap counterpart of
  ``max_force_dev`` (which is then absent).
"""
from __future__ import annotations

import numpy as np
from ase.calculators.calculator import Calculator, all_changes
from ase.stress import full_3x3_to_voigt_6_stress

from ..structures import check_atoms
from .graph import VerletPairs, atoms_to_graph, collate
from .threads import threads_for


def force_spread(forces):
    """Members' forces (M, N, 3) -> (mean forces (N, 3), per-atom spread (N,)
    sqrt(<|F_i - <F_i>|^2>)): the spread whose maximum is ``max_force_dev``."""
    # sums / M, not .mean(): the same numbers (numpy's mean is that sum divided), without
    # its ~10 us of bookkeeping per call, a few % of a 32-atom MD step
    m = forces.shape[0]
    mean_f = forces.sum(axis=0) / m
    return mean_f, np.sqrt(((forces - mean_f) ** 2).sum(axis=2).sum(axis=0) / m)


class CommitteeCalculator(Calculator):
    """ASE calculator averaging a committee of ``MomentPotential`` models.

    Args:
        models: the committee members (torch modules sharing elements and cutoff).
        dtype: "float32" (fast, default) or "float64".
        metadata: free-form information kept as ``.metadata`` (file provenance, metrics).
        calibration: a dict from ``CommitteeCalibration.to_dict()`` (variance scale
            factors), kept as ``.calibration``; None: uncalibrated.
        stacked: evaluate the members in one stacked pass where they allow it (default);
            False: always one after another (the reference the stacked pass is tested
            against).
        skin: Verlet skin of the neighbour list, Angstrom (0: a fresh list every call).
    """

    implemented_properties = ("energy", "free_energy", "forces", "stress", "energies",
                              "energy_std", "forces_std", "max_force_dev", "energy_sigma",
                              "forces_sigma", "charges", "energies_std", "max_energy_dev")

    def __init__(self, models, dtype: str = "float32", metadata: dict | None = None,
                 calibration: dict | None = None, head_forces: bool = True,
                 stacked: bool = True, skin: float = 0.5, **kwargs):
        super().__init__(**kwargs)
        import torch

        if not models:
            from ..errors import InputError

            raise InputError("models: an empty committee; expected at least one model")
        self.dtype = {"float32": torch.float32, "float64": torch.float64}[dtype]
        self.models = [m.to(self.dtype).eval() for m in models]
        self.elements = list(self.models[0].elements)
        self.cutoff = float(self.models[0].cutoff)
        self.metadata = dict(metadata or {})
        self.calibration = dict(calibration) if calibration else None
        self.head_forces = bool(head_forces)
        from .stacked import stackable

        self.stacked = bool(stacked) and stackable(self.models)
        self.pairs = VerletPairs(self.cutoff, skin)

    @property
    def members(self):
        """One ASE calculator per committee member (for per-member property workflows);
        each head of a several-head model is a member of its own."""
        models = [m.single_head(h) if getattr(m, "n_heads", 1) > 1 else m
                  for m in self.models for h in range(getattr(m, "n_heads", 1))]
        if len(models) < 2:
            return [self]
        return [CommitteeCalculator([m], dtype=str(self.dtype).split(".")[-1],
                                    skin=self.pairs.skin, metadata=self.metadata)
                for m in models]

    def check_state(self, atoms, tol=1e-15):
        """ASE's checks, plus the frame's total charge (``atoms.info["charge"]``, what the
        charges sum to): ASE does not look at ``info``, and a cached neutral result would
        otherwise be returned for a charged copy of the same positions."""
        changes = super().check_state(atoms, tol)
        if self.atoms is not None and atoms.info.get("charge") != self.atoms.info.get("charge"):
            changes.append("charge")
        return changes

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        import torch   # not kept on self: a module attribute would make the calculator
                       # impossible to deep-copy or pickle (screening tasks, Dask workers)
        atoms = self.atoms
        # a NaN coordinate falls outside every cutoff and would give a finite, wrong energy
        check_atoms(atoms, "atoms given to the learned potential", min_fraction=0)
        want_stress = "stress" in properties and bool(np.all(atoms.pbc))
        batch = collate([atoms_to_graph(atoms, self.elements, self.cutoff, self.pairs)],
                        dtype=self.dtype)
        total = atoms.info.get("charge")
        if total is not None:
            batch["total_charge"] = torch.as_tensor([float(total)], dtype=self.dtype)
        n_members = sum(getattr(m, "n_heads", 1) for m in self.models)
        with threads_for(self.pairs.listed * n_members):
            self._evaluate(batch, want_stress)

    def _evaluate(self, batch, want_stress):
        """Every member's energy, forces (and stress) on the one-frame ``batch``: results."""
        import torch

        energies, forces, stresses, atomic, charges = [], [], [], [], []
        np64 = lambda t: t.detach().to(torch.float64).numpy()  # noqa: E731
        cheap = False
        n_heads = [getattr(m, "n_heads", 1) for m in self.models]
        if self.stacked and not want_stress and (self.head_forces or max(n_heads) == 1):
            from .stacked import stacked_energies_forces

            from .model import pair_vectors

            vec = pair_vectors(batch["positions"], batch["edge_index"], batch["shifts"],
                               batch["cell"], batch["batch"])
            e, f, a, q = stacked_energies_forces(
                self.models, batch["positions"], batch["edge_index"], batch["slots"], vec,
                batch["species"], batch["batch"], 1, cell=batch["cell"],
                total_charge=batch.get("total_charge"), details=True)
            energies, forces, atomic = list(np64(e[:, 0])), list(np64(f)), list(np64(a))
            if q is not None:   # one charge head per model, shared by its energy heads
                charges = list(np64(q)[np.cumsum([0] + n_heads[:-1])])
        for model in self.models if not energies else ():
            heads = getattr(model, "n_heads", 1) > 1
            out = model(batch, compute_forces=True, compute_stress=want_stress,
                        head_forces=heads and self.head_forces)
            if "charges" in out:
                charges.append(np64(out["charges"]))
            if heads:  # every head is a member
                energies.extend(np64(out["head_energies"])[0])
                atomic.extend(np64(out["head_atomic_energies"]).T)
                if "head_forces" in out:
                    forces.extend(np64(out["head_forces"]))
                else:
                    cheap = True
                    forces.extend([np64(out["forces"])] * model.n_heads)
            else:
                energies.append(float(out["energy"].detach()[0]))
                forces.append(np64(out["forces"]))
                atomic.append(np64(out["atomic_energies"]))
            if want_stress:
                stresses.append(np64(out["stress"])[0])
        energies = np.array(energies)
        forces = np.array(forces)  # (M, N, 3)
        mean_f, f_std = force_spread(forces)
        e = float(energies.mean())
        e_std = np.std(atomic, axis=0)
        self.results = {
            "energy": e,
            "free_energy": e,
            "energies": np.mean(atomic, axis=0),
            "forces": mean_f,
            "energy_std": float(energies.std()),
            "energies_std": e_std,
            "max_energy_dev": float(e_std.max()) if len(e_std) else 0.0,
            "member_energies": energies,
        }
        if not cheap:  # without each head's forces there is no force spread to report
            self.results["forces_std"] = f_std
            self.results["max_force_dev"] = float(f_std.max()) if len(f_std) else 0.0
        m = len(energies)
        if m > 1:
            cal = self.calibration or {}
            ddof1 = np.sqrt(m / (m - 1))
            self.results["energy_sigma"] = float(cal.get("energy_scale", 1.0) * energies.std(ddof=1))
            if not cheap:
                self.results["forces_sigma"] = cal.get("force_scale", 1.0) * ddof1 * f_std
        else:
            self.results["energy_sigma"] = 0.0
            self.results["forces_sigma"] = np.zeros_like(f_std)
        if want_stress:
            self.results["stress"] = full_3x3_to_voigt_6_stress(np.mean(stresses, axis=0))
        if charges:  # committee mean; each member's sum is the frame's total charge
            self.results["charges"] = np.mean(charges, axis=0)
            self.results["charges_std"] = np.std(charges, axis=0)
