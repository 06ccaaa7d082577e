"""Stage ``screen``: a hierarchical stability screen of fcc alloy decorations.

Candidates are the symmetry-distinct decorations of an fcc cell
(``atomistic.stability.decorations``) by the given elements; the funnel
(``atomistic.stability.screening.screen``) evaluates them with a cheap level on all,
the committee on the best quarter (``committee_fraction``), and the reference
on the committee's best and most uncertain. Every evaluation is a task on the
run's executor (Dask when workers > 1), cached under
``stages/<name>.cache/`` beside the stage folder, so an interrupted stage
resumes with its finished evaluations. Calculator specs as in
``multiscale.calculators.make_calculator``.
"""
from __future__ import annotations

from pydantic import Field

from ..config import StageParams, stage_kind


class ScreenParams(StageParams):
    elements: list[str] = Field(min_length=2, description="chemical symbols to decorate with")
    cell: list[int] = Field(default=[2, 1, 1], min_length=3, max_length=3,
                            description="repeats of the 4-site fcc cube (sites = 4 x product)")
    max_species: int = Field(default=2, ge=2, le=4, description="most species in one candidate")
    cheap: str = Field(default="emt", description="cheap level calculator (single point, no relaxation)")
    committee: str = Field(default="emt-committee:5", description="committee level calculator (relaxed)")
    reference: str = Field(default="emt", description="reference level calculator (relaxed)")
    committee_fraction: float = Field(default=0.25, gt=0, le=1,
                                      description="fraction of candidates the committee sees")
    reference_fraction: float = Field(default=0.10, gt=0, le=1,
                                      description="fraction sent to the reference as the committee's best")
    uncertain_fraction: float = Field(default=0.05, ge=0, le=1,
                                      description="fraction sent to the reference as most uncertain")


@stage_kind("screen", ScreenParams)
def screen_stage(ctx) -> dict:
    from ase.build import bulk

    from foundation.files import write_json
    from atomistic.stability.decorations import decorations
    from atomistic.stability.screening import Level, screen

    from ..calculators import make_calculator

    p = ctx.params
    cube = bulk(p.elements[0], "fcc", a=3.6, cubic=True).repeat(tuple(p.cell))
    ctx.progress(f"enumerating decorations of a {len(cube)}-site fcc cell")
    cands = decorations(cube, p.elements, max_species=p.max_species, prefix=f"fcc{len(cube)}")
    refs = [bulk(e, "fcc") for e in p.elements]
    n = len(cands)
    levels = [Level("cheap", make_calculator(p.cheap), relax=False, key=p.cheap),
              Level("committee", make_calculator(p.committee), key=p.committee),
              Level("reference", make_calculator(p.reference), key=p.reference)]
    res = screen(cands, refs, *levels, n_committee=max(1, round(p.committee_fraction * n)),
                 n_reference=max(1, round(p.reference_fraction * n)),
                 n_uncertain=round(p.uncertain_fraction * n),
                 cache_dir=str(ctx.dir.parent / f"{ctx.name}.cache"), map=ctx.executor.map,
                 progress=ctx.progress)
    write_json(ctx.dir / "screening.json", res.to_dict())
    rho = "n/a" if res.spearman is None else f"{res.spearman:.2f}"
    return {"stable": res.stable, "calls": res.calls, "reference_calls": res.reference_calls,
            "exhaustive_reference_calls": res.exhaustive_reference_calls,
            "saving_factor": res.saving_factor, "spearman": res.spearman, "table": "screening.json",
            "headline": {"stable candidates": ", ".join(res.stable) or "none",
                         "reference calls": f"{res.reference_calls} of {res.exhaustive_reference_calls} "
                                            f"({res.saving_factor:.1f}x fewer), ranking rho {rho}"}}
