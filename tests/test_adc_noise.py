"""Readout (TIA + ADC) input-referred noise: one Gaussian per conversion, a fraction of full scale.

Independent reference: the definition itself, measured on the outputs only. The output step of one
column (its LSB, in weight units) is read off the noise-free outputs; the full scale is N LSB, so
the noise is ``noise * N`` LSB rms before rounding, and after rounding the output's standard
deviation is ``sqrt(s^2 + 1/12)`` LSB (Sheppard's correction, exact to <1e-3 for s > 1 LSB).
"""

import numpy as np
import pytest

from neurosim.crossbar import ADC, DAC, Crossbar, CrossbarConfig
from neurosim.crossbar.periphery import adc_convert
from neurosim.devices import ReadNoise
from neurosim.errors import ParameterError

BITS, ETA = 6, 0.05
N = 2 ** (BITS - 1) - 1


def _config(path: str, eta: float) -> CrossbarConfig:
    # "nonlinear": a nonlinear device, read tile by tile; "per_tile": the same linear device forced
    # tile by tile; "compiled": the compiled read (float64, and float32 inputs)
    device = "yakopcic_oblea2011" if path == "nonlinear" else "rram_softbounds_gong2018"
    return CrossbarConfig(mode="device", device=device, tile_rows=64, tile_cols=16, seed=3,
                          read_path="per_tile" if path == "per_tile" else "auto",
                          dac=DAC(bits=8), adc=ADC(bits=BITS, noise=eta))


def _read(path: str, W, X, eta: float, seed: int, bits=BITS):
    cfg = _config(path, eta)
    xb = Crossbar(W, cfg.replace(adc=cfg.adc.replace(bits=bits)), seed=seed)
    return xb.matmul(X.astype(np.float32)).astype(float) if path == "compiled32" else xb.matmul(X)


@pytest.mark.parametrize("path", ["compiled", "compiled32", "per_tile", "nonlinear"])
def test_adc_noise_is_a_fraction_of_full_scale(path):
    rng = np.random.default_rng(0)
    W = rng.uniform(-1, 1, size=(6, 40))
    clean = _read(path, W, rng.uniform(-1, 1, size=(3000, 40)), 0.0, 1)
    lsb = np.array([np.diff(np.unique(col)).min() for col in clean.T])  # one column's output step
    assert np.allclose(clean / lsb, np.rint(clean / lsb), atol=1e-6)  # the outputs sit on that grid
    x0 = rng.uniform(-0.5, 0.5, size=40)
    mean0 = _read(path, W, x0[None, :], 0.0, 1, bits=None)[0]  # rounding a noisy input averages to this
    y = _read(path, W, np.tile(x0, (4000, 1)), ETA, 2)
    expected = np.sqrt((ETA * N) ** 2 + 1 / 12)  # LSB
    np.testing.assert_allclose(y.std(axis=0) / lsb, expected, rtol=0.06)  # 4000 draws: 1.1 % standard error
    np.testing.assert_allclose(y.mean(axis=0), mean0, atol=5 * expected * lsb.max() / np.sqrt(4000))


def test_adc_noise_adds_to_read_noise_in_quadrature():
    # the compiled read draws N(0, sigma^2 x^2 S + readout variance) once: its spread equals the
    # per-tile read's, which draws the device and the readout noise separately
    rng = np.random.default_rng(1)
    W = rng.uniform(-1, 1, size=(6, 40))
    x = rng.uniform(-1, 1, size=40)
    cfg = CrossbarConfig(mode="device", device="rram_softbounds_gong2018", tile_rows=16, tile_cols=8,
                         nonidealities=(ReadNoise(0.05),), adc=ADC(noise=0.02))
    X = np.tile(x, (4000, 1))
    ref = Crossbar(W, cfg.replace(read_path="per_tile"), seed=1).matmul(X).std(axis=0)
    got = Crossbar(W, cfg, seed=2).matmul(X.astype(np.float32)).std(axis=0)
    only_device = Crossbar(W, cfg.replace(adc=ADC()), seed=3).matmul(X).std(axis=0)
    np.testing.assert_allclose(got, ref, rtol=0.1)
    assert np.all(ref > 1.2 * only_device)  # the readout noise is there


def test_adc_noise_same_seed_same_outputs_and_bad_values():
    rng = np.random.default_rng(0)
    W, X = rng.uniform(-1, 1, size=(6, 40)), rng.uniform(-1, 1, size=(50, 40))
    for path in ("compiled", "compiled32", "per_tile"):
        assert np.array_equal(_read(path, W, X, ETA, 5), _read(path, W, X, ETA, 5))
        assert not np.array_equal(_read(path, W, X, ETA, 5), _read(path, W, X, ETA, 6))
    with pytest.raises(ParameterError, match="ADC: noise must be a real number in \\[0, 1\\], got -0.1"):
        ADC(noise=-0.1)
    with pytest.raises(ParameterError, match="adc_convert: rng is required"):
        adc_convert(ADC(noise=0.1), np.zeros(3), 1.0)
