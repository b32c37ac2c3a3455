"""Fused digital sequence runners for RNN / LSTM / GRU, used when no hook is overridden.

They compute exactly the equations of :mod:`neurosim.cells.torchlike` (same operations, same order
of the element-wise work) but keep the state transposed, ``(hidden, batch)``: the recurrent product
is then ``W_hh @ h`` (about 1.5x faster in OpenBLAS than ``h @ W_hh.T`` at batch 32), each gate is a
contiguous row block, and the input projection of all steps is one GEMM ``W_ih @ X^T`` of shape
``(gates*H, time*batch)`` whose step ``t`` is the column block ``[:, t*B:(t+1)*B]``.

The sigmoid gates use :math:`\\sigma(x) = \\tfrac12\\tanh(\\tfrac12 x) + \\tfrac12` with the halving
folded into the sigmoid rows of both weight matrices and biases beforehand (a power-of-two scale is
exact), so one tanh covers every gate of the LSTM.

These functions are an implementation detail: the analog executor overrides the hooks, which
switches the cells to the generic (hooked) runners, never to these.
"""

from __future__ import annotations

import numpy as np

__all__ = ["rnn_sequence", "lstm_sequence", "gru_sequence"]


def _projection(W_ih: np.ndarray, x: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """``W_ih @ x_t + bias`` for all steps as ``(G, T*B)``."""
    T, B, I = x.shape
    gx = W_ih @ x.reshape(T * B, I).T
    if bias is not None:
        gx += bias[:, None]
    return gx


def _steps(T: int, reverse: bool) -> range:
    return range(T - 1, -1, -1) if reverse else range(T)


def _finish(hs: np.ndarray) -> np.ndarray:
    """``(T, H, B)`` -> ``(T, B, H)`` contiguous."""
    return np.ascontiguousarray(hs.transpose(0, 2, 1))


def rnn_sequence(W_ih, W_hh, bias, x, h0, nonlinearity, reverse):
    """RNN over a sequence: ``x (T, B, I)``, ``h0 (B, H)`` -> ``(out (T, B, H), h_n (B, H))``.

    ``bias`` is ``b_ih + b_hh`` or None.
    """
    T, B, _ = x.shape
    H = W_hh.shape[0]
    gx = _projection(W_ih, x, bias)
    hs = np.empty((T, H, B), dtype=x.dtype)
    h = np.ascontiguousarray(h0.T)
    relu = nonlinearity == "relu"
    for t in _steps(T, reverse):
        z = np.matmul(W_hh, h, out=hs[t])
        z += gx[:, t * B : (t + 1) * B]
        h = np.maximum(z, 0, out=z) if relu else np.tanh(z, out=z)
    return _finish(hs), h.T


def lstm_sequence(W_ih, W_hh, bias, x, h0, c0, reverse):
    """LSTM over a sequence -> ``(out (T, B, H), h_n (B, H), c_n (B, H))``; ``bias = b_ih + b_hh`` or None."""
    T, B, _ = x.shape
    H = W_hh.shape[1]
    # internal gate order i, f, o, g: the three sigmoid gates form one contiguous block of rows
    order = np.r_[0 : 2 * H, 3 * H : 4 * H, 2 * H : 3 * H]
    W_s = W_hh[order]
    W_s[: 3 * H] *= 0.5
    gx = _projection(W_ih[order], x, None if bias is None else bias[order])
    gx[: 3 * H] *= 0.5
    hs = np.empty((T, H, B), dtype=x.dtype)
    h = np.ascontiguousarray(h0.T)
    c = np.ascontiguousarray(c0.T)  # a fresh copy: updated in place below
    G = np.empty((4 * H, B), dtype=x.dtype)
    tmp = np.empty((H, B), dtype=x.dtype)
    sig, i, f, o, g = G[: 3 * H], G[:H], G[H : 2 * H], G[2 * H : 3 * H], G[3 * H :]
    for t in _steps(T, reverse):
        np.matmul(W_s, h, out=G)
        G += gx[:, t * B : (t + 1) * B]
        np.tanh(G, out=G)
        sig *= 0.5
        sig += 0.5
        c *= f
        np.multiply(i, g, out=tmp)
        c += tmp
        h = np.tanh(c, out=hs[t])
        h *= o
    return _finish(hs), h.T, c.T


def gru_sequence(W_ih, W_hh, b_ih, b_hh, x, h0, reverse):
    """GRU over a sequence -> ``(out (T, B, H), h_n (B, H))``; biases may be None."""
    T, B, _ = x.shape
    H = W_hh.shape[1]
    W_s = W_hh.copy()
    W_s[: 2 * H] *= 0.5
    bias = None
    if b_ih is not None:
        bias = b_ih.copy()
        bias[: 2 * H] += b_hh[: 2 * H]
    gx = _projection(W_ih, x, bias)
    gx[: 2 * H] *= 0.5
    b_hn = None if b_hh is None else b_hh[2 * H :, None]
    hs = np.empty((T, H, B), dtype=x.dtype)
    h = np.ascontiguousarray(h0.T)
    G = np.empty((3 * H, B), dtype=x.dtype)
    tmp = np.empty((H, B), dtype=x.dtype)
    rz, r, z, n = G[: 2 * H], G[:H], G[H : 2 * H], G[2 * H :]
    for t in _steps(T, reverse):
        cols = slice(t * B, (t + 1) * B)
        np.matmul(W_s, h, out=G)
        rz += gx[: 2 * H, cols]
        np.tanh(rz, out=rz)
        rz *= 0.5
        rz += 0.5
        if b_hn is not None:
            n += b_hn
        n *= r  # the reset gate acts after the hidden matmul
        n += gx[2 * H :, cols]
        np.tanh(n, out=n)
        np.subtract(h, n, out=tmp)
        tmp *= z
        h = np.add(n, tmp, out=hs[t])
    return _finish(hs), h.T
