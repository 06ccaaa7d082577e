"""atomistic.stability: can it exist, at what potential, and which candidates deserve DFT
(guide: docs/stability.md).

- ``relaxation``: ``relax``, one structure relaxed with any calculator (failures named).
- ``hull``: formation energies and convex hulls (pymatgen), committee P(stable).
- ``electrode_potential``: grand-potential hulls and voltage profiles.
- ``surface_energy``, ``adsorption``: surfaces and adsorption energies on named sites.
- ``decorations``: candidate structures (decorations and substitutions of prototypes).
- ``screening``: multi-level screening funnels; ``result_cache``: their resumable per-task results.
- ``recovery``: reference calls in a committee's order, a stopping rule, calls to recover the stable set.
- ``calibration``: is P(stable) a probability (reliability, spread scale).
- ``plots``: hull diagrams, voltage profiles, reliability diagrams.
"""
