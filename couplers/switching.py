"""Switching functions S(x) that hand an atom from the high level to the low level.

x is the reduced position in the switching shell, x = (d - r_inner) / (r_outer - r_inner),
dimensionless, clipped to [0, 1]. Every function satisfies S(0) = 1 (full high-level
weight at the inner radius) and S(1) = 0 (none at the outer radius). The smoothness
class says how many derivatives also vanish at both ends:

========== ============================================ ======
name        S(x)                                         class
========== ============================================ ======
quintic     1 - 10x^3 + 15x^4 - 6x^5   (default)          C2
septic      1 - 35x^4 + 84x^5 - 70x^6 + 20x^7             C3
cosine      (1 + cos(pi x)) / 2                           C1
cubic       1 - 3x^2 + 2x^3                               C1
linear      1 - x                                         C0
abrupt      1 for x < 1/2, else 0                         none
========== ============================================ ======

``linear`` and ``abrupt`` exist only to show what the smooth ones avoid.
Each object gives ``value(x)``, ``first(x)`` = dS/dx and ``second(x)`` = d2S/dx2,
elementwise on arrays of any shape.
"""
from __future__ import annotations

import numpy as np

from .errors import InputError

__all__ = ["Switch", "Quintic", "Septic", "Cosine", "Cubic", "Linear", "Abrupt", "get_switch",
           "SWITCHES"]


class Switch:
    """Base class: subclasses give the polynomial (or other) form on [0, 1].

    Outside [0, 1] the value is held at its end value (1 below, 0 above) and the
    derivatives are zero, so a switch can be evaluated on any reduced distance.
    """

    name = "switch"
    smoothness = 0  # number of continuous derivatives across x = 0 and x = 1

    def _value(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _first(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _second(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def _clip(x):
        return np.clip(np.asarray(x, dtype=float), 0.0, 1.0)

    def value(self, x):
        """S(x), dimensionless, same shape as x."""
        return self._value(self._clip(x))

    def first(self, x):
        """dS/dx, same shape as x (zero outside the shell)."""
        x = np.asarray(x, dtype=float)
        inside = (x > 0.0) & (x < 1.0)
        return np.where(inside, self._first(self._clip(x)), 0.0)

    def second(self, x):
        """d2S/dx2, same shape as x (zero outside the shell)."""
        x = np.asarray(x, dtype=float)
        inside = (x > 0.0) & (x < 1.0)
        return np.where(inside, self._second(self._clip(x)), 0.0)

    __call__ = value

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Quintic(Switch):
    """1 - 10x^3 + 15x^4 - 6x^5: first and second derivatives vanish at both ends (C2)."""

    name, smoothness = "quintic", 2

    def _value(self, x):
        return 1.0 - x**3 * (10.0 - 15.0 * x + 6.0 * x**2)

    def _first(self, x):
        return -30.0 * x**2 * (1.0 - x) ** 2

    def _second(self, x):
        return -60.0 * x * (1.0 - x) * (1.0 - 2.0 * x)


class Septic(Switch):
    """1 - 35x^4 + 84x^5 - 70x^6 + 20x^7: derivatives up to the third vanish at both ends (C3)."""

    name, smoothness = "septic", 3

    def _value(self, x):
        return 1.0 - x**4 * (35.0 - 84.0 * x + 70.0 * x**2 - 20.0 * x**3)

    def _first(self, x):
        return -140.0 * x**3 * (1.0 - x) ** 3

    def _second(self, x):
        return -420.0 * x**2 * (1.0 - x) ** 2 * (1.0 - 2.0 * x)


class Cosine(Switch):
    """(1 + cos(pi x)) / 2: first derivative vanishes at both ends (C1)."""

    name, smoothness = "cosine", 1

    def _value(self, x):
        return 0.5 * (1.0 + np.cos(np.pi * x))

    def _first(self, x):
        return -0.5 * np.pi * np.sin(np.pi * x)

    def _second(self, x):
        return -0.5 * np.pi**2 * np.cos(np.pi * x)


class Cubic(Switch):
    """1 - 3x^2 + 2x^3: first derivative vanishes at both ends (C1)."""

    name, smoothness = "cubic", 1

    def _value(self, x):
        return 1.0 - x**2 * (3.0 - 2.0 * x)

    def _first(self, x):
        return -6.0 * x * (1.0 - x)

    def _second(self, x):
        return -6.0 + 12.0 * x


class Linear(Switch):
    """1 - x: continuous value, kinked at both ends (C0). For comparison only."""

    name, smoothness = "linear", 0

    def _value(self, x):
        return 1.0 - x

    def _first(self, x):
        return -np.ones_like(x)

    def _second(self, x):
        return np.zeros_like(x)


class Abrupt(Switch):
    """A step at x = 1/2 (discontinuous). For comparison only: what a hard boundary does."""

    name, smoothness = "abrupt", -1

    def _value(self, x):
        return np.where(x < 0.5, 1.0, 0.0)

    def _first(self, x):
        return np.zeros_like(x)

    def _second(self, x):
        return np.zeros_like(x)


SWITCHES: dict[str, type[Switch]] = {cls.name: cls for cls in
                                     (Quintic, Septic, Cosine, Cubic, Linear, Abrupt)}


def get_switch(switch: str | Switch | None) -> Switch:
    """A Switch from a name ("quintic", "septic", ...), an instance, or None (quintic)."""
    if switch is None:
        return Quintic()
    if isinstance(switch, Switch):
        return switch
    if isinstance(switch, str) and switch.lower() in SWITCHES:
        return SWITCHES[switch.lower()]()
    raise InputError(f"switch={switch!r} is not a known switching function; expected one of "
                     f"{sorted(SWITCHES)} or a couplers.switching.Switch instance")
