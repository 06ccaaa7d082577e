"""Transport stages: MD -> handoff file -> FEniCSx PNP -> compared back against the MD.

``interface_pnp``: an atomistic interface handoff (``couplers.md_to_pnp.interface_handoff``,
e.g. data/nacl_cu/interface/, written by bench/electrolyte_interface.py from learned-potential
MD of NaCl(aq) at Cu(111)) -> the plain PNP (bulk D and permittivity) and the MD-informed
PNP (eps_perp(x), the ions' potentials of mean force, D(x)) at the MD's surface charge ->
each against the MD's ion profiles beyond the first adsorption layer, and both PNPs'
capacitance against the MD's.

``md_to_pnp``: a solver consistency check, not a measurement. Primitive-model Brownian
dynamics (:mod:`atomistic.md.brownian`: implicit solvent, mean-field electrostatics between
two electrodes) holds exactly PNP's physics and takes D as its input; its diffusivities and
ion profiles go through a handoff file into a closed-cell PNP solve that must reproduce them.
"""
from __future__ import annotations

from pydantic import Field

from ..config import Quantity, StageParams, stage_kind

# Size limits (lift one with ``allow_large = true`` in the stage's table); README "Size limits".
BD_ION_STEPS_LIMIT = 5e8   # Brownian dynamics: ions x steps (the default run is ~3e7)
PNP_CELLS_LIMIT = 20_000   # 1D PNP mesh cells (the default is 200)


class MDToPNPParams(StageParams):
    concentration: Quantity("mol/m^3", gt=0) = 100.0
    gap: Quantity("m", gt=0) = 10e-9
    lateral: Quantity("m", gt=0) = 25e-9
    D_cation: Quantity("m^2/s", gt=0) = 1.33e-9
    D_anion: Quantity("m^2/s", gt=0) = 2.03e-9
    electrode_potential_kT: float = Field(2.0, ge=0, le=10, description="+/- this many kT/e")
    temperature: Quantity("K", gt=0) = 298.15
    epsilon_r: float = Field(78.5, gt=1)
    steps: int = Field(40000, ge=2000, le=10 ** 10)
    timestep: Quantity("s", gt=0) = 2e-12
    pnp_cells: int = Field(200, ge=20, le=10 ** 8)

    def ions_per_species(self) -> int:
        return int(round(self.concentration * 6.02214076e23 * self.gap * self.lateral ** 2))

    def estimates(self):
        return [("Brownian ion-steps (ions x steps)", 2.0 * self.ions_per_species() * self.steps,
                 BD_ION_STEPS_LIMIT),
                ("PNP cells", float(self.pnp_cells), PNP_CELLS_LIMIT)]


@stage_kind("md_to_pnp", MDToPNPParams)
def md_to_pnp(ctx) -> dict:
    import numpy as np

    from atomistic.md.brownian import KB, E, brownian_slab
    from couplers.md_to_pnp import compare_profiles, handoff_from_positions, plot_comparison, pnp_closed_cell

    p = ctx.params
    area = p.lateral ** 2
    n = p.ions_per_species()
    phi = p.electrode_potential_kT * KB * p.temperature / E
    stride = 20
    ctx.progress(f"Brownian dynamics: {2 * n} ions, {p.steps} steps")
    frames, kind = brownian_slab([n, n], p.gap, area, [p.D_cation, p.D_anion], [1, -1], phi, -phi,
                                 p.temperature, p.epsilon_r, p.timestep, p.steps, stride=stride,
                                 n_bins=50, rng=np.random.default_rng(ctx.seed),
                                 progress=lambda k, n: ctx.progress(f"Brownian step {k}/{n}"))
    frames = frames[len(frames) // 4:]  # the first quarter equilibrates
    handoff = handoff_from_positions(
        {"cation": (1, frames[:, kind == 0]), "anion": (-1, frames[:, kind == 1])},
        p.timestep * stride, axis=2, edges=np.linspace(0, p.gap, 26), area=area,
        temperature=p.temperature, epsilon_r=p.epsilon_r, code_version=_version())
    handoff.save(ctx.dir / "handoff.toml")
    ctx.progress("PNP solve (FEniCSx)")
    solver, res = pnp_closed_cell(handoff, length=p.gap, phi_left=phi, phi_right=-phi, n_cells=p.pnp_cells)
    metrics = compare_profiles(handoff, res)
    plot_comparison(handoff, res, ctx.dir / "md_vs_pnp.png")
    d_in = {"cation": p.D_cation, "anion": p.D_anion}
    headline = {f"D_{d.species}": f"{d.value:.3g} +- {d.stderr:.1g} m^2/s "
                                  f"(BD input {d_in[d.species]:.3g})" for d in handoff.diffusivities}
    # Brownian dynamics in a mean field holds exactly PNP's physics and takes D as its input: the
    # numbers check the solver and the handoff chain, they measure nothing about a real liquid
    headline["what this checks"] = ("PNP solver and MD->PNP handoff against mean-field Brownian "
                                    "dynamics (a consistency check; D is the BD's input)")
    headline.update({f"PNP vs BD {name} profile": f"relative L2 {m['rel_l2'] * 100:.1f}%"
                     for name, m in metrics.items()})
    return {"handoff": "handoff.toml", "ions_per_species": n, "pnp_mpi_ranks": solver.comm.size,
            "diffusivities": {d.species: {"value": d.value, "stderr": d.stderr}
                              for d in handoff.diffusivities},
            "profile_metrics": metrics, "figures": ["md_vs_pnp.png"], "headline": headline}


class InterfacePNPParams(StageParams):
    handoff_file: str = Field(description="an interface handoff with the MD's double_layer "
                              "(couplers.md_to_pnp.interface_handoff), .toml or .json")
    bracket: float = Field(2.0, gt=0, le=20, description="the PNP electrode potential is "
                           "searched in +- this many V (vs the bulk)")
    pnp_cells: int = Field(400, ge=20, le=10 ** 8)

    def estimates(self):
        return [("PNP cells", float(self.pnp_cells), PNP_CELLS_LIMIT)]


@stage_kind("interface_pnp", InterfacePNPParams)
def interface_pnp(ctx) -> dict:
    from couplers.handoff import Handoff
    from couplers.md_to_pnp import plot_md_charge_comparison, pnp_at_md_charge

    p = ctx.params
    handoff = Handoff.load(ctx.resolve(p.handoff_file))
    ctx.progress("plain and MD-informed PNP at the MD's surface charge (FEniCSx)")
    cmp = pnp_at_md_charge(handoff, bracket=(-p.bracket, p.bracket), n_cells=p.pnp_cells)
    plot_md_charge_comparison(handoff, cmp, ctx.dir / "interface_pnp.png")
    dl = handoff.double_layer
    md_cap = ("not measured" if not dl.capacitance else f"{dl.capacitance[0] * 100:.1f}"
              + (f" ± {dl.capacitance_stderr[0] * 100:.1f}" if dl.capacitance_stderr else ""))
    x_min = dl.first_layer_end
    headline = {"MD": (handoff.provenance.notes or "an interface handoff")
                + f"; surface charge {dl.surface_charge[0] * 100:+.2f} uC/cm^2"}
    for label, c in cmp.items():
        headline[f"{label} PNP, ions within 2 SE of MD"
                 + (f" beyond {x_min * 1e10:.1f} A" if x_min else "")] = ", ".join(
            f"{sp} {m['within_2se'] * 100:.0f} % of {m['bins']} bins" for sp, m in c["profiles"].items())
    headline["capacitance (uF/cm^2)"] = (f"MD {md_cap}; " + "; ".join(
        f"{label} PNP {c['capacitance'] * 100:.1f} ({c['capacitance_ratio']:.2f} x MD)"
        for label, c in cmp.items()))
    return {"handoff_file": str(p.handoff_file), "surface_charge_C_per_m2": dl.surface_charge[0],
            "md_capacitance_F_per_m2": dl.capacitance[0] if dl.capacitance else None,
            **{label: {"potential_V": c["potential"], "capacitance_F_per_m2": c["capacitance"],
                       "capacitance_ratio": c["capacitance_ratio"], "profiles": c["profiles"]}
               for label, c in cmp.items()},
            "figures": ["interface_pnp.png"], "headline": headline}


def _version() -> str:
    from .. import __version__

    return f"multiscale {__version__}"
