r"""Liquid state machine on brian2 (Maass, Natschläger & Markram 2002, *Neural Computation* 14:2531).

A column of leaky integrate-and-fire neurons on a 3-D integer grid, joined by dynamic
(Markram--Tsodyks) synapses, driven by input spike trains; a linear readout is trained by ridge
regression on the exponentially filtered liquid spike trains.

.. math::

    \tau_m \frac{dV}{dt} = -V + R_{in}\,(I_b + I_e + I_i + I_{in}), \qquad
    \tau_{e} \frac{dI_e}{dt} = -I_e,\quad \tau_{i} \frac{dI_i}{dt} = -I_i

with a spike when :math:`V \ge V_{th}`, then :math:`V \leftarrow V_{reset}` for the refractory
period. A synapse between neurons at grid distance :math:`D` exists with probability
:math:`C \exp(-(D/\lambda)^2)`. At the :math:`n`-th presynaptic spike (interval
:math:`\Delta_{n-1}` since the previous one) it adds :math:`A\,u_n R_n` to the postsynaptic current,

.. math::

    u_n = U + u_{n-1}(1-U)e^{-\Delta_{n-1}/F}, \qquad
    R_n = 1 + (R_{n-1} - u_{n-1}R_{n-1} - 1)e^{-\Delta_{n-1}/D}, \qquad u_1 = U,\ R_1 = 1.

Defaults, **from the paper**: grid 15x3x3, 20 % inhibitory neurons placed at random,
:math:`\lambda = 2`, :math:`C` = 0.3 (EE), 0.2 (EI), 0.4 (IE), 0.1 (II); mean :math:`U, D, F`
= (0.5, 1.1 s, 0.05 s) EE, (0.05, 0.125 s, 1.2 s) EI, (0.25, 0.7 s, 0.02 s) IE,
(0.32, 0.144 s, 0.06 s) II, each drawn from a Gaussian with SD 50 % of the mean (kept positive);
strengths :math:`A` from a Gamma distribution with mean 30 / 60 / -19 / -19 nA (EE/EI/IE/II) and
SD 100 % of the mean; input strengths 18 nA (to E) and 9 nA (to I); delays 1.5 ms (EE) and 0.8 ms
(others); :math:`\tau_m` = 30 ms, :math:`V_{th}` = 15 mV, :math:`V_{reset}` = 13.5 mV,
:math:`R_{in}` = 1 MOhm, refractory 3 ms (E) / 2 ms (I), background current uniform in
[13.5, 14.5] nA, initial :math:`V` uniform in [13.5, 15] mV, synaptic time constants 3 ms
(excitatory) and 6 ms (inhibitory).

**Our choices** (not fixed by the paper): each input channel projects to every liquid neuron with
probability ``p_in`` = 0.3 through static synapses; the integration step is 0.1 ms; the
readout kernel is evaluated on a grid of step ``dt``.

The liquid is a netlist (:meth:`LiquidStateMachine.netlist`: capacitor, leak, bias and
threshold-and-reset element per neuron, one spike-driven synapse element per connection, a spike
source per input channel) run by :class:`~neurosim.dynamics.spiking.SpikingNetwork`, on brian2 or on
the event-driven scipy engine (``run(..., engine="scipy")``). On brian2 it is built (and, for the
cython target, compiled) once, stored, and each stimulus is a ``restore`` plus ``run``: ten stimuli
cost one build. All randomness (grid, connectivity,
parameters, initial state) is drawn with numpy from ``seed`` before brian2 sees the network, so the
same seed gives bit-identical spikes on every target. The brian2 objects have fixed names
(``lsm_neurons``, ``lsm_synapses``, ...), so the generated code is the same for every liquid and a
new instance reuses the compiled cython modules from the cache instead of recompiling.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from neurosim.dynamics.spiking import LiquidResponse, SpikingNetwork
from neurosim.errors import ParameterError
from neurosim.params import Param, check_params
from neurosim.seeding import check_seed, rng as make_rng

__all__ = ["LiquidStateMachine", "LiquidResponse", "poisson_encode", "latency_encode", "filtered_states", "TSODYKS_MARKRAM_2002"]

#: (U, D [s], F [s]) per connection type, Maass, Natschläger & Markram 2002.
TSODYKS_MARKRAM_2002 = {
    "EE": (0.5, 1.1, 0.05),
    "EI": (0.05, 0.125, 1.2),
    "IE": (0.25, 0.7, 0.02),
    "II": (0.32, 0.144, 0.06),
}
_TYPES = ("EE", "EI", "IE", "II")

_PARAMS = {
    "frac_inh": Param("real", low=0.0, high=1.0, high_open=True),
    "lam": Param("real", low=0.0, low_open=True),
    "tau_m": Param("real", low=0.0, low_open=True, unit="s"),
    "tau_e": Param("real", low=0.0, low_open=True, unit="s"),
    "tau_i": Param("real", low=0.0, low_open=True, unit="s"),
    "v_thresh": Param("real", unit="V"),
    "v_reset": Param("real", unit="V"),
    "r_in": Param("real", low=0.0, low_open=True, unit="ohm"),
    "refractory_e": Param("real", low=0.0, unit="s"),
    "refractory_i": Param("real", low=0.0, unit="s"),
    "delay_ee": Param("real", low=0.0, unit="s"),
    "delay_other": Param("real", low=0.0, unit="s"),
    "p_in": Param("real", low=0.0, high=1.0),
    "n_inputs": Param("int", low=1),
    "dt": Param("real", low=0.0, low_open=True, unit="s"),
    "param_sd": Param("real", low=0.0),
    "weight_scale": Param("real", low=0.0),
}


def poisson_encode(rates, dt: float, seed=None):
    r"""Poisson spike trains from analog rates: a spike in bin ``k`` of channel ``c`` with probability
    :math:`1 - e^{-r_{kc}\,\Delta t}`, at the bin's start time.

    Parameters
    ----------
    rates : array_like, shape (T, n_channels)
        Firing rates, Hz (>= 0), held for ``dt`` each.
    dt : float
        Bin width, s (> 0).
    seed : int or SeedSequence, optional

    Returns
    -------
    (indices, times) : (ndarray of int, ndarray of float)
        Channel and time (s) of each spike, sorted by time.

    Examples
    --------
    >>> i, t = poisson_encode(np.full((1000, 1), 50.0), 1e-3, seed=0)
    >>> 30 < len(t) < 70
    True
    """
    dt = Param("real", low=0.0, low_open=True, unit="s").check("poisson_encode", "dt", dt)
    r = np.asarray(rates, dtype=float)
    if r.ndim != 2 or not np.all(np.isfinite(r)) or np.any(r < 0):
        raise ParameterError(f"poisson_encode: rates must be a finite, non-negative (T, n_channels) array, got shape {r.shape}")
    seed = check_seed("poisson_encode", seed)
    u = make_rng(seed, "poisson_encode").random(r.shape)
    k, c = np.nonzero(u < -np.expm1(-r * dt))
    return c.astype(np.int64), k * dt


def latency_encode(values, t_max: float, threshold: float = 0.0, t0: float = 0.0):
    r"""Time-to-first-spike (latency) code for analog inputs: one spike per channel, earlier for a
    larger value; no spike at or below ``threshold``.

    For a value :math:`x_c \in [0, 1]` of channel :math:`c`,

    .. math::

        t_c = t_0 + t_{max}\,\frac{1 - x_c}{1 - \theta} \quad (x_c > \theta), \qquad
        \text{no spike} \quad (x_c \le \theta),

    so :math:`x = 1` fires at :math:`t_0` and a value just above the threshold :math:`\theta` at
    :math:`t_0 + t_{max}` (linear in :math:`x`; Thorpe & Gautrais 1998 rank/latency coding).
    Scale inputs to [0, 1] first.

    Parameters
    ----------
    values : array_like, shape (n_channels,)
        Analog values in [0, 1].
    t_max : float
        Latency of a value just above the threshold, s (> 0).
    threshold : float
        :math:`\theta` in [0, 1): values at or below it emit no spike.
    t0 : float
        Time of the spike of value 1, s (>= 0).

    Returns
    -------
    (indices, times) : (ndarray of int, ndarray of float)
        Channel and time (s) of each spike, sorted by time (then channel); accepted as a stimulus by
        :meth:`LiquidStateMachine.run` with ``duration > t0 + t_max``.

    Examples
    --------
    >>> i, t = latency_encode([1.0, 0.5, 0.0, 0.75], t_max=0.02)
    >>> i.tolist(), [round(float(x), 6) for x in t]
    ([0, 3, 1], [0.0, 0.005, 0.01])
    """
    owner = "latency_encode"
    t_max = Param("real", low=0.0, low_open=True, unit="s").check(owner, "t_max", t_max)
    threshold = Param("real", low=0.0, high=1.0, high_open=True).check(owner, "threshold", threshold)
    t0 = Param("real", low=0.0, unit="s").check(owner, "t0", t0)
    x = np.asarray(values, dtype=float)
    if x.ndim != 1 or not np.all(np.isfinite(x)) or (x.size and (x.min() < 0 or x.max() > 1)):
        raise ParameterError(f"{owner}: values must be a finite 1-D array in [0, 1], got shape {x.shape}"
                             + (f" and range {x.min()}..{x.max()}" if x.size and np.all(np.isfinite(x)) else ""))
    c = np.nonzero(x > threshold)[0]
    t = t0 + t_max * (1.0 - x[c]) / (1.0 - threshold)
    order = np.lexsort((c, t))
    return c[order].astype(np.int64), t[order]


def filtered_states(response: LiquidResponse, times, tau: float = 0.03, dt: float = 1e-4) -> np.ndarray:
    r"""Liquid states: each neuron's spike train filtered by :math:`e^{-t/\tau}`, sampled at ``times``.

    .. math::

        x_j(t) = \sum_{t_s \le t} e^{-(t - t_s)/\tau}

    Spikes are binned on a grid of step ``dt`` (rounded up to the bin end), so the value is exact up
    to a time shift of at most ``dt``.

    Parameters
    ----------
    response : LiquidResponse
    times : array_like
        Sample times, s, in [0, duration].
    tau : float
        Kernel time constant, s (> 0); the paper's 30 ms.
    dt : float
        Grid step, s (> 0).

    Returns
    -------
    ndarray, shape (len(times), n_neurons)

    Examples
    --------
    >>> r = LiquidResponse(np.array([0]), np.array([0.0]), 1, 0.1)
    >>> round(float(filtered_states(r, [0.03])[0, 0]), 3)    # e^-1
    0.368
    """
    tau = Param("real", low=0.0, low_open=True, unit="s").check("filtered_states", "tau", tau)
    dt = Param("real", low=0.0, low_open=True, unit="s").check("filtered_states", "dt", dt)
    ts = np.atleast_1d(np.asarray(times, dtype=float))
    if np.any(ts < 0) or np.any(ts > response.duration + 1e-12) or not np.all(np.isfinite(ts)):
        raise ParameterError(f"filtered_states: times must be in [0, {response.duration}] s, got {ts.min()}..{ts.max()}")
    n_bins = int(np.ceil(response.duration / dt - 1e-9)) + 1
    counts = np.zeros((n_bins, response.n_neurons))
    b = np.minimum(np.ceil(response.t / dt - 1e-9).astype(np.int64), n_bins - 1)
    np.add.at(counts, (b, response.i), 1.0)
    x = lfilter([1.0], [1.0, -np.exp(-dt / tau)], counts, axis=0)
    return x[np.minimum(np.round(ts / dt).astype(np.int64), n_bins - 1)]


def _gamma(g: np.random.Generator, mean: np.ndarray, sd_frac: float) -> np.ndarray:
    """Gamma samples with the given (signed) means and SD = sd_frac * |mean|."""
    if sd_frac == 0:
        return mean.astype(float)
    k = 1.0 / sd_frac**2
    return np.sign(mean) * g.gamma(k, np.abs(mean) / k)


class LiquidStateMachine:
    r"""A LIF liquid of Maass, Natschläger & Markram (2002) on brian2, built once, run per stimulus.

    See the module documentation for the equations and which defaults come from the paper.

    Parameters
    ----------
    shape : tuple of 3 int
        Grid size (15, 3, 3).
    n_inputs : int
        Number of input spike channels.
    frac_inh : float
        Fraction of inhibitory neurons, in [0, 1).
    lam : float
        Connection length scale :math:`\lambda` (grid units), > 0.
    C : tuple of 4 float
        Connection scale for EE, EI, IE, II, each in [0, 1].
    tau_m, tau_e, tau_i : float
        Membrane and synaptic time constants, s (> 0).
    v_thresh, v_reset : float
        Threshold and reset, V (reset < threshold).
    r_in : float
        Input resistance, ohm.
    refractory_e, refractory_i : float
        Refractory periods, s.
    delay_ee, delay_other : float
        Transmission delays, s.
    p_in : float
        Probability that an input channel projects to a given liquid neuron.
    dt : float
        Integration step, s.
    param_sd : float
        Relative SD of U, D, F (Gaussian) and of A (Gamma); 0 gives the means.
    weight_scale : float
        Multiplies all recurrent strengths (1: the paper's).
    seed : int or SeedSequence
    target : {"auto", "cython", "numpy"}
        brian2 code-generation target.

    Examples
    --------
    >>> lsm = LiquidStateMachine(shape=(3, 3, 3), seed=1, target="numpy")
    >>> r = lsm.run(([0, 0], [0.001, 0.002]), duration=0.02)
    >>> r.n_neurons
    27
    """

    def __init__(self, shape=(15, 3, 3), n_inputs: int = 1, frac_inh: float = 0.2, lam: float = 2.0,
                 C=(0.3, 0.2, 0.4, 0.1), tau_m: float = 0.03, tau_e: float = 0.003, tau_i: float = 0.006,
                 v_thresh: float = 0.015, v_reset: float = 0.0135, r_in: float = 1e6,
                 refractory_e: float = 0.003, refractory_i: float = 0.002, delay_ee: float = 1.5e-3,
                 delay_other: float = 0.8e-3, p_in: float = 0.3, dt: float = 1e-4, param_sd: float = 0.5,
                 weight_scale: float = 1.0, seed=0, target: str = "auto"):
        owner = "LiquidStateMachine"
        vals = check_params(owner, _PARAMS, dict(
            frac_inh=frac_inh, lam=lam, tau_m=tau_m, tau_e=tau_e, tau_i=tau_i, v_thresh=v_thresh,
            v_reset=v_reset, r_in=r_in, refractory_e=refractory_e, refractory_i=refractory_i,
            delay_ee=delay_ee, delay_other=delay_other, p_in=p_in, n_inputs=n_inputs, dt=dt,
            param_sd=param_sd, weight_scale=weight_scale))
        if vals["v_reset"] >= vals["v_thresh"]:
            raise ParameterError(f"{owner}: v_reset must be < v_thresh = {vals['v_thresh']} V, got {vals['v_reset']}")
        shape = tuple(shape)
        if len(shape) != 3 or not all(isinstance(s, (int, np.integer)) and s >= 1 for s in shape):
            raise ParameterError(f"{owner}: shape must be 3 positive integers, got {shape!r}")
        C = tuple(float(c) for c in C)
        if len(C) != 4 or not all(0.0 <= c <= 1.0 for c in C):
            raise ParameterError(f"{owner}: C must be 4 numbers in [0, 1] (EE, EI, IE, II), got {C!r}")
        from neurosim.dynamics._brian import resolve_target

        self.target = resolve_target(target, owner)
        self.seed = check_seed(owner, seed)
        self.shape, self.C = shape, C
        self.__dict__.update(vals)
        self.n_neurons = int(np.prod(shape))
        self._draw()
        self._net = None

    # ------------------------------------------------------------------ structure (numpy only)
    def _draw(self) -> None:
        g = make_rng(self.seed, "LiquidStateMachine")
        n = self.n_neurons
        pos = np.stack(np.unravel_index(np.arange(n), self.shape), axis=1).astype(float)
        n_inh = int(round(self.frac_inh * n))
        inh = np.zeros(n, bool)
        inh[g.choice(n, n_inh, replace=False)] = True
        d2 = ((pos[:, None, :] - pos[None, :, :]) ** 2).sum(-1)
        kind = 2 * inh[:, None] + inh[None, :]  # 0 EE, 1 EI, 2 IE, 3 II (pre, post)
        p = np.asarray(self.C)[kind] * np.exp(-d2 / self.lam**2)
        np.fill_diagonal(p, 0.0)
        pre, post = np.nonzero(g.random((n, n)) < p)
        k = kind[pre, post]
        udf = np.array([TSODYKS_MARKRAM_2002[t] for t in _TYPES])[k]
        udf = np.abs(udf * (1.0 + self.param_sd * g.standard_normal(udf.shape)))
        udf[:, 0] = np.clip(udf[:, 0], 1e-3, 1.0)
        udf[:, 1:] = np.maximum(udf[:, 1:], 1e-3)
        A = _gamma(g, np.array([30e-9, 60e-9, -19e-9, -19e-9])[k], self.param_sd) * self.weight_scale
        self.positions, self.inhibitory = pos, inh
        self.pre, self.post = pre, post
        self.U, self.D, self.F = udf.T
        self.A = A
        self.delay = np.where(k == 0, self.delay_ee, self.delay_other)
        ic, ij = np.nonzero(g.random((self.n_inputs, n)) < self.p_in)
        self.in_pre, self.in_post = ic, ij
        self.A_in = _gamma(g, np.where(inh[ij], 9e-9, 18e-9), self.param_sd)
        self.i_b = g.uniform(13.5e-9, 14.5e-9, n)
        self.v0 = g.uniform(13.5e-3, 15e-3, n)

    # ------------------------------------------------------------------ the liquid as a netlist
    def netlist(self):
        r"""The liquid as a :class:`~neurosim.netlist.Netlist` of :mod:`neurosim.dynamics.spiking`.

        Neuron ``i`` on node ``n<i>``: capacitor ``C<i>`` (:math:`\tau_m / R_{in}`), leak ``RL<i>``
        (:math:`R_{in}`), bias ``IB<i>`` (:math:`I_b`), threshold-and-reset ``L<i>``; input channel ``c``
        on node ``in<c>`` (spike source ``P<c>``); dynamic synapses ``S<k>`` (current time constant
        ``tau_e`` from excitatory, ``tau_i`` from inhibitory neurons) and static input synapses
        ``Sin<k>`` (``tau_e``).
        """
        from neurosim.netlist import Netlist

        n = self.n_neurons
        node = np.char.add("n", np.arange(n).astype(str))
        num = lambda prefix, k: np.char.add(prefix, np.arange(k).astype(str))  # noqa: E731
        net = Netlist("liquid state machine (Maass, Natschlaeger & Markram 2002)")
        net.add_capacitors(num("C", n), node, "0", self.tau_m / self.r_in)
        net.add_resistors(num("RL", n), node, "0", self.r_in)
        net.add_isources(num("IB", n), "0", node, dc=self.i_b)
        net.add_lifs(num("L", n), node, "0", self.v_thresh, self.v_reset,
                     np.where(self.inhibitory, self.refractory_i, self.refractory_e))
        inputs = num("in", self.n_inputs)
        net.add_spike_sources(num("P", self.n_inputs), inputs, "0", np.arange(self.n_inputs))
        net.add_synapses(num("S", self.pre.size), node[self.pre], node[self.post], self.A,
                         np.where(self.inhibitory[self.pre], self.tau_i, self.tau_e), self.delay, self.U, self.D, self.F)
        net.add_synapses(num("Sin", self.in_pre.size), inputs[self.in_pre], node[self.in_post], self.A_in, self.tau_e)
        return net

    def network(self) -> SpikingNetwork:
        """The :class:`~neurosim.dynamics.spiking.SpikingNetwork` that runs :meth:`netlist` (built once;
        brian2 objects named ``lsm_*``, so every liquid of the same structure reuses the compiled code)."""
        if self._net is None:
            self._net = SpikingNetwork(self.netlist(), dt=self.dt, target=self.target, prefix="lsm", v0=self.v0)
        return self._net

    @property
    def n_builds(self) -> int:
        """How many times the brian2 network was built (once per liquid)."""
        return 0 if self._net is None else self._net.n_builds

    def run(self, stimulus, duration: float, engine: str = "brian2") -> LiquidResponse:
        """Run the liquid from its initial state on one stimulus.

        Parameters
        ----------
        stimulus : (indices, times)
            Input spikes: channel indices in [0, n_inputs) and times (s) in [0, duration);
            spikes of one channel within one step ``dt`` are merged.
        duration : float
            Simulated time, s.
        engine : {"brian2", "scipy"}
            brian2 (built once, restored per stimulus) or the event-driven scipy reference
            (:class:`~neurosim.dynamics.spiking.SpikingNetwork`).

        Returns
        -------
        LiquidResponse

        Raises
        ------
        ParameterError
            Bad stimulus or duration (checked before anything is built or compiled).
        """
        return self.network().run(stimulus, duration, engine=engine)

    def run_many(self, stimuli, duration: float) -> list[LiquidResponse]:
        """:meth:`run` on each stimulus (all checked first); the network is built once."""
        net = self.network()
        for s in stimuli:
            net.check_stimulus(s, duration)
        return [net.run(s, duration) for s in stimuli]
