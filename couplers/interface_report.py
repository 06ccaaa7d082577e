"""What leaves the electrified-interface solver: a handoff file for PyBaMM and one figure.

``interface_handoff`` turns a sweep (or a committee of sweeps, with its band)
into a ``couplers.handoff.Handoff`` carrying C(U); ``plot_interface`` draws the
depolarisation fit, C(U) and the self-consistency residuals in one PNG.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .electrified_interface import InterfaceState
from .errors import InputError
from .interface_committee import CommitteeInterface


def interface_handoff(result, electrolyte: dict, *, species: Sequence[str], electrode: str = "negative",
                      reference_potential: float = 0.0, notes: str = ""):
    """A Handoff carrying C(U) (band when ``result`` is a CommitteeInterface) for PyBaMM.

    species: names of the electrolyte species (in the order of
    electrolyte['concentrations']). The PyBaMM parameter
    '<Electrode> electrode double-layer capacity [F.m-2]' is C at
    ``reference_potential`` (V), interpolated.
    """
    from .handoff import DoubleLayerData, Handoff, Provenance, Species

    if electrode not in ("negative", "positive"):
        raise InputError(f"electrode = {electrode!r}; expected 'negative' or 'positive'")
    if isinstance(result, CommitteeInterface):
        us, cap, err = result.potential, result.capacitance_mean, result.capacitance_std
        sw = result.sweeps[0]
        sigma = np.mean([s.surface_charge for s in result.sweeps], axis=0)
        cov = np.mean([s.coverage for s in result.sweeps], axis=0)
        dphi = np.mean([s.work_function_shift for s in result.sweeps], axis=0)
        n_members = len(result.sweeps)
        calib = result.calibration.rms_z if result.calibration else None
    else:
        sw = result
        us, cap, err = sw.potential, sw.capacitance, None
        sigma, cov, dphi = sw.surface_charge, sw.coverage, sw.work_function_shift
        n_members, calib = 1, None
    if not us[0] <= reference_potential <= us[-1]:
        raise InputError(f"reference_potential = {reference_potential}; expected inside the swept window "
                         f"[{us[0]}, {us[-1]}] V")
    c_ref = float(np.interp(reference_potential, us, cap))
    conc = list(np.atleast_1d(electrolyte["concentrations"]))
    val = list(np.atleast_1d(electrolyte["valences"]))
    if len(species) != len(conc):
        raise InputError(f"species: {len(species)} names for {len(conc)} concentrations")
    dl = DoubleLayerData(
        electrode=electrode, potential=us.tolist(), capacitance=np.asarray(cap).tolist(),
        capacitance_stderr=None if err is None else np.asarray(err).tolist(), surface_charge=sigma.tolist(),
        coverage=cov.tolist(), work_function_shift=dphi.tolist(), reference_potential=reference_potential,
        committee_members=n_members, calibration_rms_z=calib,
        pybamm_parameters={f"{electrode.capitalize()} electrode double-layer capacity [F.m-2]": c_ref})
    return Handoff(temperature=float(electrolyte.get("temperature", 298.15)),
                   relative_permittivity=float(electrolyte.get("permittivity", 78.5)),
                   species=[Species(name=n, charge_number=int(z)) for n, z in zip(species, val)],
                   bulk_concentrations={n: float(c) for n, c in zip(species, conc)},
                   double_layer=dl, provenance=Provenance(notes=notes or "couplers.electrified_interface"))


def plot_interface(path, *, sweep=None, committee: CommitteeInterface | None = None,
                   fit=None, relative_permittivity: float = 1.0,
                   iterations_of: InterfaceState | None = None) -> None:
    """One PNG: Delta Phi(theta) (the depolarisation fit's zero-field band, screened by
    ``relative_permittivity``, and the converged interface, in its field), C(U) (with the
    committee band), and the self-consistency residuals of one potential."""
    from matplotlib.figure import Figure

    from foundation.files import save_figure

    fig = Figure(figsize=(14, 4))
    ax = fig.subplots(1, 3)
    if fit is not None:
        th = np.linspace(0.0, 1.0, 101)
        mean, sd = fit.work_function_band(th, relative_permittivity=relative_permittivity)
        ax[0].plot(th, mean, label="Topping fit, zero field")
        ax[0].fill_between(th, mean - 2 * sd, mean + 2 * sd, alpha=0.3, label="2 sigma")
    if sweep is not None:
        ax[0].plot(sweep.coverage, sweep.work_function_shift, ".", label="converged interface (in its field)")
    ax[0].set(xlabel="coverage theta", ylabel="Delta Phi (eV)", title="work-function shift")
    ax[0].legend(fontsize=8)
    if committee is not None:
        u = committee.potential
        for c in committee.member_capacitance:
            ax[1].plot(u, 100 * c, color="0.7", lw=0.8)
        ax[1].plot(u, 100 * committee.capacitance_mean, "k", label="committee mean")
        ax[1].fill_between(u, 100 * (committee.capacitance_mean - 2 * committee.capacitance_std),
                           100 * (committee.capacitance_mean + 2 * committee.capacitance_std),
                           alpha=0.3, label="2 sigma")
    if sweep is not None:
        ax[1].plot(sweep.potential, 100 * sweep.capacitance, "C1", label="coupled interface")
        ax[1].plot(sweep.potential, 100 * sweep.fixed_layer_capacitance, "C2--", label="frozen dipole layer")
    ax[1].set(xlabel="U (V vs PZC of the bare electrode)", ylabel="C (uF/cm^2)", title="differential capacitance")
    ax[1].legend(fontsize=8)
    if iterations_of is not None:
        h = np.array(iterations_of.history)
        ax[2].semilogy(np.arange(1, len(h) + 1), np.maximum(h[:, 2], 1e-16), "o-", label="|theta residual|")
        ax[2].semilogy(np.arange(1, len(h) + 1), np.maximum(h[:, 3], 1e-16), "s-", label="|chi residual| (V)")
        ax[2].set(title=f"self-consistency at U = {iterations_of.potential:+.2f} V")
    elif sweep is not None:
        ax[2].plot(sweep.potential, sweep.iterations, "o-")
        ax[2].set(title="iterations per potential", ylabel="iterations")
    ax[2].set(xlabel="iteration" if iterations_of is not None else "U (V)")
    if iterations_of is not None:
        ax[2].legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path, dpi=120)
