"""Vectorised evaluation of the nonlinear elements and their derivatives (for Newton).

Every function takes arrays over a group of like elements and returns arrays of the same shape.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.special import expit

from neurosim.netlist.elements import BOLTZMANN as K
from neurosim.netlist.elements import CHARGE as Q
from neurosim.netlist.elements import T_NOMINAL as TREF

__all__ = ["diode_iv", "diode_charge", "diode_temperature", "diode_limit", "DiodeArrays", "pnjlim", "switch_eval", "device_iv", "device_state_eval", "EXP_ARG_MAX"]

#: Beyond this exponent the diode exponential is continued linearly (value and slope continuous),
#: which keeps wild Newton iterates finite; it is ~5 V above the knee of a silicon diode.
EXP_ARG_MAX = 200.0


def diode_iv(vj: np.ndarray, i_s: np.ndarray, nvt: np.ndarray, bv=np.inf, nbvt=None, g_min=0.0):
    r"""Junction current and conductance of SPICE's level-1 diode (ngspice-39 ``dioload.c``).

    .. math::

        i(v) = \begin{cases}
            I_s (e^{v/(n V_T)} - 1) & v \ge -3 n V_T \\
            -I_s \left(1 + \left(\frac{3 n V_T}{e\, v}\right)^3\right) & -BV' \le v < -3 n V_T \\
            -I_s\, e^{-(BV' + v)/(n_{bv} V_T)} & v < -BV'
        \end{cases} \; + g_{min} v, \qquad g = \frac{di}{dv}

    (exponentials continued linearly above ``EXP_ARG_MAX``; ``bv = inf``: no breakdown region).

    Parameters
    ----------
    vj : ndarray
        Junction voltage, V.
    i_s, nvt : ndarray
        Saturation current (A) and :math:`n V_T` (V), at the device temperature.
    bv : ndarray or float
        Breakdown voltage :math:`BV'` matched to ``ibv`` (:func:`diode_temperature`), V.
    nbvt : ndarray, optional
        :math:`n_{bv} V_T`, V (default ``nvt``).
    g_min : ndarray or float
        Conductance across the junction, S.

    Returns
    -------
    i, g : ndarray
        Current (A) and conductance (S).
    """
    nbvt = nvt if nbvt is None else nbvt
    arg = vj / nvt
    e = np.exp(np.minimum(arg, EXP_ARG_MAX))
    fwd = arg >= -3.0
    i = i_s * (np.where(arg > EXP_ARG_MAX, e * (1.0 + (arg - EXP_ARG_MAX)), e) - 1.0)
    g = i_s * e / nvt
    if not np.all(fwd):
        v_rev = np.where(fwd, -1.0, vj)  # any negative value where unused (no division by 0)
        a = (3.0 * nvt / (v_rev * np.e)) ** 3
        brk = ~fwd & (vj < -bv)
        with np.errstate(invalid="ignore"):  # bv = inf: -(bv + v) = -inf, unused
            b = np.where(brk, -(bv + vj) / nbvt, 0.0)
        eb = np.exp(np.minimum(b, EXP_ARG_MAX))
        i_b = -i_s * np.where(b > EXP_ARG_MAX, eb * (1.0 + (b - EXP_ARG_MAX)), eb)
        i = np.where(fwd, i, np.where(brk, i_b, -i_s * (1.0 + a)))
        g = np.where(fwd, g, np.where(brk, i_s * eb / nbvt, i_s * 3.0 * a / v_rev))
    return i + g_min * vj, g + g_min


def diode_charge(vj: np.ndarray, i_d: np.ndarray, g_d: np.ndarray, d) -> tuple[np.ndarray, np.ndarray]:
    r"""Junction charge and capacitance (ngspice-39 level 1): depletion plus diffusion.

    .. math::

        q(v) = \begin{cases}
            \frac{V_J C_{J0}}{1 - M}\left(1 - (1 - v/V_J)^{1-M}\right) & v < F_C V_J \\
            C_{J0} F_1 + \frac{C_{J0}}{F_2}\left(F_3 (v - F_C V_J) + \frac{M}{2 V_J}(v^2 - (F_C V_J)^2)\right)
            & \text{otherwise}
        \end{cases} \; + \tau_T\, i(v), \qquad C = \frac{dq}{dv}

    with :math:`F_1 = V_J (1 - (1 - F_C)^{1-M})/(1 - M)`, :math:`F_2 = (1 - F_C)^{1+M}`,
    :math:`F_3 = 1 - F_C (1 + M)` at the device temperature (:func:`diode_temperature`), and
    :math:`i, g` the junction current and conductance of :func:`diode_iv` (``gmin`` included, as in ngspice).

    Returns
    -------
    q, c : ndarray
        Charge (C) and capacitance (F).
    """
    below = vj < d.depcap
    x = np.where(below, 1.0 - vj / d.vj, 1.0)
    sarg = np.exp(-d.m * np.log(x))
    czof2 = d.cjo / d.f2
    q = np.where(below, d.vj * d.cjo * (1.0 - x * sarg) / (1.0 - d.m),
                 d.cjo * d.f1 + czof2 * (d.f3 * (vj - d.depcap) + d.m / (2.0 * d.vj) * (vj * vj - d.depcap * d.depcap)))
    c = np.where(below, d.cjo * sarg, czof2 * (d.f3 + d.m * vj / d.vj))
    return q + d.tt * i_d, c + d.tt * g_d


#: The grading coefficient is limited to this value after temperature adjustment (ngspice-39's
#: default ``DIOgradingCoeffMax``).
GRADING_MAX = 0.9


@dataclasses.dataclass(frozen=True)
class DiodeArrays:
    """Per-diode parameters at the device temperature (arrays of one compiled circuit)."""

    i_s: np.ndarray  #: saturation current, A
    nvt: np.ndarray  #: n V_T, V
    vcrit: np.ndarray  #: critical voltage of pnjlim, V
    bv: np.ndarray  #: breakdown voltage matched to ibv (inf: none), V
    nbvt: np.ndarray  #: nbv V_T, V
    g_min: np.ndarray  #: junction shunt, S
    cjo: np.ndarray  #: zero-bias depletion capacitance, F
    vj: np.ndarray  #: junction potential, V
    m: np.ndarray  #: grading coefficient
    depcap: np.ndarray  #: F_C V_J, V
    f1: np.ndarray
    f2: np.ndarray
    f3: np.ndarray
    tt: np.ndarray  #: transit time, s
    has_charge: np.ndarray  #: bool: cjo > 0 or tt > 0


def diode_temperature(p: dict) -> DiodeArrays:
    r"""Level-1 diode parameters at the device temperature (ngspice-39 ``diotemp.c``, ``TLEV = TLEVC = 0``).

    With :math:`V_T = k T/q` and :math:`T_n` = ``tnom`` (K):

    .. math::

        I_s(T) = I_s\, \exp\!\left(\left(\frac{T}{T_n} - 1\right)\frac{E_g}{n V_T}
                 + \frac{X_{TI}}{n} \ln\frac{T}{T_n}\right)

    the junction potential and capacitance follow SPICE's silicon band-gap law
    (:math:`E_g(T) = 1.16 - 7.02\times10^{-4} T^2/(T + 1108)` eV) and the breakdown voltage is moved
    so that the reverse current at :math:`-BV` is ``ibv`` (ngspice's fixed-point iteration, to 1e-12
    relative).

    Parameters
    ----------
    p : dict of ndarray
        ``i_s, n, bv, ibv, nbv, cjo, vj, m, fc, tt, eg, xti, temp, tnom, g_min`` (defaults already applied).

    Returns
    -------
    DiodeArrays
    """
    T, Tn, n = p["temp"], p["tnom"], p["n"]
    vt = K * T / Q
    nvt = n * vt
    vtnom = K * Tn / Q
    m = np.minimum(p["m"], GRADING_MAX)
    fact2 = T / TREF
    egfet = 1.16 - (7.02e-4 * T * T) / (T + 1108.0)
    pbfact = -2.0 * vt * (1.5 * np.log(fact2) + Q * (-egfet / (2.0 * K * T) + 1.1150877 / (K * (TREF + TREF))))
    egfet1 = 1.16 - (7.02e-4 * Tn * Tn) / (Tn + 1108.0)
    fact1 = Tn / TREF
    pbfact1 = -2.0 * vtnom * (1.5 * np.log(fact1) + Q * (-egfet1 / (K * 2.0 * Tn) + 1.1150877 / (2.0 * K * TREF)))
    pbo = (p["vj"] - pbfact1) / fact1
    gmaold = (p["vj"] - pbo) / pbo
    cjo = p["cjo"] / (1.0 + m * (400e-6 * (Tn - TREF) - gmaold))
    vj = pbfact + fact2 * pbo
    gmanew = (vj - pbo) / pbo
    cjo = cjo * (1.0 + m * (400e-6 * (T - TREF) - gmanew))
    i_s = p["i_s"] * np.exp((T / Tn - 1.0) * p["eg"] / nvt + p["xti"] / n * np.log(T / Tn))
    xfc = np.log(1.0 - p["fc"])
    f1 = vj * (1.0 - np.exp((1.0 - m) * xfc)) / (1.0 - m)  # before the limit below, as in ngspice
    vj = np.where(p["fc"] * vj > 1.0, 1.0 / np.where(p["fc"] > 0, p["fc"], 1.0), vj)  # VJ at most 1/FC
    depcap = p["fc"] * vj
    vcrit = nvt * np.log(nvt / (np.sqrt(2.0) * i_s))
    nbvt = p["nbv"] * vt
    bv = p["bv"].copy()
    fin = np.isfinite(bv)
    if fin.any():
        BV, cbv, isb, vtb, nb = bv[fin], p["ibv"][fin], i_s[fin], vt[fin], nbvt[fin]
        match = cbv >= isb * BV / vtb  # else the reverse region already reaches ibv: BV unchanged
        xbv = BV - nb * np.log1p(cbv / isb)
        done = ~match
        for _ in range(25):
            nxt = BV - nb * np.log(cbv / isb + 1.0 - xbv / vtb)
            xbv = np.where(done, xbv, nxt)
            xcbv = isb * (np.exp((BV - xbv) / nb) - 1.0 + xbv / vtb)
            done |= np.abs(xcbv - cbv) <= 1e-12 * cbv
            if done.all():
                break
        bv[fin] = np.where(match, xbv, BV)
    return DiodeArrays(i_s, nvt, vcrit, bv, nbvt, p["g_min"], cjo, vj, m, depcap, f1, np.exp((1.0 + m) * xfc),
                       1.0 - p["fc"] * (1.0 + m), p["tt"], (p["cjo"] > 0) | (p["tt"] > 0))


def diode_limit(vnew: np.ndarray, vold: np.ndarray, d: DiodeArrays) -> np.ndarray:
    """SPICE's junction limiting of a Newton step (ngspice-39 ``dioload.c``): :func:`pnjlim` on the
    junction voltage, or, deep in reverse bias with a breakdown voltage, on :math:`-(v + BV)` with
    :math:`n_{bv} V_T` (the breakdown exponential limited like the forward one)."""
    with np.errstate(invalid="ignore"):
        rev = vnew < np.minimum(0.0, -d.bv + 10.0 * d.nbvt)
    out = pnjlim(vnew, vold, d.nvt, d.i_s, d.vcrit)
    if rev.any():
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            t = -(pnjlim(-(vnew + d.bv), -(vold + d.bv), d.nbvt, d.i_s, d.vcrit) + d.bv)
        out = np.where(rev, t, out)
    return out


def pnjlim(vnew: np.ndarray, vold: np.ndarray, nvt: np.ndarray, i_s: np.ndarray, vcrit=None) -> np.ndarray:
    """SPICE junction-voltage limiting (``DEVpnjlim``): log-compress large forward steps.

    .. math:: v \\leftarrow v_{old} + n V_T \\ln\\left(1 + \\frac{v - v_{old}}{n V_T}\\right)
              \\quad\\text{if } v > v_{crit},\\ |v - v_{old}| > 2 n V_T
    """
    if vcrit is None:
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
