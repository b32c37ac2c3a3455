"""``RNN``, ``LSTM`` and ``GRU`` with PyTorch's constructor, call, return values and parameter names.

Each cell has a pure step function (``rnn_step``, ``lstm_step``, ``gru_step``) of
``(params, x_t, state)`` for training code, and a sequence runner that computes the input
projection of all time steps in one GEMM and then runs one recurrent GEMM plus in-place element-wise
work per step, in preallocated buffers. The step functions and the runner share the element-wise
equations (``_lstm_pointwise``, ``_gru_pointwise``) and go through the ``matmul``/``activation``
hooks described in :mod:`neurosim.cells`. When no hook is overridden (plain digital use), the
runners of :mod:`neurosim.cells.fast` compute the same equations in a transposed, fused layout.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurosim.cells import fast
from neurosim.cells.base import COMMON_PARAMS, RecurrentBase
from neurosim.cells.ops import DIGITAL
from neurosim.errors import ParameterError
from neurosim.params import Param

__all__ = ["RNN", "LSTM", "GRU", "rnn_step", "lstm_step", "gru_step"]


def _check_torch_extras(owner: str, dropout: Any, device: Any) -> None:
    if dropout != 0:
        raise ParameterError(
            f"{owner}: dropout must be 0 (dropout between layers is a training-time regularizer and is not "
            f"implemented in the reference), got {dropout!r}"
        )
    if device is not None and str(device) != "cpu":
        raise ParameterError(f"{owner}: device must be None or 'cpu', got {device!r}")


def _torch_shapes(gates: int, hidden: int, layer_in: int, bias: bool) -> list[tuple[str, tuple]]:
    shapes = [("weight_ih", (gates * hidden, layer_in)), ("weight_hh", (gates * hidden, hidden))]
    if bias:
        shapes += [("bias_ih", (gates * hidden,)), ("bias_hh", (gates * hidden,))]
    return shapes


def _input_projection(ops, p: dict, x: np.ndarray, suffix: str, fold_hh: slice | None) -> np.ndarray:
    """``W_ih x + b_ih (+ b_hh[fold_hh])`` for every time step at once (a fresh array)."""
    gx = ops.matmul("weight_ih" + suffix, p["weight_ih"], x)
    if gx is x:  # pragma: no cover - defensive: a hook must not return its input
        gx = gx.copy()
    if "bias_ih" in p:
        if fold_hh is None:
            gx += p["bias_ih"]
        else:
            b = p["bias_ih"].copy()
            b[fold_hh] += p["bias_hh"][fold_hh]
            gx += b
    return gx


def _summed_bias(p: dict) -> np.ndarray | None:
    return p["bias_ih"] + p["bias_hh"] if "bias_ih" in p else None


def _steps(T: int, reverse: bool) -> range:
    return range(T - 1, -1, -1) if reverse else range(T)


def _suffix(params) -> str:
    """The ``state_dict`` suffix of a layer-direction's parameters (``""`` for a plain dict)."""
    return getattr(params, "suffix", "")


def _recurrent(ops, p: dict, h: np.ndarray, suffix: str) -> np.ndarray:
    """``W_hh h + b_hh`` as a fresh array (the pure step functions)."""
    r = ops.matmul("weight_hh" + suffix, p["weight_hh"], h)
    return r + p["bias_hh"] if "bias_hh" in p else r.copy()


def _step_input(ops, p: dict, x_t: np.ndarray, suffix: str) -> np.ndarray:
    g = ops.matmul("weight_ih" + suffix, p["weight_ih"], x_t)
    return g + p["bias_ih"] if "bias_ih" in p else g.copy()


# ---------------------------------------------------------------------------------------------- RNN
def rnn_step(params: dict, x_t: np.ndarray, state: tuple, *, nonlinearity: str = "tanh", ops=DIGITAL):
    """One step of the Elman RNN (PyTorch ``nn.RNN``), a pure function.

    .. math:: h_t = \\phi(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}), \\quad \\phi \\in \\{\\tanh, \\mathrm{relu}\\}

    Parameters
    ----------
    params : dict
        ``weight_ih (H, I)``, ``weight_hh (H, H)``, optionally ``bias_ih (H,)``, ``bias_hh (H,)``
        (see :meth:`RNN.direction_params`).
    x_t : ndarray, shape (batch, I)
    state : tuple
        ``(h,)``, ``h`` of shape (batch, H).
    nonlinearity : {"tanh", "relu"}
    ops : object with ``matmul`` and ``activation``
        The arithmetic (default exact digital); the hooks receive the weights' names with the
        suffix of ``params`` (a :class:`~neurosim.cells.base.DirectionParams`).

    Returns
    -------
    h_t : ndarray, shape (batch, H)
    state : tuple
        ``(h_t,)`` (a fresh array).
    """
    (h,) = state
    suffix = _suffix(params)
    z = _step_input(ops, params, x_t, suffix)
    z += _recurrent(ops, params, h, suffix)
    h = ops.activation(nonlinearity, z, out=z)
    return h, (h,)


class RNN(RecurrentBase):
    """Elman RNN with PyTorch ``nn.RNN``'s arguments, call, return values and parameter names.

    .. math:: h_t = \\phi(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})

    Parameters
    ----------
    input_size, hidden_size : int
        Features of ``x_t`` and ``h_t``.
    num_layers : int
        Stacked layers; layer ``k > 0`` reads the (concatenated) outputs of layer ``k - 1``.
    nonlinearity : {"tanh", "relu"}
    bias : bool
        With ``bias_ih_l{k}`` and ``bias_hh_l{k}``.
    batch_first : bool
        Input and output as ``(batch, time, features)`` instead of ``(time, batch, features)``.
    dropout : float
        Must be 0.
    bidirectional : bool
        Add a reverse direction (``..._reverse`` parameters), outputs concatenated on features.
    device : None or "cpu"
        Accepted for compatibility.
    dtype : numpy or torch dtype, optional
        float32 (default) or float64. Input and state arrays must have it, as in PyTorch (a
        ParameterError names both dtypes); Python numbers and lists are converted.
    seed : int, numpy.random.Generator or None
        Initialisation as PyTorch: every parameter uniform in ``[-1/sqrt(H), 1/sqrt(H)]``, drawn in
        ``state_dict`` order from the stream of ``seed`` (:mod:`neurosim.seeding`; None means 0,
        never OS entropy).

    Raises
    ------
    ParameterError
        Any argument out of range.

    Notes
    -----
    ``rnn(input, hx=None)`` takes ``input`` of shape ``(T, B, I)`` (``(B, T, I)`` with batch_first)
    or unbatched ``(T, I)``, and ``hx`` of shape ``(num_layers * D, B, H)`` (or ``(num_layers * D, H)``;
    default zeros), and returns ``(output, h_n)``: ``output (T, B, D * H)`` the last layer's hidden
    states, ``h_n (num_layers * D, B, H)`` the final state of each layer and direction (index
    ``layer * D + direction``).

    Examples
    --------
    >>> import numpy as np
    >>> rnn = RNN(3, 4, num_layers=2, bidirectional=True, seed=0)
    >>> out, h_n = rnn(np.ones((5, 2, 3), np.float32))
    >>> out.shape, h_n.shape, out.dtype
    ((5, 2, 8), (4, 2, 4), dtype('float32'))
    """

    _params = {**COMMON_PARAMS, "nonlinearity": Param("choice", choices=("tanh", "relu"))}

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None, *, seed=None):
        _check_torch_extras(type(self).__name__, dropout, device)
        self.dropout = 0.0
        self._setup(dict(input_size=input_size, hidden_size=hidden_size, num_layers=num_layers,
                         nonlinearity=nonlinearity, bias=bias, batch_first=batch_first,
                         bidirectional=bidirectional), dtype, seed)

    def _direction_shapes(self, layer):
        return _torch_shapes(1, self.hidden_size, self._layer_input_size(layer), self.bias)

    def _step(self, params, x_t, state, ops):
        return rnn_step(params, x_t, state, nonlinearity=self.nonlinearity, ops=ops)

    def _run_direction(self, p, x, states, suffix, reverse):
        (h,) = states
        if self._hooks_are_digital():
            out, h_n = fast.rnn_sequence(p["weight_ih"], p["weight_hh"], _summed_bias(p), x, h, self.nonlinearity, reverse)
            return (out,), (h_n,)
        T, B, _ = x.shape
        gx = _input_projection(self, p, x, suffix, slice(None) if self.bias else None)
        out = np.empty((T, B, self.hidden_size), dtype=self.dtype)
        W_hh, name, act = p["weight_hh"], "weight_hh" + suffix, self.nonlinearity
        for t in _steps(T, reverse):
            z = self.matmul(name, W_hh, h, out=out[t])
            z += gx[t]
            h = self.activation(act, z, out=out[t])
        return (out,), (h,)


# --------------------------------------------------------------------------------------------- LSTM
def _lstm_pointwise(ops, gates: np.ndarray, c: np.ndarray, h_out: np.ndarray, tmp: np.ndarray) -> np.ndarray:
    """Gates (i, f, g, o pre-activations, overwritten) -> c updated in place, h written to h_out."""
    H = c.shape[-1]
    i_f = gates[:, : 2 * H]
    ops.activation("sigmoid", i_f, out=i_f)
    g = gates[:, 2 * H : 3 * H]
    ops.activation("tanh", g, out=g)
    o = gates[:, 3 * H :]
    ops.activation("sigmoid", o, out=o)
    c *= gates[:, H : 2 * H]
    np.multiply(gates[:, :H], g, out=tmp)
    c += tmp
    h = ops.activation("tanh", c, out=h_out)
    h *= o
    return h


def lstm_step(params: dict, x_t: np.ndarray, state: tuple, *, ops=DIGITAL):
    """One step of the LSTM with forget gate (PyTorch ``nn.LSTM``), a pure function.

    .. math::
        \\begin{aligned}
        i_t &= \\sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}) \\\\
        f_t &= \\sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}) \\\\
        g_t &= \\tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}) \\\\
        o_t &= \\sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho}) \\\\
        c_t &= f_t \\odot c_{t-1} + i_t \\odot g_t, \\qquad h_t = o_t \\odot \\tanh(c_t)
        \\end{aligned}

    Parameters
    ----------
    params : dict
        ``weight_ih (4H, I)``, ``weight_hh (4H, R)``, optionally ``bias_ih``, ``bias_hh (4H,)``; rows
        in gate order i, f, g, o. With a projection, ``weight_hr (R, H)`` and
        :math:`h_t = W_{hr} (o_t \\odot \\tanh(c_t))`; otherwise ``R = H``.
    x_t : ndarray, shape (batch, I)
    state : tuple of ndarray
        ``(h (batch, R), c (batch, H))``.
    ops : object with ``matmul`` and ``activation``

    Returns
    -------
    h_t : ndarray, shape (batch, R)
    state : tuple of ndarray
        ``(h_t, c_t)``, fresh arrays.
    """
    h, c = state
    suffix = _suffix(params)
    gates = _step_input(ops, params, x_t, suffix)
    gates += _recurrent(ops, params, h, suffix)
    c = np.array(c, copy=True)
    h_out = np.empty_like(c)
    _lstm_pointwise(ops, gates, c, h_out, np.empty_like(c))
    if "weight_hr" in params:  # projection (proj_size > 0)
        h_out = ops.matmul("weight_hr" + suffix, params["weight_hr"], h_out)
    return h_out, (h_out, c)


class LSTM(RecurrentBase):
    """LSTM with forget gate, with PyTorch ``nn.LSTM``'s arguments, call, returns and parameter names.

    .. math::
        \\begin{aligned}
        (i_t, f_t, g_t, o_t) &= (\\sigma, \\sigma, \\tanh, \\sigma)(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}) \\\\
        c_t &= f_t \\odot c_{t-1} + i_t \\odot g_t, \\qquad h_t = o_t \\odot \\tanh(c_t)
        \\end{aligned}

    Parameters
    ----------
    input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, device, dtype, seed
        As for :class:`RNN`. ``weight_ih_l{k}`` has shape ``(4H, I_k)``, gate order i, f, g, o.
    proj_size : int
        If > 0, the LSTM with projections of PyTorch: :math:`h_t = W_{hr} (o_t \\odot \\tanh(c_t))`
        with ``weight_hr_l{k}`` of shape ``(proj_size, H)``; ``h`` then has ``proj_size`` features
        (outputs, ``h_0``, ``h_n``, ``weight_hh`` columns and the next layer's input), ``c`` keeps ``H``.

    Raises
    ------
    ParameterError
        Any argument out of range.

    Notes
    -----
    ``lstm(input, hx=None)`` with ``hx = (h_0, c_0)``, each ``(num_layers * D, B, H)``, returns
    ``(output, (h_n, c_n))``; shapes as for :class:`RNN`.

    Examples
    --------
    >>> import numpy as np
    >>> lstm = LSTM(3, 4, batch_first=True, dtype=np.float64, seed=0)
    >>> out, (h_n, c_n) = lstm(np.ones((2, 5, 3)))
    >>> out.shape, h_n.shape, c_n.shape
    ((2, 5, 4), (1, 2, 4), (1, 2, 4))
    >>> bool(np.allclose(out[:, -1], h_n[0]))
    True
    """

    _state_names = ("h_0", "c_0")
    _params = {**COMMON_PARAMS, "proj_size": Param("int", low=0)}

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None, *, seed=None):
        owner = type(self).__name__
        _check_torch_extras(owner, dropout, device)
        self.dropout = 0.0
        self._setup(dict(input_size=input_size, hidden_size=hidden_size, num_layers=num_layers, bias=bias,
                         batch_first=batch_first, bidirectional=bidirectional, proj_size=proj_size), dtype, seed)
        if self.proj_size >= self.hidden_size:
            raise ParameterError(
                f"{owner}: proj_size must be an integer in [0, hidden_size - 1] = [0, {self.hidden_size - 1}], "
                f"got {self.proj_size}"
            )

    def _direction_shapes(self, layer):
        H, R = self.hidden_size, self._out_size()
        shapes = [("weight_ih", (4 * H, self._layer_input_size(layer))), ("weight_hh", (4 * H, R))]
        if self.bias:
            shapes += [("bias_ih", (4 * H,)), ("bias_hh", (4 * H,))]
        if self.proj_size:
            shapes.append(("weight_hr", (R, H)))
        return shapes

    def _state_sizes(self):
        return (self._out_size(), self.hidden_size)

    def _out_size(self):
        return self.proj_size or self.hidden_size

    _drives = {"weight_ih": "input", "weight_hh": "state", "weight_hr": "state"}

    def _step(self, params, x_t, state, ops):
        return lstm_step(params, x_t, state, ops=ops)

    def _run_direction(self, p, x, states, suffix, reverse):
        h, c = states
        if self._hooks_are_digital() and not self.proj_size:
            out, h_n, c_n = fast.lstm_sequence(p["weight_ih"], p["weight_hh"], _summed_bias(p), x, h, c, reverse)
            return (out,), (h_n, c_n)
        T, B, _ = x.shape
        H = self.hidden_size
        gx = _input_projection(self, p, x, suffix, slice(None) if self.bias else None)
        out = np.empty((T, B, H), dtype=self.dtype)
        c = c.copy()
        gates = np.empty((B, 4 * H), dtype=self.dtype)
        tmp = np.empty((B, H), dtype=self.dtype)
        W_hh, name = p["weight_hh"], "weight_hh" + suffix
        if self.proj_size:
            out = np.empty((T, B, self.proj_size), dtype=self.dtype)
            h_full = np.empty((B, H), dtype=self.dtype)
            W_hr, name_hr = p["weight_hr"], "weight_hr" + suffix
            for t in _steps(T, reverse):
                g = self.matmul(name, W_hh, h, out=gates)
                g += gx[t]
                _lstm_pointwise(self, g, c, h_full, tmp)
                h = self.matmul(name_hr, W_hr, h_full, out=out[t])
            return (out,), (h, c)
        for t in _steps(T, reverse):
            g = self.matmul(name, W_hh, h, out=gates)
            g += gx[t]
            h = _lstm_pointwise(self, g, c, out[t], tmp)
        return (out,), (h, c)

    def _format_result(self, seqs, finals, batched):
        (out,), (h_n, c_n) = seqs, finals
        return self._format_seq(out, batched), (self._format_state(h_n, batched), self._format_state(c_n, batched))


# ---------------------------------------------------------------------------------------------- GRU
def _gru_pointwise(ops, gi: np.ndarray, gh: np.ndarray, b_hn, h: np.ndarray, h_out: np.ndarray, tmp: np.ndarray):
    """gi = W_ih x + b_ih (+ b_hr, b_hz), gh = W_hh h (+ b_hh; overwritten) -> new h written to h_out."""
    H = h.shape[-1]
    rz = gh[:, : 2 * H]
    np.add(rz, gi[:, : 2 * H], out=rz)
    ops.activation("sigmoid", rz, out=rz)
    n = gh[:, 2 * H :]
    if b_hn is not None:
        n += b_hn
    n *= rz[:, :H]  # the reset gate acts after the hidden matmul (PyTorch / cuDNN convention)
    n += gi[:, 2 * H :]
    ops.activation("tanh", n, out=n)
    np.subtract(h, n, out=tmp)
    tmp *= rz[:, H:]
    return np.add(n, tmp, out=h_out)


def gru_step(params: dict, x_t: np.ndarray, state: tuple, *, ops=DIGITAL):
    """One step of the GRU (PyTorch ``nn.GRU``), a pure function.

    .. math::
        \\begin{aligned}
        r_t &= \\sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}) \\\\
        z_t &= \\sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}) \\\\
        n_t &= \\tanh(W_{in} x_t + b_{in} + r_t \\odot (W_{hn} h_{t-1} + b_{hn})) \\\\
        h_t &= (1 - z_t) \\odot n_t + z_t \\odot h_{t-1} = n_t + z_t \\odot (h_{t-1} - n_t)
        \\end{aligned}

    Parameters
    ----------
    params : dict
        ``weight_ih (3H, I)``, ``weight_hh (3H, H)``, optionally ``bias_ih``, ``bias_hh (3H,)``; rows
        in gate order r, z, n.
    x_t : ndarray, shape (batch, I)
    state : tuple
        ``(h,)``, ``h`` of shape (batch, H).
    ops : object with ``matmul`` and ``activation``

    Returns
    -------
    h_t : ndarray, shape (batch, H)
    state : tuple
        ``(h_t,)`` (a fresh array).
    """
    (h,) = state
    suffix = _suffix(params)
    gi = _step_input(ops, params, x_t, suffix)
    gh = _recurrent(ops, params, h, suffix)
    h_out = np.empty_like(gh[:, : h.shape[-1]])
    h = _gru_pointwise(ops, gi, gh, None, h, h_out, np.empty_like(h_out))
    return h, (h,)


class GRU(RecurrentBase):
    """GRU with PyTorch ``nn.GRU``'s arguments, call, return values and parameter names.

    .. math::
        \\begin{aligned}
        (r_t, z_t) &= \\sigma(W_{i\\{r,z\\}} x_t + b_{i\\{r,z\\}} + W_{h\\{r,z\\}} h_{t-1} + b_{h\\{r,z\\}}) \\\\
        n_t &= \\tanh(W_{in} x_t + b_{in} + r_t \\odot (W_{hn} h_{t-1} + b_{hn})) \\\\
        h_t &= (1 - z_t) \\odot n_t + z_t \\odot h_{t-1}
        \\end{aligned}

    Parameters
    ----------
    input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, device, dtype, seed
        As for :class:`RNN`. ``weight_ih_l{k}`` has shape ``(3H, I_k)``, gate order r, z, n.

    Raises
    ------
    ParameterError
        Any argument out of range.

    Notes
    -----
    Call and return values as for :class:`RNN`: ``gru(input, hx=None) -> (output, h_n)``.

    Examples
    --------
    >>> import numpy as np
    >>> gru = GRU(3, 4, seed=0)
    >>> out, h_n = gru(np.ones((5, 3), np.float32))  # unbatched (time, features)
    >>> out.shape, h_n.shape
    ((5, 4), (1, 4))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None, *, seed=None):
        _check_torch_extras(type(self).__name__, dropout, device)
        self.dropout = 0.0
        self._setup(dict(input_size=input_size, hidden_size=hidden_size, num_layers=num_layers, bias=bias,
                         batch_first=batch_first, bidirectional=bidirectional), dtype, seed)

    def _direction_shapes(self, layer):
        return _torch_shapes(3, self.hidden_size, self._layer_input_size(layer), self.bias)

    def _step(self, params, x_t, state, ops):
        return gru_step(params, x_t, state, ops=ops)

    def _run_direction(self, p, x, states, suffix, reverse):
        (h,) = states
        if self._hooks_are_digital():
            out, h_n = fast.gru_sequence(p["weight_ih"], p["weight_hh"], p.get("bias_ih"), p.get("bias_hh"), x, h, reverse)
            return (out,), (h_n,)
        T, B, _ = x.shape
        H = self.hidden_size
        gi = _input_projection(self, p, x, suffix, slice(0, 2 * H) if self.bias else None)
        b_hn = p["bias_hh"][2 * H :] if self.bias else None
        out = np.empty((T, B, H), dtype=self.dtype)
        gh = np.empty((B, 3 * H), dtype=self.dtype)
        tmp = np.empty((B, H), dtype=self.dtype)
        W_hh, name = p["weight_hh"], "weight_hh" + suffix
        for t in _steps(T, reverse):
            g = self.matmul(name, W_hh, h, out=gh)
            h = _gru_pointwise(self, gi[t], g, b_hn, h, out[t], tmp)
        return (out,), (h,)

