r"""Continuous-time recurrent neural network (Beer 1995): one description, three engines.

.. math::

    \tau_i \frac{dy_i}{dt} = -y_i + \sum_j w_{ij}\, \sigma\big(g_j (y_j + \theta_j)\big) + I_i(t)

(``weights[i, j]`` is the weight *from* neuron ``j`` *onto* neuron ``i``, PyTorch's ``(out, in)``
order; Beer writes it :math:`w_{ji}`). A :class:`CTRNN` object is the description; it runs on

* :meth:`CTRNN.simulate` -- ``scipy.integrate.solve_ivp`` with a vectorised right-hand side, the
  analytic Jacobian (sparse when the weights are sparse) and integration failures raised as
  :class:`~neurosim.errors.ConvergenceError` carrying the solver's own message;
* :meth:`CTRNN.run_brian2` -- the same equations as a brian2 ``NeuronGroup`` (``y``, ``tau``,
  ``gain``, ``theta`` per neuron) and ``Synapses`` (``w``, a summed variable
  ``I_syn = sum_j w_ij s_j``), cython or numpy code generation;
* :meth:`CTRNN.euler` -- the forward-Euler map, which is the discrete cell
  :class:`~neurosim.dynamics.MTRNN` (and, with :math:`\Delta t = \tau`, an Elman network);
* :func:`neurosim.dynamics.ctrnn_circuit` -- a memristive crossbar, capacitors and nonlinear
  amplifiers run by the circuit engine.

Inputs are either a callable ``I(t) -> (N,)`` (scipy only), a constant vector, or samples
``(T_in, N)`` held for ``input_dt`` seconds each (zero-order hold, the same on every engine; brian2
reads them from a ``TimedArray``).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp
from scipy import integrate
from scipy.special import expit

from neurosim.errors import ConvergenceError, ParameterError
from neurosim.params import Param, check_array, check_params

__all__ = ["CTRNN", "Trajectory", "activation_fn"]

ACTIVATIONS = ("sigmoid", "tanh")


def activation_fn(kind: str):
    """``(f, f')`` of an activation: ``"sigmoid"`` (logistic) or ``"tanh"``; ``f'`` takes ``f(z)``."""
    if kind == "sigmoid":
        return expit, lambda s: s * (1.0 - s)
    return np.tanh, lambda s: 1.0 - s * s


@dataclasses.dataclass(frozen=True)
class Trajectory:
    """A simulated trajectory.

    Attributes
    ----------
    t : ndarray, shape (T,)
        Times, s.
    y : ndarray, shape (T, N)
        Neuron states (dimensionless, as in Beer's equations).
    stats : dict
        Engine information (method, number of right-hand-side and Jacobian evaluations, target).
    """

    t: np.ndarray
    y: np.ndarray
    stats: dict = dataclasses.field(default_factory=dict)


_PARAMS = {
    "activation": Param("choice", choices=ACTIVATIONS),
}
_SIM = {
    "method": Param("choice", choices=("RK45", "RK23", "DOP853", "Radau", "BDF", "LSODA")),
    "rtol": Param("real", low=0.0, low_open=True),
    "atol": Param("real", low=0.0, low_open=True),
}


def _vector(owner: str, name: str, value, n: int, positive: bool = False) -> np.ndarray:
    arr = check_array(owner, name, value, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise ParameterError(f"{owner}: {name} must be a scalar or have shape ({n},) (one per neuron), got {arr.shape}")
    if positive and np.any(arr <= 0):
        bad = arr[arr <= 0][0]
        raise ParameterError(f"{owner}: {name} must be a real number in (0, inf) s (every element), got {bad!r}")
    arr.setflags(write=False)
    return arr


class CTRNN:
    r"""Continuous-time recurrent neural network (Beer 1995).

    .. math::

        \tau_i \dot y_i = -y_i + \sum_j W_{ij}\, \sigma\big(g_j (y_j + \theta_j)\big) + I_i(t),
        \qquad I(t) = W_{in} u(t) + b \ \text{(or } u(t) + b \text{ without input weights)}

    Parameters
    ----------
    weights : array_like or scipy.sparse matrix, shape (N, N)
        :math:`W`; ``weights[i, j]`` is the weight from neuron ``j`` onto neuron ``i``. A sparse
        matrix keeps the right-hand side and the Jacobian sparse.
    tau : float or array_like, shape (N,)
        Time constants :math:`\tau_i` (s), > 0.
    gain : float or array_like, shape (N,)
        Gains :math:`g_j` (default 1).
    theta : float or array_like, shape (N,)
        Biases :math:`\theta_j` (default 0).
    activation : {"sigmoid", "tanh"}
        :math:`\sigma`: Beer's logistic function (default) or tanh (Yamashita & Tani).
    input_weights : array_like, shape (N, M), optional
        :math:`W_{in}`; without it the input is the current vector :math:`I` itself (M = N).
    bias : float or array_like, shape (N,)
        Constant current :math:`b` added to the input (default 0).

    Raises
    ------
    ParameterError
        Non-square or non-finite weights, tau <= 0, a vector of the wrong length.

    Examples
    --------
    >>> import numpy as np
    >>> net = CTRNN(np.zeros((2, 2)), tau=[1.0, 2.0])
    >>> tr = net.simulate([0.0, 1.0], y0=[1.0, 1.0])
    >>> np.round(tr.y[-1], 6).tolist()          # free decay y = y0 exp(-t / tau)
    [0.367879, 0.606531]
    """

    def __init__(self, weights, tau, *, gain=1.0, theta=0.0, activation="sigmoid", input_weights=None, bias=0.0):
        owner = "CTRNN"
        check_params(owner, _PARAMS, {"activation": activation})
        if sp.issparse(weights):
            W = sp.csr_matrix(weights, dtype=np.float64)
            if not np.isfinite(W.data).all():
                raise ParameterError(f"{owner}: weights must be finite, got NaN or inf values")
        else:
            W = check_array(owner, "weights", weights, ndim=2, dtype=np.float64)
        if W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] < 1:
            raise ParameterError(f"{owner}: weights must have shape (N, N) with N >= 1, got {W.shape}")
        n = W.shape[0]
        self.weights = W
        self.n = n
        self.tau = _vector(owner, "tau", tau, n, positive=True)
        self.gain = _vector(owner, "gain", gain, n)
        self.theta = _vector(owner, "theta", theta, n)
        self.bias = _vector(owner, "bias", bias, n)
        self.activation = activation
        if input_weights is not None:
            Win = check_array(owner, "input_weights", input_weights, ndim=2, dtype=np.float64)
            if Win.shape[0] != n:
                raise ParameterError(f"{owner}: input_weights must have shape ({n}, M), got {Win.shape}")
            self.input_weights = Win
            self.n_inputs = Win.shape[1]
        else:
            self.input_weights = None
            self.n_inputs = n
        self._f, self._df = activation_fn(activation)

    @property
    def sparse(self) -> bool:
        """Whether the weights are a sparse matrix."""
        return sp.issparse(self.weights)

    def __repr__(self) -> str:
        kind = "sparse" if self.sparse else "dense"
        return f"CTRNN(n={self.n}, {kind} weights, activation={self.activation!r}, inputs={self.n_inputs})"

    # ------------------------------------------------------------------ equations
    def firing(self, y):
        r"""Neuron outputs :math:`\sigma(g (y + \theta))`; ``y`` of shape ``(N,)`` or ``(N, K)``."""
        y = np.asarray(y, dtype=np.float64)
        g = self.gain if y.ndim == 1 else self.gain[:, None]
        th = self.theta if y.ndim == 1 else self.theta[:, None]
        return self._f(g * (y + th))

    def current(self, u):
        """The input current :math:`I = W_{in} u` (or ``u``); ``u`` of shape ``(M,)``."""
        u = np.asarray(u, dtype=np.float64)
        return (u if self.input_weights is None else self.input_weights @ u) + self.bias

    def rhs(self, t, y, current=None):
        r"""Right-hand side :math:`\dot y`, vectorised: ``y`` of shape ``(N,)`` or ``(N, K)``.

        Parameters
        ----------
        t : float
            Time, s (unused: the current is passed).
        y : ndarray, shape (N,) or (N, K)
        current : ndarray, shape (N,), optional
            :math:`I` (default 0).

        Returns
        -------
        ndarray
            :math:`\dot y` (1/s), the shape of ``y``.
        """
        y = np.asarray(y, dtype=np.float64)
        s = self.firing(y)
        d = self.weights @ s - y
        if current is not None:
            d = d + (current if y.ndim == 1 else np.asarray(current)[:, None])
        return d / (self.tau if y.ndim == 1 else self.tau[:, None])

    def jacobian(self, t, y):
        r"""Analytic Jacobian :math:`J = \mathrm{diag}(1/\tau)\,(-I + W\, \mathrm{diag}(g\, \sigma'))`.

        Returns a CSR matrix when the weights are sparse, a dense array otherwise.
        """
        y = np.asarray(y, dtype=np.float64)
        d = self.gain * self._df(self.firing(y))
        inv_tau = 1.0 / self.tau
        if self.sparse:
            J = sp.diags(inv_tau) @ (self.weights @ sp.diags(d) - sp.identity(self.n))
            return sp.csr_matrix(J)
        J = self.weights * d[None, :]
        J[np.diag_indices(self.n)] -= 1.0
        J *= inv_tau[:, None]
        return J

    # ------------------------------------------------------------------ inputs
    def _input_fn(self, owner, inputs, input_dt):
        """Return ``(I(t), breakpoints)``: the current as a function of time and its jumps."""
        if inputs is None:
            b = self.bias
            return (lambda t: b), np.zeros(0)
        if callable(inputs):
            return (lambda t: self.current(inputs(t))), np.zeros(0)
        u = check_array(owner, "inputs", inputs, dtype=np.float64)
        if u.ndim == 1:
            if u.shape != (self.n_inputs,):
                raise ParameterError(f"{owner}: inputs must have shape ({self.n_inputs},) or (T_in, {self.n_inputs}), got {u.shape}")
            c = self.current(u)
            return (lambda t: c), np.zeros(0)
        if u.ndim != 2 or u.shape[1] != self.n_inputs:
            raise ParameterError(f"{owner}: inputs must have shape ({self.n_inputs},) or (T_in, {self.n_inputs}), got {u.shape}")
        if input_dt is None or not np.isfinite(input_dt) or input_dt <= 0:
            raise ParameterError(f"{owner}: input_dt must be a real number in (0, inf) s for sampled inputs, got {input_dt!r}")
        cur = (u @ self.input_weights.T if self.input_weights is not None else u) + self.bias
        T_in = cur.shape[0]

        def I(t):
            k = min(max(int(np.floor(t / input_dt + 1e-9)), 0), T_in - 1)
            return cur[k]

        return I, input_dt * np.arange(1, T_in)

    def _y0(self, owner, y0):
        if y0 is None:
            return np.zeros(self.n)
        return _vector(owner, "y0", y0, self.n).copy()

    # ------------------------------------------------------------------ scipy
    def simulate(self, t_eval, y0=None, inputs=None, *, input_dt=None, method="LSODA", rtol=1e-8, atol=1e-10,
                 max_step=np.inf) -> Trajectory:
        r"""Integrate the network with :func:`scipy.integrate.solve_ivp`.

        The right-hand side is vectorised (``vectorized=True``: the implicit methods evaluate
        finite-difference columns in one call) and the implicit methods get the analytic
        :meth:`jacobian`. Sampled inputs are integrated segment by segment (the solver restarts at
        each jump of the held input).

        Parameters
        ----------
        t_eval : array_like, shape (T,)
            Increasing output times (s); integration runs from ``t_eval[0]`` to ``t_eval[-1]``.
        y0 : array_like, shape (N,), optional
            State at ``t_eval[0]`` (default 0).
        inputs : callable, array_like (M,) or (T_in, M), optional
            ``u(t)``, a constant ``u``, or samples held for ``input_dt`` s from t = 0.
        input_dt : float, optional
            Hold time of sampled inputs, s.
        method : str
            ``solve_ivp`` method (default LSODA).
        rtol, atol : float
            Tolerances.
        max_step : float
            Largest step, s.

        Returns
        -------
        Trajectory

        Raises
        ------
        ConvergenceError
            The solver failed; the message is the solver's (``sol.message``) with the time reached.
        ParameterError
            Bad times, states or inputs.
        """
        owner = "CTRNN.simulate"
        p = check_params(owner, _SIM, dict(method=method, rtol=rtol, atol=atol))
        t_eval = check_array(owner, "t_eval", t_eval, ndim=1, dtype=np.float64)
        if t_eval.size < 2 or np.any(np.diff(t_eval) <= 0):
            raise ParameterError(f"{owner}: t_eval must hold at least two increasing times, got {t_eval.size} value(s)")
        y = self._y0(owner, y0)
        I, jumps = self._input_fn(owner, inputs, input_dt)
        edges = np.unique(np.concatenate([[t_eval[0]], jumps[(jumps > t_eval[0]) & (jumps < t_eval[-1])], [t_eval[-1]]]))
        implicit = p["method"] in ("Radau", "BDF", "LSODA")
        out = np.empty((t_eval.size, self.n))
        stats = {"method": p["method"], "nfev": 0, "njev": 0, "engine": "scipy"}
        for k in range(edges.size - 1):
            t0, t1 = edges[k], edges[k + 1]
            last = k == edges.size - 2
            sel = (t_eval >= t0) & ((t_eval < t1) | (last & (t_eval <= t1)))
            c = np.array(I(0.5 * (t0 + t1)))  # held (or callable) current on this segment
            if callable(inputs):
                fun = lambda t, yy: self.rhs(t, yy, self.current(inputs(t)))  # noqa: E731
            else:
                fun = lambda t, yy, c=c: self.rhs(t, yy, c)  # noqa: E731
            kw = {}
            if implicit:
                kw["jac"] = self.jacobian
            te = np.union1d(t_eval[sel], [t1])  # the segment end too: the next segment starts there
            sol = integrate.solve_ivp(fun, (t0, t1), y, method=p["method"], t_eval=te, rtol=p["rtol"],
                                      atol=p["atol"], vectorized=True, max_step=max_step, **kw)
            if not sol.success:
                raise ConvergenceError(
                    f"CTRNN: solve_ivp ({p['method']}) failed between t = {t0:.6g} s and {t1:.6g} s: {sol.message}"
                )
            keep = np.isin(te, t_eval[sel])
            out[sel] = sol.y.T[keep]
            stats["nfev"] += sol.nfev
            stats["njev"] += sol.njev
            y = sol.y[:, -1]
        return Trajectory(t_eval, out, stats)

    # ------------------------------------------------------------------ discrete
    def euler(self, dt, n_steps, y0=None, inputs=None, *, record_every: int = 1) -> Trajectory:
        r"""The forward-Euler map with step :math:`\Delta t` (the discrete-time network).

        .. math::

            y_{n+1} = y_n + \frac{\Delta t}{\tau}\big(-y_n + W \sigma(g (y_n + \theta)) + I_n\big)

        Parameters
        ----------
        dt : float
            Step, s.
        n_steps : int
            Number of steps.
        y0 : array_like, shape (N,) or (N, B), optional
            Initial state (a batch of ``B`` initial states as columns).
        inputs : array_like (M,) or (n_steps, M), optional
            Input held during each step (``inputs[n]`` drives step ``n -> n + 1``).
        record_every : int
            Keep every ``record_every``-th state (memory for long runs).

        Returns
        -------
        Trajectory
            ``t = dt * arange(n_steps + 1)``, ``y`` of shape ``(n_steps + 1, N)`` (or with the batch
            axis last).
        """
        owner = "CTRNN.euler"
        if not (np.isfinite(dt) and dt > 0):
            raise ParameterError(f"{owner}: dt must be a real number in (0, inf) s, got {dt!r}")
        y = np.zeros(self.n) if y0 is None else np.array(y0, dtype=np.float64)
        if y.shape[0] != self.n:
            raise ParameterError(f"{owner}: y0 must have shape ({self.n},) or ({self.n}, B), got {y.shape}")
        cur = None
        if inputs is not None:
            u = check_array(owner, "inputs", inputs, dtype=np.float64)
            if u.ndim == 1 and u.shape == (self.n_inputs,):
                u = u[None, :]  # constant: one row, held for every step
            elif u.shape != (n_steps, self.n_inputs):
                raise ParameterError(f"{owner}: inputs must have shape ({self.n_inputs},) or ({n_steps}, {self.n_inputs}), got {u.shape}")
            cur = (u @ self.input_weights.T if self.input_weights is not None else u) + self.bias
        elif np.any(self.bias):
            cur = self.bias[None, :]
        a = dt / self.tau if y.ndim == 1 else (dt / self.tau)[:, None]
        k = int(record_every)
        if k < 1:
            raise ParameterError(f"{owner}: record_every must be an integer >= 1, got {record_every!r}")
        ys = np.empty((n_steps // k + 1,) + y.shape)
        ys[0] = y
        for n in range(n_steps):
            drive = self.weights @ self.firing(y)
            if cur is not None:
                c = cur[n if cur.shape[0] > 1 else 0]
                drive = drive + (c if y.ndim == 1 else c[:, None])
            y = y + a * (drive - y)
            if (n + 1) % k == 0:
                ys[(n + 1) // k] = y
        return Trajectory(dt * k * np.arange(ys.shape[0]), ys, {"engine": "euler", "dt": dt})

    # ------------------------------------------------------------------ brian2
    def brian2_equations(self, timed_input: bool = False) -> str:
        """The neuron equations in brian2 syntax (the synapses add ``I_syn = sum_j w_ij s_j``)."""
        act = "1/(1 + exp(-gain*(y + theta)))" if self.activation == "sigmoid" else "tanh(gain*(y + theta))"
        ext = "I_ext = stim(t, i) : 1" if timed_input else "I_ext : 1"
        return "\n".join([
            "dy/dt = (-y + I_syn + I_ext)/tau : 1",
            f"s = {act} : 1",
            "I_syn : 1",
            ext,
            "tau : second (constant)",
            "gain : 1 (constant)",
            "theta : 1 (constant)",
        ])

    def run_brian2(self, t_stop, y0=None, inputs=None, *, input_dt=None, dt=1e-4, method="euler",
                   record_dt=None, target="auto") -> Trajectory:
        r"""Run the same equations on brian2.

        The neurons are one ``NeuronGroup`` (per-neuron ``tau``, ``gain``, ``theta``), the weights
        one ``Synapses`` object over the non-zero entries of :math:`W` with the summed variable
        ``I_syn_post = w * s_pre``. brian2 updates summed variables before the state update of
        the target group, so ``method="euler"`` is exactly :meth:`euler` (to rounding); with
        higher-order methods the coupling is held over each step (first order in ``dt``).

        Parameters
        ----------
        t_stop : float
            Duration, s.
        y0 : array_like, shape (N,), optional
        inputs : array_like (M,) or (T_in, M), optional
            Constant or held samples (``input_dt``), as for :meth:`simulate` (no callables).
        input_dt : float, optional
        dt : float
            brian2 time step, s.
        method : str
            brian2 integration method (``"euler"``, ``"rk2"``, ``"rk4"``, ...).
        record_dt : float, optional
            Recording interval, s (default ``dt``).
        target : {"auto", "cython", "numpy"}
            Code generation (``"auto"``: cython when a compiler exists).

        Returns
        -------
        Trajectory
            ``t`` from 0 (the state before each step is recorded at its start time) and ``y``.
        """
        owner = "CTRNN.run_brian2"
        if callable(inputs):
            raise ParameterError(f"{owner}: inputs must be a constant vector or held samples for brian2, got a callable")
        if not (np.isfinite(t_stop) and t_stop > 0):
            raise ParameterError(f"{owner}: t_stop must be a real number in (0, inf) s, got {t_stop!r}")
        if not (np.isfinite(dt) and dt > 0):
            raise ParameterError(f"{owner}: dt must be a real number in (0, inf) s, got {dt!r}")
        y = self._y0(owner, y0)
        cur_const = self.bias if np.any(self.bias) else None
        cur_seq = None
        if inputs is not None:
            u = check_array(owner, "inputs", inputs, dtype=np.float64)
            if u.ndim == 1:
                if u.shape != (self.n_inputs,):
                    raise ParameterError(f"{owner}: inputs must have shape ({self.n_inputs},) or (T_in, {self.n_inputs}), got {u.shape}")
                cur_const = self.current(u)
            else:
                self._input_fn(owner, u, input_dt)  # same checks as simulate
                cur_seq = (u @ self.input_weights.T if self.input_weights is not None else u) + self.bias
        from neurosim.dynamics._brian import brian2_prefs

        with brian2_prefs(target, owner) as b2:
            ns = {}
            if cur_seq is not None:
                ns["stim"] = b2.TimedArray(cur_seq, dt=input_dt * b2.second)
            G = b2.NeuronGroup(self.n, self.brian2_equations(cur_seq is not None), method=method,
                               dt=dt * b2.second, namespace=ns, name="ctrnn_neurons*")
            G.tau = self.tau * b2.second
            G.gain = self.gain
            G.theta = self.theta
            G.y = y
            if cur_const is not None:
                G.I_ext = cur_const
            W = sp.coo_matrix(self.weights)
            keep = W.data != 0
            S = b2.Synapses(G, G, "w : 1 (constant)\nI_syn_post = w * s_pre : 1 (summed)", dt=dt * b2.second,
                            name="ctrnn_synapses*")
            if keep.any():
                S.connect(i=W.col[keep].astype(np.int64), j=W.row[keep].astype(np.int64))
                S.w = W.data[keep]
            mon = b2.StateMonitor(G, "y", record=True, dt=(record_dt or dt) * b2.second)
            objs = [G, mon] + ([S] if keep.any() else [])
            net = b2.Network(*objs)
            net.run(t_stop * b2.second, namespace=ns)
            t = np.asarray(mon.t / b2.second)
            ys = np.asarray(mon.y).T.copy()
            target_used = b2.prefs.codegen.target
        return Trajectory(t, ys, {"engine": "brian2", "method": method, "dt": dt, "target": target_used})
