"""Non-idealities: statistics against their definitions, determinism under a seed, composition."""

import math

import numpy as np
import pytest

from neurosim.devices import (
    VTEAM,
    CycleToCycleNoise,
    DeviceToDeviceVariability,
    FiniteLevels,
    LinearIonDrift,
    NonIdealities,
    NonlinearReadIV,
    ReadNoise,
    RetentionDrift,
    SoftBoundsDevice,
    StuckAtFaults,
)
from neurosim.errors import ParameterError


def test_d2d_lognormal_is_relative_to_the_mean(rng):
    m = DeviceToDeviceVariability(0.2, ("R_on", "k_off")).apply(VTEAM(), (400, 250), rng)
    assert m.R_on.shape == (400, 250) and m.R_off == 1000.0
    # mean preserved (E[exp(s z - s^2/2)] = 1), log-std = sigma
    assert m.R_on.mean() == pytest.approx(50.0, rel=0.005)
    assert np.log(m.R_on).std() == pytest.approx(0.2, rel=0.01)
    assert np.all(m.R_on > 0) and np.all(m.k_off > 0)
    # the group still works elementwise
    x = np.full((400, 250), 1.5e-9)
    assert m.current(x, 0.1) == pytest.approx(0.1 / (m.R_on + (1000.0 - m.R_on) * 0.5))


def test_d2d_is_deterministic_under_a_seed_and_checks_names():
    a = DeviceToDeviceVariability(0.1, ("R_on",)).apply(LinearIonDrift(), (10,), np.random.default_rng(7))
    b = DeviceToDeviceVariability(0.1, ("R_on",)).apply(LinearIonDrift(), (10,), np.random.default_rng(7))
    assert np.array_equal(a.R_on, b.R_on)
    with pytest.raises(ParameterError, match="per-device parameters of LinearIonDrift"):
        DeviceToDeviceVariability(0.1, ("window",)).apply(LinearIonDrift(), (10,), np.random.default_rng(7))
    with pytest.raises(ParameterError, match="rng must be a numpy.random.Generator"):
        DeviceToDeviceVariability(0.1, ("R_on",)).apply(LinearIonDrift(), (10,), 7)
    with pytest.raises(ParameterError, match=r"DeviceToDeviceVariability: sigma must be a real number >= 0, got -1"):
        DeviceToDeviceVariability(-1, ("R_on",))


def test_cycle_to_cycle_noise_statistics(rng):
    delta = np.full(200_000, 2e-7)
    noisy = CycleToCycleNoise(0.05).apply(delta, rng)
    assert noisy.mean() == pytest.approx(2e-7, rel=1e-3)
    assert (noisy / 2e-7 - 1).std() == pytest.approx(0.05, rel=0.01)
    assert np.all(CycleToCycleNoise(0.05).apply(np.zeros(5), rng) == 0.0)  # no switching, no noise


def test_cycle_to_cycle_noise_in_pulses_and_steps(rng):
    d = SoftBoundsDevice(G_min=1e-6, G_max=1e-5, alpha_up=0.05, alpha_down=0.05)
    g = d.apply_pulses(np.full(50_000, 1e-6), 1, +1, rng=rng, noise=CycleToCycleNoise(0.1))
    step = 0.05 * 9e-6
    assert ((g - 1e-6) / step).std() == pytest.approx(0.1, rel=0.02)
    m = LinearIonDrift(window="joglekar")
    x = CycleToCycleNoise(0.3).step(m, np.full(1000, 0.5), 1.0, 1e-3, rng)
    dx = m.dstate_dt(0.5, 1.0) * 1e-3
    assert ((x - 0.5) / dx).std() == pytest.approx(0.3, rel=0.1)


def test_read_noise_statistics_and_seed(rng):
    i = np.full(100_000, 1e-5)
    out = ReadNoise(0.02).apply(i, rng)
    assert (out / 1e-5 - 1).std() == pytest.approx(0.02, rel=0.02)
    a = ReadNoise(0.02).apply(i[:10], np.random.default_rng(3))
    b = ReadNoise(0.02).apply(i[:10], np.random.default_rng(3))
    assert np.array_equal(a, b)


def test_stuck_at_faults_fractions_and_forcing(rng):
    m = VTEAM()
    state = np.full((300, 300), 1.5e-9)
    forced, fmap = StuckAtFaults(p_on=0.1, p_off=0.05).apply(state, m, rng)
    assert fmap.stuck_on.mean() == pytest.approx(0.1, abs=0.005)
    assert fmap.stuck_off.mean() == pytest.approx(0.05, abs=0.005)
    assert not np.any(fmap.stuck_on & fmap.stuck_off)
    assert np.all(forced[fmap.stuck_on] == m.x_on) and np.all(forced[fmap.stuck_off] == m.x_off)
    free = ~(fmap.stuck_on | fmap.stuck_off)
    assert np.all(forced[free] == 1.5e-9)
    # a stuck device stays stuck after programming when the map is re-applied
    reprogrammed = fmap.force(np.full((300, 300), 0.0), m)
    assert np.all(reprogrammed[fmap.stuck_off] == m.x_off)
    with pytest.raises(ParameterError, match="p_on \\+ p_off must be <= 1"):
        StuckAtFaults(0.6, 0.6)


def test_retention_drift_power_law():
    d = RetentionDrift(nu=0.05, t0=2.0)
    g0 = np.array([1e-5, 2e-6])
    assert d.apply(g0, 2000.0) == pytest.approx(g0 * 1000.0**-0.05)  # (t/t0)^-nu
    assert np.array_equal(d.apply(g0, 1.0), g0)  # before t0: no drift
    spread = RetentionDrift(nu=0.05, t0=1.0, nu_std=0.01)
    nu = spread.sample_nu((50_000,), np.random.default_rng(1))
    assert nu.mean() == pytest.approx(0.05, rel=0.01) and nu.std() == pytest.approx(0.01, rel=0.02)
    g = spread.apply(np.full(50_000, 1e-5), 100.0, nu=nu)
    assert g == pytest.approx(1e-5 * 100.0 ** (-nu))
    with pytest.raises(ParameterError, match="t must be >= 0"):
        d.apply(g0, -1.0)


def test_finite_levels_and_nonlinear_read():
    q = FiniteLevels(n_levels=5, G_min=1e-6, G_max=5e-6)
    g = q.apply(np.array([0.0, 1.4e-6, 1.6e-6, 4.9e-6, 9e-6]))
    assert g == pytest.approx([1e-6, 1e-6, 2e-6, 5e-6, 5e-6])
    nl = NonlinearReadIV(v_nl=0.2)
    assert nl.apply(1e-5, 0.3) == pytest.approx(1e-5 * 0.2 * math.sinh(1.5))
    assert nl.apply(1e-5, 1e-6) == pytest.approx(1e-11, rel=1e-9)  # slope G at 0 V


def test_pipeline_composition_is_seed_deterministic():
    chain = NonIdealities(
        [
            DeviceToDeviceVariability(0.1, ("G_max",)),
            StuckAtFaults(p_on=0.02),
            FiniteLevels(16, 1e-6, 1e-5),
            RetentionDrift(0.02),
            NonlinearReadIV(0.25),
            ReadNoise(0.01),
        ]
    )

    def run(seed):
        rng = np.random.default_rng(seed)
        dev = chain.model(SoftBoundsDevice(G_min=1e-6, G_max=1e-5), (8, 8), rng)
        fmap = chain.faults((8, 8), rng)
        g = fmap.force(np.full((8, 8), 3e-6), dev)
        g = chain.conductance(g, t=10.0, draws=chain.drift_sample(g, rng))
        return chain.read(g, 0.2, rng)

    assert np.array_equal(run(5), run(5))
    assert not np.array_equal(run(5), run(6))
    with pytest.raises(ParameterError, match="at most one item of stage 'read_iv'"):
        NonIdealities([NonlinearReadIV(0.1), NonlinearReadIV(0.2)])
    with pytest.raises(ParameterError, match="non-ideality objects"):
        NonIdealities([3.0])
