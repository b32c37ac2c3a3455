"""Memristive STDP with device non-idealities: device-to-device spread and cycle-to-cycle noise."""

import numpy as np
import pytest

from neurosim.devices import CycleToCycleNoise, DeviceToDeviceVariability, ReadNoise
from neurosim.devices.cards import load_device
from neurosim.dynamics.stdp import MemristiveSTDP
from neurosim.errors import ParameterError

DEV = load_device("rram_softbounds_gong2018")
G0 = 0.5 * (DEV.G_min + DEV.G_max)
N = 4000


def _nominal(dt):
    return MemristiveSTDP(DEV).pair_delta(G0, dt)


def test_d2d_spread_of_potentiation_matches_sigma():
    sigma = 0.2
    s = MemristiveSTDP(DEV, nonidealities=[DeviceToDeviceVariability(sigma, ("alpha_up", "alpha_down"))])
    dt = np.full(N, 0.005)
    ratio = s.pair_delta(np.full(N, G0), dt, seed=4) / _nominal(0.005)
    # dG is proportional to alpha_up: log ratio ~ N(-sigma^2/2, sigma^2)
    lr = np.log(ratio)
    se_sd = sigma / np.sqrt(2 * N)
    assert abs(lr.std(ddof=1) - sigma) < 4 * se_sd
    assert abs(ratio.mean() - 1.0) < 4 * ratio.std() / np.sqrt(N)   # E[p_k] = p
    # depression spread too, and same seed -> identical, other seed -> different
    dep = s.pair_delta(np.full(N, G0), -dt, seed=4) / _nominal(-0.005)
    assert abs(np.log(dep).std(ddof=1) - sigma) < 4 * se_sd
    np.testing.assert_array_equal(s.pair_delta(np.full(N, G0), dt, seed=4), s.pair_delta(np.full(N, G0), dt, seed=4))
    assert not np.array_equal(s.pair_delta(np.full(N, G0), dt, seed=4), s.pair_delta(np.full(N, G0), dt, seed=5))
    # the sign of the STDP window survives the spread
    assert np.all(ratio > 0) and np.all(dep > 0)


def test_c2c_noise_spread_matches_sigma():
    sigma = 0.15
    s = MemristiveSTDP(DEV, nonidealities=[CycleToCycleNoise(sigma)])
    ratio = s.pair_delta(np.full(N, G0), np.full(N, 0.002), seed=1) / _nominal(0.002)
    assert abs(ratio.std(ddof=1) - sigma) < 4 * sigma / np.sqrt(2 * N)
    assert abs(ratio.mean() - 1.0) < 4 * sigma / np.sqrt(N)
    np.testing.assert_array_equal(ratio, s.pair_delta(np.full(N, G0), np.full(N, 0.002), seed=1) / _nominal(0.002))
    # sigma = 0 is the ideal synapse
    s0 = MemristiveSTDP(DEV, nonidealities=[CycleToCycleNoise(0.0)])
    assert s0.pair_delta(G0, 0.002) == _nominal(0.002)


def test_bad_nonidealities():
    with pytest.raises(ParameterError, match="stage"):
        MemristiveSTDP(DEV, nonidealities=[ReadNoise(0.01)])
    with pytest.raises(ParameterError, match="device-to-device params"):
        MemristiveSTDP(DEV, nonidealities=[DeviceToDeviceVariability(0.1, ("R_on",))])
    with pytest.raises(ParameterError, match="non-ideality|nonideal"):
        MemristiveSTDP(DEV, nonidealities=[object()])
    with pytest.raises(ParameterError, match="device must be a SoftBoundsDevice"):
        MemristiveSTDP(object())


@pytest.mark.brian2
def test_brian2_same_devices_as_closed_form_and_c2c_spread():
    d2d = [DeviceToDeviceVariability(0.3, ("alpha_up", "alpha_down")), DeviceToDeviceVariability(0.1, ("G_max",))]
    s = MemristiveSTDP(DEV, tau_pre=0.02, tau_post=0.03, nonidealities=d2d)
    n = 200
    dts = np.round(np.linspace(-0.03, 0.03, n), 4)   # on the 10 us brian2 grid
    G0s = np.full(n, G0)
    got = s.run_pairs(G0s, dts, seed=2)
    ref = s.pair_delta(G0s, dts, seed=2)
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-9 * float(DEV.G_max))
    assert np.std(got[dts > 0] / _nominal(dts[dts > 0])) > 0.1   # the spread is really there
    sigma = 0.15
    s2 = MemristiveSTDP(DEV, nonidealities=[CycleToCycleNoise(sigma)])
    n = 2000
    a = s2.run_pairs(np.full(n, G0), np.full(n, 0.002), seed=3)
    b = s2.run_pairs(np.full(n, G0), np.full(n, 0.002), seed=3)
    np.testing.assert_array_equal(a, b)
    ratio = a / _nominal(0.002)
    assert abs(ratio.std(ddof=1) - sigma) < 4 * sigma / np.sqrt(2 * n)
    assert abs(ratio.mean() - 1.0) < 4 * sigma / np.sqrt(n)
