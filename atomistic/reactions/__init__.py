"""atomistic.reactions: reaction paths and electrochemical kinetics (guide: docs/reactions.md).

- ``neb``: ``run_neb``, (climbing-image) NEB on any calculator with committee error bars.
- ``endpoints``: built-in reaction endpoints (``adatom_hop`` on fcc(100)).
- ``potential_dependent_barriers``: barriers at several electrode potentials (double-layer field).
- ``transfer_coefficient``: Butler-Volmer alpha = dEa/d(eU) with a confidence interval.
- ``energy_gap``: vertical energy gaps sampled by MD in each diabatic state.
- ``marcus``: reorganisation energy, driving force and alpha(dG) from energy-gap statistics.
- ``harmonic_well``: ``HarmonicWell``, the analytic diabatic state (Marcus theory's oracle).
"""
