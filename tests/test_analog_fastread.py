"""The frozen (block-GEMM) read equals the crossbar's own read and counts the same costs.

Reference: ``Crossbar.matmul`` of an identically built crossbar (same configuration and seed).
"""

import dataclasses

import numpy as np
import pytest

from neurosim.analog import HardwareConfig
from neurosim.analog.fastread import FrozenRead, frozen_read_or_none
from neurosim.crossbar import ADC, DAC, CostModel, Crossbar, CrossbarConfig
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
def test_frozen_read_equals_crossbar_read(name):
    cfg = _configs()[name]
    rng = np.random.default_rng(0)
    W = rng.uniform(-1, 1, size=(20, 40))
    X = rng.uniform(-1.2, 1.2, size=(64, 40))
    ref_xb = Crossbar(W, cfg, rng=np.random.default_rng(7))
    fast_xb = Crossbar(W, cfg, rng=np.random.default_rng(7))
    frozen = FrozenRead(fast_xb)
    ref, got = ref_xb.matmul(X), frozen.matmul(X)
    if cfg.adc.bits is None:
        np.testing.assert_allclose(got, ref, rtol=1e-11, atol=1e-12 * np.abs(ref).max())
    else:  # an output exactly on a decision threshold may land on the neighbouring code
        lsb = np.abs(ref).max() / (2 ** (cfg.adc.bits - 1) - 1)
        diff = np.abs(got - ref)
        assert diff.max() <= lsb * 1.0001 and np.mean(diff > 1e-9 * lsb) < 0.01
    a, b = dataclasses.asdict(ref_xb.cost()), dataclasses.asdict(fast_xb.cost())
    if cfg.cost.exact_circuit_power:
        # the definition, tile by tile: the drivers deliver v Y v through each tile's input admittance
        # (Crossbar.matmul's fused path uses the cells' sum V^2 G instead; reported to the crossbar)
        V = cfg.dac.v_read * X / cfg.dac.x_max
        a["e_array"] = cfg.cost.t_read * sum(
            float(np.sum((V[:, t.r0:t.r1] @ t.linear_map(None, False).Y) * V[:, t.r0:t.r1])) for t in ref_xb.tiles)
    for key in a:
        assert b[key] == pytest.approx(a[key], rel=1e-9, abs=1e-30), key


def test_frozen_read_used_only_when_reads_can_be_frozen():
    W = np.ones((3, 4))
    noisy_ref = Crossbar(W, CrossbarConfig(mode="device", mapping="reference", tile_cols=5,
                                           nonidealities=(ReadNoise(0.01),)))
    assert frozen_read_or_none(noisy_ref, HardwareConfig(), np.float64) is None  # shared reference noise
    plain = Crossbar(W, CrossbarConfig(mode="device"))
    assert frozen_read_or_none(plain, HardwareConfig(step_time=1e-6), np.float64) is None  # drift along time
    assert isinstance(frozen_read_or_none(plain, HardwareConfig(), np.float64), FrozenRead)
    pulse = Crossbar(W, CrossbarConfig(mode="device", dac=DAC(bits=4, encoding="bit_serial")))
    assert frozen_read_or_none(pulse, HardwareConfig(), np.float64) is None


def test_frozen_read_noise_has_the_crossbars_distribution():
    # same mean (the noise-free read) and the same per-output standard deviation, over many reads
    rng = np.random.default_rng(0)
    W = rng.uniform(-1, 1, size=(6, 40))
    x = rng.uniform(-1, 1, size=40)
    cfg = CrossbarConfig(mode="device", device="rram_softbounds_gong2018", tile_rows=16, tile_cols=8,
                         nonidealities=(ReadNoise(0.05),))
    X = np.tile(x, (4000, 1))
    ref = Crossbar(W, cfg, rng=np.random.default_rng(1)).matmul(X)
    got = FrozenRead(Crossbar(W, cfg, rng=np.random.default_rng(2))).matmul(X)
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
def test_noisy_frozen_read_same_seed_bit_identical(batch, dtype):
    rng = np.random.default_rng(0)
    W = rng.uniform(-1, 1, size=(20, 40))
    X = rng.uniform(-1, 1, size=(batch, 40))
    cfg = _noisy(dac=DAC(bits=8), adc=ADC(bits=8))

    def reads(seed):
        fr = FrozenRead(Crossbar(W, cfg, rng=np.random.default_rng(seed)), dtype)
        return np.stack([fr.matmul(X) for _ in range(6)])

    a = reads(7)
    assert a.dtype == dtype
    assert np.array_equal(a, reads(7))
    assert not np.array_equal(a, reads(8))
    assert not np.array_equal(a[0], a[1])  # every read draws new noise


@pytest.mark.parametrize("batch", [50, 4000])  # transposed stacked blocks / block by block
def test_noisy_frozen_read_standard_deviation_from_the_conductances(batch):
    # no converters: y_j = (1/s) sum_i x_i (G+_ij - G-_ij) with independent relative noise sigma on
    # every device current, so std(y_j) = sigma / s * sqrt(sum_i x_i^2 (G+_ij^2 + G-_ij^2))
    rng = np.random.default_rng(1)
    W = rng.uniform(-1, 1, size=(6, 40))
    x = rng.uniform(-1, 1, size=40)
    sigma = 0.05
    xb = Crossbar(W, _noisy(), rng=np.random.default_rng(2))
    frozen = FrozenRead(xb, np.float64)
    n = 16000
    Y = np.concatenate([frozen.matmul(np.tile(x, (batch, 1))) for _ in range(n // batch)])
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
