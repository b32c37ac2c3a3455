"""Quasi-static transient: device states as an ODE, the circuit solved at DC inside its right-hand side.

For circuits without capacitors (a memristive crossbar driven by sources) the node voltages are an
algebraic function of the device states and the source values, so the states alone form the ODE

.. math:: \\dot s = f\\big(s, v(s, u(t))\\big), \\qquad A x + i_{dev}(s, x) = b(u(t))

integrated by scipy's ``solve_ivp`` methods (stepped one step at a time); each right-hand-side
call is one DC Newton solve, warm-started from the previous one. Integration restarts at every
source breakpoint, and whenever a state crosses its bound: it is clipped to the bound and the
integrator restarted there (a state held at a bound then stays exactly at it).
"""

from __future__ import annotations

import numpy as np
from scipy import integrate

from neurosim.errors import ConvergenceError, NetlistError
from neurosim.params import Param, check_array, check_params
from neurosim.solve.compile import compile as _compile
from neurosim.solve.dc import _engine
from neurosim.solve.newton import Tolerances, _v
from neurosim.solve.results import TransientResult
from neurosim.solve.transient import _progress_bar

__all__ = ["quasistatic"]

_PARAMS = {
    "t_stop": Param("real", low=0.0, low_open=True, unit="s"),
    "method": Param("choice", choices=("RK45", "RK23", "DOP853", "Radau", "BDF", "LSODA")),
    "rtol": Param("real", low=0.0, low_open=True),
    "state_tol": Param("real", low=0.0, low_open=True),
    "max_step": Param("real", low=0.0, low_open=True, unit="s", optional=True),
    "progress": Param("bool", optional=True),
}


def quasistatic(
    circuit,
    t_stop: float,
    *,
    t_eval=None,
    method: str = "LSODA",
    rtol: float = 1e-6,
    state_tol: float = 1e-9,
    max_step: float | None = None,
    progress: bool | None = None,
) -> TransientResult:
    """Integrate device states with the circuit solved quasi-statically (no capacitors allowed).

    Parameters
    ----------
    circuit : Netlist or CompiledCircuit
        Without capacitors.
    t_stop : float
        End time, s.
    t_eval : array_like, optional
        Output times in [0, t_stop] (default: the solver's steps).
    method : str
        ``solve_ivp`` method. LSODA switches to a stiff method with a finite-difference Jacobian
        (one column per device): for thousands of devices prefer an explicit method ("RK45").
    rtol : float
        Relative tolerance of the states.
    state_tol : float
        Absolute tolerance of the states, relative to each model's state range.
    max_step : float, optional
        Largest step, s (default ``t_stop / 100``: the right-hand side is often 0 at t = 0 --
        sources at 0 V -- and an unbounded first step can jump over threshold dynamics).
    progress : bool or None
        tqdm bar; ``None``: on when stderr is a terminal.

    Returns
    -------
    TransientResult

    Raises
    ------
    NetlistError
        The circuit has capacitors.
    ConvergenceError
        A DC solve or the integration failed.

    Examples
    --------
    >>> import dataclasses, numpy as np
    >>> from neurosim.netlist import Netlist
    >>> from neurosim.solve import quasistatic
    >>> @dataclasses.dataclass(frozen=True)
    ... class Linear:  # i = s v, ds/dt = v
    ...     state_bounds = (0.0, 1.0)
    ...     def current(self, s, v): return s * v
    ...     def dstate_dt(self, s, v): return v
    >>> net = Netlist()
    >>> net.add_vsource("V1", "a", "0", 0.5)
    >>> net.add_device("M1", "a", "0", Linear(), state=0.1)
    >>> res = quasistatic(net, 1.0, t_eval=[0.0, 1.0], progress=False)
    >>> np.round(res.state("M1"), 6).tolist()
    [0.1, 0.6]
    """
    p = check_params(
        "quasistatic",
        _PARAMS,
        dict(t_stop=t_stop, method=method, rtol=rtol, state_tol=state_tol, max_step=max_step, progress=progress),
    )
    cc = _compile(circuit)
    if cc.cap_c.size:
        raise NetlistError(
            f"quasistatic: the circuit has capacitors ({', '.join(cc.cap_names[:3].tolist())}); use transient()"
        )
    t_stop = p["t_stop"]
    if t_eval is not None:
        t_eval = check_array("quasistatic", "t_eval", t_eval, ndim=1, dtype=np.float64)
        if np.any(np.diff(t_eval) <= 0) or t_eval[0] < 0 or t_eval[-1] > t_stop:
            raise NetlistError("quasistatic: t_eval must be increasing within [0, t_stop]")
    eng = _engine(cc)
    lo, hi = eng.state_lo, eng.state_hi
    span = np.where(np.isfinite(hi - lo), hi - lo, 1.0)
    tol = Tolerances()
    warm = {"x": np.zeros(cc.size)}

    def solve_x(t, s):
        r = eng.run(warm["x"], cc.rhs(t=t), s, tol=tol, t=t)
        if not r.converged:
            from neurosim.solve.dc import dc

            op = dc(cc, t=t, states=s)  # full fallback ladder (gmin, source stepping)
            r.z = op.x
        warm["x"] = r.z[: cc.size]
        return warm["x"]

    def rhs(t, s):
        s = np.clip(s, lo, hi)
        x = solve_x(t, s)
        out = []
        for g in cc.devices:
            sl = slice(g.offset, g.offset + g.names.size)
            v = _v(x, g.a) - _v(x, g.b)
            out.append(np.broadcast_to(np.asarray(g.model.dstate_dt(s[sl], v), dtype=np.float64), v.shape))
        f = np.concatenate(out) if out else np.zeros(0)
        # a state at its bound does not move further out
        return np.where(((s <= lo) & (f < 0)) | ((s >= hi) & (f > 0)), 0.0, f)

    edges = np.unique(np.concatenate([[0.0], cc.breakpoints(t_stop), [t_stop]]))
    s = cc.states
    s_end = {"s": s}
    ts, ss = [], []
    bar = _progress_bar(p["progress"], t_stop)
    try:
        for k in range(edges.size - 1):
            t0, t1 = edges[k], edges[k + 1]
            last = k == edges.size - 2
            te = None
            if t_eval is not None:
                te = t_eval[(t_eval >= t0) & ((t_eval < t1) | (last & (t_eval <= t1)))]
            if cc.n_states == 0:
                seg_t = te if te is not None else np.array([t0] + ([t1] if last else []))
                ts.append(seg_t), ss.append(np.zeros((seg_t.size, 0)))
                continue
            seg_t, seg_s, s_end["s"] = _integrate_segment(
                rhs, t0, t1, s, p["method"], te, p["rtol"], p["state_tol"] * span,
                p["max_step"] or t_stop / 100.0, lo, hi,
            )
            if te is None and not last:
                seg_t, seg_s = seg_t[:-1], seg_s[:-1]  # the segment end is the next segment's start
            ts.append(seg_t), ss.append(seg_s)
            s = s_end["s"]
            if bar is not None:
                bar.update(t1 - t0)
    finally:
        if bar is not None:
            bar.close()
    t_all = np.concatenate(ts)
    s_all = np.clip(np.concatenate(ss), lo, hi) if cc.n_states else np.zeros((t_all.size, 0))
    x_all = np.array([solve_x(t, s_k) for t, s_k in zip(t_all, s_all)]) if t_all.size else np.zeros((0, cc.size))
    return TransientResult(cc, t_all, x_all, s_all, {"method": p["method"], "quasistatic": True})


def _integrate_segment(rhs, t0, t1, s0, method, t_eval, rtol, atol, max_step, lo, hi):
    """Step a solve_ivp method from t0 to t1; clip states to their bounds and restart when crossed.

    Returns the output times, states (rows) and the final state.
    """
    cls = getattr(integrate, method)
    solver = cls(rhs, t0, s0, t1, rtol=rtol, atol=atol, max_step=max_step)
    ts, ss = ([t0], [np.array(s0)]) if t_eval is None else ([], [])
    if t_eval is not None and t_eval.size and t_eval[0] == t0:
        ts.append(t0), ss.append(np.array(s0))
    t_prev = t0
    while solver.status == "running":
        solver.step()
        if solver.status == "failed":
            raise ConvergenceError(f"quasistatic: {method} failed at t={solver.t:.6g} s")
        if t_eval is None:
            ts.append(solver.t), ss.append(np.clip(solver.y, lo, hi))
        else:
            sel = t_eval[(t_eval > t_prev) & (t_eval <= solver.t)]
            if sel.size:
                dense = solver.dense_output()
                ts.extend(sel.tolist()), ss.extend(np.clip(dense(sel).T, lo, hi))
        t_prev = solver.t
        y = np.clip(solver.y, lo, hi)
        if solver.status == "running" and np.any(y != solver.y):
            solver = cls(rhs, solver.t, y, t1, rtol=rtol, atol=atol, max_step=max_step)
    end = np.clip(solver.y, lo, hi)
    return np.array(ts), np.array(ss).reshape(len(ts), np.size(s0)), end
