"""The compiled (block-GEMM) read in float32 equals the per-tile read and counts the same costs;
its noise has the distribution the conductances define.

Reference: the per-tile read of an identically built crossbar (same configuration and seed), and
the closed-form standard deviation of the noisy outputs.
"""

import dataclasses

import numpy as np
import pytest

from neurosim.analog import HardwareConfig
from neurosim.crossbar import ADC, DAC, CostModel, Crossbar, CrossbarConfig
from neurosim.crossbar.readplan import compiled_eligible
from neurosim.devices import DeviceToDeviceVariability, ReadNoise, StuckAtFaults


def _configs():
    rram, hp = "rram_softbounds_gong2018", "hp_tio2_strukov2008"
    return {
        "ideal_tiled": CrossbarConfig(mode="ideal", tile_rows=16, tile_cols=8),
        "ideal_reference_mapping": CrossbarConfig(mode="ideal", mapping="reference", tile_rows=16, tile_cols=9),
        "device_levels_faults": CrossbarConfig(mode="device", device=rram, levels=32, tile_rows=16, tile_cols=16,
                                               nonidealities=(StuckAtFaults(p_on=0.05),), seed=3),
        "device_d2d": CrossbarConfig(mode="device", device=hp, tile_rows=32, tile_cols=16,
                                     nonidealities=(DeviceToDeviceVariability(0.1, ("R_on", "R_off")),), seed=4),
        "circuit_wires": CrossbarConfig(mode="circuit", r_wire=2.0, tile_rows=16, tile_cols=16),
        "circuit_exact_power": CrossbarConfig(mode="circuit", r_wire=2.0, tile_rows=16, tile_cols=16,
                                              cost=CostModel(exact_circuit_power=True)),
        "converters": CrossbarConfig(mode="device", device=rram, tile_rows=16, tile_cols=16,
                                     dac=DAC(bits=7, x_max=1.5), adc=ADC(bits=8)),
    }


@pytest.mark.parametrize("name", list(_configs()))
def test_compiled_float32_read_equals_per_tile_read(name):
    cfg = _configs()[name]
    rng = np.random.default_rng(0)
    W = rng.uniform(-1, 1, size=(20, 40))
    X = rng.uniform(-1.2, 1.2, size=(64, 40))
    ref_xb = Crossbar(W, cfg.replace(read_path="per_tile"), seed=7)
    fast_xb = Crossbar(W, cfg, seed=7)
    ref, got = ref_xb.matmul(X), fast_xb.matmul(X.astype(np.float32))
    assert got.dtype == np.float32
    if cfg.adc.bits is None:
        np.testing.assert_allclose(got, ref, rtol=3e-6, atol=3e-6 * np.abs(ref).max())
    else:  # an output exactly on a decision threshold may land on the neighbouring code
        lsb = np.abs(ref).max() / (2 ** (cfg.adc.bits - 1) - 1)
        diff = np.abs(got - ref)
        assert diff.max() <= lsb * 1.0001 and np.mean(diff > 1e-5 * lsb) < 0.01
    a, b = dataclasses.asdict(ref_xb.cost()), dataclasses.asdict(fast_xb.cost())
    for key in a:
        assert b[key] == pytest.approx(a[key], rel=1e-5, abs=1e-30), key


def test_one_eligibility_rule():
    W = np.ones((3, 4))
    for cfg, expected in [
        (CrossbarConfig(mode="device", mapping="reference", tile_cols=5, nonidealities=(ReadNoise(0.01),)), True),
        (CrossbarConfig(mode="device", dac=DAC(bits=4, encoding="bit_serial")), True),
        (CrossbarConfig(mode="device", read_path="per_tile"), False),
        (CrossbarConfig(mode="device", device="yakopcic_oblea2011"), False),  # nonlinear device
        (CrossbarConfig(mode="circuit", cell="1S1R"), False),  # selector
    ]:
        assert compiled_eligible(Crossbar(W, cfg), False) is expected, cfg


def test_compiled_read_noise_has_the_per_tile_distribution():
    # same mean (the noise-free read) and the same per-output standard deviation, over many reads
    rng = np.random.default_rng(0)
    W = rng.uniform(-1, 1, size=(6, 40))
    x = rng.uniform(-1, 1, size=40)
    cfg = CrossbarConfig(mode="device", device="rram_softbounds_gong2018", tile_rows=16, tile_cols=8,
                         nonidealities=(ReadNoise(0.05),))
    X = np.tile(x, (4000, 1))
    ref = Crossbar(W, cfg.replace(read_path="per_tile"), seed=1).matmul(X)
    got = Crossbar(W, cfg, seed=2).matmul(X.astype(np.float32))
    clean = Crossbar(W, cfg.replace(nonidealities=())).matmul(x[None, :])[0]
    sd_ref, sd_got = ref.std(axis=0), got.std(axis=0)
    assert np.all(sd_ref > 0)
    np.testing.assert_allclose(sd_got, sd_ref, rtol=0.1)  # 4000 samples: ~2 % standard error
    np.testing.assert_allclose(got.mean(axis=0), clean, atol=4 * sd_ref.max() / np.sqrt(4000))
    np.testing.assert_allclose(ref.mean(axis=0), clean, atol=4 * sd_ref.max() / np.sqrt(4000))


def _noisy(**kw):
    return CrossbarConfig(mode="device", device="rram_softbounds_gong2018", tile_rows=16, tile_cols=8,
                          nonidealities=(ReadNoise(0.05),), **kw)


@pytest.mark.parametrize("batch", [8, 300])  # transposed stacked blocks / block by block
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_noisy_compiled_read_same_seed_bit_identical(batch, dtype):
    rng = np.random.default_rng(0)
    W = rng.uniform(-1, 1, size=(20, 40))
    X = rng.uniform(-1, 1, size=(batch, 40))
    cfg = _noisy(dac=DAC(bits=8), adc=ADC(bits=8))

    def reads(seed):
        xb = Crossbar(W, cfg, seed=seed)
        return np.stack([xb.matmul(X.astype(dtype)) for _ in range(6)])

    a = reads(7)
    assert a.dtype == dtype
    assert np.array_equal(a, reads(7))
    assert not np.array_equal(a, reads(8))
    assert not np.array_equal(a[0], a[1])  # every read draws new noise


@pytest.mark.parametrize("batch", [50, 4000])  # transposed stacked blocks / block by block
def test_noisy_compiled_read_standard_deviation_from_the_conductances(batch):
    # no converters: y_j = (1/s) sum_i x_i (G+_ij - G-_ij) with independent relative noise sigma on
    # every device current, so std(y_j) = sigma / s * sqrt(sum_i x_i^2 (G+_ij^2 + G-_ij^2))
    rng = np.random.default_rng(1)
    W = rng.uniform(-1, 1, size=(6, 40))
    x = rng.uniform(-1, 1, size=40)
    sigma = 0.05
    xb = Crossbar(W, _noisy(), seed=2)
    n = 16000
    Y = np.concatenate([xb.matmul(np.tile(x, (batch, 1))) for _ in range(n // batch)])
    G = xb.G
    expected = sigma / xb.map.scale * np.sqrt((x * x) @ (G[:, 0::2] ** 2 + G[:, 1::2] ** 2))
    clean = Crossbar(W, _noisy().replace(nonidealities=())).matmul(x[None, :])[0]
    np.testing.assert_allclose(Y.std(axis=0), expected, rtol=0.03)  # 16000 samples: 0.56 % standard error
    np.testing.assert_allclose(Y.mean(axis=0), clean, atol=4 * expected.max() / np.sqrt(n))
    # successive reads draw independent noise
    R = (Y - clean).reshape(-1, 6)
    assert abs(np.corrcoef(R[:-1].ravel(), R[1:].ravel())[0, 1]) < 4 / np.sqrt(R.size)


def test_noisy_analog_lstm_same_seed_same_output():
    from neurosim.analog import to_analog
    from neurosim.cells import LSTM

    lstm = LSTM(8, 16, seed=0)
    x = np.random.default_rng(0).uniform(-1, 1, size=(5, 4, 8)).astype(np.float32)

    def run(seed):
        hw = HardwareConfig(read_mode="device", dac_bits=8, adc_bits=8, nonidealities=(ReadNoise(0.02),), seed=seed)
        y, (h, c) = to_analog(lstm, hw)(x)
        return np.concatenate([y.ravel(), h.ravel(), c.ravel()])

    a = run(3)
    assert np.array_equal(a, run(3)) and not np.array_equal(a, run(4))
