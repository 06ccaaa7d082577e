"""Free energies by thermodynamic integration: alchemical switching and Frenkel-Ladd.

``switch_free_energy(atoms, calc0, calc1, T)`` estimates F1 - F0 by
nonequilibrium switching with Langevin dynamics on H(lambda) = (1 - lambda) H0
+ lambda H1, forward (0 -> 1) and backward (1 -> 0), each after equilibration,
with ASE's smooth switching schedule (ase.md.switch_langevin.get_lambda). The
work W = sum_k (lambda_{k+1} - lambda_k) (U1 - U0)(x_k) is the exact work of
the discrete protocol. Forward and backward dissipation cancel to first
order: dF = (W_f - W_b) / 2 (Freitas, Asta & de Koning, Comput. Mater. Sci.
112, 333 (2016)); repeats give the standard error, (W_f + W_b)/2 the
dissipated work.

``frenkel_ladd(atoms, calc, T)`` is the Einstein-crystal route to the absolute
classical free energy of a solid: switch from an Einstein crystal (springs
of constant k tying each atom to its lattice site) to ``calc`` with the centre
of mass fixed (ase.constraints.FixCom). The result is reported with the
centre-of-mass convention of the harmonic reference it is compared with
(``harmonic_free_energy``): both count 3N - 3 vibrational modes of the same
cell, so a residual difference is anharmonicity or statistical error.

Units: eV, eV/atom, K, fs; spring constants in eV/A^2.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from ase import Atoms, units
from ase.calculators.calculator import Calculator, all_changes

from ..ensemble import members_of
from ..errors import InputError
from ..structures import checks_atoms

HBAR = units._hbar / units._e * 1e15  # eV fs


class EinsteinCrystal(Calculator):
    """Harmonic springs to fixed sites: E = E0 + 1/2 sum_i k_i |r_i - r0_i|^2 (positions unwrapped).

    reference: (N, 3) site positions, A. k: eV/A^2, scalar or (N,). energy0: eV.
    """

    implemented_properties = ["energy", "free_energy", "forces"]

    def __init__(self, reference: np.ndarray, k, energy0: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.reference = np.array(reference, float)
        self.k = np.broadcast_to(np.asarray(k, float), (len(self.reference),)).copy()
        self.energy0 = float(energy0)

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        u = self.atoms.positions - self.reference
        e = self.energy0 + 0.5 * float((self.k[:, None] * u * u).sum())
        self.results = {"energy": e, "free_energy": e, "forces": -self.k[:, None] * u}

    def free_energy(self, masses: np.ndarray, temperature: float, fixed_com: bool = False) -> float:
        """Classical Helmholtz free energy, eV: E0 + kT sum over modes of ln(hbar omega / kT).

        fixed_com: count 3N - 3 modes (drop the centre-of-mass mode; needs equal k/m on all atoms).
        """
        kT = units.kB * temperature
        omega = np.sqrt(self.k / np.asarray(masses)) / np.sqrt(units._amu / units._e * 1e-20) * 1e-15  # rad/fs
        terms = 3 * np.log(HBAR * omega / kT)
        total = terms.sum()
        if fixed_com:
            total -= terms.mean()
        return self.energy0 + kT * float(total)


class _Switch(Calculator):
    """(1 - lambda) calc0 + lambda calc1, remembering both energies of the last evaluation."""

    implemented_properties = ["energy", "free_energy", "forces"]

    def __init__(self, calc0, calc1):
        super().__init__()
        self.calc0, self.calc1, self.lam = calc0, calc1, 0.0
        self.u0 = self.u1 = 0.0

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        # sub-calculators see raw positions: constraints (FixCom) act on the mixed forces in Atoms
        out = [(c.get_potential_energy(self.atoms), c.get_forces(self.atoms)) for c in (self.calc0, self.calc1)]
        (self.u0, f0), (self.u1, f1) = out
        e = (1 - self.lam) * self.u0 + self.lam * self.u1
        self.results = {"energy": e, "free_energy": e, "forces": (1 - self.lam) * f0 + self.lam * f1}


@dataclass
class SwitchResult:
    """dF = F1 - F0 (eV, whole system) and its standard error; per-repeat forward and
    backward work (eV); dissipation (W_f + W_b)/2 (eV); the last repeat's work curves
    (lambda, U1 - U0) forward and backward for plotting; n_atoms."""

    dF: float
    dF_err: float
    W_forward: np.ndarray
    W_backward: np.ndarray
    dissipation: float
    curve_forward: np.ndarray
    curve_backward: np.ndarray
    n_atoms: int
    members: list[float] = field(default_factory=list)

    @property
    def dF_per_atom(self) -> float:
        return self.dF / self.n_atoms

    def to_dict(self) -> dict:
        return {"dF_eV": self.dF, "dF_err_eV": self.dF_err, "dF_per_atom_eV": self.dF_per_atom,
                "dF_err_per_atom_eV": self.dF_err / self.n_atoms, "W_forward_eV": self.W_forward.tolist(),
                "W_backward_eV": self.W_backward.tolist(), "dissipation_eV": self.dissipation,
                "n_atoms": self.n_atoms}


@checks_atoms()
def switch_free_energy(atoms: Atoms, calc0, calc1, temperature: float, n_switch: int = 2000,
                       n_eq: int = 500, n_repeats: int = 4, dt: float = 2.0, friction: float = 0.01,
                       fix_com: bool = False, seed: int = 0, progress=None) -> SwitchResult:
    """F1 - F0 (eV) by forward + backward nonequilibrium switching at ``temperature`` (K).

    n_switch: MD steps per switch (longer = less dissipation). n_eq: steps of
    equilibration before each switch. n_repeats: independent forward+backward
    cycles (>= 2, for the error). dt: fs. friction: Langevin friction, 1/fs.
    fix_com: hold the centre of mass (needed when one end is translation-invariant).
    progress: optional callable(str).
    """
    from ase.constraints import FixCom
    from ase.md.langevin import Langevin
    from ase.md.switch_langevin import get_lambda
    from ase.md.velocitydistribution import Stationary

    from ..md.velocities import thermalize

    if n_repeats < 2:
        raise InputError(f"n_repeats = {n_repeats}: at least 2 forward+backward cycles are needed for an error")
    if n_switch < 10:
        raise InputError(f"n_switch = {n_switch}: too fast a switch; use hundreds to thousands of steps")
    if temperature <= 0:
        raise InputError(f"temperature = {temperature} K: must be positive")
    a = atoms.copy()
    a.set_constraint(FixCom() if fix_com else None)
    sw = _Switch(calc0, calc1)
    a.calc = sw
    rng = np.random.default_rng(seed)
    thermalize(a, temperature, rng=rng)
    if fix_com:
        Stationary(a)
    md = Langevin(a, dt * units.fs, temperature_K=temperature, friction=friction / units.fs, fixcm=False,
                  rng=rng)
    lam = np.array([get_lambda(s, n_switch) for s in range(n_switch)])
    wf, wb = [], []
    curves = {}
    for rep in range(n_repeats):
        for direction, path in (("forward", lam), ("backward", lam[::-1])):
            sw.lam = path[0]
            a.calc.reset()
            md.run(n_eq)
            du = []
            for k in range(len(path)):
                a.get_forces()  # evaluate at the current lambda and positions
                du.append(sw.u1 - sw.u0)
                if k + 1 < len(path):
                    sw.lam = path[k + 1]
                    a.calc.reset()
                    md.run(1)
            du = np.array(du)
            # exact work of the discrete protocol: lambda jumps at fixed positions
            w = float(np.sum(np.diff(path) * du[:-1]))
            (wf if direction == "forward" else wb).append(w)
            curves[direction] = np.column_stack([path, du])
        if progress:
            progress(f"switching cycle {rep + 1}/{n_repeats}: W_f = {wf[-1]:.4f} eV, W_b = {wb[-1]:.4f} eV")
    wf, wb = np.array(wf), np.array(wb)
    est = (wf + wb * -1) / 2
    return SwitchResult(dF=float(est.mean()), dF_err=float(est.std(ddof=1) / np.sqrt(len(est))),
                        W_forward=wf, W_backward=wb, dissipation=float(np.mean((wf + wb) / 2)),
                        curve_forward=curves["forward"], curve_backward=curves["backward"], n_atoms=len(a))


@checks_atoms()
def einstein_spring(atoms: Atoms, calc, delta: float = 0.01) -> float:
    """Self force constant of atom 0 (eV/A^2): -dF_0/du_0 averaged over x, y, z, by central differences."""
    a = atoms.copy()
    a.calc = calc
    x0 = a.positions.copy()
    ks = []
    for c in range(3):
        f = []
        for s in (1, -1):
            x = x0.copy()
            x[0, c] += s * delta
            a.positions = x
            f.append(a.get_forces()[0, c])
        ks.append(-(f[0] - f[1]) / (2 * delta))
    return float(np.mean(ks))


@checks_atoms()
def harmonic_free_energy(atoms: Atoms, calc, temperature: float, delta: float = 0.005) -> dict:
    """Classical harmonic free energy of this cell, eV/atom, with the 3 translations removed.

    F = E0 + kT sum_{3N-3 modes} ln(hbar omega_i / kT), from the cell's own
    Hessian (its modes are the phonons commensurate with the cell): the same
    centre-of-mass convention as ``frenkel_ladd``. Also returns the quantum value.
    """
    from ..md.timestep import frequencies

    a = atoms.copy()
    a.calc = calc
    e0 = a.get_potential_energy()
    w = frequencies(atoms, calc, delta)[3:]  # rad/fs; the three lowest are the translations
    if np.any(w <= 0):
        raise InputError("atoms: imaginary or zero modes beyond the 3 translations; relax the structure first")
    kT = units.kB * temperature
    x = HBAR * w / kT
    n = len(atoms)
    return {"F_classical": (e0 + kT * np.log(x).sum()) / n,
            "F_quantum": (e0 + kT * (x / 2 + np.log1p(-np.exp(-x))).sum()) / n, "E0": e0 / n}


@dataclass
class FrenkelLaddResult:
    """F: classical Helmholtz free energy, eV/atom (3N-3 modes convention, see module doc);
    F_err: its standard error; F_einstein: the reference's; switch: the switching result;
    k: spring constant (eV/A^2); E0: static lattice energy (eV/atom); member F (committee)."""

    F: float
    F_err: float
    F_einstein: float
    E0: float
    k: float
    temperature: float
    switch: SwitchResult
    member_F: list[float] = field(default_factory=list)

    def to_dict(self) -> dict:
        out = {"F_eV_per_atom": self.F, "F_err_eV_per_atom": self.F_err, "F_einstein_eV_per_atom": self.F_einstein,
               "E0_eV_per_atom": self.E0, "k_eV_per_A2": self.k, "T_K": self.temperature,
               "switch": self.switch.to_dict()}
        if self.member_F:
            out["F_members_eV_per_atom"] = self.member_F
            out["F_committee_std_eV_per_atom"] = float(np.std(self.member_F, ddof=1))
        return out


@checks_atoms()
def frenkel_ladd(atoms: Atoms, calc, temperature: float, k: float | None = None, committee: bool = False,
                 **switch_kwargs) -> FrenkelLaddResult:
    """Absolute classical free energy (eV/atom) of a relaxed periodic solid by Einstein-crystal switching.

    k: spring constant (default: the self force constant of ``calc``, which
    matches the curvature an atom feels). committee: also run the switch for
    every member of a committee calculator (costly: one TI per member).
    switch_kwargs go to ``switch_free_energy`` (n_switch, n_eq, n_repeats, dt, ...).
    """
    if not all(atoms.pbc):
        raise InputError(f"atoms.pbc = {atoms.pbc.tolist()}: Frenkel-Ladd needs a periodic solid")
    if len(atoms) < 4:
        raise InputError(f"atoms: {len(atoms)} atom(s); with the centre of mass fixed a cell needs several "
                         "atoms (use a supercell of >= 32 atoms, e.g. atoms.repeat((2, 2, 2)))")
    masses = atoms.get_masses()
    if not np.allclose(masses, masses[0]):
        raise InputError("atoms: all masses must be equal for the fixed-centre-of-mass Einstein reference "
                         "used here (one element); alloys are not supported yet")

    def one(c):
        a = atoms.copy()
        a.calc = c
        e0 = a.get_potential_energy()
        if np.abs(a.get_forces()).max() > 1e-3:
            raise InputError("atoms: forces above 1e-3 eV/A; relax the structure with this calculator first "
                             "(the Einstein sites are the atoms' positions)")
        kk = k if k is not None else einstein_spring(atoms, c)
        ein = EinsteinCrystal(atoms.positions, kk, energy0=e0)
        sw = switch_free_energy(atoms, ein, c, temperature, fix_com=True, **switch_kwargs)
        fe = ein.free_energy(masses, temperature, fixed_com=True) / len(atoms)
        return fe + sw.dF_per_atom, sw, fe, e0 / len(atoms), kk

    F, sw, fe, e0, kk = one(calc)
    res = FrenkelLaddResult(F=F, F_err=sw.dF_err / len(atoms), F_einstein=fe, E0=e0, k=kk,
                            temperature=temperature, switch=sw)
    members = members_of(calc)
    if committee and members:
        res.member_F = [one(m)[0] for m in members]
    return res
