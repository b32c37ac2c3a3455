"""Task metrics: RMSE, NRMSE (normalised by the target's standard deviation) and accuracy."""

from __future__ import annotations

import numpy as np

from neurosim.errors import ParameterError
from neurosim.params import check_array

__all__ = ["rmse", "nrmse", "accuracy"]


def _pair(owner: str, prediction, target, mask):
    pred = check_array(owner, "prediction", prediction)
    targ = check_array(owner, "target", target)
    if pred.shape != targ.shape:
        raise ParameterError(f"{owner}: prediction and target must have the same shape, got {pred.shape} and {targ.shape}")
    if mask is None:
        return pred, targ
    m = np.asarray(mask, dtype=bool)
    # a (time, batch) mask selects whole feature rows of (time, batch, features) arrays
    if m.shape != pred.shape[: m.ndim]:
        raise ParameterError(f"{owner}: mask must have shape {pred.shape[: m.ndim]} (leading axes of prediction), got {m.shape}")
    if not m.any():
        raise ParameterError(f"{owner}: mask selects no element")
    return pred[m], targ[m]


def rmse(prediction, target, mask=None) -> float:
    r"""Root-mean-square error over all (masked) elements.

    .. math::

        \mathrm{RMSE} = \sqrt{\tfrac{1}{N}\textstyle\sum_i (\hat y_i - y_i)^2}

    Parameters
    ----------
    prediction, target : array_like, same shape
        Predicted and true values.
    mask : array_like of bool, optional
        Selects the scored elements; its shape is the leading axes of ``prediction``
        (e.g. (time, batch) for (time, batch, features) arrays).

    Returns
    -------
    float

    Raises
    ------
    ParameterError
        Shapes differ, non-finite values, or an empty mask.

    Examples
    --------
    >>> rmse([1.0, 2.0], [1.0, 4.0])
    1.4142135623730951
    """
    p, t = _pair("rmse", prediction, target, mask)
    return float(np.sqrt(np.mean((p - t) ** 2)))


def nrmse(prediction, target, mask=None) -> float:
    r"""Normalised RMSE: the RMSE divided by the standard deviation of the target.

    .. math::

        \mathrm{NRMSE} = \frac{\mathrm{RMSE}(\hat y, y)}{\operatorname{std}(y)},
        \qquad \operatorname{std}(y) = \sqrt{\tfrac{1}{N}\textstyle\sum_i (y_i - \bar y)^2}

    (population standard deviation over the scored elements). NRMSE = 1 is the score of always
    predicting the target's mean; 0 is perfect.

    Parameters
    ----------
    prediction, target : array_like, same shape
        Predicted and true values.
    mask : array_like of bool, optional
        Selects the scored elements (leading axes of ``prediction``).

    Returns
    -------
    float

    Raises
    ------
    ParameterError
        Shapes differ, non-finite values, an empty mask, or a constant target (std = 0).

    Examples
    --------
    >>> nrmse([2.0, 2.0], [1.0, 3.0])  # predicting the mean
    1.0
    """
    p, t = _pair("nrmse", prediction, target, mask)
    std = float(np.std(t))
    if std == 0.0:
        raise ParameterError("nrmse: target must not be constant (its standard deviation is 0)")
    return float(np.sqrt(np.mean((p - t) ** 2))) / std


def accuracy(prediction, target, mask=None) -> float:
    r"""Fraction of correct class decisions; the class is the argmax over the last axis.

    .. math::

        \mathrm{acc} = \tfrac{1}{N}\textstyle\sum_i [\arg\max_k \hat y_{ik} = \arg\max_k y_{ik}]

    Parameters
    ----------
    prediction : array_like, shape (..., n_classes)
        Scores, logits or one-hot rows.
    target : array_like, shape (..., n_classes) or (...)
        One-hot rows, or integer labels of the leading shape.
    mask : array_like of bool, optional
        Selects the scored decisions (shape of the leading axes).

    Returns
    -------
    float in [0, 1]

    Raises
    ------
    ParameterError
        Shapes that do not match, non-finite values, or an empty mask.

    Examples
    --------
    >>> accuracy([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]], [0, 1, 1])
    0.6666666666666666
    """
    pred = check_array("accuracy", "prediction", prediction, ndim=tuple(range(1, 8)))
    targ = np.asarray(target)
    if targ.shape == pred.shape:
        labels = np.argmax(check_array("accuracy", "target", targ), axis=-1)
    elif targ.shape == pred.shape[:-1] and targ.dtype.kind in "iub":
        labels = targ
    else:
        raise ParameterError(
            f"accuracy: target must have shape {pred.shape} (one-hot) or {pred.shape[:-1]} (integer labels), got {targ.shape}"
        )
    hit = np.argmax(pred, axis=-1) == labels
    if mask is not None:
        m = np.asarray(mask, dtype=bool)
        if m.shape != hit.shape:
            raise ParameterError(f"accuracy: mask must have shape {hit.shape}, got {m.shape}")
        if not m.any():
            raise ParameterError("accuracy: mask selects no element")
        hit = hit[m]
    return float(np.mean(hit))
