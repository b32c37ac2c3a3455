r"""1T1R RRAM programmed through the access transistor's gate (Li et al., Nat. Mach. Intell. 2019).

The LSTM-in-crossbar experiment (C. Li et al., "Long short-term memory networks in memristor crossbar
arrays", Nat. Mach. Intell. 1, 49 (2019); Ta/HfO2 memristors with one transistor each) writes a
conductance with a SET pulse whose current compliance, and so the conductance reached, is set by the
transistor's gate voltage; a decrease is a RESET pulse followed by such a SET. The state is the
conductance :math:`G` (S); the read is linear, :math:`i = G v`.

.. math::

    G_{set}(V_g) = k_g \big(\mathrm{clip}(V_g, V_{g,min}, V_{g,max}) - V_{th}\big), \qquad
    V_g(G) = V_{th} + G / k_g

    \text{SET at } V_g:\ G' = \mathrm{clip}\big(\max(G_{set}(V_g), G) + \sigma_w z,\ G_{min}, G_{max}\big), \qquad
    \text{RESET}:\ G' = G_{min}

In-situ update by :math:`\Delta G` (:meth:`GateControlledRRAM.update`, the authors' ``xbar.update``):
the new gate voltage is :math:`V_g(G) + \Delta G / k_g` (clipped to the gate range); a RESET precedes
the SET where :math:`\Delta G < 0`; a device with :math:`\Delta G = 0` gets no pulse.

Examples
--------
>>> import numpy as np
>>> d = GateControlledRRAM(sigma_write=0.0)
>>> d.update(np.array([50e-6, 50e-6]), np.array([10e-6, -20e-6])) * 1e6   # up to 60 uS; RESET, SET to 30 uS
array([60., 30.])
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from neurosim.errors import ParameterError
from neurosim.params import Param, check_array

from .base import DeviceModel, spice_num
from .conductance import ConductanceWindow

__all__ = ["GateControlledRRAM"]

_POS = {"low": 0.0, "low_open": True}


@dataclasses.dataclass(frozen=True)
class GateControlledRRAM(ConductanceWindow, DeviceModel):
    r"""1T1R RRAM whose SET conductance is set by the gate voltage; RESET-then-SET for decreases.

    Parameters
    ----------
    G_min, G_max : float
        Conductance window (S), 0 <= G_min < G_max.
    k_gate : float
        Slope of the SET conductance with the gate voltage (S/V), > 0.
    V_th : float
        Gate voltage at which the SET conductance extrapolates to 0 (V).
    V_gate_min, V_gate_max : float
        Gate voltage range of a SET (V).
    sigma_write : float
        Standard deviation of the Gaussian write noise of a SET (S), >= 0.
    v_gate_step : float
        Gate voltage step of one write-verify pulse (V), > 0 (:meth:`apply_pulses`).
    v_set, v_reset, v_gate_reset : float
        SET and RESET pulse amplitudes on the memristor and the RESET gate voltage (V), for
        documentation and energy estimates.
    initial_state : float
        Initial conductance (S) in [G_min, G_max].

    Notes
    -----
    .. math::

        G_{set}(V_g) = k_g (\mathrm{clip}(V_g, V_{g,min}, V_{g,max}) - V_{th}),\qquad
        G' = \mathrm{clip}(\max(G_{set}, G_0) + \sigma_w z, G_{min}, G_{max})

    with :math:`G_0 = G_{min}` after a RESET, else the present conductance.

    Examples
    --------
    >>> d = GateControlledRRAM(sigma_write=0.0)
    >>> round(float(d.set_conductance(1.6)), 12), round(float(d.set_conductance(0.7)), 12)
    (9.8e-05, 9.8e-06)
    """

    G_min: float = 0.0
    G_max: float = 100e-6
    k_gate: float = 98e-6
    V_th: float = 0.6
    V_gate_min: float = 0.7
    V_gate_max: float = 1.6
    sigma_write: float = 4e-6
    v_gate_step: float = 0.01
    v_set: float = 2.5
    v_reset: float = 1.7
    v_gate_reset: float = 5.0
    initial_state: float = 0.0

    _params: ClassVar[dict[str, Param]] = {
        "G_min": Param("real", low=0.0, unit="S"),
        "G_max": Param("real", unit="S", **_POS),
        "k_gate": Param("real", unit="S/V", **_POS),
        "V_th": Param("real", low=-10.0, high=10.0, unit="V"),
        "V_gate_min": Param("real", low=-10.0, high=10.0, unit="V"),
        "V_gate_max": Param("real", low=-10.0, high=10.0, unit="V"),
        "sigma_write": Param("real", low=0.0, unit="S"),
        "v_gate_step": Param("real", unit="V", **_POS),
        "v_set": Param("real", unit="V", **_POS),
        "v_reset": Param("real", unit="V", **_POS),
        "v_gate_reset": Param("real", unit="V", **_POS),
        "initial_state": Param("real", low=0.0, unit="S"),
    }
    state_name: ClassVar[str] = "G"
    state_unit: ClassVar[str] = "S"
    spice_state_scale: ClassVar[float] = 1e-6

    def _check(self) -> None:
        super()._check()
        self._check_window()
        if not self.V_gate_min < self.V_gate_max:
            raise ParameterError("GateControlledRRAM: V_gate_max must be > V_gate_min, got "
                                 f"V_gate_max={self.V_gate_max!r} and V_gate_min={self.V_gate_min!r}")

    # ---------------------------------------------------------------- read (i = G v: ConductanceWindow)

    def dstate_partials(self, state, v):
        """``(0, 0, 0)``: no continuous dynamics."""
        z = self.dstate_dt(state, v)
        return z, z.copy(), z.copy()

    # ---------------------------------------------------------------- writes
    def set_conductance(self, v_gate):
        r"""The SET conductance :math:`G_{set}(V_g)` (S) for gate voltages ``v_gate`` (V), clipped to the gate range."""
        vg = np.clip(np.asarray(v_gate, dtype=float), self.V_gate_min, self.V_gate_max)
        return self.k_gate * (vg - self.V_th)

    def gate_for(self, G):
        r"""The gate voltage :math:`V_g(G) = V_{th} + G / k_g` (V) whose SET reaches ``G`` (S) (unclipped)."""
        return self.V_th + np.asarray(G, dtype=float) / self.k_gate

    def write(self, G, v_gate, reset, rng=None):
        """One SET at ``v_gate`` (V), preceded by a RESET where ``reset`` is true (S in, S out).

        Parameters
        ----------
        G : array_like
            Conductances before the write (S).
        v_gate : array_like
            SET gate voltages (V), broadcast.
        reset : array_like of bool
            RESET first (decreases).
        rng : numpy.random.Generator, optional
            Write noise; without it the noise-free rule.
        """
        G = check_array("GateControlledRRAM.write", "G", G, dtype=float)
        base = np.where(np.asarray(reset, dtype=bool), self.G_min, G)
        new = np.maximum(self.set_conductance(v_gate), base)
        if rng is not None and self.sigma_write > 0:
            new = new + self.sigma_write * rng.standard_normal(new.shape)
        return np.clip(new, self.G_min, self.G_max)

    def update(self, G, dG, rng=None):
        r"""In-situ update of conductances ``G`` (S) by the requested changes ``dG`` (S).

        .. math:: V_g = \mathrm{clip}(V_g(G) + \Delta G / k_g),\quad \text{RESET where } \Delta G < 0,
                  \quad \text{no pulse where } \Delta G = 0

        Returns
        -------
        ndarray
            Conductances after the write (S).
        """
        G = check_array("GateControlledRRAM.update", "G", G, dtype=float)
        dG = np.broadcast_to(np.asarray(dG, dtype=float), G.shape)
        new = self.write(G, self.gate_for(G) + dG / self.k_gate, dG < 0, rng)
        return np.where(dG == 0, G, new)

    def apply_pulses(self, state, n_pulses, polarity, rng=None, noise=None):
        """Write-verify pulses: each moves the SET gate voltage by ``polarity * v_gate_step`` from the
        present conductance's :math:`V_g(G)` (RESET first when decreasing).

        Parameters
        ----------
        state : array_like
            Conductances (S).
        n_pulses : int or array_like of int
            Pulses per device (>= 0).
        polarity : int or array_like
            +1, -1 or 0 per device.
        rng : numpy.random.Generator, optional
            Write noise (and ``noise``); without it the noise-free rule.
        noise : object with ``apply(delta, rng)``, optional
            Extra noise on each pulse's increment (e.g. :class:`~neurosim.devices.CycleToCycleNoise`).
        """
        g = check_array("GateControlledRRAM.apply_pulses", "state", state, dtype=float)
        n = np.asarray(n_pulses)
        if n.dtype.kind not in "iu" or np.any(n < 0):
            raise ParameterError(f"GateControlledRRAM.apply_pulses: n_pulses must be integers >= 0, got {n_pulses!r}")
        pol = np.asarray(polarity)
        if pol.dtype.kind not in "iu" or (pol.size and np.abs(pol).max() > 1):
            raise ParameterError(f"GateControlledRRAM.apply_pulses: polarity must be -1, 0 or +1, got {polarity!r}")
        shape = np.broadcast_shapes(g.shape, n.shape, pol.shape)
        g = np.broadcast_to(g, shape).copy()
        n, pol = np.broadcast_to(n, shape), np.broadcast_to(pol, shape)
        for k in range(int(n.max()) if n.size else 0):
            active = np.where(n > k, pol, 0)
            new = self.update(g, active * self.v_gate_step * self.k_gate, rng)
            if noise is not None and rng is not None:
                new = np.clip(g + noise.apply(new - g, rng), self.G_min, self.G_max)
            g = np.where(active != 0, new, g)
        return g

    # ---------------------------------------------------------------- exports
    def spice_subckt(self, name: str) -> str:
        """ngspice behavioural ``.subckt name p n`` of the read (node ``x``: G in uS, constant)."""
        g = f"(V(x)*{spice_num(self.spice_state_scale)})"
        return self._spice_wrap(name, "0", f"({g}*V(p,n))", "GateControlledRRAM (1T1R, Li et al. 2019), read")

    def equations(self) -> dict:
        """The model as brian2-style text."""
        return {
            "state": "dG/dt = 0*siemens/second : siemens",
            "current": "I = G*v : amp",
            "set": "G = clip(max(k_gate*(clip(V_g, V_gate_min, V_gate_max) - V_th), G) + sigma_write*z, G_min, G_max)",
            "reset": "G = G_min",
            "bounds": "G_min <= G <= G_max",
        }
