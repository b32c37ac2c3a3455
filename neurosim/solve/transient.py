"""Transient analysis: backward Euler / trapezoidal with LTE step control and source breakpoints.

Capacitors and inductors use companion models; diode junction charges :math:`q(v_j)` (depletion and
diffusion, :func:`~neurosim.solve.nonlinear.diode_charge`) the same formulas with the charge in place
of :math:`C v`, linearised in every Newton iteration (:math:`i = \\frac{2}{h}(q_{n+1} - q_n) - i_n`
for trap); device states are unknowns of the same Newton system as the node voltages (joint implicit
integration, see :mod:`neurosim.solve.newton`). Junction voltages of diodes with charge join the LTE
control like capacitor voltages.

.. math::
    \\text{BE:}\\quad i_{n+1} = \\frac{C}{h}(v_{n+1} - v_n), \\qquad
    \\text{trap:}\\quad i_{n+1} = \\frac{2C}{h}(v_{n+1} - v_n) - i_n

and for an inductor (branch current :math:`i`, voltage :math:`v = v_1 - v_2`), on its branch row,

.. math::
    \\text{BE:}\\quad v_{n+1} = \\frac{L}{h}(i_{n+1} - i_n), \\qquad
    \\text{trap:}\\quad v_{n+1} = \\frac{2L}{h}(i_{n+1} - i_n) - v_n

The local truncation error of capacitor voltages, inductor currents and device states is estimated from the
difference between the corrector and a polynomial predictor through the previous points
(linear for BE, quadratic for trap):

.. math::
    \\text{LTE}_{BE} = \\frac{h}{2h + h_1} |q_c - q_p|, \\qquad
    \\text{LTE}_{trap} = \\frac{h^3/12}{h(h+h_1)(h+h_1+h_2)/6 + h^3/12} |q_c - q_p|

and the step is accepted when every ``LTE <= reltol * |q| + atol``; the next step is scaled by
``0.9 * ratio^(-1/(order+1))`` (within [0.25, 2]). Steps land exactly on every source breakpoint, and
the first step after one uses backward Euler.
"""

from __future__ import annotations

import sys

import numpy as np

from neurosim.errors import ConvergenceError, NetlistError, ParameterError
from neurosim.params import Param, check_params
from neurosim.solve.assemble import conductance_stamps, scatter_add, to_csc
from neurosim.solve.compile import compile as _compile
from neurosim.solve.dc import _engine, dc
from neurosim.solve.linear import factorize, refined_solve
from neurosim.solve.newton import NewtonEngine, Tolerances, _v
from neurosim.solve.results import TransientResult

__all__ = ["transient"]

_PARAMS = {
    # a femtosecond to a century: beyond, step sizes and breakpoints lose float64 resolution
    "t_stop": Param("real", low=1e-15, high=3.2e9, unit="s"),
    "method": Param("choice", choices=("trap", "be")),
    "dt_max": Param("real", low=0.0, low_open=True, unit="s", optional=True),
    "dt_init": Param("real", low=0.0, low_open=True, unit="s", optional=True),
    "reltol": Param("real", low=0.0, low_open=True),
    "vntol": Param("real", low=0.0, low_open=True, unit="V"),
    "abstol": Param("real", low=0.0, low_open=True, unit="A"),
    "state_tol": Param("real", low=0.0, low_open=True),
    "uic": Param("bool"),
    "max_steps": Param("int", low=1),
    "progress": Param("bool", optional=True),
}


_PACE_WINDOW = 10_000


def _progress_bar(enabled, t_stop):
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=t_stop, unit="s", unit_scale=True, desc="transient", leave=False)


def transient(
    circuit,
    t_stop: float,
    *,
    method: str = "trap",
    dt_max: float | None = None,
    dt_init: float | None = None,
    reltol: float = 1e-4,
    vntol: float = 1e-6,
    abstol: float = 1e-9,
    state_tol: float = 1e-6,
    uic: bool = False,
    max_steps: int = 200_000,
    progress: bool | None = None,
) -> TransientResult:
    """Integrate a circuit from 0 to ``t_stop`` with adaptive implicit steps.

    Parameters
    ----------
    circuit : Netlist or CompiledCircuit
    t_stop : float
        End time, s.
    method : {"trap", "be"}
        Trapezoidal (2nd order) or backward Euler (1st order).
    dt_max : float, optional
        Largest step, s (default ``t_stop / 100``).
    dt_init : float, optional
        First step, s (default ``1e-5 * dt_max``).
    reltol : float
        Relative LTE tolerance of capacitor voltages and device states.
    vntol : float
        Absolute LTE tolerance of capacitor voltages, V.
    abstol : float
        Absolute LTE tolerance of inductor currents, A.
    state_tol : float
        Absolute LTE tolerance of device states, relative to each model's state range.
    uic : bool
        Start from capacitor ``ic`` values (0 V where not given) and inductor ``ic`` currents (0 A
        where not given) instead of the DC operating point; the initial node voltages are solved
        consistently with those capacitor voltages and inductor currents.
    max_steps : int
        Give up after this many attempted steps. A run that cannot finish within it is stopped
        early: up front when ``t_stop / dt_max`` exceeds it, and at every 10,000 steps when the
        longest step of the last 10,000 projects more than twice ``max_steps`` for the whole run.
    progress : bool or None
        tqdm progress bar; ``None``: on when stderr is a terminal.

    Returns
    -------
    TransientResult
        ``t`` (accepted time points), ``x``, ``s``; ``v(name)``, ``i(name)``, ``state(name)``.

    Raises
    ------
    ConvergenceError
        Newton fails even at the minimum step.

    Examples
    --------
    >>> from neurosim.netlist import Netlist
    >>> from neurosim.solve import transient
    >>> net = Netlist()
    >>> net.add_resistor("R1", "a", "0", 1e3)
    >>> net.add_capacitor("C1", "a", "0", 1e-6, ic=1.0)
    >>> res = transient(net, 1e-3, uic=True, progress=False)
    >>> abs(float(res.v("a")[-1]) - float(np.exp(-1.0))) < 1e-3
    True
    """
    p = check_params(
        "transient",
        _PARAMS,
        dict(t_stop=t_stop, method=method, dt_max=dt_max, dt_init=dt_init, reltol=reltol, vntol=vntol,
             abstol=abstol, state_tol=state_tol, uic=uic, max_steps=max_steps, progress=progress),
    )
    cc = _compile(circuit)
    t_stop = p["t_stop"]
    dt_max = p["dt_max"] or t_stop / 100.0
    if t_stop / dt_max > p["max_steps"]:
        raise ParameterError(
            f"transient: t_stop / dt_max = {t_stop:.6g} s / {dt_max:.6g} s needs at least {t_stop / dt_max:.3g} steps, "
            f"more than max_steps={p['max_steps']}: raise dt_max or max_steps"
        )
    h = p["dt_init"] or 1e-5 * dt_max
    h_min = 1e-14 * t_stop
    trap = p["method"] == "trap"
    tol = Tolerances()
    joint = cc.n_states > 0
    eng = _engine(cc, joint=True) if joint else None
    lo = eng.state_lo if joint else np.zeros(0)
    hi = eng.state_hi if joint else np.zeros(0)
    span = np.where(np.isfinite(hi - lo), hi - lo, 1.0)
    n = cc.size

    # ---- initial point
    s0 = cc.states
    x0, icap0 = _initial_point(cc, p["uic"], s0)
    t, x, s = 0.0, x0, s0
    vc = _v(x, cc.cap_a) - _v(x, cc.cap_b)
    ic = icap0
    il, vl = x[cc.l_row], _v(x, cc.l_a) - _v(x, cc.l_b)  # inductor currents and voltages
    f = _state_rates(cc, s, x) if joint else np.zeros(0)
    ts, xs, ss, cis = [0.0], [x], [s], [ic]
    # diode junction charges (cjo, tt): integrated like capacitors, their junction voltages in the LTE
    dmask = cc.diodes.has_charge
    charged = bool(dmask.any())
    qd, iqd = _diode_charges(cc, x), np.zeros(cc.d_j.size)
    vjd = (_v(x, cc.d_j) - _v(x, cc.d_k))[dmask]
    hist = [(0.0, np.concatenate([vc, il, vjd, s]))]  # (t, q) for the predictor
    bps = np.unique(np.concatenate([cc.breakpoints(t_stop), [t_stop]]))
    bp_k = 0
    after_bp = True
    nq = cc.cap_c.size + cc.l_ind.size + vjd.size
    q_atol = np.concatenate([np.full(cc.cap_c.size, p["vntol"]), np.full(cc.l_ind.size, p["abstol"]),
                             np.full(vjd.size, p["vntol"]), p["state_tol"] * span])
    q_lo = np.concatenate([np.full(nq, -np.inf), lo])
    q_hi = np.concatenate([np.full(nq, np.inf), hi])
    lin_cache: dict = {}
    bar = _progress_bar(p["progress"], t_stop)
    stats = {"accepted": 0, "rejected": 0, "rejected_newton": 0, "newton_iterations": 0, "method": p["method"]}
    steps = 0
    h_window = 0.0
    try:
        while t < t_stop * (1 - 1e-12):
            steps += 1
            if steps > p["max_steps"]:
                raise ConvergenceError(f"transient: more than max_steps={p['max_steps']} steps at t={t:.6g} s")
            if steps % _PACE_WINDOW == 0:
                # stop a run that is bound to exceed max_steps now rather than after all of them
                # the longest step of the window is the optimistic pace (steps grow after a fast start)
                pace = h_window
                projected = steps + (t_stop - t) / pace if pace > 0 else np.inf
                if projected > 2 * p["max_steps"]:
                    raise ConvergenceError(
                        f"transient: at the pace of the last {_PACE_WINDOW} steps (longest step {pace:.3g} s, t={t:.6g} s) "
                        f"the run needs about {projected:.3g} steps, more than twice max_steps={p['max_steps']}: "
                        "raise max_steps, or check for a source faster than the run's time scale"
                    )
                h_window = 0.0
            while bp_k < bps.size and bps[bp_k] <= t * (1 + 1e-12):
                bp_k += 1
            nxt = bps[min(bp_k, bps.size - 1)]
            h = min(h, dt_max)
            if t + h > nxt - 0.01 * h:
                h = nxt - t
            order2 = trap and not after_bp
            theta = 0.5 if order2 else 1.0
            geq = (2.0 if order2 else 1.0) * cc.cap_c / h
            ieq = -geq * vc - (ic if order2 else 0.0)
            b = cc.rhs(t=t + h)
            scatter_add(b, cc.cap_a, -ieq)
            scatter_add(b, cc.cap_b, ieq)
            req = (2.0 if order2 else 1.0) * cc.l_ind / h  # inductor companion resistance, ohm
            b[cc.l_row] = -req * il - (vl if order2 else 0.0)
            if not cc.nonlinear:
                x_new = _linear_step(cc, lin_cache, geq, b, req)
                s_new, ok = s, True
            else:
                # states resting at a bound with their rate pointing outward stay there this step
                step = {"h": h, "theta": theta, "s_n": s, "f_n": f, "pinned": eng.cc_bound_outward(s, x)} if joint else None
                e = eng if joint else _engine(cc)
                coef = (2.0 if order2 else 1.0) / h
                dq = {"coef": coef, "q_n": qd, "i_n": iqd if order2 else 0.0} if charged else None
                r = e.run(x, b, s, cap_g=geq, step=step, tol=tol, max_iter=50, ind_r=req, dq=dq, t=t + h)
                stats["newton_iterations"] += r.iterations
                ok = r.converged
                x_new = r.z[:n]
                s_new = np.clip(r.z[n:], lo, hi) if joint else s
            if not ok:
                stats["rejected"] += 1
                stats["rejected_newton"] += 1
                h /= 8.0
                if h < h_min:
                    raise ConvergenceError(
                        f"transient: Newton failed at t={t:.6g} s even with step {h * 8:.3g} s "
                        f"(tried step reduction down to {h_min:.3g} s)"
                    )
                continue
            vc_new = _v(x_new, cc.cap_a) - _v(x_new, cc.cap_b)
            il_new = x_new[cc.l_row]
            vjd_new = (_v(x_new, cc.d_j) - _v(x_new, cc.d_k))[dmask]
            q_new = np.concatenate([vc_new, il_new, vjd_new, s_new])
            ratio = _lte_ratio(hist, t + h, q_new, order2, p["reltol"], q_atol, q_lo, q_hi)
            if ratio > 1.0:
                stats["rejected"] += 1
                h *= max(0.9 * ratio ** (-1.0 / (3 if order2 else 2)), 0.1)
                if h < h_min:
                    raise ConvergenceError(f"transient: step size underflow at t={t:.6g} s (LTE control)")
                continue
            # accept
            ic = geq * (vc_new - vc) - (ic if order2 else 0.0)
            if charged:
                qd_new = _diode_charges(cc, x_new)
                iqd = coef * (qd_new - qd) - (iqd if order2 else 0.0)
                qd = qd_new
            t, x, s, vc = t + h, x_new, s_new, vc_new
            h_window = max(h_window, h)
            il, vl = il_new, _v(x, cc.l_a) - _v(x, cc.l_b)
            if joint:
                f = _state_rates(cc, s, x)
            ts.append(t), xs.append(x), ss.append(s), cis.append(ic)
            hist = (hist + [(t, q_new)])[-3:]
            stats["accepted"] += 1
            if bar is not None:
                bar.update(h)
            after_bp = bool(abs(t - nxt) <= 1e-12 * max(t_stop, 1.0) and nxt < t_stop)
            if ratio > 0:
                grow = min(2.0, 0.9 * ratio ** (-1.0 / (3 if order2 else 2)))
                if grow >= 1.5 or grow < 1.0:  # keep h when it would grow a little: reuses the LU
                    h *= max(grow, 0.25)
            else:
                h *= 2.0
    finally:
        if bar is not None:
            bar.close()
    return TransientResult(
        cc, np.array(ts), np.array(xs), np.array(ss).reshape(len(ts), cc.n_states), stats,
        cap_i=np.array(cis).reshape(len(ts), cc.cap_c.size),
    )


def _initial_point(cc, uic, s0):
    """Unknowns at t = 0 and capacitor currents (A)."""
    if not uic:
        op = dc(cc, t=0.0, states=s0)
        return op.x, np.zeros(cc.cap_c.size)
    if cc.cap_c.size == 0 and cc.l_ind.size == 0:
        raise NetlistError("transient: uic=True but the circuit has no capacitors or inductors")
    eng = NewtonEngine(cc, vcon=(cc.cap_a, cc.cap_b), inductor_ic=cc.l_ind.size > 0)
    b = np.concatenate([cc.rhs(t=0.0), np.nan_to_num(cc.cap_ic, nan=0.0)])
    b[cc.l_row] = np.nan_to_num(cc.l_ic, nan=0.0)  # inductor rows read i = ic
    r = eng.run(np.zeros(cc.size), b, s0, ind_r=np.full(cc.l_ind.size, -1.0))
    if not r.converged:
        raise ConvergenceError("transient: the initial point with capacitor initial conditions did not converge")
    return r.z[: cc.size], r.z[cc.size :]


def _diode_charges(cc, x):
    """Junction charge of every diode at the unknowns ``x``, C."""
    from neurosim.solve.nonlinear import diode_charge, diode_iv

    d = cc.diodes
    vj = _v(x, cc.d_j) - _v(x, cc.d_k)
    i_d, g_d = diode_iv(vj, d.i_s, d.nvt, d.bv, d.nbvt, d.g_min)
    return diode_charge(vj, i_d, g_d, d)[0]


def _state_rates(cc, s, x):
    out = []
    for g in cc.devices:
        sl = slice(g.offset, g.offset + g.names.size)
        v = _v(x, g.a) - _v(x, g.b)
        out.append(np.broadcast_to(np.asarray(g.model.dstate_dt(s[sl], v), dtype=np.float64), v.shape))
    return np.concatenate(out)


def _linear_step(cc, cache, geq, b, req):
    """Solve a linear circuit's step; the LU is reused while the step (so ``geq``, ``req``) is unchanged."""
    key = geq.tobytes() + req.tobytes()
    if cache.get("key") != key:
        r, c, v = cc.linear_triplets()
        cr, ccol, cv = conductance_stamps(cc.cap_a, cc.cap_b, geq)
        m = to_csc(np.concatenate([r, cr, cc.l_row]), np.concatenate([c, ccol, cc.l_row]),
                   np.concatenate([v, cv, -req]), cc.size)
        cache["key"] = key
        cache["lu"] = factorize(m)
        cache["A"], cache["absA"] = m, abs(m)
    return refined_solve(cache["A"], cache["lu"].solve, b, names=cc.node_names + cc.branch_names, owner="transient",
                         n_nodes=cc.n_nodes, abs_A=cache["absA"])


def _lte_ratio(hist, t_new, q_new, order2, reltol, atol, lo, hi) -> float:
    """max LTE / tolerance over capacitor voltages and states (0 when no predictor is available).

    The predictor is clipped to the state bounds: a state resting at its bound is not an error.
    """
    if q_new.size == 0:
        return 0.0
    need = 3 if order2 else 2
    if len(hist) < need:
        return 0.0
    pts = hist[-need:]
    h = t_new - pts[-1][0]
    h1 = pts[-1][0] - pts[-2][0]
    if order2:
        h2 = pts[-2][0] - pts[-3][0]
        # quadratic extrapolation through the last three points (Lagrange form)
        t0, t1, t2 = pts[-3][0], pts[-2][0], pts[-1][0]
        q0, q1, q2 = pts[-3][1], pts[-2][1], pts[-1][1]
        l0 = (t_new - t1) * (t_new - t2) / ((t0 - t1) * (t0 - t2))
        l1 = (t_new - t0) * (t_new - t2) / ((t1 - t0) * (t1 - t2))
        l2 = (t_new - t0) * (t_new - t1) / ((t2 - t0) * (t2 - t1))
        qp = l0 * q0 + l1 * q1 + l2 * q2
        coef = (h**3 / 12.0) / (h * (h + h1) * (h + h1 + h2) / 6.0 + h**3 / 12.0)
    else:
        qp = pts[-1][1] + h * (pts[-1][1] - pts[-2][1]) / h1
        coef = h / (2.0 * h + h1)
    lte = coef * np.abs(q_new - np.clip(qp, lo, hi))
    scale = reltol * np.maximum(np.abs(q_new), np.abs(pts[-1][1])) + atol
    return float(np.max(lte / scale))
