r"""Device non-idealities: small frozen dataclasses, each applied with an explicit ``rng``.

=========================  ==========================================  ==================================
object                     call                                        effect
=========================  ==========================================  ==================================
DeviceToDeviceVariability  ``apply(model, shape, rng) -> model``       lognormal per-device parameters
CycleToCycleNoise          ``apply(delta, rng) -> delta``              noise on every switching event
ReadNoise                  ``apply(current, rng) -> current``          relative Gaussian read noise
StuckAtFaults              ``apply(state, model, rng) -> (state, map)`` stuck-at-ON/OFF devices
RetentionDrift             ``apply(G0, t, rng=None, nu=None) -> G``    power-law conductance drift
FiniteLevels               ``apply(G, rng=None) -> G``                 rounding to finite levels
NonlinearReadIV            ``apply(G, v, rng=None) -> current``        sinh read I-V
=========================  ==========================================  ==================================

:class:`NonIdealities` composes a list of them by stage (model, program, conductance, read).

Examples
--------
>>> import numpy as np
>>> from neurosim.devices import ReadNoise, FiniteLevels, NonIdealities
>>> rng = np.random.default_rng(0)
>>> FiniteLevels(n_levels=3, G_min=0.0, G_max=2e-6).apply(np.array([0.4e-6, 1.2e-6]))
array([0.e+00, 1.e-06])
>>> chain = NonIdealities([FiniteLevels(3, 0.0, 2e-6), ReadNoise(0.0)])
>>> chain.read(chain.conductance(np.array([1.2e-6])), 0.1, rng)
array([1.e-07])
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np

from neurosim.errors import ParameterError
from neurosim.params import Checked, Param, check_array

__all__ = [
    "DeviceToDeviceVariability",
    "CycleToCycleNoise",
    "ReadNoise",
    "StuckAtFaults",
    "FaultMap",
    "RetentionDrift",
    "FiniteLevels",
    "NonlinearReadIV",
    "NonIdealities",
]


def _need_rng(owner: str, rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ParameterError(f"{owner}: rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return rng


@dataclasses.dataclass(frozen=True)
class DeviceToDeviceVariability(Checked):
    r"""Lognormal device-to-device spread of chosen model parameters, relative to their mean.

    .. math::

        p_k = p \exp(\sigma z_k - \sigma^2/2), \quad z_k \sim \mathcal N(0, 1), \qquad E[p_k] = p

    Parameters
    ----------
    sigma : float
        Lognormal sigma (>= 0); the relative spread is about ``sigma`` for small values.
    params : tuple of str
        Names of the model parameters to spread (must be per-device parameters of the model).

    Examples
    --------
    >>> import numpy as np
    >>> from neurosim.devices import VTEAM
    >>> m = DeviceToDeviceVariability(0.1, ("R_on", "R_off")).apply(VTEAM(), (2, 3), np.random.default_rng(1))
    >>> m.R_on.shape
    (2, 3)
    """

    sigma: float
    params: tuple = ()

    _params: ClassVar[dict[str, Param]] = {"sigma": Param("real", low=0.0)}
    stage: ClassVar[str] = "model"

    def _check(self) -> None:
        super()._check()
        object.__setattr__(self, "params", tuple(self.params))
        if not all(isinstance(p, str) for p in self.params):
            raise ParameterError(f"DeviceToDeviceVariability: params must be parameter names, got {self.params!r}")

    def apply(self, model, shape, rng):
        """A copy of ``model`` whose chosen parameters are arrays of ``shape`` (one value per device).

        Parameters
        ----------
        model : DeviceModel
            The nominal device.
        shape : tuple of int
            Shape of the device array (the state array).
        rng : numpy.random.Generator
            Random stream.

        Returns
        -------
        DeviceModel
            Same class, per-device parameter arrays.

        Raises
        ------
        ParameterError
            A name that is not a per-device parameter of the model.
        """
        rng = _need_rng("DeviceToDeviceVariability", rng)
        allowed = getattr(model, "_array_params", ())
        changes = {}
        for name in self.params:
            if name not in allowed:
                raise ParameterError(
                    f"DeviceToDeviceVariability: params must name per-device parameters of {type(model).__name__} "
                    f"({', '.join(allowed)}), got {name!r}"
                )
            z = rng.standard_normal(shape)
            changes[name] = np.asarray(getattr(model, name), dtype=float) * np.exp(self.sigma * z - 0.5 * self.sigma**2)
        return dataclasses.replace(model, **changes)


@dataclasses.dataclass(frozen=True)
class CycleToCycleNoise(Checked):
    r"""Relative Gaussian noise on every switching event: :math:`\Delta' = \Delta (1 + \sigma z)`.

    Parameters
    ----------
    sigma : float
        Relative standard deviation (>= 0).

    Examples
    --------
    >>> import numpy as np
    >>> CycleToCycleNoise(0.0).apply(np.array([1e-7]), np.random.default_rng(0))
    array([1.e-07])
    """

    sigma: float

    _params: ClassVar[dict[str, Param]] = {"sigma": Param("real", low=0.0)}
    stage: ClassVar[str] = "program"

    def apply(self, delta, rng):
        """Noisy state increments (same units as ``delta``); zero increments stay zero."""
        rng = _need_rng("CycleToCycleNoise", rng)
        delta = np.asarray(delta, dtype=float)
        return delta * (1.0 + self.sigma * rng.standard_normal(delta.shape))

    def step(self, model, state, v, dt, rng):
        """One explicit Euler step of ``model`` with the noisy increment, clipped to the bounds."""
        state = np.asarray(state, dtype=float)
        delta = model.dstate_dt(state, v) * dt
        lo, hi = model.state_bounds
        return np.clip(state + self.apply(delta, rng), lo, hi)


@dataclasses.dataclass(frozen=True)
class ReadNoise(Checked):
    r"""Relative Gaussian read noise on the current: :math:`i' = i (1 + \sigma z)`.

    Parameters
    ----------
    sigma : float
        Relative standard deviation (>= 0).
    """

    sigma: float

    _params: ClassVar[dict[str, Param]] = {"sigma": Param("real", low=0.0)}
    stage: ClassVar[str] = "read"

    def apply(self, current, rng):
        """Noisy currents (A), same shape as ``current``."""
        rng = _need_rng("ReadNoise", rng)
        current = np.asarray(current, dtype=float)
        if self.sigma == 0.0:
            return current.copy()
        return current * (1.0 + self.sigma * rng.standard_normal(current.shape))


@dataclasses.dataclass(frozen=True)
class FaultMap:
    """Which devices are stuck: boolean masks ``stuck_on`` and ``stuck_off`` (disjoint)."""

    stuck_on: np.ndarray
    stuck_off: np.ndarray

    def force(self, state, model):
        """The states with stuck devices forced to ``model.state_on`` / ``model.state_off``."""
        state = np.asarray(state, dtype=float)
        on = np.broadcast_to(model.state_on, state.shape)
        off = np.broadcast_to(model.state_off, state.shape)
        return np.where(self.stuck_on, on, np.where(self.stuck_off, off, state))


@dataclasses.dataclass(frozen=True)
class StuckAtFaults(Checked):
    """A fraction of devices stuck at their ON (lowest resistance) or OFF state.

    Parameters
    ----------
    p_on, p_off : float
        Fractions stuck at ON and at OFF, each in [0, 1], with ``p_on + p_off <= 1``.

    Examples
    --------
    >>> import numpy as np
    >>> from neurosim.devices import SoftBoundsDevice
    >>> dev = SoftBoundsDevice(G_min=1e-6, G_max=1e-5)
    >>> g, fmap = StuckAtFaults(p_on=1.0).apply(np.full(3, 2e-6), dev, np.random.default_rng(0))
    >>> g
    array([1.e-05, 1.e-05, 1.e-05])
    """

    p_on: float = 0.0
    p_off: float = 0.0

    _params: ClassVar[dict[str, Param]] = {
        "p_on": Param("real", low=0.0, high=1.0),
        "p_off": Param("real", low=0.0, high=1.0),
    }
    stage: ClassVar[str] = "state"

    def _check(self) -> None:
        super()._check()
        if self.p_on + self.p_off > 1.0:
            raise ParameterError(f"StuckAtFaults: p_on + p_off must be <= 1, got {self.p_on + self.p_off!r}")

    def sample(self, shape, rng) -> FaultMap:
        """Draw which devices are stuck (keep the map: faults are permanent)."""
        rng = _need_rng("StuckAtFaults", rng)
        u = rng.random(shape)
        return FaultMap(stuck_on=u < self.p_on, stuck_off=(u >= self.p_on) & (u < self.p_on + self.p_off))

    def apply(self, state, model, rng):
        """Sample a fault map for ``state`` and force it; returns ``(forced_state, fault_map)``."""
        state = np.asarray(state, dtype=float)
        fmap = self.sample(state.shape, rng)
        return fmap.force(state, model), fmap


@dataclasses.dataclass(frozen=True)
class RetentionDrift(Checked):
    r"""Power-law conductance drift after programming: :math:`G(t) = G_0 (t/t_0)^{-\nu}` for :math:`t \ge t_0`.

    Parameters
    ----------
    nu : float
        Mean drift exponent (>= 0).
    t0 : float
        Reference time after programming (s), > 0; no drift before it.
    nu_std : float
        Device-to-device standard deviation of :math:`\nu` (>= 0); sampled values are clipped at 0.

    Examples
    --------
    >>> import numpy as np
    >>> float(RetentionDrift(nu=0.1, t0=1.0).apply(np.array([1e-5]), 100.0)[0])   # 1e-5 * 100**-0.1
    6.309573444801933e-06
    """

    nu: float
    t0: float = 1.0
    nu_std: float = 0.0

    _params: ClassVar[dict[str, Param]] = {
        "nu": Param("real", low=0.0),
        "t0": Param("real", low=0.0, low_open=True, unit="s"),
        "nu_std": Param("real", low=0.0),
    }
    stage: ClassVar[str] = "conductance"

    def sample_nu(self, shape, rng):
        """Per-device exponents (sample once per programmed array and pass to :meth:`apply`)."""
        if self.nu_std == 0.0:
            return np.full(shape, self.nu)
        rng = _need_rng("RetentionDrift", rng)
        return np.maximum(self.nu + self.nu_std * rng.standard_normal(shape), 0.0)

    def apply(self, G0, t, rng=None, nu=None):
        """Conductance (S) a time ``t`` (s) after programming to ``G0``.

        ``nu`` (per-device exponents from :meth:`sample_nu`) keeps the same devices drifting the same
        way at every ``t``; without it, exponents are drawn from ``rng`` when ``nu_std > 0``.
        """
        G0 = check_array("RetentionDrift", "G0", G0, dtype=float)
        t = np.asarray(t, dtype=float)
        if np.any(t < 0):
            raise ParameterError(f"RetentionDrift: t must be >= 0 s, got {t!r}")
        if nu is None:
            nu = self.sample_nu(G0.shape, rng)
        ratio = np.maximum(t, self.t0) / self.t0
        return G0 * ratio ** (-np.asarray(nu, dtype=float))


@dataclasses.dataclass(frozen=True)
class FiniteLevels(Checked):
    """Round conductances to ``n_levels`` equally spaced levels in ``[G_min, G_max]`` (clipped first).

    Parameters
    ----------
    n_levels : int
        Number of levels, >= 2.
    G_min, G_max : float
        Range (S), G_min >= 0, G_max > G_min.
    """

    n_levels: int
    G_min: float
    G_max: float

    _params: ClassVar[dict[str, Param]] = {
        "n_levels": Param("int", low=2),
        "G_min": Param("real", low=0.0, unit="S"),
        "G_max": Param("real", low=0.0, low_open=True, unit="S"),
    }
    stage: ClassVar[str] = "conductance"

    def _check(self) -> None:
        super()._check()
        if self.G_max <= self.G_min:
            raise ParameterError(f"FiniteLevels: G_max must be > G_min, got G_max={self.G_max!r} and G_min={self.G_min!r}")

    def apply(self, G, rng=None):
        """Quantised conductances (S); ``rng`` is accepted for a uniform signature and unused."""
        G = np.clip(np.asarray(G, dtype=float), self.G_min, self.G_max)
        step = (self.G_max - self.G_min) / (self.n_levels - 1)
        return self.G_min + np.round((G - self.G_min) / step) * step


@dataclasses.dataclass(frozen=True)
class NonlinearReadIV(Checked):
    r"""Nonlinear read I-V :math:`i = G\, v_{nl} \sinh(v / v_{nl})` (slope G at 0 V).

    Parameters
    ----------
    v_nl : float
        Voltage scale (V), > 0.
    """

    v_nl: float

    _params: ClassVar[dict[str, Param]] = {"v_nl": Param("real", low=0.0, low_open=True, unit="V")}
    stage: ClassVar[str] = "read"

    def apply(self, G, v, rng=None):
        """Read currents (A) for conductances ``G`` (S) at voltages ``v`` (V), broadcast."""
        return np.asarray(G, dtype=float) * self.v_nl * np.sinh(np.asarray(v, dtype=float) / self.v_nl)


@dataclasses.dataclass(frozen=True)
class NonIdealities:
    """An ordered list of non-idealities applied by stage.

    Parameters
    ----------
    items : sequence
        Non-ideality objects; at most one :class:`StuckAtFaults` and one :class:`NonlinearReadIV`.

    Notes
    -----
    Stages: ``model(model, shape, rng)`` (device-to-device), ``faults(shape, rng)`` (stuck devices),
    ``program(delta, rng)`` (cycle-to-cycle), ``conductance(G, t, rng, nu)`` (levels then drift),
    ``read(G, v, rng)`` (read I-V then read noise).
    """

    items: tuple = ()

    def __post_init__(self):
        items = tuple(self.items)
        known = (
            DeviceToDeviceVariability, CycleToCycleNoise, ReadNoise, StuckAtFaults,
            RetentionDrift, FiniteLevels, NonlinearReadIV,
        )
        for it in items:
            if not isinstance(it, known):
                raise ParameterError(f"NonIdealities: items must be non-ideality objects, got {type(it).__name__}")
        for kind in (StuckAtFaults, NonlinearReadIV):
            if sum(isinstance(it, kind) for it in items) > 1:
                raise ParameterError(f"NonIdealities: at most one {kind.__name__} allowed")
        object.__setattr__(self, "items", items)

    def _of(self, *kinds) -> list[Any]:
        return [it for it in self.items if isinstance(it, kinds)]

    def model(self, model, shape, rng):
        """Apply every :class:`DeviceToDeviceVariability` to ``model``."""
        for it in self._of(DeviceToDeviceVariability):
            model = it.apply(model, shape, rng)
        return model

    def faults(self, shape, rng):
        """A :class:`FaultMap` (no device stuck when there is no :class:`StuckAtFaults`)."""
        found = self._of(StuckAtFaults)
        if not found:
            return FaultMap(np.zeros(shape, dtype=bool), np.zeros(shape, dtype=bool))
        return found[0].sample(shape, rng)

    def program(self, delta, rng):
        """Apply every :class:`CycleToCycleNoise` to state increments."""
        for it in self._of(CycleToCycleNoise):
            delta = it.apply(delta, rng)
        return delta

    def conductance(self, G, t=None, rng=None, nu=None):
        """Conductances as stored (levels) and as read ``t`` seconds after programming (drift)."""
        G = np.asarray(G, dtype=float)
        for it in self._of(FiniteLevels):
            G = it.apply(G)
        if t is not None:
            for it in self._of(RetentionDrift):
                G = it.apply(G, t, rng=rng, nu=nu)
        return G

    def read(self, G, v, rng=None):
        """Read currents (A): nonlinear read I-V (or ``G v``), then read noise."""
        nl = self._of(NonlinearReadIV)
        i = nl[0].apply(G, v) if nl else np.asarray(G, dtype=float) * np.asarray(v, dtype=float)
        for it in self._of(ReadNoise):
            i = it.apply(i, rng)
        return i
