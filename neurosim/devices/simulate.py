r"""Voltage-driven simulation of single devices (or arrays of devices) with scipy's ``solve_ivp``.

.. math::

    \frac{dx}{dt} = \dot x\big(x, v(t)\big), \qquad i(t) = i\big(x(t), v(t)\big)

Examples
--------
>>> import numpy as np
>>> from neurosim.devices import LinearIonDrift, simulate
>>> m = LinearIonDrift(window="joglekar")
>>> tr = simulate(m, np.linspace(0, 1, 201), lambda t: np.sin(2 * np.pi * t))
>>> tr.state.shape, float(tr.current[0])
((201,), 0.0)
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.integrate import solve_ivp

from neurosim.errors import ConvergenceError, ParameterError
from neurosim.params import check_array

__all__ = ["Trace", "simulate"]


@dataclasses.dataclass(frozen=True)
class Trace:
    """A simulated waveform: times ``t`` (s), voltages ``v`` (V), states and currents ``current`` (A).

    ``state`` and ``current`` have shape ``(len(t),) + device_shape``.
    """

    t: np.ndarray
    v: np.ndarray
    state: np.ndarray
    current: np.ndarray


def simulate(model, t, v, state0=None, method="LSODA", rtol=1e-8, atol=None, max_step=np.inf):
    """Integrate the device state under a voltage drive and return the waveforms at ``t``.

    Parameters
    ----------
    model : DeviceModel
        The device (scalar or per-device parameters).
    t : array_like
        Increasing output times (s); integration runs from ``t[0]`` to ``t[-1]``.
    v : callable or array_like
        Voltage drive (V): a function ``v(t)`` returning a scalar or an array broadcastable to the
        state, or samples at ``t`` (interpolated linearly; then scalar per time).
    state0 : array_like, optional
        Initial state (default ``model.initial_state``).
    method : str
        ``solve_ivp`` method (``"LSODA"``, ``"BDF"``, ``"Radau"``, ``"RK45"``, ...).
    rtol, atol : float
        Tolerances; ``atol`` defaults to ``1e-10`` times the state span.
    max_step : float
        Largest step (s); set it below the shortest feature of the drive.

    Returns
    -------
    Trace
        Times, voltages, states and currents.

    Raises
    ------
    ParameterError
        Non-increasing ``t`` or samples of the wrong length.
    ConvergenceError
        The integrator failed (its message is included).
    """
    t = check_array("simulate", "t", t, ndim=1, dtype=float)
    if t.size < 2 or np.any(np.diff(t) <= 0):
        raise ParameterError("simulate: t must be strictly increasing with at least 2 points")
    if callable(v):
        vfun = v
    else:
        vs = check_array("simulate", "v", v, shape=(t.size,), dtype=float)

        def vfun(tt):
            return np.interp(tt, t, vs)

    x0 = np.asarray(model.initial_state if state0 is None else state0, dtype=float)
    shape = np.broadcast_shapes(x0.shape, model.n_devices_shape)
    x0 = np.broadcast_to(x0, shape).astype(float)
    lo, hi = model.state_bounds
    span = float(np.max(np.asarray(hi) - np.asarray(lo)))
    if atol is None:
        atol = 1e-10 * span

    def f(tt, y):
        return np.asarray(model.dstate_dt(y.reshape(shape), vfun(tt)), dtype=float).ravel()

    sol = solve_ivp(f, (t[0], t[-1]), x0.ravel(), method=method, t_eval=t, rtol=rtol, atol=atol, max_step=max_step)
    if not sol.success:
        raise ConvergenceError(f"simulate: {method} failed at t={sol.t[-1] if sol.t.size else t[0]!r} s: {sol.message}")
    state = sol.y.T.reshape((t.size,) + shape)
    vt = _drive_samples(vfun, t, shape)
    current = model.current(state, vt)
    return Trace(t=t, v=vt, state=state, current=current)


def _drive_samples(vfun, t, shape):
    """``v(t)`` at every output time, shape ``(len(t),) + shape`` (one vectorised call when possible)."""
    try:
        vt = np.asarray(vfun(t), dtype=float)
    except (TypeError, ValueError):
        vt = None
    if vt is not None and vt.shape == t.shape:
        return np.broadcast_to(vt.reshape(t.shape + (1,) * len(shape)), t.shape + shape).copy()
    return np.array([np.broadcast_to(np.asarray(vfun(tt), dtype=float), shape) for tt in t])
