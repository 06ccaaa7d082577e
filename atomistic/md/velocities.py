"""Initial velocities: Maxwell-Boltzmann momenta at a temperature (K), and the one check of a
temperature given to dynamics."""
from __future__ import annotations

import math

from ..errors import InputError


def check_temperature(value, field: str = "temperature_K", zero: bool = True) -> float:
    """``value`` as a float if it is a temperature (K): finite and >= 0 (> 0 when ``zero`` is
    False, e.g. for a thermostat); otherwise InputError naming ``field`` and the value. A
    negative absolute temperature has no Maxwell-Boltzmann distribution: ASE would draw NaN
    velocities from sqrt(kT)."""
    try:
        t = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{field} = {value!r}: expected a temperature in K") from None
    if not math.isfinite(t) or t < 0 or (t == 0 and not zero):
        raise InputError(f"{field} = {value!r}: expected a finite temperature "
                         f"{'>= 0' if zero else '> 0'} K")
    return t


def thermalize(atoms, temperature_K: float, rng=None) -> None:
    """Maxwell-Boltzmann momenta at ``temperature_K`` (checked by :func:`check_temperature`):
    ASE's ``thermalize_momenta`` (ASE >= 3.29, which deprecates ``MaxwellBoltzmannDistribution``,
    the same draw)."""
    from ase.md import velocitydistribution as vd

    temperature_K = check_temperature(temperature_K)

    if hasattr(vd, "thermalize_momenta"):
        vd.thermalize_momenta(atoms, temperature_K, rng=rng)
    else:  # ASE 3.25-3.28
        vd.MaxwellBoltzmannDistribution(atoms, temperature_K=temperature_K, rng=rng)
