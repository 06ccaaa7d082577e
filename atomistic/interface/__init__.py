"""atomistic.interface: the electrified interface seen from the atoms (guide: docs/electrified_interface.md).

- ``dipole_layer``: 2D lattices of adsorbate dipoles: lattice sums, depolarisation,
  work-function (Helmholtz) shifts.
- ``stark``: Stark fits (dipole and polarisability of an adsorbate vs field) with GPAW.
"""
