"""Elastic constants: the 6x6 tensor from stress-strain fits, VRH moduli, Born stability.

``elastic_constants(atoms, calc)`` applies each of the six Voigt strains at
``n_strains`` amplitudes in [-max_strain, max_strain] (ions relaxed at fixed
cell when the cell has internal degrees of freedom), fits stress against
strain by least squares and returns C (GPa) with the fit's standard error.
Where the calculator gives no stress, energies are fitted instead:
E/V = 1/2 sum C_ij e_i e_j, from single and paired strains. A committee
calculator (``atomistic.ensemble.members_of``) gets one tensor per member;
the spread of members is the error bar.

The input cell must be relaxed: residual stress above ``stress_tol`` is an
error (``relax_cell`` relaxes it). Voigt order: xx, yy, zz, yz, xz, xy;
engineering shear strains. Units: GPa.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from ase import Atoms
from ase.units import GPa

from ..ensemble import members_of
from ..errors import InputError
from ..structures import checks_atoms

VOIGT = [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)]


def vrh(C: np.ndarray) -> dict[str, float]:
    """Voigt, Reuss and Hill bulk (K) and shear (G) moduli of a 6x6 tensor C (any units, same out)."""
    C = np.asarray(C, float)
    S = np.linalg.inv(C)
    kv = (C[0, 0] + C[1, 1] + C[2, 2] + 2 * (C[0, 1] + C[1, 2] + C[0, 2])) / 9
    gv = (C[0, 0] + C[1, 1] + C[2, 2] - (C[0, 1] + C[1, 2] + C[0, 2]) + 3 * (C[3, 3] + C[4, 4] + C[5, 5])) / 15
    kr = 1 / (S[0, 0] + S[1, 1] + S[2, 2] + 2 * (S[0, 1] + S[1, 2] + S[0, 2]))
    gr = 15 / (4 * (S[0, 0] + S[1, 1] + S[2, 2]) - 4 * (S[0, 1] + S[1, 2] + S[0, 2])
               + 3 * (S[3, 3] + S[4, 4] + S[5, 5]))
    return {"K_V": kv, "K_R": kr, "K_VRH": (kv + kr) / 2, "G_V": gv, "G_R": gr, "G_VRH": (gv + gr) / 2}


def born_stable(C: np.ndarray) -> tuple[bool, np.ndarray]:
    """Born mechanical stability: C (symmetrised) positive definite. Returns (stable, eigenvalues)."""
    w = np.linalg.eigvalsh(0.5 * (C + C.T))
    return bool(np.all(w > 0)), w


@dataclass
class ElasticResult:
    """C and C_err: 6x6, GPa (C_err: least-squares standard error of the fit).
    C_spread: committee standard deviation per entry (None without a committee);
    C_members: per-member tensors. moduli: VRH moduli of C (GPa); moduli_spread:
    their committee standard deviation. stable: Born stability; method:
    'stress-strain' or 'energy-strain'."""

    C: np.ndarray
    C_err: np.ndarray
    moduli: dict[str, float]
    stable: bool
    eigenvalues: np.ndarray
    method: str
    C_spread: np.ndarray | None = None
    C_members: list[np.ndarray] = field(default_factory=list)
    moduli_spread: dict[str, float] | None = None

    def to_dict(self) -> dict:
        out = {"C_GPa": self.C.tolist(), "C_err_GPa": self.C_err.tolist(), "moduli_GPa": self.moduli,
               "born_stable": self.stable, "eigenvalues_GPa": self.eigenvalues.tolist(), "method": self.method}
        if self.C_spread is not None:
            out["C_committee_std_GPa"] = self.C_spread.tolist()
            out["moduli_committee_std_GPa"] = self.moduli_spread
            out["C_members_GPa"] = [c.tolist() for c in self.C_members]
        return out


@checks_atoms()
def relax_cell(atoms: Atoms, calc, fmax: float = 1e-4, steps: int = 500) -> Atoms:
    """A copy of ``atoms`` with cell and ions relaxed by ``calc`` (FrechetCellFilter + BFGS), fmax in eV/A."""
    from ase.filters import FrechetCellFilter
    from ase.optimize import BFGS

    out = atoms.copy()
    out.calc = calc
    BFGS(FrechetCellFilter(out), logfile=None).run(fmax=fmax, steps=steps)
    out.calc = None
    return out


def _strained(atoms: Atoms, e: np.ndarray) -> Atoms:
    eps = np.zeros((3, 3))
    for k, (i, j) in enumerate(VOIGT):
        eps[i, j] = eps[j, i] = e[k] if k < 3 else e[k] / 2  # engineering shear -> tensor strain
    out = atoms.copy()
    out.set_cell(atoms.cell @ (np.eye(3) + eps), scale_atoms=True)
    return out


def _relax_ions(atoms: Atoms, fmax: float) -> None:
    from ase.optimize import BFGS

    if np.abs(atoms.get_forces()).max() > fmax:
        BFGS(atoms, logfile=None).run(fmax=fmax, steps=200)


def _probe_stress(atoms: Atoms, calc) -> np.ndarray | None:
    """The calculator's stress on ``atoms`` (GPa, Voigt), or None when it cannot give one."""
    from ase.calculators.calculator import PropertyNotImplementedError

    if "stress" not in getattr(calc, "implemented_properties", ["stress"]):
        return None
    probe = atoms.copy()
    probe.calc = calc
    try:
        return probe.get_stress() / GPa
    # some engines list stress but lack it in a mode (GPAW LCAO): fall back to energies
    except (PropertyNotImplementedError, NotImplementedError, AttributeError):
        return None


def _check_input(atoms: Atoms, calc, stress_tol: float) -> np.ndarray | None:
    if not all(atoms.pbc):
        raise InputError(f"atoms.pbc = {atoms.pbc.tolist()}: elastic constants need a cell periodic in all "
                         "three directions (a bulk crystal); set atoms.pbc = True with a bulk cell")
    stress = _probe_stress(atoms, calc)
    if stress is not None:
        s = np.abs(stress).max()
        if s > stress_tol:
            raise InputError(f"atoms: residual stress {s:.3g} GPa exceeds stress_tol = {stress_tol} GPa; "
                             "the cell is not relaxed. Relax it first with this calculator "
                             "(atomistic.properties.elastic.relax_cell(atoms, calc); CLI: --set relax=true) "
                             "or raise stress_tol knowingly")
    return stress


def _tensor_stress(atoms: Atoms, calc, strains: np.ndarray, relax_ions: bool, fmax: float
                   ) -> tuple[np.ndarray, np.ndarray]:
    C = np.zeros((6, 6))
    err = np.zeros((6, 6))
    for j in range(6):
        stresses = []
        for a in strains:
            e = np.zeros(6)
            e[j] = a
            s = _strained(atoms, e)
            s.calc = calc
            if relax_ions:
                _relax_ions(s, fmax)
            # ASE stress is -(1/V) dE/de with the tensile-positive sign: sigma = C e
            stresses.append(s.get_stress(voigt=True) / GPa)
        stresses = np.array(stresses)
        A = np.vstack([strains, np.ones_like(strains)]).T
        coef, res, *_ = np.linalg.lstsq(A, stresses, rcond=None)
        C[:, j] = coef[0]
        dof = len(strains) - 2
        resid = stresses - A @ coef
        sigma2 = (resid ** 2).sum(axis=0) / max(dof, 1)
        err[:, j] = np.sqrt(sigma2 * np.linalg.inv(A.T @ A)[0, 0])
    return C, err


def _tensor_energy(atoms: Atoms, calc, strains: np.ndarray, relax_ions: bool, fmax: float
                   ) -> tuple[np.ndarray, np.ndarray]:
    V = atoms.get_volume()

    def curvature(e_dir: np.ndarray) -> tuple[float, float]:
        E = []
        for a in strains:
            s = _strained(atoms, a * e_dir)
            s.calc = calc
            if relax_ions:
                _relax_ions(s, fmax)
            E.append(s.get_potential_energy() / V / GPa)
        A = np.vstack([strains ** 2, strains, np.ones_like(strains)]).T
        coef, *_ = np.linalg.lstsq(A, np.array(E), rcond=None)
        resid = np.array(E) - A @ coef
        sigma2 = (resid ** 2).sum() / max(len(strains) - 3, 1)
        return 2 * coef[0], 2 * np.sqrt(sigma2 * np.linalg.inv(A.T @ A)[0, 0])

    C = np.zeros((6, 6))
    err = np.zeros((6, 6))
    for i in range(6):
        C[i, i], err[i, i] = curvature(np.eye(6)[i])
    for i in range(6):
        for j in range(i + 1, 6):
            # E/V along e_i = e_j = a is 1/2 (C_ii + C_jj + 2 C_ij) a^2
            cij, eij = curvature(np.eye(6)[i] + np.eye(6)[j])
            C[i, j] = C[j, i] = (cij - C[i, i] - C[j, j]) / 2
            err[i, j] = err[j, i] = np.sqrt(eij ** 2 + err[i, i] ** 2 + err[j, j] ** 2) / 2
    return C, err


@checks_atoms()
def elastic_constants(atoms: Atoms, calc, max_strain: float = 0.005, n_strains: int = 5,
                      stress_tol: float = 0.05, relax_ions: bool | None = None, fmax: float = 1e-4,
                      method: str = "auto") -> ElasticResult:
    """The 6x6 elastic tensor of a relaxed periodic cell, GPa.

    max_strain: largest strain amplitude (dimensionless; 0.5 % is in the linear
    regime for metals and well above finite-difference noise). n_strains:
    amplitudes per direction, symmetric about zero (odd, >= 3). stress_tol:
    largest accepted residual stress, GPa. relax_ions: relax internal
    coordinates at each strain (default: when the cell has more than one atom
    per primitive cell cannot be known cheaply, so when len(atoms) > 1).
    method: 'stress', 'energy' or 'auto' (stress when the calculator has it).
    """
    if n_strains < 3:
        raise InputError(f"n_strains = {n_strains}: a fit with an error needs at least 3 strains")
    if method not in ("auto", "stress", "energy"):
        raise InputError(f"method = {method!r}: expected 'auto', 'stress' or 'energy'")
    if method == "energy" and n_strains < 4:
        raise InputError(f"n_strains = {n_strains}: the energy fit (3 parameters) needs at least 4 strains")
    has_stress = _check_input(atoms, calc, stress_tol) is not None
    if method == "stress" and not has_stress:
        raise InputError("method = 'stress': this calculator gives no stress; use method='energy' or 'auto'")
    strains = np.linspace(-max_strain, max_strain, n_strains)
    if relax_ions is None:
        relax_ions = len(atoms) > 1
    use_stress = method == "stress" or (method == "auto" and has_stress)

    def one(c):
        if use_stress:
            return _tensor_stress(atoms, c, strains, relax_ions, fmax)
        return _tensor_energy(atoms, c, strains, relax_ions, fmax)

    C, C_err = one(calc)
    stable, w = born_stable(C)
    result = ElasticResult(C=C, C_err=C_err, moduli=vrh(C), stable=stable, eigenvalues=w,
                           method="stress-strain" if use_stress else "energy-strain")
    members = members_of(calc)
    if members:
        per = [one(m)[0] for m in members]
        result.C_members = per
        result.C_spread = np.std(per, axis=0, ddof=1)
        mods = [vrh(c) for c in per]
        result.moduli_spread = {k: float(np.std([m[k] for m in mods], ddof=1)) for k in mods[0]}
    return result


@dataclass
class EOSResult:
    """Equation-of-state fit: V0 (A^3), E0 (eV), B (GPa), volumes and energies sampled."""

    V0: float
    E0: float
    B: float
    volumes: np.ndarray
    energies: np.ndarray


@checks_atoms()
def eos_bulk_modulus(atoms: Atoms, calc, span: float = 0.02, n_points: int = 9, eos: str = "birchmurnaghan"
                     ) -> EOSResult:
    """Bulk modulus from an ASE EquationOfState fit over isotropic strains in [-span, span] of the lattice."""
    from ase.eos import EquationOfState

    vols, ens = [], []
    for s in np.linspace(1 - span, 1 + span, n_points):
        a = atoms.copy()
        a.set_cell(atoms.cell * s, scale_atoms=True)
        a.calc = calc
        vols.append(a.get_volume())
        ens.append(a.get_potential_energy())
    fit = EquationOfState(vols, ens, eos=eos)
    v0, e0, b = fit.fit()
    return EOSResult(V0=float(v0), E0=float(e0), B=float(b / GPa), volumes=np.array(vols), energies=np.array(ens))
