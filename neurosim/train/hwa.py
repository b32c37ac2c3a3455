r"""Hardware-aware training: the forward pass runs on the hardware's own simulated crossbars, the
gradient passes straight through them (the approach of aihwkit's hardware-aware training, with the
noise drawn from the device model instead of generic levels).

:class:`HardwareAwareOps` is the arithmetic of the *training* forward pass (the base of the
recording tape). At the start of every forward call (every mini-batch) it builds a fresh
:class:`~neurosim.analog.AnalogOps` of the :class:`~neurosim.analog.HardwareConfig` with a new root
seed, so each batch sees a new physical array: device-to-device variability, stuck devices,
programming noise, finite levels and read noise of the configured non-idealities, the conductance
window the mapping scales every matrix to, the device card's I-V, the DACs and ADCs, the state
storage and the neuron periphery -- all by the crossbar code that runs the analog cell at inference
(one implementation of each non-ideality; nothing is modelled twice). For every weight matrix,
per batch :math:`k`,

.. math::
    y = \mathrm{ADC}\big(G^{(k)}_{prog}(W)\, \mathrm{DAC}(x)\big), \qquad
    \frac{\partial L}{\partial W} = \sum_t \delta_t\, x_t^\top, \quad
    \frac{\partial L}{\partial x_t} = W^\top \delta_t

where :math:`G^{(k)}_{prog}(W)` is the array of device seed :math:`k` programmed with the digital
weights :math:`W` and :math:`\delta_t` the cotangent of the read :math:`y_t`: the adjoints use the
recorded (hardware) activations with the clean digital weights and inputs -- straight-through
gradients for the programming, the noise, the clipping and the quantizers.

Optionally, generic noise on top (default off): ``weight_noise`` adds
:math:`\sigma_w \max|W|\, Z` to the weights before programming and ``output_noise``
:math:`\sigma_o \max|y|\, Z'` to every read; :data:`STANDARD_HWA_PRESET` holds the values of
aihwkit's ``StandardHWATrainingPreset`` (:math:`\sigma_w = 1.75\,\%` of :math:`w_{max}`,
:math:`\sigma_o = 4\,\%`) for a device-agnostic comparison.
"""

from __future__ import annotations

import numpy as np

from neurosim.analog import AnalogOps, HardwareConfig
from neurosim.errors import ParameterError
from neurosim.seeding import check_seed, rng as seeded_rng
from neurosim.train.loop import fit

__all__ = ["HardwareAwareOps", "hardware_aware_fit", "STANDARD_HWA_PRESET"]

STANDARD_HWA_PRESET = {"weight_noise": 0.0175, "output_noise": 0.04}
"""Generic noise levels of aihwkit's ``StandardHWATrainingPreset`` (weight noise 1.75 % of
:math:`w_{max}`, output noise 4 %), usable as ``hardware_aware_fit(..., **STANDARD_HWA_PRESET)``."""


class HardwareAwareOps:
    """The training forward pass on freshly drawn simulated hardware (see the module docstring).

    Parameters
    ----------
    hardware : HardwareConfig
        The hardware the network will run on (device card, non-idealities, mapping, converters,
        state storage, periphery).
    weights : dict
        The cell's :meth:`weight_info` (what drives each weight).
    weight_noise, output_noise : float
        Optional generic relative noise on top of the hardware's own (default 0; see
        :data:`STANDARD_HWA_PRESET`).
    seed : int
        The stream of device seeds (one per forward call) and of the generic noise.

    Attributes
    ----------
    analog : AnalogOps or None
        The crossbars of the current forward call.
    device_seeds : list of int
        The root seed of every forward call's hardware, in order.

    Examples
    --------
    >>> import numpy as np
    >>> from neurosim.cells import RNN
    >>> rnn = RNN(2, 3, dtype=np.float64, seed=0)
    >>> ops = HardwareAwareOps(HardwareConfig(), rnn.weight_info())   # ideal hardware: exact
    >>> ops.begin(rnn)
    >>> W = rnn.params["weight_ih_l0"]
    >>> bool(np.allclose(ops.matmul("weight_ih_l0", W, np.ones((1, 2))), np.ones((1, 2)) @ W.T))
    True
    """

    def __init__(self, hardware: HardwareConfig, weights, weight_noise: float = 0.0, output_noise: float = 0.0,
                 seed=0):
        if not isinstance(hardware, HardwareConfig):
            raise ParameterError(f"HardwareAwareOps: hardware must be a HardwareConfig, got {type(hardware).__name__}")
        for name, v in (("weight_noise", weight_noise), ("output_noise", output_noise)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < 1:
                raise ParameterError(f"HardwareAwareOps: {name} must be a number in [0, 1), got {v!r}")
        self.hardware, self.weights = hardware, dict(weights)
        self.weight_noise, self.output_noise = float(weight_noise), float(output_noise)
        self._rng = seeded_rng(check_seed("HardwareAwareOps", seed), "hwa")
        self.analog: AnalogOps | None = None
        self.device_seeds: list[int] = []
        self._noisy: dict[str, tuple] = {}

    def begin(self, cell) -> None:
        """A new forward call: a new physical array (root seed drawn from the stream), programmed at
        the first read of every weight."""
        s = int(self._rng.integers(0, 2**62))
        self.device_seeds.append(s)
        self.analog = AnalogOps(self.hardware.replace(seed=s), self.weights)
        self.analog.begin(cell)
        self._noisy.clear()

    def _ops(self) -> AnalogOps:
        if self.analog is None:
            raise ParameterError("HardwareAwareOps: begin(cell) must be called before the first read "
                                 "(neurosim.train.forward does it)")
        return self.analog

    def _w(self, name, W):
        """The weights programmed this call: ``W`` itself, or once per call ``W`` plus generic noise."""
        if not self.weight_noise:
            return W
        held = self._noisy.get(name)
        if held is None or held[0] is not W:
            scale = self.weight_noise * (float(np.max(np.abs(W))) if W.size else 0.0)
            held = self._noisy[name] = (W, W + (scale * self._rng.standard_normal(W.shape)).astype(W.dtype))
        return held[1]

    def _y(self, Y):
        if self.output_noise and Y.size:
            Y += (self.output_noise * float(np.max(np.abs(Y)))) * self._rng.standard_normal(Y.shape).astype(Y.dtype)
        return Y

    def matmul(self, name, W, X, out=None):
        """``X @ W.T`` read from this call's crossbar holding ``W``."""
        return self._y(self._ops().matmul(name, self._w(name, W), X, out))

    def scale(self, name, u, X, out=None):
        """``u * X`` read from this call's crossbar holding ``diag(u)``."""
        return self._y(self._ops().scale(name, self._w(name, u), X, out))

    def bilinear(self, name, W, h, x, out=None):
        """The bilinear form read from this call's crossbar."""
        return self._y(self._ops().bilinear(name, self._w(name, W), h, x, out))

    def activation(self, kind, x, out=None):
        """The periphery's transfer curve."""
        return self._ops().activation(kind, x, out)


def hardware_aware_fit(model, train, hardware: HardwareConfig, valid=None, *, weight_noise=0.0, output_noise=0.0,
                       seed=0, **fit_kwargs):
    """:func:`~neurosim.train.fit` with a :class:`HardwareAwareOps` forward pass.

    Parameters
    ----------
    model : SequenceModel
        A digital model (its weights are what is trained; the hardware is simulated in the forward pass).
    train, valid : SequenceTask
    hardware : HardwareConfig
    weight_noise, output_noise, seed
        See :class:`HardwareAwareOps` (``seed`` also orders the batches).
    **fit_kwargs
        Passed to :func:`~neurosim.train.fit` (epochs, batch_size, optimizer, ...).

    Returns
    -------
    History
        Validation losses are those of the digital model.

    Examples
    --------
    >>> import numpy as np
    >>> from neurosim.cells import GRU
    >>> from neurosim.tasks import mackey_glass
    >>> from neurosim.train import SequenceModel
    >>> task = mackey_glass(n_steps=40, batch_size=4, washout=5, seed=0)
    >>> model = SequenceModel(GRU(1, 4, dtype=np.float64, seed=0), 1, seed=0)
    >>> h = hardware_aware_fit(model, task, HardwareConfig(read_mode="device", adc_bits=6), epochs=2, batch_size=2)
    >>> len(h.train_loss)
    2
    """
    ops = HardwareAwareOps(hardware, model.cell.weight_info(), weight_noise, output_noise, seed)
    return fit(model, train, valid, ops=ops, seed=seed, **fit_kwargs)
