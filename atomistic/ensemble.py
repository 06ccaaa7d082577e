"""How property workflows see a committee: any ASE calculator with ``members``.

A committee calculator (ours, or any other) exposes ``members``: a sequence
of ASE calculators, one per committee member. Property workflows evaluate
each member on the same structures to propagate model uncertainty (for
example rebuilding a phonon band structure per member), and use the
committee itself, through its mean predictions, for the central value.
A plain calculator has no members and gets no error bar.
"""
from __future__ import annotations

from collections.abc import Sequence

from ase.calculators.calculator import Calculator


def members_of(calc: Calculator | None) -> Sequence[Calculator] | None:
    """The committee members of ``calc``, or None when it is not a committee."""
    members = getattr(calc, "members", None)
    if members is None:
        return None
    members = list(members)
    return members if len(members) >= 2 else None
