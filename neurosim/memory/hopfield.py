r"""Hopfield networks: Hebbian and pseudo-inverse storage, synchronous and asynchronous recall,
energy; the weight matrix optionally on a memristive crossbar (fields read in analog).

.. math::

    E(v) = -\tfrac12 v^\top W v + \theta^\top v, \qquad
    v_i \leftarrow \operatorname{sgn}\Big(\sum_j W_{ij} v_j - \theta_i\Big)

with :math:`\operatorname{sgn}(0)` keeping the current value, so that an asynchronous update never
increases :math:`E` for a symmetric :math:`W` with a non-negative diagonal (Hopfield 1982).
"""

from __future__ import annotations

import numpy as np

from neurosim.errors import ParameterError
from neurosim.params import Param, check_array, check_params
from neurosim.seeding import check_seed
from neurosim.seeding import derive
from neurosim.seeding import rng as seeded_rng

__all__ = ["Hopfield", "check_bipolar", "make_crossbar"]


def check_bipolar(owner: str, name: str, value, ndim=(1, 2)) -> np.ndarray:
    """``value`` as a float64 array of +-1 entries, or a ParameterError naming it.

    Examples
    --------
    >>> check_bipolar("Hopfield", "patterns", [[1, 0, -1]])
    Traceback (most recent call last):
    ...
    neurosim.errors.ParameterError: Hopfield: patterns must be bipolar (every entry -1 or +1), got 0.0 at index (0, 1)
    """
    arr = check_array(owner, name, value, ndim=ndim).astype(np.float64)
    bad = np.abs(arr) != 1.0
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ParameterError(f"{owner}: {name} must be bipolar (every entry -1 or +1), got {float(arr[idx])!r} at index {idx}")
    return arr


def make_crossbar(W: np.ndarray, hardware, seed, name: str):
    """A :class:`~neurosim.crossbar.Crossbar` of ``W`` from a CrossbarConfig or a HardwareConfig (weight ``name``)."""
    from neurosim.analog import HardwareConfig
    from neurosim.crossbar import Crossbar, CrossbarConfig

    if isinstance(hardware, HardwareConfig):
        from neurosim.cells.base import WeightInfo

        cfg = hardware.crossbar_config(name, WeightInfo(name, name, 0, 0, "state"))
        return Crossbar(W, cfg, seed=hardware.crossbar_seed(name))
    if isinstance(hardware, CrossbarConfig):
        return Crossbar(W, hardware, seed=derive(seed, "crossbar", name) if hardware.seed is None else None)
    raise ParameterError(f"{name}: hardware must be a CrossbarConfig, a HardwareConfig or None, got {type(hardware).__name__}")


def _sgn_keep(h: np.ndarray, v: np.ndarray) -> np.ndarray:
    """sgn(h), keeping v where h == 0."""
    return np.where(h > 0, 1.0, np.where(h < 0, -1.0, v))


_PARAMS = {"rule": Param("choice", choices=("hebbian", "pseudo_inverse"))}


class Hopfield:
    r"""A Hopfield network storing bipolar patterns.

    Storage (patterns :math:`\xi^\mu \in \{-1, 1\}^N`, :math:`\mu = 1..P`, rows of :math:`\Xi`):

    .. math::

        W^{hebb} = \frac1N \sum_\mu \xi^\mu \xi^{\mu\top} - \frac PN I, \qquad
        W^{pinv} = \Xi^\top (\Xi \Xi^\top)^{+} \Xi \;\text{with its diagonal set to 0}

    Recall: :math:`v_i \leftarrow \operatorname{sgn}(\sum_j W_{ij} v_j - \theta_i)` (ties keep
    :math:`v_i`), all neurons at once (``"sync"``) or one at a time in a random order per sweep
    (``"async"``). On a crossbar every field :math:`W v` is an analog read
    (:meth:`~neurosim.crossbar.Crossbar.matmul`, converters and non-idealities included); an
    asynchronous update reads the whole array and uses the field of the updated neuron, as one
    hardware cycle would.

    Parameters
    ----------
    patterns : array_like, shape (P, N)
        Bipolar patterns to store.
    rule : {"hebbian", "pseudo_inverse"}
    theta : array_like, shape (N,), optional
        Thresholds :math:`\theta` (default 0).
    hardware : CrossbarConfig, HardwareConfig or None
        Put :math:`W` on a crossbar (weight name ``"hopfield"``).
    seed : int
        Root seed (update orders, crossbar).

    Attributes
    ----------
    weights : ndarray, shape (N, N)
    crossbar : Crossbar or None

    Raises
    ------
    ParameterError
        Non-bipolar patterns, unknown rule, thresholds of the wrong size.

    Examples
    --------
    >>> xi = np.array([[1, -1, 1, -1, 1, -1], [1, 1, 1, -1, -1, -1.0]])
    >>> net = Hopfield(xi)
    >>> probe = xi[0].copy(); probe[0] = -1                     # one bit flipped
    >>> bool(np.array_equal(net.recall(probe), xi[0]))
    True
    """

    def __init__(self, patterns, rule: str = "hebbian", theta=None, hardware=None, seed: int = 0):
        check_params("Hopfield", _PARAMS, {"rule": rule})
        check_seed("Hopfield", seed)
        xi = check_bipolar("Hopfield", "patterns", patterns, ndim=2)
        P, N = xi.shape
        if rule == "hebbian":
            W = xi.T @ xi / N
        else:
            W = xi.T @ np.linalg.pinv(xi @ xi.T) @ xi
        np.fill_diagonal(W, 0.0)
        self.patterns, self.rule, self.seed, self.hardware = xi, rule, seed, hardware
        self.weights = W
        self.theta = np.zeros(N) if theta is None else check_array("Hopfield", "theta", theta, shape=(N,)).astype(float)
        self.crossbar = None if hardware is None else make_crossbar(W, hardware, seed, "hopfield")

    @property
    def n(self) -> int:
        """Number of neurons :math:`N`."""
        return self.weights.shape[0]

    def energy(self, v) -> np.ndarray:
        r""":math:`E(v) = -\frac12 v^\top W v + \theta^\top v` for each row of ``v`` (digital weights).

        Examples
        --------
        >>> Hopfield(np.array([[1.0, 1.0]])).energy(np.array([[1.0, 1.0], [1.0, -1.0]]))
        array([-0.5,  0.5])
        """
        V = check_array("Hopfield", "v", v, ndim=(1, 2))
        V2 = np.atleast_2d(V)
        E = -0.5 * np.einsum("bi,ij,bj->b", V2, self.weights, V2) + V2 @ self.theta
        return E[0] if V.ndim == 1 else E

    def fields(self, V: np.ndarray, analog: bool | None = None) -> np.ndarray:
        """Local fields :math:`W v - \\theta` of a batch (B, N), on the crossbar when it exists."""
        use = self.crossbar is not None if analog is None else analog
        h = self.crossbar.matmul(V) if use else V @ self.weights.T
        return h - self.theta

    def sweep(self, V: np.ndarray, mode: str = "async", rng=None, analog: bool | None = None,
              order: np.ndarray | None = None) -> np.ndarray:
        """One update sweep of a batch of states (B, N) (a new array); ``async`` in ``order`` or a random one."""
        V = np.array(V, dtype=np.float64)
        use = self.crossbar is not None if analog is None else analog
        if mode == "sync":
            return _sgn_keep(self.fields(V, use), V)
        if order is None:
            order = (rng if rng is not None else seeded_rng(self.seed, "order")).permutation(self.n)
        if use:  # one array read per neuron update (a hardware cycle)
            for i in order:
                V[:, i] = _sgn_keep(self.fields(V, True)[:, i], V[:, i])
            return V
        # digital: local fields kept up to date, one rank-1 correction per flipped neuron
        h = V @ self.weights.T - self.theta
        Wt = self.weights  # symmetric
        for i in order:  # asynchronous dynamics are sequential by definition; vectorized over the batch
            new = _sgn_keep(h[:, i], V[:, i])
            flip = np.flatnonzero(new != V[:, i])
            if flip.size:
                h[flip] += (new[flip] - V[flip, i])[:, None] * Wt[i][None, :]
                V[flip, i] = new[flip]
        return V

    def recall(self, probes, mode: str = "async", max_sweeps: int = 100, seed=None, analog: bool | None = None,
               return_info: bool = False):
        """Run updates from ``probes`` until no neuron changes in a sweep (or ``max_sweeps``).

        Parameters
        ----------
        probes : array_like, shape (N,) or (B, N)
            Bipolar start states.
        mode : {"async", "sync"}
        max_sweeps : int
        seed : int, optional
            Seed of the asynchronous update orders (default: the network's seed).
        analog : bool, optional
            Read the fields on the crossbar (default: when one exists).
        return_info : bool
            Also return ``{"sweeps": int, "converged": bool}``.

        Returns
        -------
        ndarray
            Final states, shape of ``probes``.

        Raises
        ------
        ParameterError
            Non-bipolar probes, wrong size, unknown mode.
        """
        check_params("Hopfield.recall", {"mode": Param("choice", choices=("async", "sync")),
                                         "max_sweeps": Param("int", low=1)}, {"mode": mode, "max_sweeps": max_sweeps})
        V = check_bipolar("Hopfield.recall", "probes", probes)
        single = V.ndim == 1
        V = np.atleast_2d(V)
        if V.shape[1] != self.n:
            raise ParameterError(f"Hopfield.recall: probes must have {self.n} entries per state, got {V.shape[1]}")
        g = seeded_rng(self.seed if seed is None else seed, "order")
        converged, k = False, 0
        prev2 = None
        for k in range(1, max_sweeps + 1):
            new = self.sweep(V, mode, g, analog)
            if np.array_equal(new, V) or (mode == "sync" and prev2 is not None and np.array_equal(new, prev2)):
                converged = np.array_equal(new, V)
                V = new
                break
            prev2, V = V, new
        out = V[0] if single else V
        return (out, {"sweeps": k, "converged": converged}) if return_info else out
