"""Simple recurrent networks with an output layer: ``Elman`` (hidden recurrence), ``Jordan`` (output recurrence)."""

from __future__ import annotations

import numpy as np

from neurosim.cells.base import COMMON_PARAMS, RecurrentBase
from neurosim.cells.ops import ACTIVATIONS, DIGITAL
from neurosim.params import Param

__all__ = ["Elman", "Jordan", "elman_step", "jordan_step"]

_SRN_PARAMS = {
    **COMMON_PARAMS,
    "output_size": Param("int", low=1, doc="features of the output y_t"),
    "hidden_activation": Param("choice", choices=ACTIVATIONS, doc="sigma_h"),
    "output_activation": Param("choice", choices=ACTIVATIONS, doc="sigma_y"),
}


def _affine(ops, name: str, W, b, X, out=None):
    z = ops.matmul(name, W, X, out=out)
    if b is not None:
        z += b
    return z


def _bias(p: dict, key: str):
    return p.get(key)


def elman_step(params: dict, x_t, state, *, hidden_activation="tanh", output_activation="identity", ops=DIGITAL):
    """One step of the Elman network, a pure function.

    .. math::
        h_t = \\sigma_h(W_h x_t + U_h h_{t-1} + b_h), \\qquad y_t = \\sigma_y(W_y h_t + b_y)

    Parameters
    ----------
    params : dict
        ``weight_ih`` = :math:`W_h` ``(H, I)``, ``weight_hh`` = :math:`U_h` ``(H, H)``,
        ``weight_hy`` = :math:`W_y` ``(O, H)``, optionally ``bias_h (H,)``, ``bias_y (O,)``.
    x_t : ndarray, shape (batch, I)
    state : tuple
        ``(h,)``, ``h`` of shape (batch, H).
    hidden_activation, output_activation : {"tanh", "sigmoid", "relu", "identity"}
    ops : object with ``matmul`` and ``activation``

    Returns
    -------
    (y_t, h_t) : tuple of ndarray
        Output (batch, O) and hidden state (batch, H), fresh arrays.
    state : tuple
        ``(h_t,)``.
    """
    (h,) = state
    suffix = getattr(params, "suffix", "")
    z = _affine(ops, "weight_ih" + suffix, params["weight_ih"], _bias(params, "bias_h"), x_t)
    z = z + ops.matmul("weight_hh" + suffix, params["weight_hh"], h)
    h_t = ops.activation(hidden_activation, z, out=z)
    y = _affine(ops, "weight_hy" + suffix, params["weight_hy"], _bias(params, "bias_y"), h_t)
    y = ops.activation(output_activation, y, out=y)
    return (y, h_t), (h_t,)


def jordan_step(params: dict, x_t, state, *, hidden_activation="tanh", output_activation="identity", ops=DIGITAL):
    """One step of the Jordan network, a pure function.

    .. math::
        h_t = \\sigma_h(W_h x_t + U_h y_{t-1} + b_h), \\qquad y_t = \\sigma_y(W_y h_t + b_y)

    Parameters
    ----------
    params : dict
        ``weight_ih`` = :math:`W_h` ``(H, I)``, ``weight_yh`` = :math:`U_h` ``(H, O)``,
        ``weight_hy`` = :math:`W_y` ``(O, H)``, optionally ``bias_h (H,)``, ``bias_y (O,)``.
    x_t : ndarray, shape (batch, I)
    state : tuple
        ``(y,)``: the previous output :math:`y_{t-1}` (batch, O), the recurrent state.
    hidden_activation, output_activation : {"tanh", "sigmoid", "relu", "identity"}
    ops : object with ``matmul`` and ``activation``

    Returns
    -------
    (y_t, h_t) : tuple of ndarray
        Output (batch, O) and hidden state (batch, H), fresh arrays.
    state : tuple
        ``(y_t,)``.
    """
    (y,) = state
    suffix = getattr(params, "suffix", "")
    z = _affine(ops, "weight_ih" + suffix, params["weight_ih"], _bias(params, "bias_h"), x_t)
    z = z + ops.matmul("weight_yh" + suffix, params["weight_yh"], y)
    h_t = ops.activation(hidden_activation, z, out=z)
    y_t = _affine(ops, "weight_hy" + suffix, params["weight_hy"], _bias(params, "bias_y"), h_t)
    y_t = ops.activation(output_activation, y_t, out=y_t)
    return (y_t, h_t), (y_t,)


class _SRN(RecurrentBase):
    _params = _SRN_PARAMS
    _recurrent_key = "weight_hh"

    def __init__(self, input_size, hidden_size, output_size, num_layers=1, hidden_activation="tanh",
                 output_activation="identity", bias=True, batch_first=False, bidirectional=False, dtype=None,
                 *, seed=None):
        self._setup(dict(input_size=input_size, hidden_size=hidden_size, output_size=output_size,
                         num_layers=num_layers, hidden_activation=hidden_activation,
                         output_activation=output_activation, bias=bias, batch_first=batch_first,
                         bidirectional=bidirectional), dtype, seed)

    def _direction_shapes(self, layer):
        H, O = self.hidden_size, self.output_size
        rec = (H, H) if self._recurrent_key == "weight_hh" else (H, O)
        shapes = [("weight_ih", (H, self._layer_input_size(layer))), (self._recurrent_key, rec)]
        if self.bias:
            shapes.append(("bias_h", (H,)))
        shapes.append(("weight_hy", (O, H)))
        if self.bias:
            shapes.append(("bias_y", (O,)))
        return shapes

    def _out_size(self):
        return self.output_size

    def _hidden_projection(self, p, x, suffix):
        gx = self.matmul("weight_ih" + suffix, p["weight_ih"], x)
        if "bias_h" in p:
            gx += p["bias_h"]
        return gx

    def _format_result(self, seqs, finals, batched):
        (y, h), (s_n,) = seqs, finals
        return (self._format_seq(y, batched), self._format_seq(h, batched)), self._format_state(s_n, batched)

    def _step(self, params, x_t, state, ops):
        return self._step_fn(params, x_t, state, hidden_activation=self.hidden_activation,
                             output_activation=self.output_activation, ops=ops)


class Elman(_SRN):
    """Elman simple recurrent network with its output layer.

    .. math::
        h_t = \\sigma_h(W_h x_t + U_h h_{t-1} + b_h), \\qquad y_t = \\sigma_y(W_y h_t + b_y)

    Parameters
    ----------
    input_size, hidden_size, output_size : int
        Features of :math:`x_t`, :math:`h_t`, :math:`y_t`.
    num_layers : int
        Stacked layers; layer ``k > 0`` reads the (concatenated) outputs :math:`y` of layer ``k - 1``.
    hidden_activation, output_activation : {"tanh", "sigmoid", "relu", "identity"}
        :math:`\\sigma_h` (default tanh) and :math:`\\sigma_y` (default identity).
    bias : bool
        With :math:`b_h` (``bias_h_l{k}``) and :math:`b_y` (``bias_y_l{k}``).
    batch_first, bidirectional, dtype, seed
        As for :class:`neurosim.cells.RNN`; every parameter is initialised uniform in
        ``[-1/sqrt(H), 1/sqrt(H)]``.

    Raises
    ------
    ParameterError
        Any argument out of range.

    Notes
    -----
    Parameter names: ``weight_ih_l{k}`` (:math:`W_h`, ``(H, I_k)``), ``weight_hh_l{k}``
    (:math:`U_h`, ``(H, H)``), ``bias_h_l{k}``, ``weight_hy_l{k}`` (:math:`W_y`, ``(O, H)``),
    ``bias_y_l{k}``, with ``_reverse`` for the reverse direction.

    ``elman(input, hx=None)`` returns ``((y, h), h_n)``: ``y (T, B, D * O)`` and ``h (T, B, D * H)``
    the last layer's outputs and hidden states, ``h_n (num_layers * D, B, H)`` the final hidden states.
    ``hx`` is the initial hidden state, same shape as ``h_n`` (default zeros).

    Examples
    --------
    >>> import numpy as np
    >>> net = Elman(3, 5, 2, output_activation="sigmoid", seed=0)
    >>> (y, h), h_n = net(np.ones((4, 1, 3), np.float32))
    >>> y.shape, h.shape, h_n.shape
    ((4, 1, 2), (4, 1, 5), (1, 1, 5))
    """

    _state_names = ("h_0",)
    _drives = {"weight_ih": "input", "weight_hh": "state", "weight_hy": "state"}
    _step_fn = staticmethod(elman_step)

    def _run_direction(self, p, x, states, suffix, reverse):
        (h,) = states
        T, B, _ = x.shape
        gx = self._hidden_projection(p, x, suffix)
        hs = np.empty((T, B, self.hidden_size), dtype=self.dtype)
        U, name, act = p["weight_hh"], "weight_hh" + suffix, self.hidden_activation
        for t in (range(T - 1, -1, -1) if reverse else range(T)):
            z = self.matmul(name, U, h, out=hs[t])
            z += gx[t]
            h = self.activation(act, z, out=hs[t])
        # the output layer does not feed back: one GEMM for all steps
        y = _affine(self, "weight_hy" + suffix, p["weight_hy"], p.get("bias_y"), hs)
        y = self.activation(self.output_activation, y, out=y)
        return (y, hs), (h,)


class Jordan(_SRN):
    """Jordan simple recurrent network: the previous output, not the hidden state, recurs.

    .. math::
        h_t = \\sigma_h(W_h x_t + U_h y_{t-1} + b_h), \\qquad y_t = \\sigma_y(W_y h_t + b_y)

    Parameters
    ----------
    input_size, hidden_size, output_size, num_layers, hidden_activation, output_activation, bias,
    batch_first, bidirectional, dtype, seed
        As for :class:`Elman`.

    Raises
    ------
    ParameterError
        Any argument out of range.

    Notes
    -----
    Parameter names as for :class:`Elman` but ``weight_yh_l{k}`` (:math:`U_h`, ``(H, O)``) instead of
    ``weight_hh_l{k}``. ``jordan(input, hx=None)`` returns ``((y, h), y_n)`` where the state is the
    output: ``hx`` and ``y_n`` have shape ``(num_layers * D, B, O)`` (default ``y_0 = 0``).

    Examples
    --------
    >>> import numpy as np
    >>> net = Jordan(3, 5, 2, seed=0)
    >>> (y, h), y_n = net(np.ones((4, 3), np.float32))  # unbatched
    >>> y.shape, h.shape, y_n.shape
    ((4, 2), (4, 5), (1, 2))
    """

    _state_names = ("y_0",)
    _recurrent_key = "weight_yh"

    def _state_sizes(self):
        return (self.output_size,)

    _drives = {"weight_ih": "input", "weight_yh": "state", "weight_hy": "state"}
    _step_fn = staticmethod(jordan_step)

    def _run_direction(self, p, x, states, suffix, reverse):
        (y,) = states
        T, B, _ = x.shape
        gx = self._hidden_projection(p, x, suffix)
        hs = np.empty((T, B, self.hidden_size), dtype=self.dtype)
        ys = np.empty((T, B, self.output_size), dtype=self.dtype)
        U, W_y, b_y = p["weight_yh"], p["weight_hy"], p.get("bias_y")
        n_u, n_y = "weight_yh" + suffix, "weight_hy" + suffix
        act_h, act_y = self.hidden_activation, self.output_activation
        for t in (range(T - 1, -1, -1) if reverse else range(T)):
            z = self.matmul(n_u, U, y, out=hs[t])
            z += gx[t]
            h = self.activation(act_h, z, out=hs[t])
            y = _affine(self, n_y, W_y, b_y, h, out=ys[t])
            y = self.activation(act_y, y, out=ys[t])
        return (ys, hs), (y,)
