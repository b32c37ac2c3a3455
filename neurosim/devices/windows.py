r"""Window functions of the memristor literature, exactly as in the papers (vectorised).

A window multiplies the state velocity so that the state slows down and stops at its physical
bounds. ``x`` is the normalised state :math:`w/D \in [0, 1]` for the ion-drift windows and the
physical state :math:`w` (m) for Kvatinsky's windows.

- Joglekar & Wolf, Eur. J. Phys. 30, 661 (2009): :math:`f(x) = 1 - (2x - 1)^{2p}`
- Biolek, Biolek & Biolková, Radioengineering 18, 210 (2009):
  :math:`f(x, i) = 1 - (x - \mathrm{stp}(-i))^{2p}`, :math:`\mathrm{stp}(i) = 1` for :math:`i \ge 0`, else 0
- Prodromakis et al., IEEE TED 58, 3099 (2011): :math:`f(x) = j\,(1 - [(x - 0.5)^2 + 0.75]^p)`
- Kvatinsky et al., IEEE TCAS-I 60, 211 (2013):
  :math:`f_{off}(w) = \exp(-\exp((w - a_{off})/w_c))`, :math:`f_{on}(w) = \exp(-\exp(-(w - a_{on})/w_c))`

Examples
--------
>>> from neurosim.devices.windows import joglekar, biolek, prodromakis
>>> float(joglekar(0.25, 1))            # 1 - (2*0.25 - 1)**2
0.75
>>> float(biolek(0.25, -1.0, 1))        # i < 0: stp(-i) = 1 -> 1 - (0.25 - 1)**2
0.4375
>>> float(prodromakis(0.25, 1, 1.0))    # 1 - ((0.25 - 0.5)**2 + 0.75)
0.1875
"""

from __future__ import annotations

import numpy as np

__all__ = ["joglekar", "biolek", "prodromakis", "kvatinsky_off", "kvatinsky_on", "stp"]

# exp(700) is finite; exp(-exp(700)) underflows to exactly 0 without an overflow warning
_EXP_MAX = 700.0


def _even_power(y, two_p):
    """``y ** two_p`` for an even exponent, with a fast path for the common small integers."""
    if np.ndim(two_p) == 0 and float(two_p).is_integer() and 2 <= two_p <= 8:
        n = int(two_p)
        y2 = y * y
        if n == 2:
            return y2
        if n == 4:
            return y2 * y2
        if n == 6:
            return y2 * y2 * y2
        y4 = y2 * y2
        return y4 * y4
    return np.abs(y) ** two_p


def stp(i):
    """Heaviside step of Biolek's paper: 1 for ``i >= 0``, 0 for ``i < 0``."""
    return np.where(np.asarray(i) >= 0, 1.0, 0.0)


def joglekar(x, p):
    r"""Joglekar window :math:`f(x) = 1 - (2x - 1)^{2p}`.

    Parameters
    ----------
    x : array_like
        Normalised state :math:`w/D`.
    p : int or array_like
        Positive integer exponent.

    Returns
    -------
    ndarray
        Window values; 0 at :math:`x = 0` and :math:`x = 1`, 1 at :math:`x = 0.5`.
    """
    x = np.asarray(x, dtype=float)
    return 1.0 - _even_power(2.0 * x - 1.0, 2 * np.asarray(p))


def biolek(x, i, p):
    r"""Biolek window :math:`f(x, i) = 1 - (x - \mathrm{stp}(-i))^{2p}`.

    For a positive current (state growing) :math:`\mathrm{stp}(-i) = 0` and the window vanishes at
    :math:`x = 1`; for a negative current it vanishes at :math:`x = 0`, so the state can always leave
    a bound. :math:`\mathrm{stp}(0) = 1`.

    Parameters
    ----------
    x : array_like
        Normalised state.
    i : array_like
        Device current (A); only its sign matters.
    p : int or array_like
        Positive integer exponent.

    Returns
    -------
    ndarray
        Window values.
    """
    x = np.asarray(x, dtype=float)
    # stp(-i) = 1 where -i >= 0, i.e. i <= 0
    shift = np.where(np.asarray(i) <= 0, 1.0, 0.0)
    return 1.0 - _even_power(x - shift, 2 * np.asarray(p))


def prodromakis(x, p, j):
    r"""Prodromakis window :math:`f(x) = j\,(1 - [(x - 0.5)^2 + 0.75]^p)`.

    Parameters
    ----------
    x : array_like
        Normalised state.
    p : float or array_like
        Exponent (> 0, need not be an integer).
    j : float or array_like
        Scale (maximum of the window), > 0.

    Returns
    -------
    ndarray
        Window values; 0 at :math:`x = 0, 1` and :math:`j (1 - 0.75^p)` at :math:`x = 0.5`.
    """
    x = np.asarray(x, dtype=float)
    d = x - 0.5
    return j * (1.0 - (d * d + 0.75) ** p)


def kvatinsky_off(w, a_off, w_c):
    r"""Kvatinsky OFF window :math:`f_{off}(w) = \exp(-\exp((w - a_{off})/w_c))` (TEAM/VTEAM).

    Parameters
    ----------
    w : array_like
        State (m).
    a_off, w_c : float or array_like
        Window position and width (m).

    Returns
    -------
    ndarray
        Values in (0, 1); :math:`e^{-1}` at :math:`w = a_{off}`.
    """
    arg = np.minimum((np.asarray(w, dtype=float) - a_off) / w_c, _EXP_MAX)
    return np.exp(-np.exp(arg))


def kvatinsky_on(w, a_on, w_c):
    r"""Kvatinsky ON window :math:`f_{on}(w) = \exp(-\exp(-(w - a_{on})/w_c))` (TEAM/VTEAM).

    Parameters
    ----------
    w : array_like
        State (m).
    a_on, w_c : float or array_like
        Window position and width (m).

    Returns
    -------
    ndarray
        Values in (0, 1); :math:`e^{-1}` at :math:`w = a_{on}`.
    """
    arg = np.minimum(-(np.asarray(w, dtype=float) - a_on) / w_c, _EXP_MAX)
    return np.exp(-np.exp(arg))
