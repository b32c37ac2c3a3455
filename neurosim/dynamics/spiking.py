r"""Spiking networks as netlists: integrate-and-fire neurons joined by spike-driven synapses, on brian2 or scipy.

The description is a :class:`neurosim.netlist.Netlist` in the same graph layer as the crossbars and
the rate networks of :mod:`neurosim.dynamics.neuralnet`. A **neuron** is a node with a capacitor
:math:`C_i` and a leak resistor :math:`1/G_i` to ground, optionally a bias current source
:math:`I_i` (ground -> node), and a threshold-and-reset element (kind ``"lif"``: :math:`v_{th,i}`,
:math:`v_{reset,i}`, :math:`t_{ref,i}`) across the capacitor. **Inputs** are spike sources (kind
``"spikes"``, input channel ``c``) on nodes of their own. **Synapses** (kind ``"synapse"``) run from a
neuron or input node to a neuron node; synapse ``s`` feeds a current :math:`J_{i,k}` of its
postsynaptic neuron, one per distinct synaptic time constant :math:`\tau_k`:

.. math::

    C_i \dot v_i = -G_i v_i + I_i + \sum_k J_{i,k}, \qquad \tau_k \dot J_{i,k} = -J_{i,k}

and at the :math:`n`-th spike of its presynaptic node (arriving ``delay`` later) adds
:math:`A_s u_n R_n` to :math:`J_{post(s), k(s)}`, with the Markram--Tsodyks recursions of
:meth:`neurosim.netlist.Netlist.add_synapses` (:math:`e^{-\Delta/0} = 0`: ``D = F = 0`` is static).
A neuron whose voltage reaches :math:`v_{th}` spikes, is reset to :math:`v_{reset}` and held there
for :math:`t_{ref}`; its currents keep decaying.

Two engines run the same description (:class:`SpikingNetwork`):

* ``"brian2"``: one ``NeuronGroup`` (linear equations integrated exactly, ``method="exact"``; RK4
  when a membrane time constant equals a synaptic one, where brian2's exact solution breaks down),
  one ``Synapses`` per kind of connection (dynamic or static, from neurons or from the
  ``SpikeGeneratorGroup`` of the inputs), built once and run per stimulus with store/restore; spikes
  and deliveries fall on the grid of step ``dt``.
* ``"scipy"``: event-driven, in continuous time: ``solve_ivp`` between events, threshold crossings
  located as terminal events, deliveries applied at their exact times. A reference for the brian2
  build (slow for large networks); the two agree to the order of ``dt`` in spike times.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools

import numpy as np
from scipy.integrate import solve_ivp

from neurosim.dynamics._neurons import NeuronElements, bias_currents, lif_elements, neuron_nodes, off_ground
from neurosim.errors import NetlistError, ParameterError
from neurosim.params import Param

__all__ = ["LiquidResponse", "SpikingNetlist", "SpikingNetwork"]

#: brian2 start value of ``tlast`` (s): long before any spike, so that the first spike has u = U, R = 1.
_T_NEVER = -1e4


@dataclasses.dataclass(frozen=True)
class LiquidResponse:
    """Spikes of one stimulus.

    Attributes
    ----------
    i : ndarray of int
        Neuron index of each spike.
    t : ndarray of float
        Spike times, s.
    n_neurons : int
    duration : float
        Simulated time, s.
    """

    i: np.ndarray
    t: np.ndarray
    n_neurons: int
    duration: float


@dataclasses.dataclass(eq=False)
class SpikingNetlist:
    """The grouped (array) form of a spiking netlist (see the module documentation).

    Attributes
    ----------
    C, G_leak, I_bias, v_th, v_reset, t_ref : ndarray, shape (N,)
        Per neuron: F, S, A, V, V, s.
    taus : ndarray, shape (K,)
        Distinct synaptic time constants, s (sorted).
    pre : ndarray of int, shape (S,)
        Presynaptic neuron index, or ``-1 - c`` for input channel ``c``.
    post, cls : ndarray of int, shape (S,)
        Postsynaptic neuron and index of the synapse's time constant in ``taus``.
    A, U, D, F, delay : ndarray, shape (S,)
        A, 1, s, s, s.
    n_inputs : int
        Number of input channels (largest channel + 1; 0 without inputs).
    node_names : tuple of str
    """

    C: np.ndarray
    G_leak: np.ndarray
    I_bias: np.ndarray
    v_th: np.ndarray
    v_reset: np.ndarray
    t_ref: np.ndarray
    taus: np.ndarray
    pre: np.ndarray
    post: np.ndarray
    cls: np.ndarray
    A: np.ndarray
    U: np.ndarray
    D: np.ndarray
    F: np.ndarray
    delay: np.ndarray
    n_inputs: int
    node_names: tuple

    @property
    def n(self) -> int:
        """Number of neurons."""
        return self.C.size

    @classmethod
    def from_netlist(cls, netlist) -> "SpikingNetlist":
        """Recognise neurons, inputs and synapses in a :class:`~neurosim.netlist.Netlist` and group them.

        Raises
        ------
        NetlistError
            An element of another kind, or one that does not fit (named, with the reason).
        """
        owner = "SpikingNetlist.from_netlist"
        if isinstance(netlist, cls):
            return netlist
        els = NeuronElements(netlist, ("capacitor", "resistor", "isource", "lif", "synapse", "spikes"), owner, "spiking")
        cat, fail, names_of = els.cat, els.fail, els.node_names
        idx, neurons, C, _, _ = neuron_nodes(els)
        n = neurons.size
        rn, rnodes, rp = cat("resistor")
        leak = ((rnodes[:, 0] == 0) ^ (rnodes[:, 1] == 0)) & (idx[off_ground(rnodes)] >= 0)
        if not leak.all():
            fail(rn[np.flatnonzero(~leak)[0]], "(resistor) must be a leak from a neuron node to ground")
        G_leak = np.bincount(idx[off_ground(rnodes)], weights=1.0 / rp.get("resistance", np.zeros(0)), minlength=n)
        if (G_leak <= 0).any():
            k = int(np.flatnonzero(G_leak <= 0)[0])
            raise NetlistError(f"{owner}: neuron node {str(names_of[neurons[k]])!r} has no leak resistor to ground")
        I_bias = bias_currents(els, idx, n)
        _, _, v_th, v_reset, t_ref, count = lif_elements(els, idx, n)
        if (count != 1).any():
            k = int(np.flatnonzero(count != 1)[0])
            raise NetlistError(f"{owner}: neuron node {str(names_of[neurons[k]])!r} needs exactly one lif element, "
                               f"has {int(count[k])}")
        # input spike sources: a node of their own against ground
        pn, pnodes, pp = cat("spikes", 2)
        channel_of = np.full(names_of.size, -1)
        if pn.size:
            ch = pp["channel"]
            ok = (pnodes[:, 1] == 0) & (idx[pnodes[:, 0]] < 0) & (pnodes[:, 0] != 0)
            if not ok.all():
                fail(pn[np.flatnonzero(~ok)[0]], "(spikes) must be across an input node of its own (np, not a neuron node) and ground (nn)")
            if (ch != np.round(ch)).any():
                k = int(np.flatnonzero(ch != np.round(ch))[0])
                fail(pn[k], f"(spikes) channel must be an integer >= 0, got {ch[k]}")
            _, first, count = np.unique(pnodes[:, 0], return_index=True, return_counts=True)
            if (count > 1).any():
                fail(pn[first[count > 1][0]], "(spikes) shares its node with another spike source")
            channel_of[pnodes[:, 0]] = ch.astype(np.int64)
        n_inputs = int(pp["channel"].max()) + 1 if pn.size else 0
        yn, ynodes, yp = cat("synapse", 2)
        a, b = (ynodes[:, 0], ynodes[:, 1]) if yn.size else (np.zeros(0, np.int64),) * 2
        ok = ((idx[a] >= 0) | (channel_of[a] >= 0)) & (idx[b] >= 0)
        if not ok.all():
            k = int(np.flatnonzero(~ok)[0])
            fail(yn[k], f"(synapse) must run from a neuron or input node to a neuron node, got {str(names_of[a[k]])!r} -> "
                        f"{str(names_of[b[k]])!r}")
        pre = np.where(idx[a] >= 0, idx[a], -1 - channel_of[a])
        taus, cls_ = np.unique(yp.get("tau", np.zeros(0)), return_inverse=True)
        return cls(C=C, G_leak=G_leak, I_bias=I_bias, v_th=v_th, v_reset=v_reset, t_ref=t_ref, taus=taus,
                   pre=pre.astype(np.int64), post=idx[b].astype(np.int64), cls=cls_.astype(np.int64).ravel(),
                   A=yp.get("A", np.zeros(0)), U=yp.get("U", np.zeros(0)), D=yp.get("D", np.zeros(0)),
                   F=yp.get("F", np.zeros(0)), delay=yp.get("delay", np.zeros(0)), n_inputs=n_inputs,
                   node_names=tuple(names_of[neurons].tolist()))


def _check_stimulus(owner: str, stimulus, duration, n_inputs: int, dt: float):
    """Checked ``(indices, times, duration)``; spikes of one channel within one step ``dt`` merged."""
    duration = Param("real", low=0.0, low_open=True, unit="s").check(owner, "duration", duration)
    try:
        idx, times = stimulus
    except (TypeError, ValueError):
        raise ParameterError(f"{owner}: stimulus must be (indices, times), got {type(stimulus).__name__}") from None
    idx = np.asarray(idx)
    times = np.asarray(times, dtype=float)
    if idx.ndim != 1 or times.shape != idx.shape:
        raise ParameterError(f"{owner}: stimulus indices and times must be 1-D of equal length, got {idx.shape} and {times.shape}")
    if idx.size and (not np.issubdtype(idx.dtype, np.integer) or idx.min() < 0 or idx.max() >= n_inputs):
        raise ParameterError(f"{owner}: stimulus indices must be integers in [0, {n_inputs - 1}] (n_inputs = {n_inputs}), "
                             f"got {idx.min()}..{idx.max()}")
    if times.size and (not np.all(np.isfinite(times)) or times.min() < 0 or times.max() >= duration):
        raise ParameterError(f"{owner}: stimulus times must be in [0, duration = {duration}) s, got {times.min()}..{times.max()}")
    # brian2 allows one spike per channel and time step: merge duplicates (same bin) deterministically
    steps = np.round(times / dt).astype(np.int64)
    key = np.unique(steps * max(n_inputs, 1) + idx.astype(np.int64))
    return key % max(n_inputs, 1), (key // max(n_inputs, 1)) * dt, duration


class SpikingNetwork:
    """A spiking netlist, built once and run per stimulus on brian2 or scipy.

    Parameters
    ----------
    netlist : Netlist or SpikingNetlist
        The description (see the module documentation).
    dt : float
        brian2 time step, s (> 0); input spike times are rounded to it on both engines.
    target : {"auto", "cython", "numpy"}
        brian2 code-generation target.
    prefix : str
        Prefix of the brian2 objects' names (fixed names: a second network of the same structure
        reuses the compiled cython modules).
    v0 : float or array_like, shape (N,), optional
        Initial voltages, V (default 0).

    Examples
    --------
    >>> from neurosim.netlist import Netlist
    >>> net = Netlist("two neurons")
    >>> _ = net.add_capacitors(["Ca", "Cb"], ["a", "b"], "0", 3e-8)
    >>> _ = net.add_resistors(["Ra", "Rb"], ["a", "b"], "0", 1e6)
    >>> _ = net.add_lifs(["La", "Lb"], ["a", "b"], "0", 0.015, 0.0, 2e-3)
    >>> _ = net.add_spike_sources(["P0"], ["in0"], "0", 0)
    >>> _ = net.add_synapses(["Sin", "Sab"], ["in0", "a"], ["a", "b"], [2e-7, 2e-7], 3e-3, delay=[0.0, 1e-3])
    >>> r = SpikingNetwork(net, target="numpy").run(([0], [0.001]), duration=0.02)
    >>> r.i.tolist(), [round(float(t), 4) for t in r.t]
    ([0, 1], [0.0066, 0.0132])
    """

    def __init__(self, netlist, dt: float = 1e-4, target: str = "auto", prefix: str = "spiking", v0=None):
        from neurosim.dynamics._brian import resolve_target

        self.desc = SpikingNetlist.from_netlist(netlist)
        n = self.desc.n
        try:
            self.v0 = np.array(np.broadcast_to(np.asarray(0.0 if v0 is None else v0, dtype=float), (n,)))
        except ValueError:
            raise ParameterError(f"SpikingNetwork: v0 must be a scalar or have shape ({n},), got shape {np.shape(v0)}") from None
        if not np.all(np.isfinite(self.v0)):
            raise ParameterError("SpikingNetwork: v0 must be finite")
        self.dt = Param("real", low=0.0, low_open=True, unit="s").check("SpikingNetwork", "dt", dt)
        self.target = resolve_target(target, "SpikingNetwork")
        self.prefix = str(prefix)
        self._net = None
        self.n_builds = 0

    @property
    def n_neurons(self) -> int:
        return self.desc.n

    def check_stimulus(self, stimulus, duration):
        """The checked stimulus ``(indices, times, duration)`` (see :meth:`run`)."""
        return _check_stimulus("SpikingNetwork.run", stimulus, duration, self.desc.n_inputs, self.dt)

    def run(self, stimulus, duration: float, engine: str = "brian2") -> LiquidResponse:
        """Spikes of the network from its initial state on one stimulus.

        Parameters
        ----------
        stimulus : (indices, times)
            Input spikes: channel indices in [0, n_inputs) and times (s) in [0, duration); spikes of
            one channel within one step ``dt`` are merged, times rounded to the step.
        duration : float
            Simulated time, s.
        engine : {"brian2", "scipy"}

        Raises
        ------
        ParameterError
            Bad stimulus, duration or engine (checked before anything is built or compiled).
        """
        if engine not in ("brian2", "scipy"):
            raise ParameterError(f"SpikingNetwork.run: engine must be 'brian2' or 'scipy', got {engine!r}")
        idx, times, duration = self.check_stimulus(stimulus, duration)
        d = self.desc
        if engine == "scipy":
            i, t = _run_scipy(d, idx, times, duration, self.v0)
        else:
            from neurosim.dynamics._brian import brian2_prefs

            with brian2_prefs(self.target, "SpikingNetwork") as b2:
                if self._net is None:
                    self._build(b2)
                else:
                    self._net.restore("initial")
                if self._inp is not None:
                    self._inp.set_spikes(idx, times * b2.second)
                self._net.run(duration * b2.second, namespace={})
                i = np.asarray(self._mon.i[:], dtype=np.int64)
                t = np.asarray(self._mon.t[:] / b2.second, dtype=float)
        order = np.lexsort((i, t))
        return LiquidResponse(i[order], t[order], d.n, duration)

    # ------------------------------------------------------------------ brian2
    def _build(self, b2) -> None:
        d, u, p = self.desc, b2.units, self.prefix
        K = d.taus.size
        currents = " + ".join(f"J_{k}" for k in range(K)) or "0*amp"
        # a parameter shared by all neurons is a namespace constant (brian2 hoists it out of the loop over
        # neurons: the exact update's exponentials are then computed once per step, not per neuron)
        params = {"G_L": (d.G_leak, "siemens"), "I_b": (d.I_bias, "amp"), "C_m": (d.C, "farad"),
                  "v_th": (d.v_th, "volt"), "v_re": (d.v_reset, "volt"), "ref": (d.t_ref, "second")}
        shared = {k: bool(np.all(v == v[0])) for k, (v, _) in params.items()}
        ns = {f"tau_{k}": float(t) * u.second for k, t in enumerate(d.taus)}
        ns.update({k: float(v[0]) * getattr(u, unit) for k, (v, unit) in params.items() if shared[k]})
        eqs = "\n".join([f"dv/dt = (-G_L*v + I_b + {currents})/C_m : volt (unless refractory)"]
                        + [f"dJ_{k}/dt = -J_{k}/tau_{k} : amp" for k in range(K)]
                        + [f"{k} : {unit} (constant)" for k, (_, unit) in params.items() if not shared[k]])
        clock = b2.Clock(dt=self.dt * u.second)
        # brian2's exact solution of the linear system divides by 1/tau_m - 1/tau_k: when a membrane time
        # constant C/G equals a synaptic one it silently returns a wrong voltage (found by the tests), so
        # then RK4 (relative error ~ (dt/tau)^4 per step)
        tau_m = d.C / d.G_leak
        degenerate = bool(d.taus.size) and bool(np.any(np.abs(tau_m[:, None] / d.taus[None, :] - 1.0) < 1e-6))
        G = b2.NeuronGroup(d.n, eqs, threshold="v > v_th", reset="v = v_re", refractory="ref",
                           method="rk4" if degenerate else "exact", namespace=ns, clock=clock, name=f"{p}_neurons")
        G.v = self.v0 * u.volt
        for k, (v, unit) in params.items():
            if not shared[k]:
                setattr(G, k, v * getattr(u, unit))
        static = (d.D == 0) & (d.F == 0)
        inp = None
        if d.n_inputs:
            inp = b2.SpikeGeneratorGroup(d.n_inputs, np.array([], dtype=int), np.array([]) * u.second, clock=clock,
                                          name=f"{p}_input")
        objs = [G]
        # one Synapses per source (neurons, inputs) and kind (dynamic, static), in the network in this order
        for from_inputs, dyn, name in ((False, True, "synapses"), (False, False, "static_synapses"),
                                       (True, False, "input_synapses"), (True, True, "input_dynamic_synapses")):
            if from_inputs and inp is not None and objs[-1] is not inp:
                objs.append(inp)
            sel = np.flatnonzero(((d.pre < 0) == from_inputs) & (static != dyn))
            if not sel.size:
                continue
            add = "\n".join(f"J_{k}_post += {f'int(k_syn == {k})*' if K > 1 else ''}A*{'u*R' if dyn else 'U'}"
                            for k in range(K))
            if dyn:
                model = ("A : amp (constant)\nU : 1 (constant)\nD : second (constant)\nF : second (constant)\n"
                         "k_syn : integer (constant)\nu : 1\nR : 1\ntlast : second")
                on_pre = ("R = 1 + (R - u*R - 1)*exp(-(t - tlast)/D)\nu = U + u*(1 - U)*exp(-(t - tlast)/F)\n"
                          f"{add}\ntlast = t")
            else:
                model, on_pre = "A : amp (constant)\nU : 1 (constant)\nk_syn : integer (constant)", add
            S = b2.Synapses(inp if from_inputs else G, G, model, on_pre=on_pre, clock=clock, name=f"{p}_{name}")
            S.connect(i=-1 - d.pre[sel] if from_inputs else d.pre[sel], j=d.post[sel])
            S.A, S.U, S.k_syn = d.A[sel] * u.amp, d.U[sel], d.cls[sel]
            if dyn:
                # exp(-Delta/0) = 0: a D or F of 0 enters as 1e-300 s, so that Delta/D (Delta <= 1e4 s) stays
                # finite and exp underflows quietly to 0
                S.D, S.F = np.maximum(d.D[sel], 1e-300) * u.second, np.maximum(d.F[sel], 1e-300) * u.second
                S.u, S.R, S.tlast = d.U[sel], 1.0, _T_NEVER * u.second
            S.delay = d.delay[sel] * u.second
            objs.append(S)
        mon = b2.SpikeMonitor(G, name=f"{p}_spikes")
        self._net = b2.Network(*objs, mon)
        self._inp, self._mon = inp, mon
        self._net.store("initial")
        self.n_builds += 1


# ---------------------------------------------------------------------- scipy (event-driven)
def _run_scipy(d: SpikingNetlist, idx, times, duration: float, v0, rtol: float = 1e-10, atol: float = 1e-14):
    """Event-driven integration of the spiking netlist in continuous time (see the module documentation).

    State ``z = [v (N), J (N, K)]``; between events ``solve_ivp`` (RK45) with each free neuron's
    threshold crossing as a terminal event; deliveries (input spikes and neuron spikes, ``delay``
    later) are applied in time order, the synapses of one source and delay together, each updating
    its own u, R from the time since its previous delivery."""
    n, K = d.n, d.taus.size
    inv_tau = 1.0 / d.taus
    z = np.concatenate([v0, np.zeros(n * K)])
    u_s, R_s, last = d.U.copy(), np.ones(d.A.size), np.full(d.A.size, -np.inf)
    target = n + d.post * K + d.cls  # index in z of the current each synapse feeds
    # the synapses of each source (neurons 0..n-1, then the input channels) grouped by delay, so that a
    # spike schedules one delivery per distinct delay and a delivery updates its synapses together
    src = np.where(d.pre >= 0, d.pre, n - 1 - d.pre)
    order = np.lexsort((d.delay, src))
    bounds = np.searchsorted(src[order], np.arange(n + d.n_inputs + 1))
    fanout = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        syn = order[a:b]
        delays, first = np.unique(d.delay[syn], return_index=True)
        fanout.append(list(zip(delays.tolist(), np.split(syn, first[1:]))))
    queue: list = []  # (arrival time, sequence number: first come first served on ties, synapse indices)
    seq = itertools.count()

    def schedule(source: int, t_spike: float) -> None:
        for delay, syn in fanout[source]:
            heapq.heappush(queue, (t_spike + delay, next(seq), syn))
    until = np.full(n, -np.inf)
    spikes_i, spikes_t = [], []
    for c, ts in zip(idx.tolist(), times.tolist()):
        schedule(n + c, ts)
    t = 0.0

    def rhs(_t, zz, frozen):
        v, J = zz[:n], zz[n:].reshape(n, K)
        dv = (-d.G_leak * v + d.I_bias + J.sum(axis=1)) / d.C
        dv[frozen] = 0.0
        return np.concatenate([dv, (-J * inv_tau).ravel()])

    while t < duration:
        nxt = queue[0][0] if queue else np.inf
        frozen = until > t
        stop = min(duration, nxt, float(until[frozen].min()) if frozen.any() else np.inf)
        free = ~frozen
        if stop > t:
            def event(_t, zz, _frozen, free=free):
                return float(np.max(zz[:n][free] - d.v_th[free])) if free.any() else -1.0
            event.terminal, event.direction = True, 1.0
            sol = solve_ivp(rhs, (t, stop), z, method="RK45", rtol=rtol, atol=atol, events=event, args=(frozen,))
            if not sol.success:
                raise RuntimeError(f"SpikingNetwork (scipy): solve_ivp failed: {sol.message}")
            z, t = sol.y[:, -1].copy(), float(sol.t[-1])
            if sol.status == 1:  # threshold crossing(s)
                over = z[:n] - d.v_th
                fired = np.flatnonzero(free & (over >= min(over[free].max(), 0.0) - 1e-12))
                z[fired] = d.v_reset[fired]
                until[fired] = t + d.t_ref[fired]
                for j in fired.tolist():
                    spikes_i.append(j)
                    spikes_t.append(t)
                    schedule(j, t)
                continue
        else:
            t = stop
        while queue and queue[0][0] <= t:  # deliveries due now, a source's synapses of one delay at a time
            syn = heapq.heappop(queue)[2]
            gap = t - last[syn]
            with np.errstate(divide="ignore"):
                R_s[syn] = 1.0 + (R_s[syn] - u_s[syn] * R_s[syn] - 1.0) * np.exp(-gap / d.D[syn])
                u_s[syn] = d.U[syn] + u_s[syn] * (1.0 - d.U[syn]) * np.exp(-gap / d.F[syn])
            last[syn] = t
            np.add.at(z, target[syn], d.A[syn] * u_s[syn] * R_s[syn])
    return np.array(spikes_i, np.int64), np.array(spikes_t)
