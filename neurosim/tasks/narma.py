"""NARMA-10: the nonlinear autoregressive moving-average benchmark of reservoir computing."""

from __future__ import annotations

import numpy as np

from neurosim.errors import ParameterError
from neurosim.params import Param, check_params
from neurosim.tasks.base import SequenceTask, as_rng, guard_sequences

__all__ = ["narma10_series", "narma10"]

ORDER = 10


def narma10_series(u) -> np.ndarray:
    r"""The NARMA-10 response to the input sequence ``u`` (Atiya & Parlos 2000).

    .. math::

        y_{t+1} = 0.3\,y_t + 0.05\,y_t \sum_{i=0}^{9} y_{t-i} + 1.5\,u_{t-9}\,u_t + 0.1

    with :math:`y_t = 0` for the first 10 steps (:math:`t < 10`, where :math:`u_{t-9}` or the
    sum would reach before the start). The recursion is inherently sequential in time; it is
    vectorized over the batch (trailing axes of ``u``).

    Parameters
    ----------
    u : array_like, shape (time, ...)
        Input sequence(s); the literature draws :math:`u_t \sim U[0, 0.5]`.

    Returns
    -------
    ndarray, same shape as ``u``
        :math:`y_t`, float64.

    Raises
    ------
    ParameterError
        ``u`` is not a finite array with a time axis, or the recursion diverged (inputs far
        outside [0, 0.5] make NARMA-10 unstable).

    Examples
    --------
    >>> y = narma10_series(np.full(12, 0.5))
    >>> float(y[9]), round(float(y[10]), 6)
    (0.0, 0.475)
    """
    u = np.asarray(u, dtype=np.float64)
    if u.ndim < 1 or not np.all(np.isfinite(u)):
        raise ParameterError(f"narma10_series: u must be a finite array with a time axis, got shape {u.shape}")
    y = np.zeros_like(u)
    # running sum of the last 10 outputs, updated incrementally: one O(batch) update per step
    window = np.zeros(u.shape[1:])
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported below
        for t in range(ORDER - 1, u.shape[0] - 1):
            window = window + y[t] - (y[t - ORDER] if t >= ORDER else 0.0)
            y[t + 1] = 0.3 * y[t] + 0.05 * y[t] * window + 1.5 * u[t - 9] * u[t] + 0.1
    if not np.all(np.isfinite(y)) or np.any(np.abs(y) > 1e3):
        raise ParameterError("narma10_series: the NARMA-10 recursion diverged; keep u within [0, 0.5]")
    return y


_PARAMS = {
    "n_steps": Param("int", low=ORDER + 1),
    "batch_size": Param("int", low=1),
    "washout": Param("int", low=0),
}


def narma10(
    n_steps: int = 1000,
    batch_size: int = 1,
    washout: int = 100,
    seed: int = 0,
    rng: np.random.Generator | None = None,
) -> SequenceTask:
    r"""NARMA-10 system identification: read :math:`u_t \sim U[0, 0.5]`, output :math:`y_t`.

    .. math::

        y_{t+1} = 0.3\,y_t + 0.05\,y_t \sum_{i=0}^{9} y_{t-i} + 1.5\,u_{t-9}\,u_t + 0.1

    Parameters
    ----------
    n_steps, batch_size : int
        Sequence length (> 10) and number of sequences.
    washout : int
        Leading steps not scored (NARMA's own start-up and the network's transient).
    seed : int
        Seed of the input draw (ignored when ``rng`` is given).
    rng : numpy.random.Generator, optional
        Generator of the input draw.

    Returns
    -------
    SequenceTask
        ``inputs`` :math:`u` and ``targets`` :math:`y`, both (n_steps, batch_size, 1); scored by NRMSE.

    Examples
    --------
    >>> t = narma10(n_steps=200, seed=3)
    >>> t.inputs.shape, bool(t.inputs.min() >= 0 and t.inputs.max() <= 0.5)
    ((200, 1, 1), True)
    """
    p = check_params("narma10", _PARAMS, dict(n_steps=n_steps, batch_size=batch_size, washout=washout))
    if p["washout"] >= p["n_steps"]:
        raise ParameterError(f"narma10: washout must be < n_steps={n_steps}, got {washout}")
    guard_sequences("narma10", p["n_steps"], p["batch_size"])
    gen = as_rng("narma10", seed, rng)
    u = gen.uniform(0.0, 0.5, size=(p["n_steps"], p["batch_size"]))
    y = narma10_series(u)
    mask = np.ones(u.shape, bool)
    mask[: p["washout"]] = False
    return SequenceTask("narma10", u[:, :, None], y[:, :, None], mask, "regression", dict(p, seed=seed))
