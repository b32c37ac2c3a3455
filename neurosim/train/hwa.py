r"""Hardware-aware training: the forward pass sees the hardware's imperfections, the gradient passes
straight through them (the approach of aihwkit's hardware-aware training).

:class:`HardwareAwareOps` is the arithmetic of the *training* forward pass (the base of the
recording tape). For every weight matrix, once per forward call, it draws

.. math::
    \tilde W = \mathrm{clip}(W, -w_{max}, w_{max}) + \sigma_w\, w_{max}\, Z, \qquad
    y = \mathrm{ADC}\big(\tilde W\, \mathrm{DAC}(x) + \sigma_o\, y_{max}\, Z'\big)

with :math:`w_{max}` the conductance window the mapping scales the matrix to (its largest
magnitude, times ``window``), the DAC/ADC of the :class:`~neurosim.analog.HardwareConfig`
(``dac_bits`` over ``input_range`` / ``state_range``, ``adc_bits`` over the output's range), its
state storage (``state_bits``) and its neuron periphery (``activation``). aihwkit's
``StandardHWATrainingPreset`` uses :math:`\sigma_w \approx 1.75\,\%` and :math:`\sigma_o = 4\,\%`,
the defaults here. The adjoints use the recorded (noisy) activations with the clean digital weights
and inputs: straight-through gradients for the noise, the clipping and the quantizers.
"""

from __future__ import annotations

import numpy as np

from neurosim.analog import HardwareConfig
from neurosim.analog.executor import quantize_state
from neurosim.errors import ParameterError
from neurosim.seeding import check_seed, rng as seeded_rng
from neurosim.train.loop import fit

__all__ = ["HardwareAwareOps", "hardware_aware_fit"]


class HardwareAwareOps:
    """Noise-injecting ops for the training forward pass (see the module docstring).

    Parameters
    ----------
    hardware : HardwareConfig
        Converters, state storage, periphery and ranges.
    weights : dict
        The cell's :meth:`weight_info` (what drives each weight: external input or stored state).
    weight_noise, output_noise : float
        Relative standard deviations :math:`\\sigma_w`, :math:`\\sigma_o`.
    window : float
        :math:`w_{max}` as a multiple of the matrix's largest magnitude (>= 1 leaves room).
    seed : int
        Noise stream; a fresh draw per forward call.

    Examples
    --------
    >>> import numpy as np
    >>> from neurosim.cells import RNN
    >>> rnn = RNN(2, 3, dtype=np.float64, seed=0)
    >>> ops = HardwareAwareOps(HardwareConfig(), rnn.weight_info(), weight_noise=0.0, output_noise=0.0)
    >>> ops.begin(rnn)
    >>> W = rnn.params["weight_ih_l0"]
    >>> bool(np.allclose(ops.matmul("weight_ih_l0", W, np.ones((1, 2))), np.ones((1, 2)) @ W.T))
    True
    """

    def __init__(self, hardware: HardwareConfig, weights, weight_noise: float = 0.0175, output_noise: float = 0.04,
                 window: float = 1.0, seed=0):
        if not isinstance(hardware, HardwareConfig):
            raise ParameterError(f"HardwareAwareOps: hardware must be a HardwareConfig, got {type(hardware).__name__}")
        for name, v in (("weight_noise", weight_noise), ("output_noise", output_noise)):
            if not (isinstance(v, (int, float)) and 0 <= v < 1):
                raise ParameterError(f"HardwareAwareOps: {name} must be a number in [0, 1), got {v!r}")
        if not (isinstance(window, (int, float)) and window >= 1):
            raise ParameterError(f"HardwareAwareOps: window must be a number >= 1, got {window!r}")
        self.hardware, self.weights = hardware, dict(weights)
        self.weight_noise, self.output_noise, self.window = float(weight_noise), float(output_noise), float(window)
        self._rng = seeded_rng(check_seed("HardwareAwareOps", seed), "hwa")
        self._act = hardware.activation_impl()
        self._drawn: dict[str, np.ndarray] = {}

    def begin(self, cell) -> None:
        """A new forward call: fresh weight noise at the next use of every weight."""
        self._drawn.clear()

    def _weight(self, name, W):
        Wn = self._drawn.get(name)
        if Wn is None:
            w_max = self.window * float(np.max(np.abs(W))) if W.size else 0.0
            Wn = np.clip(W, -w_max, w_max)
            if self.weight_noise and w_max > 0:
                Wn = Wn + (self.weight_noise * w_max) * self._rng.standard_normal(W.shape).astype(W.dtype)
            self._drawn[name] = Wn
        return Wn

    def _dac(self, name, X):
        hw = self.hardware
        info = self.weights.get(name)
        external = info is not None and info.reads_external_input
        X = quantize_state(X, hw.state_bits, hw.state_range) if not external else X
        return quantize_state(X, hw.dac_bits, hw.input_range if external else hw.state_range)

    def _adc(self, Y):
        if self.output_noise:
            scale = float(np.max(np.abs(Y))) if Y.size else 0.0
            Y = Y + (self.output_noise * scale) * self._rng.standard_normal(Y.shape).astype(Y.dtype)
        if self.hardware.adc_bits is not None:
            fs = float(np.max(np.abs(Y))) or 1.0
            Y = quantize_state(Y, self.hardware.adc_bits, fs)
        return Y

    def matmul(self, name, W, X, out=None):
        """Noisy, quantized ``X @ W.T``."""
        Y = self._adc(self._dac(name, X) @ self._weight(name, W).T)
        if out is None:
            return np.ascontiguousarray(Y)
        out[...] = Y
        return out

    def scale(self, name, u, X, out=None):
        """Noisy, quantized ``u * X``."""
        Y = self._adc(self._dac(name, X) * self._weight(name, u))
        if out is None:
            return Y
        out[...] = Y
        return out

    def bilinear(self, name, W, h, x, out=None):
        """Noisy, quantized bilinear form."""
        hx = (self._dac(name, h)[:, :, None] * x[:, None, :]).reshape(h.shape[0], -1)
        Wn = self._weight(name, W).reshape(W.shape[0], -1)
        Y = self._adc(hx @ Wn.T)
        if out is None:
            return Y
        out[...] = Y
        return out

    def activation(self, kind, x, out=None):
        """The periphery's transfer curve."""
        return self._act(kind, x, out)


def hardware_aware_fit(model, train, hardware: HardwareConfig, valid=None, *, weight_noise=0.0175,
                       output_noise=0.04, window=1.0, seed=0, **fit_kwargs):
    """:func:`~neurosim.train.fit` with a :class:`HardwareAwareOps` forward pass.

    Parameters
    ----------
    model : SequenceModel
    train, valid : SequenceTask
    hardware : HardwareConfig
    weight_noise, output_noise, window, seed
        See :class:`HardwareAwareOps` (``seed`` also orders the batches).
    **fit_kwargs
        Passed to :func:`~neurosim.train.fit` (epochs, batch_size, optimizer, ...).

    Returns
    -------
    History
    """
    ops = HardwareAwareOps(hardware, model.cell.weight_info(), weight_noise, output_noise, window, seed)
    return fit(model, train, valid, ops=ops, seed=seed, **fit_kwargs)
