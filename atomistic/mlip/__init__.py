"""atomistic.mlip: the learned interatomic potential and its committee (guide: docs/mlip.md).

- ``model``: ``MomentPotential``, the PyTorch network (moment-tensor descriptors).
- ``graph``: ``ase.Atoms`` -> the neighbour-list tensors the model reads.
- ``calculator``: ``CommitteeCalculator``, a committee as one ASE calculator with spreads.
- ``potential``: potential files (``save_potential``, ``load_potential``).
- ``training``: ``TrainSettings``, ``train_committee``.
- ``dataset``: labelled frames: read, write, split, hash, label.
- ``reference_frames``: labelled training frames generated in code.
- ``evaluation``: errors of a calculator against labelled frames.
- ``calibration``: calibrated committee error bars (variance scale factors).

Nothing is imported here: torch loads only when a module that needs it is used.
"""
