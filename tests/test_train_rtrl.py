"""RTRL equals BPTT (float64, <= 1e-10)."""

import numpy as np
import pytest

from neurosim.cells import GRU, RNN, Elman
from neurosim.errors import ParameterError
from neurosim.train import backward, forward
from neurosim.train.rtrl import RTRL, rtrl


@pytest.mark.parametrize("cell", [RNN(3, 4, dtype=np.float64, seed=1), RNN(3, 4, nonlinearity="relu", dtype=np.float64, seed=2),
                                  Elman(3, 4, 2, output_activation="tanh", dtype=np.float64, seed=3),
                                  Elman(3, 4, 2, bias=False, hidden_activation="sigmoid", dtype=np.float64, seed=4)])
def test_rtrl_equals_bptt(cell):
    r = np.random.default_rng(0)
    T, B = 9, 3
    x = r.normal(size=(T, B, 3))
    h0 = r.normal(size=(B, 4)) * 0.3
    tr = forward(cell, x, (h0[None],))
    C = r.normal(size=tr.output.shape)
    g_bptt, _, _ = backward(tr, C)
    g_rtrl = rtrl(cell, x, lambda t, y: C[t], hx=h0)
    for k in cell.params:
        scale = max(1.0, np.abs(g_bptt[k]).max())
        assert np.max(np.abs(g_rtrl[k] - g_bptt[k])) / scale <= 1e-10, k


def test_rtrl_online_learning_lowers_the_error():
    """Learning while running: a one-step-delayed copy of the input, weights updated at every step."""
    cell = RNN(1, 6, dtype=np.float64, seed=0)
    r = np.random.default_rng(1)
    x = r.uniform(-1, 1, size=(1500, 1, 1))
    learner = RTRL(cell, 1)
    errs = []
    for t in range(1, x.shape[0]):
        target = x[t - 1, :, 0]
        y, g = learner.step(x[t], lambda y: np.c_[2 * (y[:, 0] - target), np.zeros((1, 5))])
        errs.append(float((y[0, 0] - target[0]) ** 2))
        for k, v in g.items():
            cell.params[k] -= 0.02 * v  # in place: the learner's params are the live arrays
    assert np.mean(errs[-200:]) < 0.2 * np.mean(errs[:200])


def test_rtrl_refuses_other_cells():
    with pytest.raises(ParameterError, match="single-layer"):
        RTRL(GRU(1, 2), 1)
    with pytest.raises(ParameterError, match="single-layer"):
        RTRL(RNN(1, 2, num_layers=2), 1)
