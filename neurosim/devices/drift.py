r"""Linear ion drift memristor (Strukov et al., Nature 453, 80 (2008)) with the classic windows.

State: the normalised width of the doped region :math:`x = w/D \in [0, 1]` (dimensionless).

.. math::

    M(x) = R_{on}\,x + R_{off}\,(1 - x), \qquad i = v / M(x), \qquad
    \frac{dx}{dt} = \frac{\mu_v R_{on}}{D^2}\, i\, f(x, i)

which is Strukov's :math:`dw/dt = \mu_v R_{on} i(t) / D` divided by :math:`D`. Windows :math:`f`:
none (state clipped at the bounds), Joglekar (2009), Biolek (2009), Prodromakis (2011); see
:mod:`neurosim.devices.windows`. A positive current grows the doped region and lowers the resistance.

Examples
--------
>>> from neurosim.devices import LinearIonDrift
>>> m = LinearIonDrift(R_on=100.0, R_off=16e3, D=10e-9, mu_v=1e-14)
>>> float(m.memristance(0.5))            # 100*0.5 + 16000*0.5
8050.0
>>> round(float(m.dstate_dt(0.5, 8.05)), 9)    # k i = 1e4 * 1e-3
10.0
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from neurosim.errors import ParameterError
from neurosim.params import Param

from .base import DeviceModel, UnitIntervalState, spice_num
from .windows import _even_power, biolek, joglekar, prodromakis

__all__ = ["LinearIonDrift"]

WINDOWS = ("none", "joglekar", "biolek", "prodromakis")


@dataclasses.dataclass(frozen=True)
class LinearIonDrift(UnitIntervalState, DeviceModel):
    r"""HP TiO2 linear ion drift model with an optional window function.

    Parameters
    ----------
    R_on : float or array_like
        Resistance of the fully doped device, :math:`x = 1` (ohm), > 0.
    R_off : float or array_like
        Resistance of the undoped device, :math:`x = 0` (ohm), > R_on.
    D : float or array_like
        Film thickness (m), > 0.
    mu_v : float or array_like
        Dopant mobility (m^2 V^-1 s^-1), > 0.
    window : {"none", "joglekar", "biolek", "prodromakis"}
        Window function. ``"none"`` stops the state at the bounds (rate set to 0 when pushing out).
    p : float
        Window exponent (> 0; a positive integer for Joglekar and Biolek).
    j : float
        Prodromakis scale factor (> 0).
    initial_state : float or array_like
        Initial :math:`x` in [0, 1].

    Raises
    ------
    ParameterError
        A parameter outside its range, R_off <= R_on, or a non-integer p for Joglekar/Biolek.

    Notes
    -----
    .. math::

        M(x) = R_{on} x + R_{off}(1 - x),\quad i = \frac{v}{M(x)},\quad
        \frac{\partial i}{\partial v} = \frac{1}{M(x)},\quad
        \frac{dx}{dt} = \frac{\mu_v R_{on}}{D^2} i f(x, i)

    Examples
    --------
    >>> m = LinearIonDrift(R_on=100.0, R_off=16e3, D=10e-9, mu_v=1e-14, window="biolek", p=1)
    >>> float(m.dstate_dt(1.0, 1.0))     # at x = 1 a positive current cannot grow x further
    0.0
    >>> round(float(m.dstate_dt(1.0, -1.0)), 9)  # a negative one can: k i (1 - (1-1)^2)
    -100.0
    """

    R_on: float = 100.0
    R_off: float = 16e3
    D: float = 10e-9
    mu_v: float = 1e-14
    window: str = "none"
    p: float = 1.0
    j: float = 1.0
    initial_state: float = 0.5

    _params: ClassVar[dict[str, Param]] = {
        "R_on": Param("real", low=0.0, low_open=True, unit="ohm"),
        "R_off": Param("real", low=0.0, low_open=True, unit="ohm"),
        "D": Param("real", low=0.0, low_open=True, unit="m"),
        "mu_v": Param("real", low=0.0, low_open=True, unit="m^2/(V s)"),
        "window": Param("choice", choices=WINDOWS),
        "p": Param("real", low=0.0, low_open=True),
        "j": Param("real", low=0.0, low_open=True),
        "initial_state": Param("real", low=0.0, high=1.0),
    }
    _array_params: ClassVar[tuple[str, ...]] = ("R_on", "R_off", "D", "mu_v", "j", "initial_state")

    def _check(self) -> None:
        super()._check()
        if np.any(np.asarray(self.R_off) <= np.asarray(self.R_on)):
            raise ParameterError(
                f"LinearIonDrift: R_off must be > R_on, got R_off={self.R_off!r} and R_on={self.R_on!r}"
            )
        if self.window in ("joglekar", "biolek") and not float(self.p).is_integer():
            raise ParameterError(f"LinearIonDrift: p must be a positive integer for the {self.window} window, got {self.p!r}")

    # ---------------------------------------------------------------- equations
    @property
    def k(self):
        r"""State rate per ampere :math:`\mu_v R_{on} / D^2` (A^-1 s^-1)."""
        return self.mu_v * self.R_on / (self.D * self.D)

    def memristance(self, state):
        r"""Memristance :math:`M(x) = R_{on} x + R_{off} (1 - x)` (ohm)."""
        x = np.asarray(state, dtype=float)
        return self.R_off + (self.R_on - self.R_off) * x

    def current(self, state, v):
        r"""Port current :math:`i = v / M(x)` (A)."""
        return np.asarray(v, dtype=float) / self.memristance(state)

    def dcurrent_dv(self, state, v):
        r""":math:`\partial i / \partial v = 1 / M(x)` (S), broadcast to the shape of ``v``."""
        g = 1.0 / self.memristance(state)
        return g * np.ones_like(np.asarray(v, dtype=float))

    def window_value(self, state, i):
        """The window :math:`f(x, i)` of this model (1 for ``window="none"``)."""
        if self.window == "joglekar":
            return joglekar(state, self.p)
        if self.window == "biolek":
            return biolek(state, i, self.p)
        if self.window == "prodromakis":
            return prodromakis(state, self.p, self.j)
        return np.ones_like(np.asarray(state, dtype=float))

    def dstate_dt(self, state, v):
        r"""State rate :math:`dx/dt = (\mu_v R_{on}/D^2)\, i\, f(x, i)` (1/s).

        With ``window="none"`` the rate is set to 0 where it would push the state out of [0, 1].
        """
        x = np.asarray(state, dtype=float)
        i = self.current(x, v)
        if self.window == "joglekar" and np.ndim(self.p) == 0:
            # inline for speed: f = 1 - (2x - 1)^(2p)
            y = 2.0 * x - 1.0
            rate = self.k * i
            rate *= 1.0 - _even_power(y, 2 * self.p)
            return rate
        rate = self.k * i * self.window_value(x, i)
        if self.window == "none":
            rate = np.where(((x >= 1.0) & (rate > 0)) | ((x <= 0.0) & (rate < 0)), 0.0, rate)
        return rate

    # ---------------------------------------------------------------- exact derivatives
    def dcurrent_dstate(self, state, v):
        r""":math:`\partial i/\partial x = -v (R_{on} - R_{off}) / M(x)^2` (A)."""
        m = self.memristance(state)
        return -np.asarray(v, dtype=float) * (self.R_on - self.R_off) / (m * m)

    def _window_dx(self, x, i):
        """Derivative of the window by the state (the Biolek shift is piecewise constant in i)."""
        p = self.p
        if self.window == "joglekar":
            return -4.0 * p * (2.0 * x - 1.0) ** (2 * p - 1)
        if self.window == "biolek":
            shift = np.where(np.asarray(i) <= 0, 1.0, 0.0)
            return -2.0 * p * (x - shift) ** (2 * p - 1)
        if self.window == "prodromakis":
            d = x - 0.5
            return -self.j * p * (d * d + 0.75) ** (p - 1.0) * 2.0 * d
        return np.zeros_like(x)

    def dstate_partials(self, state, v):
        r"""Rate and its exact partial derivatives ``(dx/dt, d(dx/dt)/dx, d(dx/dt)/dv)``.

        .. math::

            \frac{\partial \dot x}{\partial x} = k \left(\frac{\partial i}{\partial x} f + i \frac{\partial f}{\partial x}\right),
            \qquad \frac{\partial \dot x}{\partial v} = \frac{k f}{M(x)}

        Where the unwindowed state is held at a bound, all three are 0.
        """
        x = np.asarray(state, dtype=float)
        v = np.asarray(v, dtype=float)
        m = self.memristance(x)
        i = v / m
        f = self.window_value(x, i)
        rate = self.k * i * f
        d_x = self.k * (self.dcurrent_dstate(x, v) * f + i * self._window_dx(x, i))
        d_v = self.k * f / m * np.ones_like(rate)
        if self.window == "none":
            held = ((x >= 1.0) & (rate > 0)) | ((x <= 0.0) & (rate < 0))
            rate, d_x, d_v = (np.where(held, 0.0, a) for a in (rate, d_x, d_v))
        return rate, d_x, d_v

    # ---------------------------------------------------------------- exports
    def spice_subckt(self, name: str) -> str:
        """ngspice behavioural subcircuit ``.subckt name p n`` with the same equations.

        The internal node ``x`` carries the state; it starts at ``initial_state``.

        Examples
        --------
        >>> text = LinearIonDrift(window="joglekar").spice_subckt("hp")
        >>> text.splitlines()[2]
        '.subckt hp p n'
        """
        self._scalar("R_on", "R_off", "D", "mu_v", "j", "initial_state")
        ron, roff = spice_num(self.R_on), spice_num(self.R_off)
        m = f"({ron}*V(x)+{roff}*(1-V(x)))"
        i = f"(V(p,n)/{m})"
        two_p = spice_num(2 * self.p)
        if self.window == "joglekar":
            f = f"(1-pow(2*V(x)-1,{two_p}))"
        elif self.window == "biolek":
            f = f"(1-pow(V(x)-(V(p,n)<=0?1:0),{two_p}))"
        elif self.window == "prodromakis":
            f = f"({spice_num(self.j)}*(1-pow(pow(V(x)-0.5,2)+0.75,{spice_num(self.p)})))"
        else:
            f = "1"
        rate = f"({spice_num(float(self.k))}*{i}*{f})"
        if self.window == "none":
            rate = f"(V(x)>=1 ? min({rate},0) : (V(x)<=0 ? max({rate},0) : {rate}))"
        title = f"LinearIonDrift (Strukov 2008), window={self.window}"
        return self._spice_wrap(name, rate, i, title)

    def equations(self) -> dict:
        """The model as brian2 equation lines in its own symbols (``v``: port voltage, ``I``: current).

        Every value except ``"bounds"`` is one brian2 equation; see :meth:`brian2_model`.
        """
        f = {
            "none": "1",
            "joglekar": "1 - (2*x - 1)**(2*p)",
            "biolek": "1 - (x - int(I <= 0*amp))**(2*p)",
            "prodromakis": "j*(1 - ((x - 0.5)**2 + 0.75)**p)",
        }[self.window]
        return {
            "state": "dx/dt = mu_v*R_on/D**2 * I * f : 1",
            "current": "I = v / (R_on*x + R_off*(1 - x)) : amp",
            "window": f"f = {f} : 1",
            "bounds": "0 <= x <= 1",
        }
