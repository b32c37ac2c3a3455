r"""The circuit realisation of a CTRNN: memristive crossbar, capacitors, nonlinear amplifiers.

Each neuron ``i`` is a node whose voltage is :math:`y_i` (V), with a capacitor :math:`C_i` and a leak
conductance :math:`G_{L,i}` to ground. Each neuron ``j`` drives two crossbar rows through a
nonlinear amplifier: :math:`+V_a \sigma(g_j (y_j + \theta_j))` and its inverse. The logistic
nonlinearity is a voltage-controlled conductance (the netlist's smooth ``switch``,
:math:`g(v_c) = g_{off} + (g_{on} - g_{off})\,\sigma((v_c - v_t)/v_w)` with :math:`v_t = -\theta_j`,
:math:`v_w = 1/g_j`) feeding the virtual ground of a transimpedance amplifier (a VCVS of gain
:math:`-A`, feedback :math:`R_f = V_a / (g_{on} - g_{off})`; a resistor from the opposite supply
cancels :math:`g_{off}`); a unity inverting VCVS makes the negative rail. The crossbar puts a
conductance :math:`G^{\pm}_{ij}` from row :math:`\pm j` to column ``i``; Kirchhoff's current law at the
neuron node gives

.. math::

    C_i \dot y_i = \sum_j (G^+_{ij} - G^-_{ij})\, V_a \sigma_j - \Big(G_{L,i} + \sum_j (G^+_{ij} + G^-_{ij})\Big) y_i + G_{T} I_i,

which is the CTRNN with :math:`G_T = G_{L,i} + \sum_j (G^+_{ij}+G^-_{ij})` (the same for every neuron),
:math:`\tau_i = C_i / G_T` and :math:`W_{ij} = V_a (G^+_{ij} - G^-_{ij}) / G_T`. The input current
:math:`G_T I_i` is a current source. The amplifiers are algebraic (MNA branch equations), so the
circuit is a differential-algebraic system: it is integrated as such by the transient engine
(:func:`neurosim.solve.transient`, trapezoidal rule, device states joint with node voltages), not
reduced by hand. With ideal conductances (resistors), no wire resistance and :math:`A \to \infty` it
equals the CTRNN equations (finite :math:`A` adds a relative error of order :math:`1/A`).

Non-idealities shown by the same netlist: row and column wire resistance (``r_wire`` per crossbar
segment), a device model for the crosspoints (its conductance window, its I-V nonlinearity) and
the device states moving under the circuit's own voltages (``dstate_dt`` integrated jointly).
"""

from __future__ import annotations

import numpy as np

from neurosim.dynamics.ctrnn import CTRNN, Trajectory
from neurosim.errors import ParameterError
from neurosim.netlist import Netlist

__all__ = ["CTRNNCircuit", "ctrnn_circuit"]


class CTRNNCircuit:
    """A CTRNN built as a netlist (see :func:`ctrnn_circuit`).

    Attributes
    ----------
    netlist : Netlist
    net : CTRNN
        The network it realises.
    neuron_nodes : list of str
        Node of each :math:`y_i`.
    g_total : float
        :math:`G_T` (S).
    v_amp : float
        Amplifier amplitude :math:`V_a` (V).
    devices : list of str
        Names of the crosspoint elements (resistors or devices).
    """

    def __init__(self, netlist, net, neuron_nodes, g_total, v_amp, devices):
        self.netlist = netlist
        self.net = net
        self.neuron_nodes = neuron_nodes
        self.g_total = g_total
        self.v_amp = v_amp
        self.devices = devices

    def run(self, t_stop: float, *, reltol: float = 1e-6, dt_max: float | None = None, **kw):
        """Integrate with :func:`neurosim.solve.transient` from the capacitors' initial voltages.

        Returns
        -------
        Trajectory
            ``t`` (the engine's accepted steps), ``y`` the neuron node voltages ``(T, N)``;
            ``stats["result"]`` is the :class:`~neurosim.solve.TransientResult`.
        """
        from neurosim.solve import transient

        res = transient(self.netlist, t_stop, uic=True, reltol=reltol, dt_max=dt_max or t_stop / 200,
                        progress=False, **kw)
        y = np.stack([res.v(n) for n in self.neuron_nodes], axis=1)
        return Trajectory(np.asarray(res.t), y, {"engine": "transient", "result": res})


def ctrnn_circuit(net: CTRNN, *, y0=None, inputs=None, device=None, g_max: float = 1e-4, v_amp: float | None = None,
                  r_wire: float = 0.0, opamp_gain: float = 1e6, r_on: float = 1e3, r_off: float = 1e9) -> CTRNNCircuit:
    r"""Build the crossbar-capacitor-amplifier netlist of a CTRNN.

    .. math::

        C_i \dot y_i = \sum_j (G^+_{ij} - G^-_{ij}) V_a \sigma_j - G_T y_i + G_T I_i,
        \quad W_{ij} = V_a (G^+_{ij} - G^-_{ij}) / G_T, \quad \tau_i = C_i / G_T

    Parameters
    ----------
    net : CTRNN
        Dense weights; the input is constant (``inputs`` and ``net.bias``).
    y0 : array_like, shape (N,), optional
        Initial neuron states (capacitor voltages, V).
    inputs : array_like, shape (M,), optional
        Constant input :math:`u` (current :math:`G_T (W_{in} u + b)`).
    device : str, device model or None
        Crosspoint device (card name or model; a differential pair per weight, both devices in the
        device's conductance window); ``None``: ideal resistors, one per non-zero weight.
    g_max : float
        Largest crosspoint conductance (S) for ideal resistors.
    v_amp : float, optional
        Amplifier amplitude :math:`V_a` (V); default 1.25 x the largest row sum of :math:`|W|`
        (at least 1), which leaves a positive leak.
    r_wire : float
        Resistance of each row and column wire segment between crosspoints (ohm), 0 for none.
    opamp_gain : float
        Open-loop gain :math:`A` of the transimpedance amplifiers.
    r_on, r_off : float
        On/off resistance of the amplifiers' input conductance (ohm).

    Returns
    -------
    CTRNNCircuit

    Raises
    ------
    ParameterError
        Sparse weights, a non-logistic activation, weights beyond the amplifier amplitude, a
        device window that cannot hold the weights, bad sizes.

    Examples
    --------
    >>> import numpy as np
    >>> from neurosim.dynamics import CTRNN
    >>> net = CTRNN(np.array([[0.0, 1.0], [-1.0, 0.0]]), tau=1e-3)
    >>> c = ctrnn_circuit(net, y0=[0.5, 0.0])
    >>> tr = c.run(2e-3)
    >>> ref = net.simulate(tr.t, y0=[0.5, 0.0])
    >>> bool(np.abs(tr.y - ref.y).max() < 1e-3)
    True
    """
    owner = "ctrnn_circuit"
    if not isinstance(net, CTRNN):
        raise ParameterError(f"{owner}: net must be a CTRNN, got {type(net).__name__}")
    if net.sparse:
        raise ParameterError(f"{owner}: net must have dense weights for the circuit realisation, got a sparse matrix")
    if net.activation != "sigmoid":
        raise ParameterError(f"{owner}: the amplifiers realise the logistic activation, got activation={net.activation!r}")
    for name, value, low in (("g_max", g_max, 0.0), ("opamp_gain", opamp_gain, 0.0), ("r_on", r_on, 0.0),
                             ("r_off", r_off, 0.0)):
        if not (np.isfinite(value) and value > low):
            raise ParameterError(f"{owner}: {name} must be a real number in (0, inf), got {value!r}")
    if not (np.isfinite(r_wire) and r_wire >= 0):
        raise ParameterError(f"{owner}: r_wire must be a real number in [0, inf) ohm, got {r_wire!r}")
    N = net.n
    W = np.asarray(net.weights)
    rowsum = np.abs(W).sum(axis=1).max()
    if v_amp is None:
        v_amp = max(1.0, 1.25 * rowsum)
    if not (np.isfinite(v_amp) and v_amp > rowsum):
        raise ParameterError(f"{owner}: v_amp must exceed the largest row sum of |weights| = {rowsum:.6g} V, got {v_amp!r}")
    y0 = np.zeros(N) if y0 is None else np.asarray(y0, dtype=np.float64)
    if y0.shape != (N,):
        raise ParameterError(f"{owner}: y0 must have shape ({N},), got {y0.shape}")
    I = net.current(np.zeros(net.n_inputs)) if inputs is None else net.current(inputs)
    if np.shape(I) != (N,):
        raise ParameterError(f"{owner}: inputs must have shape ({net.n_inputs},), got {np.shape(inputs)}")

    # conductances: G_T chosen so that the largest |W| maps to the largest conductance
    wmax = float(np.abs(W).max()) or 1.0
    if device is None:
        g_hi = float(g_max)
        g_total = g_hi * v_amp / wmax
        Gp = np.where(W > 0, W, 0.0) * g_total / v_amp
        Gn = np.where(W < 0, -W, 0.0) * g_total / v_amp
        adapter = None
    else:
        from neurosim.crossbar.device import DeviceAdapter

        adapter = DeviceAdapter(device)
        g_lo = float(adapter.conductance(np.asarray(adapter.s_off)))
        g_hi = float(adapter.conductance(np.asarray(adapter.s_on)))
        g_total = (g_hi - g_lo) * v_amp / wmax
        Gp = g_lo + np.where(W > 0, W, 0.0) * g_total / v_amp
        Gn = g_lo + np.where(W < 0, -W, 0.0) * g_total / v_amp
    G_leak = g_total - (Gp + Gn).sum(axis=1)
    if np.any(G_leak <= 0):
        raise ParameterError(
            f"{owner}: the crossbar conductances exceed the total conductance G_T = {g_total:.6g} S "
            f"(raise v_amp above {v_amp:.6g} V or use a device with a lower off conductance)"
        )
    C = net.tau * g_total

    nl = Netlist("CTRNN circuit")
    g_on, g_off = 1.0 / r_on, 1.0 / r_off
    r_f = v_amp / (g_on - g_off)
    nl.add_vsource("Vsrc", "src", "0", -1.0)
    nl.add_vsource("Vofs", "ofs", "0", 1.0)
    ys = [f"y{i}" for i in range(N)]
    for j in range(N):
        m, out, neg = f"m{j}", f"a{j}", f"an{j}"
        nl.add_switch(f"Samp{j}", "src", m, ys[j], "0", r_on=r_on, r_off=r_off, v_t=-net.theta[j], v_w=1.0 / net.gain[j])
        nl.add_resistor(f"Rofs{j}", "ofs", m, r_off)
        nl.add_resistor(f"Rf{j}", m, out, r_f)
        nl.add_vcvs(f"Eamp{j}", out, "0", "0", m, opamp_gain)
        nl.add_vcvs(f"Einv{j}", neg, "0", out, "0", -1.0)
    for i in range(N):
        nl.add_capacitor(f"C{i}", ys[i], "0", float(C[i]), ic=float(y0[i]))
        nl.add_resistor(f"RL{i}", ys[i], "0", 1.0 / float(G_leak[i]))
        if I[i] != 0.0:
            nl.add_isource(f"Iin{i}", "0", ys[i], float(g_total * I[i]))
    # crossbar: rows (+j, -j) x columns i, optional wire segments
    rows = [(f"a{j}", j, +1) for j in range(N)] + [(f"an{j}", j, -1) for j in range(N)]
    R = len(rows)
    names = []
    for r, (drv, j, sign) in enumerate(rows):
        prev = drv
        for i in range(N):
            G = Gp[i, j] if sign > 0 else Gn[i, j]
            if adapter is None and G == 0.0:
                continue
            rn = prev
            if r_wire > 0:
                rn = f"r{r}_{i}"
                nl.add_resistor(f"Rrow{r}_{i}", prev, rn, r_wire)
                prev = rn
            cn = ys[i] if r_wire == 0 else f"c{i}_{r}"
            name = f"X{r}_{i}"
            if adapter is None:
                nl.add_resistor(name, rn, cn, 1.0 / G)
            else:
                nl.add_device(name, rn, cn, adapter.model, state=float(adapter.state_for(np.asarray(G))))
            names.append(name)
    if r_wire > 0:  # column wires: crosspoint of row r -> ... -> the neuron node
        for i in range(N):
            present = [r for r in range(R) if f"X{r}_{i}" in nl]
            for a, b in zip(present, present[1:] + [None]):
                nl.add_resistor(f"Rcol{i}_{a}", f"c{i}_{a}", ys[i] if b is None else f"c{i}_{b}", r_wire)
    return CTRNNCircuit(nl, net, ys, g_total, v_amp, names)
