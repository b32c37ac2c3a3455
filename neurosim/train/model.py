r"""A trainable sequence model: a recurrent cell and an optional linear readout on its output.

.. math:: \hat y_t = W_o\, o_t + b_o, \qquad o_t = \text{the cell's output at } t

Parameters are one ordered mapping: the cell's ``state_dict`` names (the live arrays of
``cell.params``) followed by ``head.weight`` and ``head.bias``. The readout is digital (computed in
the periphery); the cell runs with its own ``ops`` (digital or analog).
"""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np

from neurosim.cells.base import RecurrentBase
from neurosim.errors import ParameterError
from neurosim.seeding import check_seed, rng as seeded_rng
from neurosim.train.bptt import backward, forward

__all__ = ["SequenceModel"]


class SequenceModel:
    """A cell with an optional linear readout, trained by :func:`neurosim.train.fit`.

    Parameters
    ----------
    cell : RecurrentBase
        Any cell of :mod:`neurosim.cells` (time-major: ``batch_first=False``).
    output_size : int or None
        Features of the readout; None uses the cell's output directly (e.g. an Elman network).
    seed : int or None
        Initialisation of the readout: PyTorch's ``nn.Linear`` default, uniform in
        ``[-1/sqrt(in), 1/sqrt(in)]``.

    Examples
    --------
    >>> import numpy as np
    >>> from neurosim.cells import LSTM
    >>> model = SequenceModel(LSTM(2, 8, dtype=np.float64, seed=0), output_size=1, seed=0)
    >>> model.predict(np.zeros((5, 3, 2))).shape
    (5, 3, 1)
    >>> list(model.params)[-2:]
    ['head.weight', 'head.bias']
    """

    def __init__(self, cell: RecurrentBase, output_size: int | None = None, seed=0):
        if not isinstance(cell, RecurrentBase):
            raise ParameterError(f"SequenceModel: cell must be a neurosim.cells cell, got {type(cell).__name__}")
        if cell.batch_first:
            raise ParameterError("SequenceModel: cell must be time-major (batch_first=False), got batch_first=True")
        self.cell = cell
        self.head = OrderedDict()
        if output_size is not None:
            if isinstance(output_size, bool) or not isinstance(output_size, (int, np.integer)) or output_size < 1:
                raise ParameterError(f"SequenceModel: output_size must be an integer >= 1 or None, got {output_size!r}")
            n_in = cell.num_directions * cell._out_size()
            k = 1.0 / math.sqrt(n_in)
            r = seeded_rng(check_seed("SequenceModel", seed), "head")
            self.head["head.weight"] = r.uniform(-k, k, size=(output_size, n_in)).astype(cell.dtype)
            self.head["head.bias"] = r.uniform(-k, k, size=(output_size,)).astype(cell.dtype)

    @property
    def params(self) -> OrderedDict:
        """Every trainable array by name (live: updating one in place changes the model)."""
        out = OrderedDict(self.cell.params)
        out.update(self.head)
        return out

    def state_dict(self) -> OrderedDict:
        """A copy of every parameter."""
        return OrderedDict((k, v.copy()) for k, v in self.params.items())

    def load_state_dict(self, d) -> None:
        """Copy values into the live parameters (shapes must match)."""
        for k, p in self.params.items():
            if k not in d:
                raise ParameterError(f"SequenceModel: state_dict is missing {k!r}")
            v = np.asarray(d[k])
            if v.shape != p.shape:
                raise ParameterError(f"SequenceModel: {k!r} must have shape {p.shape}, got {v.shape}")
            p[...] = v

    def with_cell(self, cell: RecurrentBase) -> "SequenceModel":
        """The same readout (copied) on another cell, e.g. the analog twin of this model's cell."""
        twin = SequenceModel.__new__(SequenceModel)
        twin.cell = cell
        twin.head = OrderedDict((k, v.copy()) for k, v in self.head.items())
        return twin

    def _readout(self, o):
        if not self.head:
            return o
        return o @ self.head["head.weight"].T + self.head["head.bias"]

    def _input(self, x):
        x = np.asarray(x)
        if x.dtype != self.cell.dtype:
            x = x.astype(self.cell.dtype)
        return x

    def forward(self, x, hx=None, ops=None):
        """Run with recording; returns ``(prediction (time, batch, out), trace)``."""
        tr = forward(self.cell, self._input(x), hx, ops)
        return self._readout(tr.output), tr

    def backward(self, trace, d_pred) -> dict:
        """Gradients of every parameter from the prediction's cotangent."""
        if self.head:
            W = self.head["head.weight"]
            o = trace.output
            flat = d_pred.reshape(-1, d_pred.shape[-1])
            g_head = {"head.weight": flat.T @ o.reshape(-1, o.shape[-1]), "head.bias": flat.sum(axis=0)}
            d_out = d_pred @ W
        else:
            g_head, d_out = {}, d_pred
        grads, _, _ = backward(trace, d_out.astype(self.cell.dtype, copy=False))
        grads.update(g_head)
        return grads

    def predict(self, x, hx=None) -> np.ndarray:
        """The prediction by the cell's own call (fast runners when digital), ``(time, batch, out)``."""
        res = self.cell(self._input(x), hx)[0]
        o = res[0] if isinstance(res, tuple) else res
        return self._readout(o)
