"""Mackey-Glass delay differential equation: integrator and the one-step-ahead prediction task."""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from neurosim.errors import ParameterError
from neurosim.params import Param, check_params
from neurosim.tasks.base import SequenceTask, as_rng, guard_sequences

__all__ = ["mackey_glass_series", "mackey_glass"]

_SERIES_PARAMS = {
    "n_samples": Param("int", low=1),
    "tau": Param("real", low=0, low_open=True, unit="time units"),
    "a": Param("real", low=0, low_open=True),
    "b": Param("real", low=0, low_open=True),
    "n": Param("real", low=0, low_open=True),
    "dt": Param("real", low=0, low_open=True, unit="time units"),
    "sample_step": Param("real", low=0, low_open=True, unit="time units"),
    "discard": Param("real", low=0, unit="time units"),
}


def _rk4_linear_coefficients(b: float, h: float) -> tuple[float, float, float, float]:
    """Coefficients of one RK4 step of x' = -b x + F(t) as a linear map.

    With the forcing sampled at the step start (F1), midpoint (Fm) and end (F4), classical RK4 is
    ``x_next = R x + c1 F1 + cm Fm + c4 F4``; evaluating the four RK4 stages on unit inputs gives
    the coefficients exactly (the map is linear), so the blocks below reproduce step-by-step RK4.
    """

    def step(x, f1, fm, f4):
        d1 = f1 - b * x
        d2 = fm - b * (x + 0.5 * h * d1)
        d3 = fm - b * (x + 0.5 * h * d2)
        d4 = f4 - b * (x + h * d3)
        return x + h / 6.0 * (d1 + 2.0 * d2 + 2.0 * d3 + d4)

    return step(1.0, 0, 0, 0), step(0.0, 1, 0, 0), step(0.0, 0, 1, 0), step(0.0, 0, 0, 1)


def mackey_glass_series(
    n_samples: int,
    tau: float = 17.0,
    a: float = 0.2,
    b: float = 0.1,
    n: float = 10.0,
    dt: float = 0.1,
    sample_step: float = 1.0,
    x0=1.2,
    discard: float = 0.0,
) -> np.ndarray:
    r"""Integrate the Mackey-Glass equation with fourth-order Runge-Kutta and sample it.

    .. math::

        \frac{dx}{dt} = \frac{a\,x(t-\tau)}{1 + x(t-\tau)^n} - b\,x(t)

    The history is constant, :math:`x(t) = x_0` for :math:`t \le 0`. The step ``dt`` must divide
    ``tau`` and ``sample_step``. The delayed term at RK4's half step is the 4-point cubic
    interpolation of the stored delayed terms, :math:`(-g_{k-1} + 9 g_k + 9 g_{k+1} - g_{k+2})/16`
    (one-sided next to the kinks of the solution at :math:`t = 0` and :math:`t = \tau`), which
    keeps the scheme fourth-order. Because the delayed term over the next ``tau`` is already
    known, each block of ``tau/dt - 1`` steps is a linear recurrence evaluated in one vectorized
    filter call (identical to stepping RK4 one step at a time).

    Parameters
    ----------
    n_samples : int
        Number of samples returned.
    tau, a, b, n : float
        Delay (time units), production rate, decay rate and Hill exponent. Defaults are the
        literature's chaotic benchmark (Mackey & Glass 1977; tau = 17 is chaotic, tau > 16.8).
    dt : float
        Integration step (time units), default 0.1.
    sample_step : float
        Time between returned samples (time units), default 1 (subsampling by ``sample_step/dt``).
    x0 : float or array_like of shape (batch,)
        Constant initial history; an array integrates several series at once.
    discard : float
        Time (units) integrated and dropped before the first returned sample (transient).

    Returns
    -------
    ndarray, shape (n_samples,) or (n_samples, batch)
        :math:`x(t_{discard} + k\,\Delta)`, :math:`k = 0 .. n_{samples}-1`, float64.

    Raises
    ------
    ParameterError
        A parameter out of range, or ``dt`` not dividing ``tau`` / ``sample_step``.

    Examples
    --------
    >>> x = mackey_glass_series(5, tau=17)
    >>> float(x[0])
    1.2
    >>> bool(abs(mackey_glass_series(1, tau=3, discard=1000)[0] - 1.0) < 1e-6)  # stable fixed point x*=1
    True
    """
    p = check_params(
        "mackey_glass_series",
        _SERIES_PARAMS,
        dict(n_samples=n_samples, tau=tau, a=a, b=b, n=n, dt=dt, sample_step=sample_step, discard=discard),
    )
    tau, dt = p["tau"], p["dt"]
    m = round(tau / dt)
    every = round(p["sample_step"] / dt)
    skip = round(p["discard"] / dt)
    for name, ratio, count in (("tau", tau / dt, m), ("sample_step", p["sample_step"] / dt, every)):
        if abs(ratio - count) > 1e-9 * max(1.0, ratio) or count < 1:
            raise ParameterError(f"mackey_glass_series: dt must divide {name}, got dt={dt!r}, {name}={ratio * dt!r}")
    if m < 3:
        raise ParameterError(f"mackey_glass_series: tau must be at least 3 dt, got tau={tau!r}, dt={dt!r}")
    x0_arr = np.asarray(x0, dtype=np.float64)
    if x0_arr.ndim > 1 or not np.all(np.isfinite(x0_arr)) or np.any(x0_arr < 0):
        raise ParameterError(f"mackey_glass_series: x0 must be a finite value >= 0 or a 1-D array of them, got {x0!r}")
    scalar = x0_arr.ndim == 0
    x_init = np.atleast_1d(x0_arr)
    a_, b_, n_ = p["a"], p["b"], p["n"]

    def g(x):
        return a_ * x / (1.0 + x**n_)

    n_steps = skip + (p["n_samples"] - 1) * every
    guard_sequences("mackey_glass_series", m + n_steps, x_init.size)  # G and X below, float64
    # G[j] holds the delayed term g(x(t_j)) for t_j = (j - m - 1) dt: one extra history point
    # in front so the cubic interpolation has its left neighbour at the first step.
    G = np.empty((m + 1 + n_steps + 1, x_init.size))
    G[: m + 2] = g(x_init)
    X = np.empty((n_steps + 1, x_init.size))
    X[0] = x_init
    R, c1, cm, c4 = _rk4_linear_coefficients(b_, dt)
    block = m - 1  # steps whose delayed terms are all known already
    # The solution's derivative jumps at t = 0 (history -> ODE) and its second derivative at
    # t = tau; a centred stencil straddling such a kink would drop the order to 2, so the steps
    # whose delayed interval ends or starts there use a one-sided stencil. Blocks start at the
    # "starts there" steps so the one-sided stencil only reads known values.
    kink_steps = (m, 2 * m)
    k = 0
    while k < n_steps:
        nb = min(block, n_steps - k, *[ks - k for ks in kink_steps if ks > k])
        j = np.arange(k, k + nb) + 1  # index of g(t_k - tau) in G
        mid = (-G[j - 1] + 9.0 * G[j] + 9.0 * G[j + 1] - G[j + 2]) / 16.0
        for ks in kink_steps:
            if k <= ks - 1 < k + nb:  # delayed interval ends at the kink: nodes j-2 .. j+1
                i, jj = ks - 1 - k, ks
                mid[i] = (G[jj - 2] - 5.0 * G[jj - 1] + 15.0 * G[jj] + 5.0 * G[jj + 1]) / 16.0
            if k == ks:  # delayed interval starts at the kink: nodes j .. j+3
                jj = ks + 1
                mid[0] = (5.0 * G[jj] + 15.0 * G[jj + 1] - 5.0 * G[jj + 2] + G[jj + 3]) / 16.0
        forcing = c1 * G[j] + cm * mid + c4 * G[j + 1]
        X[k + 1 : k + 1 + nb], _ = lfilter([1.0], [1.0, -R], forcing, axis=0, zi=R * X[k][None, :])
        G[m + 2 + k : m + 2 + k + nb] = g(X[k + 1 : k + 1 + nb])
        k += nb
    out = X[skip::every][: p["n_samples"]]
    return out[:, 0] if scalar else out


_TASK_PARAMS = {
    "n_steps": Param("int", low=2),
    "batch_size": Param("int", low=1),
    "horizon": Param("int", low=1),
    "washout": Param("int", low=0),
}


def mackey_glass(
    n_steps: int = 1000,
    batch_size: int = 1,
    horizon: int = 1,
    washout: int = 100,
    tau: float = 17.0,
    sample_step: float = 1.0,
    discard: float = 500.0,
    seed: int = 0,
    rng: np.random.Generator | None = None,
) -> SequenceTask:
    r"""Mackey-Glass ``horizon``-step-ahead prediction: read :math:`x_t`, predict :math:`x_{t+h}`.

    .. math::

        u_t = x(t\Delta), \qquad y_t = x((t + h)\Delta)

    Each sequence starts from its own constant history :math:`x_0 \sim U[0.5, 1.5]` (drawn from
    ``rng``/``seed``) and drops ``discard`` time units of transient. Scored by NRMSE after the
    first ``washout`` steps.

    Parameters
    ----------
    n_steps, batch_size : int
        Sequence length and number of sequences.
    horizon : int
        Prediction horizon in samples (default 1; 84 is the other common choice with sample_step=1).
    washout : int
        Leading steps not scored (the network's own transient).
    tau, sample_step, discard : float
        See :func:`mackey_glass_series` (dt = 0.1).
    seed : int
        Seed of the initial histories (ignored when ``rng`` is given).
    rng : numpy.random.Generator, optional
        Generator of the initial histories.

    Returns
    -------
    SequenceTask
        ``inputs`` and ``targets`` of shape (n_steps, batch_size, 1).

    Examples
    --------
    >>> t = mackey_glass(n_steps=50, batch_size=2, washout=10, seed=1)
    >>> t.inputs.shape, t.kind
    ((50, 2, 1), 'regression')
    >>> bool(np.array_equal(t.inputs[1:], t.targets[:-1]))
    True
    """
    p = check_params("mackey_glass", _TASK_PARAMS, dict(n_steps=n_steps, batch_size=batch_size, horizon=horizon, washout=washout))
    if p["washout"] >= p["n_steps"]:
        raise ParameterError(f"mackey_glass: washout must be < n_steps={n_steps}, got {washout}")
    guard_sequences("mackey_glass", p["n_steps"] + p["horizon"], p["batch_size"])
    gen = as_rng("mackey_glass", seed, rng)
    x0 = gen.uniform(0.5, 1.5, size=p["batch_size"])
    series = mackey_glass_series(p["n_steps"] + p["horizon"], tau=tau, sample_step=sample_step, x0=x0, discard=discard)
    inputs = series[: p["n_steps"], :, None]
    targets = series[p["horizon"] :, :, None]
    mask = np.ones((p["n_steps"], p["batch_size"]), bool)
    mask[: p["washout"]] = False
    params = dict(p, tau=tau, sample_step=sample_step, discard=discard, seed=seed, a=0.2, b=0.1, n=10.0, dt=0.1)
    return SequenceTask("mackey_glass", inputs, targets, mask, "regression", params)
