r"""Stochastic Hopfield solver for max-cut (Cai et al., Nat. Electron. 3, 409, 2020).

Asynchronous updates with a noise term whose amplitude follows an annealing schedule:

.. math::

    v_i \leftarrow \operatorname{sgn}\Big(\sum_j W_{ij} v_j - \theta_i + \eta_i\Big),
    \qquad \eta_i \sim \mathcal N(0, \sigma_k^2), \quad \sigma_k = \sigma_0 \Big(1 - \frac{k}{K}\Big)

(sweep :math:`k = 0..K-1`, linear annealing to 0; ``schedule="exponential"``:
:math:`\sigma_k = \sigma_0 r^k`). Max-cut of a graph with adjacency :math:`A` maps to
:math:`W = -A`, :math:`\theta = 0`: :math:`E = \frac12 v^\top A v` is minimal where
:math:`\mathrm{cut}(v) = \sum_{i<j} A_{ij} (1 - v_i v_j)/2` is maximal.

On a crossbar, :math:`\eta` is the analog read noise itself (the readout's input-referred noise, a
fixed fraction of the ADC full scale): the inputs are driven at the amplitude :math:`s_k` and the
fields divided by it, so the noise in weight units is :math:`\sigma_{hw}/s_k`; the schedule sets
:math:`s_k = \min(1, \sigma_{hw}/\sigma_k)` (full amplitude once the target is below the
hardware's own noise).
"""

from __future__ import annotations

import numpy as np

from neurosim.errors import ParameterError
from neurosim.memory.hopfield import _sgn_keep, make_crossbar
from neurosim.params import Param, check_array, check_params
from neurosim.seeding import check_seed
from neurosim.seeding import rng as seeded_rng

__all__ = ["StochasticHopfield", "max_cut_weights", "cut_value", "max_cut_brute_force", "random_graph",
           "success_probability"]


def random_graph(n: int, p: float = 0.5, seed: int = 0) -> np.ndarray:
    """Adjacency matrix (n, n) of an Erdős–Rényi graph G(n, p), symmetric, zero diagonal, 0/1 float.

    Examples
    --------
    >>> A = random_graph(5, 0.5, seed=1)
    >>> bool(np.array_equal(A, A.T)), float(np.trace(A))
    (True, 0.0)
    """
    check_params("random_graph", {"n": Param("int", low=2), "p": Param("real", low=0, high=1)}, {"n": n, "p": p})
    upper = np.triu(seeded_rng(seed, "graph").random((n, n)) < p, 1)
    return (upper | upper.T).astype(np.float64)


def _adjacency(owner, A) -> np.ndarray:
    A = check_array(owner, "A", A, ndim=2)
    if A.shape[0] != A.shape[1] or not np.allclose(A, A.T) or np.any(np.diag(A) != 0):
        raise ParameterError(f"{owner}: A must be a symmetric adjacency matrix with zero diagonal, got shape {A.shape}")
    return A.astype(np.float64)


def max_cut_weights(A) -> np.ndarray:
    """Hopfield weights :math:`W = -A` whose energy minima are the maximum cuts of ``A``."""
    return -_adjacency("max_cut_weights", A)


def cut_value(A, v) -> np.ndarray:
    r"""Cut weights :math:`\sum_{i<j} A_{ij}(1 - v_i v_j)/2` of bipolar partitions ``v`` ((N,) or (B, N)).

    Examples
    --------
    >>> A = np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0.0]])
    >>> cut_value(A, np.array([1.0, -1.0, 1.0]))
    2.0
    """
    A = _adjacency("cut_value", A)
    V = np.atleast_2d(np.asarray(v, dtype=np.float64))
    c = 0.25 * (A.sum() - np.einsum("bi,ij,bj->b", V, A, V))
    return float(c[0]) if np.ndim(v) == 1 else c


def max_cut_brute_force(A, chunk: int = 1 << 16) -> tuple[float, np.ndarray]:
    """The maximum cut by enumerating all :math:`2^{N-1}` partitions (vertex 0 fixed), in chunks.

    Returns
    -------
    (float, ndarray of shape (N,))
        Best cut value and one partition achieving it.

    Raises
    ------
    ParameterError
        More than 26 vertices (too many partitions).

    Examples
    --------
    >>> max_cut_brute_force(np.ones((3, 3)) - np.eye(3))[0]     # triangle
    2.0
    """
    A = _adjacency("max_cut_brute_force", A)
    n = A.shape[0]
    if n > 26:
        raise ParameterError(f"max_cut_brute_force: A must have at most 26 vertices, got {n}")
    total = 1 << (n - 1)
    best, best_v = -1.0, None
    bits = np.arange(n - 1, dtype=np.int64)
    for start in range(0, total, chunk):
        idx = np.arange(start, min(start + chunk, total), dtype=np.int64)
        V = np.ones((idx.size, n))
        V[:, 1:] = 1.0 - 2.0 * ((idx[:, None] >> bits) & 1)
        c = 0.25 * (A.sum() - np.einsum("bi,ij,bj->b", V, A, V))
        k = int(np.argmax(c))
        if c[k] > best:
            best, best_v = float(c[k]), V[k].copy()
    return best, best_v


_PARAMS = {
    "noise": Param("real", low=0, doc="sigma_0, weight units"),
    "schedule": Param("choice", choices=("linear", "exponential", "constant")),
    "decay": Param("real", low=0, low_open=True, high=1, high_open=True),
}


class StochasticHopfield:
    r"""Annealed stochastic Hopfield network (Cai et al. 2020), digital or on a crossbar.

    .. math::

        v_i \leftarrow \operatorname{sgn}\Big(\sum_j W_{ij} v_j - \theta_i + \eta_i\Big),\qquad
        \eta_i \sim \mathcal N(0, \sigma_k^2)

    Parameters
    ----------
    W : array_like, shape (N, N)
        Symmetric weights (e.g. :func:`max_cut_weights`).
    theta : array_like, shape (N,), optional
    noise : float
        :math:`\sigma_0` (weight units); 0 is the noise-free (greedy) solver.
    schedule : {"linear", "exponential", "constant"}
        :math:`\sigma_k = \sigma_0(1 - k/K)`, :math:`\sigma_0 r^k` (``decay`` = r) or :math:`\sigma_0`.
    decay : float
        :math:`r` of the exponential schedule.
    hardware : CrossbarConfig, HardwareConfig or None
        Fields read on a crossbar; :math:`\eta` is then its read noise, scaled by the drive amplitude.
    seed : int

    Examples
    --------
    >>> A = random_graph(8, 0.5, seed=0)
    >>> best, _ = max_cut_brute_force(A)
    >>> v = StochasticHopfield(max_cut_weights(A), noise=1.0, seed=0).solve(n_runs=20, n_sweeps=30)
    >>> bool(cut_value(A, v).max() == best)
    True
    """

    def __init__(self, W, theta=None, noise: float = 1.0, schedule: str = "linear", decay: float = 0.9,
                 hardware=None, seed: int = 0):
        p = check_params("StochasticHopfield", _PARAMS, {"noise": noise, "schedule": schedule, "decay": decay})
        check_seed("StochasticHopfield", seed)
        W = check_array("StochasticHopfield", "W", W, ndim=2).astype(np.float64)
        if W.shape[0] != W.shape[1] or not np.allclose(W, W.T):
            raise ParameterError(f"StochasticHopfield: W must be a symmetric square matrix, got shape {W.shape}")
        self.weights, self.seed = W, seed
        self.theta = np.zeros(W.shape[0]) if theta is None else check_array("StochasticHopfield", "theta", theta,
                                                                            shape=(W.shape[0],)).astype(float)
        self.noise, self.schedule, self.decay = p["noise"], p["schedule"], p["decay"]
        self.crossbar = None if hardware is None else make_crossbar(W, hardware, seed, "solver")
        self.hw_noise = self._calibrate() if self.crossbar is not None else 0.0

    def _calibrate(self, n_reads: int = 256) -> float:
        """Standard deviation (weight units) of the crossbar's fields at full drive amplitude, measured
        from repeated reads of one random state (the read noise a schedule can scale)."""
        v = np.where(seeded_rng(self.seed, "calibrate").random(self.weights.shape[0]) < 0.5, -1.0, 1.0)
        reads = self.crossbar.matmul(np.repeat(v[None], n_reads, axis=0))
        return float(np.mean(np.std(reads, axis=0)))

    def sigmas(self, n_sweeps: int) -> np.ndarray:
        """:math:`\\sigma_k` for ``k = 0 .. n_sweeps-1`` (weight units)."""
        k = np.arange(n_sweeps)
        if self.schedule == "linear":
            return self.noise * (1.0 - k / n_sweeps)
        if self.schedule == "exponential":
            return self.noise * self.decay**k
        return np.full(n_sweeps, self.noise)

    def solve(self, n_runs: int = 100, n_sweeps: int = 50, initial=None, return_trace: bool = False):
        """Run ``n_runs`` independent annealed descents of ``n_sweeps`` asynchronous sweeps.

        Returns
        -------
        ndarray, shape (n_runs, N)
            Final bipolar states (plus the energy per sweep, (n_sweeps, n_runs), with ``return_trace``).
        """
        check_params("StochasticHopfield.solve", {"n_runs": Param("int", low=1), "n_sweeps": Param("int", low=1)},
                     {"n_runs": n_runs, "n_sweeps": n_sweeps})
        N = self.weights.shape[0]
        g = seeded_rng(self.seed, "solve")
        V = (np.where(g.random((n_runs, N)) < 0.5, -1.0, 1.0) if initial is None
             else np.array(np.broadcast_to(check_array("StochasticHopfield", "initial", initial), (n_runs, N))))
        trace = np.empty((n_sweeps, n_runs))
        for k, sigma in enumerate(self.sigmas(n_sweeps)):
            if self.crossbar is not None:
                s = 1.0 if sigma <= self.hw_noise or sigma == 0 else self.hw_noise / sigma
            for i in g.permutation(N):  # asynchronous: one neuron per update, vectorized over runs
                if self.crossbar is not None:
                    h = self.crossbar.matmul(s * V)[:, i] / s - self.theta[i]
                else:
                    h = V @ self.weights[i] - self.theta[i]
                    if sigma > 0:
                        h = h + sigma * g.standard_normal(n_runs)
                V[:, i] = _sgn_keep(h, V[:, i])
            trace[k] = -0.5 * np.einsum("bi,ij,bj->b", V, self.weights, V) + V @ self.theta
        return (V, trace) if return_trace else V


def success_probability(A, solver: StochasticHopfield, n_runs: int = 100, n_sweeps: int = 50) -> float:
    """Fraction of runs whose final cut equals the brute-force maximum cut."""
    best, _ = max_cut_brute_force(A)
    return float(np.mean(cut_value(A, solver.solve(n_runs, n_sweeps)) >= best - 1e-9))

