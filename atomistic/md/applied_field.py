"""A uniform applied electric field on top of any ASE calculator: F_i += q_i E.

``UniformField(base, field_V_per_A, direction=(0, 0, 1), charges=None)`` adds the
force q_i E on every atom. The charges are either given (fixed, in e: formal or
force-field charges) or, with ``charges=None``, taken from the base calculator's
``charges`` result at every step: a learned potential that predicts atomic
charges (``atomistic.mlip``, ``charges: true``) then carries its own response.

What it does not do, on purpose:
- The energy is the base calculator's. In a periodic cell -sum q_i E.r_i is not a
  function of the wrapped positions, so the field's work is reported separately
  (``results["field_work"]``, with unwrapped positions as they stand) and left out
  of ``energy``. With charges that depend on positions the field force is also not
  the gradient of anything (the dq/dr term is dropped, as in every fixed-charge
  field MD); run it under a thermostat, not in NVE.
- Stress is the base calculator's (the field adds no virial in this convention).
"""
from __future__ import annotations

import numpy as np
from ase.calculators.calculator import Calculator, all_changes

from ..errors import InputError


class UniformField(Calculator):
    """``base`` plus the force of a uniform field of ``field_V_per_A`` (V/A) along ``direction``."""

    def __init__(self, base, field_V_per_A: float, direction=(0.0, 0.0, 1.0), charges=None,
                 **kwargs):
        super().__init__(**kwargs)
        if not np.isfinite(field_V_per_A):
            raise InputError(f"field_V_per_A: {field_V_per_A}; expected a finite field in V/A")
        if abs(field_V_per_A) > 2.0:
            raise InputError(f"field_V_per_A: {field_V_per_A}; expected |E| <= 2 V/A "
                             "(fields in electrochemical double layers are ~0.1-1 V/A)")
        d = np.asarray(direction, dtype=float)
        if d.shape != (3,) or not np.isfinite(d).all() or np.linalg.norm(d) == 0:
            raise InputError(f"direction: {direction!r}; expected a nonzero 3-vector")
        self.base = base
        self.field = float(field_V_per_A) * d / np.linalg.norm(d)   # V/A = eV/(e A)
        self.fixed_charges = None if charges is None else np.asarray(charges, dtype=float)
        props = set(getattr(base, "implemented_properties", ())) | {"energy", "forces"}
        self.implemented_properties = tuple(props | {"field_work"})

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        atoms = self.atoms
        base_props = [p for p in properties if p != "field_work"]
        if "forces" not in base_props:
            base_props.append("forces")
        if self.fixed_charges is None and "charges" not in base_props:
            base_props.append("charges")
        self.base.calculate(atoms, base_props, system_changes)
        self.results = dict(self.base.results)
        if self.fixed_charges is not None:
            if self.fixed_charges.shape != (len(atoms),):
                raise InputError(f"charges: {self.fixed_charges.shape} values for "
                                 f"{len(atoms)} atoms; expected one charge per atom")
            q = self.fixed_charges
        elif "charges" in self.results:
            q = np.asarray(self.results["charges"], dtype=float)
        else:
            raise InputError(f"charges: the base calculator {type(self.base).__name__} predicts "
                             "no atomic charges; give fixed charges (e)")
        self.results["forces"] = self.results["forces"] + q[:, None] * self.field[None, :]
        self.results["field_work"] = float(np.sum(q * (atoms.positions @ self.field)))
