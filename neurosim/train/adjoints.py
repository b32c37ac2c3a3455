r"""Vector-Jacobian products of one step of every cell, read from the records of its step function.

Each adjoint receives the :class:`~neurosim.train.tape.Record` list one call of the cell's step
function produced (hooks in call order), the state before and after the step, the cotangent of the
step's output and of its new state, and returns the cotangents of the step input and of the state
before the step. Weight gradients are not formed per step: every weight product's output cotangent
``dY`` is queued with its operand ``X`` in a :class:`Grads` accumulator, which forms
:math:`\partial L/\partial W = \sum_t dY_t^T X_t` as one GEMM over all steps at the end.

The adjoints are the transposes of the step functions of :mod:`neurosim.cells`:

* ``rnn_step``: :math:`h' = \phi(W_{ih} x + b_{ih} + W_{hh} h + b_{hh})`
* ``lstm_step``: gates ``i, f, g, o``, :math:`c' = f c + i g`, :math:`h' = o \tanh c'` (then ``W_hr``)
* ``gru_step``: :math:`n = \tanh(g^i_n + r (W_{hn} h + b_{hn}))`, :math:`h' = n + z (h - n)`
* ``elman_step`` / ``jordan_step``: hidden layer and output layer
* ``indrnn_step``: :math:`h' = \phi(W x + \mathrm{clip}(u) h + b)`
* ``second_order_step``: :math:`h'_i = \phi(\sum_{jk} W_{ijk} h_j x_k + b_i)`

Cells are matched by protocol, not by class name: a cell class declares ``_adjoint`` (a function
of this module's signature); the built-in cells are registered in :data:`ADJOINTS` by their step
function.
"""

from __future__ import annotations

import numpy as np

from neurosim.cells import (GRU, LSTM, RNN, Elman, IndRNN, Jordan, SecondOrderRNN)
from neurosim.errors import NeurosimError
from neurosim.train.tape import activation_grad

__all__ = ["Grads", "adjoint_for", "ADJOINTS"]


class Grads:
    """Accumulator of parameter gradients keyed by ``state_dict`` name.

    ``mm(name, dY, X)`` queues a weight product's cotangent; ``add(name, g)`` adds a dense
    gradient (biases, element-wise weights). :meth:`result` forms every queued product as one GEMM.
    """

    def __init__(self):
        self._mm: dict[str, list] = {}
        self._dense: dict[str, np.ndarray] = {}
        self._wt: dict[int, tuple] = {}

    def back(self, dY: np.ndarray, W: np.ndarray) -> np.ndarray:
        """``dY @ W`` for a 2-D ``dY (batch, out)``, computed as ``(W^T dY^T)^T`` with a contiguous
        copy of ``W^T`` kept for the whole backward pass (several times faster in BLAS at small
        batch, the layout of :mod:`neurosim.cells.fast`)."""
        entry = self._wt.get(id(W))
        if entry is None or entry[0] is not W:
            entry = (W, np.ascontiguousarray(W.T))
            self._wt[id(W)] = entry
        return (entry[1] @ dY.T).T

    def mm(self, name: str, dY: np.ndarray, X: np.ndarray) -> None:
        self._mm.setdefault(name, []).append((dY, X))

    def add(self, name: str, g: np.ndarray) -> None:
        if name in self._dense:
            self._dense[name] += g
        else:
            self._dense[name] = np.array(g, copy=True)

    def result(self) -> dict[str, np.ndarray]:
        out = dict(self._dense)
        cache: dict = {}  # the same cotangents often feed two products (W_ih and W_hh): stack them once

        def stack(arrays):
            key = tuple(id(a) for a in arrays)
            if key not in cache:
                flat = [a.reshape(-1, a.shape[-1]) for a in arrays]
                cache[key] = (np.concatenate(flat) if len(flat) > 1 else flat[0], arrays)
            return cache[key][0]

        for name, pairs in self._mm.items():
            dY = stack([p[0] for p in pairs])
            X = stack([p[1] for p in pairs])
            g = dY.T @ X
            out[name] = out[name] + g if name in out else g
        return out


class Lin:
    """A deferred input cotangent ``dY @ W`` (formed for all steps at once by the caller)."""

    __slots__ = ("dY", "W")

    def __init__(self, dY, W):
        self.dY, self.W = dY, W


def _expect(cell, recs, pattern) -> None:
    got = tuple(r.op if r.op != "activation" else "act" for r in recs)
    if got != pattern:
        raise NeurosimError(
            f"train: the step function of {type(cell).__name__} made the hook calls {got}, but its adjoint "
            f"expects {pattern}; the step function changed without its adjoint (neurosim.train.adjoints)"
        )


def _bias(grads, p, key, d):
    if key in p:
        grads.add(key + p.suffix, d.sum(axis=0))


def _rnn(cell, p, recs, state, new_state, dy, dstate, grads):
    _expect(cell, recs, ("matmul", "matmul", "act"))
    mi, mh, a = recs
    dh = dy if dstate[0] is None else dy + dstate[0]
    dz = activation_grad(a.name, a.y, dh)
    grads.mm(mi.name, dz, mi.X)
    grads.mm(mh.name, dz, mh.X)
    _bias(grads, p, "bias_ih", dz)
    _bias(grads, p, "bias_hh", dz)
    return Lin(dz, mi.W), (grads.back(dz, mh.W),)


def _lstm(cell, p, recs, state, new_state, dy, dstate, grads):
    proj = "weight_hr" in p
    _expect(cell, recs, ("matmul", "matmul", "act", "act", "act", "act") + (("matmul",) if proj else ()))
    mi, mh, a_if, a_g, a_o, a_c = recs[:6]
    dh = dy if dstate[0] is None else dy + dstate[0]
    if proj:
        mr = recs[6]
        grads.mm(mr.name, dh, mr.X)
        dh = grads.back(dh, mr.W)
    H = a_c.y.shape[-1]
    i, f = a_if.y[:, :H], a_if.y[:, H:]
    g, o, tc = a_g.y, a_o.y, a_c.y
    c_prev = state[1]
    dc = dh * o * (1 - tc * tc)
    if dstate[1] is not None:
        dc += dstate[1]
    dG = np.empty(dh.shape[:-1] + (4 * H,), dtype=dh.dtype)
    np.multiply(dc * g, i * (1 - i), out=dG[:, :H])
    np.multiply(dc * c_prev, f * (1 - f), out=dG[:, H:2 * H])
    np.multiply(dc * i, 1 - g * g, out=dG[:, 2 * H:3 * H])
    np.multiply(dh * tc, o * (1 - o), out=dG[:, 3 * H:])
    grads.mm(mi.name, dG, mi.X)
    grads.mm(mh.name, dG, mh.X)
    _bias(grads, p, "bias_ih", dG)
    _bias(grads, p, "bias_hh", dG)
    return Lin(dG, mi.W), (grads.back(dG, mh.W), dc * f)


def _gru(cell, p, recs, state, new_state, dy, dstate, grads):
    _expect(cell, recs, ("matmul", "matmul", "act", "act"))
    mi, mh, a_rz, a_n = recs
    h = state[0]
    H = h.shape[-1]
    dh = dy if dstate[0] is None else dy + dstate[0]
    r, z, n = a_rz.y[:, :H], a_rz.y[:, H:], a_n.y
    hn = mh.y[:, 2 * H:] + p["bias_hh"][2 * H:] if "bias_hh" in p else mh.y[:, 2 * H:]
    dn = dh * (1 - z) * (1 - n * n)
    dgi = np.empty(dh.shape[:-1] + (3 * H,), dtype=dh.dtype)
    np.multiply(dn * hn, r * (1 - r), out=dgi[:, :H])
    np.multiply(dh * (h - n), z * (1 - z), out=dgi[:, H:2 * H])
    dgi[:, 2 * H:] = dn
    dgh = dgi.copy()
    np.multiply(dn, r, out=dgh[:, 2 * H:])
    grads.mm(mi.name, dgi, mi.X)
    grads.mm(mh.name, dgh, mh.X)
    _bias(grads, p, "bias_ih", dgi)
    _bias(grads, p, "bias_hh", dgh)
    return Lin(dgi, mi.W), (grads.back(dgh, mh.W) + dh * z,)


def _srn(cell, p, recs, state, new_state, dy, dstate, grads, jordan):
    _expect(cell, recs, ("matmul", "matmul", "act", "matmul", "act"))
    mi, mu, a_h, my, a_y = recs
    if isinstance(dy, tuple):
        dy_out, dh_out = dy
    else:
        dy_out, dh_out = dy, None
    if jordan and dstate[0] is not None:
        dy_out = dy_out + dstate[0]
    dyo = activation_grad(a_y.name, a_y.y, dy_out)
    grads.mm(my.name, dyo, my.X)
    _bias(grads, p, "bias_y", dyo)
    dh = grads.back(dyo, my.W)
    if dh_out is not None:
        dh += dh_out
    if not jordan and dstate[0] is not None:
        dh += dstate[0]
    dz = activation_grad(a_h.name, a_h.y, dh)
    grads.mm(mi.name, dz, mi.X)
    grads.mm(mu.name, dz, mu.X)
    _bias(grads, p, "bias_h", dz)
    return Lin(dz, mi.W), (grads.back(dz, mu.W),)


def _elman(cell, p, recs, state, new_state, dy, dstate, grads):
    return _srn(cell, p, recs, state, new_state, dy, dstate, grads, False)


def _jordan(cell, p, recs, state, new_state, dy, dstate, grads):
    return _srn(cell, p, recs, state, new_state, dy, dstate, grads, True)


def _indrnn(cell, p, recs, state, new_state, dy, dstate, grads):
    _expect(cell, recs, ("matmul", "scale", "act"))
    mi, sc, a = recs
    dh = dy if dstate[0] is None else dy + dstate[0]
    dz = activation_grad(a.name, a.y, dh)
    grads.mm(mi.name, dz, mi.X)
    du = (dz * sc.X).sum(axis=0)
    bound = getattr(cell, "recurrent_max_abs", None)
    if bound is not None:  # d clip(u)/du = 1 inside [-bound, bound] (inclusive, as torch.clamp)
        du *= np.abs(p["weight_hh"]) <= bound
    grads.add(sc.name, du)
    _bias(grads, p, "bias", dz)
    return Lin(dz, mi.W), (dz * sc.W,)


def _second_order(cell, p, recs, state, new_state, dy, dstate, grads):
    _expect(cell, recs, ("bilinear", "act"))
    bl, a = recs
    dh = dy if dstate[0] is None else dy + dstate[0]
    dz = activation_grad(a.name, a.y, dh)
    W, h, x = bl.W, bl.X, bl.x
    B = h.shape[0]
    grads.mm(bl.name, dz, (h[:, :, None] * x[:, None, :]).reshape(B, -1))
    M = (dz @ W.reshape(W.shape[0], -1)).reshape(B, W.shape[1], W.shape[2])
    _bias(grads, p, "bias", dz)
    return np.einsum("bjk,bj->bk", M, h), (np.einsum("bjk,bk->bj", M, x),)


#: built-in cells -> adjoint of their step function
ADJOINTS = {RNN: _rnn, LSTM: _lstm, GRU: _gru, Elman: _elman, Jordan: _jordan, IndRNN: _indrnn,
            SecondOrderRNN: _second_order}


def adjoint_for(cell):
    """The adjoint of ``cell``'s step function: its class's ``_adjoint`` attribute if it declares one,
    else the registered adjoint of the nearest built-in base class."""
    own = getattr(type(cell), "_adjoint", None)
    if own is not None:
        return own
    for klass in type(cell).__mro__:
        if klass in ADJOINTS:
            return ADJOINTS[klass]
    raise NeurosimError(f"train: no adjoint for cell class {type(cell).__name__}; declare _adjoint on the class")
