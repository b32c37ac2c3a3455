"""Solution objects: node voltages, branch and element currents, device states by name.

Both :class:`OperatingPoint` (one solution) and :class:`TransientResult` (one per time point) keep
the raw unknown vectors ``x`` and compute element quantities from them on request, vectorised over
time points.
"""

from __future__ import annotations

import numpy as np

from neurosim.errors import ParameterError
from neurosim.solve.nonlinear import device_iv, diode_iv, switch_eval

__all__ = ["OperatingPoint", "TransientResult"]


class _Solution:
    """Name lookups shared by the result classes. ``x``: (..., size); ``s``: (..., n_states)."""

    circuit = None
    x: np.ndarray
    s: np.ndarray

    def _node_v(self, idx):
        x = self.x
        return np.where(idx >= 0, x[..., np.maximum(idx, 0)], 0.0) if np.ndim(idx) else (
            x[..., idx] if idx >= 0 else np.zeros(x.shape[:-1])
        )

    def _source_value(self, kind, k):
        cc = self.circuit
        wave = (cc.vs_wave if kind == "vsource" else cc.is_wave)[k]
        dc = (cc.vs_dc if kind == "vsource" else cc.is_dc)[k]
        t = getattr(self, "t", None)
        if t is None or wave is None:
            return np.full(self.x.shape[:-1], dc)
        return wave.value(t)

    def v(self, node):
        """Voltage (V) of a node, or an array of voltages for a list of nodes (last axis)."""
        cc = self.circuit
        if isinstance(node, str):
            return self._node_v(cc.node_index(node))
        return np.stack([self.v(n) for n in node], axis=-1)

    def i(self, element):
        """Current (A) through an element from its first to its second terminal.

        V sources, VCVS, CCVS and inductors: the branch current (SPICE sign: positive flowing from
        ``np`` through the source to ``nn``). VCCS and CCCS: their controlled current. Resistors, diodes, switches, devices: the element current. Current
        sources: their value. Capacitors: 0 at DC; in transients the companion-model current of
        the integration formula. A list of names gives an array (last axis).
        """
        if not isinstance(element, str):
            return np.stack([self.i(e) for e in element], axis=-1)
        cc = self.circuit
        kind, k = cc.element_index(element)
        if kind == "vsource":
            return self.x[..., cc.vs_row[k]]
        if kind == "vcvs":
            return self.x[..., cc.e_row[k]]
        if kind == "ccvs":
            return self.x[..., cc.h_row[k]]
        if kind == "inductor":
            return self.x[..., cc.l_row[k]]
        if kind == "bvoltage":
            return self.x[..., cc.bv_row[k]]
        if kind == "bcurrent":
            t = getattr(self, "t", 0.0)
            if np.ndim(t) == 0:
                return cc.behavioral.currents(self.x, 0.0 if t is None else float(t))[..., k]
            return np.array([cc.behavioral.currents(xk, float(tk))[k] for xk, tk in zip(self.x, t)])
        if kind == "vccs":
            return cc.g_gain[k] * (self._node_v(cc.g_cp[k]) - self._node_v(cc.g_cn[k]))
        if kind == "cccs":
            return cc.f_gain[k] * self.x[..., cc.f_ctrl[k]]
        if kind == "resistor":
            return (self._node_v(cc.res_a[k]) - self._node_v(cc.res_b[k])) * cc.res_g[k]
        if kind == "isource":
            return self._source_value(kind, k)
        if kind == "capacitor":
            cap_i = getattr(self, "cap_i", None)
            return np.zeros(self.x.shape[:-1]) if cap_i is None else cap_i[..., k]
        if kind == "diode":
            vj = self._node_v(cc.d_j[k]) - self._node_v(cc.d_k[k])
            d = cc.diodes
            return diode_iv(vj, d.i_s[k], d.nvt[k], d.bv[k], d.nbvt[k], d.g_min[k])[0]
        if kind == "switch":
            v12 = self._node_v(cc.sw_a[k]) - self._node_v(cc.sw_b[k])
            vc = self._node_v(cc.sw_cp[k]) - self._node_v(cc.sw_cn[k])
            return switch_eval(v12, vc, cc.sw_gon[k], cc.sw_goff[k], cc.sw_vt[k], cc.sw_vw[k])[0]
        if kind == "device":
            return self.device_currents()[..., k]
        raise ParameterError(f"{type(self).__name__}.i: the current of {kind} {element!r} is not available")

    def device_currents(self) -> np.ndarray:
        """Currents (A) of all devices, concatenated over device groups (last axis)."""
        cc = self.circuit
        out = []
        for g in cc.devices:
            v = self._node_v(g.a) - self._node_v(g.b)
            s = self.s[..., g.offset : g.offset + g.names.size]
            out.append(np.broadcast_to(device_iv(g.model, s, v)[0], v.shape))
        return np.concatenate(out, axis=-1) if out else np.zeros(self.x.shape[:-1] + (0,))

    def state(self, device):
        """State of a device (by name), or of a list of devices (last axis)."""
        if not isinstance(device, str):
            return np.stack([self.state(d) for d in device], axis=-1)
        kind, k = self.circuit.element_index(device)
        if kind != "device":
            raise ParameterError(f"{type(self).__name__}.state: {device!r} is a {kind}, not a device")
        return self.s[..., k]

    @property
    def node_voltages(self) -> np.ndarray:
        """Voltages of ``circuit.node_names`` (last axis), V."""
        return self.x[..., : self.circuit.n_nodes]

    @property
    def branch_currents(self) -> np.ndarray:
        """Currents of ``circuit.branch_names`` (last axis), A."""
        return self.x[..., self.circuit.n_nodes :]


class OperatingPoint(_Solution):
    """A DC solution.

    Attributes
    ----------
    circuit : CompiledCircuit
    x : numpy.ndarray, shape (size,)
        Node voltages (V) then branch currents (A).
    s : numpy.ndarray, shape (n_states,)
        Device states used.
    strategy : str
        What converged: ``"linear"``, ``"newton"``, ``"gmin"`` or ``"source"``.
    iterations : int
        Newton iterations in total.
    """

    def __init__(self, circuit, x, s, strategy="linear", iterations=0, t=None):
        self.circuit, self.x, self.s = circuit, x, s
        self.strategy, self.iterations, self.t = strategy, iterations, t

    def __repr__(self) -> str:
        return f"OperatingPoint({self.circuit.n_nodes} nodes, strategy={self.strategy!r}, iterations={self.iterations})"


class TransientResult(_Solution):
    """Waveforms of a transient analysis.

    Attributes
    ----------
    t : numpy.ndarray, shape (n_t,)
        Time points, s.
    x : numpy.ndarray, shape (n_t, size)
        Unknowns at each time.
    s : numpy.ndarray, shape (n_t, n_states)
        Device states at each time.
    stats : dict
        ``accepted``, ``rejected`` steps, ``newton_iterations``, ``method``.
    cap_i : numpy.ndarray, shape (n_t, n_capacitors) or None
        Capacitor currents (A) from the integration formula.
    """

    def __init__(self, circuit, t, x, s, stats=None, cap_i=None):
        self.circuit, self.t, self.x, self.s = circuit, np.asarray(t), np.asarray(x), np.asarray(s)
        self.stats = stats or {}
        self.cap_i = cap_i

    def _source_value(self, kind, k):
        cc = self.circuit
        wave = (cc.vs_wave if kind == "vsource" else cc.is_wave)[k]
        if wave is None:
            return np.full(self.t.shape, (cc.vs_dc if kind == "vsource" else cc.is_dc)[k])
        return wave.value(self.t)

    def __repr__(self) -> str:
        return f"TransientResult({self.t.size} points, t_stop={self.t[-1]!r} s)"
