r"""Bidirectional associative memory (Kosko 1988): bipolar pairs in one matrix, recalled by
alternating forward (:math:`W x`, rows driven) and transposed (:math:`W^\top y`, columns driven)
reads of the same matrix or crossbar.

.. math::

    W = \sum_\mu y^\mu x^{\mu\top}, \qquad
    y \leftarrow \operatorname{sgn}(W x), \qquad x \leftarrow \operatorname{sgn}(W^\top y)

(ties keep the previous value). The energy :math:`E = -y^\top W x` never increases.
"""

from __future__ import annotations

import numpy as np

from neurosim.errors import ParameterError
from neurosim.memory.hopfield import _sgn_keep, check_bipolar, make_crossbar
from neurosim.params import Param, check_params
from neurosim.seeding import check_seed

__all__ = ["BAM"]


class BAM:
    r"""Kosko's bidirectional associative memory, digital or on one crossbar.

    .. math:: W = \sum_\mu y^\mu x^{\mu\top},\quad y \leftarrow \operatorname{sgn}(W x),\quad
              x \leftarrow \operatorname{sgn}(W^\top y)

    Parameters
    ----------
    x_patterns : array_like, shape (P, n)
        Bipolar keys.
    y_patterns : array_like, shape (P, m)
        Bipolar associations (same P).
    hardware : CrossbarConfig, HardwareConfig or None
        One crossbar holds :math:`W` (m, n): forward reads :meth:`~neurosim.crossbar.Crossbar.matmul`,
        backward reads :meth:`~neurosim.crossbar.Crossbar.matmul_transposed`.
    seed : int

    Raises
    ------
    ParameterError
        Non-bipolar patterns or different numbers of x and y patterns.

    Examples
    --------
    >>> x = np.array([[1, -1, 1, -1, 1, -1.0], [1, 1, 1, -1, -1, -1]])
    >>> y = np.array([[1, 1, -1, -1.0], [1, -1, 1, -1]])
    >>> bam = BAM(x, y)
    >>> xs, ys = bam.recall(x=x)
    >>> bool(np.array_equal(ys, y) and np.array_equal(xs, x))
    True
    """

    def __init__(self, x_patterns, y_patterns, hardware=None, seed: int = 0):
        check_seed("BAM", seed)
        X = check_bipolar("BAM", "x_patterns", x_patterns, ndim=2)
        Y = check_bipolar("BAM", "y_patterns", y_patterns, ndim=2)
        if X.shape[0] != Y.shape[0]:
            raise ParameterError(f"BAM: x_patterns and y_patterns must hold the same number of patterns (pairs), "
                                 f"got {X.shape[0]} and {Y.shape[0]}")
        self.x_patterns, self.y_patterns = X, Y
        self.weights = Y.T @ X  # (m, n)
        self.crossbar = None if hardware is None else make_crossbar(self.weights, hardware, seed, "bam")

    def forward(self, X, analog: bool | None = None) -> np.ndarray:
        """Fields :math:`W x` of a batch (B, n) -> (B, m) (row-driven read on the crossbar)."""
        use = self.crossbar is not None if analog is None else analog
        return self.crossbar.matmul(X) if use else X @ self.weights.T

    def backward(self, Y, analog: bool | None = None) -> np.ndarray:
        """Fields :math:`W^\\top y` of a batch (B, m) -> (B, n) (column-driven read on the crossbar)."""
        use = self.crossbar is not None if analog is None else analog
        return self.crossbar.matmul_transposed(Y) if use else Y @ self.weights

    def energy(self, x, y) -> np.ndarray:
        """:math:`E = -y^\\top W x` per row."""
        return -np.einsum("bm,mn,bn->b", np.atleast_2d(y), self.weights, np.atleast_2d(x))

    def recall(self, x=None, y=None, max_iter: int = 50, analog: bool | None = None):
        """Alternate :math:`y = \\mathrm{sgn}(W x)`, :math:`x = \\mathrm{sgn}(W^\\top y)` until both are stable.

        Give ``x`` (keys, (n,) or (B, n)) or ``y`` (associations) to start from.

        Returns
        -------
        (x, y)
            Final states, batch shape of the input.

        Raises
        ------
        ParameterError
            Neither or both of x and y, non-bipolar or wrongly sized probes.
        """
        check_params("BAM.recall", {"max_iter": Param("int", low=1)}, {"max_iter": max_iter})
        if (x is None) == (y is None):
            raise ParameterError("BAM.recall: give exactly one of x and y")
        n, m = self.weights.shape[1], self.weights.shape[0]
        if x is not None:
            X = check_bipolar("BAM.recall", "x", x)
            single = X.ndim == 1
            X = np.atleast_2d(X)
            if X.shape[1] != n:
                raise ParameterError(f"BAM.recall: x must have {n} entries per vector, got {X.shape[1]}")
            Y = _sgn_keep(self.forward(X, analog), np.ones((X.shape[0], m)))
        else:
            Y = check_bipolar("BAM.recall", "y", y)
            single = Y.ndim == 1
            Y = np.atleast_2d(Y)
            if Y.shape[1] != m:
                raise ParameterError(f"BAM.recall: y must have {m} entries per vector, got {Y.shape[1]}")
            X = np.ones((Y.shape[0], n))
        for _ in range(max_iter):
            X_new = _sgn_keep(self.backward(Y, analog), X)
            Y_new = _sgn_keep(self.forward(X_new, analog), Y)
            done = np.array_equal(X_new, X) and np.array_equal(Y_new, Y)
            X, Y = X_new, Y_new
            if done:
                break
        return (X[0], Y[0]) if single else (X, Y)
