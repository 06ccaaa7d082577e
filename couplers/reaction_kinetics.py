"""Barriers and energy-gap statistics -> electrode kinetics parameters PyBaMM accepts, in a handoff file.

The atomistic side returns plain results with uncertainties
(:class:`atomistic.reactions.transfer_coefficient.TransferCoefficient`,
:class:`atomistic.reactions.marcus.ReorganisationEnergy`); this coupler turns them into
the ``kinetics`` section of a :class:`couplers.handoff.Handoff`, with the
parameter names PyBaMM's lithium-ion models read:

- ``"<Electrode> electrode Butler-Volmer transfer coefficient"``: PyBaMM's
  alpha is the *anodic* coefficient (j = j0 [exp(alpha F eta/RT) -
  exp(-(1-alpha) F eta/RT)]); a reduction-direction fit is converted once,
  here (alpha_anodic = 1 - alpha_red). Model option
  {"intercalation kinetics": "asymmetric Butler-Volmer"}.
- ``"<Electrode> electrode reorganization energy [eV]"``: Marcus lambda, for
  {"intercalation kinetics": "Marcus"} or "Marcus-Hush-Chidsey".

``pybamm_parameters(handoff)`` gives the dict to ``ParameterValues.update(...,
check_already_exists=False)``; ``pybamm_options(handoff)`` the model options.
"""
from __future__ import annotations

from .errors import InputError
from .handoff import Handoff, Provenance, ReactionKinetics

_ALPHA = "{} electrode Butler-Volmer transfer coefficient"
_LAMBDA = "{} electrode reorganization energy [eV]"


def kinetics_entry(transfer=None, marcus=None, *, electrode: str = "negative", reaction: str = "",
                   method: str = "") -> ReactionKinetics:
    """One ``ReactionKinetics`` record from a transfer-coefficient fit and/or a Marcus analysis.

    Args:
        transfer: ``atomistic.reactions.transfer_coefficient.TransferCoefficient`` (alpha from barriers
            at several potentials, with its reference electrode and data), or None.
        marcus: ``atomistic.reactions.marcus.ReorganisationEnergy`` (lambda from energy-gap statistics),
            or None. With ``transfer`` None, alpha = 1/2 + dG/(2 lambda) at the sampled
            driving force is handed on instead (as the reduction coefficient of the sampled
            reaction R -> P, converted to PyBaMM's anodic one).
        electrode: "negative" or "positive" (the PyBaMM domain).
        reaction: free text, e.g. "Li+ + e- -> Li(ads)".
    """
    if transfer is None and marcus is None:
        raise InputError("transfer, marcus: both None; expected a transfer-coefficient fit, "
                         "a Marcus analysis, or both")
    if electrode not in ("negative", "positive"):
        raise InputError(f"electrode = {electrode!r}; expected 'negative' or 'positive'")
    data: dict = {"electrode": electrode, "reaction": reaction}
    methods = []
    if transfer is not None:
        data.update(
            transfer_coefficient=float(transfer.alpha_anodic),
            transfer_coefficient_stderr=float(transfer.alpha_err),
            transfer_coefficient_ci=tuple(float(x) for x in transfer.alpha_anodic_ci),
            confidence=float(transfer.confidence), reference_electrode=transfer.reference_electrode,
            potentials=[float(u) for u in transfer.potentials],
            barriers=[float(e) for e in transfer.barriers],
            barrier_stderr=([] if transfer.barrier_std is None
                            else [float(s) for s in transfer.barrier_std]))
        methods.append(f"alpha = {'+' if transfer.direction == 'reduction' else '-'}dEa/d(eU) "
                       f"({transfer.direction}, {transfer.model} fit at "
                       f"{transfer.at_potential:+.3f} V vs {transfer.reference_electrode})")
        if transfer.reorganisation_energy is not None and marcus is None:
            data.update(reorganisation_energy=float(transfer.reorganisation_energy),
                        reorganisation_energy_stderr=float(transfer.reorganisation_energy_err))
            methods.append("lambda from the Marcus curvature of Ea(U)")
    if marcus is not None:
        data.update(reorganisation_energy=float(marcus.lambda_stokes),
                    reorganisation_energy_stderr=float(marcus.lambda_stokes_err))
        methods.append(f"lambda from the Stokes shift of energy-gap MD at {marcus.temperature_K} K "
                       f"(variance estimator {marcus.lambda_variance:.4g} eV)")
        if transfer is None:
            a_red, a_err = marcus.alpha()
            data.update(transfer_coefficient=float(1.0 - a_red), transfer_coefficient_stderr=a_err)
            methods.append(f"alpha = 1/2 + dG/(2 lambda) at dG = {marcus.reaction_free_energy:.4g} eV")
    E = electrode.capitalize()
    params = {}
    if data.get("transfer_coefficient") is not None:
        params[_ALPHA.format(E)] = data["transfer_coefficient"]
    if data.get("reorganisation_energy") is not None:
        params[_LAMBDA.format(E)] = data["reorganisation_energy"]
    data["pybamm_parameters"] = params
    data["pybamm_option"] = ("asymmetric Butler-Volmer" if _ALPHA.format(E) in params
                             else "Marcus-Hush-Chidsey")
    data["method"] = method or "; ".join(methods)
    try:
        return ReactionKinetics.model_validate(data)
    except Exception as exc:  # pydantic's message names the field; keep it, in our error type
        raise InputError(f"kinetics: {exc}") from None


def kinetics_handoff(entries, *, temperature: float, base: Handoff | None = None,
                     code_version: str = "", notes: str = "") -> Handoff:
    """A handoff holding ``entries`` (``ReactionKinetics``) at ``temperature`` (K).

    With ``base`` (e.g. the MD -> continuum handoff of the same electrolyte), the kinetics
    are added to a copy of it; otherwise the handoff is kinetics-only.
    """
    entries = list(entries)
    if not entries:
        raise InputError("entries: empty; expected at least one ReactionKinetics")
    if base is not None:
        data = base.model_dump(mode="json", exclude_none=True)
        data["kinetics"] = list(data.get("kinetics", [])) + [e.model_dump(mode="json") for e in entries]
        return Handoff.validate_data(data)
    return Handoff.validate_data({
        "temperature": float(temperature),
        "kinetics": [e.model_dump(mode="json") for e in entries],
        "provenance": Provenance(code_version=code_version, notes=notes).model_dump()})


def pybamm_parameters(handoff: Handoff, electrode: str | None = None) -> dict[str, float]:
    """The PyBaMM parameter values of the handoff's kinetics (one electrode, or all)."""
    out: dict[str, float] = {}
    for k in handoff.kinetics:
        if electrode is None or k.electrode == electrode:
            out.update(k.pybamm_parameters)
    if not out:
        raise InputError(f"handoff: no kinetics{'' if electrode is None else f' for the {electrode} electrode'}")
    return out


def pybamm_options(handoff: Handoff) -> dict:
    """PyBaMM model options matching the kinetics: {"intercalation kinetics": (negative, positive)}.

    An electrode without an entry keeps PyBaMM's default ("symmetric Butler-Volmer").
    """
    by = {k.electrode: k.pybamm_option for k in handoff.kinetics}
    neg = by.get("negative", "symmetric Butler-Volmer")
    pos = by.get("positive", "symmetric Butler-Volmer")
    return {"intercalation kinetics": neg if neg == pos else (neg, pos)}
