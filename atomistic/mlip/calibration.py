"""Calibrated committee error bars: one variance scale factor per quantity, fitted on held-out frames.

A committee's spread measures how much its members disagree, not how far
their mean is from the truth: members trained on the same data share part of
their error (over-confident), members that over-fit differently may disagree
more than the mean errs (under-confident). The standard fix (Musil et al.,
J. Chem. Theory Comput. 15, 906 (2019)) is one scale factor alpha per
quantity, fitted on labelled frames the committee never trained on: the
reported uncertainty becomes alpha * sigma (sigma the members' standard
deviation, ddof=1), and derived quantities are propagated by stretching every
member's deviation from the committee mean, y_m -> ybar + alpha (y_m - ybar),
before the derived quantity is computed per member (so correlated errors
stay correlated).

Fit (``fit_variance_scale``), with z_j = (ybar_j - y_j) / sigma_j over
held-out values j:

- ``method="likelihood"`` (default): alpha^2 = <z^2>, the maximum-likelihood
  scale for Gaussian errors of variance alpha^2 sigma^2; calibrated z-scores
  have unit variance on the calibration set by construction, and on new
  held-out data when the calibration transfers (``z_variance`` checks it).
- ``method="musil"``: Musil's finite-committee correction
  alpha^2 = -1/M + (M - 3)/(M - 1) <z^2>, which accounts for sigma being
  estimated from M members; it needs M > 3 and is noisy below M ~ 8
  (M = 4 can give alpha^2 <= 0, which is refused).

Which quantity to calibrate matters, because errors of different quantities
are not equally shared between members. ``calibrate_committee`` fits three:

- ``energy_scale``: total energies of the frames (eV);
- ``energy_difference_scale``: energies relative to a ``reference_structure``
  (eV), the quantity reaction energies and barriers are made of (errors common
  to both structures cancel in a difference, so it needs its own factor);
- ``force_scale``: force components (eV/Angstrom).

The result is stored with the potential (``store_calibration`` writes it into
the ``*.mlip.pt`` file; ``load_potential`` hands it to the
``CommitteeCalculator``, which then reports calibrated ``energy_sigma`` and
``forces_sigma`` beside the raw spreads), or attached to any committee
calculator with ``attach_calibration``. ``atomistic.reactions.neb.run_neb`` stretches
the members' energies along the path by ``energy_difference_scale`` (falling
back to ``energy_scale``), so ``barrier_std`` and ``reaction_energy_std`` are
calibrated.

Validation frames must be drawn like the frames the committee will be asked
about (rattled configurations around the same structures, MD snapshots at the
same temperature), not from its training set, and never the very quantity
being reported (a barrier calibrated on itself is circular).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError

METHODS = ("likelihood", "musil")


def z_scores(member_values, reference, scale: float = 1.0) -> np.ndarray:
    """(n,) z = (committee mean - reference) / (scale * sigma), sigma the members' std (ddof=1).

    Args:
        member_values: (M, n) the members' predictions of n scalar values (M >= 2).
        reference: (n,) the reference values, same units.
        scale: the variance scale factor alpha (1 = raw spread).
    """
    y = np.asarray(member_values, dtype=float)
    ref = np.asarray(reference, dtype=float)
    if y.ndim != 2 or y.shape[0] < 2 or y.shape[1:] != ref.shape:
        raise InputError(f"member_values: shape {y.shape} with reference {ref.shape}: expected "
                         "(M >= 2 members, n values) and (n,)")
    # a spread floored at 1e-12 of the value scale: members that agree exactly carry no information
    sd = np.maximum(y.std(axis=0, ddof=1), 1e-12 * (1.0 + np.abs(ref)))
    return (y.mean(axis=0) - ref) / (scale * sd)


def fit_variance_scale(member_values, reference, method: str = "likelihood") -> float:
    """The scale alpha that makes alpha * sigma the committee's error (see module docstring)."""
    if method not in METHODS:
        raise InputError(f"method = {method!r}: expected one of {METHODS}")
    z = z_scores(member_values, reference)
    if z.size < 2:
        raise InputError(f"reference: {z.size} value(s); expected at least 2 held-out values")
    mean_z2 = float(np.mean(z ** 2))
    if method == "likelihood":
        return float(np.sqrt(mean_z2))
    m = np.asarray(member_values).shape[0]
    if m <= 3:
        raise InputError(f"method = 'musil' with {m} members: the finite-committee correction "
                         "needs M > 3; use method='likelihood'")
    a2 = -1.0 / m + (m - 3) / (m - 1) * mean_z2
    if a2 <= 0:
        raise InputError(f"method = 'musil': alpha^2 = {a2:.3g} <= 0 with {m} members (the "
                         "correction is too noisy for this committee); use method='likelihood'")
    return float(np.sqrt(a2))


def scale_interval(member_values, reference, method: str = "likelihood", groups=None,
                   level: float = 0.95, n_boot: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Bootstrap interval (lo, hi) of alpha, resampling whole frames.

    With few members the per-value z^2 is heavy-tailed (sigma from M members makes z
    Student-t-like with M - 1 degrees of freedom), so alpha is itself uncertain; this
    says how much. ``groups``: (n,) frame index of each value (force components of one
    frame move together); default one frame per value.
    """
    z2 = z_scores(member_values, reference) ** 2
    g = np.arange(z2.size) if groups is None else np.asarray(groups)
    frames, inverse = np.unique(g, return_inverse=True)
    sums = np.bincount(inverse, weights=z2)
    counts = np.bincount(inverse).astype(float)
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, frames.size, (n_boot, frames.size))
    mean_z2 = sums[pick].sum(axis=1) / counts[pick].sum(axis=1)
    if method == "musil":
        m = np.asarray(member_values).shape[0]
        a2 = -1.0 / m + (m - 3) / (m - 1) * mean_z2
    else:
        a2 = mean_z2
    lo, hi = np.quantile(np.sqrt(np.maximum(a2, 0.0)), [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def z_variance(member_values, reference, scale: float = 1.0) -> float:
    """<z^2> of held-out values at scale alpha: 1 for a calibrated committee."""
    return float(np.mean(z_scores(member_values, reference, scale) ** 2))


@dataclass
class CommitteePredictions:
    """Members' and reference values on labelled frames.

    energies: (M, n) member total energies (eV); ref_energies: (n,) (eV).
    forces: (M, K) member force components over all frames' atoms (eV/Angstrom);
    ref_forces: (K,); force_frame: (K,) the frame each component belongs to. reference_energies: (M,) member energies of the reference
    structure, ref_reference_energy: its label (eV); None without one.
    """

    energies: np.ndarray
    ref_energies: np.ndarray
    forces: np.ndarray
    ref_forces: np.ndarray
    force_frame: np.ndarray
    reference_energies: np.ndarray | None = None
    ref_reference_energy: float | None = None

    def differences(self) -> tuple[np.ndarray, np.ndarray]:
        """(M, n) member and (n,) reference energies relative to the reference structure (eV)."""
        if self.reference_energies is None:
            raise InputError("reference_structure: none given; energy differences need one")
        return (self.energies - self.reference_energies[:, None],
                self.ref_energies - self.ref_reference_energy)


def committee_predictions(calc, frames, reference_structure=None,
                          reference_calc=None) -> CommitteePredictions:
    """Evaluate every member of committee ``calc`` on labelled ``frames``.

    Args:
        calc: a committee calculator (``members``, see ``atomistic.ensemble``).
        frames: ``ase.Atoms`` whose calculators hold the reference labels (energy, forces),
            e.g. from ``atomistic.mlip.dataset.label_frames`` or ``read_frames``.
        reference_structure: optional structure energies are taken relative to; its
            reference energy is its own label, or ``reference_calc``'s.
        reference_calc: labels ``reference_structure`` when it carries none.
    """
    from ..ensemble import members_of

    members = members_of(calc)
    if not members:
        raise InputError(f"calc = {type(calc).__name__}: not a committee (no >= 2 members); "
                         "calibration scales a committee's spread")
    frames = list(frames)
    if len(frames) < 2:
        raise InputError(f"frames: {len(frames)} frame(s); expected at least 2 labelled frames")
    ref_e, ref_f = [], []
    for k, atoms in enumerate(frames):
        if atoms.calc is None:
            raise InputError(f"frames[{k}]: no labels; label the frames first "
                             "(atomistic.mlip.dataset.label_frames)")
        ref_e.append(atoms.get_potential_energy())
        ref_f.append(atoms.get_forces(apply_constraint=False).ravel())
    energies, forces = [], []
    for member in members:
        e_m, f_m = [], []
        for atoms in frames:
            a = atoms.copy()
            a.calc = member
            e_m.append(a.get_potential_energy())
            f_m.append(a.get_forces(apply_constraint=False).ravel())
        energies.append(e_m)
        forces.append(np.concatenate(f_m))
    force_frame = np.concatenate([np.full(f.size, k) for k, f in enumerate(ref_f)])
    out = CommitteePredictions(np.array(energies), np.array(ref_e), np.array(forces),
                               np.concatenate(ref_f), force_frame)
    if reference_structure is not None:
        r = reference_structure.copy()
        if reference_calc is not None:
            r.calc = reference_calc() if isinstance(reference_calc, type) else reference_calc
        else:
            r.calc = reference_structure.calc
        if r.calc is None:
            raise InputError("reference_structure: no label and no reference_calc; give the "
                             "reference calculator (e.g. EMT) or a labelled structure")
        out.ref_reference_energy = float(r.get_potential_energy())
        e_r = []
        for member in members:
            a = reference_structure.copy()
            a.calc = member
            e_r.append(a.get_potential_energy())
        out.reference_energies = np.array(e_r)
    return out


@dataclass
class CommitteeCalibration:
    """Variance scale factors of a committee (dimensionless) and the evidence behind them.

    energy_scale, energy_difference_scale, force_scale: alpha per quantity
    (energy_difference_scale None without a reference structure).
    z_variance_raw: <z^2> per quantity before calibration (on the calibration frames).
    intervals: per quantity, a 95 % bootstrap interval [lo, hi] of its alpha (frames resampled).
    method, n_frames, n_members: how it was fitted.
    """

    energy_scale: float
    force_scale: float
    energy_difference_scale: float | None = None
    method: str = "likelihood"
    n_frames: int = 0
    n_members: int = 0
    z_variance_raw: dict = field(default_factory=dict)
    intervals: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> CommitteeCalibration:
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        return cls(**known)


def calibrate_committee(calc, frames, reference_structure=None, reference_calc=None,
                        method: str = "likelihood") -> CommitteeCalibration:
    """Fit the committee's variance scale factors on held-out labelled ``frames``.

    Args:
        calc: the committee calculator (not trained on ``frames``).
        frames: labelled validation frames, drawn like the structures it will be used on.
        reference_structure: the structure energy differences are taken against (e.g. a
            reaction's initial state); enables ``energy_difference_scale``.
        reference_calc: the reference calculator, when ``reference_structure`` has no label.
        method: "likelihood" or "musil" (see the module docstring).
    """
    p = committee_predictions(calc, frames, reference_structure, reference_calc)
    cal = CommitteeCalibration(
        energy_scale=fit_variance_scale(p.energies, p.ref_energies, method),
        force_scale=fit_variance_scale(p.forces, p.ref_forces, method),
        method=method, n_frames=len(p.ref_energies), n_members=p.energies.shape[0],
        z_variance_raw={"energy": z_variance(p.energies, p.ref_energies),
                        "force": z_variance(p.forces, p.ref_forces)},
        intervals={"energy": scale_interval(p.energies, p.ref_energies, method),
                   "force": scale_interval(p.forces, p.ref_forces, method, p.force_frame)})
    if reference_structure is not None:
        y, ref = p.differences()
        cal.energy_difference_scale = fit_variance_scale(y, ref, method)
        cal.z_variance_raw["energy_difference"] = z_variance(y, ref)
        cal.intervals["energy_difference"] = scale_interval(y, ref, method)
    return cal


def check_calibration(calc, frames, calibration: CommitteeCalibration, reference_structure=None,
                      reference_calc=None) -> dict:
    """<z^2> per quantity on other held-out ``frames``, raw and calibrated (1 = calibrated).

    Returns a dict ``{quantity: {"raw": <z^2>, "calibrated": <z^2>, "n": count}}``.
    """
    p = committee_predictions(calc, frames, reference_structure, reference_calc)
    pairs = {"energy": (p.energies, p.ref_energies, calibration.energy_scale),
             "force": (p.forces, p.ref_forces, calibration.force_scale)}
    if reference_structure is not None and calibration.energy_difference_scale is not None:
        y, ref = p.differences()
        pairs["energy_difference"] = (y, ref, calibration.energy_difference_scale)
    return {q: {"raw": z_variance(y, ref), "calibrated": z_variance(y, ref, s), "n": int(ref.size)}
            for q, (y, ref, s) in pairs.items()}


def attach_calibration(calc, calibration: CommitteeCalibration | dict):
    """Give committee calculator ``calc`` a calibration (``calc.calibration``); returns ``calc``."""
    cal = (calibration if isinstance(calibration, CommitteeCalibration)
           else CommitteeCalibration.from_dict(calibration))
    calc.calibration = cal.to_dict()
    return calc


def calibration_of(calc) -> CommitteeCalibration | None:
    """The calibration a committee calculator carries, or None (raw spread)."""
    cal = getattr(calc, "calibration", None)
    if not cal:
        return None
    return cal if isinstance(cal, CommitteeCalibration) else CommitteeCalibration.from_dict(cal)


def energy_difference_scale(calc) -> float:
    """alpha for energy differences (barriers, reaction energies): the difference factor,
    else the total-energy factor, else 1 (uncalibrated)."""
    cal = calibration_of(calc)
    if cal is None:
        return 1.0
    return float(cal.energy_difference_scale if cal.energy_difference_scale is not None
                 else cal.energy_scale)


def store_calibration(path: str | Path, calibration: CommitteeCalibration) -> Path:
    """Write ``calibration`` into the potential file at ``path`` (atomic); returns the path.

    ``load_potential(path)`` then returns a calibrated ``CommitteeCalculator``.
    """
    from .potential import atomic_torch_save, read_potential_file

    payload = read_potential_file(path)
    payload["calibration"] = calibration.to_dict()
    atomic_torch_save(payload, path)
    return Path(path)
