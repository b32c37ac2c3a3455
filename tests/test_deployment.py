"""Issue 15: PCM statistics, drift compensation, the 1T1R card, accuracy over deployment time.

Monte Carlo checks state their standard error (SE) and allow 5 SE; deterministic checks allow ~10x
the measured rounding error.
"""

import dataclasses

import numpy as np
import pytest

from neurosim.analog import HardwareConfig
from neurosim.cells import LSTM
from neurosim.crossbar import ADC, Crossbar, CrossbarConfig, deployment_reads
from neurosim.devices import (
    GateControlledRRAM,
    PCMDrift,
    PCMProgrammingNoise,
    PCMReadNoise,
    RetentionDrift,
    load_device,
    pcm_mean_drift_factor,
    pcm_nu_stats,
    read_card,
)
from neurosim.errors import ParameterError
from neurosim.study import compare, deployment_table, plot_deployment

GMAX = 25e-6
HOUR, DAY, YEAR = 3600.0, 86400.0, 365 * 86400.0


# ----------------------------------------------------------------------------------------- PCM statistics
@pytest.mark.parametrize("x", [0.1, 0.4, 0.7, 1.0])
def test_programming_noise_sigma_is_the_polynomial(x):
    n = 200_000
    g = np.full(n, x * GMAX)
    out = PCMProgrammingNoise(g_max=GMAX).apply(g, np.random.default_rng(1))
    # aihwkit polynomial (uS at 25 uS): 0.26348 + 1.9650 x - 1.1731 x^2
    sigma = (0.26348 + 1.9650 * x - 1.1731 * x * x) * 1e-6
    se = sigma / np.sqrt(2 * n)  # SE of a sample standard deviation
    assert abs(out.std(ddof=1) - sigma) < 5 * se
    assert abs(out.mean() - x * GMAX) < 5 * sigma / np.sqrt(n)


def test_programming_noise_scales_with_g_max_and_clips_at_zero():
    p = PCMProgrammingNoise(g_max=50e-6)  # coefficients fitted at 25 uS: sigma doubles at the same x
    assert p.sigma(np.array([50e-6]))[0] == pytest.approx(2 * (0.26348 + 1.9650 - 1.1731) * 1e-6, rel=1e-12)
    out = PCMProgrammingNoise(g_max=GMAX).apply(np.zeros(10_000), np.random.default_rng(0))
    assert out.min() == 0.0 and (out > 0).mean() == pytest.approx(0.5, abs=0.03)


def test_nu_statistics_follow_aihwkit_fit_and_clipping():
    mu, sd = pcm_nu_stats(np.array([GMAX, 0.1 * GMAX, 1e-3 * GMAX, 0.0]), GMAX)
    assert mu[0] == 0.049 and sd[0] == 0.008  # both clipped below at x = 1
    assert mu[1] == pytest.approx(-0.0155 * np.log(0.1) + 0.0244) and sd[1] == pytest.approx(-0.0125 * np.log(0.1) - 0.0059)
    assert mu[2] == 0.1 and sd[2] == 0.045 and mu[3] == 0.1  # clipped above; x = 0 clipped at 1e-7


@pytest.mark.parametrize("t", [HOUR, DAY, YEAR])
@pytest.mark.parametrize("x", [0.02, 0.3, 1.0])
def test_mean_drift_factor_matches_the_folded_normal_expectation(t, x):
    n = 200_000
    d = PCMDrift(g_max=GMAX, t0=20.0)
    g = np.full(n, x * GMAX)
    nu = d.sample(g, np.random.default_rng(2))
    f = d.at(g, t, nu) / g
    expected = float(pcm_mean_drift_factor([x * GMAX], GMAX, t, 20.0)[0])
    se = f.std(ddof=1) / np.sqrt(n)
    assert abs(f.mean() - expected) < 5 * se
    assert expected < 1.0 - 0.05 * (t >= DAY)  # drift is a real effect at a day and more


@pytest.mark.parametrize("t", [HOUR, YEAR])
def test_read_noise_sigma_through_the_crossbar_read(t):
    """Column currents of repeated reads of one row: sample std against v * sigma_r of every device."""
    card = read_card("pcm_joshi2020")
    W = np.array([[1.0], [0.5], [0.1], [-0.7]])  # 1 input, 4 outputs: 8 columns of various G
    cfg = CrossbarConfig(device=card.name, mode="device", nonidealities=card.nonidealities, r_wire=0.0)
    xb = Crossbar(W, cfg, seed=3)
    n, v = 40_000, 0.2
    I = xb.read_currents(np.full((n, 1), v), t=t)
    tile = xb.tiles[0]
    G_t = tile.conductance_at(t)[0]
    r = PCMReadNoise(g_max=GMAX)
    q = np.minimum(0.0088 / np.maximum((np.abs(tile.G_prog[0]) / GMAX) ** 0.65, 1e-3), 0.2)
    sigma = v * np.abs(G_t) * q * np.sqrt(np.log((t + 20.0 + 250e-9) / (2 * 250e-9)))
    assert np.allclose(sigma, v * r.read_std(G_t, t, G_prog=tile.G_prog[0]), rtol=1e-12)
    se = sigma / np.sqrt(2 * n)
    assert np.all(np.abs(I.std(axis=0, ddof=1) - sigma) <= 5 * se)  # (a device at 0 S reads exactly 0)
    assert np.all(np.abs(I.mean(axis=0) - v * G_t) <= 5 * sigma / np.sqrt(n))


def test_pcm_bad_inputs():
    for cls in (PCMProgrammingNoise, PCMDrift, PCMReadNoise):
        for bad in (0.0, -1e-6):
            with pytest.raises(ParameterError, match="g_max must be"):
                cls(g_max=bad)
    with pytest.raises(ParameterError, match="t \\(time since programming\\) must be finite and >= 0"):
        PCMDrift().at(np.array([1e-5]), -1.0, np.array([0.05]))
    with pytest.raises(ParameterError, match=">= 0"):
        PCMReadNoise().read_std(np.array([1e-5]), -5.0)
    with pytest.raises(ParameterError, match="time since programming"):
        Crossbar(np.eye(2), CrossbarConfig(mode="device")).matmul(np.ones((1, 2)), t=-1.0)


def test_pcm_card_and_config_round_trip():
    card = read_card("pcm_joshi2020")
    assert [type(n).__name__ for n in card.nonidealities] == ["PCMProgrammingNoise", "PCMDrift", "PCMReadNoise"]
    p = card.nonidealities[0]
    assert p.coeffs == (0.26348e-6, 1.9650e-6, -1.1731e-6) and card.nonidealities[1].t0 == 20.0
    assert card.nonidealities[2].t_read == 250e-9 and card.model.G_max == GMAX
    cfg = CrossbarConfig(device=card.name, mode="device", nonidealities=card.nonidealities, drift_compensation="per_column")
    assert CrossbarConfig.from_toml(cfg.to_toml()) == cfg
    hw = HardwareConfig(device=card.name, read_mode="device", nonidealities=card.nonidealities, drift_compensation="global")
    assert HardwareConfig.from_toml(hw.to_toml()) == hw
    assert hw.crossbar_config("weight_ih_l0").drift_compensation == "global"


# ----------------------------------------------------------------------------------------- compensation
W = np.random.default_rng(0).uniform(-1, 1, (24, 40))
X = np.random.default_rng(1).uniform(-1, 1, (32, 40))


def _rel_err(xb, t):
    exact = X @ W.T
    return float(np.sqrt(np.mean((xb.matmul(X, t=t) - exact) ** 2) / np.mean(exact**2)))


@pytest.mark.parametrize("kind", ["global", "per_column"])
@pytest.mark.parametrize("mapping", ["differential", "reference"])
def test_compensation_is_exact_with_uniform_drift(kind, mapping):
    ni = (RetentionDrift(nu=0.06, t0=1.0),)
    for t in (HOUR, YEAR):
        plain = Crossbar(W, CrossbarConfig(mode="device", nonidealities=ni, mapping=mapping))
        comp = Crossbar(W, CrossbarConfig(mode="device", nonidealities=ni, mapping=mapping, drift_compensation=kind))
        assert _rel_err(plain, t) > 0.3
        assert _rel_err(comp, t) <= 1e-12
        Y = np.random.default_rng(2).uniform(-1, 1, (5, 24))  # transposed reads compensated too
        assert np.max(np.abs(comp.matmul_transposed(Y, t=t) - Y @ W)) <= 1e-12 * np.max(np.abs(Y @ W))


def test_compensation_reduces_the_error_with_nu_spread():
    # a per-device nu spread cannot be undone by one scale; measured ratios 0.487 (global), 0.477 (per column)
    ni = (RetentionDrift(nu=0.06, nu_std=0.02, t0=1.0),)
    plain = _rel_err(Crossbar(W, CrossbarConfig(mode="device", nonidealities=ni)), DAY)
    glob = _rel_err(Crossbar(W, CrossbarConfig(mode="device", nonidealities=ni, drift_compensation="global")), DAY)
    col = _rel_err(Crossbar(W, CrossbarConfig(mode="device", nonidealities=ni, drift_compensation="per_column")), DAY)
    assert glob < 0.6 * plain and col < 0.6 * plain
    assert glob > 0.3 * plain  # not exact: the spread remains


def test_compensated_error_stays_near_the_read_noise_floor():
    """PCM card (programming noise, drift, 1/f noise): after a year, compensated error <= 2.5x the error
    of the same hardware without drift (programming + read noise: the floor). Measured (4 seeds):
    floor 0.096, compensated 0.158 (1.65x), uncompensated 0.511 (5.3x)."""
    card = read_card("pcm_joshi2020")
    prog, drift, noise = card.nonidealities
    floor_ni = (prog, PCMDrift(g_max=GMAX, scale=0.0), noise)
    errs = {}
    for name, ni, comp in [("plain", card.nonidealities, None), ("comp", card.nonidealities, "global"),
                           ("floor", floor_ni, None)]:
        cfg = CrossbarConfig(device=card.name, mode="device", nonidealities=ni, drift_compensation=comp)
        errs[name] = np.mean([_rel_err(Crossbar(W, cfg, seed=s), YEAR) for s in range(4)])
    assert errs["plain"] > 4 * errs["floor"]
    assert errs["comp"] < 2.5 * errs["floor"]


def test_compensation_reads_are_counted():
    cfg = CrossbarConfig(mode="device", nonidealities=(RetentionDrift(nu=0.05),), drift_compensation="global")
    xb = Crossbar(W, cfg)
    e0 = xb.cost().e_read if hasattr(xb.cost(), "e_read") else None
    xb.matmul(X, t=DAY)
    assert xb.cost().reads == X.shape[0] + 2 * W.shape[1]  # the batch + reference reads at 0 and at t
    xb.matmul(X, t=DAY)  # the factors at a known time are reused
    assert xb.cost().reads == 2 * X.shape[0] + 2 * W.shape[1]
    xb.matmul(X, t=YEAR)
    assert xb.cost().reads == 3 * X.shape[0] + 3 * W.shape[1]
    assert e0 is None or xb.cost().e_read > e0
    ideal = Crossbar(W, CrossbarConfig(mode="device", nonidealities=(RetentionDrift(nu=0.05),)))
    ideal.matmul(X, t=DAY)
    assert ideal.cost().e_adc < xb.cost().e_adc


def test_unknown_compensation_kind_is_refused():
    with pytest.raises(ParameterError, match="drift_compensation must be one of 'global', 'per_column'"):
        CrossbarConfig(drift_compensation="local")
    with pytest.raises(ParameterError, match="drift_compensation must be one of"):
        HardwareConfig(drift_compensation="GLOBAL")
    with pytest.raises(ParameterError, match="compensations must be"):
        compare(LSTM(2, 3, dtype=np.float64), None, np.zeros((3, 1, 2)), times=[1.0], compensations=["median"])


# ----------------------------------------------------------------------------------------- 1T1R card
def test_1t1r_update_rule_against_hand_computed_values():
    d = GateControlledRRAM(G_min=0.0, G_max=100e-6, k_gate=98e-6, V_th=0.6, V_gate_min=0.7, V_gate_max=1.6,
                           sigma_write=0.0)
    G = np.full(5, 50e-6)
    dG = np.array([10e-6, -20e-6, 80e-6, -49e-6, 0.0])
    # V_g(50 uS) = 0.6 + 50/98 V; up 10 uS: SET at 0.6 + 60/98 -> 60 uS; down 20: RESET, SET to 30 uS;
    # up 80: V_g = 0.6 + 130/98 = 1.93 V clipped to 1.6 V -> 98 uS; down 49: V_g = 0.6102 V clipped to
    # 0.7 V -> 9.8 uS; 0: no pulse
    expected = np.array([60e-6, 30e-6, 98e-6, 9.8e-6, 50e-6])
    assert np.allclose(d.update(G, dG), expected, rtol=1e-12, atol=1e-18)
    # SET only increases: a SET below the present conductance leaves it (max(G_set, G))
    assert d.write(np.array([80e-6]), 0.8, reset=False)[0] == pytest.approx(80e-6)
    assert d.write(np.array([80e-6]), 0.8, reset=True)[0] == pytest.approx(98e-6 * 0.2)


def test_1t1r_write_noise_is_gaussian_with_the_card_sigma():
    d = load_device("rram_1t1r_li2019")
    n = 100_000
    out = d.update(np.full(n, 50e-6), np.full(n, -10e-6), np.random.default_rng(0))
    se = d.sigma_write / np.sqrt(2 * n)
    assert d.sigma_write == 4e-6 and abs(out.std(ddof=1) - 4e-6) < 5 * se
    assert abs(out.mean() - 40e-6) < 5 * 4e-6 / np.sqrt(n)


def test_1t1r_card_programs_a_crossbar_with_write_verify():
    card = read_card("rram_1t1r_li2019")
    assert card.max_array_size == (128, 64) and card.model.G_max == 100e-6
    Wt = np.random.default_rng(3).uniform(-1, 1, (8, 16))
    from neurosim.crossbar import Programming

    cfg = CrossbarConfig(device=card.name, mode="device", tile_rows=16, tile_cols=16, g_min=10e-6, g_max=95e-6,
                         programming=Programming(method="write_verify", tolerance=0.06, max_pulses=200))
    xb = Crossbar(Wt, cfg, seed=0)
    rep = xb.program_report()
    assert rep["converged"] > 0.95
    assert np.max(np.abs(xb.weights - Wt)) < 0.3


# ----------------------------------------------------------------------------------------- deployment
def test_deployment_reads_equal_the_crossbar_without_noise_and_in_distribution_with_it():
    card = read_card("pcm_joshi2020")
    times, seeds = [0.0, HOUR, YEAR], [0, 5]
    for comp in (None, "global", "per_column"):
        cfg = CrossbarConfig(device=card.name, mode="device", nonidealities=card.nonidealities[:2], tile_rows=16,
                             tile_cols=16, drift_compensation=comp)
        Y = deployment_reads(W, cfg, X, times, seeds)
        for i, t in enumerate(times):
            for j, s in enumerate(seeds):
                assert np.max(np.abs(Y[i, j] - Crossbar(W, cfg, seed=s).matmul(X, t=t))) <= 1e-12
    # the generic path (drift items without factor(), levels): RetentionDrift with finite levels
    cfg = CrossbarConfig(mode="device", nonidealities=(RetentionDrift(nu=0.05, nu_std=0.02), ), levels=64)
    Y = deployment_reads(W, cfg, X, times, seeds)
    for i, t in enumerate(times):
        assert np.max(np.abs(Y[i, 1] - Crossbar(W, cfg, seed=seeds[1]).matmul(X, t=t))) <= 1e-12
    cfg = CrossbarConfig(device=card.name, mode="device", nonidealities=card.nonidealities, adc=ADC(bits=8))
    x1 = np.tile(X[:1], (4000, 1))
    a = deployment_reads(W, cfg, x1, [DAY], [7])[0, 0]
    b = Crossbar(W, cfg, seed=7).matmul(x1, t=DAY)
    sd = b.std(axis=0, ddof=1)
    assert np.all(np.abs(a.mean(axis=0) - b.mean(axis=0)) < 5 * np.sqrt(2 / 4000) * sd + 1e-12)
    assert np.all(np.abs(a.std(axis=0, ddof=1) / sd - 1) < 5 / np.sqrt(4000) + 0.02)


def test_deployment_reads_bad_inputs():
    cfg = CrossbarConfig(mode="device")
    with pytest.raises(ParameterError, match="before programming"):
        deployment_reads(W, cfg, X, [1.0, -1.0], [0])
    with pytest.raises(ParameterError, match="mode='device'"):
        deployment_reads(W, CrossbarConfig(mode="circuit"), X, [1.0], [0])
    with pytest.raises(ParameterError, match="seeds"):
        deployment_reads(W, cfg, X, [1.0], [])


def _lstm_setup():
    cell = LSTM(3, 6, dtype=np.float64, seed=0)
    x = np.random.default_rng(0).uniform(-1, 1, (12, 4, 3))
    y = cell(x)[0]
    card = read_card("pcm_joshi2020")
    hw = HardwareConfig(device=card.name, read_mode="device", nonidealities=card.nonidealities)
    return cell, x, y, hw


def test_compare_over_deployment_time_with_and_without_compensation(tmp_path):
    cell, x, y, hw = _lstm_setup()
    times = [1.0, DAY, YEAR]
    r = compare(cell, hw, x, targets=y, times=times, seeds=[0, 1, 2])
    d = r.deployment
    assert d["settings"] == ["none", "global"] and d["output_rmse"]["none"].shape == (3, 3)
    assert d["task_metric"] == "nrmse" and d["task_error"]["global"].shape == (3, 3)
    none, glob = d["output_rmse"]["none"].mean(axis=1), d["output_rmse"]["global"].mean(axis=1)
    assert none[2] > 2.5 * none[0]  # drift: a year is much worse than a second
    assert glob[2] < 0.5 * none[2]  # compensation removes most of it
    # the plain comparison is unchanged by the deployment keywords
    base = compare(cell, hw, x, targets=y)
    assert base.deployment is None and np.array_equal(base.step_output_rmse, r.step_output_rmse)
    fig = plot_deployment(r, tmp_path / "dep.png")
    assert (tmp_path / "dep.png").stat().st_size > 1000 and len(fig.axes) == 2
    assert "global" in deployment_table(r)
    assert r.to_dict()["deployment"]["seeds"] == [0, 1, 2]


def test_compare_deployment_bad_times():
    cell, x, y, hw = _lstm_setup()
    with pytest.raises(ParameterError, match="before programming"):
        compare(cell, hw, x, times=[1.0, -3600.0])
    with pytest.raises(ParameterError, match="times"):
        compare(cell, hw, x, times=[])
    with pytest.raises(ParameterError, match="seeds"):
        compare(cell, hw, x, times=[1.0], seeds=[-1])


def test_hardware_t_start_is_the_read_time_without_step_time():
    cell, x, y, hw = _lstm_setup()
    from neurosim.analog import to_analog

    a = to_analog(cell, hw.replace(t_start=YEAR))
    a(x)
    xb = next(iter(a.ops.crossbars.values()))
    assert xb.plan(YEAR) is not None and any(k[1] == YEAR for k in xb._plans)


def test_deployment_reads_same_seed_bit_identical_and_two_drift_items():
    card = read_card("pcm_joshi2020")
    prog, drift, noise = card.nonidealities
    cfg = CrossbarConfig(device=card.name, mode="device", nonidealities=card.nonidealities, tile_rows=16, tile_cols=16)
    a = deployment_reads(W, cfg, X, [HOUR, YEAR], [0, 3], read_seed=4)
    b = deployment_reads(W, cfg, X, [HOUR, YEAR], [0, 3], read_seed=4)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, deployment_reads(W, cfg, X, [HOUR, YEAR], [0, 3], read_seed=5))
    # two drift items with factor(): the total factor is the product (noise-free: equal to the crossbar)
    two = (prog, drift, dataclasses.replace(drift, scale=0.5))
    cfg2 = CrossbarConfig(device=card.name, mode="device", nonidealities=two, tile_rows=16, tile_cols=16)
    Y = deployment_reads(W, cfg2, X, [0.0, DAY], [2])
    for i, t in enumerate([0.0, DAY]):
        assert np.max(np.abs(Y[i, 0] - Crossbar(W, cfg2, seed=2).matmul(X, t=t))) <= 1e-12
    # ... and with read noise: equal in distribution (the variance uses the total factor)
    cfg3 = CrossbarConfig(device=card.name, mode="device", nonidealities=two + (noise,), adc=ADC(bits=8))
    x1 = np.tile(X[:1], (4000, 1))
    a = deployment_reads(W, cfg3, x1, [DAY], [7])[0, 0]
    b = Crossbar(W, cfg3, seed=7).matmul(x1, t=DAY)
    sd = b.std(axis=0, ddof=1)
    assert np.all(np.abs(a.mean(axis=0) - b.mean(axis=0)) < 5 * np.sqrt(2 / 4000) * sd + 1e-12)
    assert np.all(np.abs(a.std(axis=0, ddof=1) / sd - 1) < 5 / np.sqrt(4000) + 0.02)
