r"""Dynamics analysis: largest Lyapunov exponent and fixed points with their stability.

Works on any discrete map :math:`x_{n+1} = F_n(x_n)` given as a vectorised function ``f(x, n)`` of a
batch of states ``x (B, D)`` and the step index ``n`` (the index selects the driving input), and
builds such maps from a :class:`~neurosim.dynamics.CTRNN` (:func:`ctrnn_map`: one classical RK4 step
of the flow) or from any recurrent cell with the step API, digital or analog
(:func:`cell_map`: ``cell.step(params, x_t, state)``), so the digital network and its analog twin
(:func:`neurosim.analog.to_analog`) are analysed by the same code.

Largest Lyapunov exponent (Benettin et al. 1980): a tangent vector is carried along the trajectory
and renormalised every step,

.. math::

    v_{n+1} = \frac{J_n v_n}{\lVert J_n v_n \rVert}, \qquad
    \lambda_1 = \lim_{N\to\infty} \frac{1}{N \Delta t} \sum_{n<N} \ln \lVert J_n v_n \rVert,

with :math:`J_n v_n` the exact Jacobian product when a Jacobian is given, else the directional
difference :math:`(F_n(x_n + \varepsilon v_n) - F_n(x_n)) / \varepsilon`. The batch axis carries
independent initial conditions; the estimate is their mean and its standard error the spread over
the batch divided by :math:`\sqrt B`.

For a chaotic network the digital network and its analog twin decorrelate after a few steps
(rounding differences grow like :math:`e^{\lambda_1 n}`), so their exponents are compared as
statistics (mean and standard error over initial conditions), not trajectory by trajectory. A twin
with quantised converters (DAC/ADC bits) is a piecewise-constant map: its tangent map is zero
almost everywhere and the exponent is :math:`-\infty` (it ends on periodic orbits) -- a
different reason for its trajectories to separate from the digital ones than chaos or noise.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import optimize

from neurosim.errors import ParameterError
from neurosim.params import check_array
from neurosim.seeding import rng as seeded_rng

__all__ = ["LyapunovResult", "FixedPoint", "largest_lyapunov", "ctrnn_map", "cell_map", "fixed_points"]


@dataclasses.dataclass(frozen=True)
class LyapunovResult:
    """Largest Lyapunov exponent estimate.

    Attributes
    ----------
    value : float
        Mean over the batch, in 1/step (or 1/s when ``dt`` was given).
    stderr : float
        Standard error over the batch (0 for a batch of one).
    per_run : ndarray, shape (B,)
        The estimate of each initial condition.
    """

    value: float
    stderr: float
    per_run: np.ndarray


@dataclasses.dataclass(frozen=True)
class FixedPoint:
    """A fixed point and its linear stability.

    Attributes
    ----------
    x : ndarray, shape (D,)
    eigenvalues : ndarray, shape (D,)
        Of the Jacobian (continuous systems) or of the map's Jacobian (discrete).
    stable : bool
        All real parts < 0 (continuous) or all moduli < 1 (discrete).
    residual : float
        :math:`\\lVert \\dot x \\rVert_\\infty` or :math:`\\lVert F(x) - x \\rVert_\\infty`.
    """

    x: np.ndarray
    eigenvalues: np.ndarray
    stable: bool
    residual: float


def largest_lyapunov(f, x0, n_steps: int, *, jvp=None, n_transient: int = 100, eps: float = 1e-8,
                     dt: float = 1.0, seed=None) -> LyapunovResult:
    r"""Largest Lyapunov exponent of a (driven) map by tangent-vector renormalisation (Benettin).

    .. math::

        \lambda_1 = \frac{1}{N \Delta t} \sum_{n<N} \ln \lVert J_n v_n \rVert, \quad
        v_{n+1} = J_n v_n / \lVert J_n v_n \rVert

    Parameters
    ----------
    f : callable
        ``f(x, n) -> x_next`` on ``x`` of shape ``(B, D)``.
    x0 : array_like, shape (B, D) or (D,)
        Initial conditions (one estimate per row).
    n_steps : int
        Steps averaged (after ``n_transient`` discarded steps).
    jvp : callable, optional
        ``jvp(x, v, n) -> J_n(x) v`` (exact tangent map); default: the directional difference of ``f``.
    n_transient : int
        Steps run first and not counted (the tangent vector aligns meanwhile).
    eps : float
        Difference step relative to the state norm (at least ``eps`` absolute).
    dt : float
        Time per step (s) to report the exponent per second (default 1: per step).
    seed : int, Generator or None
        Initial tangent vectors (random unit vectors).

    Returns
    -------
    LyapunovResult

    Examples
    --------
    >>> import numpy as np
    >>> res = largest_lyapunov(lambda x, n: 0.5 * x, np.ones((2, 3)), 50)
    >>> bool(abs(res.value - np.log(0.5)) < 1e-12)
    True
    """
    owner = "largest_lyapunov"
    x = check_array(owner, "x0", x0, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise ParameterError(f"{owner}: x0 must have shape (B, D) or (D,), got {x.shape}")
    if int(n_steps) < 1 or int(n_transient) < 0:
        raise ParameterError(f"{owner}: n_steps must be an integer >= 1 and n_transient >= 0, got {n_steps}, {n_transient}")
    if not (dt > 0 and np.isfinite(dt)):
        raise ParameterError(f"{owner}: dt must be a real number in (0, inf) s, got {dt!r}")
    g = seeded_rng(seed, "lyapunov")
    v = g.standard_normal(x.shape)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    total = np.zeros(x.shape[0])
    for n in range(int(n_transient) + int(n_steps)):
        fx = f(x, n)
        if jvp is not None:
            w = jvp(x, v, n)
        else:
            h = eps * np.maximum(1.0, np.linalg.norm(x, axis=1, keepdims=True))
            w = (f(x + h * v, n) - fx) / h
        norm = np.linalg.norm(w, axis=1)
        if n >= n_transient:
            with np.errstate(divide="ignore"):
                total += np.log(norm)
        safe = np.where(norm > 0, norm, 1.0)[:, None]
        v = np.where(norm[:, None] > 0, w / safe, v)
        x = fx
    per = total / (int(n_steps) * dt)
    B = per.size
    se = float(per.std(ddof=1) / np.sqrt(B)) if B > 1 and np.all(np.isfinite(per)) else (0.0 if B == 1 else np.nan)
    return LyapunovResult(float(per.mean()), se, per)


def _rk4(rhs, x, h):
    k1 = rhs(x)
    k2 = rhs(x + 0.5 * h * k1)
    k3 = rhs(x + 0.5 * h * k2)
    k4 = rhs(x + h * k3)
    return x + (h / 6.0) * (k1 + 2 * k2 + 2 * k3 + k4)


def ctrnn_map(net, dt: float, inputs=None):
    r"""The time-``dt`` map of a CTRNN (one classical RK4 step) as ``f(x, n)`` on ``(B, N)`` states.

    Parameters
    ----------
    net : CTRNN
    dt : float
        Step, s (small against the smallest tau for an accurate flow map).
    inputs : array_like, shape (T, M) or (M,), optional
        Input held during step ``n`` (``inputs[n % T]``).

    Returns
    -------
    callable
    """
    if inputs is None:
        cur = net.bias[None, :]
    else:
        u = np.atleast_2d(check_array("ctrnn_map", "inputs", inputs, dtype=np.float64))
        if u.shape[1] != net.n_inputs:
            raise ParameterError(f"ctrnn_map: inputs must have shape (T, {net.n_inputs}), got {u.shape}")
        cur = (u @ net.input_weights.T if net.input_weights is not None else u) + net.bias

    def f(x, n):
        c = cur[n % cur.shape[0]][:, None]
        return _rk4(lambda X: net.rhs(0.0, X.T, None).T + (c / net.tau[:, None]).T, x, dt)

    return f


def cell_map(cell, inputs, layer: int = 0):
    r"""A recurrent cell's step as ``f(x, n)``, ``x`` the concatenated states ``(B, sum of state sizes)``.

    Parameters
    ----------
    cell : recurrent cell
        Anything with ``step(params, x_t, state)``, ``direction_params(layer)`` and
        ``initial_state(batch)`` (digital cells and their analog twins alike).
    inputs : array_like, shape (T, I) or (I,)
        The driving input; step ``n`` reads ``inputs[n % T]`` (for every batch row).
    layer : int
        Layer analysed (forward direction).

    Returns
    -------
    callable
        ``f(x, n)``; ``f.split(x)`` gives the state tuple.
    """
    u = np.atleast_2d(np.asarray(inputs))
    sizes = [s.shape[1] for s in cell.initial_state(1)]
    cuts = np.cumsum(sizes)[:-1]
    params = cell.direction_params(layer, 0)
    dtype = cell.dtype

    def f(x, n):
        state = tuple(np.ascontiguousarray(p, dtype=dtype) for p in np.split(x, cuts, axis=1))
        xt = np.ascontiguousarray(np.broadcast_to(u[n % u.shape[0]], (x.shape[0], u.shape[1])), dtype=dtype)
        _, new = cell.step(params, xt, state)
        return np.concatenate([np.asarray(s, np.float64) for s in new], axis=1)

    f.split = lambda x: tuple(np.split(x, cuts, axis=-1))
    return f


def _fd_jacobian(F, x, eps=1e-7):
    D = x.size
    fx = F(x)
    J = np.empty((D, D))
    for k in range(D):  # one column per state: D evaluations (fixed points are small problems)
        h = eps * max(1.0, abs(x[k]))
        e = np.zeros(D)
        e[k] = h
        J[:, k] = (F(x + e) - F(x - e)) / (2 * h)
    return J, fx


def fixed_points(system, starts, *, kind: str | None = None, tol: float = 1e-10, seed=None,
                 n_random: int = 0, scale: float = 1.0) -> list:
    r"""Fixed points of a CTRNN (:math:`\dot y = 0`) or of a map (:math:`F(x) = x`), with stability.

    Each start is refined by :func:`scipy.optimize.root` (``hybr``; the CTRNN's analytic
    Jacobian, a central-difference one for maps); converged roots are merged when closer than
    ``1e-6`` and classified by the Jacobian's eigenvalues: stable when all real parts are negative
    (continuous) or all moduli are below 1 (maps).

    Parameters
    ----------
    system : CTRNN or callable
        A :class:`~neurosim.dynamics.CTRNN` (its constant ``bias`` is the input), or a map
        ``f(x, n)`` on ``(B, D)`` states (e.g. :func:`cell_map` with a constant input).
    starts : array_like, shape (K, D)
        Initial guesses.
    kind : {"flow", "map"}, optional
        Default: "flow" for a CTRNN, "map" for a callable.
    tol : float
        Residual accepted, infinity norm.
    seed, n_random, scale
        Add ``n_random`` starts drawn uniform in ``[-scale, scale]^D``.

    Returns
    -------
    list of FixedPoint
        Sorted by the first coordinate.
    """
    from neurosim.dynamics.ctrnn import CTRNN

    owner = "fixed_points"
    X0 = np.atleast_2d(check_array(owner, "starts", starts, dtype=np.float64))
    if isinstance(system, CTRNN):
        kind = kind or "flow"
        F = lambda y: system.rhs(0.0, y, system.bias)  # noqa: E731
        jac = lambda y: np.asarray(system.jacobian(0.0, y).toarray() if system.sparse else system.jacobian(0.0, y))  # noqa: E731
    elif callable(system):
        kind = kind or "map"
        F = lambda x: system(x[None, :], 0)[0] - x  # noqa: E731
        jac = None
    else:
        raise ParameterError(f"{owner}: system must be a CTRNN or a map f(x, n), got {type(system).__name__}")
    if n_random:
        g = seeded_rng(seed, "fixed_points")
        X0 = np.concatenate([X0, g.uniform(-scale, scale, (int(n_random), X0.shape[1]))])
    found: list[FixedPoint] = []
    for x0 in X0:
        sol = optimize.root(F, x0, jac=jac, method="hybr", tol=1e-13)
        x = sol.x
        res = float(np.abs(F(x)).max())
        if not np.isfinite(res) or res > tol:
            continue
        if any(np.abs(fp.x - x).max() < 1e-6 for fp in found):
            continue
        J = jac(x) if jac is not None else _fd_jacobian(F, x)[0]
        if kind == "map":
            J = J + np.eye(x.size)  # the map's Jacobian: d(F(x) - x)/dx + I
            ev = np.linalg.eigvals(J)
            stable = bool(np.all(np.abs(ev) < 1.0))
        else:
            ev = np.linalg.eigvals(J)
            stable = bool(np.all(ev.real < 0.0))
        found.append(FixedPoint(x, ev, stable, res))
    found.sort(key=lambda fp: tuple(fp.x))
    return found
