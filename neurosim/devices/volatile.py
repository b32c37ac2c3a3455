r"""Volatile (dynamic) memristor: a state that a pulse raises and that relaxes back exponentially.

The short-term-memory device of memristor reservoirs (Du et al., Nat. Commun. 8, 2204, 2017;
Zhong et al., Nat. Commun. 12, 408, 2021). State :math:`w \in [0, 1]` (dimensionless):

.. math::

    \frac{dw}{dt} = r_+(v)\,(1 - w) - r_-(v)\, w - \frac{w}{\tau},
    \qquad r_\pm(v) = \lambda \max\!\big(\pm\sinh(\eta v), 0\big)

    i = \big(G_{off} + (G_{on} - G_{off})\, w\big)\, v_{nl} \sinh(v / v_{nl})

A positive pulse drives :math:`w` towards 1 at a rate growing as :math:`\sinh(\eta v)` (the
field-driven ion motion of Du et al.'s model, :math:`\lambda \sinh(\eta V)`), a negative one towards
0; with no drive the state decays with the time constant :math:`\tau` (Zhong et al. measured a single
exponential with :math:`t_0 = 400\ \mu s`). For a constant voltage over :math:`\Delta t` the equation
is linear in :math:`w` and :meth:`step` integrates it exactly:

.. math::

    w(t + \Delta t) = w_\infty + (w(t) - w_\infty)\, e^{-k \Delta t}, \qquad
    k = r_+ + r_- + 1/\tau, \quad w_\infty = r_+ / k
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from neurosim.errors import ParameterError
from neurosim.params import Param

from .base import DeviceModel, UnitIntervalState, spice_num

__all__ = ["VolatileMemristor"]

_POS = {"low": 0.0, "low_open": True}


@dataclasses.dataclass(frozen=True)
class VolatileMemristor(UnitIntervalState, DeviceModel):
    r"""Volatile memristor with exponential relaxation (short-term memory).

    .. math::

        \frac{dw}{dt} = r_+(v)(1 - w) - r_-(v)\, w - \frac{w}{\tau}, \quad
        r_\pm = \lambda \max(\pm\sinh(\eta v), 0), \quad
        i = (G_{off} + (G_{on} - G_{off}) w)\, v_{nl}\sinh(v/v_{nl})

    Parameters
    ----------
    tau : float
        Relaxation time constant (s).
    lam : float
        Rate prefactor :math:`\lambda` (1/s).
    eta : float
        Voltage sensitivity :math:`\eta` of the rate (1/V).
    G_on, G_off : float
        Conductances (S) at :math:`w = 1` and :math:`w = 0`.
    v_nl : float
        Nonlinearity voltage of the I-V (V).
    initial_state : float
        :math:`w` of a fresh (relaxed) device.

    Examples
    --------
    >>> d = VolatileMemristor(tau=400e-6, lam=1e3, eta=2.0, G_on=1e-4, G_off=1e-6, v_nl=1.0)
    >>> w = d.step(np.array([0.5]), 0.0, 400e-6)      # no drive: one time constant of decay
    >>> bool(abs(w[0] - 0.5 * np.exp(-1)) < 1e-15)
    True
    """

    tau: float = 400e-6
    lam: float = 300.0
    eta: float = 2.0
    G_on: float = 1e-4
    G_off: float = 1e-6
    v_nl: float = 1.0
    initial_state: float = 0.0

    _params: ClassVar[dict[str, Param]] = {
        "tau": Param("real", unit="s", **_POS),
        "lam": Param("real", unit="1/s", low=0.0),
        "eta": Param("real", unit="1/V", **_POS),
        "G_on": Param("real", unit="S", **_POS),
        "G_off": Param("real", unit="S", **_POS),
        "v_nl": Param("real", unit="V", **_POS),
        "initial_state": Param("real", low=0.0, high=1.0),
    }
    _array_params: ClassVar[tuple[str, ...]] = ("tau", "lam", "eta", "G_on", "G_off")
    state_name: ClassVar[str] = "w"
    state_unit: ClassVar[str] = "1"

    def _check(self) -> None:
        super()._check()
        if np.any(np.asarray(self.G_on) <= np.asarray(self.G_off)):
            raise ParameterError(f"VolatileMemristor: G_on must be > G_off, got G_on={self.G_on!r}, G_off={self.G_off!r}")

    def _g(self, w):
        return self.G_off + (self.G_on - self.G_off) * np.asarray(w, dtype=float)

    def current(self, state, v):
        r"""Current (A): :math:`(G_{off} + (G_{on} - G_{off}) w)\, v_{nl}\sinh(v/v_{nl})`."""
        return self._g(state) * self.v_nl * np.sinh(np.asarray(v, dtype=float) / self.v_nl)

    def dcurrent_dv(self, state, v):
        r""":math:`\partial i / \partial v = G(w) \cosh(v/v_{nl})` (S)."""
        return self._g(state) * np.cosh(np.asarray(v, dtype=float) / self.v_nl)

    def dcurrent_dstate(self, state, v):
        r""":math:`\partial i / \partial w = (G_{on} - G_{off})\, v_{nl}\sinh(v/v_{nl})` (A)."""
        s = np.asarray(state, dtype=float)
        return (self.G_on - self.G_off) * self.v_nl * np.sinh(np.asarray(v, dtype=float) / self.v_nl) * np.ones_like(s)

    def _rates(self, v):
        r = self.lam * np.sinh(self.eta * np.asarray(v, dtype=float))
        return np.maximum(r, 0.0), np.maximum(-r, 0.0)

    def dstate_dt(self, state, v):
        """:math:`dw/dt` (1/s)."""
        w = np.asarray(state, dtype=float)
        rp, rm = self._rates(v)
        return rp * (1.0 - w) - rm * w - w / self.tau

    def dstate_partials(self, state, v):
        """``(rate, d rate/dw, d rate/dv)``, exact."""
        w = np.asarray(state, dtype=float)
        v = np.asarray(v, dtype=float)
        rp, rm = self._rates(v)
        dr = self.lam * self.eta * np.cosh(self.eta * v)
        drate_dv = np.where(v >= 0, dr * (1.0 - w), dr * w)
        return self.dstate_dt(w, v), -(rp + rm) - 1.0 / self.tau + 0.0 * w, drate_dv

    def step(self, state, v, dt, out=None):
        r"""The exact state after ``dt`` (s) at the constant voltage ``v`` (V) (not an Euler step).

        .. math:: w(t + \Delta t) = w_\infty + (w - w_\infty) e^{-k \Delta t},\quad
                  k = r_+ + r_- + 1/\tau,\ w_\infty = r_+/k
        """
        w = np.asarray(state, dtype=float)
        rp, rm = self._rates(v)
        k = rp + rm + 1.0 / self.tau
        w_inf = rp / k
        res = w_inf + (w - w_inf) * np.exp(-k * dt)
        if out is not None:
            out[...] = res
            return out
        return res

    def spice_subckt(self, name: str) -> str:
        """ngspice behavioural ``.subckt name p n``; node ``x`` holds :math:`w` (a 1 F capacitor integrates the rate).

        Examples
        --------
        >>> VolatileMemristor().spice_subckt("v1").splitlines()[2]
        '.subckt v1 p n'
        """
        self._scalar(*self._array_params)
        lam, eta, tau = spice_num(self.lam), spice_num(self.eta), spice_num(self.tau)
        r = f"({lam}*sinh({eta}*V(p,n)))"
        rate = f"(max({r},0)*(1-V(x)) - max(-{r},0)*V(x) - V(x)/{tau})"
        g = f"({spice_num(self.G_off)}+{spice_num(self.G_on - self.G_off)}*V(x))"
        vnl = spice_num(self.v_nl)
        return self._spice_wrap(name, rate, f"({g}*{vnl}*sinh(V(p,n)/{vnl}))", "VolatileMemristor")

    def equations(self) -> dict:
        """The model as text in its own symbols (brian2-style strings)."""
        return {
            "state": "dw/dt = lam*clip(sinh(eta*v), 0, inf)*(1 - w) - lam*clip(-sinh(eta*v), 0, inf)*w - w/tau : 1",
            "current": "I = (G_off + (G_on - G_off)*w)*v_nl*sinh(v/v_nl) : amp",
            "bounds": "0 <= w <= 1",
        }
