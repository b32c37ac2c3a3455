r"""Multiple-timescale recurrent neural network (Yamashita & Tani 2008), discrete and continuous.

Discrete update (Yamashita & Tani 2008, eq. 1-2, one unit of time per step):

.. math::

    u_t = \Big(1 - \frac{1}{\tau}\Big) u_{t-1} + \frac{1}{\tau}\big(W_{hh}\, \sigma(u_{t-1}) + W_{ih} x_t + b\big),
    \qquad y_t = \sigma(u_t)

with one time constant per unit, set by groups (e.g. input-output units :math:`\tau = 2`, fast
context :math:`\tau = 5`, slow context :math:`\tau = 70`). It is the forward-Euler map of the
continuous network :math:`\tau \dot u = -u + W_{hh}\sigma(u) + W_{ih} x(t) + b` (a
:class:`~neurosim.dynamics.CTRNN` with gain 1, theta 0) with step 1; with :math:`\tau = 1` it is
an Elman network's hidden layer (:math:`y_t = \sigma(W_{hh} y_{t-1} + W_{ih} x_t + b)`).
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from neurosim.cells.base import COMMON_PARAMS, RecurrentBase
from neurosim.cells.ops import DIGITAL
from neurosim.errors import ParameterError
from neurosim.params import Param

__all__ = ["MTRNN", "mtrnn_step"]

_PARAMS = {
    **COMMON_PARAMS,
    "nonlinearity": Param("choice", choices=("tanh", "sigmoid")),
}


def mtrnn_step(params, x_t, state, *, tau, activation="tanh", ops=DIGITAL):
    r"""One step of the MTRNN, a pure function.

    .. math::

        u_t = (1 - 1/\tau)\, u_{t-1} + (1/\tau)\big(W_{hh} \sigma(u_{t-1}) + W_{ih} x_t + b\big),
        \qquad y_t = \sigma(u_t)

    Parameters
    ----------
    params : dict
        ``weight_ih (H, I)``, ``weight_hh (H, H)``, optionally ``bias (H,)``.
    x_t : ndarray, shape (batch, I)
    state : tuple
        ``(u,)``: internal potentials, shape (batch, H).
    tau : ndarray, shape (H,)
        Time constants in steps.
    activation : {"tanh", "sigmoid"}
    ops : object with ``matmul`` and ``activation``

    Returns
    -------
    y_t : ndarray, shape (batch, H)
    state : tuple
        ``(u_t,)``.
    """
    (u,) = state
    suffix = getattr(params, "suffix", "")
    y_prev = ops.activation(activation, np.array(u, copy=True))
    z = ops.matmul("weight_ih" + suffix, params["weight_ih"], x_t)
    z = z + ops.matmul("weight_hh" + suffix, params["weight_hh"], y_prev)
    if params.get("bias") is not None:
        z = z + params["bias"]
    inv = (1.0 / tau).astype(u.dtype)
    u_t = u + inv * (z - u)
    y_t = ops.activation(activation, np.array(u_t, copy=True))
    return y_t, (u_t,)


class MTRNN(RecurrentBase):
    r"""Multiple-timescale RNN cell (Yamashita & Tani 2008) with the digital cells' call.

    .. math::

        u_t = (1 - 1/\tau)\, u_{t-1} + (1/\tau)\big(W_{hh} \sigma(u_{t-1}) + W_{ih} x_t + b\big),
        \qquad y_t = \sigma(u_t)

    Parameters
    ----------
    input_size : int
        Features of :math:`x_t`.
    tau : float or array_like, shape (hidden_size,)
        Time constant of each unit, in steps (> 0; 1 gives an Elman layer).
    hidden_size : int, optional
        Units (default: the length of ``tau``).
    nonlinearity : {"tanh", "sigmoid"}
        :math:`\sigma` (PyTorch's name for an RNN's activation).
    num_layers, bias, batch_first, bidirectional, dtype, seed
        As for :class:`neurosim.cells.RNN` (the same ``tau`` in every layer).

    Notes
    -----
    ``mtrnn(input, hx=None)`` returns ``(y, u_n)``: ``y`` the outputs :math:`\sigma(u_t)`
    ``(T, B, D * H)``, ``u_n`` the final potentials ``(num_layers * D, B, H)``; ``hx`` the initial
    potentials (default 0). ``step(params, x_t, (u,)) -> (y_t, (u_t,))``.
    Parameter names: ``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_l{k}``.

    Examples
    --------
    >>> import numpy as np
    >>> cell = MTRNN.from_groups(2, {"io": (2, 2.0), "fast": (3, 5.0), "slow": (1, 70.0)}, seed=0)
    >>> y, u_n = cell(np.ones((4, 1, 2)))
    >>> y.shape, u_n.shape, cell.tau.tolist()
    ((4, 1, 6), (1, 1, 6), [2.0, 2.0, 5.0, 5.0, 5.0, 70.0])
    """

    _params = _PARAMS
    _state_names = ("u_0",)
    _drives = {"weight_ih": "input", "weight_hh": "state"}

    def __init__(self, input_size, tau, hidden_size=None, nonlinearity="tanh", num_layers=1, bias=True,
                 batch_first=False, bidirectional=False, dtype=np.float64, *, seed=None):
        tau_arr = np.atleast_1d(np.asarray(tau, dtype=np.float64))
        if hidden_size is None:
            hidden_size = int(tau_arr.size)
        if tau_arr.ndim != 1 or tau_arr.size not in (1, hidden_size if isinstance(hidden_size, int) else -1):
            raise ParameterError(f"MTRNN: tau must be a scalar or have shape (hidden_size,) = ({hidden_size},), got {tau_arr.shape}")
        if not np.all(np.isfinite(tau_arr)) or np.any(tau_arr <= 0):
            bad = tau_arr[~(np.isfinite(tau_arr) & (tau_arr > 0))][0]
            raise ParameterError(f"MTRNN: tau must be a real number in (0, inf) steps (every element), got {bad!r}")
        self._setup(dict(input_size=input_size, hidden_size=hidden_size, num_layers=num_layers, bias=bias,
                         batch_first=batch_first, bidirectional=bidirectional, nonlinearity=nonlinearity), dtype, seed)
        self.tau = np.broadcast_to(tau_arr, (self.hidden_size,)).copy()
        self.tau.setflags(write=False)
        self.groups = OrderedDict([("all", slice(0, self.hidden_size))])

    @classmethod
    def from_groups(cls, input_size, groups, **kwargs):
        """Build from named groups ``{name: (units, tau)}`` in order (e.g. io / fast / slow)."""
        if not groups:
            raise ParameterError("MTRNN: groups must name at least one (units, tau) group, got none")
        taus, spans, start = [], OrderedDict(), 0
        for name, spec in groups.items():
            try:
                n, t = spec
                n = int(n)
            except (TypeError, ValueError) as exc:
                raise ParameterError(f"MTRNN: groups[{name!r}] must be (units, tau), got {spec!r}") from exc
            if n < 1:
                raise ParameterError(f"MTRNN: groups[{name!r}] units must be an integer >= 1, got {n}")
            taus.append(np.full(n, t, dtype=np.float64))
            spans[name] = slice(start, start + n)
            start += n
        cell = cls(input_size, np.concatenate(taus), **kwargs)
        cell.groups = spans
        return cell

    def _direction_shapes(self, layer):
        H = self.hidden_size
        shapes = [("weight_ih", (H, self._layer_input_size(layer))), ("weight_hh", (H, H))]
        if self.bias:
            shapes.append(("bias", (H,)))
        return shapes

    def _step(self, params, x_t, state, ops):
        return mtrnn_step(params, x_t, state, tau=self.tau, activation=self.nonlinearity, ops=ops)

    def _run_direction(self, p, x, states, suffix, reverse):
        return self._run_by_steps(p, x, states, reverse)

    def to_ctrnn(self, dt: float = 1.0, layer: int = 0):
        r"""The continuous network whose forward-Euler map with step ``dt`` is this cell.

        The CTRNN has :math:`\tau_c = \tau\, \Delta t` (s), gain 1, theta 0, the cell's activation,
        input weights :math:`W_{ih}` and bias :math:`b` (a constant current).
        """
        from neurosim.dynamics.ctrnn import CTRNN

        p = self.direction_params(layer, 0)
        b = np.asarray(p["bias"], np.float64) if "bias" in p else 0.0
        return CTRNN(np.asarray(p["weight_hh"], np.float64), self.tau * dt, activation=self.nonlinearity,
                     input_weights=np.asarray(p["weight_ih"], np.float64), bias=b)
