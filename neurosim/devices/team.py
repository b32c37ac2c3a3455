r"""TEAM (Kvatinsky et al., IEEE TCAS-I 60, 211 (2013)) and VTEAM (IEEE TCAS-II 62, 786 (2015)).

State: the undoped-region width :math:`w \in [x_{on}, x_{off}]` (m). TEAM is current controlled,
VTEAM voltage controlled; both have a dead zone between the thresholds where nothing moves:

.. math::

    \frac{dw}{dt} = \begin{cases}
        k_{off} \left(\frac{u}{u_{off}} - 1\right)^{\alpha_{off}} f_{off}(w), & 0 < u_{off} < u \\
        0, & u_{on} < u < u_{off} \\
        k_{on} \left(\frac{u}{u_{on}} - 1\right)^{\alpha_{on}} f_{on}(w), & u < u_{on} < 0
    \end{cases}

with :math:`u = i` (TEAM, thresholds :math:`i_{on} < 0 < i_{off}`) or :math:`u = v` (VTEAM,
:math:`v_{on} < 0 < v_{off}`), :math:`k_{off} > 0`, :math:`k_{on} < 0`. I-V relation, linear or
exponential (:math:`\lambda = \ln(R_{off}/R_{on})`):

.. math::

    R(w) = R_{on} + \frac{R_{off} - R_{on}}{x_{off} - x_{on}} (w - x_{on})
    \quad\text{or}\quad
    R(w) = R_{on}\, e^{\lambda (w - x_{on})/(x_{off} - x_{on})}, \qquad i = v / R(w).

Windows: ``"kvatinsky"`` (:func:`~neurosim.devices.windows.kvatinsky_off` /
:func:`~neurosim.devices.windows.kvatinsky_on`) or ``"none"``; in both cases the rate is set to 0
where it would push the state beyond :math:`[x_{on}, x_{off}]`.

Examples
--------
>>> from neurosim.devices import VTEAM
>>> m = VTEAM(v_off=0.3, v_on=-0.3)
>>> float(m.dstate_dt(m.initial_state, 0.2))    # between the thresholds: no motion
0.0
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from neurosim.errors import ParameterError
from neurosim.params import Param

from .base import DeviceModel, spice_num
from .windows import _EXP_MAX, kvatinsky_off, kvatinsky_on

__all__ = ["TEAM", "VTEAM"]

_POS = {"low": 0.0, "low_open": True}


def _ipow(u, alpha):
    """``u ** alpha`` for ``u >= 0`` with a fast path for small integer scalar exponents."""
    if np.ndim(alpha) == 0 and float(alpha).is_integer() and 1 <= alpha <= 4:
        n = int(alpha)
        if n == 1:
            return u
        if n == 2:
            return u * u
        if n == 3:
            return u * u * u
        u2 = u * u
        return u2 * u2
    return u**alpha


def _common_params() -> dict:
    return {
        "R_on": Param("real", unit="ohm", **_POS),
        "R_off": Param("real", unit="ohm", **_POS),
        "x_on": Param("real", low=0.0, unit="m"),
        "x_off": Param("real", unit="m", **_POS),
        "k_on": Param("real", high=0.0, high_open=True, unit="m/s"),
        "k_off": Param("real", unit="m/s", **_POS),
        "alpha_on": Param("real", **_POS),
        "alpha_off": Param("real", **_POS),
        "window": Param("choice", choices=("none", "kvatinsky")),
        "a_on": Param("real", unit="m"),
        "a_off": Param("real", unit="m"),
        "w_c": Param("real", unit="m", **_POS),
        "iv": Param("choice", choices=("linear", "exponential")),
        "initial_state": Param("real", low=0.0, unit="m"),
    }


_COMMON_ARRAYS = ("R_on", "R_off", "k_on", "k_off", "alpha_on", "alpha_off", "a_on", "a_off", "w_c", "initial_state")


class _ThresholdModel(DeviceModel):
    """Shared I-V, window and bound handling of TEAM and VTEAM."""

    state_name: ClassVar[str] = "w"
    state_unit: ClassVar[str] = "m"
    spice_state_scale: ClassVar[float] = 1e-9  # the SPICE state node holds w in nm

    def _check(self) -> None:
        super()._check()
        owner = type(self).__name__
        if np.any(np.asarray(self.R_off) <= np.asarray(self.R_on)):
            raise ParameterError(f"{owner}: R_off must be > R_on, got R_off={self.R_off!r} and R_on={self.R_on!r}")
        if not self.x_off > self.x_on:
            raise ParameterError(f"{owner}: x_off must be > x_on, got x_off={self.x_off!r} and x_on={self.x_on!r}")
        x0 = np.asarray(self.initial_state)
        if np.any(x0 < self.x_on) or np.any(x0 > self.x_off):
            raise ParameterError(
                f"{owner}: initial_state must be in [x_on, x_off] = [{self.x_on!r}, {self.x_off!r}] m, got {self.initial_state!r}"
            )

    @property
    def state_bounds(self) -> tuple:
        """``(x_on, x_off)`` (m)."""
        return (self.x_on, self.x_off)

    @property
    def state_on(self):
        """``x_on`` (lowest resistance R_on)."""
        return self.x_on

    @property
    def state_off(self):
        """``x_off`` (highest resistance R_off)."""
        return self.x_off

    def resistance(self, state):
        r"""Device resistance :math:`R(w)` (ohm), linear or exponential in the state."""
        s = (np.asarray(state, dtype=float) - self.x_on) / (self.x_off - self.x_on)
        if self.iv == "exponential":
            lam = np.log(np.asarray(self.R_off) / np.asarray(self.R_on))
            return self.R_on * np.exp(lam * s)
        return self.R_on + (self.R_off - self.R_on) * s

    def current(self, state, v):
        r"""Port current :math:`i = v / R(w)` (A)."""
        return np.asarray(v, dtype=float) / self.resistance(state)

    def dcurrent_dv(self, state, v):
        r""":math:`\partial i/\partial v = 1/R(w)` (S), broadcast to the shape of ``v``."""
        return (1.0 / self.resistance(state)) * np.ones_like(np.asarray(v, dtype=float))

    def _rate(self, w, u, u_off, u_on, hard_bounds=True):
        """Kvatinsky's piecewise rate for the control variable ``u`` (current or voltage)."""
        r_off = self.k_off * _ipow(np.maximum(u / u_off - 1.0, 0.0), self.alpha_off)
        r_on = self.k_on * _ipow(np.maximum(u / u_on - 1.0, 0.0), self.alpha_on)
        if self.window == "kvatinsky":
            r_off = r_off * kvatinsky_off(w, self.a_off, self.w_c)
            r_on = r_on * kvatinsky_on(w, self.a_on, self.w_c)
        rate = r_off + r_on
        if not hard_bounds:  # explicit Euler step: the clip to [x_on, x_off] does the same
            return rate
        # hard bounds: never push beyond [x_on, x_off]
        return np.where(((w >= self.x_off) & (rate > 0)) | ((w <= self.x_on) & (rate < 0)), 0.0, rate)

    # ------------------------------------------------------------ exact derivatives
    def _dresistance(self, state):
        """``dR/dw`` (ohm/m)."""
        span = self.x_off - self.x_on
        if self.iv == "exponential":
            lam = np.log(np.asarray(self.R_off) / np.asarray(self.R_on))
            return self.resistance(state) * lam / span
        return (self.R_off - self.R_on) / span * np.ones_like(np.asarray(state, dtype=float))

    def dcurrent_dstate(self, state, v):
        r""":math:`\partial i/\partial w = -v R'(w) / R(w)^2` (A/m)."""
        r = self.resistance(state)
        return -np.asarray(v, dtype=float) * self._dresistance(state) / (r * r)

    def _branch(self, w, u, u_thr, k, alpha, on):
        """One branch ``k (u/u_thr - 1)^alpha f(w)`` with its derivatives by u and by w."""
        base = np.maximum(u / u_thr - 1.0, 0.0)
        active = base > 0
        powered = _ipow(base, alpha)
        d_base = np.where(active, alpha * np.where(active, base, 1.0) ** (alpha - 1.0), 0.0) / u_thr
        if self.window == "kvatinsky":
            if on:
                z = np.minimum(-(w - self.a_on) / self.w_c, _EXP_MAX)
                f = np.exp(-np.exp(z))
                df = np.exp(z) / self.w_c * f
            else:
                z = np.minimum((w - self.a_off) / self.w_c, _EXP_MAX)
                f = np.exp(-np.exp(z))
                df = -np.exp(z) / self.w_c * f
        else:
            f, df = 1.0, 0.0
        return k * powered * f, k * d_base * f, k * powered * df

    def _partials(self, w, u, du_dv, du_dw, u_off, u_on):
        r_off, ro_u, ro_w = self._branch(w, u, u_off, self.k_off, self.alpha_off, on=False)
        r_on, rn_u, rn_w = self._branch(w, u, u_on, self.k_on, self.alpha_on, on=True)
        rate = r_off + r_on
        d_u = ro_u + rn_u
        d_w = ro_w + rn_w + d_u * du_dw
        d_v = d_u * du_dv
        held = ((w >= self.x_off) & (rate > 0)) | ((w <= self.x_on) & (rate < 0))
        shape = np.broadcast_shapes(np.shape(rate), np.shape(w), np.shape(u))
        return tuple(np.broadcast_to(np.where(held, 0.0, a), shape).copy() for a in (rate, d_w, d_v))

    # ------------------------------------------------------------ SPICE
    def _spice_common(self):
        s = spice_num(self.spice_state_scale)
        w = f"(V(x)*{s})"
        span = spice_num(self.x_off - self.x_on)
        norm = f"(({w}-{spice_num(self.x_on)})/{span})"
        ron = spice_num(self.R_on)
        if self.iv == "exponential":
            lam = spice_num(float(np.log(self.R_off / self.R_on)))
            r = f"({ron}*exp({lam}*{norm}))"
        else:
            r = f"({ron}+{spice_num(self.R_off - self.R_on)}*{norm})"
        if self.window == "kvatinsky":
            wc = spice_num(self.w_c)
            f_off = f"exp(-exp(min(({w}-{spice_num(self.a_off)})/{wc},{_EXP_MAX})))"
            f_on = f"exp(-exp(min(-({w}-{spice_num(self.a_on)})/{wc},{_EXP_MAX})))"
        else:
            f_off = f_on = "1"
        return w, r, f_off, f_on

    def _spice_rate(self, u, u_off, u_on, f_off, f_on, w):
        s = spice_num(self.spice_state_scale)
        koff, kon = spice_num(self.k_off), spice_num(self.k_on)
        aoff, aon = spice_num(self.alpha_off), spice_num(self.alpha_on)
        uoff, uon = spice_num(u_off), spice_num(u_on)
        rate = (
            f"(({u})>{uoff} ? {koff}*pow(({u})/{uoff}-1,{aoff})*{f_off} : "
            f"(({u})<{uon} ? {kon}*pow(({u})/{uon}-1,{aon})*{f_on} : 0))"
        )
        xon, xoff = spice_num(self.x_on), spice_num(self.x_off)
        bounded = f"({w}>={xoff} ? min({rate},0) : ({w}<={xon} ? max({rate},0) : {rate}))"
        return f"({bounded}/{s})"

    def _equations(self, control: str, thr: str) -> dict:
        r = (
            "R_on*exp(log(R_off/R_on)*(w - x_on)/(x_off - x_on))"
            if self.iv == "exponential"
            else "R_on + (R_off - R_on)*(w - x_on)/(x_off - x_on)"
        )
        f_off = "exp(-exp((w - a_off)/w_c))" if self.window == "kvatinsky" else "1"
        f_on = "exp(-exp(-(w - a_on)/w_c))" if self.window == "kvatinsky" else "1"
        u_off, u_on = f"{thr}_off", f"{thr}_on"
        return {
            "state": (
                f"dw/dt = k_off*clip({control}/{u_off} - 1, 0, inf)**alpha_off*f_off"
                f" + k_on*clip({control}/{u_on} - 1, 0, inf)**alpha_on*f_on : meter"
            ),
            "current": f"I = v / ({r}) : amp",
            "window_off": f"f_off = {f_off} : 1",
            "window_on": f"f_on = {f_on} : 1",
            "bounds": "x_on <= w <= x_off",
        }


@dataclasses.dataclass(frozen=True)
class TEAM(_ThresholdModel):
    r"""ThrEshold Adaptive Memristor model (current thresholds), Kvatinsky et al. 2013.

    Parameters
    ----------
    R_on, R_off : float or array_like
        Resistances at :math:`w = x_{on}` and :math:`w = x_{off}` (ohm), 0 < R_on < R_off.
    x_on, x_off : float
        State bounds (m), 0 <= x_on < x_off.
    k_on : float or array_like
        ON rate constant (m/s), < 0.
    k_off : float or array_like
        OFF rate constant (m/s), > 0.
    alpha_on, alpha_off : float or array_like
        Exponents, > 0.
    i_on : float
        ON current threshold (A), < 0.
    i_off : float
        OFF current threshold (A), > 0.
    window : {"none", "kvatinsky"}
        Window; the state is kept in [x_on, x_off] in both cases.
    a_on, a_off, w_c : float or array_like
        Kvatinsky window positions and width (m).
    iv : {"linear", "exponential"}
        I-V relation.
    initial_state : float or array_like
        Initial :math:`w` (m) in [x_on, x_off].

    Raises
    ------
    ParameterError
        A parameter outside its range, R_off <= R_on, x_off <= x_on, initial state out of bounds.

    Notes
    -----
    .. math::

        \frac{dw}{dt} = k_{off}\left(\frac{i}{i_{off}} - 1\right)^{\alpha_{off}} f_{off}(w)\ (i > i_{off}),\quad
        0\ (i_{on} \le i \le i_{off}),\quad
        k_{on}\left(\frac{i}{i_{on}} - 1\right)^{\alpha_{on}} f_{on}(w)\ (i < i_{on})

    Examples
    --------
    >>> m = TEAM(i_off=1e-4, i_on=-1e-4, k_off=1e-3, k_on=-1e-3, alpha_off=1, alpha_on=1)
    >>> float(m.dstate_dt(1.5e-9, 0.5))     # i = 0.5 V / 100.05 kohm = 5 uA: below i_off
    0.0
    """

    R_on: float = 100.0
    R_off: float = 200e3
    x_on: float = 0.0
    x_off: float = 3e-9
    k_on: float = -8e-13
    k_off: float = 8e-13
    alpha_on: float = 3.0
    alpha_off: float = 3.0
    i_on: float = -8.9e-6
    i_off: float = 115e-6
    window: str = "none"
    a_on: float = 0.0
    a_off: float = 3e-9
    w_c: float = 107e-12
    iv: str = "linear"
    initial_state: float = 1.5e-9

    _params: ClassVar[dict[str, Param]] = {
        **_common_params(),
        "i_on": Param("real", high=0.0, high_open=True, unit="A"),
        "i_off": Param("real", unit="A", **_POS),
    }
    _array_params: ClassVar[tuple[str, ...]] = _COMMON_ARRAYS + ("i_on", "i_off")

    def dstate_dt(self, state, v):
        r"""State rate :math:`dw/dt` (m/s) from the current :math:`i = v/R(w)` (TEAM)."""
        w = np.asarray(state, dtype=float)
        i = self.current(w, v)
        return self._rate(w, i, self.i_off, self.i_on)

    def _euler_rate(self, state, v):
        w = np.asarray(state, dtype=float)
        return self._rate(w, self.current(w, v), self.i_off, self.i_on, hard_bounds=False)

    def dstate_partials(self, state, v):
        r"""Rate and its exact partial derivatives ``(dw/dt, d(dw/dt)/dw, d(dw/dt)/dv)`` (chain rule through i)."""
        w = np.asarray(state, dtype=float)
        v = np.asarray(v, dtype=float)
        i = self.current(w, v)
        return self._partials(w, i, self.dcurrent_dv(w, v), self.dcurrent_dstate(w, v), self.i_off, self.i_on)

    def spice_subckt(self, name: str) -> str:
        """ngspice behavioural ``.subckt name p n``; the node ``x`` holds :math:`w` in nm.

        Examples
        --------
        >>> TEAM().spice_subckt("team1").splitlines()[2]
        '.subckt team1 p n'
        """
        self._scalar(*self._array_params)
        w, r, f_off, f_on = self._spice_common()
        i = f"(V(p,n)/{r})"
        rate = self._spice_rate(i, self.i_off, self.i_on, f_off, f_on, w)
        return self._spice_wrap(name, rate, i, f"TEAM (Kvatinsky 2013), window={self.window}, iv={self.iv}")

    def equations(self) -> dict:
        """The model as text in its own symbols (brian2-style strings)."""
        return self._equations("I", "i")


@dataclasses.dataclass(frozen=True)
class VTEAM(_ThresholdModel):
    r"""Voltage ThrEshold Adaptive Memristor model, Kvatinsky et al. 2015.

    Parameters
    ----------
    R_on, R_off : float or array_like
        Resistances at :math:`w = x_{on}` and :math:`w = x_{off}` (ohm), 0 < R_on < R_off.
    x_on, x_off : float
        State bounds (m), 0 <= x_on < x_off.
    k_on : float or array_like
        ON rate constant (m/s), < 0.
    k_off : float or array_like
        OFF rate constant (m/s), > 0.
    alpha_on, alpha_off : float or array_like
        Exponents, > 0.
    v_on : float or array_like
        ON voltage threshold (V), < 0.
    v_off : float or array_like
        OFF voltage threshold (V), > 0.
    window : {"none", "kvatinsky"}
        Window; the state is kept in [x_on, x_off] in both cases.
    a_on, a_off, w_c : float or array_like
        Kvatinsky window positions and width (m).
    iv : {"linear", "exponential"}
        I-V relation.
    initial_state : float or array_like
        Initial :math:`w` (m) in [x_on, x_off].

    Raises
    ------
    ParameterError
        A parameter outside its range, R_off <= R_on, x_off <= x_on, initial state out of bounds.

    Notes
    -----
    .. math::

        \frac{dw}{dt} = k_{off}\left(\frac{v}{v_{off}} - 1\right)^{\alpha_{off}} f_{off}(w)\ (v > v_{off}),\quad
        0\ (v_{on} \le v \le v_{off}),\quad
        k_{on}\left(\frac{v}{v_{on}} - 1\right)^{\alpha_{on}} f_{on}(w)\ (v < v_{on})

    Examples
    --------
    >>> m = VTEAM(v_off=0.5, v_on=-0.5, k_off=1.0, alpha_off=2)
    >>> float(m.dstate_dt(1.0e-9, 1.0))     # k_off (1.0/0.5 - 1)^2
    1.0
    """

    R_on: float = 50.0
    R_off: float = 1000.0
    x_on: float = 0.0
    x_off: float = 3e-9
    k_on: float = -10.0
    k_off: float = 5e-4
    alpha_on: float = 3.0
    alpha_off: float = 1.0
    v_on: float = -0.2
    v_off: float = 0.02
    window: str = "none"
    a_on: float = 0.0
    a_off: float = 3e-9
    w_c: float = 107e-12
    iv: str = "linear"
    initial_state: float = 1.5e-9

    _params: ClassVar[dict[str, Param]] = {
        **_common_params(),
        "v_on": Param("real", high=0.0, high_open=True, unit="V"),
        "v_off": Param("real", unit="V", **_POS),
    }
    _array_params: ClassVar[tuple[str, ...]] = _COMMON_ARRAYS + ("v_on", "v_off")

    def dstate_dt(self, state, v):
        r"""State rate :math:`dw/dt` (m/s) from the port voltage (VTEAM)."""
        w = np.asarray(state, dtype=float)
        return self._rate(w, np.asarray(v, dtype=float), self.v_off, self.v_on)

    def _euler_rate(self, state, v):
        w = np.asarray(state, dtype=float)
        return self._rate(w, np.asarray(v, dtype=float), self.v_off, self.v_on, hard_bounds=False)

    def dstate_partials(self, state, v):
        r"""Rate and its exact partial derivatives ``(dw/dt, d(dw/dt)/dw, d(dw/dt)/dv)``."""
        w = np.asarray(state, dtype=float)
        v = np.asarray(v, dtype=float)
        return self._partials(w, v, 1.0, 0.0, self.v_off, self.v_on)

    def spice_subckt(self, name: str) -> str:
        """ngspice behavioural ``.subckt name p n``; the node ``x`` holds :math:`w` in nm.

        Examples
        --------
        >>> VTEAM().spice_subckt("vt").splitlines()[2]
        '.subckt vt p n'
        """
        self._scalar(*self._array_params)
        w, r, f_off, f_on = self._spice_common()
        i = f"(V(p,n)/{r})"
        rate = self._spice_rate("V(p,n)", self.v_off, self.v_on, f_off, f_on, w)
        return self._spice_wrap(name, rate, i, f"VTEAM (Kvatinsky 2015), window={self.window}, iv={self.iv}")

    def equations(self) -> dict:
        """The model as text in its own symbols (brian2-style strings)."""
        return self._equations("v", "v")
