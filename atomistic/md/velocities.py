"""Initial velocities: Maxwell-Boltzmann momenta at a temperature (K)."""
from __future__ import annotations


def thermalize(atoms, temperature_K: float, rng=None) -> None:
    """Maxwell-Boltzmann momenta at ``temperature_K``: ASE's ``thermalize_momenta``
    (ASE >= 3.29, which deprecates ``MaxwellBoltzmannDistribution``, the same draw)."""
    from ase.md import velocitydistribution as vd

    if hasattr(vd, "thermalize_momenta"):
        vd.thermalize_momenta(atoms, temperature_K, rng=rng)
    else:  # ASE 3.25-3.28
        vd.MaxwellBoltzmannDistribution(atoms, temperature_K=temperature_K, rng=rng)
