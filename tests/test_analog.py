"""Analog execution of every cell: equality with the digital twin in ideal mode, each non-ideality
moving the error from zero, converter resolution, state storage, activation curves, configuration.

Independent references: the digital cells (themselves tested against PyTorch and per-step loops),
converter and activation formulas evaluated by hand in the tests, one step of an RNN written out.
"""

import numpy as np
import pytest

from neurosim.analog import AnalogActivation, HardwareConfig, quantize_state, to_analog, to_digital
from neurosim.cells import GRU, LSTM, RNN, Elman, IndRNN, Jordan, SecondOrderRNN
from neurosim.errors import ParameterError

F64 = np.float64


def _cells():
    return {
        "rnn_2layer_bi": RNN(3, 5, num_layers=2, bidirectional=True, dtype=F64, seed=1),
        "rnn_relu_batch_first": RNN(3, 4, nonlinearity="relu", batch_first=True, dtype=F64, seed=2),
        "lstm_2layer_bi": LSTM(3, 5, num_layers=2, bidirectional=True, dtype=F64, seed=3),
        "lstm_proj": LSTM(3, 5, proj_size=2, num_layers=2, dtype=F64, seed=3),
        "gru_2layer": GRU(3, 6, num_layers=2, dtype=F64, seed=4),
        "elman_2layer": Elman(3, 5, 2, num_layers=2, dtype=F64, seed=5),
        "jordan_bi": Jordan(3, 5, 2, bidirectional=True, output_activation="tanh", dtype=F64, seed=6),
        "indrnn_bounded": IndRNN(3, 5, recurrent_max_abs=0.8, dtype=F64, seed=7),
        "second_order_2layer_bi": SecondOrderRNN(3, 4, num_layers=2, bidirectional=True, dtype=F64, seed=8),
    }


CELL_NAMES = list(_cells())


def _leaves(result):
    if isinstance(result, (tuple, list)):
        out = []
        for r in result:
            out.extend(_leaves(r))
        return out
    return [result]


def _structure(result):
    if isinstance(result, (tuple, list)):
        return (type(result).__name__, tuple(_structure(r) for r in result))
    return (result.shape, result.dtype)


def _x(cell, T=9, B=3, seed=0):
    x = np.random.default_rng(seed).uniform(-1, 1, size=(T, B, cell.input_size))
    return x.transpose(1, 0, 2).copy() if cell.batch_first else x


def _max_err(cell, hw, x=None):
    x = _x(cell) if x is None else x
    a, d = to_analog(cell, hw)(x), cell(x)
    return max(float(np.max(np.abs(p - q))) for p, q in zip(_leaves(a), _leaves(d)))


# ------------------------------------------------------------------------------ ideal == digital
@pytest.mark.parametrize("name", CELL_NAMES)
def test_ideal_hardware_reproduces_digital(name):
    cell = _cells()[name]
    x = _x(cell)
    analog = to_analog(cell, HardwareConfig(read_mode="ideal"))
    assert isinstance(analog, type(cell))
    a, d = analog(x), cell(x)
    assert _structure(a) == _structure(d)
    for p, q in zip(_leaves(a), _leaves(d)):
        np.testing.assert_allclose(p, q, rtol=0, atol=1e-9)
    assert len(analog.ops.crossbars) > 0


@pytest.mark.parametrize("name", ["lstm_2layer_bi", "elman_2layer"])
def test_ideal_with_initial_state_and_unbatched(name):
    cell = _cells()[name]
    analog = to_analog(cell)
    x = _x(cell)
    res = cell(x)
    hx = res[1]
    for p, q in zip(_leaves(analog(x, hx)), _leaves(cell(x, hx))):
        np.testing.assert_allclose(p, q, rtol=0, atol=1e-9)
    xu = x[:, 0, :]
    for p, q in zip(_leaves(analog(xu)), _leaves(cell(xu))):
        np.testing.assert_allclose(p, q, rtol=0, atol=1e-9)


def test_float32_cell_stays_float32():
    cell = LSTM(3, 4, seed=0)
    out, (h, c) = to_analog(cell)(np.ones((5, 2, 3), np.float32))
    assert out.dtype == h.dtype == c.dtype == np.float32
    np.testing.assert_allclose(out, cell(np.ones((5, 2, 3), np.float32))[0], atol=1e-6)


def test_mapping_of_gates_indrnn_and_second_order():
    lstm = to_analog(LSTM(3, 5, dtype=F64, seed=0))
    lstm(np.zeros((2, 1, 3)))
    # the four gate matrices side by side: one (4H, I) and one (4H, H) crossbar per layer-direction
    assert set(lstm.ops.crossbars) == {"weight_ih_l0", "weight_hh_l0"}
    assert lstm.ops.crossbars["weight_ih_l0"].weights.shape == (20, 3)
    ind = to_analog(IndRNN(3, 5, dtype=F64, seed=0))
    ind(np.zeros((2, 1, 3)))
    u = ind.params["weight_hh_l0"]
    # diag(u) on an H x H array
    np.testing.assert_allclose(ind.ops.crossbars["weight_hh_l0"].weights, np.diag(u), atol=1e-12)
    so = to_analog(SecondOrderRNN(3, 4, dtype=F64, seed=0))
    so(np.zeros((2, 1, 3)))
    W = so.params["weight_l0"]
    # W_ijk reshaped to (H, H*K): column j*K + k holds W_ijk
    np.testing.assert_allclose(so.ops.crossbars["weight_l0"].weights, W.reshape(4, 12), atol=1e-12)


def test_reprogrammed_after_load_state_dict():
    cell = RNN(2, 3, dtype=F64, seed=0)
    analog = to_analog(cell)
    x = _x(cell)
    analog(x)
    other = RNN(2, 3, dtype=F64, seed=9)
    analog.load_state_dict(other.state_dict())
    np.testing.assert_allclose(analog(x)[0], other(x)[0], atol=1e-9)
    np.testing.assert_allclose(to_digital(analog)(x)[0], other(x)[0], atol=0)
    assert type(to_digital(analog)) is RNN and to_digital(analog).ops is cell.ops


# ------------------------------------------------------------------------------ converters by hand
def _dac(x, bits, x_max):
    n = 2 ** (bits - 1) - 1
    return x_max * np.round(n * np.clip(x / x_max, -1, 1)) / n


def test_dac_quantization_one_rnn_step_by_hand():
    cell = RNN(3, 4, dtype=F64, seed=0)
    p = cell.state_dict()
    x = np.random.default_rng(1).uniform(-1.5, 1.5, size=(1, 2, 3))
    h0 = np.random.default_rng(2).uniform(-1, 1, size=(1, 2, 4))
    hw = HardwareConfig(dac_bits=4, input_range=1.2, state_range=1.0)
    out, _ = to_analog(cell, hw)(x, h0)
    z = _dac(x[0], 4, 1.2) @ p["weight_ih_l0"].T + p["bias_ih_l0"] + _dac(h0[0], 4, 1.0) @ p["weight_hh_l0"].T + p["bias_hh_l0"]
    np.testing.assert_allclose(out[0], np.tanh(z), rtol=0, atol=1e-9)


def test_state_storage_quantizes_stored_states_only():
    cell = RNN(3, 4, dtype=F64, seed=0)
    p = cell.state_dict()
    x = np.random.default_rng(1).uniform(-1, 1, size=(2, 1, 3))
    out, _ = to_analog(cell, HardwareConfig(state_bits=3))(x)
    h1 = np.tanh(x[0] @ p["weight_ih_l0"].T + p["bias_ih_l0"] + p["bias_hh_l0"])
    h2 = np.tanh(x[1] @ p["weight_ih_l0"].T + p["bias_ih_l0"] + _dac(h1, 3, 1.0) @ p["weight_hh_l0"].T + p["bias_hh_l0"])
    np.testing.assert_allclose(out[:, 0], np.stack([h1[0], h2[0]]), atol=1e-9)


def test_quantize_state_by_hand():
    x = np.array([0.1, 0.2, -0.74, 5.0])
    np.testing.assert_allclose(quantize_state(x, 3, 1.0), [0.0, 1 / 3, -2 / 3, 1.0])
    assert quantize_state(x, None, 1.0) is x


# ------------------------------------------------------------------------------ activation curves
def test_activation_curves_by_hand():
    x = np.linspace(-3, 3, 13)
    ideal = AnalogActivation("amplifier")
    np.testing.assert_allclose(ideal("tanh", x), np.tanh(x), atol=1e-15)
    np.testing.assert_allclose(ideal("sigmoid", x), 1 / (1 + np.exp(-x)), atol=1e-15)
    amp = AnalogActivation("amplifier", gain=0.8, offset=0.05, rail=0.9)
    np.testing.assert_allclose(amp("tanh", x), 0.9 * np.tanh(0.8 * (x + 0.05) / 0.9), atol=1e-15)
    np.testing.assert_allclose(amp("sigmoid", x), 0.5 + 0.45 * np.tanh(0.8 * (x + 0.05) / 1.8), atol=1e-15)
    pwl = AnalogActivation("pwl", linear_rail=2.0)
    np.testing.assert_allclose(pwl("tanh", x), np.clip(x, -1, 1))
    np.testing.assert_allclose(pwl("sigmoid", x), np.clip(0.5 + x / 4, 0, 1))
    np.testing.assert_allclose(pwl("relu", x), np.clip(x, 0, 2.0))
    np.testing.assert_allclose(pwl("identity", x), np.clip(x, -2.0, 2.0))
    buf = x.copy()
    assert pwl("tanh", buf, out=buf) is buf
    with pytest.raises(ParameterError, match="AnalogActivation: gain must be a real number > 0"):
        AnalogActivation("amplifier", gain=0)


# ------------------------------------------------------------------------------ non-idealities
def _lstm():
    return LSTM(4, 8, dtype=F64, seed=11)


NONIDEAL = {
    "dac_bits": (dict(dac_bits=24), dict(dac_bits=6)),
    "adc_bits": (dict(adc_bits=24), dict(adc_bits=6)),
    "adc_noise": (dict(adc_bits=24), dict(adc_bits=24, adc_noise=0.01)),
    "state_bits": (dict(state_bits=24), dict(state_bits=5)),
    "activation_gain": (dict(activation="amplifier"), dict(activation="amplifier", act_gain=0.9)),
    "activation_pwl": (dict(activation="ideal"), dict(activation="pwl")),
}


@pytest.mark.parametrize("what", list(NONIDEAL))
def test_each_periphery_nonideality_moves_error_from_zero(what):
    off, on = NONIDEAL[what]
    cell = _lstm()
    assert _max_err(cell, HardwareConfig(**off)) < 1e-6  # 24 bits: quantization ~1e-7 of full scale
    assert _max_err(cell, HardwareConfig(**on)) > 1e-4


def _bits_error(bits_field, bits, seeds=(0, 1, 2)):
    errs = []
    for s in seeds:
        cell = LSTM(4, 8, dtype=F64, seed=s)
        x = _x(cell, T=20, B=4, seed=100 + s)
        errs.append(_max_err(cell, HardwareConfig(**{bits_field: bits}), x))
    return float(np.mean(errs))


@pytest.mark.parametrize("field", ["dac_bits", "adc_bits"])
def test_error_grows_monotonically_with_fewer_bits(field):
    bits = [12, 10, 8, 6, 4]
    errs = [_bits_error(field, b) for b in bits]
    assert all(e1 < e2 for e1, e2 in zip(errs, errs[1:])), dict(zip(bits, errs))


# ------------------------------------------------------------------------------ configuration
def test_hardware_config_toml_roundtrip_and_errors(tmp_path):
    from neurosim.devices import ReadNoise, StuckAtFaults

    hw = HardwareConfig(device="rram_softbounds_gong2018", read_mode="device", dac_bits=7, adc_bits=9, state_bits=6,
                        activation="pwl", act_gain=0.95, step_time=1e-6, seed=4, adc_noise=0.01,
                        nonidealities=(ReadNoise(0.02), StuckAtFaults(p_on=0.01)),
                        crossbar_options={"r_wire": 2.5, "levels": 32, "adc": {"saturation": False}})
    path = tmp_path / "hw.toml"
    hw.to_toml(path)
    assert HardwareConfig.from_toml(path) == hw
    assert HardwareConfig.from_toml(hw.to_toml()) == hw
    with pytest.raises(ParameterError, match="HardwareConfig: dac_bits must be an integer in \\[2, 24\\] or None, got 1"):
        HardwareConfig(dac_bits=1)
    with pytest.raises(ParameterError, match="unknown key\\(s\\) \\['dac'\\]"):
        HardwareConfig.from_dict({"dac": 3})
    with pytest.raises(ParameterError, match="crossbar_options must not set \\['mode'\\]"):
        HardwareConfig(crossbar_options={"mode": "circuit"})
    with pytest.raises(ParameterError, match="CrossbarConfig"):
        HardwareConfig(crossbar_options={"r_wire": -1.0})
    bad = tmp_path / "bad.toml"
    bad.write_text('read_mode = "device"\ndac_bits = = 3\n')
    with pytest.raises(ParameterError, match="bad.toml.*line 2"):
        HardwareConfig.from_toml(bad)


def test_to_analog_bad_input():
    with pytest.raises(ParameterError, match="to_analog: cell must be a neurosim.cells cell"):
        to_analog(object())
    with pytest.raises(ParameterError, match="to_analog: hardware must be a HardwareConfig"):
        to_analog(RNN(2, 2), {"read_mode": "ideal"})
    analog = to_analog(RNN(2, 3, seed=0))
    with pytest.raises(ParameterError, match="RNN: input must have shape"):
        analog(np.zeros((4, 1, 5), np.float32))


# ------------------------------------------------------------------------------ device / array non-idealities
def _device_cases():
    from neurosim.devices import (DeviceToDeviceVariability, NonlinearReadIV, ReadNoise, RetentionDrift,
                                  StuckAtFaults)

    rram, hp = "rram_softbounds_gong2018", "hp_tio2_strukov2008"
    dev = dict(read_mode="device")
    return {
        "read_noise": (dict(dev, device=rram), dict(dev, device=rram, nonidealities=(ReadNoise(0.02),))),
        "device_to_device": (dict(dev, device=hp),
                             dict(dev, device=hp, nonidealities=(DeviceToDeviceVariability(0.1, ("R_on", "R_off")),))),
        "stuck_at_faults": (dict(dev, device=rram), dict(dev, device=rram, nonidealities=(StuckAtFaults(p_on=0.05),))),
        "finite_levels": (dict(dev, device=rram), dict(dev, device=rram, crossbar_options={"levels": 16})),
        "retention_drift": (dict(dev, device=rram, step_time=1.0, t_start=10.0),
                            dict(dev, device=rram, step_time=1.0, t_start=10.0, nonidealities=(RetentionDrift(0.05),))),
        "nonlinear_read": (dict(dev, device=rram), dict(dev, device=rram, nonidealities=(NonlinearReadIV(0.1),))),
        "wire_resistance": (dict(read_mode="circuit", crossbar_options={"r_wire": 0.0}),
                            dict(read_mode="circuit", crossbar_options={"r_wire": 2.0})),
    }


@pytest.mark.parametrize("what", list(_device_cases()))
def test_each_device_nonideality_moves_error_from_zero(what):
    off, on = _device_cases()[what]
    cell = RNN(3, 6, dtype=F64, seed=1)
    x = _x(cell, T=6, B=2)
    assert _max_err(cell, HardwareConfig(**off), x) < 1e-9
    assert _max_err(cell, HardwareConfig(**on), x) > 1e-4


def test_drift_along_the_sequence_grows_the_error():
    from neurosim.devices import RetentionDrift

    # linear activations make the read error directly visible: every step reads the drifted array
    cell = RNN(3, 6, nonlinearity="relu", dtype=F64, seed=1)
    x = np.abs(_x(cell, T=40, B=2))
    drift = (RetentionDrift(0.1, t0=1.0),)
    hw = HardwareConfig(read_mode="device", device="rram_softbounds_gong2018", nonidealities=drift, step_time=1.0,
                        state_range=4.0)
    err = np.abs(to_analog(cell, hw)(x)[0] - cell(x)[0]).mean(axis=(1, 2))
    assert err[-5:].mean() > 2 * err[:5].mean() > 0
    static = HardwareConfig(read_mode="device", device="rram_softbounds_gong2018", nonidealities=drift, state_range=4.0)
    # without step_time the array is read as programmed (t = None): no drift at all
    assert _max_err(cell, static, x) < 1e-9


def test_read_disturb_accumulates_along_the_sequence():
    # every read moves the HP TiO2 devices a little (linear ion drift under the read voltage), so the
    # error starts tiny and grows with the number of reads; without disturb the reads are exact
    cell = RNN(3, 6, dtype=F64, seed=1)
    x = _x(cell, T=30, B=2)
    hp = dict(read_mode="device", device="hp_tio2_strukov2008")
    assert _max_err(cell, HardwareConfig(**hp), x) < 1e-9
    err = np.abs(to_analog(cell, HardwareConfig(**hp, read_disturb=True))(x)[0] - cell(x)[0]).mean(axis=(1, 2))
    assert 0 < err[:3].mean() and err[-3:].mean() > 10 * err[:3].mean()


def test_pure_step_functions_run_on_the_crossbars_too():
    cell = LSTM(3, 4, dtype=F64, seed=2)
    analog = to_analog(cell, HardwareConfig(dac_bits=5))
    x_t = np.random.default_rng(0).uniform(-1, 1, size=(2, 3))
    state = (np.full((2, 4), 0.3), np.full((2, 4), -0.2))
    ideal = to_analog(cell)
    p = cell.direction_params(0, 0)
    (h_i, (h_i2, c_i)), (h_d, (_, c_d)) = ideal.step(p, x_t, state), cell.step(p, x_t, state)
    np.testing.assert_allclose(h_i, h_d, rtol=0, atol=1e-12)
    np.testing.assert_allclose(c_i, c_d, rtol=0, atol=1e-12)
    h_a, _ = analog.step(p, x_t, state)
    assert np.abs(h_a - h_d).max() > 1e-4  # the 5-bit DAC acts in the step too
    assert "weight_ih_l0" in analog.ops.crossbars
