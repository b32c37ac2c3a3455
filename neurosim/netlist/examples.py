"""Ready-made netlists used by tests and benchmarks.

:func:`crossbar_netlist` builds the benchmark crossbar of issue 3: an N x N passive array with a
wire resistance between adjacent cross-points, rows driven at one end, columns read at the far end
through 0 V sources.
"""

from __future__ import annotations

import numpy as np

from neurosim.errors import ParameterError
from neurosim.params import Param, check_array, check_params

__all__ = ["crossbar_netlist"]

_PARAMS = {
    "n": Param("int", low=1, doc="rows = columns"),
    "r_wire": Param("real", low=0.0, low_open=True, unit="ohm"),
    "seed": Param("int", low=0),
}


def crossbar_netlist(n: int, r_wire: float = 1.0, g=None, v_in=None, seed: int = 0):
    """Build the N x N benchmark crossbar.

    Nodes: row ``i`` at column ``j`` is ``r{i}_{j}``, column ``j`` at row ``i`` is ``c{i}_{j}``.
    Elements:

    * ``Vr{i}`` drives ``r{i}_0`` with ``v_in[i]`` (V) against ground;
    * ``Gx{i}_{j}`` (resistor ``1/g[i, j]``) joins ``r{i}_{j}`` and ``c{i}_{j}``;
    * ``Rr{i}_{j}`` joins ``r{i}_{j}`` and ``r{i}_{j+1}``; ``Rc{i}_{j}`` joins ``c{i}_{j}`` and
      ``c{i+1}_{j}`` (``r_wire`` ohm each);
    * ``Vc{j}`` (0 V) reads column ``j`` from ``c{N-1}_{j}`` to ground: its branch current is the
      column current (positive into the read-out).

    With ``r_wire -> 0`` the column currents tend to the ideal product

    .. math:: I_j = \\sum_i g_{ij} v_i

    Parameters
    ----------
    n : int
        Rows and columns, >= 1.
    r_wire : float
        Wire segment resistance, ohm, > 0.
    g : array_like, shape (n, n), optional
        Cross-point conductances, S, > 0. Default: uniform in [1e-6, 1e-4] S from ``seed``.
    v_in : array_like, shape (n,), optional
        Row voltages, V. Default: uniform in [0, 1] V from ``seed``.
    seed : int
        Seed of the default ``g`` and ``v_in``.

    Returns
    -------
    Netlist

    Raises
    ------
    ParameterError
        Bad ``n``, ``r_wire``, shapes, non-positive conductances.

    Examples
    --------
    >>> net = crossbar_netlist(2, r_wire=1.0, seed=1)
    >>> len(net), len(net.node_names)
    (12, 9)
    """
    from neurosim.netlist.netlist import Netlist

    p = check_params("crossbar_netlist", _PARAMS, {"n": n, "r_wire": r_wire, "seed": seed})
    n = p["n"]
    rng = np.random.default_rng(p["seed"])
    if g is None:
        g = rng.uniform(1e-6, 1e-4, size=(n, n))
    g = check_array("crossbar_netlist", "g", g, shape=(n, n), dtype=np.float64)
    if np.any(g <= 0):
        raise ParameterError(f"crossbar_netlist: g must be > 0 S, got {float(g.min())!r}")
    if v_in is None:
        v_in = rng.uniform(0.0, 1.0, size=n)
    v_in = check_array("crossbar_netlist", "v_in", v_in, shape=(n,), dtype=np.float64)

    idx = [f"{i}_{j}" for i in range(n) for j in range(n)]  # row-major (i, j)
    rows = ["r" + s for s in idx]
    cols = ["c" + s for s in idx]
    net = Netlist(f"crossbar {n}x{n}")
    net.add_vsources([f"Vr{i}" for i in range(n)], [f"r{i}_0" for i in range(n)], "0", v_in)
    net.add_resistors(["Gx" + s for s in idx], rows, cols, 1.0 / g.ravel())
    if n > 1:
        ij = np.arange(n * n).reshape(n, n)
        a = ij[:, :-1].ravel()  # row segment (i, j) -> (i, j+1)
        net.add_resistors(
            ["Rr" + idx[k] for k in a], [rows[k] for k in a], [rows[k + 1] for k in a], p["r_wire"]
        )
        b = ij[:-1, :].ravel()  # column segment (i, j) -> (i+1, j)
        net.add_resistors(
            ["Rc" + idx[k] for k in b], [cols[k] for k in b], [cols[k + n] for k in b], p["r_wire"]
        )
    net.add_vsources([f"Vc{j}" for j in range(n)], [f"c{n - 1}_{j}" for j in range(n)], "0", 0.0)
    return net
