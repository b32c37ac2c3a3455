"""neurosim.memory: Hopfield (energy, capacity, crossbar recall), stochastic max-cut solver, BAM."""

import numpy as np
import pytest

from neurosim.crossbar import ADC, DAC, CrossbarConfig
from neurosim.devices import ReadNoise
from neurosim.errors import ParameterError
from neurosim.memory import (BAM, Hopfield, StochasticHopfield, cut_value, max_cut_brute_force, max_cut_weights,
                             random_graph, success_probability)


def _patterns(P, N, seed):
    return np.where(np.random.default_rng(seed).random((P, N)) < 0.5, -1.0, 1.0)


def test_energy_never_increases_under_async_updates():
    xi = _patterns(30, 100, 0)  # above capacity: many flips
    for rule in ("hebbian", "pseudo_inverse"):
        net = Hopfield(xi, rule=rule, theta=np.random.default_rng(1).normal(0, 0.1, 100))
        V = np.where(np.random.default_rng(2).random((20, 100)) < 0.5, -1.0, 1.0)
        g = np.random.default_rng(3)
        E = [net.energy(V)]
        for _ in range(10):
            for i in g.permutation(100):  # one neuron at a time, energy after each update
                V = net.sweep(V, "async", order=np.array([i]))
                E.append(net.energy(V))
        dE = np.diff(np.array(E), axis=0)
        assert dE.max() <= 1e-12
        assert dE.min() < -0.1  # it does descend


def test_sync_and_incremental_async_match_definitions():
    xi = _patterns(5, 40, 0)
    net = Hopfield(xi)
    V = _patterns(7, 40, 1)
    assert np.array_equal(net.sweep(V, "sync"), np.where(V @ net.weights.T > 0, 1.0, np.where(V @ net.weights.T < 0, -1.0, V)))
    order = np.random.default_rng(0).permutation(40)
    ref = V.copy()
    for i in order:  # plain definition, one neuron at a time
        h = ref @ net.weights[i]
        ref[:, i] = np.where(h > 0, 1.0, np.where(h < 0, -1.0, ref[:, i]))
    assert np.array_equal(net.sweep(V, "async", order=order), ref)


def test_pseudo_inverse_stores_correlated_patterns_beyond_hebbian_capacity():
    base = _patterns(1, 200, 0)
    flips = np.random.default_rng(1).random((60, 200)) < 0.2  # correlated patterns, P/N = 0.3
    xi = np.where(flips, -base, base)
    pinv, hebb = Hopfield(xi, rule="pseudo_inverse"), Hopfield(xi, rule="hebbian")
    assert np.array_equal(pinv.sweep(xi, "sync"), xi)  # every pattern a fixed point
    assert np.mean(hebb.recall(xi) != xi) > 0.05


@pytest.mark.slow
def test_capacity_at_n500_lies_in_0p12_0p16():
    # criterion: mean over the P stored patterns of the Hamming distance after asynchronous recall
    # started from each of them <= 2 %; largest such load per seed; median over 5 seeds.
    # measured (seeds 0-4): 0.14, 0.13, 0.14, ... (Amit-Gutfreund-Sompolinsky: 0.138)
    N, loads = 500, np.round(np.arange(0.10, 0.185, 0.01), 3)
    best = []
    for seed in range(5):
        ok = []
        for a in loads:
            xi = _patterns(int(round(a * N)), N, seed)
            d = np.mean(Hopfield(xi, seed=seed).recall(xi, max_sweeps=30) != xi, axis=1)
            ok.append(d.mean() <= 0.02)
        best.append(max(a for a, o in zip(loads, ok) if o))
    print("largest load per seed", best)
    assert 0.12 <= np.median(best) <= 0.16


def test_recall_vs_corruption_digital_and_crossbar():
    N, P = 128, 6
    xi = _patterns(P, N, 0)
    cfg = CrossbarConfig(mode="device", dac=DAC(bits=6), adc=ADC(bits=6, noise=0.01), nonidealities=(ReadNoise(0.05),))
    dig, xb = Hopfield(xi, seed=0), Hopfield(xi, hardware=cfg, seed=0)
    g = np.random.default_rng(1)
    res = {}
    for level in (0.1, 0.2, 0.3, 0.45):
        probes = np.where(g.random(xi.shape) < level, -xi, xi)
        res[level] = (np.mean(np.all(dig.recall(probes, mode="sync") == xi, axis=1)),
                      np.mean(np.all(xb.recall(probes, mode="sync") == xi, axis=1)))
    print("recall rate (digital, crossbar) vs corruption", res)
    assert res[0.1] == (1.0, 1.0) and res[0.2] == (1.0, 1.0)
    assert res[0.45][0] < 0.5  # near 50 % corruption nothing is recalled
    # ideal crossbar = digital, also for asynchronous updates
    ideal = Hopfield(xi, hardware=CrossbarConfig(), seed=0)
    probes = np.where(g.random(xi.shape) < 0.3, -xi, xi)
    assert np.array_equal(ideal.recall(probes[:3]), dig.recall(probes[:3]))


def test_bam_recalls_all_pairs_digital_and_crossbar():
    X, Y = _patterns(4, 100, 0), _patterns(4, 64, 1)
    cfg = CrossbarConfig(mode="device", dac=DAC(bits=4), adc=ADC(bits=8, noise=0.01), nonidealities=(ReadNoise(0.05),))
    for bam in (BAM(X, Y), BAM(X, Y, hardware=cfg)):
        xs, ys = bam.recall(x=X)
        assert np.array_equal(xs, X) and np.array_equal(ys, Y)
        xs, ys = bam.recall(y=Y)
        assert np.array_equal(xs, X) and np.array_equal(ys, Y)
    noisy = np.where(np.random.default_rng(2).random(X.shape) < 0.1, -X, X)
    xs, ys = BAM(X, Y, hardware=cfg).recall(x=noisy)
    assert np.array_equal(ys, Y)
    # the transposed read is W^T y on the same crossbar
    ideal = BAM(X, Y, hardware=CrossbarConfig())
    assert np.allclose(ideal.backward(Y), Y @ ideal.weights, atol=1e-9)


def test_annealed_solver_beats_noise_free_on_20_node_max_cut():
    # measured on 3 graphs: noise-free 0.47/0.16/0.33, annealed 0.96/0.59/0.67, crossbar read noise 0.98/0.62/0.69
    A = random_graph(20, 0.5, seed=0)
    W = max_cut_weights(A)
    p0 = success_probability(A, StochasticHopfield(W, noise=0.0, seed=1), 100, 30)
    p1 = success_probability(A, StochasticHopfield(W, noise=3.0, seed=1), 100, 30)
    cfg = CrossbarConfig(mode="device", adc=ADC(bits=8, noise=0.02))
    p2 = success_probability(A, StochasticHopfield(W, noise=3.0, hardware=cfg, seed=1), 100, 30)
    print("max-cut success: noise-free", p0, "annealed", p1, "crossbar noise annealed", p2)
    assert p1 > p0 + 0.2 and p2 > p0 + 0.2


def test_max_cut_brute_force_against_itertools():
    import itertools
    A = random_graph(9, 0.4, seed=3)
    best = max(cut_value(A, np.array(v, float)) for v in itertools.product([-1, 1], repeat=9))
    assert max_cut_brute_force(A)[0] == best


def test_bad_inputs():
    with pytest.raises(ParameterError, match="patterns must be bipolar"):
        Hopfield([[1, 0.5, -1]])
    with pytest.raises(ParameterError, match="rule must be one of"):
        Hopfield([[1, -1.0]], rule="storkey")
    with pytest.raises(ParameterError, match="same number of patterns"):
        BAM(_patterns(3, 10, 0), _patterns(2, 8, 0))
    with pytest.raises(ParameterError, match="y_patterns must be bipolar"):
        BAM(_patterns(2, 10, 0), [[1, 2.0], [1, 1]])
    with pytest.raises(ParameterError, match="probes must have 10 entries"):
        Hopfield(_patterns(2, 10, 0)).recall(np.ones(9))
    with pytest.raises(ParameterError, match="W must be a symmetric"):
        StochasticHopfield(np.array([[0, 1.0], [0, 0]]))
