r"""Memristive STDP synapse: a device's pulse response driven by overlapping pre/post spike pulses.

Each spike launches a programming pulse whose tail decays as :math:`e^{-s/\tau}`. When a postsynaptic
spike arrives while the presynaptic tail has amplitude :math:`a_{pre}`, the device receives a
potentiating pulse of relative strength :math:`a_{pre}`; a presynaptic spike during a postsynaptic
tail gives a depressing pulse of strength :math:`a_{post}` (nearest-neighbour pairing: a spike
resets its own tail to 1). With the device's own one-pulse response :math:`\Delta G_\pm(G)` (for a
:class:`~neurosim.devices.SoftBoundsDevice`,
:math:`\Delta G_+ = \alpha_+ (G_{max}-G_{min}) \big(\frac{G_{max}-G}{G_{max}-G_{min}}\big)^{\gamma_+}`,
:math:`\Delta G_- = -\alpha_- (G_{max}-G_{min}) \big(\frac{G-G_{min}}{G_{max}-G_{min}}\big)^{\gamma_-}`):

.. math::

    \Delta G(\Delta t) = \begin{cases}
        \Delta G_+(G)\, e^{-\Delta t/\tau_{pre}} & \Delta t = t_{post} - t_{pre} > 0 \\
        \Delta G_-(G)\, e^{\Delta t/\tau_{post}} & \Delta t < 0
    \end{cases}

and :math:`G` is clipped to :math:`[G_{min}, G_{max}]`. The STDP window's sign comes from the pulse
order, its size and its dependence on the present conductance (soft bounds, asymmetry) from the
device card. The brian2 synapse (:meth:`MemristiveSTDP.brian2_synapses`) is generated from the same
parameters; the postsynaptic current per presynaptic spike is :math:`G\, v_{read}` when a target
variable is given.

**Device non-idealities** (``nonidealities=``, e.g. a card's ``DeviceCard.nonidealities``): a
:class:`~neurosim.devices.DeviceToDeviceVariability` (stage ``model``) gives every synapse its own
device parameters, :math:`p_k = p\,e^{\sigma z_k - \sigma^2/2}` (drawn by :meth:`MemristiveSTDP.synapse_devices`
from ``derive(seed, "MemristiveSTDP", "d2d")``); a :class:`~neurosim.devices.CycleToCycleNoise`
(stage ``program``) multiplies every update by :math:`1 + \sigma z` with a fresh :math:`z` per event
(:meth:`~MemristiveSTDP.pair_delta` from ``derive(seed, "MemristiveSTDP", "c2c")``, brian2 from its
``randn()`` seeded by ``seed``). Other stages are refused. Same seed, same draws.
"""

from __future__ import annotations

import numpy as np

from neurosim.errors import ParameterError
from neurosim.params import Param
from neurosim.seeding import check_seed, derive, rng as make_rng

__all__ = ["MemristiveSTDP"]

_TAU = Param("real", low=0.0, low_open=True, unit="s")
_SPREAD = ("G_min", "G_max", "alpha_up", "alpha_down", "gamma_up", "gamma_down")
_B2_NAME = {"G_min": "g_min", "G_max": "g_max", "alpha_up": "alpha_up", "alpha_down": "alpha_down",
            "gamma_up": "gamma_up", "gamma_down": "gamma_down"}


class MemristiveSTDP:
    r"""STDP from a conductance device's pulse response (see the module documentation).

    Parameters
    ----------
    device : SoftBoundsDevice
        The device model (e.g. ``load_device("rram_softbounds_gong2018")``); other device families
        have no pulse response and are refused.
    tau_pre, tau_post : float
        Decay times of the pre- and postsynaptic pulse tails, s (> 0).
    v_read : float
        Read voltage, V: a presynaptic spike injects :math:`G v_{read}` (A) into the target variable.
    nonidealities : sequence, optional
        Non-ideality objects of stage ``model`` (device-to-device variability of the device's
        parameters) and ``program`` (cycle-to-cycle noise on every update), e.g. a device card's
        ``nonidealities``.

    Examples
    --------
    >>> from neurosim.devices import SoftBoundsDevice
    >>> s = MemristiveSTDP(SoftBoundsDevice(G_min=1e-6, G_max=1e-5, alpha_up=0.1, alpha_down=0.1))
    >>> round(float(s.pair_delta(5e-6, 0.0)), 12)    # simultaneous: one full pulse, 0.1 * (1e-5 - 5e-6)
    5e-07
    """

    def __init__(self, device, tau_pre: float = 0.02, tau_post: float = 0.02, v_read: float = 0.1,
                 nonidealities=()):
        owner = "MemristiveSTDP"
        from neurosim.devices.conductance import SoftBoundsDevice

        if not isinstance(device, SoftBoundsDevice):
            raise ParameterError(
                f"{owner}: device must be a SoftBoundsDevice (a device family with a pulse response), "
                f"got {type(device).__name__}"
            )
        for name in ("G_min", "G_max", "alpha_up", "alpha_down", "gamma_up", "gamma_down"):
            if np.ndim(getattr(device, name)) != 0:
                raise ParameterError(f"{owner}: device.{name} must be a scalar for a synapse population, got shape {np.shape(getattr(device, name))}")
        self.device = device
        self.tau_pre = _TAU.check(owner, "tau_pre", tau_pre)
        self.tau_post = _TAU.check(owner, "tau_post", tau_post)
        self.v_read = Param("real", unit="V").check(owner, "v_read", v_read)
        from neurosim.devices.nonideal import NonIdealities

        items = tuple(nonidealities.items if isinstance(nonidealities, NonIdealities) else nonidealities)
        ni = NonIdealities(items)
        bad = [type(it).__name__ for it in ni.items if it.stage not in ("model", "program")]
        if bad:
            raise ParameterError(f"{owner}: nonidealities must be of stage 'model' (device-to-device) or 'program' "
                                 f"(cycle-to-cycle) for a synapse, got {', '.join(bad)}")
        for it in ni.of("model"):
            unknown = [p for p in getattr(it, "params", ()) if p not in _SPREAD]
            if unknown:
                raise ParameterError(f"{owner}: device-to-device params must be among {', '.join(_SPREAD)}, got {unknown}")
        self.nonidealities = ni
        # the parameters that differ between synapses (per-synapse brian2 variables)
        self._spread = tuple(p for p in _SPREAD if any(p in getattr(it, "params", ()) for it in ni.of("model")))
        self._c2c = float(np.sqrt(np.sum([it.sigma**2 for it in ni.of("program")])))  # one Gaussian factor
        if any(type(it).__name__ != "CycleToCycleNoise" for it in ni.of("program")):
            raise ParameterError(f"{owner}: 'program' nonidealities must be CycleToCycleNoise, got "
                                 f"{[type(it).__name__ for it in ni.of('program')]}")

    def synapse_devices(self, shape, seed=None):
        r"""The device with per-synapse parameters of ``shape`` drawn by the ``model``-stage non-idealities.

        Without device-to-device variability, the nominal device. Same ``seed`` -> same devices.

        Examples
        --------
        >>> from neurosim.devices import SoftBoundsDevice, DeviceToDeviceVariability
        >>> s = MemristiveSTDP(SoftBoundsDevice(), nonidealities=[DeviceToDeviceVariability(0.2, ("alpha_up",))])
        >>> s.synapse_devices((3,), seed=1).alpha_up.shape
        (3,)
        """
        seed = check_seed("MemristiveSTDP", seed)
        if not self._spread:
            return self.device
        return self.nonidealities.model(self.device, tuple(np.atleast_1d(shape)) if np.ndim(shape) else (int(shape),),
                                        make_rng(seed, "MemristiveSTDP", "d2d"))

    def pair_delta(self, G0, dt, seed=None) -> np.ndarray:
        r"""Closed-form conductance change of one pre/post pair, :math:`\Delta t = t_{post} - t_{pre}` (s).

        ``dt = 0`` counts as pre-before-post. Vectorised over ``G0`` and ``dt`` (broadcast); with
        non-idealities, each element is one synapse (devices from :meth:`synapse_devices` with
        ``seed``, cycle-to-cycle factors :math:`1 + \sigma z` from ``derive(seed, "MemristiveSTDP", "c2c")``).
        """
        G0, dt = np.broadcast_arrays(np.asarray(G0, float), np.asarray(dt, float))
        d = self.synapse_devices(G0.shape, seed) if self._spread else self.device
        up = d.pulse_delta(G0, 1) * np.exp(-np.abs(dt) / self.tau_pre)
        down = d.pulse_delta(G0, -1) * np.exp(-np.abs(dt) / self.tau_post)
        delta = np.where(dt >= 0, up, down)
        if self._c2c > 0:
            seed = check_seed("MemristiveSTDP", seed)
            delta = delta * (1.0 + self._c2c * make_rng(seed, "MemristiveSTDP", "c2c").standard_normal(delta.shape))
        G1 = np.clip(G0 + delta, d.G_min, d.G_max)
        return G1 - G0

    def model(self) -> tuple[str, str, str, dict]:
        """brian2 text: ``(model, on_pre, on_post, namespace)`` of the synapse (``G`` in siemens)."""
        d = self.device
        span = float(d.G_max - d.G_min)
        noise = " * (1 + c2c_sigma*randn())" if self._c2c > 0 else ""
        model = """
        G : siemens
        dapre/dt = -apre/tau_pre : 1 (event-driven)
        dapost/dt = -apost/tau_post : 1 (event-driven)
        """
        on_pre = f"""
        G = clip(G - alpha_down*g_span*clip((G - g_min)/g_span, 0, 1)**gamma_down*apost{noise}, g_min, g_max)
        apre = 1
        """
        on_post = f"""
        G = clip(G + alpha_up*g_span*clip((g_max - G)/g_span, 0, 1)**gamma_up*apre{noise}, g_min, g_max)
        apost = 1
        """
        import brian2

        ns = dict(tau_pre=self.tau_pre * brian2.second, tau_post=self.tau_post * brian2.second,
                  alpha_up=float(d.alpha_up), alpha_down=float(d.alpha_down), gamma_up=float(d.gamma_up),
                  gamma_down=float(d.gamma_down), g_min=float(d.G_min) * brian2.siemens,
                  g_max=float(d.G_max) * brian2.siemens, g_span=span * brian2.siemens,
                  v_read=self.v_read * brian2.volt)
        if self._c2c > 0:
            ns["c2c_sigma"] = self._c2c
        # device-to-device: the spread parameters become per-synapse constants (set by run_pairs /
        # set_synapse_devices); g_span is then G_max - G_min of each synapse
        for p in self._spread:
            name = _B2_NAME[p]
            ns.pop(name)
            unit = "siemens" if p in ("G_min", "G_max") else "1"
            model += f"{name} : {unit} (constant)\n"
        if {"G_min", "G_max"} & set(self._spread):
            ns.pop("g_span")
            model += "g_span = g_max - g_min : siemens\n"
        return model, on_pre, on_post, ns

    def set_synapse_devices(self, syn, seed=None) -> None:
        """Set the per-synapse device parameters of brian2 synapses ``syn`` (after ``connect``) from
        :meth:`synapse_devices` with ``seed``, one device per synapse in brian2's order."""
        import brian2

        d = self.synapse_devices((len(syn),), seed)
        for p in self._spread:
            v = np.asarray(getattr(d, p), float)
            setattr(syn, _B2_NAME[p], v * brian2.siemens if p in ("G_min", "G_max") else v)

    def brian2_synapses(self, source, target, target_var: str | None = None, **kwargs):
        """A brian2 ``Synapses`` between two groups with this plasticity (connect it yourself).

        ``target_var`` (e.g. ``"I_e"``, in amperes) receives :math:`G v_{read}` at each presynaptic spike.
        """
        import brian2

        model, on_pre, on_post, ns = self.model()
        if target_var is not None:
            on_pre = on_pre + f"\n{target_var}_post += G*v_read\n"
        return brian2.Synapses(source, target, model, on_pre=on_pre, on_post=on_post, namespace=ns, **kwargs)

    def run_pairs(self, G0, dt, t0: float = 0.05, target: str = "numpy", seed=None) -> np.ndarray:
        """Run one pre/post pair per synapse in brian2 (pre at ``t0``, post at ``t0 + dt``); return ΔG (S).

        With non-idealities, synapse ``k`` has device ``k`` of :meth:`synapse_devices` (``seed``),
        the same devices as :meth:`pair_delta`; the cycle-to-cycle draws come from brian2's
        ``randn()`` seeded from ``seed`` (same seed -> identical, but not the draws of :meth:`pair_delta`).

        Parameters
        ----------
        G0 : array_like
            Initial conductances, S, in [G_min, G_max].
        dt : array_like
            Pair intervals :math:`t_{post} - t_{pre}`, s, with ``|dt| < t0``; broadcast with ``G0``.
        """
        owner = "MemristiveSTDP.run_pairs"
        G0, dt = np.broadcast_arrays(np.asarray(G0, float), np.asarray(dt, float))
        G0, dt = G0.ravel(), dt.ravel()
        seed = check_seed(owner, seed)
        d = self.synapse_devices(G0.shape, seed)
        if np.any(G0 < d.G_min) or np.any(G0 > d.G_max):
            raise ParameterError(f"{owner}: G0 must be in [G_min, G_max] = [{np.min(d.G_min)}, {np.max(d.G_max)}] S")
        if not np.all(np.abs(dt) < t0):
            raise ParameterError(f"{owner}: |dt| must be < t0 = {t0} s, got max {np.abs(dt).max()}")
        from neurosim.dynamics._brian import brian2_prefs

        with brian2_prefs(target, owner) as b2:
            step = 1e-5
            n = G0.size
            idx = np.arange(n)
            tpre = np.round(np.full(n, t0) / step) * step
            tpost = np.round((t0 + dt) / step) * step
            clock = b2.Clock(dt=step * b2.second)
            pre = b2.SpikeGeneratorGroup(n, idx, tpre * b2.second, clock=clock)
            post = b2.SpikeGeneratorGroup(n, idx, tpost * b2.second, clock=clock)
            syn = self.brian2_synapses(pre, post, clock=clock)
            syn.connect(j="i")
            self.set_synapse_devices(syn, seed)
            syn.G = G0 * b2.siemens
            if self._c2c > 0:
                b2.seed(int(derive(seed, "MemristiveSTDP", "brian2").generate_state(1)[0] % (2**31)))
            net = b2.Network(pre, post, syn)
            net.run((2 * t0 + 1e-3) * b2.second, namespace={})
            G1 = np.asarray(syn.G[:] / b2.siemens, float)
        return G1 - G0
