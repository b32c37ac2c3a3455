"""Input and output converters: DAC encodings and ADC quantization with saturation.

Examples
--------
>>> import numpy as np
>>> from neurosim.crossbar.config import DAC, ADC
>>> dac_quantize(DAC(bits=2, x_max=1.0), np.array([0.2, 0.8, -2.0]))
array([ 0.,  1., -1.])
>>> adc_convert(ADC(bits=3), np.array([0.26, 5.0]), v_range=1.0)
array([0.33333333, 1.        ])
"""

from __future__ import annotations

import numpy as np

from neurosim.crossbar.config import ADC, DAC
from neurosim.errors import ParameterError
from neurosim.sampling import normal_from_variance

__all__ = ["dac_codes", "dac_unit", "dac_quantize", "bit_planes", "adc_round", "adc_convert"]


def _steps(bits: int) -> int:
    r"""Magnitude steps of a sign-magnitude converter of ``bits`` bits."""
    return 2 ** (bits - 1) - 1


def dac_codes(dac: DAC, X: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    r"""The DAC's integer codes of ``X`` (``bits`` set), or ``X`` itself (ideal DAC), in ``out``.

    The row voltage of a code is ``v_read * code * dac_unit(dac)`` (V). This and :func:`adc_round`
    are the converter arithmetic of every read path (per tile and compiled).

    .. math:: c = \mathrm{round}\!\left(\mathrm{clip}(N x / x_\max, -N, N)\right), \qquad N = 2^{b-1} - 1
    """
    if out is None:
        out = np.empty_like(X, dtype=np.result_type(X, np.float32))
    if dac.bits is None:
        np.copyto(out, X)
        return out
    n = _steps(dac.bits)
    np.multiply(X, n / dac.x_max, out=out)
    np.clip(out, -n, n, out=out)
    np.rint(out, out=out)
    return out


def dac_unit(dac: DAC) -> float:
    r"""Normalised drive :math:`V / v_\mathrm{read}` of one unit of :func:`dac_codes`' output."""
    return 1.0 / dac.x_max if dac.bits is None else 1.0 / _steps(dac.bits)


def dac_quantize(dac: DAC, X: np.ndarray) -> np.ndarray:
    r"""Inputs as the DAC represents them (input units): clipped and rounded when ``bits`` is set.

    Parameters
    ----------
    dac : DAC
        The converter.
    X : ndarray
        Inputs (input units).

    Returns
    -------
    ndarray
        Represented inputs (input units); the row voltage is ``v_read * result / x_max`` (V).

    .. math:: x_q = \frac{x_\max}{N}\,\mathrm{round}\!\left(N\,\mathrm{clip}(x/x_\max, -1, 1)\right),
              \quad N = 2^{b-1} - 1
    """
    if dac.bits is None:
        return X
    return dac_codes(dac, np.asarray(X, dtype=float)) * (dac.x_max / _steps(dac.bits))


def bit_planes(dac: DAC, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Bit-serial encoding: signed binary planes and their digital weights.

    Parameters
    ----------
    dac : DAC
        The converter (``bits`` set).
    X : ndarray, shape (batch, in)
        Inputs (input units).

    Returns
    -------
    planes : ndarray, shape (bits - 1, batch, in)
        Normalised drive :math:`V / v_\mathrm{read}` of each cycle: ``sign(x)`` where bit ``k`` of
        ``|x_q|`` is set, else 0.
    weights : ndarray, shape (bits - 1,)
        ``2**k / N`` so that ``sum_k weights[k] * planes[k] = x_q / x_max``.

    .. math:: \frac{x_q}{x_\max} = \frac{\mathrm{sign}(x)}{N} \sum_{k=0}^{b-2} 2^k\, \beta_k
    """
    q = dac_codes(dac, np.asarray(X, dtype=float)).astype(np.int64)
    mag, sign = np.abs(q), np.sign(q).astype(np.float64)
    ks = np.arange(dac.bits - 1)
    bits = (mag[None, ...] >> ks[:, None, None]) & 1
    return bits * sign[None, ...], (2.0**ks) / _steps(dac.bits)


def adc_round(z: np.ndarray, adc: ADC) -> np.ndarray:
    r"""The ADC's decision on inputs ``z`` given in LSB units (``z = v N / v_range``), in place.

    .. math:: c = \mathrm{round}\!\left(\mathrm{clip}(z, -N, N)\right) \quad(\text{clip only with saturation})
    """
    n = _steps(adc.bits)
    if adc.saturation:
        np.clip(z, -n, n, out=z)
    np.rint(z, out=z)
    return z


def adc_convert(adc: ADC, v: np.ndarray, v_range, rng: np.random.Generator | None = None) -> np.ndarray:
    r"""The value the ADC reports for an input voltage ``v`` (V), in volts.

    Parameters
    ----------
    adc : ADC
        The converter.
    v : ndarray
        Converter input (V): transimpedance gain times output current.
    v_range : float or ndarray broadcasting against ``v``
        Full scale (V) (the configured or calibrated one).
    rng : numpy.random.Generator, optional
        Source of the readout noise; required when ``adc.noise > 0``.

    Returns
    -------
    ndarray
        Quantized (and, with ``saturation``, clipped) voltage (V); ``v`` itself when ``bits`` is None
        and the readout is noise-free.

    .. math:: v_q = \frac{v_r}{N}\,\mathrm{round}\!\left(N\,\mathrm{clip}((v + \eta v_r z) / v_r, -1, 1)\right),
        \qquad z \sim \mathcal N(0, 1)
    """
    v = np.array(v, dtype=np.float64)  # a private copy, changed in place below
    v_range = np.broadcast_to(np.asarray(v_range, dtype=np.float64), v.shape)
    if adc.noise > 0:
        if rng is None:
            raise ParameterError(f"adc_convert: rng is required for ADC noise {adc.noise}, got None")
        v += normal_from_variance(rng, np.ascontiguousarray(np.square(adc.noise * v_range)))
    if adc.bits is None:  # ideal converter: neither quantizes nor saturates
        return v
    n = _steps(adc.bits)
    v *= n / v_range
    adc_round(v, adc)
    v *= v_range / n
    return v
