"""Hénon map: the one-step-ahead prediction benchmark of dynamic-memristor reservoirs."""

from __future__ import annotations

import numpy as np

from neurosim.errors import ParameterError
from neurosim.params import Param, check_params
from neurosim.tasks.base import SequenceTask, as_rng, guard_sequences

__all__ = ["henon_series", "henon_map"]

_PARAMS = {"n_steps": Param("int", low=2), "batch_size": Param("int", low=1), "washout": Param("int", low=0),
           "discard": Param("int", low=0)}


def henon_series(n_samples: int, a: float = 1.4, b: float = 0.3, x0=0.0, y0=0.0, discard: int = 100) -> np.ndarray:
    r"""The :math:`x` coordinate of the Hénon map (Hénon 1976), iterated from :math:`(x_0, y_0)`.

    .. math:: x_{k+1} = 1 - a x_k^2 + y_k, \qquad y_{k+1} = b\, x_k

    Parameters
    ----------
    n_samples : int
        Samples returned (after ``discard`` iterations are dropped).
    a, b : float
        Map parameters (1.4 and 0.3: the chaotic attractor).
    x0, y0 : float or array_like of shape (batch,)
        Initial point(s) (vectorized over a batch).
    discard : int
        Leading iterations dropped (transient onto the attractor).

    Returns
    -------
    ndarray, shape (n_samples,) or (n_samples, batch)

    Raises
    ------
    ParameterError
        The orbit escaped to infinity (an initial point outside the basin).

    Examples
    --------
    >>> x = henon_series(3, x0=0.0, y0=0.0, discard=0)
    >>> np.round(x, 12).tolist()        # 0 -> 1 -> 1 - 1.4 + 0 = -0.4
    [0.0, 1.0, -0.4]
    """
    p = check_params("henon_series", {"n_samples": Param("int", low=1), "discard": Param("int", low=0),
                                      "a": Param("real"), "b": Param("real")},
                     dict(n_samples=n_samples, discard=discard, a=a, b=b))
    x = np.array(x0, dtype=np.float64, ndmin=1)
    y = np.broadcast_to(np.asarray(y0, dtype=np.float64), x.shape).copy()
    guard_sequences("henon_series", p["n_samples"], x.size)
    out = np.empty((p["n_samples"], x.size))
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(p["discard"] + p["n_samples"]):  # a sequential map: vectorized over the batch
            if k >= p["discard"]:
                out[k - p["discard"]] = x
            x, y = 1.0 - a * x * x + y, b * x
    if not np.all(np.isfinite(out)) or np.any(np.abs(out) > 1e6):
        raise ParameterError("henon_series: the orbit escaped to infinity; start inside the basin (e.g. |x0|, |y0| < 0.5)")
    return out[:, 0] if np.ndim(x0) == 0 else out


def henon_map(n_steps: int = 1000, batch_size: int = 1, washout: int = 50, discard: int = 100, seed: int = 0,
              rng: np.random.Generator | None = None) -> SequenceTask:
    r"""Hénon-map one-step prediction: read :math:`x_k`, predict :math:`x_{k+1}`.

    .. math:: x_{k+1} = 1 - 1.4\, x_k^2 + 0.3\, x_{k-1}

    (the benchmark of Zhong et al., Nat. Commun. 12, 408, 2021). Initial points are drawn uniformly
    in :math:`[-0.1, 0.1]^2` from ``seed``/``rng``; scored by NRMSE after ``washout`` steps.

    Examples
    --------
    >>> t = henon_map(n_steps=20, washout=5, seed=0)
    >>> bool(np.array_equal(t.inputs[1:], t.targets[:-1]))
    True
    """
    p = check_params("henon_map", _PARAMS, dict(n_steps=n_steps, batch_size=batch_size, washout=washout, discard=discard))
    if p["washout"] >= p["n_steps"]:
        raise ParameterError(f"henon_map: washout must be < n_steps={n_steps}, got {washout}")
    guard_sequences("henon_map", p["n_steps"], p["batch_size"])
    gen = as_rng("henon_map", seed, rng)
    x0, y0 = gen.uniform(-0.1, 0.1, size=(2, p["batch_size"]))
    s = henon_series(p["n_steps"] + 1, x0=x0, y0=y0, discard=p["discard"])
    mask = np.ones((p["n_steps"], p["batch_size"]), bool)
    mask[: p["washout"]] = False
    return SequenceTask("henon", s[:-1, :, None], s[1:, :, None], mask, "regression", dict(p, seed=seed))
