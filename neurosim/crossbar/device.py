"""Adapter between a crossbar and a device model: window, state <-> conductance, linearity.

The crossbar speaks conductances (S); device models speak states. The conductance of a state is
the chord conductance at the read voltage, ``G(x) = current(x, v_read) / v_read``, so a programmed
target ``G`` gives exactly ``G v_read`` at full-scale read even for a nonlinear read I-V.

Examples
--------
>>> import numpy as np
>>> dev = DeviceAdapter(None, g_min=1e-6, g_max=1e-4, v_read=0.2)
>>> dev.g_min, dev.g_max, dev.linear
(1e-06, 0.0001, True)
>>> float(dev.conductance(dev.state_for(np.array(5e-5))))
5e-05
"""

from __future__ import annotations

import copy
import dataclasses
from typing import ClassVar

import numpy as np

from neurosim.errors import ParameterError

__all__ = ["DeviceAdapter", "IdealConductance"]


@dataclasses.dataclass(frozen=True)
class IdealConductance:
    """A linear conductance whose state is its nominal conductance (S), the default device.

    ``gain`` is a per-device factor (1 nominally) so that device-to-device variability applies, e.g.
    ``DeviceToDeviceVariability(0.1, ("gain",))`` spreads the conductances lognormally.

    .. math:: i = \\gamma\\, G\\, v

    Parameters
    ----------
    G_min, G_max : float
        Window of the state (S).
    gain : float or ndarray
        Per-device conductance factor.
    """

    G_min: float
    G_max: float
    gain: float | np.ndarray = 1.0

    _array_params: ClassVar[tuple] = ("gain",)
    state_is_conductance: ClassVar[bool] = True
    state_name: ClassVar[str] = "G"
    state_unit: ClassVar[str] = "S"

    @property
    def initial_state(self):
        """``G_min`` (S)."""
        return self.G_min

    state_bounds = property(lambda self: (self.G_min, self.G_max))
    state_on = property(lambda self: self.G_max)
    state_off = property(lambda self: self.G_min)

    def current(self, state, v):
        """Current (A) :math:`\\gamma G v`."""
        return self.gain * np.asarray(state, dtype=float) * v

    def dcurrent_dv(self, state, v):
        """Conductance (S)."""
        g = self.gain * np.asarray(state, dtype=float)
        return np.broadcast_to(g, np.broadcast_shapes(np.shape(g), np.shape(v)))

    def dstate_dt(self, state, v):
        """0: an ideal conductance does not change."""
        return np.zeros(np.broadcast_shapes(np.shape(state), np.shape(v)))

    def step(self, state, v, dt):
        """The state, unchanged."""
        return np.asarray(state, dtype=float).copy()

    def conductance(self, state, v=0.0):
        """Conductance (S)."""
        return self.gain * np.asarray(state, dtype=float) * np.ones_like(np.asarray(v, dtype=float))


def _load(device):
    if isinstance(device, str):
        try:
            from neurosim.devices import load_device
        except ImportError as exc:  # pragma: no cover - depends on the devices package
            raise ParameterError(f"CrossbarConfig: device cards need neurosim.devices.load_device ({exc})") from exc
        return load_device(device)
    return device


class DeviceAdapter:
    """The device model of a crossbar with its conductance window and levels.

    Parameters
    ----------
    device : str, device model or None
        Card name/path, model, or ``None`` for :class:`IdealConductance`.
    g_min, g_max : float or None
        Window overrides (S); must lie inside the device's own window.
    v_read : float
        Read voltage (V) at which chord conductances are taken.
    levels : int or None
        Conductance levels override.

    Raises
    ------
    ParameterError
        Window outside the device's range, or a device without the model protocol.
    """

    def __init__(self, device, g_min=None, g_max=None, v_read=0.2, levels=None):
        model = _load(device)
        self.card = device if isinstance(device, str) else None
        self.v_read = float(v_read)
        if model is None:
            lo = 1e-6 if g_min is None else g_min
            hi = 1e-4 if g_max is None else g_max
            if not lo < hi:
                raise ParameterError(f"CrossbarConfig: g_min must be < g_max, got g_min={lo!r}, g_max={hi!r}")
            model = IdealConductance(float(lo), float(hi))
        for attr in ("current", "dcurrent_dv", "state_bounds"):
            if not hasattr(model, attr):
                raise ParameterError(f"CrossbarConfig: device must implement {attr} (device-model protocol), got {model!r}")
        self.model = model
        self.ideal = isinstance(model, IdealConductance)
        s_off, s_on = self._state_extremes()
        self.s_off, self.s_on = s_off, s_on
        d_lo = float(self.conductance(np.asarray(s_off)))
        d_hi = float(self.conductance(np.asarray(s_on)))
        lo = d_lo if g_min is None else float(g_min)
        hi = d_hi if g_max is None else float(g_max)
        tol = 1e-9 * d_hi
        if lo < d_lo - tol or hi > d_hi + tol or not lo < hi:
            raise ParameterError(
                f"CrossbarConfig: the conductance window [g_min, g_max] must lie within the device's "
                f"[{d_lo:.6g}, {d_hi:.6g}] S with g_min < g_max, got [{lo:.6g}, {hi:.6g}] S"
            )
        self.g_min, self.g_max = lo, hi
        own = getattr(model, "n_levels", 0) or None
        self.levels = levels if levels is not None else own
        self.linear = self._is_linear()
        # A card may limit the array size ([array] table); a model object may carry the same limit.
        self.max_array = getattr(model, "max_array_size", None)
        if isinstance(device, str):
            from neurosim.devices.cards import read_card

            self.max_array = read_card(device).max_array_size or self.max_array

    def with_model(self, model) -> "DeviceAdapter":
        """The same window, levels and read voltage for another (e.g. varied) model of the same family."""
        new = copy.copy(self)
        new.model = model
        new.ideal = isinstance(model, IdealConductance)
        return new

    def _state_extremes(self):
        m = self.model
        try:
            return m.state_off, m.state_on
        except (AttributeError, NotImplementedError):
            lo, hi = m.state_bounds
            return (lo, hi) if self.conductance_raw(lo) < self.conductance_raw(hi) else (hi, lo)

    def conductance_raw(self, state):
        v = self.v_read
        return np.asarray(self.model.current(np.asarray(state, dtype=float), v), dtype=float) / v

    def conductance(self, state) -> np.ndarray:
        """Chord conductance at the read voltage (S).

        .. math:: G(x) = i(x, v_\\mathrm{read}) / v_\\mathrm{read}
        """
        return self.conductance_raw(state)

    def _is_linear(self) -> bool:
        """True when ``current(x, v) = G(x) v`` at several voltages and states (to 1e-12)."""
        if self.ideal:
            return True
        xs = np.linspace(0.0, 1.0, 5)
        states = np.asarray(self.s_off) + xs * (np.asarray(self.s_on) - np.asarray(self.s_off))
        g = self.conductance(states)
        for v in (-self.v_read, 0.37 * self.v_read, 2.0 * self.v_read):
            i = np.asarray(self.model.current(states, v), dtype=float)
            if not np.allclose(i, g * v, rtol=1e-12, atol=0.0):
                return False
        return True

    def state_for(self, G: np.ndarray) -> np.ndarray:
        """The states whose conductance is ``G`` (S), by vectorised bisection (G monotone in state).

        A model whose state *is* its conductance (attribute ``state_is_conductance``, e.g.
        :class:`IdealConductance`, a linear :class:`~neurosim.devices.SoftBoundsDevice`) maps directly.

        Raises
        ------
        ParameterError
            A target outside the device's conductance range (never clamped silently).
        """
        G = np.asarray(G, dtype=float)
        d_lo = float(self.conductance(np.asarray(self.s_off)))
        d_hi = float(self.conductance(np.asarray(self.s_on)))
        tol = 1e-9 * d_hi
        if G.size and (np.min(G) < d_lo - tol or np.max(G) > d_hi + tol):
            raise ParameterError(
                f"DeviceAdapter: target conductances must lie in the device's range [{d_lo:.6g}, {d_hi:.6g}] S, "
                f"got [{float(np.min(G)):.6g}, {float(np.max(G)):.6g}] S"
            )
        if self.ideal or (getattr(self.model, "state_is_conductance", False) and self.linear):
            return G.copy()
        lo = np.broadcast_to(np.asarray(self.s_off, dtype=float), G.shape).copy()
        hi = np.broadcast_to(np.asarray(self.s_on, dtype=float), G.shape).copy()
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            below = self.conductance(mid) < G
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
            if np.all(np.abs(hi - lo) <= 1e-15 * np.maximum(np.abs(hi), 1e-300)):
                break
        return 0.5 * (lo + hi)
