"""atomistic: atoms, learned potentials, reference calculators, MD and analysis.

Units are ASE's throughout (eV, Angstrom, ase.units time). This package
never imports ``continuum``, ``couplers`` or ``multiscale``; heavy engines
(torch, gpaw) are imported inside the modules that use them.
"""
