r"""Connectionist temporal classification (Graves et al. 2006): loss, gradient and decoding.

The loss of a target :math:`l` (length :math:`S`) under per-step class probabilities
:math:`y_t = \mathrm{softmax}(u_t)` sums over every alignment :math:`\pi` of length :math:`T` that
collapses to :math:`l` (merge repeats, then drop blanks), computed by the forward-backward recursion
over the extended label :math:`l'` (blanks between and around the labels, length :math:`2S + 1`) in
log space:

.. math::
    \alpha_t(s) = \Big(\alpha_{t-1}(s) \oplus \alpha_{t-1}(s-1) \oplus
        [l'_s \ne b \wedge l'_s \ne l'_{s-2}]\,\alpha_{t-1}(s-2)\Big) + \log y_t(l'_s), \qquad
    -\log p(l \mid x) = -\big(\alpha_{T-1}(2S) \oplus \alpha_{T-1}(2S-1)\big)

with :math:`\oplus` the log-sum-exp, :math:`\beta` the mirror recursion, and the gradient with
respect to the unnormalised scores

.. math:: \frac{\partial(-\log p)}{\partial u_t(k)} = y_t(k) - \frac{1}{p(l\mid x)\, y_t(k)}
    \sum_{s:\, l'_s = k} e^{\alpha_t(s) + \beta_t(s)}

Everything is vectorized over the batch and the extended label; the loop runs over time.
"""

from __future__ import annotations

import numpy as np

from neurosim.errors import ParameterError

__all__ = ["ctc_loss", "ctc_greedy_decode", "ctc_beam_search"]

_NEG = -np.inf


def _log_softmax(z):
    zs = z - z.max(axis=-1, keepdims=True)
    return zs - np.log(np.exp(zs).sum(axis=-1, keepdims=True))


def _lse(*arrs):
    m = np.maximum.reduce(arrs)
    safe = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return safe + np.log(sum(np.exp(a - safe) for a in arrs))


def _check(logits, targets, input_lengths, target_lengths, blank):
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 3:
        raise ParameterError(f"ctc_loss: logits must have shape (time, batch, classes), got {z.shape}")
    T, B, C = z.shape
    if isinstance(blank, bool) or not isinstance(blank, (int, np.integer)) or not 0 <= blank < C:
        raise ParameterError(f"ctc_loss: blank must be an integer in [0, {C - 1}], got {blank!r}")
    il = np.full(B, T) if input_lengths is None else np.asarray(input_lengths)
    if il.shape != (B,) or il.dtype.kind not in "iu" or il.min() < 1 or il.max() > T:
        raise ParameterError(f"ctc_loss: input_lengths must be {B} integers in [1, {T}], got {input_lengths!r}")
    tg = np.asarray(targets)
    if tg.ndim != 2 or tg.shape[0] != B or (tg.size and tg.dtype.kind not in "iu"):
        raise ParameterError(f"ctc_loss: targets must be integer labels of shape (batch, max_target_length), got {tg.shape}")
    S = tg.shape[1]
    tl = np.full(B, S) if target_lengths is None else np.asarray(target_lengths)
    if tl.shape != (B,) or tl.dtype.kind not in "iu" or (B and (tl.min() < 0 or tl.max() > S)):
        raise ParameterError(f"ctc_loss: target_lengths must be {B} integers in [0, {S}], got {target_lengths!r}")
    tg = tg.astype(np.int64)
    valid = np.arange(S)[None, :] < tl[:, None]
    if np.any(valid & ((tg < 0) | (tg >= C) | (tg == blank))):
        raise ParameterError(f"ctc_loss: target labels must be in [0, {C - 1}] and differ from blank={blank}")
    repeats = (valid[:, 1:] & (tg[:, 1:] == tg[:, :-1])).sum(axis=1) if S > 1 else np.zeros(B, int)
    need = tl + repeats
    bad = np.flatnonzero(need > il)
    if bad.size:
        b = int(bad[0])
        raise ParameterError(
            f"ctc_loss: target {b} needs at least {int(need[b])} input steps ({int(tl[b])} labels + {int(repeats[b])} "
            f"blanks between repeated labels), got input_length {int(il[b])}")
    return z, tg, il.astype(np.int64), tl.astype(np.int64), blank


def ctc_loss(logits, targets, input_lengths=None, target_lengths=None, blank: int = 0, reduction: str = "mean"):
    r"""CTC loss and its gradient with respect to the unnormalised scores (see the module docstring).

    Parameters
    ----------
    logits : ndarray, shape (time, batch, classes)
        Unnormalised scores :math:`u_t` (the loss applies the log-softmax); float64 internally.
    targets : ndarray of int, shape (batch, max_target_length)
        Label sequences, padded; the blank never occurs in a target.
    input_lengths, target_lengths : ndarray of int, shape (batch,), optional
        Valid steps of each input (default all) and labels of each target (default all; 0 = empty).
    blank : int
        Index of the blank class.
    reduction : {"mean", "sum", "none"}
        ``"mean"`` as ``torch.nn.CTCLoss``: each loss divided by its target length (at least 1),
        then averaged over the batch.

    Returns
    -------
    loss : float or ndarray of shape (batch,)
    d_logits : ndarray, shape of ``logits`` (zero beyond each input length)

    Raises
    ------
    ParameterError
        Bad shapes or labels, or a target longer than its input allows (labels plus one blank between
        each pair of repeated labels).

    Examples
    --------
    >>> import numpy as np
    >>> loss, d = ctc_loss(np.zeros((2, 1, 2)), np.array([[1]]), reduction="sum")
    >>> round(float(np.exp(-loss)), 6)  # alignments (1,1), (0,1), (1,0): 3 of 4 equally likely paths
    0.75
    """
    if reduction not in ("mean", "sum", "none"):
        raise ParameterError(f"ctc_loss: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    z, tg, il, tl, blank = _check(logits, targets, input_lengths, target_lengths, blank)
    T, B, C = z.shape
    S = tg.shape[1]
    L = 2 * S + 1
    lp = _log_softmax(z)
    ext = np.full((B, L), blank, dtype=np.int64)
    ext[:, 1::2] = tg
    Lb = 2 * tl + 1
    s_idx = np.arange(L)
    in_label = s_idx[None, :] < Lb[:, None]
    skip = np.zeros((B, L), dtype=bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    bidx = np.arange(B)[:, None]
    emit = lp[:, bidx, ext]  # (T, B, L): log y_t(l'_s)
    alpha = np.full((T, B, L), _NEG)
    alpha[0, :, 0] = emit[0, :, 0]
    alpha[0, :, 1] = np.where(tl > 0, emit[0, :, 1], _NEG) if L > 1 else alpha[0, :, 0]
    alpha[0][~in_label] = _NEG
    for t in range(1, T):
        prev = alpha[t - 1]
        a1 = np.concatenate([np.full((B, 1), _NEG), prev[:, :-1]], axis=1)
        a2 = np.concatenate([np.full((B, 2), _NEG), prev[:, :-2]], axis=1)[:, :L]
        a2 = np.where(skip, a2, _NEG)
        alpha[t] = _lse(prev, a1, a2) + emit[t]
        alpha[t][~in_label] = _NEG
    last = alpha[il - 1, np.arange(B)]  # (B, L)
    end1 = last[np.arange(B), 2 * tl]
    end2 = np.where(tl > 0, last[np.arange(B), np.maximum(2 * tl - 1, 0)], _NEG)
    logp = _lse(end1, end2)
    nll = -logp
    beta = np.full((T, B, L), _NEG)
    for t in range(T - 1, -1, -1):
        if t < T - 1:
            nxt = beta[t + 1]
            b1 = np.concatenate([nxt[:, 1:], np.full((B, 1), _NEG)], axis=1)
            b2 = np.concatenate([nxt[:, 2:], np.full((B, 2), _NEG)], axis=1)[:, :L]
            skip2 = np.concatenate([skip[:, 2:], np.zeros((B, 2), bool)], axis=1)[:, :L]
            bt = _lse(nxt, b1, np.where(skip2, b2, _NEG)) + emit[t]
        else:
            bt = np.full((B, L), _NEG)
        start = il - 1 == t
        if start.any():
            init = np.full((B, L), _NEG)
            init[np.arange(B), 2 * tl] = emit[t, np.arange(B), 2 * tl]
            j = np.maximum(2 * tl - 1, 0)
            init[np.arange(B), j] = np.where(tl > 0, emit[t, np.arange(B), j], init[np.arange(B), j])
            bt = np.where(start[:, None], init, bt)
        bt[t >= il] = _NEG
        bt[~in_label] = _NEG
        beta[t] = bt
    ab = alpha + beta  # (T, B, L)
    m = ab.max(axis=2, keepdims=True)
    msafe = np.where(np.isfinite(m), m, 0.0)
    onehot = np.zeros((B, L, C))
    onehot[np.arange(B)[:, None], s_idx[None, :], ext] = 1.0
    onehot[~in_label] = 0.0
    cls = np.einsum("tbs,bsc->tbc", np.exp(ab - msafe), onehot)
    with np.errstate(divide="ignore"):
        log_cls = np.log(cls) + msafe
    post = np.exp(log_cls - lp + nll[None, :, None])  # sum_s alpha beta / (p y_t(k))
    grad = np.exp(lp) - post
    grad[np.arange(T)[:, None] >= il[None, :]] = 0.0
    if reduction == "none":
        return nll, grad
    if reduction == "sum":
        return float(nll.sum()), grad
    w = 1.0 / (np.maximum(tl, 1) * B)
    return float((nll * w * B).mean()), grad * w[None, :, None]


def ctc_greedy_decode(logits, input_lengths=None, blank: int = 0) -> list[list[int]]:
    """Best-path decoding: the most likely class at every step, repeats merged, blanks removed.

    Parameters
    ----------
    logits : ndarray, shape (time, batch, classes)
    input_lengths : ndarray of int, optional
    blank : int

    Returns
    -------
    list of list of int
        One label sequence per batch entry.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.log(np.array([[.1, .9], [.1, .9], [.9, .1], [.1, .9]]))[:, None, :]
    >>> ctc_greedy_decode(z)
    [[1, 1]]
    """
    z = np.asarray(logits)
    T, B, _ = z.shape
    il = np.full(B, T) if input_lengths is None else np.asarray(input_lengths)
    best = z.argmax(axis=-1)
    out = []
    for b in range(B):
        path = best[: il[b], b]
        keep = np.r_[True, path[1:] != path[:-1]] & (path != blank)
        out.append(path[keep].tolist())
    return out


def ctc_beam_search(logits, width: int = 8, input_lengths=None, blank: int = 0, merge: str = "sum"):
    r"""CTC prefix beam search.

    Each hypothesis is a label prefix with two scores, ending in a blank and ending in a label;
    ``merge="sum"`` adds the probabilities of the alignments of a prefix (the usual prefix search,
    which finds the most probable *labelling* when the beam is wide enough), ``merge="max"`` keeps
    the best alignment only (with ``width=1`` this is exactly :func:`ctc_greedy_decode`).

    .. math:: p(\ell{+}c) \mathrel{+}= p(\ell)\, y_t(c), \qquad p(\ell) \leftarrow
        p(\ell)\, y_t(b) + p_{nb}(\ell)\, y_t(\ell_{-1})

    Parameters
    ----------
    logits : ndarray, shape (time, batch, classes)
    width : int >= 1
    input_lengths : ndarray of int, optional
    blank : int
    merge : {"sum", "max"}

    Returns
    -------
    list of list of int

    Examples
    --------
    >>> import numpy as np
    >>> z = np.log(np.array([[.1, .9], [.1, .9], [.9, .1], [.1, .9]]))[:, None, :]
    >>> ctc_beam_search(z, width=4)
    [[1, 1]]
    """
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 1:
        raise ParameterError(f"ctc_beam_search: width must be an integer >= 1, got {width!r}")
    if merge not in ("sum", "max"):
        raise ParameterError(f"ctc_beam_search: merge must be 'sum' or 'max', got {merge!r}")
    lp = _log_softmax(np.asarray(logits, dtype=np.float64))
    T, B, C = lp.shape
    il = np.full(B, T) if input_lengths is None else np.asarray(input_lengths)
    comb = np.logaddexp if merge == "sum" else np.maximum
    out = []
    for b in range(B):
        beams = {(): (0.0, _NEG)}  # prefix -> (log p ending in blank, log p ending in label)
        for t in range(il[b]):
            y = lp[t, b]
            nxt: dict = {}

            def add(prefix, pb, pnb):
                ob, onb = nxt.get(prefix, (_NEG, _NEG))
                nxt[prefix] = (comb(ob, pb), comb(onb, pnb))

            for prefix, (pb, pnb) in beams.items():
                tot = comb(pb, pnb)
                add(prefix, tot + y[blank], _NEG)
                if prefix:
                    add(prefix, _NEG, pnb + y[prefix[-1]])
                for c in range(C):
                    if c == blank:
                        continue
                    if prefix and c == prefix[-1]:
                        add(prefix + (c,), _NEG, pb + y[c])
                    else:
                        add(prefix + (c,), _NEG, tot + y[c])
            ranked = sorted(nxt.items(), key=lambda kv: -comb(*kv[1]))
            beams = dict(ranked[:width])
        best = max(beams.items(), key=lambda kv: comb(*kv[1]))[0]
        out.append(list(best))
    return out
