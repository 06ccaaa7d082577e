"""Reaction paths: (climbing-image) nudged elastic band on any ASE calculator, with committee error bars.

``run_neb(initial, final, calc)`` interpolates a band between two endpoint
structures (IDPP by default), relaxes it with ASE's ``ase.mep.NEB`` and an
ASE optimiser, and returns an ``NEBResult``: the energy profile along the
path, the forward barrier and the reaction energy (eV).

With a committee calculator (anything with ``members``, see
:mod:`atomistic.ensemble`: the MLIP ``CommitteeCalculator``, ``EMTCommittee``)
the band is relaxed on the committee mean, then every member is evaluated on
the converged images. Each member's barrier is its own maximum along the
path minus its own initial-state energy, so errors correlated between
images cancel as they should; the reported error bars are the standard
deviations over members. A calibrated committee (``calc.calibration``, see
:mod:`atomistic.mlip.calibration`) first has every member's deviation
from the committee mean stretched by its energy-difference scale factor,
E_m -> <E> + alpha (E_m - <E>) per image, so the error bars are calibrated
ones (the raw spread is kept as ``barrier_std_raw``). Per image the committee's force disagreement
``max_force_dev`` (eV/Angstrom, max over atoms of sqrt(<|F_m - <F>|^2>_m), the
DeePMD/DP-GEN measure ``CommitteeCalculator`` reports) flags the images the
committee doubts; ``NEBResult.doubted_frames`` returns them as bare
``ase.Atoms`` ready for labelling by an active-learning loop.

The barrier is read the way ``ase.mep.NEBTools.get_barrier`` reads it: the
maximum of the force-consistent spline through the images
(``ase.utils.forcecurve.fit_images``), which with a climbing image equals
the climbing image's energy to within the fit's smoothness.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator

from ..errors import ConvergenceError, InputError
from ..structures import checks_atoms


@dataclass
class NEBResult:
    """A relaxed band and what it says about the reaction.

    images: the band, endpoints included (n_images Atoms with single-point results).
    path: (n_images,) reaction coordinate, cumulative distance along the band (Angstrom).
    energies: (n_images,) energies relative to the initial state (eV).
    fit_path, fit_energies: the force-consistent spline through the images (Angstrom, eV).
    barrier: forward barrier, max of the fit minus the initial energy (eV).
    reaction_energy: E(final) - E(initial) (eV).
    saddle_index: index of the highest image.
    converged, steps, fmax: the optimiser's outcome (fmax in eV/Angstrom).
    member_energies: (M, n_images) per-member energies relative to each member's
        initial state (eV); None without a committee.
    member_barriers, member_reaction_energies: (M,) per member (eV).
    barrier_std, reaction_energy_std: standard deviations over members (eV); 0 without a committee.
        Calibrated (member deviations scaled by ``uncertainty_scale``) when the committee is.
    uncertainty_scale: the variance scale factor alpha applied (1: raw committee spread).
    barrier_std_raw, reaction_energy_std_raw: the same from the unscaled members (eV).
    max_force_dev: (n_images,) committee force disagreement per image (eV/Angstrom); None without one.
    trust_level: the max_force_dev above which an image is doubted (eV/Angstrom).
    doubted: indices of doubted images.
    """

    images: list
    path: np.ndarray
    energies: np.ndarray
    fit_path: np.ndarray
    fit_energies: np.ndarray
    barrier: float
    reaction_energy: float
    saddle_index: int
    converged: bool
    steps: int
    fmax: float
    member_energies: np.ndarray | None = None
    member_barriers: np.ndarray | None = None
    member_reaction_energies: np.ndarray | None = None
    barrier_std: float = 0.0
    reaction_energy_std: float = 0.0
    uncertainty_scale: float = 1.0
    barrier_std_raw: float = 0.0
    reaction_energy_std_raw: float = 0.0
    max_force_dev: np.ndarray | None = None
    trust_level: float | None = None
    doubted: list[int] = field(default_factory=list)

    @property
    def doubted_frames(self) -> list[Atoms]:
        """Copies of the doubted images without a calculator or constraints (labels must be the
        true forces on every atom, fixed ones included), ``info`` saying where they came from."""
        frames = []
        for i in self.doubted:
            a = self.images[i].copy()
            a.calc = None
            a.set_constraint()
            a.info.update(source="neb", image=int(i), max_force_dev=float(self.max_force_dev[i]))
            frames.append(a)
        return frames

    def to_dict(self) -> dict:
        """JSON-able summary (units in the key names)."""
        out = {"barrier_eV": self.barrier, "barrier_std_eV": self.barrier_std,
               "reaction_energy_eV": self.reaction_energy,
               "reaction_energy_std_eV": self.reaction_energy_std,
               "saddle_index": self.saddle_index, "converged": self.converged,
               "steps": self.steps, "fmax_eV_per_A": self.fmax,
               "path_A": self.path.tolist(), "energies_eV": self.energies.tolist(),
               "fit_path_A": self.fit_path.tolist(), "fit_energies_eV": self.fit_energies.tolist(),
               "doubted_images": list(self.doubted), "trust_level_eV_per_A": self.trust_level,
               "uncertainty_scale": self.uncertainty_scale,
               "barrier_std_raw_eV": self.barrier_std_raw,
               "reaction_energy_std_raw_eV": self.reaction_energy_std_raw}
        if self.member_energies is not None:
            out["member_energies_eV"] = self.member_energies.tolist()
            out["member_barriers_eV"] = self.member_barriers.tolist()
            out["member_reaction_energies_eV"] = self.member_reaction_energies.tolist()
        if self.max_force_dev is not None:
            out["max_force_dev_eV_per_A"] = self.max_force_dev.tolist()
        return out


def check_endpoints(initial: Atoms, final: Atoms) -> None:
    """Refuse endpoints that cannot be the two ends of one band, saying how to fix them."""
    if len(initial) != len(final):
        raise InputError(
            f"final: {len(final)} atoms but initial has {len(initial)}; a band needs the same "
            "atoms in both endpoints: build final from initial.copy() and move the atoms that react")
    if not np.array_equal(initial.numbers, final.numbers):
        if sorted(initial.numbers) == sorted(final.numbers):
            first = int(np.flatnonzero(initial.numbers != final.numbers)[0])
            raise InputError(
                f"final: the same atoms as initial but in a different order (first difference at "
                f"index {first}: {initial[first].symbol} vs {final[first].symbol}); atom i must be "
                "the same atom in both endpoints: reorder final (final = final[order]) or build it "
                "from initial.copy()")
        raise InputError(
            f"final: composition {final.get_chemical_formula()} differs from initial's "
            f"{initial.get_chemical_formula()}; a band joins two arrangements of the same atoms")
    if not np.array_equal(initial.pbc, final.pbc):
        raise InputError(f"final.pbc = {final.pbc.tolist()} but initial.pbc = "
                         f"{initial.pbc.tolist()}; expected the same periodicity")
    if not np.allclose(initial.cell.array, final.cell.array, atol=1e-6):
        raise InputError("final.cell differs from initial.cell; a fixed-cell band needs one cell: "
                         "relax both endpoints in the same cell")


class _ImageView(Calculator):
    """One image's window onto a calculator shared by the band.

    ASE's NEB with one shared calculator recomputes every image (endpoints
    included) at every step, since the shared cache only ever holds the last
    image. A view per image caches that image's own results, so unchanged
    endpoints and repeated queries cost nothing.
    """

    implemented_properties = ("energy", "free_energy", "forces")

    def __init__(self, shared):
        super().__init__()
        self.shared = shared

    def calculate(self, atoms=None, properties=("energy",), system_changes=None):
        super().calculate(atoms, properties, system_changes)
        a = self.atoms.copy()
        a.calc = self.shared
        e = a.get_potential_energy()
        self.results = {"energy": e, "free_energy": e, "forces": a.get_forces(apply_constraint=False)}


def _calculators(calc, n: int) -> tuple[list, bool]:
    """One calculator per image: views of one shared calculator, or fresh ones from a factory."""
    if not isinstance(calc, type) and (isinstance(calc, Calculator)
                                       or hasattr(calc, "get_potential_energy")):
        return [_ImageView(calc) for _ in range(n)], True
    if callable(calc):
        return [calc() for _ in range(n)], False
    raise InputError(f"calc = {calc!r}: expected an ASE calculator or a function returning one")


def _member_evaluation(images, members) -> tuple[np.ndarray, np.ndarray]:
    """Per-member energies (M, n) and per-image max force deviation (n,) on the images."""
    energies = np.empty((len(members), len(images)))
    forces = []
    for m, member in enumerate(members):
        f_m = []
        for i, image in enumerate(images):
            a = image.copy()
            a.calc = member
            energies[m, i] = a.get_potential_energy()
            f_m.append(a.get_forces(apply_constraint=False))
        forces.append(f_m)
    forces = np.array(forces)  # (M, n, N, 3)
    dev = np.sqrt(((forces - forces.mean(axis=0)) ** 2).sum(axis=3).mean(axis=0))  # (n, N)
    return energies, dev.max(axis=1)


@checks_atoms("initial", "final")
def run_neb(initial: Atoms, final: Atoms, calc: Calculator | Callable[[], Calculator], *,
            n_images: int = 5, climb: bool = True, fmax: float = 0.03, steps: int = 1000,
            k: float = 0.1, method: str = "improvedtangent", interpolation: str = "idpp",
            optimizer: str = "FIRE", relax_endpoints: bool = False, trust_level: float = 0.15,
            members=None, uncertainty_scale: float | None = None,
            progress: Callable[[str], None] | None = None) -> NEBResult:
    """Relax a (climbing-image) NEB between ``initial`` and ``final``.

    Args:
        initial, final: endpoint structures: same atoms in the same order, same cell.
            Their constraints (e.g. ``FixAtoms`` on a slab's bottom) are kept on every image.
        calc: an ASE calculator shared by all images (the committee, EMT, ...), or a
            zero-argument function returning a fresh calculator per image (for
            calculators that keep per-structure state, e.g. GPAW).
        n_images: intermediate images (endpoints excluded), >= 1.
        climb: climbing image (the highest image climbs to the saddle point).
        fmax: convergence on the NEB forces (eV/Angstrom).
        steps: optimiser steps at most; not converged by then raises ``ConvergenceError``.
        k: spring constant (eV/Angstrom^2).
        method: ``ase.mep.NEB`` method ("improvedtangent", "aseneb", "eb", "spline", "string").
        interpolation: "idpp" (image-dependent pair potential) or "linear".
        optimizer: "FIRE", "BFGS", "MDMin" or "LBFGS" (from ``ase.optimize``).
        relax_endpoints: relax both endpoints (same optimiser, ``fmax``) before interpolating.
        trust_level: images whose committee ``max_force_dev`` exceeds it are doubted (eV/Angstrom).
        members: committee members to evaluate along the converged path; default
            ``members_of(calc)`` (none for a plain calculator or a factory).
        uncertainty_scale: variance scale factor alpha for the members' energies along
            the path; default: the committee's calibrated energy-difference scale
            (``committee_calibration.energy_difference_scale(calc)``), 1 if uncalibrated.
        progress: called with short status strings.

    Returns:
        ``NEBResult`` (energies relative to the initial state).
    """
    from ase.mep import NEB
    from ase.utils.forcecurve import fit_images

    from ..mlip.calibration import energy_difference_scale
    from ..ensemble import members_of

    check_endpoints(initial, final)
    if n_images < 1:
        raise InputError(f"n_images = {n_images}; expected >= 1 intermediate image")
    if interpolation not in ("idpp", "linear"):
        raise InputError(f"interpolation = {interpolation!r}; expected 'idpp' or 'linear'")
    if fmax <= 0:
        raise InputError(f"fmax = {fmax}; expected > 0 eV/Angstrom")
    opt_cls = _optimizer(optimizer)
    say = progress or (lambda _msg: None)
    calcs, shared = _calculators(calc, n_images + 2)
    if members is None and shared:
        members = members_of(calc)
    if uncertainty_scale is None:
        uncertainty_scale = energy_difference_scale(calc) if shared else 1.0
    if not uncertainty_scale > 0:
        raise InputError(f"uncertainty_scale = {uncertainty_scale}; expected > 0")

    ends = []
    for name, atoms, c in (("initial", initial, calcs[0]), ("final", final, calcs[-1])):
        a = atoms.copy()
        a.calc = c
        if relax_endpoints:
            say(f"relaxing {name} state")
            opt = opt_cls(a, logfile=None)
            if not opt.run(fmax=fmax, steps=steps):
                raise ConvergenceError(f"{name}: endpoint relaxation did not reach fmax = {fmax} "
                                       f"eV/A in {steps} steps; relax it yourself or raise steps")
        ends.append(a)
    images = [ends[0]] + [ends[0].copy() for _ in range(n_images)] + [ends[1]]
    for image, c in zip(images[1:-1], calcs[1:-1]):
        image.calc = c
    neb = NEB(images, k=k, climb=climb, method=method)
    say(f"interpolating {n_images} images ({interpolation})")
    if interpolation == "idpp":
        neb.interpolate("idpp", mic=True)
    else:
        neb.interpolate(mic=True)
    say(f"relaxing the band ({'climbing image, ' if climb else ''}{optimizer}, fmax {fmax} eV/A)")
    opt = opt_cls(neb, logfile=None)
    converged = bool(opt.run(fmax=fmax, steps=steps))
    n_steps = int(opt.nsteps)
    f_now = float(np.sqrt((neb.get_forces() ** 2).sum(axis=1).max()))
    if not converged:
        raise ConvergenceError(
            f"NEB: band not converged after {n_steps} steps (max NEB force {f_now:.3g} eV/A, "
            f"fmax {fmax}); raise steps, add images, or relax the endpoints (relax_endpoints=True)")

    # freeze the relaxed band: single-point copies, so later calculator use cannot change them
    from ase.calculators.singlepoint import SinglePointCalculator

    band = []
    for image in images:
        a = image.copy()
        a.calc = SinglePointCalculator(a, energy=image.get_potential_energy(),
                                       forces=image.get_forces(apply_constraint=False))
        band.append(a)
    fit = fit_images(band)
    e0 = band[0].get_potential_energy()
    energies = np.array([a.get_potential_energy() for a in band]) - e0
    result = NEBResult(
        images=band, path=np.asarray(fit.path, float), energies=energies,
        fit_path=np.asarray(fit.fit_path, float), fit_energies=np.asarray(fit.fit_energies, float),
        barrier=float(np.max(fit.fit_energies)), reaction_energy=float(energies[-1]),
        saddle_index=int(np.argmax(energies)), converged=converged, steps=n_steps, fmax=f_now)
    if members:
        say(f"evaluating {len(members)} committee members on the path")
        e_m, dev = _member_evaluation(band, members)
        e_m = e_m - e_m[:, :1]
        result.barrier_std_raw = float(e_m.max(axis=1).std(ddof=1))
        result.reaction_energy_std_raw = float(e_m[:, -1].std(ddof=1))
        # calibrated: each member's deviation from the mean stretched by alpha, image by image
        e_m = e_m.mean(axis=0) + uncertainty_scale * (e_m - e_m.mean(axis=0))
        result.uncertainty_scale = float(uncertainty_scale)
        result.member_energies = e_m
        result.member_barriers = e_m.max(axis=1)
        result.member_reaction_energies = e_m[:, -1]
        result.barrier_std = float(result.member_barriers.std(ddof=1))
        result.reaction_energy_std = float(result.member_reaction_energies.std(ddof=1))
        result.max_force_dev = dev
        result.trust_level = float(trust_level)
        result.doubted = [int(i) for i in np.flatnonzero(dev > trust_level)]
    return result


def _optimizer(name: str):
    import ase.optimize as opt

    choices = {"FIRE": opt.FIRE, "BFGS": opt.BFGS, "MDMin": opt.MDMin, "LBFGS": opt.LBFGS}
    if name not in choices:
        raise InputError(f"optimizer = {name!r}; expected one of {sorted(choices)}")
    return choices[name]


def plot_neb(result: NEBResult, path, title: str = "", reference: NEBResult | None = None) -> None:
    """Energy profile along the band (PNG): images, the spline fit, and the committee band.

    The shaded band is mean +- one standard deviation of the member energies per image;
    ``reference`` (e.g. the same path with the reference calculator) is drawn dashed.
    """
    from matplotlib.figure import Figure

    from foundation.files import save_figure

    fig = Figure(figsize=(5.5, 3.8))
    ax = fig.subplots()
    ax.plot(result.fit_path, result.fit_energies, "-", color="C0", lw=1.2)
    ax.plot(result.path, result.energies, "o", color="C0",
            label=f"NEB: Ea = {result.barrier:.3f}"
                  + (f" ± {result.barrier_std:.3f}" if result.member_energies is not None else "")
                  + " eV")
    if result.member_energies is not None:
        from scipy.interpolate import PchipInterpolator

        # the members' spread per image, carried smoothly along the fitted profile
        sd = PchipInterpolator(result.path, result.member_energies.std(0, ddof=1))(result.fit_path)
        ax.fill_between(result.fit_path, result.fit_energies - sd, result.fit_energies + sd,
                        color="C0", alpha=0.25, label="committee ±1σ")
        for i in result.doubted:
            ax.plot(result.path[i], result.energies[i], "x", color="C3", ms=10, mew=2)
        if result.doubted:
            ax.plot([], [], "x", color="C3", label="doubted (to label)")
    if reference is not None:
        ax.plot(reference.fit_path, reference.fit_energies, "--", color="k", lw=1,
                label=f"reference: Ea = {reference.barrier:.3f} eV")
    ax.set_xlabel("reaction coordinate (Å)")
    ax.set_ylabel("energy (eV)")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)
