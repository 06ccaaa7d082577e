"""One study from the command line, written to an output folder (JSON + PNG).

Each module is what one sub-command (and, where there is one, its pipeline
stage) calls: ``hull.run_hull`` (``multiscale hull``), ``neb.neb_study``
(``multiscale neb``, stage ``neb``), ``property.run_property`` (``multiscale
property``). They take calculator specs (:mod:`multiscale.calculators`),
read structure files, call atomistic's workflows and write their files
atomically; the physics stays in ``atomistic``.
"""
