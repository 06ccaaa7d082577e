"""couplers: the bridges between scales.

Each module links two worlds (DFT <-> learned potential, MD <-> continuum
transport, SPMe <-> DFN). Couplers may import ``atomistic`` and
``continuum``; never the other way round. Engines are imported lazily.
"""
