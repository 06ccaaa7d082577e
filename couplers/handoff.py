"""Typed, versioned MD -> continuum handoff file (pydantic v2; TOML or JSON).

Holds species (name, charge number), diffusivities (value, standard error,
unit, method, fit window), profiles (grid, values, unit, reference),
permittivity, temperature, bulk concentrations and provenance. Validation
errors name the field. Files are written atomically (temp file + rename).
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import re
from pathlib import Path
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from foundation.files import write_text
from foundation.reading import read_text, reading

from .errors import InputError

SCHEMA_VERSION = 1
_UREG = None


def _quantity_unit(text: str, dimension: str, length_like: bool = False):
    """The pint unit of ``text``, checked to have ``dimension`` (a pint dimensionality string).

    Every unit string of a handoff goes through here, so "furlongs" for a diffusivity is refused by
    name. ``length_like``: the unit holds a length, so a bare "A" means angstrom (MD's habit), not
    ampere. pint is imported on first use (``import couplers`` stays fast).
    """
    global _UREG
    if _UREG is None:
        import pint
        _UREG = pint.UnitRegistry()
    spelled = re.sub(r"(?<![A-Za-z])A(?![A-Za-z])", "angstrom", text) if length_like else text
    try:
        unit = _UREG.Unit(spelled)
    except Exception:   # pint raises several types for unparsable text
        raise ValueError(f"unit {text!r} is not a unit pint can read") from None
    if dimension and unit.dimensionality != _UREG.get_dimensionality(dimension):
        raise ValueError(f"unit {text!r} has dimension {unit.dimensionality}; expected {dimension}")
    return unit


def _factor(text: str, target: str, dimension: str, length_like: bool = False) -> float:
    """Multiply a value in unit ``text`` by this to get it in ``target``."""
    unit = _quantity_unit(text, dimension, length_like)
    return float((1.0 * unit).to(target).magnitude)


class _Strict(BaseModel):
    """Every handoff model refuses keys it does not know, by name (a typo must not vanish)."""
    # NaN and infinity are refused in every float field, lists included (JSON and TOML both spell
    # them): a NaN diffusivity or profile point is never a physical value.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


def _finite(name, v):
    if isinstance(v, float) and not math.isfinite(v):
        raise ValueError(f"{name} is NaN or infinite; expected a finite number")
    return v


def _finite_values(values: list[float] | None, name: str) -> list[float] | None:
    """``values`` unchanged, or a ValueError naming ``name`` if any is NaN or infinite."""
    if values is not None and not all(math.isfinite(x) for x in values):
        raise ValueError(f"{name} contains NaN or infinite values")
    return values


class Species(_Strict):
    name: str
    charge_number: int


class Diffusivity(_Strict):
    species: str
    value: float = Field(description="diffusion coefficient in `unit`")
    stderr: float = 0.0
    unit: str
    method: str = "MSD"
    fit_window: Optional[tuple[float, float]] = None

    @field_validator("value", "stderr")
    @classmethod
    def _nonneg(cls, v, info):
        _finite(info.field_name, v)
        if v < 0:
            raise ValueError(f"{info.field_name} = {v} is negative; expected >= 0")
        return v

    @field_validator("unit")
    @classmethod
    def _unit(cls, v):
        _quantity_unit(v, "[length]**2/[time]", length_like=True)
        return v

    def si(self) -> float:
        """Value in m^2/s (converted by pint from ``unit``, e.g. m^2/s, cm^2/s, A^2/ps, nm^2/ns)."""
        return self.value * _factor(self.unit, "m**2/s", "[length]**2/[time]", length_like=True)


# What a profile measures: its pint dimension, its SI unit, and whether it belongs to one species.
# "mean_force_potential" may be molar (kJ/mol) or per ion (eV); it is read in J/mol.
PROFILE_KINDS = {
    "concentration": ("[substance]/[length]**3", "mol/m**3", True),
    "charge_density": ("[charge]/[length]**3", "C/m**3", False),
    "potential": ("[electric_potential]", "V", False),
    "diffusivity": ("[length]**2/[time]", "m**2/s", True),
    "permittivity": ("", "dimensionless", False),
    "mean_force_potential": ("[energy]/[substance]", "J/mol", True),
}


class ProfileData(_Strict):
    """A profile along the interface normal with its block standard errors.

    ``kind`` (optional; older files have none) says what it measures and fixes its dimension
    (``PROFILE_KINDS``): concentration, charge_density, potential, diffusivity, permittivity
    (relative, unit "dimensionless") or mean_force_potential (J/mol, kJ/mol or eV per ion);
    ``species`` names the species of a per-species kind. ``reference`` says where z = 0 is and,
    for potentials, what the potential is measured against. :meth:`si` gives SI numbers.
    """
    name: str
    grid: list[float]
    values: list[float]
    stderr: Optional[list[float]] = None
    grid_unit: str
    unit: str
    reference: str = ""
    kind: Optional[str] = None
    species: Optional[str] = None

    @field_validator("grid", "values", "stderr")
    @classmethod
    def _finite_list(cls, v, info):
        return _finite_values(v, info.field_name)

    @field_validator("grid_unit")
    @classmethod
    def _grid_unit(cls, v):
        _quantity_unit(v, "[length]", length_like=True)
        return v

    @field_validator("unit")
    @classmethod
    def _values_unit(cls, v):
        _quantity_unit(v, "")      # any dimension (densities, potentials, charges), but a real unit
        return v

    @model_validator(mode="after")
    def _lengths(self):
        if len(self.values) != len(self.grid):
            raise ValueError(f"values has {len(self.values)} entries but grid has {len(self.grid)}")
        if self.stderr is not None and len(self.stderr) != len(self.grid):
            raise ValueError(f"stderr has {len(self.stderr)} entries but grid has {len(self.grid)}")
        if self.kind is not None:
            if self.kind not in PROFILE_KINDS:
                raise ValueError(f"kind {self.kind!r}; expected one of {sorted(PROFILE_KINDS)}")
            dim, _, per_species = PROFILE_KINDS[self.kind]
            self._si_factor()           # the unit has the kind's dimension
            if per_species and not self.species:
                raise ValueError(f"species: missing; a {self.kind} profile belongs to one species")
        return self

    def _si_factor(self) -> float:
        dim, target, _ = PROFILE_KINDS[self.kind]
        if self.kind == "mean_force_potential":
            try:
                return _factor(self.unit, target, dim)
            except ValueError:
                try:     # per ion (eV, J): times Avogadro's number
                    from scipy.constants import N_A

                    return _factor(self.unit, "J", "[energy]") * N_A
                except ValueError:
                    raise ValueError(f"unit {self.unit!r} of a mean_force_potential profile; expected "
                                     "an energy per mole (kJ/mol) or per ion (eV)") from None
        if self.kind == "permittivity":
            return _factor(self.unit, "dimensionless", "dimensionless")
        return _factor(self.unit, target, dim, length_like=self.kind == "diffusivity")

    def si(self):
        """(grid in m, values in SI, stderr in SI or None) as numpy arrays; needs ``kind``."""
        import numpy as np

        if self.kind is None:
            raise InputError(f"profile {self.name!r}: no kind; SI conversion needs one of "
                             f"{sorted(PROFILE_KINDS)}")
        fz = _factor(self.grid_unit, "m", "[length]", length_like=True)
        f = self._si_factor()
        se = None if self.stderr is None else np.asarray(self.stderr) * f
        return np.asarray(self.grid) * fz, np.asarray(self.values) * f, se


class Provenance(_Strict):
    trajectory_sha256: str = ""
    code_version: str = ""
    created: str = Field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat())
    notes: str = ""


class DoubleLayerData(_Strict):
    """Electrified-interface results (``couplers.electrified_interface``), optional in a handoff.

    potential: V vs the bare electrode's potential of zero charge; capacitance
    (and its committee standard deviation): F/m^2; surface_charge: C/m^2;
    coverage: adsorbate coverage (0..1); work_function_shift: eV;
    pybamm_parameters: ready to ``update`` a pybamm.ParameterValues, e.g.
    {"Negative electrode double-layer capacity [F.m-2]": C(reference_potential)}
    (use with the model option {"surface form": "differential"}).
    first_layer_end (m, on the profiles' grid): where an MD interface's first adsorption
    layer ends; continuum profiles are judged against the MD's beyond it.
    """
    electrode: str = "negative"
    potential: list[float]
    capacitance: list[float]
    capacitance_stderr: Optional[list[float]] = None
    surface_charge: list[float] = []
    coverage: list[float] = []
    work_function_shift: list[float] = []
    potential_unit: str = "V"
    capacitance_unit: str = "F/m^2"
    reference_potential: float = 0.0
    committee_members: int = 1
    calibration_rms_z: Optional[float] = None
    pybamm_parameters: dict[str, float] = {}
    first_layer_end: Optional[float] = Field(None, ge=0)

    @field_validator("potential", "capacitance", "capacitance_stderr", "surface_charge", "coverage",
                     "work_function_shift")
    @classmethod
    def _finite_list(cls, v, info):
        return _finite_values(v, info.field_name)

    @model_validator(mode="after")
    def _lengths(self):
        n = len(self.potential)
        for name in ("capacitance", "capacitance_stderr", "surface_charge", "coverage", "work_function_shift"):
            v = getattr(self, name)
            if v and len(v) != n:
                raise ValueError(f"{name} has {len(v)} entries but potential has {n}")
        if self.electrode not in ("negative", "positive"):
            raise ValueError(f"electrode {self.electrode!r}; expected 'negative' or 'positive'")
        # Converted once, here: the rest of the toolkit reads V and F/m^2.
        fv = _factor(self.potential_unit, "V", "[electric_potential]")
        fc = _factor(self.capacitance_unit, "F/m**2", "[capacitance]/[area]")
        if fv != 1.0:
            self.potential = [x * fv for x in self.potential]
            self.reference_potential *= fv
        if fc != 1.0:
            self.capacitance = [x * fc for x in self.capacitance]
            if self.capacitance_stderr:
                self.capacitance_stderr = [x * fc for x in self.capacitance_stderr]
        self.potential_unit, self.capacitance_unit = "V", "F/m^2"
        return self


class ReactionKinetics(_Strict):
    """Electrode-reaction kinetics from barriers and MD (``couplers.reaction_kinetics``), optional.

    transfer_coefficient: PyBaMM's Butler–Volmer alpha, the *anodic* (oxidation)
    coefficient in j = j0 [exp(alpha F eta / RT) - exp(-(1 - alpha) F eta / RT)],
    dimensionless in [0, 1], with standard error and confidence interval;
    reorganisation_energy: Marcus lambda in eV (PyBaMM's "reorganization energy
    [eV]"), with standard error; potentials (V vs ``reference_electrode``),
    barriers and barrier_stderr (eV): the data alpha was fitted to (a potential
    without its reference electrode is refused); pybamm_parameters: ready to
    ``update`` a pybamm.ParameterValues (``check_already_exists=False``), with
    ``pybamm_option`` the matching "intercalation kinetics" model option.
    """
    electrode: str = "negative"
    reaction: str = ""
    transfer_coefficient: Optional[float] = None
    transfer_coefficient_stderr: Optional[float] = None
    transfer_coefficient_ci: Optional[tuple[float, float]] = None
    confidence: Optional[float] = None
    reorganisation_energy: Optional[float] = None
    reorganisation_energy_stderr: Optional[float] = None
    energy_unit: str = "eV"
    reference_electrode: Optional[str] = None
    potentials: list[float] = []
    barriers: list[float] = []
    barrier_stderr: list[float] = []
    method: str = ""
    pybamm_option: str = ""
    pybamm_parameters: dict[str, float] = {}

    @field_validator("transfer_coefficient", "transfer_coefficient_stderr", "reorganisation_energy",
                     "reorganisation_energy_stderr")
    @classmethod
    def _finite_value(cls, v, info):
        return _finite(info.field_name, v)

    @field_validator("potentials", "barriers", "barrier_stderr")
    @classmethod
    def _finite_list(cls, v, info):
        if not all(math.isfinite(x) for x in v):
            raise ValueError(f"{info.field_name} contains NaN or infinite values")
        return v

    @model_validator(mode="after")
    def _physical(self):
        if self.electrode not in ("negative", "positive"):
            raise ValueError(f"electrode {self.electrode!r}; expected 'negative' or 'positive'")
        if self.transfer_coefficient is None and self.reorganisation_energy is None:
            raise ValueError("neither transfer_coefficient nor reorganisation_energy given; "
                             "expected at least one")
        a = self.transfer_coefficient
        if a is not None and not 0.0 <= a <= 1.0:
            raise ValueError(f"transfer_coefficient = {a}; a Butler-Volmer transfer coefficient "
                             "lies in [0, 1]")
        lam = self.reorganisation_energy
        if lam is not None and lam <= 0:
            raise ValueError(f"reorganisation_energy = {lam} eV; expected > 0")
        if self.energy_unit != "eV":
            raise ValueError(f"energy_unit {self.energy_unit!r}; expected 'eV'")
        if self.potentials and not (self.reference_electrode or "").strip():
            raise ValueError("potentials given without reference_electrode; name the electrode "
                             "they are measured against, e.g. 'SHE' or 'Li/Li+'")
        for name in ("barriers", "barrier_stderr"):
            v = getattr(self, name)
            if v and len(v) != len(self.potentials):
                raise ValueError(f"{name} has {len(v)} entries but potentials has "
                                 f"{len(self.potentials)}")
        return self


class Handoff(_Strict):
    """The handoff record. Load with ``Handoff.load(path)``, save with ``h.save(path)``.

    temperature in K; bulk_concentrations in mol/m^3 keyed by species name;
    relative_permittivity dimensionless. A transport (MD -> continuum) handoff has
    species and relative_permittivity; a kinetics-only handoff (``kinetics``) may
    leave them out.
    """
    schema_version: int = SCHEMA_VERSION
    temperature: float
    relative_permittivity: Optional[float] = None
    species: list[Species] = []
    bulk_concentrations: dict[str, float] = {}
    concentration_unit: str = "mol/m^3"
    diffusivities: list[Diffusivity] = []
    profiles: list[ProfileData] = []
    double_layer: Optional[DoubleLayerData] = None
    kinetics: list[ReactionKinetics] = []
    provenance: Provenance = Field(default_factory=Provenance)   # created: when this record is made

    @field_validator("temperature", "relative_permittivity")
    @classmethod
    def _positive(cls, v, info):
        if v is None:
            return v
        _finite(info.field_name, v)
        if v <= 0:
            raise ValueError(f"{info.field_name} = {v}; expected > 0")
        return v

    @model_validator(mode="after")
    def _consistent(self):
        if self.schema_version != SCHEMA_VERSION:
            raise ValueError(f"schema_version {self.schema_version}; this code reads {SCHEMA_VERSION}")
        transport = bool(self.species or self.diffusivities or self.profiles or self.double_layer)
        if not transport and not self.kinetics:
            raise ValueError("species: missing; a handoff carries species (transport) or kinetics")
        if transport and self.relative_permittivity is None:
            raise ValueError("relative_permittivity: missing; a transport handoff (species, "
                             "diffusivities, profiles, double_layer) needs it")
        if transport and not self.species:
            raise ValueError("species: missing; diffusivities/profiles/double_layer need the species list")
        names = {s.name for s in self.species}
        fcon = _factor(self.concentration_unit, "mol/m**3", "[substance]/[length]**3")
        if fcon != 1.0:    # converted once, here: the continuum solvers read mol/m^3
            self.bulk_concentrations = {k: v * fcon for k, v in self.bulk_concentrations.items()}
        self.concentration_unit = "mol/m^3"
        for k, v in self.bulk_concentrations.items():
            if k not in names:
                raise ValueError(f"bulk_concentrations has unknown species {k!r}")
            if not math.isfinite(v) or v < 0:
                raise ValueError(f"bulk_concentrations[{k!r}] = {v}; expected finite >= 0")
        for d in self.diffusivities:
            if d.species not in names:
                raise ValueError(f"diffusivities: unknown species {d.species!r}")
        for p in self.profiles:
            if p.species is not None and p.species not in names:
                raise ValueError(f"profiles[{p.name!r}]: unknown species {p.species!r}")
        return self

    # --- I/O -------------------------------------------------------------
    @classmethod
    def validate_data(cls, data: dict, where: str = "") -> "Handoff":
        """Build from a dict; pydantic errors become InputError naming the field path (and
        ``where``, the file, when given)."""
        if not isinstance(data, dict):
            raise InputError(f"{where or 'handoff'}: a {type(data).__name__} at the top level; "
                             "expected a table of handoff fields")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            msgs = ["{}: {}".format(".".join(str(p) for p in e["loc"]) or "(root)", e["msg"])
                    for e in exc.errors()]
            raise InputError(f"{where + ': ' if where else ''}invalid handoff: "
                             + "; ".join(msgs)) from None

    @classmethod
    def load(cls, path) -> "Handoff":
        """Read a .toml or .json handoff file and validate it. Any file that is missing, a folder,
        not UTF-8, truncated or empty raises InputError naming the file
        (``foundation.reading``); NaN or infinite numbers are refused by field."""
        path = Path(path)
        if path.suffix not in (".toml", ".json"):
            raise InputError(f"path: {path}; expected a .toml or .json file")
        text = read_text(path, "handoff file", InputError)
        if not text.strip():
            raise InputError(f"{path}: empty handoff file")
        with reading(path, "handoff file", InputError):
            if path.suffix == ".toml":
                import tomllib
                data = tomllib.loads(text)
            else:
                data = json.loads(text)
        return cls.validate_data(data, str(path))

    def save(self, path) -> Path:
        """Write atomically as TOML or JSON (by suffix)."""
        path = Path(path)
        data = self.model_dump(mode="json", exclude_none=True)
        if path.suffix == ".toml":
            import tomli_w
            text = tomli_w.dumps(data)
        elif path.suffix == ".json":
            text = json.dumps(data, indent=2)
        else:
            raise InputError(f"path: {path}; expected a .toml or .json file")
        return write_text(path, text)

    def profile(self, kind: str, species: str | None = None) -> "ProfileData | None":
        """The profile of ``kind`` (for ``species``), or None when the handoff has none."""
        if kind not in PROFILE_KINDS:
            raise InputError(f"kind: {kind!r}; expected one of {sorted(PROFILE_KINDS)}")
        for p in self.profiles:
            if p.kind == kind and p.species == species:
                return p
        return None

    def diffusivity_si(self, species: str) -> float:
        """D of ``species`` in m^2/s."""
        for d in self.diffusivities:
            if d.species == species:
                return d.si()
        raise InputError(f"diffusivities: no entry for species {species!r}")
