"""Time-dependent source waveforms with SPICE semantics: PWL, PULSE and SIN.

A waveform is attached to an independent voltage or current source. DC analyses use the source's
``dc`` value; transient analyses use ``waveform.value(t)`` (SPICE does the same). Every waveform
lists its breakpoints (corners where the derivative jumps) so the transient integrator never steps
across one.

Examples
--------
>>> from neurosim.netlist.waveforms import Pulse
>>> p = Pulse(v1=0.0, v2=1.0, delay=1e-3, rise=1e-4, fall=1e-4, width=1e-3, period=4e-3)
>>> [round(float(x), 6) for x in p.value([0.0, 1.05e-3, 1.5e-3, 5.2e-3])]
[0.0, 0.5, 1.0, 1.0]
>>> [round(float(b), 9) for b in p.breakpoints(3e-3)]
[0.001, 0.0011, 0.0021, 0.0022]
"""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

import numpy as np

from neurosim.errors import ParameterError
from neurosim.params import Checked, Param, check_array

__all__ = ["Waveform", "PWL", "Pulse", "Sine"]


class Waveform(Checked):
    """Base class: ``value(t)`` (vectorised over ``t`` in s) and ``breakpoints(t_stop)``."""

    def value(self, t):  # pragma: no cover - abstract
        raise NotImplementedError

    def breakpoints(self, t_stop: float) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclasses.dataclass(frozen=True, eq=False)
class PWL(Waveform):
    """Piecewise-linear waveform ``PWL(t1 v1 t2 v2 ...)``.

    Before ``times[0]`` the value is ``values[0]``; after ``times[-1]`` it stays at ``values[-1]``.

    .. math:: w(t) = v_k + (v_{k+1} - v_k) \\frac{t - t_k}{t_{k+1} - t_k}, \\quad t_k \\le t < t_{k+1}

    Parameters
    ----------
    times : array_like of float
        Corner times in s, non-decreasing, >= 0; a repeated time is a step (the first value at the
        corner itself, the second after it, as ngspice).
    values : array_like of float
        Source value (V or A) at each corner.

    Raises
    ------
    ParameterError
        Shapes differ, fewer than one point, times decreasing or negative.

    Examples
    --------
    >>> PWL([0.0, 1.0, 2.0], [0.0, 2.0, 2.0]).value([0.5, 1.5, 9.0]).tolist()
    [1.0, 2.0, 2.0]
    >>> PWL([0.0, 1.0, 1.0, 2.0], [0.0, 1.0, 3.0, 3.0]).value([0.5, 1.0, 1.5]).tolist()
    [0.5, 1.0, 3.0]
    """

    times: np.ndarray
    values: np.ndarray

    def _check(self) -> None:
        t = check_array("PWL", "times", self.times, ndim=1, dtype=np.float64)
        v = check_array("PWL", "values", self.values, shape=(t.size,), dtype=np.float64)
        if t.size < 1:
            raise ParameterError("PWL: times must have at least 1 point, got 0")
        if t[0] < 0 or np.any(np.diff(t) < 0):
            raise ParameterError(f"PWL: times must be >= 0 s and non-decreasing, got {t.tolist()[:8]}")
        t.flags.writeable = False
        v.flags.writeable = False
        object.__setattr__(self, "times", t)
        object.__setattr__(self, "values", v)

    def value(self, t):
        """Value at time(s) ``t`` (s)."""
        t = np.asarray(t, dtype=np.float64)
        tk, vk = self.times, self.values
        if tk.size == 1 or np.all(np.diff(tk) > 0):
            return np.interp(t, tk, vk)
        # a repeated time is a step: at the corner itself its first value (as ngspice), after it the last
        first = np.minimum(np.searchsorted(tk, t, side="left"), tk.size - 1)
        k = np.clip(np.searchsorted(tk, t, side="right") - 1, 0, tk.size - 2)
        span = tk[k + 1] - tk[k]
        frac = np.clip((t - tk[k]) / np.where(span > 0, span, 1.0), 0.0, 1.0)
        ramp = vk[k] + (vk[k + 1] - vk[k]) * frac
        ramp = np.where(t >= tk[-1], vk[-1], np.where(t <= tk[0], vk[0], ramp))
        return np.where(tk[first] == t, vk[first], ramp)

    def breakpoints(self, t_stop: float) -> np.ndarray:
        """Corner times in ``(0, t_stop]`` (s)."""
        t = self.times
        return np.unique(t[(t > 0) & (t <= t_stop)])


@dataclasses.dataclass(frozen=True, eq=False)
class Pulse(Waveform):
    """Trapezoidal pulse train ``PULSE(v1 v2 td tr tf pw per)`` (SPICE semantics).

    With :math:`\\tau = (t - t_d) \\bmod T` for :math:`t \\ge t_d`:

    .. math::
        w = \\begin{cases} v_1 & t < t_d \\\\
        v_1 + (v_2 - v_1)\\tau / t_r & \\tau < t_r \\\\
        v_2 & \\tau < t_r + p_w \\\\
        v_2 + (v_1 - v_2)(\\tau - t_r - p_w)/t_f & \\tau < t_r + p_w + t_f \\\\
        v_1 & \\text{otherwise} \\end{cases}

    Parameters
    ----------
    v1, v2 : float
        Initial and pulsed value (V or A).
    delay : float
        Delay ``td`` before the first edge, s, >= 0.
    rise, fall : float
        Edge durations, s, > 0 (SPICE replaces 0 by its time step; give a small value instead).
    width : float
        Pulse width at ``v2``, s, >= 0.
    period : float or None
        Repetition period, s, > 0; ``None`` for a single pulse. A period shorter than
        ``rise + width + fall`` cuts each pulse short at the next period start (as ngspice).

    Examples
    --------
    >>> Pulse(0.0, 1.0, 0.0, 1.0, 1.0, 1.0).value([0.5, 1.5, 2.5, 9.0]).tolist()
    [0.5, 1.0, 0.5, 0.0]
    """

    v1: float
    v2: float
    delay: float = 0.0
    rise: float = 1e-9
    fall: float = 1e-9
    width: float = 1e-6
    period: float | None = None

    _params: ClassVar[dict[str, Param]] = {
        "v1": Param("real"),
        "v2": Param("real"),
        "delay": Param("real", low=0.0, unit="s"),
        "rise": Param("real", low=0.0, low_open=True, unit="s"),
        "fall": Param("real", low=0.0, low_open=True, unit="s"),
        "width": Param("real", low=0.0, unit="s"),
        "period": Param("real", low=0.0, low_open=True, unit="s", optional=True),
    }

    def value(self, t):
        """Value at time(s) ``t`` (s)."""
        t = np.asarray(t, dtype=np.float64)
        tau = t - self.delay
        if self.period is not None:  # as ngspice: wrap only once past a full period (t - td > per)
            tau = np.where(tau > self.period, np.mod(tau, self.period), tau)
        tr, pw, tf = self.rise, self.width, self.fall
        up = self.v1 + (self.v2 - self.v1) * tau / tr
        down = self.v2 + (self.v1 - self.v2) * (tau - tr - pw) / tf
        return np.select(
            [tau < 0, tau < tr, tau < tr + pw, tau < tr + pw + tf],
            [self.v1, up, self.v2, down],
            default=self.v1,
        )

    #: most breakpoints a pulse train may put in one run (each is a forced time step)
    MAX_BREAKPOINTS = 1_000_000

    def breakpoints(self, t_stop: float) -> np.ndarray:
        """Edge corners in ``(0, t_stop]`` (s).

        Raises
        ------
        ParameterError
            The run would hold more than ``MAX_BREAKPOINTS`` corners (every one is a time step).
        """
        corners = np.array([0.0, self.rise, self.rise + self.width, self.rise + self.width + self.fall])
        if self.period is not None:  # a pulse longer than its period is cut at the next period start
            corners = corners[corners < self.period]
        if self.period is None:
            starts = np.array([self.delay])
        else:
            periods = max(t_stop - self.delay, 0.0) / self.period
            if 4 * periods > self.MAX_BREAKPOINTS:
                raise ParameterError(
                    f"Pulse: a period of {self.period!r} s over {t_stop!r} s makes {4 * periods:.3g} edge corners, more "
                    f"than {self.MAX_BREAKPOINTS} time steps; shorten the run or lengthen the period"
                )
            n = int(math.floor(periods)) + 1
            starts = self.delay + self.period * np.arange(n)
        bp = (starts[:, None] + corners[None, :]).ravel()
        return np.unique(bp[(bp > 0) & (bp <= t_stop)])


@dataclasses.dataclass(frozen=True, eq=False)
class Sine(Waveform):
    """Damped sine ``SIN(vo va freq td theta phase)`` (SPICE semantics, phase in degrees).

    .. math::
        w(t) = \\begin{cases} v_o + v_a \\sin(\\phi) & t < t_d \\\\
        v_o + v_a e^{-\\theta (t - t_d)} \\sin(2 \\pi f (t - t_d) + \\phi) & t \\ge t_d \\end{cases}

    Parameters
    ----------
    offset, amplitude : float
        ``vo`` and ``va`` (V or A).
    frequency : float
        Hz, >= 0.
    delay : float
        s; negative shifts the sine earlier (as ngspice).
    damping : float
        ``theta``, 1/s, >= 0.
    phase : float
        Degrees.

    Examples
    --------
    >>> round(float(Sine(1.0, 2.0, 0.25).value(1.0)), 12)
    3.0
    """

    offset: float
    amplitude: float
    frequency: float
    delay: float = 0.0
    damping: float = 0.0
    phase: float = 0.0

    _params: ClassVar[dict[str, Param]] = {
        "offset": Param("real"),
        "amplitude": Param("real"),
        "frequency": Param("real", low=0.0, unit="Hz"),
        "delay": Param("real", unit="s"),
        "damping": Param("real", low=0.0, unit="1/s"),
        "phase": Param("real", unit="deg"),
    }

    def value(self, t):
        """Value at time(s) ``t`` (s)."""
        t = np.asarray(t, dtype=np.float64)
        phi = math.radians(self.phase)
        dt = np.maximum(t - self.delay, 0.0)
        return self.offset + self.amplitude * np.exp(-self.damping * dt) * np.sin(
            2.0 * math.pi * self.frequency * dt + phi
        )

    def breakpoints(self, t_stop: float) -> np.ndarray:
        """The start of the oscillation (``delay``) if inside ``(0, t_stop]`` (s)."""
        return np.array([self.delay]) if 0 < self.delay <= t_stop else np.zeros(0)


@dataclasses.dataclass(frozen=True, eq=False)
class Exp(Waveform):
    """Two-exponential pulse ``EXP(v1 v2 td1 tau1 td2 tau2)`` (SPICE semantics).

    .. math::
        w(t) = v_1 + (v_2 - v_1)\\left(1 - e^{-(t - t_{d1})/\\tau_1}\\right)[t > t_{d1}]
               + (v_1 - v_2)\\left(1 - e^{-(t - t_{d2})/\\tau_2}\\right)[t > t_{d2}]

    Parameters
    ----------
    v1, v2 : float
        Initial and pulsed value (V or A).
    delay1, tau1 : float
        Rise delay (s, >= 0) and rise time constant (s, > 0).
    delay2, tau2 : float
        Fall delay (s, >= delay1) and fall time constant (s, > 0).

    Examples
    --------
    >>> round(float(Exp(0.0, 1.0, 0.0, 1.0, 10.0, 1.0).value(1.0)), 6)
    0.632121
    """

    v1: float
    v2: float
    delay1: float
    tau1: float
    delay2: float
    tau2: float

    _params: ClassVar[dict[str, Param]] = {
        "v1": Param("real"),
        "v2": Param("real"),
        "delay1": Param("real", low=0.0, unit="s"),
        "tau1": Param("real", low=0.0, low_open=True, unit="s"),
        "delay2": Param("real", low=0.0, unit="s"),
        "tau2": Param("real", low=0.0, low_open=True, unit="s"),
    }

    def _check(self) -> None:
        super()._check()
        if self.delay2 < self.delay1:
            raise ParameterError(f"Exp: delay2 must be >= delay1 = {self.delay1!r} s, got {self.delay2!r}")

    def value(self, t):
        """Value at time(s) ``t`` (s)."""
        t = np.asarray(t, dtype=np.float64)
        rise = -np.expm1(-np.maximum(t - self.delay1, 0.0) / self.tau1)
        fall = -np.expm1(-np.maximum(t - self.delay2, 0.0) / self.tau2)
        return self.v1 + (self.v2 - self.v1) * rise + (self.v1 - self.v2) * fall

    def breakpoints(self, t_stop: float) -> np.ndarray:
        """The two delays inside ``(0, t_stop]`` (s)."""
        bp = np.array([self.delay1, self.delay2])
        return np.unique(bp[(bp > 0) & (bp <= t_stop)])
