"""couplers: the bridges between scales.

Each module links two worlds (DFT <-> learned potential, MD <-> continuum
transport, SPMe <-> DFN). Couplers may import ``atomistic`` and
``continuum``; never the other way round. Engines are imported lazily.
"""

from foundation.lazy import lazy_exports

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
    "committee_interface": "interface_committee",
    "interface_handoff": "interface_report",
}


__getattr__, __dir__, __all__ = lazy_exports(__name__, _LAZY)
