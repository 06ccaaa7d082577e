"""How well a calculator reproduces labelled frames (and how well its committee knows it)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class PredictionErrors:
    """Errors of a calculator against labelled frames.

    energy_mae: mean |dE|/N (eV/atom); force_mae: mean |dF_component| over every Cartesian
    component (eV/Angstrom); force_mae_per_atom: mean |dF_i| of the per-atom error vectors
    (about 1.6x the component MAE for isotropic errors); force_rmse, force_rmse_per_atom:
    the same as root mean squares;
    max_force_error: per frame, max_i |F_i - F_i^ref| (eV/Angstrom);
    max_force_dev: per frame, the committee's max force deviation (eV/Angstrom),
    empty when the calculator reports none;
    force_mae_per_frame: per frame, its mean |dF_component| (force_mae is their mean; their
    spread gives force_mae's standard error over frames).
    """

    energy_mae: float
    force_mae: float
    max_force_error: list[float]
    max_force_dev: list[float]
    force_mae_per_atom: float = float("nan")
    force_rmse: float = float("nan")
    force_rmse_per_atom: float = float("nan")
    force_mae_per_frame: list[float] = field(default_factory=list)


def prediction_errors(calc, frames) -> PredictionErrors:
    """Evaluate ``calc`` on copies of labelled ``frames`` (their own calculators hold the labels)."""
    e_err, f_err, f_max, dev, comps, norms = [], [], [], [], [], []
    for atoms in frames:
        a = atoms.copy()
        a.calc = calc
        df = a.get_forces() - atoms.get_forces()
        e_err.append(abs(a.get_potential_energy() - atoms.get_potential_energy()) / len(a))
        f_err.append(np.abs(df).mean())
        norm = np.linalg.norm(df, axis=1)
        f_max.append(float(norm.max()))
        comps.append(df.ravel())
        norms.append(norm)
        if "max_force_dev" in calc.results:
            dev.append(float(calc.results["max_force_dev"]))
    comps = np.concatenate(comps) if comps else np.zeros(0)
    norms = np.concatenate(norms) if norms else np.zeros(0)
    return PredictionErrors(float(np.mean(e_err)), float(np.mean(f_err)), f_max, dev,
                            force_mae_per_atom=float(np.mean(norms)),
                            force_rmse=float(np.sqrt(np.mean(comps ** 2))),
                            force_rmse_per_atom=float(np.sqrt(np.mean(norms ** 2))),
                            force_mae_per_frame=[float(x) for x in f_err])
