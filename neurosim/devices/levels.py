r"""Finite conductance levels: the one implementation every layer uses.

A device, a crossbar's weight map and the :class:`~neurosim.devices.FiniteLevels` non-ideality all
mean the same thing by "``L`` levels in ``[g_min, g_max]``": conductances clipped to the window and
rounded to the nearest of ``L`` equally spaced values (``L = None`` or ``0``: a continuum, clipping
only).

.. math:: G_q = g_\min + \Delta\,\mathrm{round}\!\left(\frac{\mathrm{clip}(G, g_\min, g_\max) - g_\min}{\Delta}\right),
          \qquad \Delta = \frac{g_\max - g_\min}{L - 1}

Examples
--------
>>> import numpy as np
>>> quantize_levels(np.array([0.26, 0.74, 2.0]), 0.0, 1.0, 3)
array([0.5, 0.5, 1. ])
>>> quantize_levels(np.array([-1.0, 0.3]), 0.0, 1.0, None)
array([0. , 0.3])
"""

from __future__ import annotations

import numpy as np

__all__ = ["quantize_levels", "level_step"]


def level_step(g_min: float, g_max: float, levels: int | None) -> float:
    """Spacing :math:`\\Delta` (S) of ``levels`` levels in the window; 0 for a continuum."""
    if not levels:
        return 0.0
    return (g_max - g_min) / (levels - 1)


def quantize_levels(G, g_min: float, g_max: float, levels: int | None) -> np.ndarray:
    """Conductances (S) clipped to ``[g_min, g_max]`` and rounded to ``levels`` equally spaced levels.

    Parameters
    ----------
    G : array_like
        Conductances (S).
    g_min, g_max : float
        Window (S).
    levels : int or None
        Number of levels (>= 2); ``None`` or 0: a continuum (clipping only).

    Returns
    -------
    ndarray
        Quantized conductances (S), float64.
    """
    G = np.clip(np.asarray(G, dtype=float), g_min, g_max)
    step = level_step(g_min, g_max, levels)
    if step == 0.0:
        return G
    return g_min + step * np.round((G - g_min) / step)
