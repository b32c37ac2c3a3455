"""Crossbar.apply_pulses: the device's own pulse response per device, caches invalidated, pulses and
energy counted; AnalogOps.adopt reads the changed array back."""

import numpy as np
import pytest

from neurosim.analog import HardwareConfig, to_analog
from neurosim.cells import RNN
from neurosim.crossbar import Crossbar, CrossbarConfig
from neurosim.devices import SoftBoundsDevice
from neurosim.errors import ParameterError

G_MIN, G_MAX, A_UP, A_DN, G0 = 1e-6, 1e-5, 0.05, 0.1, 5.5e-6


def _dev():
    return SoftBoundsDevice(G_min=G_MIN, G_max=G_MAX, alpha_up=A_UP, alpha_down=A_DN, initial_state=G0)


def test_soft_bounds_closed_form_energy_and_cost():
    xb = Crossbar(np.zeros((2, 3)), CrossbarConfig(device=_dev(), w_max=1.0))
    G = xb.tiles[0].G.copy()  # (3 inputs, 2 outputs x [+, -])
    cost0 = (xb.cost().program_pulses, xb.cost().e_program, xb.cost().t_program)
    n = np.array([[3, 0, -2], [1, 5, 0]])
    r = xb.apply_pulses(n)
    prog = xb.config.programming
    e_ref, G_ref = 0.0, G.copy()
    for o in range(2):
        for i in range(3):
            k = np.arange(abs(n[o, i]))
            up, dn = (2 * o, 2 * o + 1) if n[o, i] > 0 else (2 * o + 1, 2 * o)
            gu = G_MAX - (G_MAX - G[i, up]) * (1 - A_UP) ** k  # potentiation before each pulse
            gd = G_MIN + (G[i, dn] - G_MIN) * (1 - A_DN) ** k  # depression before each pulse
            e_ref += (prog.v_set**2 * gu.sum() + prog.v_reset**2 * gd.sum()) * prog.t_pulse
            m = abs(n[o, i])
            G_ref[i, up] = G_MAX - (G_MAX - G[i, up]) * (1 - A_UP) ** m
            G_ref[i, dn] = G_MIN + (G[i, dn] - G_MIN) * (1 - A_DN) ** m
    np.testing.assert_allclose(xb.tiles[0].G, G_ref, rtol=1e-12)
    assert r["pulses"] == 2 * np.abs(n).sum() and r["energy"] == pytest.approx(e_ref, rel=1e-12)
    assert r["time"] == pytest.approx(5 * 3 * prog.t_pulse, rel=1e-12)  # 5 rounds, rows one after the other
    c = xb.cost()
    assert c.program_pulses - cost0[0] == r["pulses"]
    assert c.e_program - cost0[1] == pytest.approx(r["energy"], rel=1e-12)
    assert c.t_program - cost0[2] == pytest.approx(r["time"], rel=1e-12)
    assert np.all(np.sign(xb.weights) == np.sign(n))


def test_version_bump_invalidates_the_compiled_read():
    xb = Crossbar(np.zeros((2, 2)), CrossbarConfig(device=_dev(), w_max=1.0, mode="device"))
    x = np.array([[1.0, -0.5]])
    before = xb.matmul(x)  # builds the compiled read
    v = xb.version
    xb.apply_pulses(np.array([[4, 0], [0, -4]]))
    assert xb.version == v + 1
    after = xb.matmul(x)
    np.testing.assert_allclose(after, x @ xb.weights.T, rtol=1e-12, atol=1e-15)
    assert not np.allclose(after, before)


def test_zero_pulses_change_nothing_but_the_version():
    xb = Crossbar(np.array([[0.5, -0.25]]), CrossbarConfig(device=_dev(), w_max=1.0))
    G = xb.tiles[0].G.copy()
    r = xb.apply_pulses(np.zeros((1, 2), dtype=int))
    assert r == {"pulses": 0, "energy": 0.0, "time": 0.0} and np.array_equal(xb.tiles[0].G, G)


def test_analog_ops_sees_the_change_and_adopts_it():
    cell = RNN(2, 3, dtype=np.float64, seed=0)
    a = to_analog(cell, HardwareConfig(device=_dev(), crossbar_options={"w_max": 1.0}))
    x = np.random.default_rng(0).uniform(-1, 1, (4, 2, 2))
    y0 = a(x)[0]
    xb = a.ops.crossbars["weight_hh_l0"]
    xb.apply_pulses(np.full((3, 3), 3))
    y1 = a(x)[0]  # the parameters did not change: the devices are read as they are now
    assert np.max(np.abs(y1 - y0)) > 1e-3 and a.ops.programmings["weight_hh_l0"] == 1
    names = a.ops.adopt(a)
    assert names == ["weight_ih_l0", "weight_hh_l0"]
    np.testing.assert_array_equal(a.params["weight_hh_l0"], xb.weights)
    y2 = a(x)[0]  # adopted: no reprogramming, same reads
    assert a.ops.programmings["weight_hh_l0"] == 1
    np.testing.assert_allclose(y2, y1, rtol=0, atol=1e-12)
    np.testing.assert_allclose(y2, to_analog(a, HardwareConfig())(x)[0], rtol=0, atol=1e-9)  # = the read-back net


@pytest.mark.parametrize("bad, match", [(np.zeros((2, 2), dtype=int), "shape"), (np.zeros((1, 2)), "integer")])
def test_bad_pulses(bad, match):
    xb = Crossbar(np.zeros((1, 2)), CrossbarConfig(device=_dev(), w_max=1.0))
    with pytest.raises(ParameterError, match=match):
        xb.apply_pulses(bad)


def test_needs_a_pulse_response_and_differential_mapping():
    with pytest.raises(ParameterError, match="pulse response"):
        Crossbar(np.zeros((1, 2))).apply_pulses(np.zeros((1, 2), dtype=int))
    xb = Crossbar(np.zeros((1, 2)), CrossbarConfig(device=_dev(), w_max=1.0, mapping="reference"))
    with pytest.raises(ParameterError, match="differential"):
        xb.apply_pulses(np.zeros((1, 2), dtype=int))
