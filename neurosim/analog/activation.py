"""Activation functions as an analog periphery computes them: saturating or piecewise-linear amplifiers."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from neurosim.cells.ops import activation as digital_activation
from neurosim.errors import ParameterError
from neurosim.params import Checked, Param

__all__ = ["AnalogActivation", "ACTIVATION_IMPLS"]

ACTIVATION_IMPLS = ("ideal", "amplifier", "pwl")


@dataclasses.dataclass(frozen=True)
class AnalogActivation(Checked):
    r"""Transfer curves of the neuron periphery, in normalised signal units (1 = full scale).

    ``"amplifier"`` models a saturating (differential-pair) amplifier with gain error, input offset
    and soft rails :math:`\pm r`; the smooth activations are built from it:

    .. math::

        A(x) = r \tanh\!\left(\frac{g\,(x + x_{os})}{r}\right), \qquad
        \tanh(x) \approx A(x), \qquad \sigma(x) \approx \tfrac12 + \tfrac12 A(x/2)

    (with :math:`g = 1, x_{os} = 0, r = 1` these are exactly tanh and the logistic sigmoid).
    ``"pwl"`` models the hard-saturating piecewise-linear circuits common in hardware RNNs:

    .. math::

        \mathrm{hardtanh}(x) = \mathrm{clip}(g (x + x_{os}), -1, 1), \qquad
        \mathrm{hardsigmoid}(x) = \mathrm{clip}(\tfrac12 + \tfrac{g}{4}(x + x_{os}), 0, 1)

    (slopes matched to tanh and the sigmoid at 0). In both, ``relu`` and ``identity`` are linear
    amplifiers :math:`g (x + x_{os})` (relu clipped below at 0), clipped at :math:`\pm` ``linear_rail``
    when it is set. ``"ideal"`` is the exact digital function.

    Parameters
    ----------
    impl : {"ideal", "amplifier", "pwl"}
        Implementation of the transfer curves.
    gain : float
        Small-signal gain :math:`g` (1 = ideal), dimensionless.
    offset : float
        Input-referred offset :math:`x_{os}` (normalised units).
    rail : float
        Soft rail :math:`r` of the amplifier (normalised units; 1 = exact tanh).
    linear_rail : float or None
        Output clipping of the linear (relu/identity) amplifiers; ``None`` = no clipping.

    Examples
    --------
    >>> import numpy as np
    >>> act = AnalogActivation("amplifier")
    >>> bool(np.allclose(act("tanh", np.array([-2.0, 0.3])), np.tanh([-2.0, 0.3]), rtol=0, atol=1e-15))
    True
    >>> AnalogActivation("pwl")("sigmoid", np.array([-9.0, 0.0, 1.0])).tolist()
    [0.0, 0.5, 0.75]
    """

    impl: str = "ideal"
    gain: float = 1.0
    offset: float = 0.0
    rail: float = 1.0
    linear_rail: float | None = None

    _params: ClassVar[dict[str, Param]] = {
        "impl": Param("choice", choices=ACTIVATION_IMPLS),
        "gain": Param("real", low=0, low_open=True),
        "offset": Param("real"),
        "rail": Param("real", low=0, low_open=True),
        "linear_rail": Param("real", low=0, low_open=True, optional=True),
    }

    @property
    def is_ideal(self) -> bool:
        """Whether the curves equal the digital functions exactly."""
        if self.impl == "ideal":
            return True
        return self.impl == "amplifier" and self.gain == 1.0 and self.offset == 0.0 and self.rail == 1.0 and self.linear_rail is None

    def __call__(self, kind: str, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Apply the transfer curve standing for the activation ``kind`` (``out`` may be ``x``).

        Raises
        ------
        ParameterError
            Unknown ``kind``.
        """
        if self.impl == "ideal" or (self.is_ideal and kind in ("tanh", "sigmoid")):
            return digital_activation(kind, x, out)
        if kind not in ("tanh", "sigmoid", "relu", "identity"):
            raise ParameterError(f"AnalogActivation: kind must be one of 'tanh', 'sigmoid', 'relu', 'identity', got {kind!r}")
        g, r = self.gain, self.rail
        y = np.add(x, self.offset, out=out)  # a fresh array, or out (which may be x)
        if kind in ("relu", "identity"):
            y *= g
            lo = 0.0 if kind == "relu" else (-self.linear_rail if self.linear_rail is not None else None)
            hi = self.linear_rail
            if lo is not None or hi is not None:
                np.clip(y, lo, hi, out=y)
            return y
        if self.impl == "amplifier":
            if kind == "tanh":
                y *= g / r
                np.tanh(y, out=y)
                y *= r
            else:
                y *= g / (2.0 * r)
                np.tanh(y, out=y)
                y *= 0.5 * r
                y += 0.5
            return y
        # piecewise linear
        if kind == "tanh":
            y *= g
            return np.clip(y, -1.0, 1.0, out=y)
        y *= g / 4.0
        y += 0.5
        return np.clip(y, 0.0, 1.0, out=y)
