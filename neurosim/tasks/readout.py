"""Closed-form ridge-regression readout: train a network's output layer without BPTT."""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.linalg

from neurosim.errors import ParameterError
from neurosim.params import Param, check_array, check_params

__all__ = ["RidgeReadout", "fit_ridge"]


@dataclasses.dataclass(frozen=True)
class RidgeReadout:
    r"""A fitted linear readout :math:`\hat y = W h + b`.

    Parameters
    ----------
    weight : ndarray, shape (n_outputs, n_features)
        :math:`W` (PyTorch ``nn.Linear`` layout).
    bias : ndarray, shape (n_outputs,)
        :math:`b`.
    alpha : float
        The ridge penalty it was fitted with.

    Examples
    --------
    >>> r = RidgeReadout(np.array([[2.0]]), np.array([1.0]), 0.0)
    >>> r.predict(np.array([[[3.0]]])).tolist()
    [[[7.0]]]
    """

    weight: np.ndarray
    bias: np.ndarray
    alpha: float

    def predict(self, states) -> np.ndarray:
        """Apply the readout to states of shape (..., n_features); returns (..., n_outputs).

        Raises
        ------
        ParameterError
            The last axis of ``states`` is not ``n_features``.
        """
        h = check_array("RidgeReadout", "states", states)
        if h.ndim < 1 or h.shape[-1] != self.weight.shape[1]:
            raise ParameterError(
                f"RidgeReadout: states must have shape (..., {self.weight.shape[1]}), got {h.shape}"
            )
        return h @ self.weight.T + self.bias


_PARAMS = {"alpha": Param("real", low=0), "fit_bias": Param("bool")}


def fit_ridge(states, targets, alpha: float = 1e-6, mask=None, fit_bias: bool = True) -> RidgeReadout:
    r"""Fit a linear readout by ridge regression (Tikhonov), in closed form.

    With :math:`H` the collected states (one row per scored step, plus a column of ones when
    ``fit_bias``) and :math:`Y` the targets:

    .. math::

        (H^\top H + \alpha\, P)\, W^\top = H^\top Y

    where :math:`P` is the identity except that the bias is not penalised (its diagonal entry is 0).
    The symmetric positive (semi-)definite system is solved by Cholesky (``scipy.linalg.solve``
    with ``assume_a="pos"``), falling back to least squares when it is singular (alpha = 0 and
    rank-deficient states).

    Parameters
    ----------
    states : array_like, shape (..., n_features)
        Hidden states, e.g. (time, batch, hidden) from a cell.
    targets : array_like, shape (..., n_outputs)
        Targets with the same leading shape.
    alpha : float
        Ridge penalty :math:`\alpha \ge 0` (dimensionless, in units of the states squared).
    mask : array_like of bool, optional
        Selects the rows used (leading shape, e.g. the task's (time, batch) mask).
    fit_bias : bool
        Fit an unpenalised bias.

    Returns
    -------
    RidgeReadout

    Raises
    ------
    ParameterError
        Mismatched leading shapes, non-finite values, an empty mask or a negative alpha.

    Examples
    --------
    >>> H = np.array([[0.0], [1.0], [2.0]]); Y = 3.0 * H + 1.0
    >>> r = fit_ridge(H, Y, alpha=0.0)
    >>> np.round(r.weight, 12).tolist(), np.round(r.bias, 12).tolist()
    ([[3.0]], [1.0])
    """
    p = check_params("fit_ridge", _PARAMS, dict(alpha=alpha, fit_bias=fit_bias))
    H = check_array("fit_ridge", "states", states, ndim=tuple(range(1, 8)))
    Y = check_array("fit_ridge", "targets", targets, ndim=tuple(range(1, 8)))
    if H.ndim == 1:
        H = H[:, None]
    if Y.ndim == 1:
        Y = Y[:, None]
    if H.shape[:-1] != Y.shape[:-1]:
        raise ParameterError(
            f"fit_ridge: states and targets must share their leading shape, got {H.shape} and {Y.shape}"
        )
    if mask is not None:
        m = np.asarray(mask, dtype=bool)
        if m.shape != H.shape[:-1]:
            raise ParameterError(f"fit_ridge: mask must have shape {H.shape[:-1]}, got {m.shape}")
        if not m.any():
            raise ParameterError("fit_ridge: mask selects no row")
        H, Y = H[m], Y[m]
    H = H.reshape(-1, H.shape[-1]).astype(np.float64, copy=False)
    Y = Y.reshape(-1, Y.shape[-1]).astype(np.float64, copy=False)
    n_feat = H.shape[1]
    if p["fit_bias"]:
        H = np.hstack([H, np.ones((H.shape[0], 1))])
    A = H.T @ H
    penalty = np.full(H.shape[1], p["alpha"])
    if p["fit_bias"]:
        penalty[-1] = 0.0
    A[np.diag_indices_from(A)] += penalty
    rhs = H.T @ Y
    try:
        sol = scipy.linalg.solve(A, rhs, assume_a="pos")
    except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
        sol = np.linalg.lstsq(A, rhs, rcond=None)[0]
    weight = np.ascontiguousarray(sol[:n_feat].T)
    bias = sol[n_feat] if p["fit_bias"] else np.zeros(Y.shape[1])
    return RidgeReadout(weight, np.asarray(bias, dtype=np.float64), p["alpha"])
