"""Signed weights <-> conductances: differential pairs or a reference column, window scaling, levels.

A weight matrix ``W`` of shape ``(out, in)`` is stored transposed on the array: rows carry inputs,
columns carry outputs. Physical column layout of one tile:

* ``differential``: ``[o0+, o0-, o1+, o1-, ...]``; output current ``I(o+) - I(o-)``.
* ``reference``: ``[o0, o1, ..., ref]``; output current ``I(ok) - I(ref)``, with the reference
  column at ``g_ref`` (the level nearest the centre of the window) on every row.

Examples
--------
>>> import numpy as np
>>> m = WeightMap("differential", g_min=1e-6, g_max=1e-4, w_max=1.0)
>>> G = m.to_conductance(np.array([[0.5, -1.0]]))
>>> G.shape, bool(np.allclose(m.to_weights(G), [[0.5, -1.0]]))
((2, 2), True)
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from neurosim.devices.levels import quantize_levels
from neurosim.errors import ParameterError
from neurosim.params import Checked, Param, check_array

__all__ = ["WeightMap", "quantize_levels"]  # quantize_levels: the one of neurosim.devices.levels


@dataclasses.dataclass(frozen=True)
class WeightMap(Checked):
    """Linear map between weights (weight units) and conductances (S).

    Parameters
    ----------
    mapping : {"differential", "reference"}
        Signed-weight scheme.
    g_min, g_max : float
        Conductance window (S).
    w_max : float
        Weight that maps to the full window.
    levels : int or None
        Conductance levels (``None``: continuous).
    clip : bool
        Clip ``|W| > w_max`` (otherwise an error).

    Notes
    -----
    Differential, with scale :math:`s = (g_\\max - g_\\min) / w_\\max` (S per weight unit):

    .. math:: G^\\pm = g_\\min + s \\max(\\pm w, 0), \\qquad w = (G^+ - G^-) / s

    Reference, with :math:`g_\\mathrm{ref}` the level nearest :math:`(g_\\min+g_\\max)/2` and
    :math:`s = \\min(g_\\mathrm{ref} - g_\\min, g_\\max - g_\\mathrm{ref}) / w_\\max`:

    .. math:: G = g_\\mathrm{ref} + s w, \\qquad w = (G - g_\\mathrm{ref}) / s

    Quantization error of a round trip is at most half a step, ``step_weight / 2``.
    """

    mapping: str
    g_min: float
    g_max: float
    w_max: float
    levels: int | None = None
    clip: bool = False

    _params: ClassVar[dict[str, Param]] = {
        "mapping": Param("choice", choices=("differential", "reference")),
        "g_min": Param("real", low=0, unit="S"),
        "g_max": Param("real", low=0, low_open=True, unit="S"),
        "w_max": Param("real", low=0, low_open=True),
        "levels": Param("int", low=2, optional=True),
        "clip": Param("bool"),
    }

    def _check(self) -> None:
        super()._check()
        if not self.g_min < self.g_max:
            raise ParameterError(f"WeightMap: g_min must be < g_max, got g_min={self.g_min!r}, g_max={self.g_max!r}")
        if self.mapping == "reference" and self.levels == 2:
            raise ParameterError("WeightMap: levels must be an integer >= 3 for mapping='reference' (a reference "
                                 "level strictly inside the window), got 2")

    @property
    def g_ref(self) -> float:
        """Reference-column conductance (S) (the window centre, on a level if quantized)."""
        mid = 0.5 * (self.g_min + self.g_max)
        return float(quantize_levels(np.array(mid), self.g_min, self.g_max, self.levels))

    @property
    def scale(self) -> float:
        """Conductance per weight unit (S)."""
        if self.mapping == "differential":
            return (self.g_max - self.g_min) / self.w_max
        g_ref = self.g_ref
        return min(g_ref - self.g_min, self.g_max - g_ref) / self.w_max

    @property
    def step_weight(self) -> float:
        """One conductance level expressed in weight units (0 when continuous)."""
        if self.levels is None:
            return 0.0
        return (self.g_max - self.g_min) / (self.levels - 1) / self.scale

    def columns(self, n_out: int) -> int:
        """Physical columns needed for ``n_out`` outputs."""
        return 2 * n_out if self.mapping == "differential" else n_out + 1

    def to_conductance(self, W) -> np.ndarray:
        """Map weights ``(out, in)`` to the tile conductances ``(in, physical columns)`` (S).

        Raises
        ------
        ParameterError
            Non-finite weights, or ``|W| > w_max`` with ``clip=False``.
        """
        W = check_array("WeightMap", "weights", W, ndim=2).astype(np.float64)
        worst = float(np.max(np.abs(W))) if W.size else 0.0
        if worst > self.w_max * (1 + 1e-12):
            if not self.clip:
                raise ParameterError(
                    f"WeightMap: weights must lie in [-w_max, w_max] = [{-self.w_max:g}, {self.w_max:g}] "
                    f"when clip=False, got max |w| = {worst:g}"
                )
        W = np.clip(W, -self.w_max, self.w_max)
        s = self.scale
        Wt = W.T
        if self.mapping == "differential":
            G = np.empty((W.shape[1], 2 * W.shape[0]))
            G[:, 0::2] = self.g_min + s * np.maximum(Wt, 0.0)
            G[:, 1::2] = self.g_min + s * np.maximum(-Wt, 0.0)
        else:
            G = np.empty((W.shape[1], W.shape[0] + 1))
            G[:, :-1] = self.g_ref + s * Wt
            G[:, -1] = self.g_ref
        return quantize_levels(G, self.g_min, self.g_max, self.levels)

    def combine(self, I: np.ndarray) -> np.ndarray:
        """Output currents ``(..., out)`` from physical column currents ``(..., columns)`` (A).

        .. math:: I_k = I_{k+} - I_{k-} \\quad\\text{or}\\quad I_k = I_k - I_\\mathrm{ref}
        """
        if self.mapping == "differential":
            return I[..., 0::2] - I[..., 1::2]
        return I[..., :-1] - I[..., -1:]

    def to_weights(self, G) -> np.ndarray:
        """Weights ``(out, in)`` represented by tile conductances ``(in, columns)``.

        Uses the programmed reference column for ``reference`` mapping.
        """
        G = np.asarray(G, dtype=np.float64)
        return (self.combine(G) / self.scale).T
