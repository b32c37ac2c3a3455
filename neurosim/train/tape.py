r"""A recording ops object (the *tape*): runs a cell's own step function and keeps what its
vector-Jacobian product needs.

Design
------
The cells compute every weight product and activation through the hooks of an ops object
(:mod:`neurosim.cells.ops`). :class:`Tape` is such an object: each hook delegates the arithmetic to a
*base* ops (exact digital :data:`~neurosim.cells.ops.DIGITAL`, or a crossbar backend for analog or
hardware-aware training) and appends a :class:`Record` with the operands and a copy of the result.
The element-wise glue of the step functions (bias additions, the LSTM cell update, the GRU
interpolation) is plain numpy and is *not* seen by the hooks; its adjoint is written once per cell
in :mod:`neurosim.train.adjoints`, which reads the records of one step in the order the step
function produced them and refuses a sequence it does not recognise (so a change of a step function
cannot silently desynchronise the gradient). The forward values therefore always come from the
cell's own equations and parameters (with whatever arithmetic the base ops implements), and the
adjoints are checked against finite differences and torch autograd in the tests.

Examples
--------
>>> import numpy as np
>>> from neurosim.cells import RNN
>>> rnn = RNN(2, 3, dtype=np.float64, seed=0)
>>> tape = Tape()
>>> _ = tape.start_step()
>>> h, _ = rnn.step(rnn.direction_params(0, 0), np.ones((1, 2)), rnn.initial_state(1), ops=tape)
>>> [r.op for r in tape.steps[0]]
['matmul', 'matmul', 'activation']
"""

from __future__ import annotations

import numpy as np

from neurosim.cells.ops import DIGITAL

__all__ = ["Tape", "Record", "activation_grad"]


class Record:
    """One hook call: ``op`` (``"matmul"``, ``"scale"``, ``"bilinear"``, ``"activation"``), ``name``
    (weight key or activation kind), the operands ``W`` and ``X`` (and ``x`` for bilinear) and a copy
    of the result ``y``."""

    __slots__ = ("op", "name", "W", "X", "x", "y")

    def __init__(self, op, name, W, X, y, x=None):
        self.op, self.name, self.W, self.X, self.y, self.x = op, name, W, X, y, x

    def __repr__(self) -> str:
        return f"Record({self.op!r}, {self.name!r})"


class Tape:
    """Ops object that records every hook call of a step function (see the module docstring).

    Parameters
    ----------
    base : ops object, optional
        The arithmetic actually performed (default exact digital). For hardware-aware training this
        is a crossbar backend or a noise-injecting ops; gradients are then straight-through: the
        adjoints use the recorded (noisy) activations and the digital weights.

    Attributes
    ----------
    steps : list of list of Record
        The records of every step since the last :meth:`start_step` calls, one list per step.
    """

    def __init__(self, base=None):
        self.base = DIGITAL if base is None else base
        self.steps: list[list[Record]] = []
        self._cur: list[Record] | None = None
        self._served: dict = {}

    def serve(self, name: str, X_all: np.ndarray, Y_all: np.ndarray) -> None:
        """Answer ``matmul(name, W, X_all[t])`` with ``Y_all[t]`` (a copy), for every ``t``.

        The input projection of a whole sequence, computed as one GEMM by the caller with the same
        base ops, is then handed to the step function step by step (recorded as usual). Only a call
        whose ``X`` is exactly the row block ``X_all[t]`` (same memory) is served.
        """
        self._served[name] = (X_all, Y_all, X_all.ctypes.data, X_all[0].nbytes if len(X_all) else 0)

    def start_step(self) -> list:
        """Open a new record list (one per time step and layer-direction) and return it."""
        self._cur = []
        self.steps.append(self._cur)
        return self._cur

    def begin(self, cell) -> None:
        """Forwarded to the base ops (an analog backend resynchronises its crossbars)."""
        begin = getattr(self.base, "begin", None)
        if begin is not None:
            begin(cell)

    def matmul(self, name, W, X, out=None):
        """``X @ W.T`` by the base ops, recorded."""
        served = self._served.get(name)
        if served is not None and out is None:
            X_all, Y_all, ptr, row = served
            if X.shape == X_all.shape[1:] and X.strides == X_all.strides[1:] and X.dtype == X_all.dtype and row:
                t, rem = divmod(X.ctypes.data - ptr, row)
                if rem == 0 and 0 <= t < len(X_all):
                    self._cur.append(Record("matmul", name, W, X, Y_all[t]))
                    return Y_all[t].copy()
        if self.base is DIGITAL and X.ndim == 2 and out is None:
            # X @ W.T as (W X^T)^T: the large operand on the left is several times faster in BLAS at
            # small batch (the layout of neurosim.cells.fast); same product, rounding may differ
            y = np.ascontiguousarray((W @ X.T).T)
            self._cur.append(Record("matmul", name, W, X, y.copy()))
            return y
        y = self.base.matmul(name, W, X, out)
        self._cur.append(Record("matmul", name, W, X, y.copy()))
        return y

    def scale(self, name, u, X, out=None):
        """``u * X`` by the base ops, recorded."""
        y = self.base.scale(name, u, X, out)
        self._cur.append(Record("scale", name, u, X, None))
        return y

    def bilinear(self, name, W, h, x, out=None):
        """``sum_jk W_ijk h_j x_k`` by the base ops, recorded."""
        y = self.base.bilinear(name, W, h, x, out)
        self._cur.append(Record("bilinear", name, W, h, None, x))
        return y

    def activation(self, kind, x, out=None):
        """The activation by the base ops, its output recorded (a copy: steps modify it in place)."""
        y = self.base.activation(kind, x, out)
        self._cur.append(Record("activation", kind, None, None, y.copy()))
        return y


def activation_grad(kind: str, y: np.ndarray, dy: np.ndarray) -> np.ndarray:
    r"""``dy * f'(x)`` expressed through the activation's output ``y = f(x)``.

    .. math::
        \tanh' = 1 - y^2, \quad \sigma' = y (1 - y), \quad \mathrm{relu}' = [y > 0], \quad 1

    Examples
    --------
    >>> activation_grad("tanh", np.array([0.5]), np.array([2.0]))
    array([1.5])
    """
    if kind == "tanh":
        return dy * (1 - y * y)
    if kind == "sigmoid":
        return dy * y * (1 - y)
    if kind == "relu":
        return dy * (y > 0)
    return dy.copy()
