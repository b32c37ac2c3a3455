r"""Real-time recurrent learning (Williams & Zipser 1989): online, forward-mode gradients.

For the fully recurrent network (:class:`~neurosim.cells.RNN`) and the Elman network
(:class:`~neurosim.cells.Elman`, one layer, one direction) the sensitivities
:math:`P_t = \partial h_t / \partial \theta` of the hidden state to every hidden-layer parameter are
carried forward with the state:

.. math::
    z_t = W_{ih} x_t + W_{hh} h_{t-1} + b, \quad h_t = \phi(z_t), \qquad
    P_t = \mathrm{diag}\,\phi'(z_t)\,\big(W_{hh} P_{t-1} + \partial z_t / \partial \theta\big),
    \qquad \nabla_\theta L_t = \bar h_t^T P_t

so the gradient of the loss at step :math:`t` is available at step :math:`t`, without storing the
past (the network can learn while it runs). The cost is the price: :math:`P_t` has
:math:`n \cdot n_\theta` entries with :math:`n_\theta \approx n^2` weights, and the product
:math:`W_{hh} P_{t-1}` costs :math:`O(n^4)` operations per step and sequence (memory :math:`O(n^3)`),
against :math:`O(n^2)` per step for BPTT. The forward values come from the cell's own step function
through a :class:`~neurosim.train.tape.Tape`; the result equals BPTT to rounding (tested ≤1e-10).
"""

from __future__ import annotations

import numpy as np

from neurosim.cells import RNN, Elman
from neurosim.errors import ParameterError
from neurosim.train.tape import Tape, activation_grad

__all__ = ["RTRL", "rtrl"]


class RTRL:
    """Online RTRL state of one single-layer unidirectional :class:`RNN` or :class:`Elman` network.

    Parameters
    ----------
    cell : RNN or Elman
        ``num_layers=1``, ``bidirectional=False``.
    batch : int
        Sequences run in parallel.
    hx : ndarray, shape (batch, hidden), optional
        Initial hidden state (default zeros); its sensitivities start at zero.

    Examples
    --------
    >>> import numpy as np
    >>> from neurosim.cells import RNN
    >>> learner = RTRL(RNN(1, 3, dtype=np.float64, seed=0), batch=2)
    >>> y, grads = learner.step(np.ones((2, 1)), lambda y: np.ones_like(y))
    >>> grads["weight_hh_l0"].shape
    (3, 3)
    """

    def __init__(self, cell, batch: int, hx=None):
        if not isinstance(cell, (RNN, Elman)) or cell.num_layers != 1 or cell.bidirectional:
            raise ParameterError(
                f"RTRL: cell must be a single-layer unidirectional RNN or Elman network, got {cell!r}")
        self.cell = cell
        self.p = cell.direction_params(0, 0)
        self.h = cell.initial_state(batch)[0] if hx is None else np.array(hx, dtype=cell.dtype)
        self.hidden_keys = [k for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "bias_h") if k in self.p]
        H = cell.hidden_size
        self.P = {k: np.zeros((batch, H) + self.p[k].shape, dtype=cell.dtype) for k in self.hidden_keys}
        self.tape = Tape(cell.ops)
        self.tape.begin(cell)

    def step(self, x_t, d_output):
        """Advance one step and return ``(y_t, grads_t)``.

        Parameters
        ----------
        x_t : ndarray, shape (batch, input_size)
        d_output : callable
            ``d_output(y_t) -> dL_t/dy_t`` (the loss at this step; zeros when not scored).

        Returns
        -------
        y_t : ndarray
            The output (hidden state for RNN, output layer for Elman).
        grads_t : dict of str to ndarray
            :math:`\\nabla_\\theta L_t` by ``state_dict`` name.
        """
        cell, p, sfx = self.cell, self.p, self.p.suffix
        recs = self.tape.start_step()
        h_prev = self.h
        y, (h,) = cell.step(p, x_t, (h_prev,), ops=self.tape)
        self.tape.steps.clear()
        elman = isinstance(y, tuple)
        act = recs[2]
        dphi = activation_grad(act.name, act.y, np.ones_like(act.y))  # phi'(z_t), (B, H)
        W_hh = p["weight_hh"]
        H = h.shape[-1]
        eye = np.eye(H, dtype=cell.dtype)
        for k in self.hidden_keys:
            P = self.P[k]
            # W_hh P_{t-1}: contract the hidden index (O(H * H * n_theta) per sequence: O(n^4))
            new = np.tensordot(P, W_hh, axes=([1], [1]))  # (B, *theta, H)
            new = np.moveaxis(new, -1, 1)
            if k == "weight_ih":
                new += eye[None, :, :, None] * x_t[:, None, None, :]
            elif k == "weight_hh":
                new += eye[None, :, :, None] * h_prev[:, None, None, :]
            else:
                new += eye[None]
            new *= dphi.reshape(dphi.shape + (1,) * (new.ndim - 2))
            self.P[k] = new
        grads = {}
        if elman:
            y_out, _ = y
            dy = d_output(y_out)
            ya = recs[4]
            dyo = activation_grad(ya.name, ya.y, dy)
            grads["weight_hy" + sfx] = dyo.T @ h
            if "bias_y" in p:
                grads["bias_y" + sfx] = dyo.sum(axis=0)
            dh = dyo @ p["weight_hy"]
        else:
            y_out = y
            dh = d_output(y)
        for k in self.hidden_keys:
            grads[k + sfx] = np.tensordot(dh, self.P[k], axes=([0, 1], [0, 1]))
        self.h = h
        return y_out, grads


def rtrl(cell, x, d_output, hx=None):
    """Gradient of the summed per-step losses by RTRL over a whole sequence (no weight update).

    Parameters
    ----------
    cell : RNN or Elman
        Single layer, one direction.
    x : ndarray, shape (time, batch, input_size), time-major
    d_output : callable
        ``d_output(t, y_t) -> dL_t/dy_t``.
    hx : ndarray, shape (batch, hidden), optional

    Returns
    -------
    dict of str to ndarray
        Gradients by ``state_dict`` name, as :func:`neurosim.train.backward` returns them.

    Examples
    --------
    >>> import numpy as np
    >>> from neurosim.cells import Elman
    >>> g = rtrl(Elman(1, 3, 1, dtype=np.float64, seed=0), np.ones((4, 2, 1)), lambda t, y: y)
    >>> sorted(g)
    ['bias_h_l0', 'bias_y_l0', 'weight_hh_l0', 'weight_hy_l0', 'weight_ih_l0']
    """
    x = np.asarray(x)
    learner = RTRL(cell, x.shape[1], hx)
    total = {k: np.zeros_like(v) for k, v in cell.params.items()}
    for t in range(x.shape[0]):
        _, g = learner.step(x[t], lambda y: d_output(t, y))
        for k, v in g.items():
            total[k] += v
    return total
