r"""The arithmetic every cell is executed with: matrix products and activation functions.

A cell never calls ``np.matmul`` or ``np.tanh`` on its parameters directly. It calls the three hooks
of an *ops* object, which by default is the cell itself (whose methods delegate to
:data:`DIGITAL`):

``matmul(name, W, X, out=None)``
    ``X @ W.T`` for a weight ``W`` of shape ``(out_features, in_features)`` and ``X`` of shape
    ``(..., in_features)``; every row of ``X`` is an independent vector (the cells pass all time steps
    of the input projection at once, ``(time, batch, in)``, and one step of the recurrent product,
    ``(batch, hidden)``). ``name`` is the parameter's ``state_dict`` key (``"weight_hh_l1_reverse"``)
    so an analog executor can look up the crossbar that holds ``W``. It may write into ``out`` and
    return it, or return a new array; the cells always use the returned array.
``scale(name, u, X, out=None)``
    ``u * X`` for an element-wise (diagonal) recurrent weight (IndRNN).
``bilinear(name, W, h, x, out=None)``
    :math:`\sum_{jk} W_{ijk} h_j x_k` for a 3-tensor ``W (out, n_h, n_x)`` (second-order cells): the
    state factor ``h`` and the input factor ``x`` arrive separately, so an analog executor can treat
    each as what it is (a stored state, an input) before forming their products.
``activation(kind, x, out=None)``
    ``kind`` is one of ``"sigmoid"``, ``"tanh"``, ``"relu"``, ``"identity"``; ``out`` may be ``x``
    (in place).
``begin(cell)`` (optional)
    Called by a cell at the start of every forward call and every ``step`` made from outside one,
    before any other hook (an analog executor reprograms crossbars whose weights changed; a training
    tape starts recording).

Examples
--------
>>> import numpy as np
>>> from neurosim.cells.ops import DIGITAL
>>> DIGITAL.matmul("w", np.eye(2), np.array([[1.0, 2.0]]))
array([[1., 2.]])
>>> DIGITAL.activation("sigmoid", np.array([0.0]))
array([0.5])
"""

from __future__ import annotations

import numpy as np

from neurosim.errors import ParameterError

__all__ = ["ACTIVATIONS", "DigitalOps", "DIGITAL", "activation", "sigmoid"]

ACTIVATIONS = ("tanh", "sigmoid", "relu", "identity")


def sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Logistic function, computed as a scaled tanh (one transcendental call, no overflow).

    .. math:: \\sigma(x) = \\frac{1}{1 + e^{-x}} = \\tfrac12 \\tanh(\\tfrac12 x) + \\tfrac12

    The tanh form is about twice as fast as ``scipy.special.expit`` on the gate blocks of a step and
    agrees with it to a few units in the last place.

    Parameters
    ----------
    x : ndarray
        Input (any shape, float32 or float64).
    out : ndarray, optional
        Output array (may be ``x``).

    Returns
    -------
    ndarray
        ``sigma(x)``, same shape and dtype as ``x``.

    Examples
    --------
    >>> sigmoid(np.array([0.0, 100.0, -100.0]))
    array([0.5, 1. , 0. ])
    """
    out = np.multiply(x, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def _tanh(x, out=None):
    return np.tanh(x, out=out)


def _relu(x, out=None):
    return np.maximum(x, 0, out=out)


def _identity(x, out=None):
    if out is None:
        return x.copy()
    if out is not x:
        out[...] = x
    return out


_FUNCS = {"tanh": _tanh, "sigmoid": sigmoid, "relu": _relu, "identity": _identity}


def activation(kind: str, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Apply the named activation function (``out`` may be ``x``).

    .. math::
        \\tanh(x), \\quad \\sigma(x) = 1/(1+e^{-x}), \\quad \\max(x, 0), \\quad x

    Parameters
    ----------
    kind : {"tanh", "sigmoid", "relu", "identity"}
        The function.
    x : ndarray
        Input.
    out : ndarray, optional
        Output array.

    Returns
    -------
    ndarray

    Raises
    ------
    ParameterError
        Unknown ``kind``.

    Examples
    --------
    >>> activation("relu", np.array([-1.0, 2.0]))
    array([0., 2.])
    """
    try:
        fn = _FUNCS[kind]
    except (KeyError, TypeError):
        raise ParameterError(f"activation: kind must be one of {', '.join(map(repr, ACTIVATIONS))}, got {kind!r}")
    return fn(x, out)


class DigitalOps:
    """Exact digital arithmetic: the default provider of the cells' hooks.

    Subclass (or write any object with the same methods) to execute the cells' equations with
    other arithmetic, e.g. crossbar reads (:mod:`neurosim.analog`).

    Examples
    --------
    >>> ops = DigitalOps()
    >>> ops.scale("u", np.array([2.0]), np.array([[3.0]]))
    array([[6.]])
    """

    def matmul(self, name: str, W: np.ndarray, X: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``X @ W.T`` with all leading dimensions of ``X`` folded into one GEMM.

        Parameters
        ----------
        name : str
            ``state_dict`` key of ``W`` (unused by the digital provider).
        W : ndarray, shape (out_features, in_features)
        X : ndarray, shape (..., in_features)
        out : ndarray, shape (..., out_features), optional

        Returns
        -------
        ndarray, shape (..., out_features)
        """
        if X.ndim > 2 and X.flags.c_contiguous and (out is None or out.flags.c_contiguous):
            # one (time*batch, in) GEMM instead of numpy's loop over the leading dimension
            Y = np.matmul(X.reshape(-1, X.shape[-1]), W.T, out=None if out is None else out.reshape(-1, W.shape[0]))
            return Y.reshape(X.shape[:-1] + (W.shape[0],)) if out is None else out
        return np.matmul(X, W.T, out=out)

    def scale(self, name: str, u: np.ndarray, X: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Element-wise product ``u * X`` (a diagonal recurrent weight).

        Parameters
        ----------
        name : str
            ``state_dict`` key of ``u``.
        u : ndarray, shape (features,)
        X : ndarray, shape (..., features)
        out : ndarray, optional

        Returns
        -------
        ndarray
        """
        return np.multiply(u, X, out=out)

    def bilinear(self, name: str, W: np.ndarray, h: np.ndarray, x: np.ndarray, out: np.ndarray | None = None):
        r"""The bilinear form :math:`z_i = \sum_{jk} W_{ijk} h_j x_k` for every row of ``h`` and ``x``.

        Computed as one GEMM of the flattened outer products :math:`h x^T` with ``W`` reshaped to
        ``(out, n_h * n_x)`` (no loop over i, j, k); the GEMM goes through :meth:`matmul`, so a
        subclass that only overrides ``matmul`` still sees every product.

        Parameters
        ----------
        name : str
            ``state_dict`` key of ``W``.
        W : ndarray, shape (out, n_h, n_x)
        h, x : ndarray, shapes (batch, n_h) and (batch, n_x)
        out : ndarray, shape (batch, out), optional

        Returns
        -------
        ndarray, shape (batch, out)
        """
        hx = h[:, :, None] * x[:, None, :]
        return self.matmul(name, W.reshape(W.shape[0], -1), hx.reshape(h.shape[0], -1), out=out)

    def activation(self, kind: str, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The named activation function, see :func:`activation`."""
        return activation(kind, x, out)

    def begin(self, cell) -> None:
        """Nothing to prepare for exact arithmetic."""

    def __reduce__(self):
        # the shared instance pickles by name, so an unpickled cell is recognised as plain digital
        return "DIGITAL" if type(self) is DigitalOps else super().__reduce__()


DIGITAL = DigitalOps()
