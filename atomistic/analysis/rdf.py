"""Radial distribution functions with block-average error bars, and a two-sample test.

``rdf(frames, r_max=...)`` histograms pair distances (all pairs, or one
species pair) in periodic cells of any shape, frame by frame, and averages
the per-frame g(r) over contiguous blocks of frames. Block means are treated
as independent samples: the error bar is their standard error, and
``compare_rdf`` tests whether two g(r) differ with a two-sample Hotelling T^2
on the block means (bin covariance estimated across blocks), which is exact
for independent Gaussian block means. Pair distances inside one frame are
strongly correlated (they share atoms), so a KS test on raw distances is
badly over-confident; do not use one.

Blocks must be longer than the correlation time of the trajectory for the
error bars and p-values to hold; ``RDF.block_correlation`` reports the lag-1
autocorrelation of the block means as a check.

Units: r in Angstrom; g(r) dimensionless.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from ase import Atoms

from ..errors import InputError

MIN_BLOCKS = 5


@dataclass
class RDF:
    """A block-averaged g(r).

    r: bin centres, shape (n_bins,), Angstrom. g: mean over blocks, (n_bins,).
    g_err: standard error of g from the spread of block means, (n_bins,).
    blocks: per-block g, shape (n_blocks, n_bins). pair: species pair or None
    (all pairs). edges: bin edges (n_bins + 1,). density: number density of
    the second species, 1/Angstrom^3 (mean over frames). n_frames: frames used.
    """

    r: np.ndarray
    g: np.ndarray
    g_err: np.ndarray
    blocks: np.ndarray
    edges: np.ndarray
    pair: tuple[str, str] | None
    density: float
    n_frames: int
    symbols: tuple[str, ...] = field(default=())

    @property
    def block_correlation(self) -> float:
        """Lag-1 autocorrelation of block means, averaged over bins (near 0 when blocks are independent)."""
        d = self.blocks - self.blocks.mean(axis=0)
        den = (d * d).sum(axis=0)
        ok = den > 0
        if not ok.any():
            return 0.0
        return float(np.mean((d[1:] * d[:-1]).sum(axis=0)[ok] / den[ok]))

    def coordination(self, r_cut: float | None = None) -> tuple[float, float, float]:
        """Coordination number: 4 pi rho int_0^r_cut g r^2 dr, with its block standard error.

        r_cut defaults to the first minimum after the first peak of g
        (``first_minimum``). Returns (n, n_err, r_cut).
        """
        if r_cut is None:
            r_cut = self.first_minimum()
        shell = 4 * np.pi * self.density * self.r ** 2 * np.diff(self.edges)
        mask = self.r <= r_cut
        per_block = (self.blocks[:, mask] * shell[mask]).sum(axis=1)
        n_b = len(per_block)
        return float(per_block.mean()), float(per_block.std(ddof=1) / np.sqrt(n_b)), float(r_cut)

    def first_minimum(self) -> float:
        """Radius of the first minimum of g after its first peak (the first solvation shell), Angstrom."""
        g = np.convolve(self.g, np.ones(3) / 3, mode="same")  # 3-bin smoothing: noise makes fake minima
        peak = int(np.argmax(g))
        if peak >= len(g) - 2:
            raise InputError(f"g(r) has no minimum after its first peak (at r = {self.r[peak]:.3f} A) "
                             f"below r_max = {self.edges[-1]:.3f} A; increase r_max or pass r_cut")
        after = g[peak:]
        rising = np.nonzero(np.diff(after) > 0)[0]
        i = peak + (int(rising[0]) if len(rising) else len(after) - 1)
        return float(self.r[i])

    def to_dict(self) -> dict:
        return {"r": self.r.tolist(), "g": self.g.tolist(), "g_err": self.g_err.tolist(),
                "pair": list(self.pair) if self.pair else None, "density": self.density,
                "n_frames": self.n_frames, "n_blocks": int(len(self.blocks)),
                "block_correlation": self.block_correlation}


@dataclass
class RDFComparison:
    """Result of ``compare_rdf``: Hotelling T^2 on block means.

    statistic: T^2. f_statistic: the F-distributed form. dof: (k, n1 + n2 - k - 1)
    with k the number of bin groups compared. p_value: probability of a
    statistic this large if both g(r) are the same.
    """

    statistic: float
    f_statistic: float
    dof: tuple[int, int]
    p_value: float
    r_groups: np.ndarray

    def to_dict(self) -> dict:
        return {"T2": self.statistic, "F": self.f_statistic, "dof": list(self.dof),
                "p_value": self.p_value, "r_groups": self.r_groups.tolist()}


def _species_mask(symbols: np.ndarray, s: str | None) -> np.ndarray:
    return np.ones(len(symbols), bool) if s is None else symbols == s


def frame_histogram(atoms: Atoms, edges: np.ndarray, pair: tuple[str, str] | None) -> tuple[np.ndarray, float]:
    """One frame's g(r) on ``edges`` and the density of the second species (1/A^3)."""
    from ase.neighborlist import neighbor_list

    if not all(atoms.pbc):
        raise InputError(f"atoms.pbc = {atoms.pbc.tolist()}: g(r) needs a periodic cell in all three "
                         "directions (set atoms.pbc = True and a cell, or put a gas/cluster in a large box)")
    volume = atoms.get_volume()
    r_max = edges[-1]
    # any shape of cell: a minimum-image limit does not apply, the neighbour list handles images
    i, j, d = neighbor_list("ijd", atoms, r_max)
    symbols = np.array(atoms.get_chemical_symbols())
    a, b = pair if pair else (None, None)
    ma, mb = _species_mask(symbols, a), _species_mask(symbols, b)
    keep = ma[i] & mb[j]
    counts = np.histogram(d[keep], bins=edges)[0].astype(float)
    n_a, n_b = int(ma.sum()), int(mb.sum())
    if n_a == 0 or n_b == 0:
        raise InputError(f"pair = {pair}: species not present in the structure (it has {sorted(set(symbols))})")
    # pairs of identical atoms are excluded, so the partner density is (n_b - 1)/V when a == b
    n_partner = n_b - 1 if a == b else n_b
    rho = n_partner / volume
    shell = 4.0 / 3.0 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    return counts / (n_a * rho * shell), rho


def rdf(frames: Sequence[Atoms], r_max: float, n_bins: int = 100, pair: tuple[str, str] | None = None,
        n_blocks: int = 10, r_min: float = 0.0) -> RDF:
    """Block-averaged g(r) of a trajectory.

    frames: sequence of periodic ASE Atoms (same composition). r_max: largest
    distance, Angstrom. pair: (species_a, species_b) or None for all atoms.
    n_blocks: contiguous blocks of frames (at least 5; each must hold at least
    one frame). Frames left over after equal division are dropped from the end.
    """
    frames = list(frames)
    if n_blocks < MIN_BLOCKS:
        raise InputError(f"n_blocks = {n_blocks}: at least {MIN_BLOCKS} blocks are needed to estimate an "
                         "error bar; pass n_blocks >= 5")
    if len(frames) < n_blocks:
        raise InputError(f"frames: {len(frames)} frames are too few for {n_blocks} blocks; give at least "
                         f"{n_blocks} frames (ideally many more, spaced beyond the correlation time) "
                         "or lower n_blocks (>= 5)")
    if r_max <= r_min:
        raise InputError(f"r_max = {r_max}: must exceed r_min = {r_min}")
    symbols0 = sorted(set(frames[0].get_chemical_symbols()))
    if pair is not None:
        pair = (str(pair[0]), str(pair[1]))
        missing = [s for s in pair if s not in symbols0]
        if missing:
            raise InputError(f"pair = {pair}: {missing} not in the structure (species: {symbols0})")
    edges = np.linspace(r_min, r_max, n_bins + 1)
    per_frame, rhos = [], []
    for atoms in frames:
        g, rho = frame_histogram(atoms, edges, pair)
        per_frame.append(g)
        rhos.append(rho)
    per_frame = np.asarray(per_frame)
    size = len(frames) // n_blocks
    blocks = per_frame[: size * n_blocks].reshape(n_blocks, size, n_bins).mean(axis=1)
    g = blocks.mean(axis=0)
    g_err = blocks.std(axis=0, ddof=1) / np.sqrt(n_blocks)
    return RDF(r=0.5 * (edges[1:] + edges[:-1]), g=g, g_err=g_err, blocks=blocks, edges=edges, pair=pair,
               density=float(np.mean(rhos)), n_frames=size * n_blocks, symbols=tuple(symbols0))


def compare_rdf(a: RDF, b: RDF, n_groups: int | None = None, r_range: tuple[float, float] | None = None
                ) -> RDFComparison:
    """Test whether two block-averaged g(r) differ (two-sample Hotelling T^2).

    Adjacent bins are merged into ``n_groups`` groups of equal width (a fixed,
    data-independent reduction: with fewer blocks than bins the bin covariance
    is singular). Default n_groups = min(12, (n1 + n2 - 2) // 3), which keeps the
    covariance well conditioned. The statistic follows F(k, n1+n2-k-1) when
    block means are independent and Gaussian; p_value is its upper tail.
    Bins where both g(r) are identically zero in every block (inside the core)
    are dropped first.
    """
    from scipy import stats

    if a.pair != b.pair:
        raise InputError(f"pair: {a.pair} vs {b.pair}; compare g(r) of the same species pair")
    if a.symbols and b.symbols and a.symbols != b.symbols:
        raise InputError(f"species: {list(a.symbols)} vs {list(b.symbols)}; the two g(r) come from "
                         "different compositions; compare runs of the same system (or pass the same pair=)")
    if a.edges.shape != b.edges.shape or not np.allclose(a.edges, b.edges):
        raise InputError("edges: the two g(r) use different bins; compute both with the same r_max, n_bins, r_min")
    n1, n2 = len(a.blocks), len(b.blocks)
    live = (np.abs(a.blocks).sum(axis=0) + np.abs(b.blocks).sum(axis=0)) > 0
    if r_range is not None:
        live &= (a.r >= r_range[0]) & (a.r <= r_range[1])
    idx = np.nonzero(live)[0]
    if len(idx) == 0:
        raise InputError("r_range: no bins with pairs in them; widen r_range or r_max")
    k = n_groups or max(1, min(12, (n1 + n2 - 2) // 3, len(idx)))
    if k > n1 + n2 - 2:
        raise InputError(f"n_groups = {k}: needs n1 + n2 - 2 = {n1 + n2 - 2} or fewer; use more blocks or fewer groups")
    groups = np.array_split(idx, k)
    width = np.diff(a.edges)
    shell = a.r ** 2 * width  # weight bins by shell volume: groups then hold pair counts, not mean g

    def reduce(blocks):
        return np.stack([(blocks[:, gi] * shell[gi]).sum(axis=1) / shell[gi].sum() for gi in groups], axis=1)

    xa, xb = reduce(a.blocks), reduce(b.blocks)
    diff = xa.mean(axis=0) - xb.mean(axis=0)
    pooled = ((n1 - 1) * np.cov(xa, rowvar=False, ddof=1).reshape(k, k)
              + (n2 - 1) * np.cov(xb, rowvar=False, ddof=1).reshape(k, k)) / (n1 + n2 - 2)
    t2 = float(n1 * n2 / (n1 + n2) * diff @ np.linalg.pinv(pooled) @ diff)
    d2 = n1 + n2 - k - 1
    f = t2 * d2 / (k * (n1 + n2 - 2))
    p = float(stats.f.sf(f, k, d2))
    centres = np.array([a.r[gi].mean() for gi in groups])
    return RDFComparison(statistic=t2, f_statistic=float(f), dof=(k, d2), p_value=p, r_groups=centres)
