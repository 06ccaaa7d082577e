"""continuum: fields and cells (the FEniCSx PNP solver and its Poisson-Boltzmann mode, PyBaMM runners).

SI units throughout. Solvers take plain numbers and arrays. This package
never imports ``atomistic``, ``couplers`` or ``multiscale``; dolfinx and
pybamm are imported inside the modules that use them.
"""


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


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))


__all__ = sorted(_LAZY)
