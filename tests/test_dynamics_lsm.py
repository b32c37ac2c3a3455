"""Liquid state machine (Maass, Natschläger & Markram 2002) on brian2."""

import numpy as np
import pytest

from neurosim.dynamics.lsm import LiquidResponse, LiquidStateMachine, filtered_states, poisson_encode
from neurosim.errors import ParameterError
from neurosim.tasks.readout import fit_ridge

pytestmark = pytest.mark.brian2

DUR = 0.2


def _jitter(i, t, sd, rng, dur=DUR):
    t = np.clip(t + sd * rng.standard_normal(t.shape), 0.0, dur - 1e-3)
    return i, t


def test_same_seed_identical_spikes_and_store_restore():
    i, t = poisson_encode(np.full((200, 2), 40.0), 1e-3, seed=3)
    a = LiquidStateMachine(n_inputs=2, seed=7, target="numpy")
    b = LiquidStateMachine(n_inputs=2, seed=7, target="numpy")
    ra, rb = a.run((i, t), DUR), b.run((i, t), DUR)
    assert len(ra.t) > 50
    np.testing.assert_array_equal(ra.i, rb.i)
    np.testing.assert_array_equal(ra.t, rb.t)
    ra2 = a.run((i, t), DUR)  # restore, not rebuild
    assert a.n_builds == 1
    np.testing.assert_array_equal(ra.t, ra2.t)
    rc = LiquidStateMachine(n_inputs=2, seed=8, target="numpy").run((i, t), DUR)
    assert not (len(rc.t) == len(ra.t) and np.array_equal(rc.t, ra.t))


def test_structure_matches_paper_statistics():
    lsm = LiquidStateMachine(seed=0, target="numpy")
    assert lsm.n_neurons == 135 and lsm.inhibitory.sum() == 27
    # empirical connection probability of EE pairs at distance 1 vs C*exp(-1/4) = 0.3*0.7788
    d2 = ((lsm.positions[lsm.pre] - lsm.positions[lsm.post]) ** 2).sum(1)
    ee = ~lsm.inhibitory[lsm.pre] & ~lsm.inhibitory[lsm.post]
    exc = ~lsm.inhibitory
    pos = lsm.positions
    pair_d2 = ((pos[:, None] - pos[None]) ** 2).sum(-1)
    n_pairs = (pair_d2[np.ix_(exc, exc)] == 1).sum()
    p_hat = (ee & (d2 == 1)).sum() / n_pairs
    se = np.sqrt(0.3 * np.exp(-0.25) * (1 - 0.3 * np.exp(-0.25)) / n_pairs)
    assert abs(p_hat - 0.3 * np.exp(-0.25)) < 4 * se
    assert np.all(lsm.delay[ee] == 1.5e-3) and np.all(lsm.delay[~ee] == 0.8e-3)
    assert np.all(lsm.A[~lsm.inhibitory[lsm.pre]] > 0) and np.all(lsm.A[lsm.inhibitory[lsm.pre]] < 0)


def test_filtered_states_closed_form():
    r = LiquidResponse(np.array([0, 1, 0]), np.array([0.01, 0.02, 0.05]), 2, 0.1)
    x = filtered_states(r, [0.05, 0.1], tau=0.03, dt=1e-5)
    ref = np.array([[np.exp(-0.04 / 0.03) + 1.0, np.exp(-0.03 / 0.03)],
                    [np.exp(-0.09 / 0.03) + np.exp(-0.05 / 0.03), np.exp(-0.08 / 0.03)]])
    np.testing.assert_allclose(x, ref, rtol=1e-3)


def test_bad_input_before_build():
    with pytest.raises(ParameterError, match="tau_m"):
        LiquidStateMachine(tau_m=0.0)
    with pytest.raises(ParameterError, match="tau_e"):
        LiquidStateMachine(tau_e=-1e-3)
    with pytest.raises(ParameterError, match="shape"):
        LiquidStateMachine(shape=(15, 3))
    with pytest.raises(ParameterError, match="C must"):
        LiquidStateMachine(C=(0.3, 0.2, 0.4))
    lsm = LiquidStateMachine(n_inputs=2, target="numpy")
    with pytest.raises(ParameterError, match=r"indices must be integers in \[0, 1\]"):
        lsm.run(([0, 2], [0.01, 0.02]), DUR)
    with pytest.raises(ParameterError, match="times must be in"):
        lsm.run(([0], [0.5]), DUR)
    with pytest.raises(ParameterError, match="equal length"):
        lsm.run(([0, 1], [0.01]), DUR)
    assert lsm.n_builds == 0  # nothing built or compiled by brian2
    with pytest.raises(ParameterError, match="tau"):
        filtered_states(LiquidResponse(np.array([0]), np.array([0.0]), 1, 0.1), [0.0], tau=0.0)
    with pytest.raises(ParameterError, match="rates"):
        poisson_encode(np.ones(5), 1e-3)


def _distance(x, y):
    return float(np.mean(np.linalg.norm(x - y, axis=-1)))


def test_separation_property():
    """Fig. 2 in small: pairs of 20 Hz... inputs at increasing distance give increasing liquid distance."""
    rng = np.random.default_rng(0)
    lsm = LiquidStateMachine(n_inputs=1, seed=2, target="numpy")
    times = np.arange(0.02, DUR, 0.01)
    base = poisson_encode(np.full((200, 1), 40.0), 1e-3, seed=11)
    r0 = lsm.run(base, DUR)
    s0 = filtered_states(r0, times)
    gauss = lambda tr: filtered_states(LiquidResponse(tr[0], tr[1], 1, DUR), times, tau=0.005)
    d_in, d_liq = [], []
    for frac in (0.0, 0.2, 0.5, 1.0):
        # replace a fraction of the base spikes by fresh Poisson spikes
        keep = rng.random(base[1].size) >= frac
        new = poisson_encode(np.full((200, 1), 40.0 * frac), 1e-3, seed=int(100 * frac) + 1)
        stim = (np.concatenate([base[0][keep], new[0]]), np.concatenate([base[1][keep], new[1]]))
        d_in.append(_distance(gauss(base), gauss(stim)))
        d_liq.append(_distance(s0, filtered_states(lsm.run(stim, DUR), times)))
    assert d_in[0] == 0.0 and d_liq[0] == 0.0
    assert np.all(np.diff(d_in) > 0)
    print("separation", d_in, d_liq)
    assert np.all(np.diff(d_liq) > 0), (d_in, d_liq)
    # the effect is large: the farthest pair is several times the nearest non-zero one
    assert d_liq[-1] > 1.5 * d_liq[1]


@pytest.mark.slow
def test_two_class_spike_pattern_classification():
    """Two jittered templates (4 ms SD); readout at 4 times; chance is 0.5, we require >= 0.85."""
    rng = np.random.default_rng(1)
    n_in = 4
    lsm = LiquidStateMachine(n_inputs=n_in, seed=4, target="numpy")
    templates = [poisson_encode(np.full((200, n_in), 20.0), 1e-3, seed=50 + c) for c in (0, 1)]
    times = np.array([0.05, 0.1, 0.15, 0.199])
    X, y = [], []
    for k in range(24):
        c = k % 2
        stim = _jitter(*templates[c], 0.004, rng)
        X.append(filtered_states(lsm.run(stim, DUR), times).ravel())
        y.append(c)
    X, y = np.array(X), np.array(y, float)
    n_tr = 14
    ro = fit_ridge(X[:n_tr], y[:n_tr, None], alpha=1.0)
    pred = (ro.predict(X[n_tr:])[:, 0] > 0.5).astype(float)
    acc = float(np.mean(pred == y[n_tr:]))
    print("accuracy", acc)
    assert acc >= 0.85, acc
    assert lsm.n_builds == 1


@pytest.mark.slow
def test_cython_target_matches_numpy():
    """The cython path runs (a compiler is present in CI) and gives the numpy path's spikes."""
    from neurosim.dynamics._brian import compiler_available

    assert compiler_available(), "no C compiler/Cython: the cython path cannot be tested"
    i, t = poisson_encode(np.full((100, 2), 40.0), 1e-3, seed=5)
    a = LiquidStateMachine(n_inputs=2, seed=3, target="cython").run((i, t), 0.1)
    b = LiquidStateMachine(n_inputs=2, seed=3, target="numpy").run((i, t), 0.1)
    assert len(a.t) > 20
    np.testing.assert_array_equal(a.i, b.i)
    np.testing.assert_allclose(a.t, b.t, rtol=0, atol=1e-12)
