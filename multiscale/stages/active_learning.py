"""Stage ``active_learning``: a committee potential learned on the fly from a reference calculator.

The run folder (dataset, committee, state, decision log) lives in
``stages/NAME.work-<key>/`` beside the stage, so an interrupted pipeline
resumes the loop where it stopped (labelled frames, committee, walkers), even
after its inputs changed the stage's key; the finished stage holds ``potential.mlip.pt``,
``dataset.extxyz``, ``log.jsonl`` and ``learning_curve.png``.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from typing import Any, Literal

from pydantic import Field

from ..config import StageParams, stage_kind

# Size limits (lift one with ``allow_large = true`` in the stage's table); README "Size limits".
REFERENCE_CALLS_LIMIT = 10_000     # reference labels (max_calls + initial rattled + test frames)
MD_STEPS_LIMIT = 1e7               # MD steps of all walkers and rounds


class ActiveLearningParams(StageParams):
    structures: list[dict[str, Any]] = Field(
        default_factory=lambda: [{"element": "Cu", "kind": "vacancy", "size": 2}],
        description="multiscale.configs.learn.StructureSpec fields")
    reference: Literal["emt", "gpaw"] = "emt"
    gpaw: dict[str, Any] = Field(default_factory=dict,
                                 description="gpaw_lcao_calculator options (reference = gpaw)")
    test_frames: int = Field(0, ge=0, le=100_000, description="held-out frames labelled from independent MD "
                                                  "(reference calls outside the budget)")
    settings: dict[str, Any] = Field(default_factory=dict,
                                     description="atomistic.learning.settings.ActiveLearningSettings")

    def _settings(self, where: str, prefix: str):
        from atomistic.learning.settings import ActiveLearningSettings
        from atomistic.mlip.training import TrainSettings

        from ..config import validate_section

        s = validate_section(ActiveLearningSettings, self.settings, where, prefix)
        validate_section(TrainSettings, s.train, where, f"{prefix}.train")
        return s

    def check_settings(self, where, prefix):
        self._settings(where, prefix)

    def estimates(self):
        s = self._settings("<config>", "settings")
        walkers = len(self.structures) * s.walkers_per_structure * len(s.temperatures_K or [0])
        steps = s.steps * walkers * (s.rounds if s.mode == "batch" else 1)
        labels = s.max_calls + s.initial_rattled * len(self.structures) + self.test_frames
        return [("reference calls", float(labels), REFERENCE_CALLS_LIMIT),
                ("MD steps (walkers x steps x rounds)", float(steps), MD_STEPS_LIMIT)]


@stage_kind("active_learning", ActiveLearningParams)
def active_learning(ctx) -> dict:
    from atomistic.learning.display import plot_learning_curve
    from atomistic.learning.loop import learn
    from atomistic.learning.settings import ActiveLearningSettings

    from ..config import validate_section
    from ..configs.learn import ReferenceSpec, StructureSpec, build_structure, reference_factory

    p = ctx.params
    where, key = str(ctx.config.source or "<config>"), f"stage.{ctx.name}.settings"
    settings = validate_section(ActiveLearningSettings, {"seed": ctx.seed, **p.settings}, where, key)
    if ctx.executor is not None and getattr(ctx.executor, "scheduler", None) \
            and settings.scheduler is None:
        settings = settings.model_copy(update={"scheduler": ctx.executor.scheduler})
    structures = [a for spec in p.structures
                  for a in build_structure(StructureSpec(**spec), ctx.config.folder)]
    reference = reference_factory(ReferenceSpec(calculator=p.reference, gpaw=p.gpaw))
    key = hashlib.sha256(json.dumps(p.model_dump(mode="json"), sort_keys=True).encode()
                         + str(ctx.seed).encode()).hexdigest()[:12]
    work = ctx.dir.parent / f"{ctx.name}.work-{key}"
    test = _test_frames(structures, reference, p.test_frames, settings, ctx.seed)
    ctx.progress(f"active learning ({settings.mode}) in {work.name}")
    result = learn(structures, reference, work, settings, test_frames=test, progress=False,
                   callback=_reporter(ctx.progress))
    for name in ("potential.mlip.pt", "dataset.extxyz", "log.jsonl"):
        shutil.copy2(work / name, ctx.dir / name)
    plot_learning_curve(result, ctx.dir / "learning_curve.png")
    last = result.curve[-1] if result.curve else {}
    test_text = (f", held-out force MAE {1000 * last['force_mae']:.1f} meV/A"
                 if "force_mae" in last else "")
    return {"potential": "potential.mlip.pt", "dataset": "dataset.extxyz",
            "n_calls": result.n_calls, "n_labelled": result.n_labelled,
            "n_starts": result.n_starts,
            "n_failed": result.n_failed, "n_rejected": result.n_rejected,
            "md_steps": result.md_steps, "stop_reason": result.stop_reason,
            "curve": result.curve, "work_folder": work.name, "figures": ["learning_curve.png"],
            "headline": {"active learning": f"{result.n_calls} reference calls for "
                                            f"{result.md_steps} MD steps{test_text}"}}


def _reporter(say):
    """The loop's events as status lines (``multiscale run`` rate-limits them in a log file)."""
    labelled = [0]

    def report(event: dict) -> None:
        kind = event["event"]
        if kind == "labelled":
            labelled[0] += 1
        if kind == "step":
            say(f"walker {event['walker']}: MD step {event['step']}, "
                f"{labelled[0]} frames labelled by this run")
        elif kind in ("labelled", "failed", "training"):
            say(f"{kind}" + (f" on {event['frames']} frames" if kind == "training" else
                             f" frame {event.get('frame')}"))

    return report


def _test_frames(structures, reference, n, settings, seed):
    """``n`` labelled frames from independent reference MD over the run's temperature range."""
    if n <= 0:
        return None
    from atomistic.mlip.reference_frames import langevin_frames

    calc = reference() if callable(reference) and not hasattr(reference, "calculate") \
        else reference
    if settings.temperatures_K:  # constant walker temperatures: span their range
        t0, t1 = min(settings.temperatures_K), max(settings.temperatures_K)
    else:
        t0, t1 = settings.temperature_K, settings.final_temperature_K or settings.temperature_K
    frames = []
    for k in range(n):
        atoms = structures[k % len(structures)]
        temp = t0 + (t1 - t0) * (k / max(n - 1, 1))
        frames += langevin_frames(atoms, calc, temp, 1, interval=10, equilibrate=100,
                                  seed=seed + 1000 + k)
    return frames
