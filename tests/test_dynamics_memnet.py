"""Memristive networks (Caravelli, Traversa & Di Ventra 2017): circuit engine = closed form, Lyapunov."""

import networkx as nx
import numpy as np
import pytest

from neurosim.dynamics import CaravelliMemristor, MemristiveNetwork, cycle_projector
from neurosim.errors import ParameterError


def _net(seed, alpha=0.05):
    G = nx.gnm_random_graph(12, 25, seed=seed)
    assert nx.is_connected(G)
    r = np.random.default_rng(seed)
    m = CaravelliMemristor(R_on=1e3, R_off=1e4, alpha=alpha, beta=20.0)
    return MemristiveNetwork(G, m, r.uniform(-1, 1, 25)), r.uniform(0.3, 0.7, 25)


def test_projector_is_the_cycle_space():
    net, _ = _net(0)
    O = net.omega
    assert np.abs(O @ O - O).max() < 1e-12 and np.abs(O - O.T).max() < 1e-12
    assert round(np.trace(O)) == net.n_cycles == 25 - 12 + 1
    assert np.abs(net.incidence @ O).max() < 1e-12          # KCL: Omega's range carries no node current


@pytest.mark.slow
@pytest.mark.parametrize("seed,alpha", [(0, 0.05), (1, -0.05)])
def test_circuit_engine_equals_closed_form(seed, alpha):
    """25 edges, 14 independent cycles; measured agreement 6e-15, limit 1e-6 (relative)."""
    net, x0 = _net(seed, alpha)
    t = np.linspace(0, 2, 11)
    a = net.simulate(t, x0)
    b = net.simulate_circuit(t, x0, rtol=1e-10, state_tol=1e-12)
    assert np.ptp(a.y[-1] - a.y[0]) > 0.03                    # the states really move
    assert np.abs(a.y - b.y).max() / np.abs(a.y).max() <= 1e-6
    # the circuit's currents are the closed form's (I + xi Omega X)^-1 Omega s / R_on
    res = b.stats["result"]
    i_circ = np.array([res.i(f"M{k}")[-1] for k in range(25)])
    assert np.abs(i_circ - net.currents(b.y[-1])).max() <= 1e-9 * np.abs(i_circ).max()


@pytest.mark.parametrize("seed,alpha", [(2, 0.05), (3, -0.1), (4, 0.0)])
def test_lyapunov_function_never_increases(seed, alpha):
    net, x0 = _net(seed, alpha)
    tr = net.simulate(np.linspace(0, 3, 601), x0)
    L = net.lyapunov(tr.y)
    assert np.all(np.diff(L) <= 1e-13 * np.abs(L).max())
    assert L[0] - L[-1] > 1e-3                                 # and it does decrease


def test_bad_input():
    m = CaravelliMemristor()
    with pytest.raises(ParameterError, match="connected"):
        MemristiveNetwork(nx.Graph([(0, 1), (2, 3)]), m, [0.0, 0.0])
    with pytest.raises(ParameterError, match="sources must have shape \\(3,\\)"):
        MemristiveNetwork(nx.cycle_graph(3), m, [0.0, 0.0])
    with pytest.raises(ParameterError, match="beta must be"):
        CaravelliMemristor(beta=0.0)
    with pytest.raises(ParameterError, match="x0 must have shape"):
        MemristiveNetwork(nx.cycle_graph(3), m, [1.0, 0.0, 0.0]).simulate([0, 1], [0.5, 2.0, 0.5])
