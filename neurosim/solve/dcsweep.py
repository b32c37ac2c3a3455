"""DC sweeps: operating points over the values of one independent source, or a nested pair.

Linear circuits: the MNA matrix does not depend on source values, so it is factorized once and all
right-hand sides are solved as one block (:class:`~neurosim.solve.LinearSolver`). Nonlinear circuits:
one Newton solve per point, each warm-started from the previous point's solution (the first point
of every outer row from the first point of the previous row), with the fallbacks of
:func:`~neurosim.solve.dc` (gmin and source stepping) when a warm Newton fails.

.. math:: x(u_1, u_2) : \\; A x + i_{nl}(x) = b(u), \\quad u = (\\ldots, u_1, \\ldots, u_2, \\ldots)

Point order is SPICE's: the first source varies fastest (``.dc V1 0 1 0.1 V2 0 5 1``).
"""

from __future__ import annotations

import numpy as np

from neurosim.errors import ParameterError
from neurosim.params import check_array, check_params
from neurosim.solve.compile import compile as _compile
from neurosim.solve.results import _Solution

__all__ = ["dc_sweep", "DCSweepResult", "sweep_values"]


def sweep_values(start: float, stop: float, step: float) -> np.ndarray:
    """Points of a SPICE linear sweep ``start stop step`` (``stop`` included within 1e-9 of a step).

    .. math:: u_k = u_{start} + k\\, \\Delta, \\quad k = 0 \\ldots \\lfloor (u_{stop} - u_{start}) / \\Delta \\rfloor

    Raises
    ------
    ParameterError
        Non-finite values, a zero step or a step of the wrong sign.

    Examples
    --------
    >>> sweep_values(0, 1, 0.25).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    for name, v in (("start", start), ("stop", stop), ("step", step)):
        if not np.isfinite(v):
            raise ParameterError(f"dc_sweep: {name} must be finite, got {v!r}")
    if step == 0 or (stop - start) * step < 0:
        raise ParameterError(f"dc_sweep: step must be non-zero with the sign of stop - start = {stop - start!r}, got {step!r}")
    n = int(np.floor((stop - start) / step + 1e-9)) + 1
    if n > 10_000_000:
        raise ParameterError(f"dc_sweep: step {step!r} gives {n} points (more than 1e7)")
    return start + step * np.arange(n)


class DCSweepResult(_Solution):
    """Operating points over a DC sweep.

    Attributes
    ----------
    circuit : CompiledCircuit
    source, source2 : str, str or None
        Swept sources (``source`` varies fastest).
    values, values2 : numpy.ndarray
        Their values (V or A); ``values2`` is ``None`` for a single sweep.
    x : numpy.ndarray
        Unknowns, shape ``(n1, size)`` or ``(n2, n1, size)`` for a nested sweep.
    iterations : int
        Newton iterations over all points (0 for a linear circuit).
    """

    def __init__(self, circuit, source, values, source2, values2, x, s, iterations):
        self.circuit, self.source, self.values = circuit, source, values
        self.source2, self.values2 = source2, values2
        self.x, self.s, self.iterations = x, s, iterations

    def _source_value(self, kind, k):
        cc = self.circuit
        name = (cc.vs_names if kind == "vsource" else cc.is_names)[k]
        shape = self.x.shape[:-1]
        if name == self.source:
            return np.broadcast_to(self.values, shape).copy()
        if name == self.source2:
            return np.broadcast_to(self.values2[:, None], shape).copy()
        return np.full(shape, (cc.vs_dc if kind == "vsource" else cc.is_dc)[k])

    def __repr__(self) -> str:
        sweep = f"{self.source} x {self.values.size}"
        if self.source2 is not None:
            sweep += f", {self.source2} x {self.values2.size}"
        return f"DCSweepResult({sweep})"


def dc_sweep(circuit, source: str, values, *, source2: str | None = None, values2=None, **dc_kwargs) -> DCSweepResult:
    """Operating points with independent source ``source`` set to each of ``values``.

    .. math:: x_k = \\operatorname{dc}\\big(u_{source} = values_k\\big)

    Parameters
    ----------
    circuit : Netlist or CompiledCircuit
    source : str
        Name of an independent V or I source.
    values : array_like
        Its values, V or A (e.g. :func:`sweep_values`); 1-D, finite, non-empty.
    source2 : str, optional
        A second (outer) source for a nested sweep, SPICE's ``.dc src1 ... src2 ...``.
    values2 : array_like, optional
        Values of ``source2``.
    **dc_kwargs
        Newton options of :func:`~neurosim.solve.dc` (``gmin``, ``reltol``, ``strategies``, ...).

    Returns
    -------
    DCSweepResult
        ``v(node)`` and ``i(element)`` of shape ``(n1,)`` or ``(n2, n1)``.

    Raises
    ------
    ParameterError
        Unknown source names, bad values.
    ConvergenceError
        A point where every strategy fails.

    Examples
    --------
    >>> from neurosim.netlist import Netlist
    >>> net = Netlist()
    >>> net.add_vsource("V1", "in", "0", 0.0)
    >>> net.add_resistor("R1", "in", "out", 1e3)
    >>> net.add_resistor("R2", "out", "0", 3e3)
    >>> res = dc_sweep(net, "V1", sweep_values(0, 2, 1))
    >>> res.v("out").tolist()
    [0.0, 0.75, 1.5]
    """
    from neurosim.solve.dc import _PARAMS, _STRATEGIES, _newton_dc

    cc = _compile(circuit)
    v1 = _values("values", values)
    k1 = _source("source", cc, source)
    nested = source2 is not None or values2 is not None
    if nested:
        if source2 is None or values2 is None:
            raise ParameterError("dc_sweep: source2 and values2 must be given together")
        v2 = _values("values2", values2)
        k2 = _source("source2", cc, source2)
        if k2 == k1:
            raise ParameterError(f"dc_sweep: source2 must differ from source, got {source2!r} twice")
    else:
        v2, k2 = np.zeros(1), None
    defaults = dict(reltol=1e-9, vntol=1e-9, abstol=1e-12, max_iter=100, gmin=0.0, limiting=True, dv_max=1.0,
                    t=None, max_total_iter=5000)
    strategies = dc_kwargs.pop("strategies", _STRATEGIES)
    unknown = set(dc_kwargs) - set(defaults) - {"t"}
    if unknown:
        raise ParameterError(f"dc_sweep: unknown option(s) {sorted(unknown)}")
    p = check_params("dc_sweep", _PARAMS, {**defaults, **dc_kwargs})
    u0 = cc.source_values(p["t"])
    n1, n2 = v1.size, v2.size
    U = np.repeat(u0[:, None], n1 * n2, axis=1)
    U[k1] = np.tile(v1, n2)
    if k2 is not None:
        U[k2] = np.repeat(v2, n1)
    B = cc.source_matrix()
    rhs = np.asarray((B @ U))
    s = cc.states
    iterations = 0
    if not cc.nonlinear:
        from neurosim.solve.linear import LinearSolver

        X = LinearSolver(cc).solve(rhs).T
    else:
        X = np.empty((n1 * n2, cc.size))
        row_start = None
        z = None
        for j in range(n1 * n2):
            if j % n1 == 0:
                z, cold = (np.zeros(cc.size), True) if row_start is None else (row_start, False)
            else:
                cold = False
            op = _newton_dc(cc, z.copy(), rhs[:, j], s, strategies, p, p["t"], cold=cold)
            iterations += op.iterations
            X[j] = z = op.x
            if j % n1 == 0:
                row_start = op.x
    shape = (n2, n1) if k2 is not None else (n1,)
    S = np.broadcast_to(s, shape + (cc.n_states,)).copy()
    return DCSweepResult(cc, source, v1, source2 if k2 is not None else None, v2 if k2 is not None else None,
                         X.reshape(shape + (cc.size,)), S, iterations)


def _values(name, values) -> np.ndarray:
    arr = check_array("dc_sweep", name, values, ndim=(0, 1), dtype=np.float64).reshape(-1)
    if arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ParameterError(f"dc_sweep: {name} must be a non-empty array of finite values, got {values!r}")
    return arr


def _source(name, cc, source) -> int:
    if not isinstance(source, str):
        raise ParameterError(f"dc_sweep: {name} must be the name of an independent source, got {source!r}")
    if source not in cc.source_names:
        raise ParameterError(
            f"dc_sweep: {name} must name an independent V or I source of the circuit, got {source!r}"
        )
    return int(cc.source_index(source)[0])
