r"""Vectorized digital reference cells, equal to PyTorch to rounding.

Cells
-----
:class:`RNN`, :class:`LSTM`, :class:`GRU`
    PyTorch's ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU``: same constructor arguments, call
    ``cell(input, hx=None)``, return values and ``state_dict`` names (``weight_ih_l0``,
    ``bias_hh_l1_reverse``, ...), gate orders i, f, g, o (LSTM) and r, z, n (GRU).
:class:`Elman`, :class:`Jordan`
    Simple recurrent networks with their output layer and configurable activations.
:class:`IndRNN`
    Independently recurrent network (element-wise recurrent weight, optional bound).
:class:`SecondOrderRNN`
    Multiplicative (second-order) RNN, one tensor contraction per step.

Every cell runs float32 or float64 (its ``dtype``), stacks ``num_layers`` layers, runs
``bidirectional`` as PyTorch does (reverse direction concatenated after the forward one on the
feature axis), accepts ``batch_first`` and unbatched ``(time, features)`` input, initialises from an
explicit ``seed`` and saves/loads ``.npz`` (``save``, ``load``, :func:`load_npz_state_dict`).

Design for training and for analog execution
--------------------------------------------
*Parameters are plain named arrays.* ``cell.params`` is the live ordered dict (``state_dict()``
returns a copy); ``cell.direction_params(layer, direction)`` gives one layer-direction's arrays under
generic names (``weight_ih``, ``weight_hh``, ...) and knows their ``state_dict`` suffix.

*One step API for every cell.* ``cell.step(params, x_t, state) -> (y_t, state)``, with ``state``
a tuple in the order of ``cell.state_names`` (``("h",)``, ``("h", "c")`` for an LSTM, ``("y",)``
for a Jordan network) and ``y_t`` the layer's output (``(y_t, h_t)`` for Elman and Jordan
networks). It calls the cell's pure step function (:func:`rnn_step`, :func:`lstm_step`,
:func:`gru_step`, :func:`elman_step`, :func:`jordan_step`, :func:`indrnn_step`,
:func:`second_order_step`), where the cell's equations live; the sequence runners compute the same
equations in preallocated buffers and the tests check them against the step.
``cell.initial_state(batch)`` gives zero states; ``cell.trace(input)`` runs like a call and also
returns every layer-direction's hidden sequence.

*Every matrix product and activation goes through a hook.* The equations never call numpy on a
weight directly; they call, on the cell object:

``cell.matmul(name, W, X, out=None)``
    returns ``X @ W.T``; ``W`` is ``(out, in)``, ``X`` is ``(..., in)`` where every row is an
    independent vector (the input projection of all time steps is one call with ``X`` of shape
    ``(time, batch, in)``; the recurrent product is one call per step with ``(batch, hidden)``).
    ``name`` is ``W``'s ``state_dict`` key, e.g. ``"weight_hh_l0_reverse"``. When ``out`` is given
    the result may be written into it and returned.
``cell.scale(name, u, X, out=None)``
    returns ``u * X`` for an element-wise recurrent weight (IndRNN).
``cell.bilinear(name, W, h, x, out=None)``
    returns :math:`\sum_{jk} W_{ijk} h_j x_k` (second-order cells).
``cell.activation(kind, x, out=None)``
    ``kind`` in ``"sigmoid"``, ``"tanh"``, ``"relu"``, ``"identity"``; ``out`` may be ``x``.

The hooks delegate to the cell's ``ops`` object (:mod:`neurosim.cells.ops`), by default
:data:`~neurosim.cells.ops.DIGITAL` (exact numpy). Analog execution is composition, not a new class:
:func:`neurosim.analog.to_analog` returns a copy of the cell with ``ops`` set to a crossbar backend,
which reuses the cell's equations unchanged. Each cell class declares what drives each of its weight
matrices (``_drives``: the layer's input, a state, or products of both; see
:meth:`~neurosim.cells.base.RecurrentBase.weight_info`), so a backend never parses names.

*Fast path.* While ``ops`` is the exact digital one and no hook is overridden, ``RNN``, ``LSTM``
and ``GRU`` run the fused digital runners of :mod:`neurosim.cells.fast` (same equations; state kept
as ``(hidden, batch)`` so the recurrent product is ``W_hh @ h``; sigmoid as a halved tanh).
Otherwise the generic runner routes every product and activation through the hooks; the tests check
both runners against each other, against the step and against PyTorch.

Examples
--------
>>> import numpy as np
>>> from neurosim.cells import LSTM
>>> lstm = LSTM(input_size=8, hidden_size=16, num_layers=2, bidirectional=True, seed=1)
>>> out, (h_n, c_n) = lstm(np.zeros((10, 3, 8), dtype=np.float32))
>>> out.shape, h_n.shape
((10, 3, 32), (4, 3, 16))
"""

from neurosim.cells.base import IncompatibleKeys, RecurrentBase
from neurosim.cells.io import load_npz_state_dict
from neurosim.cells.ops import DIGITAL, DigitalOps
from neurosim.cells.indrnn import IndRNN, indrnn_step
from neurosim.cells.second_order import SecondOrderRNN, second_order_step
from neurosim.cells.srn import Elman, Jordan, elman_step, jordan_step
from neurosim.cells.torchlike import GRU, LSTM, RNN, gru_step, lstm_step, rnn_step

__all__ = [
    "RNN", "LSTM", "GRU", "Elman", "Jordan", "IndRNN", "SecondOrderRNN",
    "rnn_step", "lstm_step", "gru_step", "elman_step", "jordan_step", "indrnn_step", "second_order_step",
    "RecurrentBase", "IncompatibleKeys", "load_npz_state_dict", "DigitalOps", "DIGITAL",
]
