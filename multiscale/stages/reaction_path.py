"""Stage ``neb``: a reaction path (adatom hop on fcc(100)) with committee error bars and doubted frames.

Relaxes a climbing-image NEB (:func:`multiscale.studies.neb.neb_study`) with EMT, a
perturbed-EMT committee, or a trained MLIP committee; writes the profile
(``neb.png``, committee band), the band, and the images the committee doubts
(``doubted.extxyz``, for an active-learning stage to label). With
``potentials`` (V vs ``reference_electrode``) and ``adatom_charge`` it also
scans the barrier over electrode potential with the double-layer field model
and fits the transfer coefficient (``alpha.png``).
"""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field

from ..config import StageParams, stage_kind


class NEBParams(StageParams):
    adatom: str = "Au"
    substrate: str = "Al"
    size: list[int] = Field(default_factory=lambda: [2, 2, 3], min_length=3, max_length=3,
                            description="fcc(100) slab repeats (x, y, layers)")
    calculator: str = Field("emt", description="emt, emt-committee[:N] or mlip:PATH")
    images: int = Field(5, ge=1, le=31, description="intermediate images")
    fmax: float = Field(0.03, gt=0, description="NEB force convergence (eV/A)")
    climb: bool = True
    trust_level: float = Field(0.15, ge=0, description="max force deviation to doubt an image (eV/A)")
    potentials: list[float] = Field(default_factory=list, description="V vs reference_electrode")
    adatom_charge: Optional[float] = Field(None, description="partial charge (e) in the field model")
    layer_width: float = Field(3.0, gt=0, description="compact-layer width (A)")
    reference_electrode: Optional[str] = None
    direction: Literal["reduction", "oxidation"] = "reduction"


@stage_kind("neb", NEBParams)
def neb(ctx) -> dict:
    from atomistic.reactions.endpoints import adatom_hop

    from ..calculators import make_calculator
    from ..studies.neb import neb_study

    p = ctx.params
    calc = p.calculator
    if calc.startswith("mlip:"):
        calc = "mlip:" + str(ctx.resolve(calc.split(":", 1)[1]))
    calculator = make_calculator(calc)
    ctx.progress(f"relaxing the endpoints of the {p.adatom}/{p.substrate}(100) hop")
    initial, final = adatom_hop(p.adatom, p.substrate, size=p.size, calc=calculator)
    res = neb_study(initial, final, calculator, ctx.dir, n_images=p.images, climb=p.climb,
                    fmax=p.fmax, trust_level=p.trust_level, potentials=p.potentials or None,
                    adatom_charge=p.adatom_charge, layer_width=p.layer_width,
                    reference_electrode=p.reference_electrode, direction=p.direction,
                    progress=ctx.progress, title=f"{p.adatom} hop on {p.substrate}(100), {calc}")
    err = f" ± {res['barrier_std_eV']:.3f}" if res.get("member_barriers_eV") else ""
    headline = {"barrier": f"{res['barrier_eV']:.3f}{err} eV ({p.calculator})",
                "doubted images": str(len(res["doubted_images"]))}
    if "transfer_coefficient" in res:
        tc = res["transfer_coefficient"]
        headline["dEa/d(eU)"] = (f"{tc['alpha']:.3f} [{tc['alpha_ci'][0]:.3f}, {tc['alpha_ci'][1]:.3f}] "
                                 f"({tc['model']})")
    res["figures"] = [f for f in res["files"] if f.endswith(".png")]
    res["headline"] = headline
    return res
