"""``IndRNN``: independently recurrent network (Li et al., CVPR 2018), element-wise recurrence."""

from __future__ import annotations

import numpy as np

from neurosim.cells.base import COMMON_PARAMS, RecurrentBase
from neurosim.cells.ops import ACTIVATIONS, DIGITAL
from neurosim.params import Param

__all__ = ["IndRNN", "indrnn_step"]


def _bounded(u: np.ndarray, bound: float | None) -> np.ndarray:
    return u if bound is None else np.clip(u, -bound, bound)


def indrnn_step(params: dict, x_t, state, *, nonlinearity="relu", recurrent_max_abs=None, ops=DIGITAL):
    """One step of the IndRNN, a pure function.

    .. math::
        h_t = \\sigma(W x_t + u \\odot h_{t-1} + b), \\qquad
        u \\leftarrow \\mathrm{clip}(u, -u_{max}, u_{max}) \\text{ if a bound } u_{max} \\text{ is set}

    Parameters
    ----------
    params : dict
        ``weight_ih`` = :math:`W` ``(H, I)``, ``weight_hh`` = :math:`u` ``(H,)``, optionally
        ``bias`` = :math:`b` ``(H,)``.
    x_t : ndarray, shape (batch, I)
    state : tuple
        ``(h,)``, ``h`` of shape (batch, H).
    nonlinearity : {"relu", "tanh", "sigmoid", "identity"}
    recurrent_max_abs : float or None
        The bound :math:`u_{max}`.
    ops : object with ``matmul``, ``scale`` and ``activation``

    Returns
    -------
    h_t : ndarray, shape (batch, H)
    state : tuple
        ``(h_t,)`` (a fresh array).
    """
    (h,) = state
    suffix = getattr(params, "suffix", "")
    z = ops.matmul("weight_ih" + suffix, params["weight_ih"], x_t)
    z = z + ops.scale("weight_hh" + suffix, _bounded(params["weight_hh"], recurrent_max_abs), h)
    if "bias" in params:
        z += params["bias"]
    h = ops.activation(nonlinearity, z, out=z)
    return h, (h,)


class IndRNN(RecurrentBase):
    """Independently recurrent network: each hidden unit recurs only onto itself.

    .. math::
        h_t = \\sigma(W x_t + u \\odot h_{t-1} + b)

    Parameters
    ----------
    input_size, hidden_size : int
        Features of :math:`x_t` and :math:`h_t`.
    num_layers : int
        Stacked layers; layer ``k > 0`` reads the (concatenated) hidden states of layer ``k - 1``.
    nonlinearity : {"relu", "tanh", "sigmoid", "identity"}
        :math:`\\sigma` (default relu, as in the paper).
    bias : bool
        With :math:`b` (``bias_l{k}``).
    recurrent_max_abs : float > 0 or None
        Bound on :math:`|u|`: every step uses ``clip(u, -recurrent_max_abs, recurrent_max_abs)``
        (the stored parameter is left as it is, so a trainer may step past the bound and the forward
        pass stays bounded; the paper uses :math:`2^{1/T}` for relu).
    batch_first, bidirectional, dtype, seed
        As for :class:`neurosim.cells.RNN`.

    Raises
    ------
    ParameterError
        Any argument out of range.

    Notes
    -----
    Parameters ``weight_ih_l{k}`` (:math:`W`, ``(H, I_k)``, uniform ``±1/sqrt(H)``),
    ``weight_hh_l{k}`` (:math:`u`, ``(H,)``, uniform in ``[0, 1)`` as in the paper, clipped to the
    bound) and ``bias_l{k}`` (:math:`b`, uniform ``±1/sqrt(H)``). ``indrnn(input, hx=None)``
    returns ``(output, h_n)`` with the shapes of :class:`neurosim.cells.RNN`.

    Examples
    --------
    >>> import numpy as np
    >>> net = IndRNN(3, 4, recurrent_max_abs=1.0, seed=0)
    >>> out, h_n = net(np.ones((6, 2, 3), np.float32))
    >>> out.shape, bool((out >= 0).all())
    ((6, 2, 4), True)
    """

    _params = {
        **COMMON_PARAMS,
        "nonlinearity": Param("choice", choices=ACTIVATIONS),
        "recurrent_max_abs": Param("real", low=0, low_open=True, optional=True),
    }

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="relu", bias=True, batch_first=False,
                 bidirectional=False, recurrent_max_abs=None, dtype=None, *, seed=None):
        self._setup(dict(input_size=input_size, hidden_size=hidden_size, num_layers=num_layers,
                         nonlinearity=nonlinearity, bias=bias, batch_first=batch_first, bidirectional=bidirectional,
                         recurrent_max_abs=recurrent_max_abs), dtype, seed)

    def _init_param(self, rng, generic, shape):
        if generic == "weight_hh":
            return _bounded(rng.uniform(0.0, 1.0, size=shape), self.recurrent_max_abs)
        return super()._init_param(rng, generic, shape)

    def _direction_shapes(self, layer):
        H = self.hidden_size
        shapes = [("weight_ih", (H, self._layer_input_size(layer))), ("weight_hh", (H,))]
        return shapes + [("bias", (H,))] if self.bias else shapes

    def _step(self, params, x_t, state, ops):
        return indrnn_step(params, x_t, state, nonlinearity=self.nonlinearity,
                           recurrent_max_abs=self.recurrent_max_abs, ops=ops)

    def _run_direction(self, p, x, states, suffix, reverse):
        (h,) = states
        T, B, _ = x.shape
        gx = self.matmul("weight_ih" + suffix, p["weight_ih"], x)
        if "bias" in p:
            gx += p["bias"]
        u = _bounded(p["weight_hh"], self.recurrent_max_abs)
        out = np.empty((T, B, self.hidden_size), dtype=self.dtype)
        name, act = "weight_hh" + suffix, self.nonlinearity
        for t in (range(T - 1, -1, -1) if reverse else range(T)):
            z = self.scale(name, u, h, out=out[t])
            z += gx[t]
            h = self.activation(act, z, out=out[t])
        return (out,), (h,)

