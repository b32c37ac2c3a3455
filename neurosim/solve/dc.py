"""DC operating point: sparse LU for linear circuits, Newton with gmin and source stepping otherwise."""

from __future__ import annotations

import numpy as np

from neurosim.errors import ConvergenceError, ParameterError
from neurosim.params import Param, check_params
from neurosim.solve.compile import compile as _compile
from neurosim.solve.newton import NewtonEngine, Tolerances
from neurosim.solve.results import OperatingPoint

__all__ = ["dc"]

_PARAMS = {
    "reltol": Param("real", low=0.0, low_open=True),
    "vntol": Param("real", low=0.0, low_open=True, unit="V"),
    "abstol": Param("real", low=0.0, low_open=True, unit="A"),
    "max_iter": Param("int", low=1),
    "max_total_iter": Param("int", low=1),
    "gmin": Param("real", low=0.0, unit="S"),
    "limiting": Param("bool"),
    "dv_max": Param("real", low=0.0, low_open=True, unit="V"),
    "t": Param("real", low=0.0, unit="s", optional=True),
}

_STRATEGIES = ("newton", "gmin", "source")


def _engine(cc, joint=False) -> NewtonEngine:
    cache = cc.__dict__.setdefault("_engines", {})
    if joint not in cache:
        cache[joint] = NewtonEngine(cc, joint=joint)
    return cache[joint]


def dc(
    circuit,
    x0=None,
    *,
    t: float | None = None,
    states=None,
    strategies=_STRATEGIES,
    gmin: float = 0.0,
    limiting: bool = True,
    dv_max: float = 1.0,
    reltol: float = 1e-9,
    vntol: float = 1e-9,
    abstol: float = 1e-12,
    max_iter: int = 100,
    max_total_iter: int = 5000,
) -> OperatingPoint:
    """DC operating point (capacitors open, device states held fixed).

    Solves :math:`A x + i_{nl}(x) = b` where :math:`i_{nl}` collects the currents of diodes,
    switches and devices. Linear circuits: one sparse LU (``scipy.sparse.linalg.splu``). Nonlinear:
    damped Newton (diode ``pnjlim`` limiting, device steps of at most ``dv_max``); if plain Newton
    fails, gmin stepping (a shunt conductance from every node to ground, 1e-2 S down to 0 by
    decades), then source stepping (all sources scaled by :math:`\\lambda` from 0 to 1, adaptive).

    Parameters
    ----------
    circuit : Netlist or CompiledCircuit
    x0 : array_like, optional
        Initial guess of the unknowns (size,).
    t : float, optional
        Evaluate source waveforms at time ``t`` (s) instead of their DC values.
    states : array_like, optional
        Device states (concatenated over groups); default the circuit's.
    strategies : sequence of {"newton", "gmin", "source"}
        Strategies to try, in order.
    gmin : float
        Conductance (S) in parallel with every diode, switch and device (SPICE's GMIN is 1e-12).
    limiting : bool
        Voltage-step limiting of diodes and devices.
    dv_max : float
        Largest device-voltage change per Newton iteration, V.
    reltol, vntol, abstol : float
        Convergence: each update within ``vntol`` (V) or ``abstol`` (A) plus ``reltol`` relative.
    max_total_iter : int
        Newton iterations over all strategies together before giving up (a source-stepping run
        that creeps forward, e.g. a memristor driven at 1e5 V, is stopped with a clear error
        instead of running for minutes).
    max_iter : int
        Newton iterations per attempt.

    Returns
    -------
    OperatingPoint

    Raises
    ------
    ConvergenceError
        All strategies failed: residual, worst node, strategies tried.
    NetlistError
        Singular linear circuit.

    Examples
    --------
    >>> from neurosim.netlist import Netlist
    >>> from neurosim.solve import dc
    >>> net = Netlist()
    >>> net.add_vsource("V1", "in", "0", 1.0)
    >>> net.add_resistor("R1", "in", "out", 1e3)
    >>> net.add_resistor("R2", "out", "0", 3e3)
    >>> op = dc(net)
    >>> round(float(op.v("out")), 12), round(float(op.i("V1")), 12)
    (0.75, -0.00025)
    """
    p = check_params(
        "dc",
        _PARAMS,
        dict(reltol=reltol, vntol=vntol, abstol=abstol, max_iter=max_iter, gmin=gmin, limiting=limiting,
             dv_max=dv_max, t=t, max_total_iter=max_total_iter),
    )
    unknown = [s for s in strategies if s not in _STRATEGIES]
    if unknown or not strategies:
        raise ParameterError(f"dc: strategies must be a non-empty subset of {_STRATEGIES}, got {strategies!r}")
    cc = _compile(circuit)
    s = cc.states if states is None else np.asarray(states, dtype=np.float64)
    if s.shape != (cc.n_states,):
        raise ParameterError(f"dc: states must have shape ({cc.n_states},), got {s.shape}")
    b = cc.rhs(t=t)
    if not cc.nonlinear:
        from neurosim.solve.linear import LinearSolver

        x = LinearSolver(cc).solve(b)
        return OperatingPoint(cc, x, s, "linear", 0, t)
    z0 = np.zeros(cc.size) if x0 is None else np.asarray(x0, dtype=np.float64).copy()
    if z0.shape != (cc.size,):
        raise ParameterError(f"dc: x0 must have shape ({cc.size},), got {z0.shape}")
    return _newton_dc(cc, z0, b, s, strategies, p, t, cold=x0 is None)


def _newton_dc(cc, z0, b, s, strategies, p, t, cold=False) -> OperatingPoint:
    eng = _engine(cc)
    tol = Tolerances(p["reltol"], p["vntol"], p["abstol"])
    kw = dict(limiting=p["limiting"], dv_max=p["dv_max"], max_iter=p["max_iter"], tol=tol)
    kw["gmin"] = p["gmin"]
    kw["t"] = 0.0 if t is None else float(t)  # B sources' `time`
    base_shunt = 0.0
    tried = []
    total = 0
    last = None
    for strat in strategies:
        if strat == "newton":
            r = eng.run(z0, b, s, gshunt=base_shunt, init_junctions=cold and p["limiting"], **kw)
            total += r.iterations
            tried.append(f"newton ({r.iterations} iterations)")
            if r.converged:
                return OperatingPoint(cc, r.z, s, "newton", total, t)
            last = r
        elif strat == "gmin":
            z = z0
            ok = True
            for g in [10.0**-k for k in range(2, 13)] + [base_shunt]:
                r = eng.run(z, b, s, gshunt=max(g, base_shunt), **kw)
                total += r.iterations
                if not r.converged or total > p["max_total_iter"]:
                    ok = False
                    tried.append(f"gmin stepping ({'failed' if not r.converged else 'out of iterations'} at gshunt={g:g} S)")
                    last = r
                    break
                z = r.z
            if ok:
                tried.append("gmin stepping")
                return OperatingPoint(cc, z, s, "gmin", total, t)
        else:  # source stepping
            z = np.zeros(cc.size)
            lam, dlam = 0.0, 0.1
            r = eng.run(z, 0.0 * b, s, gshunt=base_shunt, **kw)
            total += r.iterations
            ok = r.converged
            z = r.z if ok else z
            while ok and lam < 1.0:
                if total > p["max_total_iter"]:
                    ok, last = False, r
                    tried.append(f"source stepping (out of iterations at lambda={lam:.6g})")
                    break
                nxt = min(1.0, lam + dlam)
                r = eng.run(z, nxt * b, s, gshunt=base_shunt, **kw)
                total += r.iterations
                if r.converged:
                    z, lam = r.z, nxt
                    dlam = min(dlam * 2.0, 0.5)
                else:
                    dlam /= 4.0
                    if dlam < 1e-6:
                        ok = False
                        last = r
            if ok:
                tried.append("source stepping")
                return OperatingPoint(cc, z, s, "source", total, t)
            if not tried or not tried[-1].startswith("source stepping (out"):
                tried.append(f"source stepping (stalled at lambda={lam:.6g})")
    res, worst = (last.residual, last.worst) if last is not None else (np.nan, -1)
    if last is not None and worst < 0 and np.isfinite(res):
        res, worst = eng.residual(last.z, b, s, gmin=p["gmin"])
    node = cc.node_names[worst] if 0 <= worst < cc.n_nodes else "?"
    raise ConvergenceError(
        f"dc: no convergence after {total} Newton iterations (max_total_iter={p['max_total_iter']}); KCL residual "
        f"{res:.3g} A, worst at node {node!r}; tried: " + ", ".join(tried)
    )
