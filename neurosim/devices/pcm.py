r"""Phase-change memory statistics over deployment time (IBM aihwkit's ``PCMLikeNoiseModel``).

The statistical PCM model that aihwkit publishes and uses for its inference studies
(``aihwkit/inference/noise/pcm.py``; Nandakumar et al., ICECS 2019; Joshi et al., Nat. Commun. 11,
2473 (2020)), written as three non-idealities of the protocol of :mod:`neurosim.devices.nonideal`
(SI units; :math:`x = g / g_{max}`, :math:`t` the time since programming, s):

==========================  ============  =====================================================================
class                       stage         model
==========================  ============  =====================================================================
:class:`PCMProgrammingNoise`  ``write``   :math:`g_{prog} = \max(g_T + \sigma_p(g_T) z, 0)`,
                                          :math:`\sigma_p = \frac{g_{max}}{g_{ref}} \sum_i c_i x^i`
:class:`PCMDrift`             ``drift``   :math:`g(t) = g_{prog} \left(\frac{t + t_0}{t_0}\right)^{-\nu}`,
                                          :math:`\nu = |\mu_\nu(x) + \sigma_\nu(x) z|`
:class:`PCMReadNoise`         ``read_noise`` :math:`\sigma_r = |g(t)|\, Q_s(x_{prog}) \sqrt{\ln\frac{t + t_0 + t_{read}}{2 t_{read}}}`
==========================  ============  =====================================================================

with (aihwkit's code, ``g_relative`` clipped below at :math:`10^{-7}`)

.. math::

    \mu_\nu = \mathrm{clip}(-0.0155 \ln x + 0.0244,\ 0.049,\ 0.1), \qquad
    \sigma_\nu = \mathrm{clip}(-0.0125 \ln x - 0.0059,\ 0.008,\ 0.045),

    Q_s = \min\!\big(0.0088 / \max(x_{prog}^{0.65}, 10^{-3}),\ 0.2\big)

Differences from aihwkit, by design: aihwkit draws the accumulated 1/f noise once per inference time
(a frozen perturbation of the weights); here it is read noise of the ``read_noise`` stage, drawn anew
on every read with the same standard deviation. The drift exponents are drawn from the programmed
conductance (aihwkit: from the target; they differ by the programming noise). ``t`` counts from the
end of programming as everywhere in neurosim; the 1/f noise integrates from ``t_read`` to
:math:`t + t_0` as in aihwkit (its ``t = t_inference + t_0``). ``t=None`` is read as ``t = 0``.

Examples
--------
>>> import numpy as np
>>> d = PCMDrift(g_max=25e-6)
>>> nu = d.sample(np.array([25e-6]), np.random.default_rng(0))
>>> float(d.at(np.array([25e-6]), 0.0, nu)[0])       # no drift at t = 0
2.5e-05
>>> round(float(PCMProgrammingNoise(g_max=25e-6).sigma(np.array([25e-6]))[0]), 13)   # (0.26348+1.965-1.1731) uS
1.05538e-06
"""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

import numpy as np

from neurosim.errors import ParameterError
from neurosim.params import Checked, Param

__all__ = ["PCMProgrammingNoise", "PCMDrift", "PCMReadNoise", "pcm_nonidealities", "pcm_nu_stats",
           "pcm_mean_drift_factor"]

#: aihwkit's default programming-noise polynomial, in S, for a reference g_max of 25 uS
AIHWKIT_PROG_COEFFS = (0.26348e-6, 1.9650e-6, -1.1731e-6)
_ZERO_CLIP = 1e-7
_GMAX = Param("real", low=0.0, low_open=True, unit="S")


def _rng(owner, rng):
    if not isinstance(rng, np.random.Generator):
        raise ParameterError(f"{owner}: rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return rng


def _time(owner: str, t) -> np.ndarray:
    t = np.asarray(0.0 if t is None else t, dtype=float)
    if np.any(~np.isfinite(t)) or np.any(t < 0):
        raise ParameterError(f"{owner}: t (time since programming) must be finite and >= 0 s, got {t!r}")
    return t


def pcm_nu_stats(g, g_max: float):
    r"""Mean and standard deviation of the drift exponent's normal before folding (aihwkit's fit).

    .. math::

        \mu_\nu = \mathrm{clip}(-0.0155 \ln x + 0.0244, 0.049, 0.1),\quad
        \sigma_\nu = \mathrm{clip}(-0.0125 \ln x - 0.0059, 0.008, 0.045),\quad
        x = \max(|g| / g_{max}, 10^{-7})

    Parameters
    ----------
    g : array_like
        Conductances (S).
    g_max : float
        Conductance of the largest weight (S), > 0.

    Returns
    -------
    (ndarray, ndarray)

    Examples
    --------
    >>> mu, sd = pcm_nu_stats([25e-6], 25e-6)
    >>> float(mu[0]), float(sd[0])   # clipped at both ends for x = 1
    (0.049, 0.008)
    """
    lx = np.abs(np.asarray(g, dtype=float)) / g_max
    np.maximum(lx, _ZERO_CLIP, out=lx)
    np.log(lx, out=lx)
    # in place, the same roundings as clip(-0.0155 lx + 0.0244, ...) (clip = min(max(.)))
    mu = np.multiply(lx, -0.0155)
    mu += 0.0244
    np.minimum(np.maximum(mu, 0.049, out=mu), 0.1, out=mu)
    lx *= -0.0125
    lx -= 0.0059
    np.minimum(np.maximum(lx, 0.008, out=lx), 0.045, out=lx)
    return mu, lx


def pcm_mean_drift_factor(g, g_max: float, t, t0: float = 20.0, scale: float = 1.0):
    r"""Closed-form expectation of the drift factor :math:`E[r^{-\nu}]`, :math:`r = (t + t_0)/t_0`.

    With :math:`\nu = s |X|`, :math:`X \sim \mathcal N(\mu, \sigma^2)` (a folded normal, ``s`` the
    drift scale) and :math:`a = s \ln r`:

    .. math::

        E[e^{-a|X|}] = e^{-a\mu + a^2\sigma^2/2}\, \Phi\!\left(\frac{\mu}{\sigma} - a\sigma\right)
                     + e^{a\mu + a^2\sigma^2/2}\, \Phi\!\left(-\frac{\mu}{\sigma} - a\sigma\right)

    Examples
    --------
    >>> round(float(pcm_mean_drift_factor([25e-6], 25e-6, 0.0)[0]), 12)
    1.0
    """
    from scipy.special import ndtr

    mu, sd = pcm_nu_stats(g, g_max)
    a = scale * math.log((float(t) + t0) / t0)
    half = 0.5 * a * a * sd * sd
    return np.exp(-a * mu + half) * ndtr(mu / sd - a * sd) + np.exp(a * mu + half) * ndtr(-mu / sd - a * sd)


@dataclasses.dataclass(frozen=True)
class PCMProgrammingNoise(Checked):
    r"""Programming noise of PCM: Gaussian, with a standard deviation polynomial in :math:`g/g_{max}`.

    .. math::

        g_{prog} = \max\!\big(g_T + s\, \sigma_p(g_T)\, z,\ 0\big), \qquad
        \sigma_p(g) = \frac{g_{max}}{g_{ref}} \Big|\sum_i c_i \left(\frac{g}{g_{max}}\right)^i\Big|

    Stage ``write``: applied once to the conductances programming achieved (the residual error of the
    device's own iterative program-and-verify).

    Parameters
    ----------
    g_max : float
        Conductance of the largest weight (S), > 0 (aihwkit: 25 uS).
    coeffs : tuple of float
        Polynomial coefficients :math:`c_0, c_1, \dots` (S), fitted at ``g_ref`` (aihwkit:
        0.26348, 1.9650, -1.1731 uS).
    g_ref : float
        The :math:`g_{max}` the coefficients were fitted at (S), > 0 (aihwkit: 25 uS).
    scale : float
        Multiplier of the noise (aihwkit's ``prog_noise_scale``), >= 0.

    Examples
    --------
    >>> import numpy as np
    >>> p = PCMProgrammingNoise(g_max=25e-6, scale=0.0)
    >>> p.apply(np.array([1e-5]), np.random.default_rng(0))
    array([1.e-05])
    """

    g_max: float = 25e-6
    coeffs: tuple = AIHWKIT_PROG_COEFFS
    g_ref: float = 25e-6
    scale: float = 1.0

    _params: ClassVar[dict[str, Param]] = {"g_max": _GMAX, "g_ref": _GMAX, "scale": Param("real", low=0.0)}
    stage: ClassVar[str] = "write"

    def _check(self) -> None:
        super()._check()
        c = tuple(self.coeffs)
        if not c or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in c):
            raise ParameterError(f"PCMProgrammingNoise: coeffs must be a non-empty list of finite numbers (S), got {self.coeffs!r}")
        object.__setattr__(self, "coeffs", tuple(float(v) for v in c))

    def sigma(self, g):
        """Standard deviation (S) of the programmed conductance for targets ``g`` (S)."""
        x = np.asarray(g, dtype=float) / self.g_max
        if len(self.coeffs) == 1:
            acc = np.full(x.shape, self.coeffs[0])
        else:  # Horner, in place
            acc = np.multiply(x, self.coeffs[-1])
            acc += self.coeffs[-2]
            for c in self.coeffs[-3::-1]:
                acc *= x
                acc += c
        np.abs(acc, out=acc)
        acc *= self.g_max / self.g_ref
        return acc

    def apply(self, G, rng):
        """Programmed conductances (S) for the written ``G`` (S), clipped at 0 as aihwkit does."""
        G = np.asarray(G, dtype=float)
        if self.scale == 0.0:
            return G.copy()
        z = _rng("PCMProgrammingNoise", rng).standard_normal(G.shape)
        dg = self.sigma(G)  # in place, the same roundings as max(G + scale sigma z, 0)
        if self.scale != 1.0:
            dg *= self.scale
        dg *= z
        dg += G
        return np.maximum(dg, 0.0, out=dg)


@dataclasses.dataclass(frozen=True)
class PCMDrift(Checked):
    r"""PCM conductance drift with a conductance-dependent exponent per device.

    .. math::

        g(t) = g_{prog} \left(\frac{t + t_0}{t_0}\right)^{-\nu}, \qquad
        \nu = s\, |\mu_\nu(x) + \sigma_\nu(x)\, z|, \quad x = g_{prog}/g_{max}

    with :math:`\mu_\nu, \sigma_\nu` of :func:`pcm_nu_stats`. Stage ``drift``.

    Parameters
    ----------
    g_max : float
        Conductance of the largest weight (S), > 0.
    t0 : float
        First read after programming of the drift fit (s), > 0 (aihwkit: 20 s).
    scale : float
        Multiplier of the exponents (aihwkit's ``drift_scale``), >= 0.

    Examples
    --------
    >>> import numpy as np
    >>> d = PCMDrift(g_max=25e-6, t0=20.0)
    >>> float(d.at(np.array([1e-5]), 180.0, np.array([0.05]))[0])    # 1e-5 * 10**-0.05
    8.912509381337456e-06
    """

    g_max: float = 25e-6
    t0: float = 20.0
    scale: float = 1.0

    _params: ClassVar[dict[str, Param]] = {"g_max": _GMAX, "t0": Param("real", low=0.0, low_open=True, unit="s"),
                                           "scale": Param("real", low=0.0)}
    stage: ClassVar[str] = "drift"

    def sample(self, G, rng):
        """Per-device exponents (dimensionless) for programmed conductances ``G`` (S)."""
        mu, sd = pcm_nu_stats(G, self.g_max)
        z = _rng("PCMDrift", rng).standard_normal(np.shape(mu))
        z *= sd  # in place, the same roundings as |mu + sd z| scale
        z += mu
        np.abs(z, out=z)
        if self.scale != 1.0:
            z *= self.scale
        return z

    def factor(self, t, nu, out=None):
        r"""The drift factor :math:`((t + t_0)/t_0)^{-\nu} = e^{-\nu \ln(1 + t/t_0)}`; ``t`` broadcasts against ``nu``.

        The logarithm is taken once per time (not per device); ``out`` (float64 array of the
        broadcast shape) receives the result in place, without temporaries.
        """
        t = _time("PCMDrift", t)
        neg_log = -np.log1p(t / self.t0)
        if out is None:
            return np.exp(np.multiply(nu, neg_log, dtype=float))
        np.multiply(nu, neg_log, out=out)
        return np.exp(out, out=out)

    def at(self, G, t, draw):
        """Conductances (S) ``t`` s after programming to ``G`` (S) with per-device exponents ``draw``."""
        return np.asarray(G, dtype=float) * self.factor(t, draw)


@dataclasses.dataclass(frozen=True)
class PCMReadNoise(Checked):
    r"""PCM 1/f read noise, growing with the time since programming.

    .. math::

        \sigma_r(t) = s\, |g(t)|\, Q_s(x_{prog}) \sqrt{\ln\frac{t + t_0 + t_{read}}{2\, t_{read}}}, \qquad
        Q_s = \min\!\big(0.0088 / \max(x_{prog}^{0.65}, 10^{-3}),\ 0.2\big)

    :math:`g(t)` the conductance as read (after drift), :math:`x_{prog} = |g_{prog}|/g_{max}` from the
    programmed one. Stage ``read_noise`` (``read_std`` takes the programmed conductances as
    ``G_prog``: attribute ``uses_programmed``).

    Parameters
    ----------
    g_max : float
        Conductance of the largest weight (S), > 0.
    t_read : float
        Duration of a read in the 1/f fit (s), > 0 (aihwkit: 250 ns).
    t0 : float
        Time from the start of programming to its end, as in the drift fit (s), > 0 (aihwkit: 20 s).
    scale : float
        Multiplier (aihwkit's ``read_noise_scale``), >= 0.

    Examples
    --------
    >>> import numpy as np
    >>> r = PCMReadNoise(g_max=25e-6)
    >>> q = 0.0088 * np.sqrt(np.log((3600.0 + 20.0 + 250e-9) / 500e-9))
    >>> bool(np.isclose(r.read_std(np.array([25e-6]), 3600.0)[0], 25e-6 * q, rtol=1e-14))
    True
    """

    g_max: float = 25e-6
    t_read: float = 250e-9
    t0: float = 20.0
    scale: float = 1.0

    _params: ClassVar[dict[str, Param]] = {"g_max": _GMAX, "t_read": Param("real", low=0.0, low_open=True, unit="s"),
                                           "t0": Param("real", low=0.0, low_open=True, unit="s"),
                                           "scale": Param("real", low=0.0)}
    stage: ClassVar[str] = "read_noise"
    uses_programmed: ClassVar[bool] = True

    def q_s(self, G_prog):
        """The 1/f amplitude :math:`Q_s` (dimensionless) of programmed conductances (S)."""
        x = np.abs(np.asarray(G_prog, dtype=float)) / self.g_max
        # min(0.0088 / max(x^0.65, 1e-3), 0.2) is 0.2 for every x below x_c = (0.0088/0.2)^(1/0.65): clipping
        # x at x_c first gives the same values without log(0) (slow -inf arithmetic) or the power
        x_c = (0.0088 / 0.2) ** (1.0 / 0.65)
        q = np.log(np.maximum(x, x_c))
        q *= -0.65
        np.exp(q, out=q)
        q *= 0.0088
        return np.minimum(q, 0.2, out=q)

    def amplitude(self, G_prog):
        """Separable form ``read_std = |G| amplitude(G_prog) time_factor(t)``: ``scale * Q_s(G_prog)``."""
        return self.scale * self.q_s(G_prog)

    def time_factor(self, t):
        r""":math:`\sqrt{\ln((t + t_0 + t_{read}) / (2 t_{read}))}` for ``t`` s after programming."""
        t = _time("PCMReadNoise", t)
        return np.sqrt(np.log((t + self.t0 + self.t_read) / (2.0 * self.t_read)))

    def read_std(self, G, t=None, G_prog=None):
        """Per-device standard deviation (S) of a read ``t`` s after programming of conductances ``G``
        (S, as read); ``G_prog`` (S) the programmed ones (default ``G``)."""
        G = np.asarray(G, dtype=float)
        Gp = G if G_prog is None else G_prog
        return np.abs(G) * self.amplitude(Gp) * self.time_factor(t)


def pcm_nonidealities(g_max: float = 25e-6, t0: float = 20.0, t_read: float = 250e-9, prog_scale: float = 1.0,
                      drift_scale: float = 1.0, read_scale: float = 1.0) -> tuple:
    """The three PCM non-idealities with aihwkit's defaults (pass to ``nonidealities=``).

    Examples
    --------
    >>> [type(n).__name__ for n in pcm_nonidealities()]
    ['PCMProgrammingNoise', 'PCMDrift', 'PCMReadNoise']
    """
    return (PCMProgrammingNoise(g_max=g_max, scale=prog_scale), PCMDrift(g_max=g_max, t0=t0, scale=drift_scale),
            PCMReadNoise(g_max=g_max, t_read=t_read, t0=t0, scale=read_scale))
