r"""Yakopcic generalised memristor model (IEEE EDL 32, 1436 (2011); IEEE TCAD 32, 1201 (2013)).

State :math:`x \in [0, 1]` (dimensionless). Equations as in the papers and the authors' SPICE
subcircuit:

.. math::

    I = \begin{cases} a_1\, x \sinh(bV), & V \ge 0 \\ a_2\, x \sinh(bV), & V < 0 \end{cases}
    \qquad
    g(V) = \begin{cases} A_p (e^{V} - e^{V_p}), & V > V_p \\
                         -A_n (e^{-V} - e^{V_n}), & V < -V_n \\ 0, & \text{otherwise} \end{cases}

.. math::

    f(x) = \begin{cases} e^{-\alpha_p (x - x_p)}\, w_p(x, x_p), & \eta V \ge 0,\ x \ge x_p \\
                         e^{\alpha_n (x + x_n - 1)}\, w_n(x, x_n), & \eta V < 0,\ x \le 1 - x_n \\
                         1, & \text{otherwise} \end{cases}
    \qquad w_p = \frac{x_p - x}{1 - x_p} + 1, \quad w_n = \frac{x}{1 - x_n}

.. math::

    \frac{dx}{dt} = \eta\, g(V)\, f(x)

(the voltage in :math:`e^{V}` is taken in volts, as in the papers).

Examples
--------
>>> from neurosim.devices import Yakopcic
>>> m = Yakopcic()
>>> float(m.dstate_dt(0.5, 0.1))     # |V| below both thresholds: no motion
0.0
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from neurosim.params import Param

from .base import DeviceModel, UnitIntervalState, spice_num

__all__ = ["Yakopcic"]

_POS = {"low": 0.0, "low_open": True}


@dataclasses.dataclass(frozen=True)
class Yakopcic(UnitIntervalState, DeviceModel):
    r"""Yakopcic et al. memristor model: sinh I-V, voltage thresholds, state-dependent motion.

    Parameters
    ----------
    a1, a2 : float or array_like
        I-V amplitudes for V >= 0 and V < 0 (A), > 0.
    b : float or array_like
        I-V curvature (1/V), > 0.
    Vp, Vn : float or array_like
        Positive and negative threshold magnitudes (V), >= 0.
    Ap, An : float or array_like
        State motion magnitudes (1/s), > 0.
    xp, xn : float or array_like
        State where motion starts to decay, in [0, 1).
    alphap, alphan : float or array_like
        Decay rates of the motion, > 0.
    eta : {1, -1}
        Direction of state motion relative to the voltage polarity.
    initial_state : float or array_like
        Initial :math:`x` in [0, 1].

    Raises
    ------
    ParameterError
        A parameter outside its range.

    Notes
    -----
    .. math::

        \frac{dx}{dt} = \eta\, g(V) f(x),\qquad
        \frac{\partial I}{\partial V} = a_{1,2}\, x\, b \cosh(bV)

    Examples
    --------
    >>> m = Yakopcic(a1=0.17, a2=0.17, b=0.05)
    >>> round(float(m.current(1.0, 1.0)), 12)    # 0.17 * 1 * sinh(0.05)
    0.008503542109
    """

    a1: float = 0.17
    a2: float = 0.17
    b: float = 0.05
    Vp: float = 0.16
    Vn: float = 0.15
    Ap: float = 4000.0
    An: float = 4000.0
    xp: float = 0.3
    xn: float = 0.5
    alphap: float = 1.0
    alphan: float = 5.0
    eta: int = 1
    initial_state: float = 0.11

    _params: ClassVar[dict[str, Param]] = {
        "a1": Param("real", unit="A", **_POS),
        "a2": Param("real", unit="A", **_POS),
        "b": Param("real", unit="1/V", **_POS),
        "Vp": Param("real", low=0.0, unit="V"),
        "Vn": Param("real", low=0.0, unit="V"),
        "Ap": Param("real", unit="1/s", **_POS),
        "An": Param("real", unit="1/s", **_POS),
        "xp": Param("real", low=0.0, high=1.0, high_open=True),
        "xn": Param("real", low=0.0, high=1.0, high_open=True),
        "alphap": Param("real", **_POS),
        "alphan": Param("real", **_POS),
        "eta": Param("choice", choices=(1, -1)),
        "initial_state": Param("real", low=0.0, high=1.0),
    }
    _array_params: ClassVar[tuple[str, ...]] = (
        "a1", "a2", "b", "Vp", "Vn", "Ap", "An", "xp", "xn", "alphap", "alphan", "initial_state",
    )

    def current(self, state, v):
        r"""Port current :math:`I = a_{1,2}\, x \sinh(bV)` (A)."""
        v = np.asarray(v, dtype=float)
        a = np.where(v >= 0, self.a1, self.a2)
        return a * np.asarray(state, dtype=float) * np.sinh(self.b * v)

    def dcurrent_dv(self, state, v):
        r""":math:`\partial I/\partial V = a_{1,2}\, x\, b \cosh(bV)` (S)."""
        v = np.asarray(v, dtype=float)
        a = np.where(v >= 0, self.a1, self.a2)
        return a * np.asarray(state, dtype=float) * self.b * np.cosh(self.b * v)

    def g(self, v):
        r"""Threshold function :math:`g(V)` (1/s)."""
        v = np.asarray(v, dtype=float)
        # exponent capped at 600 so that absurd drives (|V| > 600 V) stay finite instead of overflowing
        pos = self.Ap * (np.exp(np.minimum(v, 600.0)) - np.exp(self.Vp))
        neg = -self.An * (np.exp(np.minimum(-v, 600.0)) - np.exp(self.Vn))
        return np.where(v > self.Vp, pos, np.where(v < -self.Vn, neg, 0.0))

    def f(self, state, v):
        r"""State-dependent motion :math:`f(x)` for the polarity of :math:`\eta V`."""
        x = np.asarray(state, dtype=float)
        v = np.asarray(v, dtype=float)
        wp = (self.xp - x) / (1.0 - self.xp) + 1.0
        wn = x / (1.0 - self.xn)
        f_pos = np.where(x >= self.xp, np.exp(-self.alphap * (x - self.xp)) * wp, 1.0)
        f_neg = np.where(x <= 1.0 - self.xn, np.exp(self.alphan * (x + self.xn - 1.0)) * wn, 1.0)
        return np.where(self.eta * v >= 0, f_pos, f_neg)

    def dstate_dt(self, state, v):
        r"""State rate :math:`dx/dt = \eta\, g(V) f(x)` (1/s)."""
        return self.eta * self.g(v) * self.f(state, v)

    def dcurrent_dstate(self, state, v):
        r""":math:`\partial I/\partial x = a_{1,2} \sinh(bV)` (A)."""
        v = np.asarray(v, dtype=float)
        a = np.where(v >= 0, self.a1, self.a2)
        return a * np.sinh(self.b * v) * np.ones_like(np.asarray(state, dtype=float))

    def dstate_partials(self, state, v):
        r"""Rate and its exact partial derivatives ``(dx/dt, d(dx/dt)/dx, d(dx/dt)/dV)``.

        .. math::

            \frac{\partial \dot x}{\partial V} = \eta\, g'(V) f(x), \qquad
            \frac{\partial \dot x}{\partial x} = \eta\, g(V) f'(x)
        """
        x = np.asarray(state, dtype=float)
        v = np.asarray(v, dtype=float)
        g = self.g(v)
        dg = np.where(
            v > self.Vp, self.Ap * np.exp(np.minimum(v, 600.0)),
            np.where(v < -self.Vn, self.An * np.exp(np.minimum(-v, 600.0)), 0.0),
        )
        f = self.f(x, v)
        wp = (self.xp - x) / (1.0 - self.xp) + 1.0
        wn = x / (1.0 - self.xn)
        ep = np.exp(-self.alphap * (x - self.xp))
        en = np.exp(self.alphan * (x + self.xn - 1.0))
        df_pos = np.where(x >= self.xp, ep * (-self.alphap * wp - 1.0 / (1.0 - self.xp)), 0.0)
        df_neg = np.where(x <= 1.0 - self.xn, en * (self.alphan * wn + 1.0 / (1.0 - self.xn)), 0.0)
        df = np.where(self.eta * v >= 0, df_pos, df_neg)
        return self.eta * g * f, self.eta * g * df, self.eta * dg * f

    def spice_subckt(self, name: str) -> str:
        """ngspice behavioural ``.subckt name p n`` (state node ``x``), same equations.

        Examples
        --------
        >>> Yakopcic().spice_subckt("yk").splitlines()[2]
        '.subckt yk p n'
        """
        self._scalar(*self._array_params)
        n = {k: spice_num(getattr(self, k)) for k in self._array_params}
        v = "V(p,n)"
        x = "V(x)"
        current = f"(({v}>=0 ? {n['a1']} : {n['a2']})*{x}*sinh({n['b']}*{v}))"
        g = (
            f"({v}>{n['Vp']} ? {n['Ap']}*(exp({v})-exp({n['Vp']})) : "
            f"({v}<-{n['Vn']} ? -{n['An']}*(exp(-{v})-exp({n['Vn']})) : 0))"
        )
        wp = f"(({n['xp']}-{x})/(1-{n['xp']})+1)"
        wn = f"({x}/(1-{n['xn']}))"
        f_pos = f"({x}>={n['xp']} ? exp(-{n['alphap']}*({x}-{n['xp']}))*{wp} : 1)"
        f_neg = f"({x}<=1-{n['xn']} ? exp({n['alphan']}*({x}+{n['xn']}-1))*{wn} : 1)"
        f = f"({self.eta}*{v}>=0 ? {f_pos} : {f_neg})"
        rate = f"({self.eta}*{g}*{f})"
        return self._spice_wrap(name, rate, current, "Yakopcic (2011/2013)")

    def equations(self) -> dict:
        """The model as text in its own symbols (brian2-style strings)."""
        return {
            "state": "dx/dt = eta*g*f : 1",
            "current": "I = (a1*int(v >= 0*volt) + a2*int(v < 0*volt))*x*sinh(b*v) : amp",
            "threshold": (
                "g = Ap*(exp(v/volt) - exp(Vp/volt))*int(v > Vp) - An*(exp(-v/volt) - exp(Vn/volt))*int(v < -Vn) : Hz"
            ),
            "window": (
                "f = int(eta*v >= 0*volt)*(int(x >= xp)*exp(-alphap*(x - xp))*((xp - x)/(1 - xp) + 1) + int(x < xp))"
                " + int(eta*v < 0*volt)*(int(x <= 1 - xn)*exp(alphan*(x + xn - 1))*x/(1 - xn) + int(x > 1 - xn)) : 1"
            ),
            "bounds": "0 <= x <= 1",
        }
