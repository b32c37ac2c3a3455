"""Crossbar API, mapping, converters, ideal and device reads, programming, cost, configuration.

References: numpy matmul of the weights (ideal reads), hand-computed mapping, converter and cost
values, the closed-form soft-bounds pulse response (write-verify pulse counts), and the analytic
distributions / scalings of read noise and retention drift.
"""

import dataclasses
import math
from typing import ClassVar

import numpy as np
import pytest

from neurosim import ParameterError
from neurosim.crossbar import ADC, DAC, Crossbar, CrossbarConfig, Programming, WeightMap
from neurosim.crossbar.periphery import adc_convert, bit_planes, dac_quantize
from neurosim.devices import NonlinearReadIV, ReadNoise, RetentionDrift, SoftBoundsDevice, StuckAtFaults, load_device


def rel(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))) / np.max(np.abs(b)))


# ---------------------------------------------------------------- ideal reads
@pytest.mark.parametrize("mapping", ["differential", "reference"])
@pytest.mark.parametrize("shape,tile", [((3, 5), (128, 128)), ((70, 130), (32, 16)), ((1, 1), (4, 4))])
def test_ideal_equals_matmul(rng, mapping, shape, tile):
    W = rng.normal(size=shape)
    X = rng.normal(size=(7, shape[1]))
    xb = Crossbar(W, CrossbarConfig(mapping=mapping, tile_rows=tile[0], tile_cols=tile[1]))
    assert rel(xb.matmul(X), X @ W.T) < 1e-12
    assert rel(xb.matvec(X[0]), W @ X[0]) < 1e-12
    Y = rng.normal(size=(4, shape[0]))
    assert rel(xb.matmul_transposed(Y), Y @ W) < 1e-12


def test_tiles_split_the_matrix(rng):
    W = rng.normal(size=(70, 130))
    xb = Crossbar(W, CrossbarConfig(tile_rows=32, tile_cols=16))
    # 130 inputs over 32-row tiles, 70 outputs over 8 differential pairs per tile
    assert len(xb.tiles) == math.ceil(130 / 32) * math.ceil(70 / 8)
    assert xb.G.shape == (130, 2 * 70)
    assert rel(xb.weights, W) < 1e-12


def test_read_currents_hand_values():
    W = np.array([[1.0, -0.5]])  # one output, two inputs
    cfg = CrossbarConfig(g_min=1e-6, g_max=1e-4, dac=DAC(v_read=0.2))
    xb = Crossbar(W, cfg)
    # w_max = 1: G+ = [1e-4, 1e-6], G- = [1e-6, 1e-6 + 0.5 * 0.99e-4]
    G = np.array([[1e-4, 1e-6], [1e-6, 1e-6 + 0.5 * 0.99e-4]])
    assert np.allclose(xb.G, G, rtol=1e-14, atol=0)
    v = np.array([0.2, -0.1])
    assert np.allclose(xb.read_currents(v), v @ G, rtol=1e-14, atol=0)


# ---------------------------------------------------------------- mapping
@pytest.mark.parametrize("mapping", ["differential", "reference"])
@pytest.mark.parametrize("levels", [2, 3, 5, 16, 33, None])
def test_mapping_round_trip_within_half_a_level(rng, mapping, levels):
    W = rng.uniform(-2.0, 2.0, size=(9, 11))
    if mapping == "reference" and levels == 2:
        with pytest.raises(ParameterError, match="levels must be an integer >= 3 for mapping='reference'"):
            WeightMap(mapping, g_min=2e-6, g_max=5e-5, w_max=2.0, levels=levels)
        return
    m = WeightMap(mapping, g_min=2e-6, g_max=5e-5, w_max=2.0, levels=levels)
    G = m.to_conductance(W)
    assert G.min() >= 2e-6 - 1e-20 and G.max() <= 5e-5 + 1e-20
    back = m.to_weights(G)
    if levels is None:
        assert np.max(np.abs(back - W)) < 1e-12
    else:
        step = (5e-5 - 2e-6) / (levels - 1) / m.scale  # one level in weight units, by hand
        assert np.max(np.abs(back - W)) <= 0.5 * step * (1 + 1e-9)
        # every conductance is on a level
        k = (G - 2e-6) / ((5e-5 - 2e-6) / (levels - 1))
        assert np.max(np.abs(k - np.round(k))) < 1e-9


def test_reference_mapping_hand_values():
    m = WeightMap("reference", g_min=0.0, g_max=2e-5, w_max=1.0)
    G = m.to_conductance(np.array([[1.0, -0.5]]))  # (2 inputs, 1 output + ref)
    assert np.allclose(G, [[2e-5, 1e-5], [0.5e-5, 1e-5]], rtol=1e-14)
    # 4 levels: the centre 1e-5 is not a level; the reference is the level nearest it
    m4 = WeightMap("reference", g_min=0.0, g_max=3e-5, w_max=1.0, levels=4)
    assert m4.g_ref in (1e-5, 2e-5)


# ---------------------------------------------------------------- converters
def test_dac_and_adc_hand_values():
    d = DAC(bits=4, x_max=2.0)  # 7 magnitude steps
    x = np.array([0.3, -1.1, 2.5, -3.0, 0.14])  # 7 x / 2 = 1.05, -3.85, clip, clip, 0.49
    assert np.allclose(dac_quantize(d, x), [2 / 7, -8 / 7, 2.0, -2.0, 0.0], rtol=1e-15)
    a = ADC(bits=3)  # 3 steps
    assert np.allclose(adc_convert(a, np.array([0.55, 0.1, -2.0, 0.84]), 1.0), [2 / 3, 0.0, -1.0, 1.0], rtol=1e-15)
    assert np.allclose(adc_convert(ADC(bits=3, saturation=False), np.array([-2.0]), 1.0), [-2.0])
    assert np.allclose(adc_convert(ADC(), np.array([5.0]), 1.0), [5.0])  # ideal: neither rounds nor clips


def test_bit_planes_reassemble_the_input(rng):
    d = DAC(bits=6, v_read=0.3)
    X = rng.uniform(-1, 1, size=(5, 4))
    planes, w = bit_planes(d, X)
    assert planes.shape == (5, 5, 4)
    assert set(np.unique(planes)) <= {-1.0, 0.0, 1.0}  # drive in units of v_read
    assert np.allclose(np.tensordot(w, planes, axes=1), np.round(31 * X) / 31, rtol=1e-14)


@pytest.mark.parametrize("encoding", ["amplitude", "bit_serial", "pulse_width"])
def test_encodings_compute_the_quantized_product(rng, encoding):
    W = rng.normal(size=(6, 10))
    X = rng.uniform(-1, 1, size=(8, 10))
    xb = Crossbar(W, CrossbarConfig(dac=DAC(bits=5, encoding=encoding)))
    Xq = np.round(15 * X) / 15  # hand-quantized inputs
    assert rel(xb.matmul(X), Xq @ W.T) < 1e-12


def test_adc_error_is_at_most_half_an_lsb_per_tile(rng):
    W = rng.normal(size=(12, 40))
    X = rng.uniform(-1, 1, size=(50, 40))
    cfg = CrossbarConfig(tile_rows=16, adc=ADC(bits=6))
    xb = Crossbar(W, cfg)
    err = np.abs(xb.matmul(X) - X @ W.T)
    # the calibrated full scale of a tile is max_k sum_i |W_ki| (weight units), 31 steps
    bound = 0
    for r0 in range(0, 40, 16):
        bound += np.max(np.sum(np.abs(W[:, r0 : r0 + 16]), axis=1)) / 31 / 2
    assert err.max() <= bound * (1 + 1e-9)
    assert err.max() > 0.05 * bound  # the quantization is really there


def test_adc_saturation_clips(rng):
    W = np.ones((1, 4))
    unit = 1e4 * 0.2 * 0.99e-4  # gain * v_read * (g_max - g_min) / w_max: volts per weight unit
    xb = Crossbar(W, CrossbarConfig(adc=ADC(bits=8, v_range=2 * unit)))  # full scale = 2 weight units
    assert np.isclose(xb.matvec(np.ones(4))[0], 2.0, rtol=1e-12)  # 4 clips to 2
    assert abs(xb.matvec(np.full(4, 0.25))[0] - 1.0) <= 2 / 127 / 2 + 1e-12


# ---------------------------------------------------------------- errors
def test_bad_input_errors(rng):
    W = rng.normal(size=(3, 4))
    xb = Crossbar(W)
    with pytest.raises(ParameterError, match=r"x must have shape \(4,\), got \(5,\)"):
        xb.matvec(np.ones(5))
    with pytest.raises(ParameterError, match=r"X must have shape \(batch, 4\)"):
        xb.matmul(np.ones((2, 3)))
    with pytest.raises(ParameterError, match="must be finite"):
        xb.matmul(np.array([[1.0, np.nan, 0.0, 0.0]]))
    with pytest.raises(ParameterError, match="weights must be finite"):
        Crossbar(np.array([[np.inf, 1.0]]))
    with pytest.raises(ParameterError, match=r"weights must lie in \[-w_max, w_max\] = \[-1, 1\] when clip=False"):
        Crossbar(np.array([[2.0, 0.5]]), CrossbarConfig(w_max=1.0))
    clipped = Crossbar(np.array([[2.0, 0.5]]), CrossbarConfig(w_max=1.0, clip=True))
    assert np.allclose(clipped.matvec([1.0, 1.0]), [1.5])
    with pytest.raises(ParameterError, match="tile_cols must be even"):
        CrossbarConfig(tile_cols=7)
    with pytest.raises(ParameterError, match="bits must be an integer in"):
        DAC(encoding="bit_serial")
    with pytest.raises(ParameterError, match="mode must be one of"):
        CrossbarConfig(mode="spice")


@dataclasses.dataclass(frozen=True)
class _SmallArrayDevice(SoftBoundsDevice):
    max_array_size: ClassVar[tuple] = (64, 64)


def test_tile_larger_than_the_device_allows():
    dev = _SmallArrayDevice()
    Crossbar(np.ones((2, 2)), CrossbarConfig(device=dev, tile_rows=64, tile_cols=64))
    with pytest.raises(ParameterError, match=r"tile_rows x tile_cols must be at most 64 x 64 .* got 128 x 64"):
        Crossbar(np.ones((2, 2)), CrossbarConfig(device=dev, tile_rows=128, tile_cols=64))


def test_card_array_table_limits_the_tile(tmp_path):
    from neurosim.resources import data_dir

    text = (data_dir("devices") / "rram_softbounds_gong2018.toml").read_text()
    card = tmp_path / "small_rram.toml"
    card.write_text(text + "\n[array]\nmax_rows = 32\nmax_cols = 16\n")
    Crossbar(np.ones((2, 2)), CrossbarConfig(device=str(card), tile_rows=32, tile_cols=16))
    with pytest.raises(ParameterError, match=r"at most 32 x 16 .* got 32 x 32"):
        Crossbar(np.ones((2, 2)), CrossbarConfig(device=str(card), tile_rows=32, tile_cols=32))
    card.write_text(text + "\n[array]\nmax_rows = 0\nmax_cols = 16\n")
    with pytest.raises(ParameterError, match=r"small_rram.toml: key 'max_rows': must be an integer >= 1, got 0"):
        Crossbar(np.ones((2, 2)), CrossbarConfig(device=str(card)))


def test_window_outside_the_device_is_an_error():
    with pytest.raises(ParameterError, match="conductance window"):
        Crossbar(np.ones((1, 1)), CrossbarConfig(device="rram_softbounds_gong2018", g_max=1e-3))


# ---------------------------------------------------------------- configuration
def test_config_toml_round_trip(tmp_path):
    cfg = CrossbarConfig(
        device="rram_softbounds_gong2018", cell="1T1R", tile_rows=64, r_wire=2.5, mapping="reference",
        levels=32, dac=DAC(bits=6, encoding="bit_serial"), adc=ADC(bits=8, v_range=0.5), mode="device",
        nonidealities=(ReadNoise(0.02), RetentionDrift(nu=0.05, t0=1.0), StuckAtFaults(p_on=0.01)),
        programming=Programming(method="write_verify", tolerance=0.02), seed=7,
    )
    path = tmp_path / "xb.toml"
    cfg.to_toml(path)
    assert CrossbarConfig.from_toml(path) == cfg
    assert CrossbarConfig.from_dict(cfg.to_dict()) == cfg
    with_model = CrossbarConfig(device=SoftBoundsDevice(G_min=2e-6, G_max=3e-5, n_levels=16, initial_state=2e-6))
    assert CrossbarConfig.from_toml(with_model.to_toml()) == with_model
    with pytest.raises(ParameterError, match=r"unknown key\(s\) \['tiles'\]"):
        CrossbarConfig.from_dict({"tiles": 3})


# ---------------------------------------------------------------- programming
def test_write_verify_pulse_counts_match_the_closed_form():
    dev = load_device("rram_softbounds_gong2018")  # soft bounds, gamma = 1, starts at G_min
    prog = Programming(method="write_verify", tolerance=0.01, max_pulses=3000)
    W = np.array([[0.9, 0.5, 0.1, 0.3]])
    xb = Crossbar(W, CrossbarConfig(device=dev, programming=prog, mapping="reference", w_max=1.0))
    res = xb.tiles[0].program_result
    span = dev.G_max - dev.G_min
    tol = 0.01 * span
    target = xb.tiles[0].G_target
    assert np.all(np.abs(res.G - target) <= tol)
    # G_n = G_max - (G_max - G_0)(1 - a)^n: first n reaching target - tol (steps < tol: no overshoot)
    expect = np.ceil(np.log((dev.G_max - target + tol) / (dev.G_max - dev.G_min)) / np.log(1 - dev.alpha_up))
    expect = np.where(target - dev.G_min <= tol, 0, expect)
    assert np.array_equal(res.pulses, expect.astype(int))
    assert res.rounds == int(expect.max())
    assert np.isclose(res.time, res.rounds * 4 * (prog.t_pulse + prog.t_verify))
    assert xb.cost().program_pulses == int(expect.sum())


def test_write_verify_needs_a_pulse_model():
    with pytest.raises(ParameterError, match="write_verify' needs a device model with apply_pulses"):
        Crossbar(np.ones((1, 1)), CrossbarConfig(device="hp_tio2_strukov2008", programming=Programming(method="write_verify")))


def test_device_card_states_are_programmed_exactly(rng):
    W = rng.normal(size=(4, 6))
    xb = Crossbar(W, CrossbarConfig(device="hp_tio2_strukov2008", dac=DAC(v_read=0.1)))
    # the linear ion drift device: G = 1 / (R_on x + R_off (1 - x)) at the programmed states
    m = xb.device.model
    G = 1.0 / (m.R_on * xb.tiles[0].state + m.R_off * (1 - xb.tiles[0].state))
    assert rel(G, xb.tiles[0].G_target) < 1e-12
    X = rng.normal(size=(3, 6))
    assert rel(xb.matmul(X), X @ W.T) < 1e-9


# ---------------------------------------------------------------- device mode
def test_read_noise_has_the_analytic_spread(rng):
    W = rng.normal(size=(3, 20))
    x = rng.uniform(-1, 1, size=20)
    cfg = CrossbarConfig(mode="device", nonidealities=(ReadNoise(0.05),), seed=3)
    xb = Crossbar(W, cfg)
    Y = xb.matmul(np.repeat(x[None], 4000, axis=0))
    G = xb.G
    V = 0.2 * x
    s = xb.map.scale
    # each cell current G v (1 + 0.05 z): output std = 0.05 sqrt(sum_i (G_i V_i)^2 over both columns) / (s v_read)
    std = 0.05 * np.sqrt((V**2) @ (G**2)) / (s * 0.2)
    std_out = np.sqrt(std[0::2] ** 2 + std[1::2] ** 2)
    assert np.allclose(Y.mean(axis=0), W @ x, atol=4 * std_out.max() / np.sqrt(4000))
    assert np.allclose(Y.std(axis=0), std_out, rtol=0.05)


def test_same_seed_same_numbers(rng):
    W = rng.normal(size=(5, 7))
    X = rng.normal(size=(3, 7))
    cfg = CrossbarConfig(mode="device", nonidealities=(ReadNoise(0.1), StuckAtFaults(0.1, 0.1)), seed=11,
                         device="rram_softbounds_gong2018")
    assert np.array_equal(Crossbar(W, cfg).matmul(X), Crossbar(W, cfg).matmul(X))


def test_drift_scales_the_output_by_the_power_law(rng):
    W = rng.normal(size=(4, 6))
    X = rng.normal(size=(3, 6))
    cfg = CrossbarConfig(mode="device", nonidealities=(RetentionDrift(nu=0.1, t0=1.0),))
    xb = Crossbar(W, cfg)
    for t in (None, 0.5, 1.0, 100.0, 1e4):
        factor = 1.0 if t is None else max(t, 1.0) ** -0.1
        assert rel(xb.matmul(X, t=t), factor * X @ W.T) < 1e-12
        assert rel(xb.matmul_transposed(X[:, :4], t=t), factor * X[:, :4] @ W) < 1e-12


def test_stuck_off_devices_give_zero(rng):
    W = rng.normal(size=(4, 6))
    xb = Crossbar(W, CrossbarConfig(mode="device", nonidealities=(StuckAtFaults(p_off=1.0),), seed=0))
    assert np.allclose(xb.matmul(rng.normal(size=(2, 6))), 0.0, atol=1e-12)
    ideal = Crossbar(W, CrossbarConfig(mode="ideal", nonidealities=(StuckAtFaults(p_off=1.0),), seed=0))
    assert rel(ideal.weights, W) < 1e-12  # ideal mode ignores non-idealities


def test_nonlinear_device_read_is_cell_by_cell(rng):
    dev = SoftBoundsDevice(G_min=1e-6, G_max=1e-4, read_iv="sinh", v_nl=0.25)
    W = rng.normal(size=(3, 5))
    x = rng.uniform(-1, 1, size=5)
    xb = Crossbar(W, CrossbarConfig(device=dev, mode="device", dac=DAC(v_read=0.3)))
    st = xb.tiles[0].state
    v = 0.3 * x
    I = (st * 0.25 * np.sinh(v[:, None] / 0.25)).sum(axis=0)  # the card's sinh I-V, summed by hand
    assert rel(xb.read_currents(v), I) < 1e-12
    # chord conductance at v_read was programmed: a full-scale input reads exactly
    e = np.zeros(5)
    e[2] = 1.0
    assert rel(xb.matvec(e), W[:, 2]) < 1e-12


def test_read_disturb_moves_states_as_the_model_says(rng):
    dev = load_device("hp_tio2_strukov2008")
    W = np.abs(rng.normal(size=(2, 3)))
    cfg = CrossbarConfig(device=dev, mode="device", read_disturb=True, dac=DAC(v_read=1.0))
    xb = Crossbar(W, cfg)
    s0 = xb.tiles[0].state.copy()
    x = np.array([1.0, -0.5, 0.25])
    xb.matvec(x)
    v = np.broadcast_to(x[:, None], s0.shape)
    assert np.allclose(xb.tiles[0].state, dev.step(s0, v, cfg.cost.t_read), rtol=1e-14, atol=0)
    assert not np.array_equal(xb.tiles[0].state, s0)


# ---------------------------------------------------------------- cost
def test_cost_hand_values():
    W = np.array([[1.0, -1.0]])
    cm = CrossbarConfig().cost
    cfg = CrossbarConfig(g_min=1e-6, g_max=1e-4, adc=ADC(bits=6), dac=DAC(bits=4, v_read=0.2), r_wire=0.0)
    xb = Crossbar(W, cfg)
    xb.reset_cost()
    xb.matvec(np.array([1.0, 0.5]))
    c = xb.cost()
    # G+ = [1e-4, 1e-6], G- = [1e-6, 1e-4]; V = [0.2, 0.1]; sum_i V_i^2 (G+_i + G-_i) t_read
    e_array = (0.04 * (1e-4 + 1e-6) + 0.01 * (1e-6 + 1e-4)) * cm.t_read
    assert np.isclose(c.e_array, e_array, rtol=1e-12)
    assert c.adc_conversions == 1 and c.dac_conversions == 2
    assert np.isclose(c.e_adc, cm.e_adc_8bit / 4)
    assert np.isclose(c.e_dac, 2 * 4 * cm.e_dac_1bit)
    assert np.isclose(c.t_read, cm.t_read + cm.t_adc)
    assert c.reads == 1 and c.macs == 2
    assert np.isclose(c.area_array, 4 * 4 * cm.feature_size**2)
    text = str(c)
    assert "energy: ADC" in text and "area: total" in text
    xb.reset_cost()
    assert xb.cost().reads == 0 and xb.cost().area_array > 0


# ---------------------------------------------------------------- compiled vs per-tile reads
FUSED_CASES = [
    dict(mode="ideal", adc=ADC(bits=7), dac=DAC(bits=6)),
    dict(mode="ideal", mapping="reference", dac=DAC(bits=5, encoding="bit_serial"), adc=ADC(bits=9)),
    dict(mode="device", device="rram_softbounds_gong2018", nonidealities=(RetentionDrift(nu=0.05),), adc=ADC(bits=8)),
    dict(mode="device", nonidealities=(NonlinearReadIV(v_nl=0.15),), dac=DAC(bits=6)),
    dict(mode="device", dac=DAC(bits=6, encoding="pulse_width"), adc=ADC(bits=8)),
    dict(mode="circuit", r_wire=2.0, r_driver=5.0, adc=ADC(bits=8)),
    dict(mode="circuit", r_wire=1.0, cell="1T1R", readout="sense", mapping="reference"),
]


@pytest.mark.parametrize("case", range(len(FUSED_CASES)))
def test_compiled_read_equals_tile_by_tile(rng, case):
    from neurosim.crossbar.readplan import compiled_eligible

    W = rng.normal(size=(20, 45))
    X = rng.uniform(-1, 1, size=(6, 45))
    Y = rng.uniform(-1, 1, size=(6, 20))
    cfg = CrossbarConfig(tile_rows=16, tile_cols=8, **FUSED_CASES[case])
    fast = Crossbar(W, cfg)
    assert compiled_eligible(fast, False)
    slow = Crossbar(W, cfg.replace(read_path="per_tile"))
    assert not compiled_eligible(slow, False)
    assert np.allclose(fast.matmul(X, t=100.0), slow.matmul(X, t=100.0), rtol=1e-10, atol=1e-12)
    assert np.allclose(fast.matmul_transposed(Y, t=100.0), slow.matmul_transposed(Y, t=100.0), rtol=1e-10, atol=1e-12)
    for name in ("e_array", "e_dac", "e_adc", "t_read", "adc_conversions", "dac_conversions", "reads", "macs"):
        assert np.isclose(getattr(fast.cost(), name), getattr(slow.cost(), name), rtol=1e-10), name


def test_pulse_width_is_linear_under_a_nonlinear_read_iv(rng):
    W = rng.normal(size=(4, 9))
    X = rng.uniform(-1, 1, size=(5, 9))
    ni = (NonlinearReadIV(v_nl=0.1),)
    pw = Crossbar(W, CrossbarConfig(mode="device", nonidealities=ni, dac=DAC(v_read=0.2, encoding="pulse_width")))
    amp = Crossbar(W, CrossbarConfig(mode="device", nonidealities=ni, dac=DAC(v_read=0.2)))
    # every row at +-v_read for |x| of the read: charge = W x times h(v_read) / v_read
    gain = 0.1 * np.sinh(0.2 / 0.1) / 0.2
    assert rel(pw.matmul(X), gain * X @ W.T) < 1e-12
    assert rel(amp.matmul(X), gain * X @ W.T) > 1e-2  # amplitude encoding sees the nonlinearity


def test_variability_of_the_default_device_spreads_conductances():
    from neurosim.devices import DeviceToDeviceVariability

    W = np.full((50, 40), 0.5)
    cfg = CrossbarConfig(mode="device", nonidealities=(DeviceToDeviceVariability(0.2, ("gain",)),), seed=5)
    xb = Crossbar(W, cfg)
    ratio = xb.G / xb.tiles[0].G_target  # lognormal factors with mean 1 and sigma 0.2
    assert abs(np.log(ratio).std() - 0.2) < 0.01
    assert abs(ratio.mean() - 1.0) < 0.01
