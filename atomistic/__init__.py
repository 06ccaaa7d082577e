"""atomistic: atoms, learned potentials, reference calculators, MD and analysis.

Units are ASE's throughout (eV, Angstrom, ase.units time). This package
never imports ``continuum``, ``couplers`` or ``multiscale``; heavy engines
(torch, gpaw) are imported inside the modules that use them.
"""


from foundation.lazy import lazy_exports

# Public names, imported on first use so that importing the package loads no
# engine. To export a name add one entry: "Name": "submodule".
_LAZY: dict[str, str] = {
    "load_potential": "mlip.potential",
    "save_potential": "mlip.potential",
    "CommitteeCalculator": "mlip.calculator",
    "train_committee": "mlip.training",
    "TrainSettings": "mlip.training",
    "read_frames": "mlip.dataset",
    "write_frames": "mlip.dataset",
    "label_frames": "mlip.dataset",
    "split_frames": "mlip.dataset",
    "run_md": "md.dynamics",
    "stable_timestep": "md.timestep",
    "run_neb": "reactions.neb",
    "NEBResult": "reactions.neb",
    "fit_transfer_coefficient": "reactions.transfer_coefficient",
    "reorganisation_energy": "reactions.marcus",
    "sample_energy_gap": "reactions.energy_gap",
    "DipoleLayer": "interface.dipole_layer",
    "dipole_lattice_sum": "interface.dipole_layer",
    "fit_depolarisation": "interface.dipole_layer",
    "helmholtz_shift": "interface.dipole_layer",
    "fit_stark": "interface.stark",
    "fluctuation_capacitance": "analysis.charge_fluctuations",
    "formation_hull": "stability.hull",
    "hull_from_energies": "stability.hull",
    "voltage_profile": "stability.electrode_potential",
    "phases_at_potential": "stability.electrode_potential",
    "adsorption_energies": "stability.adsorption",
    "screen": "stability.screening",
    "learn": "learning.loop",
    "ActiveLearner": "learning.loop",
    "ActiveLearningSettings": "learning.settings",
    "calibrate_trust_levels": "learning.trust_levels",
    "calibrate_committee": "mlip.calibration",
    "check_calibration": "mlip.calibration",
    "attach_calibration": "mlip.calibration",
    "CommitteeCalibration": "mlip.calibration",
}


__getattr__, __dir__, __all__ = lazy_exports(__name__, _LAZY)
