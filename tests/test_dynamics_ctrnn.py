"""CTRNN: scipy vs brian2 vs Euler, Euler = Elman / MTRNN cells, Beer's oscillator, errors."""

import numpy as np
import pytest
import scipy.sparse as sp

from neurosim.cells import Elman
from neurosim.dynamics import CTRNN, MTRNN
from neurosim.errors import ConvergenceError, ParameterError


def _net(seed=0, n=5, **kw):
    r = np.random.default_rng(seed)
    return CTRNN(r.normal(0, 3, (n, n)), tau=r.uniform(0.5, 2.0, n), gain=r.uniform(0.5, 1.5, n),
                 theta=r.normal(0, 1, n), **kw), r


def test_jacobian_matches_finite_differences():
    net, r = _net()
    y = r.normal(0, 1, 5)
    J = net.jacobian(0.0, y)
    eps = 1e-6
    fd = np.stack([(net.rhs(0, y + eps * e) - net.rhs(0, y - eps * e)) / (2 * eps) for e in np.eye(5)], axis=1)
    assert np.abs(J - fd).max() < 1e-8
    # the sparse network gives the same right-hand side and a sparse Jacobian
    sparse = CTRNN(sp.csr_matrix(net.weights), net.tau, gain=net.gain, theta=net.theta)
    assert sp.issparse(sparse.jacobian(0, y))
    assert np.abs(sparse.jacobian(0, y).toarray() - J).max() < 1e-14
    # vectorised: columns are independent states
    Y = r.normal(0, 1, (5, 3))
    assert np.abs(net.rhs(0, Y) - np.stack([net.rhs(0, Y[:, k]) for k in range(3)], 1)).max() < 1e-14


def test_free_decay_closed_form():
    net = CTRNN(np.zeros((3, 3)), tau=[0.1, 1.0, 3.0])
    t = np.linspace(0, 2, 11)
    tr = net.simulate(t, y0=[1.0, -2.0, 0.5], method="Radau", rtol=1e-10, atol=1e-12)
    exact = np.array([1.0, -2.0, 0.5]) * np.exp(-t[:, None] / net.tau)
    assert np.abs(tr.y - exact).max() < 1e-8


def test_sampled_inputs_segmentwise_match_euler_limit():
    """Held inputs: the scipy path restarts at each jump; a fine Euler run converges to it."""
    net, r = _net(1, n=4, input_weights=np.random.default_rng(2).normal(size=(4, 2)))
    u = r.normal(size=(5, 2))
    t = np.linspace(0, 1.0, 11)
    tr = net.simulate(t, y0=np.zeros(4), inputs=u, input_dt=0.2, rtol=1e-11, atol=1e-12)
    dt = 1e-5
    e = net.euler(dt, 100000, inputs=np.repeat(u, 20000, axis=0))
    err = np.abs(e.y[::10000] - tr.y).max()
    assert err < 2e-4 * np.abs(tr.y).max()   # Euler's first-order error at dt / tau <= 2e-5


def test_scipy_and_brian2_agree():
    """Same description on both engines: brian2's Euler equals neurosim's Euler to rounding, and at
    dt = 1e-4 s (dt/tau <= 2e-4) both are within 1e-4 (relative) of the tight solve_ivp trajectory
    (measured 1.3e-5)."""
    net, r = _net()
    y0 = r.normal(0, 1, 5)
    u = np.full(5, 0.3)
    t = np.linspace(0, 5, 51)
    ref = net.simulate(t, y0=y0, inputs=u, rtol=1e-11, atol=1e-12)
    b2 = net.run_brian2(5.0, y0=y0, inputs=u, dt=1e-4, method="euler", record_dt=0.1, target="numpy")
    assert np.allclose(b2.t, t[:-1])
    rel = np.abs(b2.y - ref.y[:-1]).max() / np.abs(ref.y).max()
    assert rel <= 1e-4
    eu = net.euler(1e-4, 50000, y0=y0, inputs=u)
    assert np.abs(eu.y[:-1:1000] - b2.y).max() < 1e-12


def test_brian2_sampled_inputs_match_euler():
    net, r = _net(3, n=3, input_weights=np.eye(3)[:, :2])
    u = r.normal(size=(4, 2))
    b2 = net.run_brian2(0.4, y0=np.ones(3), inputs=u, input_dt=0.1, dt=1e-3, record_dt=1e-3, target="numpy")
    eu = net.euler(1e-3, 400, y0=np.ones(3), inputs=np.repeat(u, 100, axis=0))
    assert np.abs(eu.y[:-1] - b2.y).max() < 1e-12


def test_euler_with_dt_equal_tau_is_elman():
    """y_{n+1} = W s_n + I_n with s_n = sigma(g (y_n + theta)) gives s_{n+1} = sigma(g W s_n + g I_n + g theta):
    an Elman hidden layer with U = diag(g) W, W_in = diag(g), b = g theta (sigmoid)."""
    r = np.random.default_rng(4)
    n, T, B = 6, 30, 3
    W, g, th, tau = r.normal(0, 2, (n, n)), r.uniform(0.5, 2, n), r.normal(0, 1, n), 0.01
    net = CTRNN(W, tau, gain=g, theta=th)
    I = r.normal(0, 1, (T, B, n))
    y0 = r.normal(0, 1, (n, B))
    ys = [y0]
    y = y0
    for k in range(T):  # the batched Euler map (one column per sequence)
        y = y + (tau / net.tau[:, None]) * (net.weights @ net.firing(y) + I[k].T - y)
        ys.append(y)
    h_ctrnn = np.stack([net.firing(y).T for y in ys[1:]])
    elman = Elman(n, n, 1, hidden_activation="sigmoid", seed=0, dtype=np.float64)
    elman.load_state_dict({"weight_ih_l0": np.diag(g), "weight_hh_l0": g[:, None] * W, "bias_h_l0": g * th,
                           "weight_hy_l0": np.zeros((1, n)), "bias_y_l0": np.zeros(1)})
    (_, h), _ = elman(I, net.firing(y0).T[None])
    assert np.abs(h - h_ctrnn).max() <= 1e-12
    # and CTRNN.euler is that map
    e = net.euler(tau, T, y0=y0[:, 0], inputs=I[:, 0, :])
    assert np.abs(net.firing(e.y[1:].T).T - h[:, 0]).max() <= 1e-12


def test_euler_is_mtrnn_cell_and_brian2():
    cell = MTRNN.from_groups(2, {"io": (2, 2.0), "fast": (3, 5.0), "slow": (2, 70.0)}, seed=3)
    dt = 0.01
    net = cell.to_ctrnn(dt)
    assert np.allclose(net.tau, cell.tau * dt)
    r = np.random.default_rng(5)
    x = r.normal(size=(40, 2))
    u0 = r.normal(size=7)
    y, u_n = cell(x[:, None, :], u0[None, None, :])
    e = net.euler(dt, 40, y0=u0, inputs=x)
    assert np.abs(np.tanh(e.y[1:]) - y[:, 0]).max() <= 1e-12
    assert np.abs(e.y[-1] - u_n[0, 0]).max() <= 1e-12
    # step API = call
    st = (u0[None],)
    for t in range(3):
        y_t, st = cell.step(cell.direction_params(), x[t][None], st)
        assert np.abs(y_t - y[t]).max() == 0.0


def test_mtrnn_tau_one_is_elman():
    cell = MTRNN(3, 1.0, hidden_size=4, nonlinearity="tanh", seed=1)
    p = cell.direction_params()
    el = Elman(3, 4, 1, seed=0, dtype=np.float64)
    el.load_state_dict({"weight_ih_l0": p["weight_ih"], "weight_hh_l0": p["weight_hh"], "bias_h_l0": p["bias"],
                        "weight_hy_l0": np.zeros((1, 4)), "bias_y_l0": np.zeros(1)})
    x = np.random.default_rng(0).normal(size=(10, 2, 3))
    u0 = np.random.default_rng(1).normal(size=(1, 2, 4))
    y, _ = cell(x, u0)
    (_, h), _ = el(x, np.tanh(u0))
    assert np.abs(y - h).max() <= 1e-12


def test_mtrnn_timescales_separate():
    """A slow group (tau = 70) keeps its initial potential far longer than a fast one (tau = 2):
    with zero weights u decays as (1 - 1/tau)^t."""
    cell = MTRNN.from_groups(1, {"fast": (1, 2.0), "slow": (1, 70.0)}, bias=False, seed=0)
    for k in cell.params:
        cell.params[k][...] = 0
    _, u_n = cell(np.zeros((20, 1, 1)), np.ones((1, 1, 2)))
    assert np.allclose(u_n[0, 0], [(1 - 1 / 2) ** 20, (1 - 1 / 70) ** 20], rtol=1e-12)


def test_beer_two_neuron_oscillator():
    """Beer (1995): w11 = w22 = 4.5, w12 = -1, w21 = 1, theta = (-2.75, -1.75), tau = g = 1 has a
    stable limit cycle around an unstable equilibrium."""
    W = np.array([[4.5, 1.0], [-1.0, 4.5]])  # weights[i, j]: from j onto i
    net = CTRNN(W, tau=1.0, theta=[-2.75, -1.75])
    t = np.linspace(0, 200, 20001)
    tr = net.simulate(t, y0=[0.0, 0.0])
    y = tr.y[10000:]
    assert np.ptp(y[:, 0]) > 2.5 and np.ptp(y[:, 1]) > 2.5       # sustained large oscillation
    m = y[:, 0].mean()
    up = np.where((y[:-1, 0] < m) & (y[1:, 0] >= m))[0]
    periods = np.diff(t[10000:][up])
    assert periods.size >= 2 and np.ptp(periods) <= 0.02           # periodic (to the sampling step)
    # from a different start, the same cycle (its amplitude)
    tr2 = net.simulate(t, y0=[3.0, -1.0])
    assert abs(np.ptp(tr2.y[10000:, 0]) - np.ptp(y[:, 0])) < 1e-3


def test_bad_input_and_solver_failure():
    with pytest.raises(ParameterError, match="tau must be a real number in \\(0, inf\\)"):
        CTRNN(np.zeros((2, 2)), tau=[1.0, 0.0])
    with pytest.raises(ParameterError, match="tau must be a real number in \\(0, inf\\)"):
        CTRNN(np.zeros((2, 2)), tau=-1.0)
    with pytest.raises(ParameterError, match="weights must have shape \\(N, N\\)"):
        CTRNN(np.zeros((2, 3)), tau=1.0)
    with pytest.raises(ParameterError, match="input_weights must have shape"):
        CTRNN(np.zeros((2, 2)), tau=1.0, input_weights=np.zeros((3, 1)))
    net = CTRNN(np.zeros((2, 2)), tau=1.0)
    with pytest.raises(ParameterError, match="inputs must have shape \\(2,\\)"):
        net.simulate([0, 1], inputs=np.zeros(3))
    with pytest.raises(ParameterError, match="inputs must have shape"):
        net.run_brian2(0.1, inputs=np.zeros(3))
    with pytest.raises(ParameterError, match="tau must be a real number"):
        MTRNN(2, [1.0, -2.0])
    with np.errstate(invalid="ignore", over="ignore"):
        with pytest.raises(ConvergenceError, match="solve_ivp \\(RK45\\) failed.*Required step size"):
            net.simulate([0, 1], inputs=lambda t: np.array([np.inf if t > 0.5 else 0.0, 0.0]), method="RK45")
