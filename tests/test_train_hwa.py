"""Hardware-aware training: the forward pass is the analog cell's own crossbar arithmetic on a fresh
simulated array per call, the gradient passes straight through, and it pays off on the hardware."""

import numpy as np
import pytest

from neurosim.analog import HardwareConfig, to_analog
from neurosim.cells import GRU, LSTM
from neurosim.devices import DeviceToDeviceVariability, ReadNoise, StuckAtFaults
from neurosim.errors import ParameterError
from neurosim.tasks import mackey_glass
from neurosim.tasks.metrics import nrmse
from neurosim.train import Adam, SequenceModel, backward, fit, forward
from neurosim.train.hwa import STANDARD_HWA_PRESET, HardwareAwareOps, hardware_aware_fit

# deterministic non-idealities (no read noise): a forward pass is a function of the device seed
_VARIED = HardwareConfig(device="rram_softbounds_gong2018", read_mode="device", dac_bits=6, adc_bits=6,
                         nonidealities=(DeviceToDeviceVariability(0.2, ("G_max",)), StuckAtFaults(p_off=0.05)))


def test_on_ideal_hardware_it_is_the_digital_forward():
    cell = LSTM(2, 5, dtype=np.float64, seed=0)
    ops = HardwareAwareOps(HardwareConfig(), cell.weight_info())
    x = np.random.default_rng(0).normal(size=(6, 3, 2))
    tr = forward(cell, x, ops=ops)
    np.testing.assert_allclose(tr.output, cell(x)[0], rtol=0, atol=1e-12)


def test_forward_is_the_analog_cell_of_the_drawn_device_seed():
    """No second noise model: the training forward pass equals the analog cell (to_analog) built on the
    hardware of the device seed that call drew."""
    cell = GRU(2, 6, dtype=np.float64, seed=0)
    x = np.random.default_rng(1).normal(size=(7, 3, 2))
    ops = HardwareAwareOps(_VARIED, cell.weight_info(), seed=4)
    a = forward(cell, x, ops=ops)
    b = forward(cell, x, ops=ops)
    s_a, s_b = ops.device_seeds
    assert s_a != s_b
    for tr, s in ((a, s_a), (b, s_b)):
        ref = to_analog(cell, _VARIED.replace(seed=s))(x)[0]
        np.testing.assert_allclose(tr.output, ref, rtol=0, atol=1e-12)
    clean = cell(x)[0]
    assert 1e-3 < np.max(np.abs(a.output - clean)) < 0.5  # the hardware's error, not another network
    assert np.max(np.abs(a.output - b.output)) > 1e-3  # a new array per forward call


def test_straight_through_gradient_uses_the_digital_weights():
    cell = GRU(2, 4, dtype=np.float64, seed=0)
    x = np.random.default_rng(1).normal(size=(5, 2, 2))
    a = forward(cell, x, ops=HardwareAwareOps(_VARIED, cell.weight_info(), seed=3))
    clean = forward(cell, x)
    g_hw, _, _ = backward(a, np.ones_like(a.output))
    g_clean, _, _ = backward(clean, np.ones_like(clean.output))
    for k in g_clean:  # same structure, close values (the recorded activations differ by the hardware error)
        assert g_hw[k].shape == g_clean[k].shape
        assert np.max(np.abs(g_hw[k] - g_clean[k])) < 0.5 * max(1.0, np.abs(g_clean[k]).max())
    # with exact hardware the straight-through gradient is the digital one
    exact = forward(cell, x, ops=HardwareAwareOps(HardwareConfig(), cell.weight_info()))
    g_exact, _, _ = backward(exact, np.ones_like(exact.output))
    for k in g_clean:
        np.testing.assert_allclose(g_exact[k], g_clean[k], rtol=1e-10, atol=1e-12)


def test_generic_preset_noise_is_optional_and_fresh():
    cell = GRU(2, 4, dtype=np.float64, seed=0)
    x = np.random.default_rng(1).normal(size=(5, 2, 2))
    ops = HardwareAwareOps(HardwareConfig(), cell.weight_info(), seed=0, **STANDARD_HWA_PRESET)
    a, b = forward(cell, x, ops=ops), forward(cell, x, ops=ops)
    d = np.max(np.abs(a.output - cell(x)[0]))
    assert 1e-3 < d < 0.3 and np.max(np.abs(a.output - b.output)) > 1e-4


def test_hardware_aware_fit_runs_and_is_seeded():
    task = mackey_glass(n_steps=60, batch_size=4, washout=10, seed=0)
    out = []
    for _ in range(2):
        model = SequenceModel(GRU(1, 4, dtype=np.float64, seed=0), 1, seed=0)
        h = hardware_aware_fit(model, task, _VARIED, epochs=3, batch_size=2, seed=1)
        out.append(model.state_dict())
        assert h.train_loss[-1] < h.train_loss[0]
    for k in out[0]:
        np.testing.assert_array_equal(out[0][k], out[1][k])


def test_hardware_aware_training_beats_plain_training_on_the_hardware():
    """Same start (80 digital epochs), same budget (20 more epochs): plainly vs hardware-aware, both run
    on 5 device seeds of one HardwareConfig (6-bit converters, 10 % device-to-device spread of G_max,
    2 % read noise). Measured: plain analog NRMSE 0.250 (seeds 0.243-0.256), hardware-aware 0.160
    (0.158-0.162), digital 0.083."""
    train = mackey_glass(n_steps=100, batch_size=32, washout=10, seed=0)
    test = mackey_glass(n_steps=200, batch_size=8, washout=20, seed=1)
    hw = HardwareConfig(device="rram_softbounds_gong2018", read_mode="device", dac_bits=6, adc_bits=6,
                        input_range=float(np.max(np.abs(train.inputs))),
                        nonidealities=(DeviceToDeviceVariability(0.1, ("G_max",)), ReadNoise(0.02)))
    base = SequenceModel(LSTM(1, 16, dtype=np.float64, seed=0), 1, seed=0)
    fit(base, train, epochs=80, batch_size=8, optimizer=Adam(base.params, lr=1e-2), seed=0, progress=False)
    plain = base.with_cell(LSTM(1, 16, dtype=np.float64, seed=0))
    plain.load_state_dict(base.state_dict())
    hwa = base.with_cell(LSTM(1, 16, dtype=np.float64, seed=0))
    hwa.load_state_dict(base.state_dict())
    fit(plain, train, epochs=20, batch_size=8, optimizer=Adam(plain.params, lr=3e-3), seed=0, progress=False)
    hardware_aware_fit(hwa, train, hw, epochs=20, batch_size=8, optimizer=Adam(hwa.params, lr=3e-3), seed=0,
                       progress=False)

    def analog_nrmse(model, seed):
        pred = model.with_cell(to_analog(model.cell, hw.replace(seed=seed))).predict(test.inputs)
        return nrmse(pred, test.targets, test.mask)

    seeds = range(10, 15)  # device seeds never drawn in training
    e_plain = np.array([analog_nrmse(plain, s) for s in seeds])
    e_hwa = np.array([analog_nrmse(hwa, s) for s in seeds])
    digital = nrmse(plain.predict(test.inputs), test.targets, test.mask)
    assert e_plain.mean() > 2 * digital  # the hardware costs accuracy
    assert e_plain.mean() - e_hwa.mean() > 0.05  # measured 0.09
    assert e_hwa.mean() < 0.8 * e_plain.mean()  # measured 0.64
    assert np.all(e_hwa < e_plain)


def test_bad_arguments():
    cell = GRU(1, 2)
    with pytest.raises(ParameterError, match="weight_noise"):
        HardwareAwareOps(HardwareConfig(), cell.weight_info(), weight_noise=-0.1)
    with pytest.raises(ParameterError, match="hardware"):
        HardwareAwareOps(None, cell.weight_info())
    with pytest.raises(ParameterError, match="begin"):
        HardwareAwareOps(HardwareConfig(), cell.weight_info()).matmul("weight_ih_l0", np.ones((6, 1)), np.ones((1, 1)))
