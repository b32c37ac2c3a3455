"""``SecondOrderRNN``: multiplicative (second-order) recurrent network (Giles et al., 1992)."""

from __future__ import annotations

import numpy as np

from neurosim.cells.base import COMMON_PARAMS, RecurrentBase
from neurosim.cells.ops import ACTIVATIONS, DIGITAL
from neurosim.params import Param

__all__ = ["SecondOrderRNN", "second_order_step"]


def second_order_step(params: dict, x_t, state, *, nonlinearity="sigmoid", ops=DIGITAL):
    """One step of the second-order RNN, a pure function.

    .. math::
        h_{t,i} = \\sigma\\Big(\\sum_{j,k} W_{ijk}\\, h_{t-1,j}\\, x_{t,k} + b_i\\Big)

    through the ``bilinear`` hook (digitally one GEMM of :math:`W` reshaped to ``(H, H*I)`` with the
    flattened outer products :math:`h_{t-1} x_t^T`; the hook sees the name ``weight`` + suffix).

    Parameters
    ----------
    params : dict
        ``weight`` = :math:`W` ``(H, H, I)`` (indices i, j, k), optionally ``bias`` ``(H,)``.
    x_t : ndarray, shape (batch, I)
    state : tuple
        ``(h,)``, ``h`` of shape (batch, H).
    nonlinearity : {"sigmoid", "tanh", "relu", "identity"}
    ops : object with ``bilinear`` and ``activation``

    Returns
    -------
    h_t : ndarray, shape (batch, H)
    state : tuple
        ``(h_t,)`` (a fresh array).
    """
    (h,) = state
    z = ops.bilinear("weight" + getattr(params, "suffix", ""), params["weight"], h, x_t)
    if "bias" in params:
        z += params["bias"]
    h = ops.activation(nonlinearity, z, out=z)
    return h, (h,)


class SecondOrderRNN(RecurrentBase):
    """Second-order (multiplicative) recurrent network: input and state interact through a 3-tensor.

    .. math::
        h_{t,i} = \\sigma\\Big(\\sum_{j,k} W_{ijk}\\, h_{t-1,j}\\, x_{t,k} + b_i\\Big)

    Parameters
    ----------
    input_size, hidden_size : int
        Features of :math:`x_t` (index k) and :math:`h_t` (indices i, j).
    num_layers : int
        Stacked layers; layer ``k > 0`` reads the (concatenated) hidden states of layer ``k - 1``.
    nonlinearity : {"sigmoid", "tanh", "relu", "identity"}
        :math:`\\sigma` (default sigmoid, as in Giles et al. 1992).
    bias : bool
        With :math:`b` (``bias_l{k}``).
    batch_first, bidirectional, dtype, seed
        As for :class:`neurosim.cells.RNN`; parameters uniform in ``[-1/sqrt(H), 1/sqrt(H)]``.

    Raises
    ------
    ParameterError
        Any argument out of range.

    Notes
    -----
    Parameters ``weight_l{k}`` (:math:`W`, ``(H, H, I_k)``) and ``bias_l{k}``. Each step is one
    contraction (a GEMM of ``(batch, H*I)`` outer products with ``W`` as ``(H, H*I)``), no loop over
    i, j, k. With a zero initial state and no bias the state stays zero (the update is bilinear),
    so pass a nonzero ``hx`` or keep the bias. ``net(input, hx=None)`` returns ``(output, h_n)``
    with the shapes of :class:`neurosim.cells.RNN`.

    Examples
    --------
    >>> import numpy as np
    >>> net = SecondOrderRNN(3, 4, seed=0)
    >>> out, h_n = net(np.ones((5, 2, 3), np.float32))
    >>> out.shape, h_n.shape
    ((5, 2, 4), (1, 2, 4))
    """

    _params = {**COMMON_PARAMS, "nonlinearity": Param("choice", choices=ACTIVATIONS)}

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="sigmoid", bias=True, batch_first=False,
                 bidirectional=False, dtype=None, *, seed=None):
        self._setup(dict(input_size=input_size, hidden_size=hidden_size, num_layers=num_layers,
                         nonlinearity=nonlinearity, bias=bias, batch_first=batch_first,
                         bidirectional=bidirectional), dtype, seed)

    def _direction_shapes(self, layer):
        H = self.hidden_size
        shapes = [("weight", (H, H, self._layer_input_size(layer)))]
        return shapes + [("bias", (H,))] if self.bias else shapes

    _drives = {"weight": "state*input"}

    def _step(self, params, x_t, state, ops):
        return second_order_step(params, x_t, state, nonlinearity=self.nonlinearity, ops=ops)

    def _run_direction(self, p, x, states, suffix, reverse):
        (h,) = states
        T, B, I = x.shape
        H = self.hidden_size
        W, b, name, act = p["weight"], p.get("bias"), "weight" + suffix, self.nonlinearity
        out = np.empty((T, B, H), dtype=self.dtype)
        for t in (range(T - 1, -1, -1) if reverse else range(T)):
            z = self.bilinear(name, W, h, x[t], out=out[t])
            if b is not None:
                z += b
            h = self.activation(act, z, out=out[t])
        return (out,), (h,)

