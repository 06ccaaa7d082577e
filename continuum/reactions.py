"""Frumkin-Butler-Volmer electrode reactions: the reaction the PNP solver takes, and its thin-film closed form.

At the reaction plane (the outer Helmholtz plane, where the electrolyte domain starts; the Stern
layer between it and the metal is the solver's Robin condition) species i is consumed at the
rate, mol/(m^2 s),

    J_i = k_f c_i(0) exp(-alpha z_i e dphi_S / kT) - k_b exp((1 - alpha) z_i e dphi_S / kT),

where dphi_S = phi_electrode - phi(0) is the Stern-layer drop (the Frumkin correction: the rate
sees the Stern drop and the concentration at the reaction plane, not the overpotential and bulk
concentration), z_i electrons are transferred (M^{z+} + z e- <-> M), and alpha is the transfer
coefficient. The electrode's current density is z_i F J_i (A/m^2; cathodic positive for cations).
"""
from __future__ import annotations

import dataclasses
import math

from .electrolyte import FARADAY, debye_length, thermal_voltage
from .errors import InputError


@dataclasses.dataclass(frozen=True)
class FBVReaction:
    """One Frumkin-Butler-Volmer reaction of ``species`` at the electrode with facet tag ``electrode``.

    k_forward: m/s, consumption of the species (its discharge, M^{z+} + z e- -> M);
    k_backward: mol/(m^2 s), its production (M -> M^{z+} + z e-); alpha: transfer coefficient of the
    forward direction (0 < alpha < 1). Equilibrium (J = 0) at the Stern drop
    dphi_S = (kT / z e) ln(k_forward c(0) / k_backward).
    """
    species: str
    k_forward: float
    k_backward: float
    alpha: float = 0.5
    electrode: int = 1


def thin_film_fbv_current(potential, concentration, diffusivity, length, k_forward, k_backward, stern_length, *,
                          alpha=0.5, permittivity=78.5, temperature=298.15):
    """Steady FBV current of a 1:1 cell with one reacting cation, thin double-layer limit (A/m^2).

    Bazant, Chu & Bayly, SIAM J. Appl. Math. 65, 1463 (2005), leading order in lambda_D / L, for a
    1:1 electrolyte of bulk ``concentration`` (mol/m^3 each ion) and ion ``diffusivity`` (m^2/s):
    cation discharged at x = 0 (FBV, ``k_forward`` m/s, ``k_backward`` mol/(m^2 s), through a Stern
    layer of thickness ``stern_length`` m), anion blocked, bulk reservoir at x = ``length`` (m).
    The neutral bulk carries c(x) = c_b - J (length - x) / (2 D) (limiting current 2 F D c_b / length)
    with phi = (kT/e) ln(c/c_b); the diffuse layer at its edge c0 is in equilibrium (Gouy-Chapman,
    zeta) and the Stern layer is a capacitor, eps (phi_E - phi_d)/l_S = sqrt(8 eps kT n0) sinh(zeta/2).
    ``potential``: electrode potential vs the reservoir (V); ``permittivity``: relative;
    ``temperature``: K. Returns (current density A/m^2, diffuse-layer potential zeta V, Stern drop V).
    """
    from scipy.optimize import brentq
    kT_e = thermal_voltage(temperature)
    lD = debye_length([concentration, concentration], [1, -1], permittivity, temperature)
    ls = stern_length / lD
    V = potential / kT_e
    Jlim = 2 * diffusivity * concentration / length

    def state(J):
        c0 = 1 - J / Jlim                     # c(0+)/c_b
        psi_edge = math.log(c0)
        # Stern + Gouy-Chapman at local concentration c0: (V - psi_d)/ls = 2 sqrt(c0) sinh(zeta/2).
        zeta = brentq(lambda zt: (V - psi_edge - zt) / ls - 2 * math.sqrt(c0) * math.sinh(zt / 2),
                      -80.0, 80.0, xtol=1e-14)
        drop = V - psi_edge - zeta
        rate = (k_forward * concentration * c0 * math.exp(-zeta) * math.exp(-alpha * drop)
                - k_backward * math.exp((1 - alpha) * drop))
        return rate, zeta, drop

    f = lambda J: state(J)[0] - J
    lo = -Jlim
    while f(lo) < 0:          # anodic currents are unbounded: widen the bracket until it holds the root
        lo *= 4
        if lo < -1e12 * Jlim:
            raise InputError(f"potential: {potential} V; no finite anodic thin-film current found")
    J = brentq(f, lo, Jlim * (1 - 1e-12), xtol=1e-16 * Jlim, rtol=1e-14)
    _, zeta, drop = state(J)
    return J * FARADAY, zeta * kT_e, drop * kT_e
