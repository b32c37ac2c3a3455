"""neurosim.compare and its report: numbers recomputed independently, determinism, files.

References: per-step errors and metrics recomputed here from separate digital and analog runs with
numpy; the divergence rate on an exactly exponential error; ideal hardware gives zero error.
"""

import json

import numpy as np
import pytest

from neurosim.analog import HardwareConfig, to_analog
from neurosim.cells import GRU, LSTM, RNN
from neurosim.errors import ParameterError
from neurosim.study import compare
from neurosim.study.compare import _divergence
from neurosim.study.pipeline import make_cell, make_task, train_network
from neurosim.tasks import fit_ridge, narma10


def test_ideal_hardware_gives_zero_error_and_equal_metric():
    task = narma10(200, washout=20, seed=0)
    cell = make_cell("rnn", 1, 16, seed=0)
    net = train_network(cell, task)
    res = compare(net.cell, HardwareConfig(), task.inputs, task.targets, readout=net.readout, mask=task.mask)
    assert res.step_hidden_max.max() < 1e-9 and res.step_output_max.max() < 1e-9
    assert res.metric["name"] == "nrmse"
    assert res.metric["analog"] == pytest.approx(res.metric["digital"], abs=1e-9)
    assert res.divergence["first_step_above_threshold"] is None


def test_per_step_errors_and_metric_recomputed_independently():
    cell = GRU(2, 6, num_layers=2, dtype=np.float64, seed=3)
    x = np.random.default_rng(0).uniform(-1, 1, size=(30, 4, 2))
    y = np.random.default_rng(1).normal(size=(30, 4, 1))
    readout = fit_ridge(cell(x)[0], y, alpha=1e-3)
    hw = HardwareConfig(dac_bits=5, state_bits=6)
    res = compare(cell, hw, x, y, readout=readout)
    out_a, h_a = to_analog(cell, hw)(x)
    out_d, h_d = cell(x)
    diff = out_a - out_d  # last layer; the hidden error covers both layers (checked on the last layer)
    np.testing.assert_allclose(res.layer_step_rmse["l1"], np.sqrt(np.mean(diff**2, axis=(1, 2))), rtol=1e-12)
    pa, pd = readout.predict(out_a), readout.predict(out_d)
    np.testing.assert_allclose(res.step_output_rmse, np.sqrt(np.mean((pa - pd) ** 2, axis=(1, 2))), rtol=1e-12)
    np.testing.assert_allclose(res.step_output_max, np.max(np.abs(pa - pd), axis=(1, 2)), rtol=1e-12)
    nr = np.sqrt(np.mean((pa - y) ** 2)) / np.std(y)
    assert res.metric["analog"] == pytest.approx(nr, rel=1e-12)
    assert set(res.layer_step_rmse) == {"l0", "l1"}
    assert set(res.read_error["weight_hh_l0"]) == {"r", "z", "n"}
    assert res.step_hidden_rmse.min() > 0


def test_read_error_per_gate_by_hand():
    # one step from h0 = 0: the input crossbar is driven with x through a 4-bit DAC, so its read
    # error against the exact product W x is (q(x) - x) W^T, split into the i, f, g, o row blocks
    cell = LSTM(3, 4, dtype=np.float64, seed=0)
    x = np.random.default_rng(2).uniform(-1, 1, size=(1, 2, 3))
    res = compare(cell, HardwareConfig(dac_bits=4), x)
    W = cell.params["weight_ih_l0"]
    n = 7  # 4-bit sign-magnitude DAC over [-1, 1]
    err = (np.round(n * x[0]) / n - x[0]) @ W.T
    ref = (x[0] @ W.T)
    assert list(res.read_error["weight_ih_l0"]) == ["i", "f", "g", "o"]
    for k, gate in enumerate("ifgo"):
        block = slice(4 * k, 4 * k + 4)
        got = res.read_error["weight_ih_l0"][gate]
        assert got["rmse"] == pytest.approx(np.sqrt(np.mean(err[:, block] ** 2)), rel=1e-9)
        assert got["relative"] == pytest.approx(np.sqrt(np.sum(err[:, block] ** 2) / np.sum(ref[:, block] ** 2)), rel=1e-9)
    assert all(g["rmse"] == 0 for g in res.read_error["weight_hh_l0"].values())  # driven with h0 = 0


def test_divergence_rate_of_an_exponential():
    err = 1e-6 * np.exp(0.05 * np.arange(100))
    d = _divergence(err, scale=1.0, threshold=1e-4)
    assert d["growth_rate_per_step"] == pytest.approx(0.05, rel=1e-9)
    assert d["first_step_above_threshold"] == int(np.ceil(np.log(100) / 0.05))
    assert d["ratio_last_to_first"] == pytest.approx(np.exp(0.05 * 90), rel=1e-9)


def test_same_seed_identical_report_json(tmp_path):
    from neurosim.devices import ReadNoise

    cell = LSTM(2, 8, dtype=np.float64, seed=0)
    x = np.random.default_rng(0).uniform(-1, 1, size=(20, 2, 2))

    def run(seed, where):
        hw = HardwareConfig(read_mode="device", dac_bits=8, adc_bits=8, adc_noise=0.01,
                            nonidealities=(ReadNoise(0.05),), seed=seed)
        paths = compare(cell, hw, x).save_report(tmp_path / where)
        return paths["json"].read_bytes()

    a, b, c = run(1, "a"), run(1, "b"), run(2, "c")
    assert a == b
    assert a != c
    data = json.loads(a)
    assert data["summary"]["hidden_rmse_mean"] > 0
    for name in ("error_vs_step.png", "traces.png", "error_per_gate.png"):
        assert (tmp_path / "a" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cost_totals_are_reported():
    cell = RNN(3, 8, dtype=np.float64, seed=0)
    x = np.random.default_rng(0).uniform(-1, 1, size=(5, 2, 3))
    res = compare(cell, HardwareConfig(read_mode="device", dac_bits=8, adc_bits=8), x)
    total = res.cost["total"]
    assert total["reads"] == 5 * 2 * 2  # two crossbars, one read per vector per step
    assert res.summary()["energy_read_J"] > 0 and res.summary()["latency_read_s"] > 0


def test_elman_output_layer_trained_in_place_runs_on_crossbar():
    task = make_task("mackey_glass", 300, seed=0)
    cell = make_cell("elman", 1, 20, output_size=1, seed=0)
    net = train_network(cell, task)
    assert net.readout is None and net.train_metric < 0.2
    res = compare(net.cell, HardwareConfig(dac_bits=8), task.inputs, task.targets, mask=task.mask)
    assert "weight_hy_l0" in res.read_error and res.metric["analog"] > 0


def test_compare_bad_input():
    cell = RNN(2, 3, dtype=np.float64, seed=0)
    x = np.zeros((4, 1, 2))
    with pytest.raises(ParameterError, match="compare: targets must have the shape of the output \\(4, 1, 3\\)"):
        compare(cell, HardwareConfig(), x, np.zeros((4, 1, 1)))
    with pytest.raises(ParameterError, match="compare: kind must be one of"):
        compare(cell, HardwareConfig(), x, kind="ranking")
    with pytest.raises(ParameterError, match="compare: cell must be"):
        compare("lstm", HardwareConfig(), x)
