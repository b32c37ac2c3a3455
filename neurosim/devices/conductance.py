r"""Behavioural conductance-level device for programming studies (aihwkit-style soft bounds).

The state is the conductance :math:`G \in [G_{min}, G_{max}]` (S). One programming pulse changes it by

.. math::

    \Delta G_{+} = \alpha_{+}\, \Delta G_{range} \left(\frac{G_{max} - G}{\Delta G_{range}}\right)^{\gamma_{+}},
    \qquad
    \Delta G_{-} = -\alpha_{-}\, \Delta G_{range} \left(\frac{G - G_{min}}{\Delta G_{range}}\right)^{\gamma_{-}}

with :math:`\Delta G_{range} = G_{max} - G_{min}`. :math:`\gamma = 1` gives the soft bounds
:math:`\Delta G_+ = \alpha_+ (G_{max} - G)`, :math:`\Delta G_- = -\alpha_- (G - G_{min})`; :math:`\gamma = 0`
a constant step (linear device); :math:`\alpha_+ \ne \alpha_-` the up/down asymmetry. With
``n_levels > 1`` the conductance is rounded after every pulse to one of ``n_levels`` equally spaced
levels between the bounds (a step smaller than half a level then leaves the device where it is).

Read current: :math:`i = G v` (``read_iv="linear"``) or :math:`i = G\, v_{nl} \sinh(v / v_{nl})`
(``read_iv="sinh"``, the same slope at 0 and a super-linear I-V).

Examples
--------
>>> import numpy as np
>>> from neurosim.devices import SoftBoundsDevice
>>> d = SoftBoundsDevice(G_min=1e-6, G_max=1e-5, alpha_up=0.1, alpha_down=0.1)
>>> g = d.apply_pulses(np.array([1e-6]), 1, +1)      # 1e-6 + 0.1 * (1e-5 - 1e-6)
>>> round(float(g[0]), 15)
1.9e-06
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from neurosim.errors import ParameterError
from neurosim.devices.levels import quantize_levels
from neurosim.params import Param, check_array

from .base import DeviceModel, spice_num

__all__ = ["SoftBoundsDevice", "LinearConductance"]

_POS = {"low": 0.0, "low_open": True}


class ConductanceWindow:
    """Shared by the models whose state is their conductance ``G`` (S) in a window
    ``[G_min, G_max]``: the window as state bounds, and the linear read :math:`i = G v` of a
    non-volatile device (``dstate_dt = 0``; a model with another read overrides ``current``)."""

    state_is_conductance: ClassVar[bool] = True  # its state (S) is its conductance

    def _check_window(self) -> None:
        name = type(self).__name__
        if np.any(np.asarray(self.G_max) <= np.asarray(self.G_min)):
            raise ParameterError(f"{name}: G_max must be > G_min, got G_max={self.G_max!r} and G_min={self.G_min!r}")
        g0 = np.asarray(self.initial_state)
        if np.any(g0 < self.G_min) or np.any(g0 > self.G_max):
            raise ParameterError(f"{name}: initial_state must be in [G_min, G_max] = [{self.G_min!r}, "
                                 f"{self.G_max!r}] S, got {self.initial_state!r}")

    @property
    def state_bounds(self) -> tuple:
        """``(G_min, G_max)`` (S)."""
        return (self.G_min, self.G_max)

    @property
    def state_on(self):
        """``G_max``."""
        return self.G_max

    @property
    def state_off(self):
        """``G_min``."""
        return self.G_min

    def current(self, state, v):
        """Read current :math:`i = G v` (A)."""
        return np.asarray(state, dtype=float) * np.asarray(v, dtype=float)

    def dcurrent_dv(self, state, v):
        """:math:`G` (S), broadcast to ``v``."""
        return np.asarray(state, dtype=float) * np.ones_like(np.asarray(v, dtype=float))

    def dcurrent_dstate(self, state, v):
        """:math:`v` (V)."""
        return np.asarray(v, dtype=float) * np.ones_like(np.asarray(state, dtype=float))

    def dstate_dt(self, state, v):
        """0: the conductance changes only by programming."""
        return np.zeros(np.broadcast_shapes(np.shape(state), np.shape(v)))


@dataclasses.dataclass(frozen=True)
class SoftBoundsDevice(ConductanceWindow, DeviceModel):
    r"""Bounded conductance with nonlinear, asymmetric pulse response and finite levels.

    Parameters
    ----------
    G_min, G_max : float or array_like
        Conductance bounds (S), 0 < G_min < G_max.
    alpha_up, alpha_down : float or array_like
        Relative step per potentiating / depressing pulse, in (0, 1].
    gamma_up, gamma_down : float or array_like
        Nonlinearity exponents (>= 0): 1 soft bounds, 0 constant step.
    n_levels : int
        Number of distinguishable conductance levels (>= 2), or 0 for a continuum.
    read_iv : {"linear", "sinh"}
        Read I-V relation.
    v_nl : float
        Voltage scale of the sinh read I-V (V), > 0.
    initial_state : float or array_like
        Initial conductance (S) in [G_min, G_max].

    Raises
    ------
    ParameterError
        A parameter outside its range, G_max <= G_min, n_levels == 1, initial state out of bounds.

    Notes
    -----
    .. math::

        i = G v \quad\text{or}\quad i = G\, v_{nl} \sinh(v/v_{nl}), \qquad
        \frac{\partial i}{\partial v} = G \quad\text{or}\quad G \cosh(v/v_{nl})

    Examples
    --------
    >>> d = SoftBoundsDevice(G_min=1e-6, G_max=1e-5, alpha_up=0.5, alpha_down=0.5)
    >>> float(d.apply_pulses(1e-6, 2, +1))           # 1e-5 - 9e-6 * 0.5**2
    7.75e-06
    """

    G_min: float = 1e-6
    G_max: float = 1e-5
    alpha_up: float = 0.01
    alpha_down: float = 0.01
    gamma_up: float = 1.0
    gamma_down: float = 1.0
    n_levels: int = 0
    read_iv: str = "linear"
    v_nl: float = 0.25
    initial_state: float = 1e-6

    _params: ClassVar[dict[str, Param]] = {
        "G_min": Param("real", unit="S", **_POS),
        "G_max": Param("real", unit="S", **_POS),
        "alpha_up": Param("real", low=0.0, high=1.0, low_open=True),
        "alpha_down": Param("real", low=0.0, high=1.0, low_open=True),
        "gamma_up": Param("real", low=0.0),
        "gamma_down": Param("real", low=0.0),
        "n_levels": Param("int", low=0),
        "read_iv": Param("choice", choices=("linear", "sinh")),
        "v_nl": Param("real", unit="V", **_POS),
        "initial_state": Param("real", unit="S", **_POS),
    }
    _array_params: ClassVar[tuple[str, ...]] = (
        "G_min", "G_max", "alpha_up", "alpha_down", "gamma_up", "gamma_down", "initial_state",
    )
    state_name: ClassVar[str] = "G"
    state_unit: ClassVar[str] = "S"
    spice_state_scale: ClassVar[float] = 1e-6  # the SPICE state node holds G in uS

    def _check(self) -> None:
        super()._check()
        if np.any(np.asarray(self.G_max) <= np.asarray(self.G_min)):
            raise ParameterError(f"SoftBoundsDevice: G_max must be > G_min, got G_max={self.G_max!r} and G_min={self.G_min!r}")
        if self.n_levels == 1:
            raise ParameterError("SoftBoundsDevice: n_levels must be 0 (continuous) or an integer >= 2, got 1")
        g0 = np.asarray(self.initial_state)
        if np.any(g0 < self.G_min) or np.any(g0 > self.G_max):
            raise ParameterError(
                f"SoftBoundsDevice: initial_state must be in [G_min, G_max] = [{self.G_min!r}, {self.G_max!r}] S, "
                f"got {self.initial_state!r}"
            )

    # ---------------------------------------------------------------- read
    def current(self, state, v):
        r"""Read current :math:`i = G v` or :math:`G v_{nl} \sinh(v/v_{nl})` (A)."""
        g = np.asarray(state, dtype=float)
        v = np.asarray(v, dtype=float)
        if self.read_iv == "sinh":
            return g * self.v_nl * np.sinh(v / self.v_nl)
        return g * v

    def dcurrent_dv(self, state, v):
        r""":math:`\partial i/\partial v = G` or :math:`G \cosh(v/v_{nl})` (S)."""
        g = np.asarray(state, dtype=float)
        v = np.asarray(v, dtype=float)
        if self.read_iv == "sinh":
            return g * np.cosh(v / self.v_nl)
        return g * np.ones_like(v)

    def dstate_dt(self, state, v):
        """0: the conductance changes only through :meth:`apply_pulses` (a non-volatile device)."""
        return np.zeros(np.broadcast_shapes(np.shape(state), np.shape(v)))

    # ---------------------------------------------------------------- programming
    def pulse_delta(self, state, polarity):
        r"""Conductance change of one pulse (S): :math:`\Delta G_+` for polarity > 0, :math:`\Delta G_-` for < 0.

        Parameters
        ----------
        state : array_like
            Conductances (S).
        polarity : int or array_like
            +1 (potentiate), -1 (depress) or 0 (no pulse), broadcastable to ``state``.

        Returns
        -------
        ndarray
            The change :math:`\Delta G` (S).
        """
        g = np.asarray(state, dtype=float)
        pol = np.asarray(polarity)
        span = self.G_max - self.G_min
        up_room = np.clip((self.G_max - g) / span, 0.0, 1.0)
        down_room = np.clip((g - self.G_min) / span, 0.0, 1.0)
        up = self.alpha_up * span * up_room**self.gamma_up
        down = -self.alpha_down * span * down_room**self.gamma_down
        return np.where(pol > 0, up, np.where(pol < 0, down, 0.0))

    def quantize(self, state):
        """Round conductances to the nearest of ``n_levels`` levels (unchanged when ``n_levels == 0``)."""
        return quantize_levels(state, self.G_min, self.G_max, self.n_levels)

    def apply_pulses(self, state, n_pulses, polarity, rng=None, noise=None):
        r"""Apply ``n_pulses`` identical programming pulses of the given polarity to each device.

        Every pulse applies :meth:`pulse_delta` (times ``1 + sigma z`` with ``noise``, a
        :class:`~neurosim.devices.CycleToCycleNoise`), then clips to the bounds and rounds to the
        levels. Without noise, with :math:`\gamma = 1` and a continuum of levels, the closed form
        :math:`G_n = G_{max} - (G_{max} - G_0)(1 - \alpha_+)^n` (resp. :math:`G_{min} + (G_0 - G_{min})(1 - \alpha_-)^n`)
        is used.

        Parameters
        ----------
        state : array_like
            Conductances before programming (S).
        n_pulses : int or array_like of int
            Pulses per device (>= 0), broadcastable to ``state``.
        polarity : int or array_like
            +1, -1 or 0 per device.
        rng : numpy.random.Generator, optional
            Needed when ``noise`` is given.
        noise : CycleToCycleNoise, optional
            Cycle-to-cycle noise on every switching event.

        Returns
        -------
        ndarray
            Conductances after programming (S).

        Raises
        ------
        ParameterError
            Negative or non-integer pulse counts, a polarity other than -1, 0, +1, noise without rng.
        """
        g = check_array("SoftBoundsDevice.apply_pulses", "state", state, dtype=float)
        n = np.asarray(n_pulses)
        if n.dtype.kind not in "iu" or np.any(n < 0):
            raise ParameterError(f"SoftBoundsDevice.apply_pulses: n_pulses must be integers >= 0, got {n_pulses!r}")
        pol = np.asarray(polarity)
        if pol.dtype.kind not in "iu" or (pol.size and np.abs(pol).max() > 1):
            raise ParameterError(f"SoftBoundsDevice.apply_pulses: polarity must be -1, 0 or +1, got {polarity!r}")
        if noise is not None and rng is None:
            raise ParameterError("SoftBoundsDevice.apply_pulses: rng must be a numpy Generator when noise is given, got None")
        shape = np.broadcast_shapes(g.shape, n.shape, pol.shape, self.n_devices_shape)
        g = np.broadcast_to(g, shape).copy()
        n = np.broadcast_to(n, shape)
        pol = np.broadcast_to(pol, shape)
        closed = (
            noise is None
            and self.n_levels == 0
            and np.all(np.asarray(self.gamma_up) == 1.0)
            and np.all(np.asarray(self.gamma_down) == 1.0)
        )
        if closed:
            # G_n = target + (G_0 - target) (1 - alpha)^n with target G_max (up) or G_min (down);
            # n * |polarity| pulses so that polarity 0 leaves G unchanged
            up = pol > 0
            target = np.where(up, self.G_max, self.G_min)
            base = np.where(up, 1.0 - self.alpha_up, 1.0 - self.alpha_down)
            g -= target
            g *= base ** (n * np.abs(pol))
            g += target
            return g
        n_max = int(n.max()) if n.size else 0
        for k in range(n_max):  # loop over pulses; every pulse is vectorised over the devices
            active = np.where(n > k, pol, 0)
            delta = self.pulse_delta(g, active)
            if noise is not None:
                delta = noise.apply(delta, rng)
            g = self.quantize(g + delta)
        return g

    def dcurrent_dstate(self, state, v):
        r""":math:`\partial i/\partial G = v` or :math:`v_{nl} \sinh(v/v_{nl})` (V)."""
        v = np.asarray(v, dtype=float)
        out = self.v_nl * np.sinh(v / self.v_nl) if self.read_iv == "sinh" else v
        return out * np.ones_like(np.asarray(state, dtype=float))

    def dstate_partials(self, state, v):
        """``(0, 0, 0)``: no continuous dynamics."""
        z = self.dstate_dt(state, v)
        return z, z.copy(), z.copy()

    # ---------------------------------------------------------------- exports
    def spice_subckt(self, name: str) -> str:
        """ngspice behavioural ``.subckt name p n``; node ``x`` holds G in uS (constant in time).

        Examples
        --------
        >>> SoftBoundsDevice().spice_subckt("g1").splitlines()[2]
        '.subckt g1 p n'
        """
        self._scalar(*self._array_params)
        g = f"(V(x)*{spice_num(self.spice_state_scale)})"
        if self.read_iv == "sinh":
            vnl = spice_num(self.v_nl)
            current = f"({g}*{vnl}*sinh(V(p,n)/{vnl}))"
        else:
            current = f"({g}*V(p,n))"
        return self._spice_wrap(name, "0", current, f"SoftBoundsDevice, read_iv={self.read_iv}")

    def equations(self) -> dict:
        """The model as text in its own symbols (brian2-style strings)."""
        current = "I = G*v_nl*sinh(v/v_nl) : amp" if self.read_iv == "sinh" else "I = G*v : amp"
        return {
            "state": "dG/dt = 0*siemens/second : siemens",
            "current": current,
            "pulse_up": "G += alpha_up*(G_max - G_min)*((G_max - G)/(G_max - G_min))**gamma_up",
            "pulse_down": "G -= alpha_down*(G_max - G_min)*((G - G_min)/(G_max - G_min))**gamma_down",
            "bounds": "G_min <= G <= G_max",
        }


@dataclasses.dataclass(frozen=True)
class LinearConductance(ConductanceWindow, DeviceModel):
    r"""A non-volatile linear conductance whose state is its conductance (S), for devices described
    by their statistics (e.g. PCM with :mod:`neurosim.devices.pcm`).

    .. math:: i = G v, \qquad \frac{dG}{dt} = 0, \qquad G \in [G_{min}, G_{max}]

    Parameters
    ----------
    G_min, G_max : float or array_like
        Programmable window (S), 0 <= G_min < G_max.
    initial_state : float or array_like
        Initial conductance (S) in [G_min, G_max].

    Examples
    --------
    >>> d = LinearConductance(G_min=0.0, G_max=25e-6)
    >>> float(d.current(1e-5, 0.5))
    5e-06
    """

    G_min: float = 0.0
    G_max: float = 25e-6
    initial_state: float = 0.0

    _params: ClassVar[dict[str, Param]] = {
        "G_min": Param("real", low=0.0, unit="S"),
        "G_max": Param("real", unit="S", **_POS),
        "initial_state": Param("real", low=0.0, unit="S"),
    }
    _array_params: ClassVar[tuple[str, ...]] = ("G_min", "G_max", "initial_state")
    state_name: ClassVar[str] = "G"
    state_unit: ClassVar[str] = "S"
    spice_state_scale: ClassVar[float] = 1e-6

    def _check(self) -> None:
        super()._check()
        self._check_window()



    def dstate_partials(self, state, v):
        """``(0, 0, 0)``: no continuous dynamics."""
        z = self.dstate_dt(state, v)
        return z, z.copy(), z.copy()

    def spice_subckt(self, name: str) -> str:
        """ngspice behavioural ``.subckt name p n``; node ``x`` holds G in uS (constant)."""
        self._scalar(*self._array_params)
        g = f"(V(x)*{spice_num(self.spice_state_scale)})"
        return self._spice_wrap(name, "0", f"({g}*V(p,n))", "LinearConductance")

    def equations(self) -> dict:
        """The model as brian2-style text."""
        return {"state": "dG/dt = 0*siemens/second : siemens", "current": "I = G*v : amp", "bounds": "G_min <= G <= G_max"}
