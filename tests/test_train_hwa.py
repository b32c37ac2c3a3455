"""Hardware-aware training ops: exact without noise, straight-through gradients, fresh noise per call."""

import numpy as np
import pytest

from neurosim.analog import HardwareConfig
from neurosim.cells import GRU, LSTM
from neurosim.errors import ParameterError
from neurosim.tasks import mackey_glass
from neurosim.train import SequenceModel, backward, forward
from neurosim.train.hwa import HardwareAwareOps, hardware_aware_fit


def test_without_noise_and_converters_it_is_the_digital_forward():
    cell = LSTM(2, 5, dtype=np.float64, seed=0)
    ops = HardwareAwareOps(HardwareConfig(), cell.weight_info(), weight_noise=0.0, output_noise=0.0)
    x = np.random.default_rng(0).normal(size=(6, 3, 2))
    tr = forward(cell, x, ops=ops)
    np.testing.assert_allclose(tr.output, cell(x)[0], rtol=0, atol=1e-12)


def test_straight_through_gradient_and_fresh_noise():
    cell = GRU(2, 4, dtype=np.float64, seed=0)
    x = np.random.default_rng(1).normal(size=(5, 2, 2))
    ops = HardwareAwareOps(HardwareConfig(dac_bits=6, adc_bits=6), cell.weight_info(), seed=3)
    a = forward(cell, x, ops=ops)
    b = forward(cell, x, ops=ops)
    clean = forward(cell, x)
    d1 = np.max(np.abs(a.output - clean.output))
    assert 1e-4 < d1 < 0.3  # noisy, but the same network
    assert np.max(np.abs(a.output - b.output)) > 1e-4  # a fresh draw per forward call
    g_noisy, _, _ = backward(a, np.ones_like(a.output))
    g_clean, _, _ = backward(clean, np.ones_like(clean.output))
    for k in g_clean:  # straight-through: same structure, close values
        assert np.max(np.abs(g_noisy[k] - g_clean[k])) < 0.5 * max(1.0, np.abs(g_clean[k]).max())


def test_hardware_aware_fit_runs_and_is_seeded():
    task = mackey_glass(n_steps=60, batch_size=4, washout=10, seed=0)
    hw = HardwareConfig(dac_bits=6, adc_bits=6)
    out = []
    for _ in range(2):
        model = SequenceModel(GRU(1, 4, dtype=np.float64, seed=0), 1, seed=0)
        h = hardware_aware_fit(model, task, hw, epochs=3, batch_size=2, seed=1)
        out.append(model.state_dict())
        assert h.train_loss[-1] < h.train_loss[0]
    for k in out[0]:
        np.testing.assert_array_equal(out[0][k], out[1][k])


def test_bad_arguments():
    cell = GRU(1, 2)
    with pytest.raises(ParameterError, match="weight_noise"):
        HardwareAwareOps(HardwareConfig(), cell.weight_info(), weight_noise=-0.1)
    with pytest.raises(ParameterError, match="hardware"):
        HardwareAwareOps(None, cell.weight_info())
