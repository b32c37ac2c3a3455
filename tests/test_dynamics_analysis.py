"""Lyapunov exponents and fixed points: known exponents, known fixed-point sets, digital vs analog twin."""

import numpy as np
import pytest
import scipy.linalg as sl

from neurosim.analog import HardwareConfig, to_analog
from neurosim.dynamics import CTRNN, MTRNN, cell_map, ctrnn_map, fixed_points, largest_lyapunov
from neurosim.errors import ParameterError


@pytest.mark.parametrize("exact_tangent", [True, False])
def test_logistic_map_ln2(exact_tangent):
    """r = 4: lambda = ln 2 exactly (measured error 1e-6 with 4000 x 2000 steps, stderr 1e-5)."""
    x0 = np.random.default_rng(0).uniform(0.01, 0.99, (4000, 1))
    jvp = (lambda x, v, n: 4 * (1 - 2 * x) * v) if exact_tangent else None
    res = largest_lyapunov(lambda x, n: 4 * x * (1 - x), x0, 2000, jvp=jvp, seed=0)
    assert abs(res.value - np.log(2)) <= 1e-3
    assert res.stderr < 1e-4


def test_logistic_map_periodic_window_negative():
    """r = 3.2: a stable 2-cycle, lambda = ln|f'(x1) f'(x2)| / 2 (closed form)."""
    r = 3.2
    x1, x2 = [(r + 1 + s * np.sqrt((r - 3) * (r + 1))) / (2 * r) for s in (1, -1)]
    exact = 0.5 * np.log(abs(r * (1 - 2 * x1) * r * (1 - 2 * x2)))
    res = largest_lyapunov(lambda x, n: r * x * (1 - x), np.full((2, 1), 0.3), 2000, n_transient=500)
    assert abs(res.value - exact) <= 1e-3


def test_linear_systems():
    """dx/dt = A x with a normal A: lambda_1 = max Re eig(A) = -0.3 (flow map exp(A dt));
    a discrete map x -> M x: ln of the spectral radius."""
    A = np.array([[-0.3, 2.0, 0.0], [-2.0, -0.3, 0.0], [0.0, 0.0, -1.0]])
    M = sl.expm(A * 0.1)
    x0 = np.random.default_rng(1).normal(size=(10, 3))
    res = largest_lyapunov(lambda x, n: x @ M.T, x0, 2000, dt=0.1)
    assert abs(res.value - (-0.3)) <= 1e-3
    Q = np.random.default_rng(2).normal(size=(4, 4))
    Md = Q @ np.diag([0.9, -1.1, 0.5, 0.2]) @ np.linalg.inv(Q)
    res = largest_lyapunov(lambda x, n: x @ Md.T, x0[:, :1].repeat(4, 1) + np.eye(4)[0], 300, jvp=lambda x, v, n: v @ Md.T)
    assert abs(res.value - np.log(1.1)) <= 1e-3


@pytest.mark.slow
def test_ctrnn_limit_cycle_zero_exponent_and_unstable_equilibrium():
    net = CTRNN(np.array([[4.5, 1.0], [-1.0, 4.5]]), 1.0, theta=[-2.75, -1.75])
    res = largest_lyapunov(ctrnn_map(net, 0.1), np.random.default_rng(0).normal(size=(2, 2)), 10000,
                           n_transient=1000, dt=0.1)
    assert abs(res.value) < 1e-3          # a limit cycle: lambda_1 = 0 (measured -1.5e-5)
    fps = fixed_points(net, np.zeros((1, 2)), n_random=20, scale=5.0, seed=0)
    assert len(fps) == 1
    fp = fps[0]
    assert np.allclose(fp.x, [2.75, 1.75], atol=1e-9)   # sigma(0) = 1/2: y = W (1/2, 1/2)
    assert not fp.stable and np.all(fp.eigenvalues.real > 0) and np.all(fp.eigenvalues.imag != 0)


def test_bistable_ctrnn_has_nine_fixed_points_four_stable():
    """Two uncoupled self-exciting neurons (w = 5, theta = -2.5): each has 3 equilibria (2 stable,
    symmetric about 2.5), so 9 in total, 4 stable."""
    net = CTRNN(5 * np.eye(2), 1.0, theta=-2.5)
    fps = fixed_points(net, np.zeros((1, 2)), n_random=200, scale=6.0, seed=0)
    assert len(fps) == 9 and sum(fp.stable for fp in fps) == 4
    xs = np.unique(np.round([fp.x[0] for fp in fps], 8))
    assert np.allclose(xs[1], 2.5) and np.allclose(xs[0] + xs[2], 5.0)


def test_map_fixed_points_of_a_cell_digital_and_analog_twin():
    cell = MTRNN(1, 1.0, hidden_size=2, seed=0, bias=False)
    cell.params["weight_hh_l0"][:] = 2.0 * np.eye(2)  # u = 2 tanh(u): 0 (unstable) and +-1.915 (stable)
    u = np.zeros((1, 1))
    for c in (cell, to_analog(cell)):
        fps = fixed_points(cell_map(c, u), np.zeros((1, 2)), n_random=50, scale=3.0, seed=0)
        assert len(fps) == 9 and sum(fp.stable for fp in fps) == 4


def test_chaotic_cell_digital_vs_analog_twin():
    """A random tanh network with gain 3 is chaotic; the ideal analog twin has the same exponent
    (as statistics: the trajectories themselves decorrelate), a quantised twin has -inf."""
    H = 40
    g = np.random.default_rng(0)
    cell = MTRNN(1, 1.0, hidden_size=H, seed=0, bias=False)
    cell.params["weight_hh_l0"][:] = g.normal(0, 3 / np.sqrt(H), (H, H))
    x0 = g.normal(size=(16, H))
    u = np.zeros((1, 1))
    rd = largest_lyapunov(cell_map(cell, u), x0, 600, seed=1)
    ra = largest_lyapunov(cell_map(to_analog(cell), u), x0, 600, seed=1)
    assert rd.value > 0.1 and ra.value > 0.1
    assert abs(rd.value - ra.value) < 4 * np.hypot(rd.stderr, ra.stderr)
    q = to_analog(cell, HardwareConfig(adc_bits=6, dac_bits=6, state_range=3.0, input_range=3.0))
    rq = largest_lyapunov(cell_map(q, u), x0[:4], 200, seed=1)
    assert rq.value == -np.inf


def test_bad_input():
    with pytest.raises(ParameterError, match="x0 must have shape"):
        largest_lyapunov(lambda x, n: x, np.zeros((2, 2, 2)), 10)
    with pytest.raises(ParameterError, match="system must be a CTRNN"):
        fixed_points(3.0, np.zeros((1, 2)))
