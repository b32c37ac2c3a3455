"""Vectorised evaluation of the nonlinear elements and their derivatives (for Newton).

Every function takes arrays over a group of like elements and returns arrays of the same shape.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

__all__ = ["diode_iv", "pnjlim", "switch_eval", "device_iv", "device_state_eval", "EXP_ARG_MAX"]

#: Beyond this exponent the diode exponential is continued linearly (value and slope continuous),
#: which keeps wild Newton iterates finite; it is ~5 V above the knee of a silicon diode.
EXP_ARG_MAX = 200.0


def diode_iv(vj: np.ndarray, i_s: np.ndarray, nvt: np.ndarray):
    """Shockley current and conductance.

    .. math:: i = I_s (e^{v/(n V_T)} - 1), \\quad g = \\frac{I_s}{n V_T} e^{v/(n V_T)}

    (exponential continued linearly above ``EXP_ARG_MAX``).
    """
    arg = vj / nvt
    big = arg > EXP_ARG_MAX
    e = np.exp(np.minimum(arg, EXP_ARG_MAX))
    ex = np.where(big, e * (1.0 + (arg - EXP_ARG_MAX)), e)
    return i_s * (ex - 1.0), i_s * e / nvt


def pnjlim(vnew: np.ndarray, vold: np.ndarray, nvt: np.ndarray, i_s: np.ndarray) -> np.ndarray:
    """SPICE junction-voltage limiting (``DEVpnjlim``): log-compress large forward steps.

    .. math:: v \\leftarrow v_{old} + n V_T \\ln\\left(1 + \\frac{v - v_{old}}{n V_T}\\right)
              \\quad\\text{if } v > v_{crit},\\ |v - v_{old}| > 2 n V_T
    """
    vcrit = nvt * np.log(nvt / (np.sqrt(2.0) * i_s))
    step = vnew - vold
    act = (vnew > vcrit) & (np.abs(step) > 2 * nvt)
    if not act.any():
        return vnew
    with np.errstate(divide="ignore", invalid="ignore"):
        arg = 1.0 + step / nvt
        from_pos = np.where(arg > 0, vold + nvt * np.log(np.where(arg > 0, arg, 1.0)), vcrit)
        from_neg = nvt * np.log(np.maximum(vnew / nvt, 1e-300))
    lim = np.where(vold > 0, from_pos, from_neg)
    return np.where(act, lim, vnew)


def switch_eval(v12, vc, gon, goff, vt, vw):
    """Smooth switch current and derivatives.

    .. math:: i = g(v_c) v_{12}, \\quad g = g_{off} + (g_{on} - g_{off}) \\sigma\\left(\\frac{v_c - v_t}{v_w}\\right),
              \\quad \\frac{\\partial i}{\\partial v_c} = (g_{on} - g_{off}) \\frac{\\sigma (1 - \\sigma)}{v_w} v_{12}

    Returns
    -------
    i, g, h : numpy.ndarray
        Current (A), conductance ``di/dv12`` (S), transconductance ``di/dvc`` (S).
    """
    sig = expit((vc - vt) / vw)
    g = goff + (gon - goff) * sig
    h = (gon - goff) * sig * (1.0 - sig) / vw * v12
    return g * v12, g, h


def _fd_step(x: np.ndarray) -> np.ndarray:
    return 1e-6 * (1.0 + np.abs(x))


def device_iv(model, state: np.ndarray, v: np.ndarray):
    """Device current and ``di/dv`` (the model's ``dcurrent_dv`` or a central difference)."""
    i = np.broadcast_to(np.asarray(model.current(state, v), dtype=np.float64), v.shape)
    if hasattr(model, "dcurrent_dv"):
        g = np.broadcast_to(np.asarray(model.dcurrent_dv(state, v), dtype=np.float64), v.shape)
    else:
        d = _fd_step(v)
        g = (np.asarray(model.current(state, v + d)) - np.asarray(model.current(state, v - d))) / (2 * d)
    return i, g


def device_state_eval(model, state: np.ndarray, v: np.ndarray):
    """State derivative and the partial derivatives the joint Newton needs.

    Uses the model's optional exact ``dstate_partials(state, v) -> (rate, d/dstate, d/dv)`` and
    ``dcurrent_dstate(state, v)`` when present, otherwise central differences (the state kept at
    least one difference step inside ``state_bounds``).

    Returns
    -------
    f, f_s, f_v, i_s : numpy.ndarray
        ``dstate_dt``, its derivatives by state and voltage, and ``d current / d state``.
    """
    lo, hi = model.state_bounds
    finite = bool(np.isfinite(hi - lo))
    ds = 1e-7 * ((hi - lo) if finite else 1.0) * np.ones_like(state)
    sc = np.clip(state, lo + ds, hi - ds) if finite else state

    def full(a):
        return np.broadcast_to(np.asarray(a, dtype=np.float64), v.shape)

    if hasattr(model, "dstate_partials"):
        f, f_s, f_v = (full(a) for a in model.dstate_partials(state, v))
    else:
        f = full(model.dstate_dt(state, v))
        f_s = full((np.asarray(model.dstate_dt(sc + ds, v)) - np.asarray(model.dstate_dt(sc - ds, v))) / (2 * ds))
        dv = _fd_step(v)
        f_v = full((np.asarray(model.dstate_dt(state, v + dv)) - np.asarray(model.dstate_dt(state, v - dv))) / (2 * dv))
    if hasattr(model, "dcurrent_dstate"):
        i_s = full(model.dcurrent_dstate(state, v))
    else:
        i_s = full((np.asarray(model.current(sc + ds, v)) - np.asarray(model.current(sc - ds, v))) / (2 * ds))
    return f, f_s, f_v, i_s
