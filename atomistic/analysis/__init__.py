"""atomistic.analysis: statistics of trajectories, with error bars (guide: docs/analysis.md).

- ``diffusion``: self-diffusion coefficients from unwrapped positions (FFT MSD, fit window, blocks),
  and the Yeh-Hummer 1/L extrapolation over box sizes.
- ``solvation``: shell membership, coordination series and residence times around ions.
- ``rdf``: g(r), coordination numbers and a two-sample test between two trajectories.
- ``profiles``: density and charge profiles across a slab, phi(z) by double integration.
- ``block_average``: the error bar of a time-series statistic from contiguous blocks.
- ``charge_fluctuations``: differential capacitance from electrode-charge fluctuations.
"""
