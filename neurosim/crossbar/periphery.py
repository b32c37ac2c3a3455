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

__all__ = ["dac_quantize", "bit_planes", "adc_convert"]


def _steps(bits: int) -> int:
    """Magnitude steps of a sign-magnitude converter of ``bits`` bits."""
    return 2 ** (bits - 1) - 1


def dac_quantize(dac: DAC, X: np.ndarray) -> np.ndarray:
    """Inputs as the DAC represents them (input units): clipped and rounded when ``bits`` is set.

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

    .. math:: x_q = \\frac{x_\\max}{N}\\,\\mathrm{round}\\!\\left(N\\,\\mathrm{clip}(x/x_\\max, -1, 1)\\right),
              \\quad N = 2^{b-1} - 1
    """
    if dac.bits is None:
        return X
    n = _steps(dac.bits)
    return dac.x_max * np.round(n * np.clip(X / dac.x_max, -1.0, 1.0)) / n


def bit_planes(dac: DAC, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bit-serial encoding: signed binary planes and their digital weights.

    Parameters
    ----------
    dac : DAC
        The converter (``bits`` set).
    X : ndarray, shape (batch, in)
        Inputs (input units).

    Returns
    -------
    planes : ndarray, shape (bits - 1, batch, in)
        Row voltages (V) of each cycle: ``sign(x) * v_read`` where bit ``k`` of ``|x_q|`` is set, else 0.
    weights : ndarray, shape (bits - 1,)
        ``2**k / N`` so that ``sum_k weights[k] * planes[k] = v_read * x_q / x_max``.

    .. math:: \\frac{x_q}{x_\\max} = \\frac{\\mathrm{sign}(x)}{N} \\sum_{k=0}^{b-2} 2^k\\, \\beta_k
    """
    n = _steps(dac.bits)
    q = np.round(n * np.clip(X / dac.x_max, -1.0, 1.0)).astype(np.int64)
    mag, sign = np.abs(q), np.sign(q).astype(np.float64)
    ks = np.arange(dac.bits - 1)
    bits = (mag[None, ...] >> ks[:, None, None]) & 1
    planes = bits * (sign[None, ...] * dac.v_read)
    return planes, (2.0**ks) / n


def adc_convert(adc: ADC, v: np.ndarray, v_range, rng: np.random.Generator | None = None) -> np.ndarray:
    """The value the ADC reports for an input voltage ``v`` (V), in volts.

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

    .. math:: v_q = \\frac{v_r}{N}\\,\\mathrm{round}\\!\\left(N\\,\\mathrm{clip}((v + \\eta v_r z) / v_r, -1, 1)\\right),
        \\qquad z \\sim \\mathcal N(0, 1)
    """
    if adc.noise > 0:
        if rng is None:
            raise ParameterError(f"adc_convert: rng is required for ADC noise {adc.noise}, got None")
        v = v + (adc.noise * np.asarray(v_range)) * rng.standard_normal(np.shape(v))
    if adc.bits is None:  # ideal converter: neither quantizes nor saturates
        return v
    n = _steps(adc.bits)
    r = v / v_range
    if adc.saturation:
        r = np.clip(r, -1.0, 1.0)
    return v_range * np.round(n * r) / n
