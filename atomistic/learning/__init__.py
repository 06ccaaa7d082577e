"""atomistic.learning: on-the-fly and batched active learning (guide: docs/active_learning.md).

- ``loop``: ``ActiveLearner`` and ``learn``, the loop itself.
- ``settings``: ``ActiveLearningSettings``, what decides a run.
- ``state``: ``LearningState`` (what ``state.json`` holds) and ``LearningResult``.
- ``walker``: ``Walker``, one Langevin trajectory and its saved form.
- ``display``: the live progress line and ``plot_learning_curve``.
- ``store``: the files of a run folder, each written atomically.
- ``reference_labelling``: labelling frames with the reference (in process or with Dask).
- ``frame_selection``: which uncertain frames to label (most uncertain, but diverse).
- ``trust_levels``: trust levels calibrated on held-out frames.
"""
