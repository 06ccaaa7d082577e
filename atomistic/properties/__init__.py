"""atomistic.properties: material properties from any ASE calculator, with committee error bars
(guide: docs/properties.md).

- ``elastic``: the elastic tensor from stress-strain fits, VRH moduli, Born stability, EOS.
- ``phonons``: phonon bands, DOS and vibrational free energies (phonopy), per committee member.
- ``free_energy``: free energies by switching (thermodynamic integration) and Frenkel-Ladd.
"""
