"""Harmonic phonons through phonopy, with committee bands and free energies.

``phonons(atoms, calc, supercell=(3, 3, 3))`` builds phonopy's displaced
supercells, evaluates forces with ``calc`` (any ASE calculator), and returns a
``PhononResult`` holding the phonopy object. For a committee (see
``atomistic.ensemble``) the same displacements are evaluated by every member,
giving one force-constant set per member; bands, DOS and free energies then
carry a committee standard deviation.

Acoustic sum rule: force constants are symmetrised by phonopy (translational
invariance), so acoustic frequencies at Gamma vanish to numerical precision.
Units: frequencies in THz, free energies in eV/atom, temperatures in K.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from ase import Atoms

from .._engines import import_engine
from ..ensemble import members_of
from ..errors import InputError
from ..structures import checks_atoms

KJMOL_TO_EV = 1.0 / 96.48533212331002  # phonopy thermal properties come in kJ/mol per unit cell


def _to_phonopy(atoms: Atoms):
    pa = import_engine("phonopy.structure.atoms")
    return pa.PhonopyAtoms(symbols=atoms.get_chemical_symbols(), cell=np.array(atoms.cell),
                           scaled_positions=atoms.get_scaled_positions(), masses=atoms.get_masses())


def _to_ase(cell) -> Atoms:
    return Atoms(symbols=cell.symbols, cell=cell.cell, scaled_positions=cell.scaled_positions,
                 masses=cell.masses, pbc=True)


def _forces(supercells, calc) -> np.ndarray:
    out = []
    for sc in supercells:
        a = _to_ase(sc)
        a.calc = calc
        f = a.get_forces().copy()
        # the net force of a displaced supercell is numerical noise; removing it helps the sum rule
        out.append(f - f.mean(axis=0))
    return np.array(out)


@dataclass
class PhononResult:
    """Phonons of one structure: ``phonon`` is the phonopy object for ``calc``
    (the committee mean for a committee); ``member_phonons`` one per member."""

    phonon: object
    member_phonons: list = field(default_factory=list)
    n_atoms: int = 1

    def frequencies(self, q) -> np.ndarray:
        """Frequencies at reduced wavevector(s) q (shape (3,) or (n, 3)), THz; shape (n, 3N_prim)."""
        q = np.atleast_2d(np.asarray(q, dtype=float))
        # phonopy's qpoints mode (get_frequencies(q) is deprecated); run_qpoints returns the
        # QpointsPhonon, whose frequencies are (n, 3N_prim) in THz
        return np.asarray(self.phonon.run_qpoints(q).frequencies)

    def member_frequencies(self, q) -> np.ndarray | None:
        """Per-member frequencies, shape (n_members, n_q, 3N_prim), or None without a committee."""
        if not self.member_phonons:
            return None
        q = np.atleast_2d(np.asarray(q, dtype=float))
        return np.array([np.asarray(p.run_qpoints(q).frequencies) for p in self.member_phonons])

    def band_structure(self, path: str | None = None, npoints: int = 51) -> dict:
        """Bands along a standard path (ASE's special points for the primitive cell).

        Returns dict with 'path', 'x' (n,), 'frequencies' (n, 3N_prim) THz, 'special' (x, label)
        and, for a committee, 'std' (n, 3N_prim) and 'members' (m, n, 3N_prim).
        """
        prim = _to_ase(self.phonon.primitive)
        bp = prim.cell.bandpath(path, npoints=npoints)
        x, xs, labels = bp.get_linear_kpoint_axis()
        kpts = bp.kpts
        freqs = self.frequencies(kpts)
        out = {"path": bp.path, "x": x, "frequencies": freqs, "special": list(zip(xs, labels)), "kpts": kpts}
        members = self.member_frequencies(kpts)
        if members is not None:
            out["members"] = members
            out["std"] = members.std(axis=0, ddof=1)
        return out

    def dos(self, mesh=(20, 20, 20), sigma: float = 0.1) -> dict:
        """Total phonon DOS on a Gamma-centred mesh: 'frequency' (THz), 'dos' (states/THz/prim cell)."""
        self.phonon.run_mesh(list(mesh), is_gamma_center=True)
        self.phonon.run_total_dos(sigma=sigma)
        d = self.phonon.get_total_dos_dict()
        out = {"frequency": d["frequency_points"], "dos": d["total_dos"]}
        if self.member_phonons:
            ds = []
            for p in self.member_phonons:
                p.run_mesh(list(mesh), is_gamma_center=True)
                p.run_total_dos(sigma=sigma, freq_min=d["frequency_points"][0],
                                freq_max=d["frequency_points"][-1],
                                freq_pitch=d["frequency_points"][1] - d["frequency_points"][0])
                ds.append(p.get_total_dos_dict()["total_dos"][: len(d["total_dos"])])
            out["std"] = np.std(ds, axis=0, ddof=1)
        return out

    def free_energy(self, temperatures, mesh=(20, 20, 20), classical: bool = False) -> dict:
        """Vibrational Helmholtz free energy, eV/atom, at ``temperatures`` (K), on a q mesh.

        classical=True gives the classical harmonic value (what classical MD
        samples); otherwise quantum (zero-point included). Returns 'T', 'F' and,
        for a committee, 'std' and 'members'.
        """
        T = np.atleast_1d(np.asarray(temperatures, float))

        def one(p):
            p.run_mesh(list(mesh), is_gamma_center=True)
            p.run_thermal_properties(temperatures=T, classical=classical, exclude_gamma_acoustic=True)
            return np.asarray(p.thermal_properties.free_energy) * KJMOL_TO_EV / len(p.primitive)

        out = {"T": T, "F": one(self.phonon)}
        if self.member_phonons:
            m = np.array([one(p) for p in self.member_phonons])
            out["members"] = m
            out["std"] = m.std(axis=0, ddof=1)
        return out


@checks_atoms()
def phonons(atoms: Atoms, calc, supercell=(3, 3, 3), displacement: float = 0.01, primitive="P",
            plusminus: bool | str = True, symmetrize: bool = True) -> PhononResult:
    """Harmonic phonons of ``atoms`` (a relaxed periodic unit cell) with ``calc``.

    supercell: repetitions of the unit cell (3 ints or a 3x3 matrix).
    primitive: phonopy primitive_matrix ("P": ``atoms`` is the cell whose reciprocal
    basis q is given in). displacement: finite displacement, Angstrom. plusminus: displace both
    ways (central differences; cancels the cubic error term). symmetrize:
    impose translational invariance and index symmetry on force constants.
    """
    if not all(atoms.pbc):
        raise InputError(f"atoms.pbc = {atoms.pbc.tolist()}: phonons need a cell periodic in all three "
                         "directions; pass a bulk unit cell")
    if displacement <= 0 or displacement > 0.1:
        raise InputError(f"displacement = {displacement} A: use a small positive value (0.005-0.03 A)")
    phonopy = import_engine("phonopy")
    sm = np.diag(supercell) if np.ndim(supercell) == 1 else np.asarray(supercell)
    ph = phonopy.Phonopy(_to_phonopy(atoms), supercell_matrix=sm, primitive_matrix=primitive)
    ph.generate_displacements(distance=displacement, is_plusminus=plusminus)
    supercells = ph.supercells_with_displacements

    def build(forces):
        p = phonopy.Phonopy(_to_phonopy(atoms), supercell_matrix=sm, primitive_matrix=primitive)
        p.dataset = ph.dataset
        p.forces = forces
        p.produce_force_constants()
        if symmetrize:
            p.symmetrize_force_constants()
        return p

    main = build(_forces(supercells, calc))
    members = members_of(calc)
    member_ph = [build(_forces(supercells, m)) for m in members] if members else []
    return PhononResult(phonon=main, member_phonons=member_ph, n_atoms=len(atoms))


def sound_velocities(C: np.ndarray, density: float, direction=(1, 0, 0)) -> np.ndarray:
    """Christoffel sound velocities (m/s, ascending) along ``direction`` for a 6x6 C in GPa and density in kg/m^3."""
    n = np.asarray(direction, float)
    n /= np.linalg.norm(n)
    c = np.zeros((3, 3, 3, 3))
    voigt = {(0, 0): 0, (1, 1): 1, (2, 2): 2, (1, 2): 3, (2, 1): 3, (0, 2): 4, (2, 0): 4, (0, 1): 5, (1, 0): 5}
    for i in range(3):
        for j in range(3):
            for k in range(3):
                for l in range(3):
                    c[i, j, k, l] = C[voigt[i, j], voigt[k, l]]
    gamma = np.einsum("ijkl,j,l->ik", c, n, n) * 1e9
    return np.sqrt(np.linalg.eigvalsh(gamma) / density)
