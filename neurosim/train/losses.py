r"""Losses with their gradients: mean-squared error and cross-entropy, on every step or on the last.

Both return ``(loss, d_prediction)``; the mean runs over the scored entries (``mask``), as
``torch.nn.MSELoss`` / ``torch.nn.CrossEntropyLoss`` with ``reduction="mean"`` over those entries.
"""

from __future__ import annotations

import numpy as np

from neurosim.errors import NeurosimError, ParameterError

__all__ = ["mse_loss", "cross_entropy_loss", "TrainingError", "LOSSES"]


class TrainingError(NeurosimError, ArithmeticError):
    """Training produced a non-finite loss or gradient (it is refused before any weight changes)."""


def _mask(owner, pred, mask, last):
    T, B = pred.shape[:2]
    if mask is None:
        mask = np.ones((T, B), dtype=bool)
    else:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != (T, B):
            raise ParameterError(f"{owner}: mask must have shape (time, batch) = {(T, B)}, got {mask.shape}")
    if last:
        m = np.zeros_like(mask)
        m[-1] = True
        mask = m & mask if mask is not None else m
    n = int(mask.sum())
    if n == 0:
        raise ParameterError(f"{owner}: mask must score at least one step, got none")
    return mask, n


def mse_loss(pred, target, mask=None, last: bool = False):
    r"""Mean-squared error over the scored steps and every feature, and its gradient.

    .. math:: L = \frac{1}{N F} \sum_{(t,b) \in \mathcal{M}} \sum_f (\hat y_{tbf} - y_{tbf})^2,
        \qquad \frac{\partial L}{\partial \hat y} = \frac{2}{N F} (\hat y - y) [\,(t,b) \in \mathcal{M}\,]

    Parameters
    ----------
    pred, target : ndarray, shape (time, batch, features)
    mask : ndarray of bool, shape (time, batch), optional
        Scored steps (default all).
    last : bool
        Score only the last step (combined with ``mask``).

    Returns
    -------
    loss : float
    d_pred : ndarray, shape and dtype of ``pred``

    Raises
    ------
    ParameterError
        Mismatched shapes, or nothing scored.

    Examples
    --------
    >>> import numpy as np
    >>> loss, d = mse_loss(np.array([[[1.0]], [[3.0]]]), np.zeros((2, 1, 1)), last=True)
    >>> loss, d.ravel().tolist()
    (9.0, [0.0, 6.0])
    """
    pred = np.asarray(pred)
    target = np.asarray(target)
    if pred.ndim != 3 or target.shape != pred.shape:
        raise ParameterError(
            f"mse_loss: prediction and target must have the same shape (time, batch, features), got {pred.shape} and {target.shape}")
    mask, n = _mask("mse_loss", pred, mask, last)
    diff = (pred - target.astype(pred.dtype, copy=False)) * mask[..., None]
    N = n * pred.shape[-1]
    loss = float(np.sum(diff.astype(np.float64) ** 2) / N)
    return loss, (diff * (2.0 / N)).astype(pred.dtype, copy=False)


def cross_entropy_loss(logits, target, mask=None, last: bool = False):
    r"""Softmax cross-entropy over the scored steps, and its gradient.

    .. math:: L = -\frac{1}{N} \sum_{(t,b) \in \mathcal{M}} \sum_c p_{tbc} \log \mathrm{softmax}(z_{tb})_c,
        \qquad \frac{\partial L}{\partial z} = \frac{1}{N} (\mathrm{softmax}(z) - p)

    Parameters
    ----------
    logits : ndarray, shape (time, batch, classes)
    target : ndarray
        Integer labels ``(time, batch)`` or class probabilities / one-hot rows ``(time, batch, classes)``.
    mask : ndarray of bool, shape (time, batch), optional
    last : bool
        Score only the last step.

    Returns
    -------
    loss : float
    d_logits : ndarray

    Raises
    ------
    ParameterError
        Mismatched shapes, labels out of range, nothing scored.

    Examples
    --------
    >>> import numpy as np
    >>> loss, d = cross_entropy_loss(np.zeros((1, 1, 2)), np.array([[1]]))
    >>> round(loss, 6), d.ravel().tolist()
    (0.693147, [0.5, -0.5])
    """
    z = np.asarray(logits)
    if z.ndim != 3:
        raise ParameterError(f"cross_entropy_loss: logits must have shape (time, batch, classes), got {z.shape}")
    target = np.asarray(target)
    C = z.shape[-1]
    if target.shape == z.shape[:2] and target.dtype.kind in "iu":
        if target.size and (target.min() < 0 or target.max() >= C):
            raise ParameterError(f"cross_entropy_loss: labels must be in [0, {C - 1}], got {target.min()}..{target.max()}")
        p = np.zeros(z.shape, dtype=z.dtype)
        np.put_along_axis(p, target[..., None], 1.0, axis=-1)
    elif target.shape == z.shape:
        p = target.astype(z.dtype, copy=False)
    else:
        raise ParameterError(
            f"cross_entropy_loss: target must be integer labels of shape {z.shape[:2]} or probabilities of shape "
            f"{z.shape}, got {target.shape} ({target.dtype.name})")
    mask, n = _mask("cross_entropy_loss", z, mask, last)
    zs = z - z.max(axis=-1, keepdims=True)
    logsm = zs - np.log(np.exp(zs).sum(axis=-1, keepdims=True))
    loss = float(-(p * logsm * mask[..., None]).sum(dtype=np.float64) / n)
    d = (np.exp(logsm) - p) * (mask[..., None] / n)
    return loss, d.astype(z.dtype, copy=False)


LOSSES = {"mse": mse_loss, "cross_entropy": cross_entropy_loss}
