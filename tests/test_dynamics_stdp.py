"""Memristive STDP synapse: the device's pulse response driven by paired pre/post pulses."""

import numpy as np
import pytest

from neurosim.devices import SoftBoundsDevice
from neurosim.devices.cards import load_device
from neurosim.dynamics.stdp import MemristiveSTDP
from neurosim.errors import ParameterError

pytestmark = pytest.mark.brian2


def test_pairs_potentiate_pre_post_depress_post_pre_brian2_vs_closed_form():
    dev = load_device("rram_softbounds_gong2018")
    s = MemristiveSTDP(dev, tau_pre=0.02, tau_post=0.03)
    G0 = 0.5 * (dev.G_min + dev.G_max)
    dts = np.array([-0.03, -0.01, -0.002, 0.002, 0.01, 0.03])
    got = s.run_pairs(G0, dts)
    ref = s.pair_delta(G0, dts)
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-9 * float(dev.G_max))
    assert np.all(got[dts > 0] > 0) and np.all(got[dts < 0] < 0)
    # window shape: decays with |dt| on both sides
    assert np.all(np.diff(got[dts > 0]) < 0) and np.all(np.diff(got[dts < 0]) < 0)
    # size set by the card: the closest pre-before-post pair equals one card pulse times e^{-dt/tau}
    one_pulse = float(dev.apply_pulses(G0, 1, +1)) - G0
    assert got[3] == pytest.approx(one_pulse * np.exp(-0.002 / 0.02), rel=1e-6)


def test_size_scales_with_card_parameters_and_soft_bounds():
    a = MemristiveSTDP(SoftBoundsDevice(G_min=1e-6, G_max=1e-5, alpha_up=0.02, alpha_down=0.01))
    b = MemristiveSTDP(SoftBoundsDevice(G_min=1e-6, G_max=1e-5, alpha_up=0.08, alpha_down=0.03))
    G0, dts = 4e-6, np.array([-0.005, 0.005])
    ga, gb = a.run_pairs(G0, dts), b.run_pairs(G0, dts)
    np.testing.assert_allclose(gb / ga, [3.0, 4.0], rtol=1e-9)
    # soft bounds: potentiation near G_max is smaller than near G_min
    up = a.run_pairs(np.array([1.5e-6, 9.5e-6]), 0.005)
    assert up[1] == pytest.approx(up[0] * (0.5 / 8.5), rel=1e-9)


def test_bad_input():
    with pytest.raises(ParameterError, match="SoftBoundsDevice"):
        MemristiveSTDP(load_device("hp_tio2_strukov2008"))
    dev = SoftBoundsDevice()
    with pytest.raises(ParameterError, match="tau_pre"):
        MemristiveSTDP(dev, tau_pre=0.0)
    with pytest.raises(ParameterError, match="tau_post"):
        MemristiveSTDP(dev, tau_post=-1.0)
    with pytest.raises(ParameterError, match="G0"):
        MemristiveSTDP(dev).run_pairs(2e-5, 0.01)
