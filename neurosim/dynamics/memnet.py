r"""Memristive networks on a graph (Caravelli, Traversa & Di Ventra, Phys. Rev. E 95, 022140, 2017).

Every edge of a graph is a memristor in series with a voltage source :math:`s_k`. The device
(the paper's model) has a resistance linear in its internal state :math:`x \in [0, 1]` and a decay
term:

.. math::

    R(x) = R_{on}(1 - x) + R_{off}\, x = R_{on}(1 + \xi x), \quad \xi = \frac{R_{off} - R_{on}}{R_{on}},
    \qquad \dot x = \alpha x - \frac{R_{on}}{\beta}\, i

Kirchhoff's laws make the currents lie in the cycle space of the graph; with :math:`\Omega` the
orthogonal projector onto it (:math:`\Omega = I - B^T (B B^T)^+ B`, :math:`B` the oriented
incidence matrix) the currents are :math:`i = R_{on}^{-1}(I + \xi \Omega X)^{-1} \Omega s` and the
states obey the closed-form network equation

.. math::

    \dot x = \alpha x - \frac{1}{\beta} (I + \xi\, \Omega X)^{-1} \Omega s, \qquad X = \mathrm{diag}(x).

:class:`MemristiveNetwork` integrates it directly (:meth:`~MemristiveNetwork.simulate`) and builds
the circuit (:meth:`~MemristiveNetwork.netlist`) that the circuit engine integrates with the network
solved at every instant (:func:`neurosim.solve.quasistatic`); the two agree.

Lyapunov function (constant sources, :math:`\xi \ge 0`, :math:`x \ge 0`). Since
:math:`X(I + \xi \Omega X) = X + \xi X \Omega X` is symmetric positive semi-definite, and
:math:`X\big(\alpha (I + \xi\Omega X) x - \Omega s / \beta\big) = \nabla \Phi` with

.. math::

    \Phi(x) = \frac{\alpha}{3} \sum_k x_k^3 + \frac{\alpha \xi}{4} (x \circ x)^T \Omega (x \circ x)
              - \frac{1}{2\beta} (x \circ x)^T \Omega s,

:math:`\dot \Phi = \dot x^T X (I + \xi \Omega X) \dot x \ge 0`: the function :math:`L = -\Phi`
(:meth:`~MemristiveNetwork.lyapunov`) never increases along the dynamics -- a Hopfield-like energy
whose couplings :math:`\Omega` are set by the wiring.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import networkx as nx
import numpy as np
from scipy import integrate

from neurosim.devices.base import DeviceModel
from neurosim.dynamics.ctrnn import Trajectory
from neurosim.errors import ConvergenceError, ParameterError
from neurosim.params import Param, check_array

__all__ = ["CaravelliMemristor", "MemristiveNetwork", "cycle_projector"]

_POS = dict(low=0.0, low_open=True)


@dataclasses.dataclass(frozen=True)
class CaravelliMemristor(DeviceModel):
    r"""The memristor of Caravelli, Traversa & Di Ventra (2017): linear resistance, decay term.

    .. math::

        i = \frac{v}{R_{on}(1 - x) + R_{off} x}, \qquad \dot x = \alpha x - \frac{R_{on}}{\beta} i,
        \qquad 0 \le x \le 1

    Parameters
    ----------
    R_on, R_off : float
        Resistances at x = 0 and x = 1 (ohm).
    alpha : float
        Decay rate (1/s); positive drives x towards 1 (R_off) without current.
    beta : float
        Voltage-time constant (V s): a current of :math:`V/R_{on}` moves x at :math:`V/\beta` per second.
    initial_state : float

    Examples
    --------
    >>> m = CaravelliMemristor(R_on=1e3, R_off=1e4, alpha=0.1, beta=10.0)
    >>> round(float(m.current(0.5, 1.0)) * 5.5e3, 12), float(m.dstate_dt(0.5, 0.0))
    (1.0, 0.05)
    """

    R_on: float = 1e3
    R_off: float = 1e4
    alpha: float = 0.1
    beta: float = 10.0
    initial_state: float = 0.5

    _params: ClassVar[dict[str, Param]] = {
        "R_on": Param("real", unit="ohm", **_POS),
        "R_off": Param("real", unit="ohm", **_POS),
        "alpha": Param("real", unit="1/s"),
        "beta": Param("real", unit="s", **_POS),  # V s; brian2's unit table has no V s, see equations()
        "initial_state": Param("real", low=0.0, high=1.0),
    }

    @property
    def state_bounds(self):
        return (0.0, 1.0)

    @property
    def state_on(self):
        return 0.0 if self.R_on < self.R_off else 1.0

    @property
    def state_off(self):
        return 1.0 - self.state_on

    def resistance(self, state):
        return self.R_on * (1.0 - np.asarray(state)) + self.R_off * np.asarray(state)

    def current(self, state, v):
        return np.asarray(v) / self.resistance(state)

    def dcurrent_dv(self, state, v):
        return np.broadcast_to(1.0 / self.resistance(state), np.broadcast_shapes(np.shape(state), np.shape(v)))

    def dcurrent_dstate(self, state, v):
        r = self.resistance(state)
        return -np.asarray(v) * (self.R_off - self.R_on) / (r * r)

    def dstate_dt(self, state, v):
        return self.alpha * np.asarray(state) - (self.R_on / self.beta) * self.current(state, v)

    def dstate_partials(self, state, v):
        f = self.dstate_dt(state, v)
        f_s = self.alpha - (self.R_on / self.beta) * self.dcurrent_dstate(state, v)
        f_v = -(self.R_on / self.beta) / self.resistance(state)
        return f, f_s, f_v

    def equations(self) -> dict:
        """The model as brian2 equation lines (``beta`` in volt*second)."""
        return {
            "state": "dx/dt = alpha*x - R_on*I/beta : 1",
            "current": "I = v / (R_on*(1 - x) + R_off*x) : amp",
            "bounds": "0 <= x <= 1",
        }


def cycle_projector(incidence: np.ndarray) -> np.ndarray:
    r"""Orthogonal projector onto the cycle space: :math:`\Omega = I - B^T (B B^T)^+ B`.

    Parameters
    ----------
    incidence : ndarray, shape (nodes, edges)
        Oriented incidence matrix :math:`B` (+1 at an edge's tail, -1 at its head).

    Examples
    --------
    >>> B = np.array([[1, 0, -1], [-1, 1, 0], [0, -1, 1]], float)   # a triangle
    >>> np.round(cycle_projector(B) * 3, 12).tolist()                 # one loop: (1,1,1)(1,1,1)^T / 3
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """
    B = np.asarray(incidence, dtype=np.float64)
    L = B @ B.T
    return np.eye(B.shape[1]) - B.T @ np.linalg.pinv(L) @ B


class MemristiveNetwork:
    r"""A memristor with a series voltage source on every edge of a graph.

    .. math::

        \dot x = \alpha x - \frac{1}{\beta} (I + \xi\, \Omega X)^{-1} \Omega s

    Parameters
    ----------
    graph : networkx.Graph or MultiGraph
        Connected; edge ``k`` (in ``graph.edges`` order) is oriented from its first to its second node.
    model : CaravelliMemristor
        Device of every edge (scalar parameters).
    sources : array_like, shape (E,)
        Series source of each edge (V), driving current from the edge's first node to its second.

    Raises
    ------
    ParameterError
        A disconnected graph, another device model, or sources of the wrong length. (R_off < R_on
        is allowed; the Lyapunov property is stated for xi >= 0.)

    Examples
    --------
    >>> import networkx as nx, numpy as np
    >>> net = MemristiveNetwork(nx.cycle_graph(3), CaravelliMemristor(alpha=0.0), [1.0, 0.0, 0.0])
    >>> x = np.full(3, 0.5)
    >>> i = net.currents(x)          # one loop, 1 V over three 5.5 kOhm devices; edge (0, 2) runs against it
    >>> np.allclose(i * [1, -1, 1], 1.0 / (3 * 5.5e3))
    True
    """

    def __init__(self, graph, model, sources):
        owner = "MemristiveNetwork"
        if not isinstance(graph, nx.Graph):
            raise ParameterError(f"{owner}: graph must be a networkx graph, got {type(graph).__name__}")
        if graph.number_of_edges() < 1 or not nx.is_connected(nx.Graph(graph)):
            raise ParameterError(f"{owner}: graph must be connected with at least one edge")
        if not isinstance(model, CaravelliMemristor):
            raise ParameterError(f"{owner}: model must be a CaravelliMemristor, got {type(model).__name__}")
        self.graph = graph
        self.model = model
        self.nodes = list(graph.nodes)
        self.edges = list(graph.edges)
        E = len(self.edges)
        s = check_array(owner, "sources", sources, dtype=np.float64)
        if s.shape != (E,):
            raise ParameterError(f"{owner}: sources must have shape ({E},) (one per edge), got {s.shape}")
        self.sources = s
        index = {n: k for k, n in enumerate(self.nodes)}
        B = np.zeros((len(self.nodes), E))
        for k, e in enumerate(self.edges):
            B[index[e[0]], k] += 1.0
            B[index[e[1]], k] -= 1.0
        self.incidence = B
        self.omega = cycle_projector(B)
        self.xi = (model.R_off - model.R_on) / model.R_on
        self._omega_s = self.omega @ s

    @property
    def n_cycles(self) -> int:
        """Dimension of the cycle space (edges - nodes + 1 for a connected graph)."""
        return len(self.edges) - len(self.nodes) + 1

    def currents(self, x):
        r"""Edge currents :math:`i = R_{on}^{-1} (I + \xi \Omega X)^{-1} \Omega s` (A)."""
        x = np.asarray(x, dtype=np.float64)
        M = np.eye(x.size) + self.xi * self.omega * x[None, :]
        return np.linalg.solve(M, self._omega_s) / self.model.R_on

    def rhs(self, t, x):
        r"""The closed-form network equation :math:`\dot x = \alpha x - \beta^{-1}(I + \xi\Omega X)^{-1}\Omega s`."""
        return self.model.alpha * x - (self.model.R_on / self.model.beta) * self.currents(x)

    def lyapunov(self, x):
        r"""The Lyapunov function :math:`L(x) = -\Phi(x)` (non-increasing for :math:`\xi \ge 0`, constant sources).

        ``x`` of shape ``(E,)`` or ``(T, E)``.
        """
        x = np.asarray(x, dtype=np.float64)
        x2 = x * x
        a, b = self.model.alpha, self.model.beta
        quad = np.einsum("...i,ij,...j->...", x2, self.omega, x2)
        phi = a / 3.0 * (x2 * x).sum(-1) + a * self.xi / 4.0 * quad - (x2 @ self._omega_s) / (2.0 * b)
        return -phi

    def simulate(self, t_eval, x0=None, *, method="DOP853", rtol=1e-12, atol=1e-14) -> Trajectory:
        """Integrate the closed-form equation with ``solve_ivp`` (states must stay inside [0, 1]).

        Raises
        ------
        ConvergenceError
            The solver failed, or a state left [0, 1] (the closed form has no bounds).
        """
        t_eval = check_array("MemristiveNetwork.simulate", "t_eval", t_eval, ndim=1, dtype=np.float64)
        x0 = self._x0(x0)
        sol = integrate.solve_ivp(self.rhs, (t_eval[0], t_eval[-1]), x0, method=method, t_eval=t_eval, rtol=rtol,
                                  atol=atol)
        if not sol.success:
            raise ConvergenceError(f"MemristiveNetwork: solve_ivp ({method}) failed: {sol.message}")
        if sol.y.min() < 0.0 or sol.y.max() > 1.0:
            raise ConvergenceError("MemristiveNetwork: a state left [0, 1]; the closed form holds inside the bounds "
                                   "only (shorten the run or use simulate_circuit, which clips at the bounds)")
        return Trajectory(sol.t, sol.y.T, {"engine": "closed form", "method": method})

    def _x0(self, x0):
        E = len(self.edges)
        if x0 is None:
            return np.full(E, self.model.initial_state)
        x0 = check_array("MemristiveNetwork", "x0", x0, dtype=np.float64)
        if x0.shape != (E,) or x0.min() < 0 or x0.max() > 1:
            raise ParameterError(f"MemristiveNetwork: x0 must have shape ({E},) with values in [0, 1], got shape {x0.shape}")
        return x0

    def netlist(self, x0=None):
        """The circuit: per edge ``k`` (u -> v) a source ``Vs{k}`` from u to ``m{k}`` and a device ``M{k}``
        from ``m{k}`` to v; the first node is ground. Returns ``(netlist, device_names)``."""
        from neurosim.netlist import Netlist

        x0 = self._x0(x0)
        names = {n: ("0" if k == 0 else f"n{k}") for k, n in enumerate(self.nodes)}
        nl = Netlist("memristive network")
        devs = []
        for k, (e, s) in enumerate(zip(self.edges, self.sources)):
            u, v = names[e[0]], names[e[1]]
            nl.add_vsource(f"Vs{k}", f"m{k}", u, float(s))
            nl.add_device(f"M{k}", f"m{k}", v, self.model, state=float(x0[k]))
            devs.append(f"M{k}")
        return nl, devs

    def simulate_circuit(self, t_eval, x0=None, *, method="DOP853", rtol=1e-11, state_tol=1e-13) -> Trajectory:
        """Integrate through the circuit engine (:func:`neurosim.solve.quasistatic`)."""
        from neurosim.solve import quasistatic

        t_eval = check_array("MemristiveNetwork.simulate_circuit", "t_eval", t_eval, ndim=1, dtype=np.float64)
        nl, devs = self.netlist(x0)
        res = quasistatic(nl, float(t_eval[-1]), t_eval=t_eval, method=method, rtol=rtol, state_tol=state_tol,
                          progress=False)
        x = np.stack([res.state(d) for d in devs], axis=1)
        return Trajectory(np.asarray(res.t), x, {"engine": "quasistatic", "result": res})
