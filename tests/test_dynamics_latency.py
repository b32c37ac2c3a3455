"""Latency (time-to-first-spike) encoder for analog inputs, and its use as an LSM stimulus."""

import numpy as np
import pytest

from neurosim.dynamics.lsm import LiquidStateMachine, latency_encode
from neurosim.errors import ParameterError


def test_exact_spike_times_from_formula():
    x = np.random.default_rng(0).random(50)
    x[[3, 7]] = [0.0, 0.2]          # at or below threshold: silent
    t_max, th, t0 = 0.03, 0.2, 0.005
    i, t = latency_encode(x, t_max=t_max, threshold=th, t0=t0)
    keep = np.nonzero(x > th)[0]
    assert set(i.tolist()) == set(keep.tolist()) and 3 not in i and 7 not in i
    ref = t0 + t_max * (1 - x[i]) / (1 - th)
    np.testing.assert_allclose(t, ref, rtol=0, atol=1e-15)
    assert np.all(np.diff(t) >= 0)
    # larger value -> earlier spike (strictly, for distinct values)
    assert np.all(np.diff(x[i]) <= 0)
    # end points of the mapping
    i1, t1 = latency_encode([1.0, th + 1e-12], t_max=t_max, threshold=th, t0=t0)
    np.testing.assert_allclose(t1, [t0, t0 + t_max], atol=1e-12)


def test_bad_input():
    for kw in ({"t_max": 0.0}, {"t_max": -1.0}, {"t_max": 0.01, "threshold": 1.0},
               {"t_max": 0.01, "t0": -0.1}):
        with pytest.raises(ParameterError):
            latency_encode([0.5], **kw)
    for v in ([1.5], [-0.1], [[0.5]], [np.nan]):
        with pytest.raises(ParameterError, match="values"):
            latency_encode(v, t_max=0.01)


@pytest.mark.brian2
def test_lsm_accepts_latency_stimulus():
    lsm = LiquidStateMachine(n_inputs=4, seed=1, target="numpy")
    # a latency stimulus too long for the duration is rejected before anything is built
    with pytest.raises(ParameterError, match="times"):
        lsm.run(latency_encode([1.0, 0.1, 0.5, 0.9], t_max=0.1), 0.05)
    assert lsm.n_builds == 0
    r = lsm.run(latency_encode([1.0, 0.1, 0.5, 0.9], t_max=0.04), 0.1)
    assert lsm.n_builds == 1 and r.duration == 0.1 and len(r.t) > 0
