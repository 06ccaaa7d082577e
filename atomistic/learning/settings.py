"""What decides an active-learning run: ``ActiveLearningSettings`` and its validation.

Units: eV/Angstrom (trust levels), K, fs. The loop that reads them is
``atomistic.learning.loop``; the meaning of every field is in
docs/active_learning.md (Settings).
"""
from __future__ import annotations

from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from ..errors import InputError
from .trust_levels import TRUST_HI, TRUST_LO


class ActiveLearningSettings(BaseModel):
    """Everything that decides an active-learning run. Units: eV/Angstrom, K, fs."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["onthefly", "batch"] = "onthefly"
    trust_lo: float = Field(TRUST_LO, gt=0.0, description="eV/A; above: label the frame")
    trust_hi: float = Field(TRUST_HI, gt=0.0, description="eV/A; above: roll back, no label")
    steps: int = Field(1000, ge=1, description="MD steps per walker (batch: per round)")
    rounds: int = Field(10, ge=1, description="batch mode: exploration rounds")
    select_per_round: int = Field(8, ge=1, description="batch mode: frames labelled per round")
    selection: Literal["most_uncertain", "random", "random_per_walker", "uniform"] = Field(
        "most_uncertain", description="batch: which candidates a round labels: the most "
        "uncertain distinct ones; a random draw from the band (DP-GEN), optionally walker by "
        "walker; or 'uniform': any MD step below trust_hi, drawn at random (the random-sampling "
        "baseline, no uncertainty used)")
    rank_by: Literal["max", "mean"] = Field(
        "max", description="most_uncertain: rank candidates by the largest atomic force "
        "deviation (DP-GEN's max_force_dev) or by its mean over the frame's atoms")
    min_separation_steps: int = Field(10, ge=0,
                                      description="MD steps between two labels of one walker")
    max_calls: int = Field(100, ge=1, description="reference calls in the whole run")
    timestep_fs: float = Field(2.0, gt=0.0, le=10.0)
    temperature_K: float = Field(300.0, gt=0.0)
    final_temperature_K: float | None = Field(None, gt=0.0,
                                              description="linear ramp end (default: constant)")
    temperatures_K: list[float] | None = Field(
        None, min_length=1, description="constant walker temperatures, one walker per structure,"
        " temperature and seed (instead of temperature_K and a ramp)")
    full_round_fraction: float | None = Field(
        None, gt=0.0, le=1.0, description="batch: uncertain fraction of a round's steps at which "
        "the full select_per_round is labelled; proportionally fewer below (None: always full)")
    friction: float = Field(0.02, gt=0.0, description="Langevin friction (1/fs)")
    walkers_per_structure: int = Field(1, ge=1)
    md_engine: Literal["batched", "ase"] = Field(
        "batched", description="batch mode: 'batched' advances all walkers at once "
        "(atomistic.md.batched, one committee pass per step); 'ase': ASE's Langevin, one "
        "walker after another. Same trajectories up to round-off")
    initial_rattled: int = Field(2, ge=0, description="rattled copies per structure labelled first")
    initial_rattle_A: float = Field(0.05, ge=0.0)
    failure_cooldown_steps: int = Field(20, ge=0)
    max_rollbacks: int = Field(50, ge=1, description="per walker; then the walker stops")
    checkpoint_every: int = Field(100, ge=1, description="MD steps between state checkpoints")
    pool_every: int = Field(0, ge=0, description="keep every n-th MD frame in pool.extxyz (0: off)")
    train: dict[str, Any] = Field(default_factory=dict,
                                  description="TrainSettings for the first training")
    retrain_epochs: int = Field(20, ge=1)
    retrain_learning_rate: float = Field(2e-3, gt=0.0)
    reference_properties: list[Literal["energy", "forces", "stress", "charges", "dipole"]] = Field(
        default_factory=lambda: ["energy", "forces"], min_length=1,
        description="what each reference call stores (atomistic.mlip.dataset.LABEL_PROPERTIES); "
        "charges are GPAW Hirshfeld charges")
    reference_workers: int = Field(1, ge=1, description="parallel reference calculations (Dask)")
    scheduler: str | None = Field(None, description="Dask scheduler address for labelling")
    seed: int = 0

    @pydantic.model_validator(mode="after")
    def _ordered(self):
        if self.trust_hi <= self.trust_lo:
            raise ValueError(f"trust_hi ({self.trust_hi}) must exceed trust_lo ({self.trust_lo})")
        if "energy" not in self.reference_properties:
            raise ValueError(f"reference_properties ({self.reference_properties}) must include "
                             "'energy'")
        if self.temperatures_K is not None:
            if self.final_temperature_K is not None:
                raise ValueError("temperatures_K and final_temperature_K: give one (constant "
                                 "walker temperatures or a ramp), not both")
            if min(self.temperatures_K) <= 0:
                raise ValueError(f"temperatures_K ({self.temperatures_K}) must all be > 0 K")
        return self


def validate_learning_settings(settings, where: str = "settings") -> ActiveLearningSettings:
    """``ActiveLearningSettings`` from a dict; errors name the offending key."""
    from foundation.validation import format_errors, model_vocabulary

    from ..mlip.training import validate_settings

    if isinstance(settings, ActiveLearningSettings):
        s = settings
    else:
        try:
            s = ActiveLearningSettings.model_validate(settings or {})
        except pydantic.ValidationError as exc:
            raise InputError(format_errors(exc, "", model_vocabulary(ActiveLearningSettings),
                                           prefix=where)) from None
    validate_settings(s.train, where=f"{where}.train")
    return s

