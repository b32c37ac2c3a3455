r"""Optimizers (SGD with momentum, RMSprop, Adam) and gradient clipping by norm, on named arrays.

An optimizer holds a mapping ``name -> array`` (e.g. :attr:`SequenceModel.params`, whose cell
entries are the cell's live parameters) and updates the arrays *in place*, so an analog twin of the
cell reprograms the touched crossbars at its next call. The update rules are PyTorch's
(``torch.optim.SGD``, ``RMSprop``, ``Adam``); the tests compare them step by step. A gradient with a
NaN or inf is refused with :class:`~neurosim.train.losses.TrainingError` before any weight changes.
"""

from __future__ import annotations

import math

import numpy as np

from neurosim.errors import ParameterError
from neurosim.train.losses import TrainingError

__all__ = ["SGD", "RMSprop", "Adam", "clip_grad_norm", "check_finite"]


def check_finite(grads: dict) -> None:
    """Raise :class:`TrainingError` naming the first gradient with a NaN or inf."""
    for k, g in grads.items():
        if not np.all(np.isfinite(g)):
            raise TrainingError(f"train: gradient of {k!r} has {int(np.size(g) - np.isfinite(g).sum())} NaN or inf "
                                "value(s); the weights were not changed (lower the learning rate or clip the gradient)")


def clip_grad_norm(grads: dict, max_norm: float) -> float:
    r"""Scale all gradients in place so that their joint 2-norm is at most ``max_norm`` (PyTorch's rule).

    .. math:: g \leftarrow g \cdot \min\Big(1, \frac{\text{max\_norm}}{\lVert g \rVert_2 + 10^{-6}}\Big)

    Returns
    -------
    float
        The norm before clipping.

    Examples
    --------
    >>> import numpy as np
    >>> g = {"w": np.array([3.0, 4.0])}
    >>> clip_grad_norm(g, 1.0), g["w"].round(6).tolist()
    (5.0, [0.6, 0.8])
    """
    if not (isinstance(max_norm, (int, float)) and max_norm > 0):
        raise ParameterError(f"clip_grad_norm: max_norm must be a number > 0, got {max_norm!r}")
    check_finite(grads)
    total = math.sqrt(sum(float(np.sum(np.asarray(g, dtype=np.float64) ** 2)) for g in grads.values()))
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for g in grads.values():
            g *= g.dtype.type(coef)
    return total


def _positive(owner, name, v):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
        raise ParameterError(f"{owner}: {name} must be a finite number > 0, got {v!r}")
    return float(v)


def _unit(owner, name, v, closed_low=True):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not (0 <= v < 1):
        raise ParameterError(f"{owner}: {name} must be a number in [0, 1), got {v!r}")
    return float(v)


class _Optimizer:
    def __init__(self, params: dict):
        if not hasattr(params, "items"):
            raise ParameterError(f"{type(self).__name__}: params must be a mapping of names to arrays, got {type(params).__name__}")
        self.params = params
        self.state: dict[str, dict[str, np.ndarray]] = {}
        self.steps = 0

    def step(self, grads: dict) -> None:
        """Apply one update with ``grads`` (``name -> array``; names without a gradient are left)."""
        check_finite(grads)
        self.steps += 1
        for k, p in self.params.items():
            g = grads.get(k)
            if g is not None:
                self._update(k, p, np.asarray(g, dtype=p.dtype))

    def state_dict(self) -> dict[str, np.ndarray]:
        """Flat arrays for an ``.npz`` checkpoint (``"<buffer>/<param>"`` keys plus ``"steps"``)."""
        out = {"steps": np.array(self.steps)}
        for k, bufs in self.state.items():
            for b, v in bufs.items():
                out[f"{b}/{k}"] = v
        return out

    def load_state_dict(self, d: dict) -> None:
        """Restore from :meth:`state_dict`."""
        self.steps = int(d["steps"])
        self.state = {}
        for key, v in d.items():
            if key == "steps":
                continue
            b, k = key.split("/", 1)
            self.state.setdefault(k, {})[b] = np.array(v)

    def _buf(self, k, name, like):
        bufs = self.state.setdefault(k, {})
        if name not in bufs:
            bufs[name] = np.zeros_like(like)
        return bufs[name]


class SGD(_Optimizer):
    r"""Stochastic gradient descent with momentum (PyTorch's ``SGD``).

    .. math:: b \leftarrow \mu b + g \ (b = g \text{ at the first step}), \qquad
        \theta \leftarrow \theta - \eta\, (g + \mu b \text{ if Nesterov else } b)

    Parameters
    ----------
    params : mapping of str to ndarray
    lr : float > 0
    momentum : float in [0, 1)
    nesterov : bool
    weight_decay : float >= 0
        Added to the gradient as ``weight_decay * theta``.

    Examples
    --------
    >>> import numpy as np
    >>> p = {"w": np.array([1.0])}
    >>> SGD(p, lr=0.1).step({"w": np.array([2.0])}); p["w"]
    array([0.8])
    """

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0):
        super().__init__(params)
        self.lr = _positive("SGD", "lr", lr)
        self.momentum = _unit("SGD", "momentum", momentum)
        self.nesterov = bool(nesterov)
        self.weight_decay = float(weight_decay)

    def _update(self, k, p, g):
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.momentum:
            bufs = self.state.setdefault(k, {})
            if "momentum" not in bufs:
                bufs["momentum"] = g.copy()
            else:
                bufs["momentum"] *= p.dtype.type(self.momentum)
                bufs["momentum"] += g
            b = bufs["momentum"]
            g = g + self.momentum * b if self.nesterov else b
        p -= p.dtype.type(self.lr) * g


class RMSprop(_Optimizer):
    r"""RMSprop (PyTorch's rule, ``eps`` outside the square root).

    .. math:: v \leftarrow \alpha v + (1 - \alpha) g^2, \qquad
        \theta \leftarrow \theta - \eta\, \frac{g}{\sqrt{v} + \epsilon}

    Parameters
    ----------
    params : mapping of str to ndarray
    lr : float > 0
    alpha : float in [0, 1)
    eps : float > 0

    Examples
    --------
    >>> import numpy as np
    >>> p = {"w": np.array([1.0])}
    >>> RMSprop(p, lr=0.01, alpha=0.0, eps=1e-12).step({"w": np.array([5.0])}); p["w"]
    array([0.99])
    """

    def __init__(self, params, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8):
        super().__init__(params)
        self.lr = _positive("RMSprop", "lr", lr)
        self.alpha = _unit("RMSprop", "alpha", alpha)
        self.eps = _positive("RMSprop", "eps", eps)

    def _update(self, k, p, g):
        v = self._buf(k, "square_avg", p)
        v *= p.dtype.type(self.alpha)
        v += p.dtype.type(1 - self.alpha) * g * g
        p -= p.dtype.type(self.lr) * g / (np.sqrt(v) + p.dtype.type(self.eps))


class Adam(_Optimizer):
    r"""Adam (Kingma & Ba 2015; PyTorch's ``Adam``).

    .. math::
        m \leftarrow \beta_1 m + (1 - \beta_1) g, \quad v \leftarrow \beta_2 v + (1 - \beta_2) g^2, \quad
        \theta \leftarrow \theta - \frac{\eta}{1 - \beta_1^k} \frac{m}{\sqrt{v / (1 - \beta_2^k)} + \epsilon}

    Parameters
    ----------
    params : mapping of str to ndarray
    lr : float > 0
    betas : (float, float) in [0, 1)
    eps : float > 0

    Examples
    --------
    >>> import numpy as np
    >>> p = {"w": np.array([1.0])}
    >>> Adam(p, lr=0.1).step({"w": np.array([3.0])}); p["w"].round(6)
    array([0.9])
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8):
        super().__init__(params)
        self.lr = _positive("Adam", "lr", lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ParameterError(f"Adam: betas must be a pair of numbers in [0, 1), got {betas!r}")
        self.betas = (_unit("Adam", "betas[0]", betas[0]), _unit("Adam", "betas[1]", betas[1]))
        self.eps = _positive("Adam", "eps", eps)

    def _update(self, k, p, g):
        b1, b2 = self.betas
        m = self._buf(k, "exp_avg", p)
        v = self._buf(k, "exp_avg_sq", p)
        t = p.dtype.type
        m *= t(b1)
        m += t(1 - b1) * g
        v *= t(b2)
        v += t(1 - b2) * g * g
        bc1 = 1 - b1 ** self.steps
        bc2 = 1 - b2 ** self.steps
        denom = np.sqrt(v) / t(math.sqrt(bc2)) + t(self.eps)
        p -= t(self.lr / bc1) * m / denom
