"""continuum: fields and cells (the FEniCSx PNP solver and its Poisson-Boltzmann mode, PyBaMM runners).

SI units throughout. Solvers take plain numbers and arrays. This package
never imports ``atomistic``, ``couplers`` or ``multiscale``; dolfinx and
pybamm are imported inside the modules that use them.
"""


from foundation.lazy import lazy_exports

# Public names, imported on first use so that importing the package loads no
# engine. To export a name add one entry: "Name": "submodule".
_LAZY: dict[str, str] = {
    "PNPSolver": "pnp",
    "PNPSolver1D": "pnp",
    "PNPResult": "results",
    "FBVReaction": "reactions",
    "slab_mesh": "meshes",
    "debye_length": "electrolyte",
    "gouy_chapman_potential": "gouy_chapman",
    "gouy_chapman_charge": "gouy_chapman",
    "grahame_charge": "gouy_chapman",
    "solve_double_layer": "double_layer",
    "differential_capacitance": "double_layer",
    "DoubleLayerResult": "double_layer",
    "CapacitanceCurve": "double_layer",
}


__getattr__, __dir__, __all__ = lazy_exports(__name__, _LAZY)
