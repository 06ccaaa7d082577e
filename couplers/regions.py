"""High-level regions: which atoms get high-level weight, and which atoms the cluster holds.

Every region maps atoms to a distance-like coordinate d_i (Angstrom, shape (N,)):
the distance of atom i from the region. From it:

- weight w_i = S((d_i - r_inner) / (r_outer - r_inner)): 1 inside ``r_inner``,
  0 beyond ``r_outer``, switched smoothly in between (S from ``couplers.switching``);
- cluster membership: an atom joins the high-level cluster when d_i < r_outer + buffer
  and leaves only when d_i > r_outer + buffer + hysteresis, so atoms that sit on the
  cluster edge do not flicker in and out from one MD step to the next.

Three kinds of region:

- ``IndexRegion(indices)``: d = 0 on the listed atoms, the minimum-image distance to the
  nearest listed atom elsewhere;
- ``SphereRegion(r_inner, r_outer, centre=point | atom indices)``: d = minimum-image
  distance to a fixed point, or to the centroid of some atoms (moving with them);
- ``FunctionRegion(func, r_inner, r_outer)``: d = func(atoms), any user rule.

The cluster membership is state (it depends on history); ``state()`` and ``load_state()``
give and take it as plain JSON-able data so a restarted run continues with the same cluster.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
from ase import Atoms
from ase.geometry import find_mic

from .errors import InputError

__all__ = ["Region", "IndexRegion", "SphereRegion", "FunctionRegion", "mic_vectors"]


def mic_vectors(vectors: np.ndarray, atoms: Atoms) -> np.ndarray:
    """Minimum-image versions of displacement vectors (shape (M, 3), Angstrom).

    Uses ASE's ``find_mic``, which is exact for cells of any shape (triclinic included),
    not only orthorhombic ones.
    """
    vectors = np.asarray(vectors, dtype=float).reshape(-1, 3)
    if not atoms.pbc.any():
        return vectors
    return find_mic(vectors, atoms.cell, atoms.pbc)[0]


class Region:
    """Base class. Subclasses implement ``distances`` (and may override ``centre``).

    Parameters (Angstrom): ``r_inner`` (weight 1 within), ``r_outer`` (weight 0 beyond),
    ``hysteresis`` (extra distance an atom must go beyond the cluster edge before it
    leaves the cluster).
    """

    kind = "region"

    def __init__(self, r_inner: float = 0.0, r_outer: float | None = None,
                 hysteresis: float = 0.0):
        r_outer = r_inner if r_outer is None else r_outer
        for field, value in (("r_inner", r_inner), ("r_outer", r_outer),
                             ("hysteresis", hysteresis)):
            if not np.isfinite(value) or value < 0:
                raise InputError(f"{field}={value!r}: expected a finite distance >= 0 Angstrom")
        if r_outer < r_inner:
            raise InputError(f"r_outer={r_outer!r} < r_inner={r_inner!r}: expected "
                             "r_inner <= r_outer (weight 1 inside r_inner, 0 beyond r_outer)")
        self.r_inner = float(r_inner)
        self.r_outer = float(r_outer)
        self.hysteresis = float(hysteresis)
        self.members: np.ndarray | None = None  # cluster atom indices, sorted; None before use
        self.history: list[dict] = []  # one entry per membership change

    @property
    def shell_width(self) -> float:
        """r_outer - r_inner (Angstrom)."""
        return self.r_outer - self.r_inner

    # -- geometry ---------------------------------------------------------------------
    def distances(self, atoms: Atoms) -> np.ndarray:
        """Distance-like coordinate of every atom from the region, shape (N,), Angstrom."""
        raise NotImplementedError

    def centre(self, atoms: Atoms, d: np.ndarray) -> np.ndarray:
        """A point inside the region (Angstrom, (3,)); the cluster is unwrapped around it."""
        return atoms.positions[int(np.argmin(d))]

    def reduced(self, d: np.ndarray) -> np.ndarray:
        """x = (d - r_inner) / (r_outer - r_inner); for a zero-width shell, 0 inside, 1 outside."""
        if self.shell_width == 0.0:
            return np.where(d <= self.r_inner, 0.0, 1.0)
        return (d - self.r_inner) / self.shell_width

    def weights(self, atoms: Atoms, switch, d: np.ndarray | None = None) -> np.ndarray:
        """High-level weight w_i in [0, 1], shape (N,)."""
        d = self.distances(atoms) if d is None else d
        return np.asarray(switch.value(self.reduced(d)), dtype=float)

    # -- membership (stateful) --------------------------------------------------------
    def update_members(self, d: np.ndarray, buffer: float, step: int | None = None,
                       frozen: bool = False) -> np.ndarray:
        """Cluster atoms for this geometry, with hysteresis; returns sorted indices.

        ``frozen=True`` keeps the previous membership unchanged (energy mode).
        """
        enter = d <= self.r_outer + buffer
        if self.members is None or (len(self.members) and self.members.max() >= len(d)):
            new = np.flatnonzero(enter)
        elif frozen:
            new = self.members
        else:
            keep = np.zeros(len(d), bool)
            keep[self.members] = True
            stay = keep & (d <= self.r_outer + buffer + self.hysteresis)
            new = np.flatnonzero(enter | stay)
        if self.members is None or not np.array_equal(new, self.members):
            old = set() if self.members is None else set(self.members.tolist())
            now = set(new.tolist())
            self.history.append({"step": step, "entered": sorted(now - old),
                                 "left": sorted(old - now)})
        self.members = np.asarray(new, dtype=int)
        return self.members

    def state(self) -> dict:
        """JSON-able membership state: enough to restart with the same cluster."""
        return {"kind": self.kind, "r_inner": self.r_inner, "r_outer": self.r_outer,
                "hysteresis": self.hysteresis,
                "members": None if self.members is None else self.members.tolist(),
                "history": self.history}

    def load_state(self, state: dict) -> None:
        """Restore ``state()`` output (e.g. read back from a trajectory or a sidecar)."""
        if state.get("kind") != self.kind:
            raise InputError(f"region state kind={state.get('kind')!r}: expected {self.kind!r} "
                             "(the state was saved by a different kind of region)")
        members = state.get("members")
        self.members = None if members is None else np.asarray(members, dtype=int)
        self.history = list(state.get("history", []))


class IndexRegion(Region):
    """The listed atoms (weight 1), optionally switched off over a shell around them.

    d_i = 0 for a listed atom, else the minimum-image distance to the nearest listed atom.
    """

    kind = "indices"

    def __init__(self, indices: Sequence[int], r_inner: float = 0.0,
                 r_outer: float | None = None, hysteresis: float = 0.0):
        super().__init__(r_inner, r_outer, hysteresis)
        self.indices = np.unique(np.asarray(indices, dtype=int))
        if self.indices.size == 0:
            raise InputError("indices=[]: the high-level region is empty; expected at least "
                             "one atom index")

    def distances(self, atoms):
        if self.indices.max() >= len(atoms) or self.indices.min() < -len(atoms):
            raise InputError(f"indices={self.indices.tolist()}: expected indices below the "
                             f"number of atoms ({len(atoms)})")
        pos = atoms.positions
        d = np.full(len(atoms), np.inf)
        for i in self.indices:
            d = np.minimum(d, np.linalg.norm(mic_vectors(pos - pos[i], atoms), axis=1))
        d[self.indices] = 0.0
        return d

    def state(self):
        return {**super().state(), "indices": self.indices.tolist()}


class SphereRegion(Region):
    """A sphere around a fixed point, or around the centroid of some atoms (moving with them).

    ``centre``: a point (3 floats, Angstrom) or ``atoms=[i, j, ...]`` indices whose
    minimum-image centroid moves with them.
    """

    kind = "sphere"

    def __init__(self, r_inner: float, r_outer: float, centre: Sequence[float] | None = None,
                 atoms: Sequence[int] | None = None, hysteresis: float = 0.0):
        super().__init__(r_inner, r_outer, hysteresis)
        if (centre is None) == (atoms is None):
            raise InputError("SphereRegion needs exactly one of centre=(x, y, z) [Angstrom] "
                             "or atoms=[indices] (got both or neither)")
        self.point = None if centre is None else np.asarray(centre, dtype=float).reshape(3)
        self.centre_atoms = None if atoms is None else np.asarray(atoms, dtype=int).ravel()
        if self.centre_atoms is not None and self.centre_atoms.size == 0:
            raise InputError("atoms=[]: expected at least one atom index to centre the sphere on")

    def centre(self, atoms, d=None):
        if self.point is not None:
            return self.point
        pos = atoms.positions[self.centre_atoms]
        # Unwrap the centre atoms around the first one so a molecule split by the
        # periodic boundary has its centroid in the right place.
        rel = mic_vectors(pos - pos[0], atoms)
        return pos[0] + rel.mean(axis=0)

    def distances(self, atoms):
        if self.centre_atoms is not None and self.centre_atoms.max() >= len(atoms):
            raise InputError(f"atoms={self.centre_atoms.tolist()}: expected indices below the "
                             f"number of atoms ({len(atoms)})")
        c = self.centre(atoms)
        return np.linalg.norm(mic_vectors(atoms.positions - c, atoms), axis=1)

    def state(self):
        return {**super().state(),
                "centre": None if self.point is None else self.point.tolist(),
                "atoms": None if self.centre_atoms is None else self.centre_atoms.tolist()}


class FunctionRegion(Region):
    """Any rule: ``func(atoms) -> d`` returns each atom's distance from the region (Angstrom, (N,))."""

    kind = "function"

    def __init__(self, func: Callable[[Atoms], np.ndarray], r_inner: float = 0.0,
                 r_outer: float | None = None, hysteresis: float = 0.0):
        super().__init__(r_inner, r_outer, hysteresis)
        if not callable(func):
            raise InputError(f"func={func!r}: expected a callable atoms -> distances (N,)")
        self.func = func

    def distances(self, atoms):
        d = np.asarray(self.func(atoms), dtype=float)
        if d.shape != (len(atoms),) or not np.all(np.isfinite(d)):
            raise InputError(f"region function returned shape {d.shape}: expected finite "
                             f"distances of shape ({len(atoms)},)")
        return d
