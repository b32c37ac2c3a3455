r"""Backpropagation through time, full and truncated, for every cell of :mod:`neurosim.cells`.

The forward pass runs the cell's own step function (``cell.step``) for every layer, direction and
time step with a recording :class:`~neurosim.train.tape.Tape` as its ops, so the values are exactly
what the cell computes (the tests check ``forward`` against ``cell(input)``). The backward pass walks
the records in reverse with the cell's adjoint (:mod:`neurosim.train.adjoints`):

.. math::
    \bar h_{t-1} = \Big(\frac{\partial h_t}{\partial h_{t-1}}\Big)^T \bar h_t, \qquad
    \frac{\partial L}{\partial W} = \sum_t \Big(\frac{\partial h_t}{\partial W}\Big)^T \bar h_t

Stacked layers feed the (concatenated) outputs of the layer below, reverse directions run from the
last step to the first, as in :meth:`neurosim.cells.base.RecurrentBase.__call__`. Gradients are keyed
by the ``state_dict`` names of ``cell.params``.

Examples
--------
>>> import numpy as np
>>> from neurosim.cells import GRU
>>> gru = GRU(2, 3, dtype=np.float64, seed=0)
>>> x = np.ones((4, 1, 2))
>>> tr = forward(gru, x)
>>> bool(np.array_equal(tr.output, gru(x)[0]))
True
>>> grads, dx, dh0 = backward(tr, np.ones_like(tr.output))
>>> sorted(grads)
['bias_hh_l0', 'bias_ih_l0', 'weight_hh_l0', 'weight_ih_l0']
"""

from __future__ import annotations

import dataclasses

import numpy as np

from neurosim.cells.ops import DIGITAL
from neurosim.errors import ParameterError
from neurosim.train.adjoints import Grads, Lin, adjoint_for
from neurosim.train.tape import Tape

__all__ = ["Trace", "forward", "backward", "bptt", "truncated_bptt"]


@dataclasses.dataclass
class Trace:
    """What :func:`forward` records for :func:`backward`.

    Attributes
    ----------
    cell : RecurrentBase
    output : ndarray, shape (time, batch, D * out)
        The last layer's output sequence, time-major (``y`` for Elman/Jordan networks).
    hidden : ndarray or None
        Elman/Jordan: the last layer's hidden sequence ``(time, batch, D * H)``.
    final_states : tuple of ndarray
        Each ``(num_layers * D, batch, features)`` in the order of ``cell.state_names``.
    steps : dict
        ``(layer, direction) -> list of (records, state_before, state_after)`` in processing order.
    """

    cell: object
    output: np.ndarray
    hidden: np.ndarray | None
    final_states: tuple
    steps: dict
    inputs: np.ndarray


def _time_major(cell, x):
    x = np.asarray(x)
    if x.dtype != cell.dtype:
        raise ParameterError(f"train: input must have the cell's dtype {cell.dtype.name}, got {x.dtype.name}")
    if x.ndim != 3 or x.shape[-1] != cell.input_size:
        raise ParameterError(
            f"train: input must have shape (time, batch, {cell.input_size}) (batch-first if the cell is), got {x.shape}")
    return np.ascontiguousarray(x.transpose(1, 0, 2) if cell.batch_first else x)


def forward(cell, x, hx=None, ops=None, time_major: bool = False) -> Trace:
    """Run ``cell`` over ``x`` through its step function, recording for :func:`backward`.

    Parameters
    ----------
    cell : RecurrentBase
        Any cell (stacked, bidirectional); its ``ops`` (digital or analog) does the arithmetic unless
        ``ops`` is given.
    x : ndarray, shape (time, batch, input_size) (``(batch, time, ...)`` if ``cell.batch_first``)
    hx : tuple of ndarray, optional
        Initial states, each ``(num_layers * D, batch, features)`` (default zeros).
    ops : ops object, optional
        The arithmetic the tape delegates to (default ``cell.ops``).
    time_major : bool
        ``x`` is already time-major even if the cell is batch-first.

    Returns
    -------
    Trace
    """
    x = np.ascontiguousarray(x) if time_major else _time_major(cell, x)
    T, B, _ = x.shape
    D, L = cell.num_directions, cell.num_layers
    sizes = cell._state_sizes()
    if hx is None:
        hx = tuple(np.zeros((L * D, B, s), dtype=cell.dtype) for s in sizes)
    elif not isinstance(hx, tuple):
        hx = (hx,)
    tape = Tape(cell.ops if ops is None else ops)
    tape.begin(cell)
    finals = [np.empty_like(s) for s in hx]
    steps = {}
    layer_in = x
    hidden = None
    for layer in range(L):
        outs, hids = [], []
        for d in range(D):
            p = cell.direction_params(layer, d)
            state = tuple(s[layer * D + d] for s in hx)
            rec = []
            ys = hs = None
            if tape.base is DIGITAL and "weight_ih" in p:  # the input projection of all steps as one GEMM
                name = "weight_ih" + p.suffix
                tape.serve(name, layer_in, DIGITAL.matmul(name, p["weight_ih"], layer_in))
            for t in (range(T - 1, -1, -1) if d else range(T)):
                recs = tape.start_step()
                y, new = cell.step(p, layer_in[t], state, ops=tape)
                rec.append((recs, state, new, t))
                if isinstance(y, tuple):
                    y, h = y
                    if hs is None:
                        hs = np.empty((T,) + h.shape, dtype=cell.dtype)
                    hs[t] = h
                if ys is None:
                    ys = np.empty((T,) + y.shape, dtype=cell.dtype)
                ys[t] = y
                state = new
            steps[(layer, d)] = rec
            for f, v in zip(finals, state):
                f[layer * D + d] = v
            outs.append(ys)
            hids.append(hs)
        layer_in = outs[0] if D == 1 else np.concatenate(outs, axis=-1)
        if hids[0] is not None:
            hidden = hids[0] if D == 1 else np.concatenate(hids, axis=-1)
    return Trace(cell, layer_in, hidden, tuple(finals), steps, x)


def backward(trace: Trace, d_output, d_final_states=None, d_hidden=None, keep=None):
    """Gradients of a scalar loss from the cotangent of the output sequence (and final states).

    Parameters
    ----------
    trace : Trace
        From :func:`forward`.
    d_output : ndarray, shape of ``trace.output`` (time-major)
        :math:`\\partial L / \\partial y_t`.
    d_final_states : tuple of ndarray or None, optional
        Cotangents of the final states (``(num_layers * D, batch, features)`` each; None entries are zero).
    d_hidden : ndarray, optional
        Elman/Jordan: cotangent of the last layer's hidden sequence.
    keep : int, optional
        Backpropagate through the last ``keep`` processed steps of each direction only (truncation).

    Returns
    -------
    grads : dict of str to ndarray
        ``state_dict`` key -> gradient, same shape and dtype as the parameter.
    d_input : ndarray, shape (time, batch, input_size)
        Cotangent of the (time-major) input.
    d_hx : tuple of ndarray
        Cotangents of the initial states.
    """
    cell = trace.cell
    D, L = cell.num_directions, cell.num_layers
    d_output = np.asarray(d_output)
    if d_output.shape != trace.output.shape:
        raise ParameterError(f"train: d_output must have the output's shape {trace.output.shape}, got {d_output.shape}")
    adjoint = adjoint_for(cell)
    grads = Grads()
    n_states = len(trace.final_states)
    d_hx = [np.zeros_like(s) for s in trace.final_states]
    d_layer = d_output
    T, B = d_output.shape[:2]
    d_input = None
    for layer in range(L - 1, -1, -1):
        O = d_layer.shape[-1] // D
        d_in = None
        for d in range(D):
            p = cell.direction_params(layer, d)
            dy_all = d_layer[..., d * O:(d + 1) * O]
            dh_all = None
            if d_hidden is not None and layer == L - 1:
                Hh = d_hidden.shape[-1] // D
                dh_all = d_hidden[..., d * Hh:(d + 1) * Hh]
            k = layer * D + d
            dstate = tuple(None if d_final_states is None or d_final_states[i] is None else d_final_states[i][k]
                           for i in range(n_states))
            rec = trace.steps[(layer, d)]
            start = 0 if keep is None else max(0, len(rec) - keep)
            deferred, W_in = None, None
            for recs, state, new, t in reversed(rec[start:]):
                dy = dy_all[t] if dh_all is None else (dy_all[t], dh_all[t])
                dx, dstate = adjoint(cell, p, recs, state, new, dy, dstate, grads)
                if isinstance(dx, Lin):  # dx = dY @ W: one GEMM over all steps below
                    if deferred is None:
                        deferred = np.zeros((T, B, dx.dY.shape[-1]), dtype=cell.dtype)
                        W_in = dx.W
                    deferred[t] = dx.dY
                    continue
                if d_in is None:
                    d_in = np.zeros((T, B, dx.shape[-1]), dtype=cell.dtype)
                d_in[t] += dx
            if deferred is not None:
                dx_all = DIGITAL.matmul("", W_in.T, deferred)
                if d_in is None:
                    d_in = dx_all
                else:
                    d_in += dx_all
            for i in range(n_states):
                if dstate[i] is not None:
                    d_hx[i][k] = dstate[i]
        d_layer = d_in
        d_input = d_in
    g = grads.result()
    out = {}
    for key, param in cell.params.items():
        gk = g.get(key)
        out[key] = np.zeros_like(param) if gk is None else np.ascontiguousarray(gk.reshape(param.shape), dtype=cell.dtype)
    return out, d_input, tuple(d_hx)


def bptt(cell, x, d_loss, hx=None, ops=None):
    """Forward and backward in one call: ``d_loss(output) -> (loss, d_output)``.

    Returns ``(loss, grads, trace)``.

    Examples
    --------
    >>> import numpy as np
    >>> from neurosim.cells import RNN
    >>> rnn = RNN(1, 2, dtype=np.float64, seed=0)
    >>> loss, grads, _ = bptt(rnn, np.ones((3, 1, 1)), lambda y: (float((y ** 2).sum()), 2 * y))
    >>> grads["weight_hh_l0"].shape
    (2, 2)
    """
    tr = forward(cell, x, hx, ops)
    loss, dy = d_loss(tr.output)
    grads, _, _ = backward(tr, dy)
    return loss, grads, tr


def truncated_bptt(cell, x, d_loss, k1: int, k2: int | None = None, hx=None, ops=None):
    r"""Truncated BPTT(k1, k2) (Williams & Peng 1990) over one long sequence, as a generator.

    The sequence is cut into blocks of ``k1`` steps. For each block the gradient of the loss on its
    ``k1`` steps is backpropagated through the last ``k2 >= k1`` steps only; the state is carried
    from block to block without gradient (detached). One gradient is yielded per block, so a caller
    can update the weights between blocks; the next block then runs with the new weights (the extra
    ``k2 - k1`` steps of history are recomputed with the current weights from the carried state).
    With ``k2 == k1`` this is PyTorch's chunked training with detached states:

    .. math:: g_\tau = \nabla_\theta \sum_{t=\tau-k_1+1}^{\tau} L_t
        \quad\text{backpropagated through } h_{\tau-k_2+1}, \dots, h_\tau \text{ only}

    Parameters
    ----------
    cell : RecurrentBase
        Any cell; ``k2 > k1`` needs a single-layer unidirectional one.
    x : ndarray, shape (time, batch, input_size), time-major
    d_loss : callable
        ``d_loss(output_block, t0, t1) -> (loss, d_output_block)`` for the steps ``t0 .. t1-1``.
    k1, k2 : int
        Block length and backpropagation depth (default ``k2 = k1``).
    hx : tuple of ndarray, optional
        Initial states.
    ops : ops object, optional
        Arithmetic of the forward pass (default ``cell.ops``).

    Yields
    ------
    (t0, t1, loss, grads)

    Raises
    ------
    ParameterError
        ``k1 < 1``, ``k2 < k1``, or ``k2 > k1`` with a stacked or bidirectional cell.

    Examples
    --------
    >>> import numpy as np
    >>> from neurosim.cells import RNN
    >>> rnn = RNN(1, 2, dtype=np.float64, seed=0)
    >>> blocks = truncated_bptt(rnn, np.ones((10, 1, 1)), lambda y, a, b: (float((y ** 2).sum()), 2 * y), k1=4)
    >>> [(t0, t1) for t0, t1, _, _ in blocks]
    [(0, 4), (4, 8), (8, 10)]
    """
    if isinstance(k1, bool) or not isinstance(k1, (int, np.integer)) or k1 < 1:
        raise ParameterError(f"truncated_bptt: k1 must be an integer >= 1, got {k1!r}")
    k2 = k1 if k2 is None else k2
    if isinstance(k2, bool) or not isinstance(k2, (int, np.integer)) or k2 < k1:
        raise ParameterError(f"truncated_bptt: k2 must be an integer >= k1 = {k1}, got {k2!r}")
    if k2 > k1 and (cell.num_layers > 1 or cell.bidirectional):
        raise ParameterError("truncated_bptt: k2 > k1 needs a single-layer unidirectional cell")
    x = np.asarray(x)
    T = x.shape[0]
    history = {0: hx}  # time -> states before that step (k2 > k1)
    state = hx
    for t0 in range(0, T, k1):
        t1 = min(T, t0 + k1)
        lo = max(0, t1 - k2) if k2 > k1 else t0
        tr = forward(cell, x[lo:t1], history.get(lo) if k2 > k1 else state, ops, time_major=True)
        loss, dy_block = d_loss(tr.output[t0 - lo:], t0, t1)
        dy = np.zeros_like(tr.output)
        dy[t0 - lo:] = dy_block
        grads, _, _ = backward(tr, dy)
        state = tr.final_states
        if k2 > k1:
            for recs, before, after, t in tr.steps[(0, 0)]:
                history[lo + t + 1] = tuple(s[None] for s in after)
            for old in [k for k in history if k < t1 + k1 - k2]:
                del history[old]
        yield t0, t1, loss, grads
