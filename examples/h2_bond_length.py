"""The smallest example: the H2 bond length from GPAW, in two basis sets.

Run:  .venv/bin/python examples/h2_bond_length.py     (about 5 s on one core)

PBE's basis-set limit is about 0.750 A (experiment: 0.741 A). The plane-wave
result converges to it; the small LCAO dzp basis, which the rest of the
toolkit uses for cheap labels, makes the bond about 0.02 A longer still. That
basis-set error is the kind of thing a learned potential inherits from its
labels, so it is worth seeing once.
"""
from ase.build import molecule
from ase.optimize import BFGS
from gpaw import GPAW, PW

EXPERIMENT = 0.741  # A, H2 equilibrium bond length (NIST CCCBDB)

SETTINGS = {
    "LCAO dzp": dict(mode="lcao", basis="dzp", h=0.2),
    "PW 400 eV": dict(mode=PW(400)),
}


def bond_length(name: str) -> float:
    h2 = molecule("H2")
    h2.center(vacuum=3.0)
    h2.pbc = name.startswith("PW")  # plane waves need a periodic box
    h2.calc = GPAW(xc="PBE", txt=None, **SETTINGS[name])
    BFGS(h2, logfile=None).run(fmax=0.01)
    return h2.get_distance(0, 1)


def main() -> dict[str, float]:
    results = {name: bond_length(name) for name in SETTINGS}
    print("H2 bond length, GPAW/PBE (relaxed to fmax 0.01 eV/A)")
    for name, d in results.items():
        print(f"  {name:10s} {d:.4f} A   ({d - EXPERIMENT:+.4f} A vs experiment {EXPERIMENT} A)")
    return results


if __name__ == "__main__":
    main()
