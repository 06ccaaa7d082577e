"""continuum: fields and cells (FEniCSx PNP / Poisson-Boltzmann, PyBaMM runners).

SI units throughout. Solvers take plain numbers and arrays. This package
never imports ``atomistic``, ``couplers`` or ``multiscale``; dolfinx and
pybamm are imported inside the modules that use them.
"""
