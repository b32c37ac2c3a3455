r"""Device non-idealities as a protocol: each declares its stage, and how several of a stage compose.

A non-ideality is a small frozen dataclass (hashable, picklable) with a class attribute ``stage`` and
the one method that stage calls. Code that applies them (a crossbar tile, a study) dispatches on
``stage`` only, never on the class, so a user's subclass or a user's own class with the same
attributes works everywhere the built-ins do. Every random draw uses an explicit ``rng``.

==============  ==============================================  ====================================
stage           method                                          several of the stage compose by
==============  ==============================================  ====================================
``model``       ``apply(model, shape, rng) -> model``           applying each in turn (spreads multiply)
``faults``      ``sample(shape, rng) -> FaultMap``              union of the stuck devices (ON wins)
``program``     ``apply(delta, rng) -> delta``                  applying each in turn on every increment
``write``       ``apply(G, rng) -> G``  (S, once per programming) applying each in turn
``levels``      ``apply(G) -> G``                               applying each in turn
``drift``       ``sample(G, rng) -> draw``,                     product of the factors, each with its
                ``at(G, t, draw) -> G``                         own per-device draw
``read_iv``     ``read_shape(v) -> h(v)``  (current ``G h(v)``),  at most one (two shapes are ambiguous)
                ``read_shape_dv(v) -> h'(v)``
``read_noise``  ``read_std(G, t) -> std``  (S, per device)        variances add
==============  ==============================================  ====================================

``write`` items act once on the conductances a programming achieved (the residual error of a
device's own program-and-verify, e.g. :class:`~neurosim.devices.PCMProgrammingNoise`), before the
stuck faults are forced. A ``read_noise`` item with a true class attribute ``uses_programmed`` is
called ``read_std(G, t, G_prog=...)`` with the programmed (undrifted) conductances as well.

Built-ins: :class:`DeviceToDeviceVariability` (model), :class:`StuckAtFaults` (faults),
:class:`CycleToCycleNoise` (program), :class:`FiniteLevels` (levels), :class:`RetentionDrift`
(drift), :class:`NonlinearReadIV` (read_iv), :class:`ReadNoise` (read_noise).
:class:`NonIdealities` composes a list of them by those rules. Configuration files name
non-idealities by ``type``, looked up in an explicit registry (:func:`register_nonideality`,
:func:`nonideality_class`), never by attribute lookup in a module.

Examples
--------
>>> import numpy as np
>>> from neurosim.devices import ReadNoise, FiniteLevels, NonIdealities
>>> rng = np.random.default_rng(0)
>>> FiniteLevels(n_levels=3, G_min=0.0, G_max=2e-6).apply(np.array([0.4e-6, 1.2e-6]))
array([0.e+00, 1.e-06])
>>> chain = NonIdealities([FiniteLevels(3, 0.0, 2e-6), ReadNoise(0.03), ReadNoise(0.04)])
>>> chain.levels(np.array([1.2e-6]))
array([1.e-06])
>>> float(chain.read_std(np.array([1e-6]))[0])   # sqrt(0.03^2 + 0.04^2) * 1e-6
5e-08
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np

from neurosim.devices.levels import quantize_levels
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
    "STAGES",
    "register_nonideality",
    "nonideality_class",
    "nonideality_name",
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
    stage: ClassVar[str] = "read_noise"

    def read_std(self, G, t=None):
        r"""Per-device standard deviation (S) of the conductance as read: :math:`\sigma |G|`.

        ``t`` (s since programming) is accepted for the protocol; this noise does not depend on it.
        """
        return self.sigma * np.abs(np.asarray(G, dtype=float))

    def amplitude(self, G_prog):
        """Separable form ``read_std = |G| amplitude(G_prog) time_factor(t)``: ``sigma``."""
        return np.full(np.shape(G_prog), self.sigma)

    def time_factor(self, t):
        """Separable form: 1 (no time dependence)."""
        return 1.0

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
    stage: ClassVar[str] = "faults"

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
    stage: ClassVar[str] = "drift"

    def sample(self, G, rng):
        """Per-device draw for the drift stage: the exponents of :meth:`sample_nu` for ``G``'s shape."""
        return self.sample_nu(np.shape(G), rng)

    def at(self, G, t, draw):
        """Conductances (S) ``t`` s after programming to ``G`` with per-device exponents ``draw``."""
        return self.apply(G, t, nu=draw)

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
    stage: ClassVar[str] = "levels"

    def _check(self) -> None:
        super()._check()
        if self.G_max <= self.G_min:
            raise ParameterError(f"FiniteLevels: G_max must be > G_min, got G_max={self.G_max!r} and G_min={self.G_min!r}")

    def apply(self, G, rng=None):
        """Quantised conductances (S); ``rng`` is accepted for a uniform signature and unused."""
        return quantize_levels(G, self.G_min, self.G_max, self.n_levels)


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
    stage: ClassVar[str] = "read_iv"

    def read_shape(self, v):
        r""":math:`h(v) = v_{nl} \sinh(v / v_{nl})` (V): the read current is ``G h(v)``."""
        return self.v_nl * np.sinh(np.asarray(v, dtype=float) / self.v_nl)

    def read_shape_dv(self, v):
        r""":math:`h'(v) = \cosh(v / v_{nl})` (dimensionless)."""
        return np.cosh(np.asarray(v, dtype=float) / self.v_nl)

    def apply(self, G, v, rng=None):
        """Read currents (A) for conductances ``G`` (S) at voltages ``v`` (V), broadcast."""
        return np.asarray(G, dtype=float) * self.read_shape(v)


#: What each stage calls on its items (the protocol), and how several items of a stage compose.
STAGES: dict[str, tuple[tuple[str, ...], str]] = {
    "model": (("apply",), "applied in turn"),
    "faults": (("sample",), "union of stuck devices, stuck-ON wins"),
    "program": (("apply",), "applied in turn to every increment"),
    "write": (("apply",), "applied in turn to the programmed conductances"),
    "levels": (("apply",), "applied in turn"),
    "drift": (("sample", "at"), "product of the factors, each with its own per-device draw"),
    "read_iv": (("read_shape", "read_shape_dv"), "at most one"),
    "read_noise": (("read_std",), "variances add"),
}

_REGISTRY: dict[str, type] = {}


def _protocol_error(obj) -> str | None:
    """Why ``obj`` is not a non-ideality (None if it is one)."""
    stage = getattr(obj, "stage", None)
    if stage not in STAGES:
        return f"a 'stage' attribute in {sorted(STAGES)}, got {stage!r}"
    missing = [m for m in STAGES[stage][0] if not callable(getattr(obj, m, None))]
    if missing:
        return f"the method(s) {missing} of stage {stage!r}"
    return None


def register_nonideality(cls: type, name: str | None = None) -> type:
    """Make a non-ideality class known to configuration files (``type = "<name>"``).

    Usable as a class decorator. The class must follow the protocol (a ``stage`` in
    :data:`STAGES` and that stage's methods) and be a dataclass whose fields are its parameters.

    Parameters
    ----------
    cls : type
        The class.
    name : str, optional
        The name used in files (default ``cls.__name__``).

    Returns
    -------
    type
        ``cls``.

    Raises
    ------
    ParameterError
        Not a protocol class, or the name is taken by another class.
    """
    why = _protocol_error(cls)
    if why is not None or not isinstance(cls, type) or not dataclasses.is_dataclass(cls):
        raise ParameterError(f"register_nonideality: cls must be a dataclass with {why or 'a stage'}, got {cls!r}")
    key = name or cls.__name__
    if _REGISTRY.get(key, cls) is not cls:
        raise ParameterError(f"register_nonideality: name {key!r} is already registered for {_REGISTRY[key]!r}")
    _REGISTRY[key] = cls
    return cls


def nonideality_class(name: str) -> type:
    """The registered non-ideality class called ``name`` (as written in a config file).

    Raises
    ------
    ParameterError
        Unknown name (the message lists the known ones and the closest match).
    """
    import difflib

    cls = _REGISTRY.get(name) if isinstance(name, str) else None
    if cls is None:
        known = sorted(_REGISTRY)
        close = difflib.get_close_matches(str(name), known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ParameterError(f"non-ideality type must be one of {known}, got {str(name)[:80]!r}{hint}")
    return cls


def nonideality_name(obj) -> str:
    """The registry name of a non-ideality object's class.

    Raises
    ------
    ParameterError
        The class is not registered (register it with :func:`register_nonideality`).
    """
    for key, cls in _REGISTRY.items():
        if type(obj) is cls:
            return key
    raise ParameterError(
        f"non-ideality {type(obj).__name__} is not registered; call neurosim.devices.register_nonideality on its class "
        "to write it to a configuration file"
    )


from neurosim.devices.pcm import PCMDrift, PCMProgrammingNoise, PCMReadNoise  # noqa: E402

for _cls in (DeviceToDeviceVariability, CycleToCycleNoise, ReadNoise, StuckAtFaults, RetentionDrift, FiniteLevels,
             NonlinearReadIV, PCMProgrammingNoise, PCMDrift, PCMReadNoise):
    register_nonideality(_cls)


class _Sequential:
    """The ``program`` stage of several items: ``apply(delta, rng)`` applies each in turn."""

    def __init__(self, items):
        self.items = tuple(items)

    def apply(self, delta, rng):
        for it in self.items:
            delta = it.apply(delta, rng)
        return delta


@dataclasses.dataclass(frozen=True)
class NonIdealities:
    """An ordered list of non-idealities, applied stage by stage (see the module table).

    Parameters
    ----------
    items : sequence
        Objects following the non-ideality protocol (a ``stage`` and that stage's methods).

    Raises
    ------
    ParameterError
        An item that does not follow the protocol, or two items of stage ``read_iv``.

    Notes
    -----
    Order of a crossbar's programming: ``model`` (device-to-device), programming (with the ``program``
    items on every increment), ``write``, ``faults``, ``levels``; of a read at time ``t``: ``drift``, then the
    ``read_iv`` shape and the ``read_noise`` standard deviation.
    """

    items: tuple = ()

    def __post_init__(self):
        items = tuple(self.items)
        for it in items:
            why = _protocol_error(it)
            if why is not None:
                raise ParameterError(f"NonIdealities: items must be non-ideality objects with {why} ({type(it).__name__})")
        if len(self.of("read_iv", items)) > 1:
            raise ParameterError("NonIdealities: at most one item of stage 'read_iv' (a nonlinear read I-V) allowed, "
                                 f"got {len(self.of('read_iv', items))}")
        object.__setattr__(self, "items", items)

    def of(self, stage: str, items=None) -> list[Any]:
        """The items of one stage, in order."""
        return [it for it in (self.items if items is None else items) if it.stage == stage]

    def model(self, model, shape, rng):
        """Every ``model`` item applied in turn (device-to-device spread)."""
        for it in self.of("model"):
            model = it.apply(model, shape, rng)
        return model

    def faults(self, shape, rng) -> FaultMap:
        """The union of every ``faults`` item's map (a device stuck ON by any item is ON)."""
        on = np.zeros(shape, dtype=bool)
        off = np.zeros(shape, dtype=bool)
        for it in self.of("faults"):
            fm = it.sample(shape, rng)
            on |= fm.stuck_on
            off |= fm.stuck_off
        return FaultMap(on, off & ~on)

    def program_noise(self):
        """The ``program`` items as one object with ``apply(delta, rng)`` (None when there are none)."""
        items = self.of("program")
        return _Sequential(items) if items else None

    def program(self, delta, rng):
        """Every ``program`` item applied in turn to state increments."""
        for it in self.of("program"):
            delta = it.apply(delta, rng)
        return delta

    def write(self, G, rng):
        """Conductances (S) after every ``write`` item applied in turn to the programmed ``G`` (S)."""
        G = np.asarray(G, dtype=float)
        for it in self.of("write"):
            G = it.apply(G, rng)
        return G

    def levels(self, G):
        """Conductances (S) as stored: every ``levels`` item applied in turn."""
        G = np.asarray(G, dtype=float)
        for it in self.of("levels"):
            G = it.apply(G)
        return G

    def drift_sample(self, G, rng) -> tuple:
        """One per-device draw for every ``drift`` item (made once per programming)."""
        return tuple(it.sample(G, rng) for it in self.of("drift"))

    def conductance(self, G, t=None, draws=()):
        """Conductances (S) as read ``t`` s after programming: stored levels, then every drift factor.

        ``draws`` are :meth:`drift_sample`'s (the same devices drift the same way at every ``t``).
        """
        G = self.levels(G)
        drift = self.of("drift")
        if t is not None and drift:
            if len(draws) != len(drift):
                raise ParameterError(f"NonIdealities: conductance needs one draw per drift item ({len(drift)}), "
                                     f"got {len(draws)}")
            G0 = G
            for it, draw in zip(drift, draws):
                G = G * (it.at(G0, t, draw) / np.where(G0 == 0, 1.0, G0))
        return G

    def read_iv(self):
        """The ``read_iv`` item (None: linear read)."""
        found = self.of("read_iv")
        return found[0] if found else None

    def read_std(self, G, t=None, G_prog=None):
        """Per-device read-noise standard deviation (S), variances of every ``read_noise`` item added;
        None when there is no read noise. ``G_prog`` (S): the programmed conductances, passed to items
        with ``uses_programmed`` (default ``G``)."""
        items = self.of("read_noise")
        if not items:
            return None
        Gp = G if G_prog is None else G_prog

        def one(it):
            if getattr(it, "uses_programmed", False):
                return it.read_std(G, t, G_prog=Gp)
            return it.read_std(G, t)

        var = sum(np.square(np.asarray(one(it), dtype=float)) for it in items)
        return np.sqrt(np.broadcast_to(var, np.shape(G)))

    def read(self, G, v, rng=None):
        """Read currents (A): ``G h(v)`` with the read I-V shape (``G v`` when linear), then read noise."""
        G = np.asarray(G, dtype=float)
        iv = self.read_iv()
        h = iv.read_shape(v) if iv is not None else np.asarray(v, dtype=float)
        i = G * h
        std = self.read_std(G)
        if std is not None:
            i = i + std * np.abs(h) * _need_rng("NonIdealities.read", rng).standard_normal(np.shape(i))
        return i
