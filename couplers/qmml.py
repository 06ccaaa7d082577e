"""HybridCalculator: a high-level region (e.g. GPAW) inside a low-level one (an MLIP, any ASE calculator).

Two modes, chosen by ``mode``:

``"force"`` (force mixing)::

    F_i = w_i F_i^high(cluster) + (1 - w_i) F_i^low(system)

w_i from the region's switching function (quintic, C2, by default), so the force on an
atom changes smoothly as it crosses the shell. The cluster = weighted atoms + a buffer
shell, cut out with the minimum-image convention (any cell shape). These forces are not
the gradient of any energy: NVE total energy is *not* conserved; energy flows through the
boundary. The reported ``energy`` is a conserved-quantity estimate,
E_low(system) + W_mix, where W_mix = -integral (F - F^low) . dr is the work done by the
mixing correction along the trajectory (trapezoid rule between consecutive calls), so
kinetic + reported energy stays constant up to integrator error. When both calculators
give per-atom energies, ``step_info["weighted_energy"]`` = sum_i w_i e_i^high +
(1 - w_i) e_i^low, a state function whose NVE drift measures the boundary energy flux.

``"energy"`` (subtractive, ONIOM-like, Hamiltonian)::

    E = E_low(system) + E_high(C) - E_low(C),   F = -dE/dr exactly,

with C = core + buffer of *fixed membership* (frozen at the first call; ``refresh_region()``
re-selects it, which is a discontinuity). NVE conserves this E to integrator accuracy.
Weights are not used (every core atom is fully high-level).

Cost per step: one high-level calculation on the cluster, one low-level on the system
(energy mode adds one low-level on the cluster). ``step_info`` gives the time split.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, PropertyNotImplementedError, all_changes

from foundation.files import atomic_path, write_text

from .errors import CalculationFailed, ConvergenceError, InputError
from .qmml_cluster import Cluster, cut_cluster, formal_charge, whole_molecules
from .regions import IndexRegion, Region
from .switching import Switch, get_switch

__all__ = ["HybridCalculator", "interaction_cutoff"]

_MODES = ("force", "energy")


def interaction_cutoff(calc) -> float | None:
    """The interaction cutoff (Angstrom) a calculator advertises, or None if it says none.

    Looks at the usual attribute names (``cutoff``, EMT's ``rc_list`` after a first
    calculation, ``rc``) and parameters (``rc``, ``cutoff``).
    """
    for name in ("cutoff", "r_max", "rc_list", "rc"):
        value = getattr(calc, name, None)
        if isinstance(value, (int, float, np.floating)) and value > 0:
            return float(value)
    params = getattr(calc, "parameters", None) or {}
    for name in ("cutoff", "rc"):
        value = params.get(name) if hasattr(params, "get") else None
        if isinstance(value, (int, float)) and value > 0:
            return float(value)
    return None


class HybridCalculator(Calculator):
    """High-level calculator on a region, low-level everywhere else.

    Parameters
    ----------
    high, low: any ASE calculators (e.g. GPAW and an MLIP; EMT and LennardJones).
    region: a ``couplers.regions.Region`` or a list of atom indices (an IndexRegion).
    switch: name or ``couplers.switching.Switch``; default "quintic" (C2).
    buffer: width (Angstrom) of the shell of zero-weight atoms added around the weighted
        atoms in the cluster. Default: the low-level calculator's cutoff (read after its
        first calculation); errors for accuracy fall as it grows toward the high-level
        interaction range. Must be >= the switching shell width.
    mode: "force" (force mixing, smooth, not conservative) or "energy" (subtractive
        Hamiltonian, fixed core, conservative).
    hydrogen_caps: cap bonds cut by the cluster with H (molecular systems).
    whole_molecules: grow the cluster to whole molecules held together by X-H bonds
        (water, hydroxide, hydronium: ``couplers.qmml_cluster.whole_molecules``), so the
        high level never sees a broken water molecule; the weights are unchanged.
    conserve_momentum: remove the net force the mixing leaves (force mode); the removed
        net force is reported in ``step_info["net_force_removed"]`` (eV/Angstrom, (3,)).
    vacuum: vacuum (Angstrom) around the finite cluster, for codes that need a box.
    grid_spacing: the high-level code's real-space grid spacing (Angstrom), e.g. GPAW's
        ``h``: the cluster box is then aligned to a fixed grid so atoms do not slide across
        grid points between steps (egg-box noise) and a finite system and its cluster share
        one grid. See ``couplers.qmml_cluster.cut_cluster``.
    state_file: optional JSON sidecar, rewritten atomically each step and read back at
        construction, holding the region membership and step count (restart-safe). The
        same state is also stored in ``atoms.info["qmml_state"]`` so trajectories carry it.
    failure_dir: where the cluster is written when the high-level calculation fails.
    cluster_charge: the net charge (e) of the high-level cluster: None (leave the high-level
        calculator's own setting alone), an integer, "formal" (the sum of the ions' formal
        charges, ``couplers.qmml_cluster.formal_charge``: +1 for Na+ with its water shell,
        0 once a Cl- joins it) or a function cluster Atoms -> int. It is written to the
        cluster's ``info["charge"]`` (which the toolkit's MLIPs read) and, when it changes,
        given to the high-level calculator as its ``charge`` parameter: GPAW (old and new
        code) refuses to change it in place, so ``high`` is then replaced by
        ``high.new(charge=q)`` (same text log); other ASE calculators get
        ``set(charge=q)``. A charge that changes because an ion joined or left the cluster
        changes the high-level forces at once: the same kind of jump as any change of
        cluster membership, made rare by the buffer and the region's hysteresis.
    """

    implemented_properties = ("energy", "free_energy", "forces")

    def __init__(self, high: Calculator, low: Calculator, region: Region | Sequence[int],
                 switch: str | Switch = "quintic", buffer: float | None = None,
                 mode: str = "force", hydrogen_caps: bool = False,
                 conserve_momentum: bool = False, vacuum: float = 4.0,
                 whole_molecules: bool = False,
                 grid_spacing: float | None = None,
                 state_file: str | os.PathLike | None = None,
                 failure_dir: str | os.PathLike = ".",
                 cluster_charge: int | str | Callable[[Atoms], int] | None = None, **kwargs):
        super().__init__(**kwargs)
        if high is None or low is None:
            raise InputError("high and low must both be ASE calculators (got None)")
        self.high = high
        self.low = low
        self._region = region if isinstance(region, Region) else IndexRegion(region)
        self._switch = get_switch(switch)
        if mode not in _MODES:
            raise InputError(f"mode={mode!r}: expected one of {_MODES}")
        self._mode = mode
        self._buffer = None
        if buffer is not None:
            self.buffer = buffer
        self.hydrogen_caps = bool(hydrogen_caps)
        self.whole_molecules = bool(whole_molecules)
        self.conserve_momentum = bool(conserve_momentum)
        self.vacuum = float(vacuum)
        self.grid_spacing = None if grid_spacing is None else float(grid_spacing)
        self.state_file = None if state_file is None else Path(state_file)
        self.failure_dir = Path(failure_dir)
        if not (cluster_charge is None or cluster_charge == "formal" or callable(cluster_charge)
                or (isinstance(cluster_charge, (int, np.integer))
                    and not isinstance(cluster_charge, bool))):
            raise InputError(f"cluster_charge={cluster_charge!r}: expected None, an integer, "
                             "'formal' or a function Atoms -> int")
        self.cluster_charge = cluster_charge
        self.step = 0
        self.mixing_work = 0.0  # eV, force mode: -integral (F - F_low) . dr
        self._previous: tuple[np.ndarray, np.ndarray] | None = None  # (positions, dF)
        self._refresh = False
        self.cluster: Cluster | None = None
        self.weights: np.ndarray | None = None
        self.components: dict = {}
        self.step_info: dict = {}
        self.timings: list[dict] = []
        if self.state_file is not None and self.state_file.exists():
            self.load_state(_read_state_file(self.state_file))

    # -- settings that change the physics reset the results ---------------------------
    @property
    def region(self) -> Region:
        return self._region

    @region.setter
    def region(self, value):
        self._region = value if isinstance(value, Region) else IndexRegion(value)
        self.reset()

    @property
    def switch(self) -> Switch:
        return self._switch

    @switch.setter
    def switch(self, value):
        self._switch = get_switch(value)
        self.reset()

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, value):
        if value not in _MODES:
            raise InputError(f"mode={value!r}: expected one of {_MODES}")
        self._mode = value
        self.reset()

    @property
    def buffer(self) -> float | None:
        return self._buffer

    @buffer.setter
    def buffer(self, value):
        value = float(value)
        shell = self._region.shell_width
        if not np.isfinite(value) or value < 0:
            raise InputError(f"buffer={value!r}: expected a finite width >= 0 Angstrom")
        if value < shell:
            raise InputError(
                f"buffer={value} A is narrower than the switching shell "
                f"(r_outer - r_inner = {shell} A): expected buffer >= {shell} A, so that "
                "atoms with partial weight see a high-level environment")
        self._buffer = value
        self.reset()

    def refresh_region(self) -> None:
        """Energy mode: re-select the core + buffer at the next call (energy jumps there)."""
        self._refresh = True
        self.reset()

    # -- restart-safe state -------------------------------------------------------------
    def state(self) -> dict:
        """JSON-able state: region membership/history, step count, mixing work."""
        return {"region": self._region.state(), "step": self.step,
                "mixing_work": self.mixing_work, "mode": self._mode, "buffer": self._buffer}

    def load_state(self, state: dict | str) -> None:
        """Continue from ``state()`` output (dict or its JSON string, e.g. atoms.info["qmml_state"])."""
        if isinstance(state, str):
            try:
                state = json.loads(state)
            except ValueError as exc:
                raise InputError(f"state: not the JSON of HybridCalculator.state() ({exc})") from None
        _check_state(state, "state")
        self._region.load_state(state["region"])
        self.step = int(state.get("step", 0))
        self.mixing_work = float(state.get("mixing_work", 0.0))
        if self._buffer is None and state.get("buffer") is not None:
            self._buffer = float(state["buffer"])
        self.reset()

    # -- the calculation ------------------------------------------------------------------
    def _run(self, calc, atoms: Atoms, what: str, want_energies: bool = False):
        atoms = atoms.copy()
        atoms.calc = calc
        forces = atoms.get_forces()
        energy = atoms.get_potential_energy()
        energies = None
        if want_energies:
            try:
                energies = atoms.get_potential_energies()
            except (PropertyNotImplementedError, NotImplementedError, AttributeError):
                energies = None
        return energy, forces, energies

    def _set_cluster_charge(self, cluster: Atoms) -> int:
        q = self.cluster_charge
        q = formal_charge(cluster) if q == "formal" else q(cluster) if callable(q) else q
        if isinstance(q, float) and q.is_integer():
            q = int(q)
        if not isinstance(q, (int, np.integer)) or isinstance(q, bool):
            raise InputError(f"cluster_charge gave {q!r} for a {len(cluster)}-atom cluster: "
                             "expected an integer number of elementary charges")
        q = int(q)
        cluster.info["charge"] = q
        parameters = getattr(self.high, "parameters", None)
        current = parameters.get("charge") if isinstance(parameters, dict) else \
            getattr(parameters, "charge", None)
        if (current or 0) != q:   # unset means neutral; only on a change: the SCF restarts
            if callable(getattr(self.high, "new", None)):
                # GPAW: set() refuses to change it; new() would open a fresh text log on stdout
                self.high = self.high.new(charge=q, txt=_same_text_log(self.high))
            elif hasattr(self.high, "set"):
                self.high.set(charge=q)  # other ASE calculators
            else:
                raise InputError(f"cluster_charge: the high-level calculator "
                                 f"{type(self.high).__name__} has no set() or new() to take "
                                 "a charge; expected an ASE calculator")
        return q

    def _run_high(self, cluster: Atoms, want_energies: bool):
        try:
            return self._run(self.high, cluster, "high", want_energies)
        except Exception as exc:  # any engine failure: keep the evidence, say where
            path = self.failure_dir / f"qmml_failed_cluster_step{self.step}.xyz"
            with atomic_path(path) as tmp:
                cluster.write(tmp, format="extxyz")
            text = f"{type(exc).__name__}: {exc}"
            cls = ConvergenceError if "converge" in text.lower() else CalculationFailed
            raise cls(f"high-level calculation failed at step {self.step} on a "
                      f"{len(cluster)}-atom cluster ({text}); cluster written to {path}") from exc

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        atoms = self.atoms
        region, n = self._region, len(atoms)
        info = {"step": self.step, "mode": self._mode}

        t0 = time.perf_counter()
        e_low, f_low, en_low = self._run(self.low, atoms, "low",
                                         want_energies=self._mode == "force")
        info["t_low"] = time.perf_counter() - t0
        if self._buffer is None:
            cutoff = interaction_cutoff(self.low) or interaction_cutoff(self.high)
            if cutoff is None:
                raise InputError("buffer=None but neither calculator advertises a cutoff: "
                                 "expected an explicit buffer width in Angstrom")
            self.buffer = max(cutoff, region.shell_width)

        t0 = time.perf_counter()
        d = region.distances(atoms)
        w = region.weights(atoms, self._switch, d)
        if not np.any(d < region.r_outer) and not np.any(w > 0):
            raise InputError(f"the high-level region selects no atoms at step {self.step} "
                             f"(smallest distance {d.min():.3f} A, r_outer {region.r_outer} A): "
                             "expected at least one atom inside the region")
        frozen = self._mode == "energy" and region.members is not None and not self._refresh
        members = region.update_members(d, self._buffer, step=self.step, frozen=frozen)
        if self.whole_molecules:   # a frozen (energy-mode) core keeps the molecules it was cut with
            members = self.cluster.indices if frozen and self.cluster is not None \
                else whole_molecules(atoms, members)
        self._refresh = False
        cl = cut_cluster(atoms, members, region.centre(atoms, d), vacuum=self.vacuum,
                         hydrogen_caps=self.hydrogen_caps, grid_spacing=self.grid_spacing)
        self.cluster = cl
        if self.cluster_charge is not None:
            info["cluster_charge"] = self._set_cluster_charge(cl.atoms)
        info["t_cluster"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        e_high, f_high_cl, en_high = self._run_high(cl.atoms, self._mode == "force"
                                                    and en_low is not None)
        info["t_high"] = time.perf_counter() - t0
        f_high = cl.scatter(f_high_cl, n)

        if self._mode == "energy":
            t0 = time.perf_counter()
            e_low_cl, f_low_cl, _ = self._run(self.low, cl.atoms, "low")
            info["t_low"] += time.perf_counter() - t0
            energy = e_low + e_high - e_low_cl
            forces = f_low + f_high - cl.scatter(f_low_cl, n)
            info["conserved"] = "energy (exact gradient, fixed core)"
        else:
            # Only weighted atoms use high-level forces; all of them are in the cluster.
            forces = w[:, None] * f_high + (1.0 - w[:, None]) * f_low
            correction = forces - f_low
            if self._previous is not None and len(self._previous[0]) == n:
                dr = atoms.positions - self._previous[0]
                self.mixing_work -= 0.5 * float(np.sum((self._previous[1] + correction) * dr))
            self._previous = (atoms.positions.copy(), correction)
            energy = e_low + self.mixing_work
            e_high_atom = None
            if en_low is not None and en_high is not None:
                e_high_atom = np.zeros(n)
                e_high_atom[cl.indices] = en_high[:len(cl.indices)]
                info["weighted_energy"] = float(np.sum(w * e_high_atom + (1 - w) * en_low))
            info["conserved"] = "none exactly; energy = E_low + mixing work (estimate)"
            if self.conserve_momentum:
                net = forces.sum(axis=0)
                forces = forces - net / n
                info["net_force_removed"] = net
        info.update(n_atoms=n, n_cluster=len(cl.atoms), n_weighted=int(np.sum(w > 0)),
                    n_core=int(np.sum(w >= 1.0)), e_low=e_low, e_high=e_high,
                    mixing_work=self.mixing_work)
        self.results = {"energy": energy, "free_energy": energy, "forces": forces}
        self.weights = w
        # The parts, for analysis and plots: forces (N, 3) eV/A; per-atom energies (N,) eV
        # where both calculators give them (high-level ones are zero outside the cluster).
        self.components = {"weights": w, "forces_high": f_high, "forces_low": f_low,
                           "energies_low": en_low,
                           "energies_high": None if self._mode == "energy" or en_high is None
                           else e_high_atom}
        self.step_info = info
        self.timings.append({k: info[k] for k in ("step", "t_low", "t_high", "t_cluster")})
        self.step += 1
        state = json.dumps(self.state())
        if self._user_atoms is not None:
            self._user_atoms.info["qmml_state"] = state
        if self.state_file is not None:
            write_text(self.state_file, state)

    _user_atoms: Atoms | None = None

    def get_property(self, name, atoms=None, allow_calculation=True):
        # Remember the caller's Atoms so the region state can ride along in atoms.info
        # (and hence in any trajectory written from them).
        if atoms is not None:
            self._user_atoms = atoms
        return super().get_property(name, atoms, allow_calculation)


def _same_text_log(calc):
    """Where ``calc`` (GPAW, old or new code) writes its text log, for ``calc.new(txt=...)``:
    None when silent, "-" for stdout, else the same file opened for appending (new() would
    truncate a file name)."""
    import sys

    fd = getattr(getattr(calc, "log", None), "fd", None)
    name = getattr(fd, "name", None)
    if name is None or name == os.devnull:
        return None
    if fd is sys.stdout or name == "<stdout>":
        return "-"
    return open(name, "a")


def _read_state_file(path: Path) -> dict:
    """The JSON object of a QM/ML state file; one line naming the file when it is unreadable."""
    from foundation.reading import reading

    with reading(path, "QM/ML state file", InputError) as p:
        state = json.loads(p.read_bytes().decode("utf-8"))
    return _check_state(state, str(path))


def _check_state(state, where: str) -> dict:
    if not isinstance(state, dict) or "region" not in state:
        raise InputError(f"{where}: expected HybridCalculator.state() output (a JSON object with "
                         f"a 'region' entry), found {type(state).__name__}")
    return state
