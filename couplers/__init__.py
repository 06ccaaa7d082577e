"""couplers: the bridges between scales.

Each module links two worlds (DFT <-> learned potential, MD <-> continuum
transport, SPMe <-> DFN). Couplers may import ``atomistic`` and
``continuum``; never the other way round. Engines are imported lazily.
"""


# Public names, imported on first use so that importing the package loads no
# engine. To export a name add one entry: "Name": "submodule".
_LAZY: dict[str, str] = {
    "HybridCalculator": "qmml",
    "HybridTrace": "qmml_trace",
    "Handoff": "handoff",
    "kinetics_handoff": "reaction_kinetics",
    "HybridSPMe": "battery",
    "Adsorbate": "electrified_interface",
    "solve_interface": "electrified_interface",
    "sweep_interface": "electrified_interface",
    "committee_interface": "electrified_interface",
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
