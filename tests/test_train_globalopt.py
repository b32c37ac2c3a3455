"""GA, SA and PSO: the vectorized population equals a loop over individuals; each fits a small Elman
network to sine generation (zero-output baseline MSE 0.5)."""

import numpy as np
import pytest

from neurosim.cells import GRU, LSTM, RNN, Elman, IndRNN, Jordan, SecondOrderRNN
from neurosim.errors import ParameterError
from neurosim.tasks import sine_generation
from neurosim.train.globalopt import (flat_params, genetic_algorithm, particle_swarm, population_mse, set_flat,
                                      simulated_annealing)

TASK = sine_generation(n_steps=100, batch_size=1, washout=10, switch_every=None, f_min=0.05, f_max=0.05, seed=0)


@pytest.mark.parametrize("make", [
    lambda: Elman(2, 4, 2, dtype=np.float64, seed=0),
    lambda: Jordan(2, 4, 2, dtype=np.float64, seed=0),
    lambda: RNN(2, 3, num_layers=2, bidirectional=True, dtype=np.float64, seed=0),
    lambda: LSTM(2, 3, dtype=np.float64, seed=0),
    lambda: GRU(2, 3, num_layers=2, dtype=np.float64, seed=0),
    lambda: IndRNN(2, 3, recurrent_max_abs=0.5, dtype=np.float64, seed=0),
    lambda: SecondOrderRNN(2, 3, dtype=np.float64, seed=0),
])
def test_population_equals_loop_over_individuals(make):
    cell = make()
    r = np.random.default_rng(0)
    x = r.normal(size=(7, 3, 2))
    res = cell(x)[0]
    out = res[0] if isinstance(res, tuple) else res
    d = r.normal(size=out.shape)
    theta = flat_params(cell)
    pop = theta + r.normal(size=(5, theta.size)) * 0.3
    vec = population_mse(cell, pop, x, d)
    loop = []
    for th in pop:
        set_flat(cell, th)
        res = cell(x)[0]
        y = res[0] if isinstance(res, tuple) else res
        loop.append(np.mean((y - d) ** 2))
    np.testing.assert_allclose(vec, loop, rtol=1e-12)


def test_ga_fits_sine_generation():
    cell = Elman(1, 4, 1, dtype=np.float64, seed=0)
    res = genetic_algorithm(cell, TASK, population=64, generations=1500, init_scale=1.0, mutation_scale=0.2,
                            mutation_rate=0.2, error_target=0.05, seed=0)
    assert res.reason == "error target" and res.mse <= 0.05  # measured: generation 639
    assert population_mse(cell, flat_params(cell)[None], TASK.inputs, TASK.targets, TASK.mask)[0] == pytest.approx(res.mse)
    assert np.all(np.diff(res.history) <= 0)  # elitism: the best never gets worse


def test_pso_fits_sine_generation():
    cell = Elman(1, 4, 1, dtype=np.float64, seed=0)
    res = particle_swarm(cell, TASK, particles=64, generations=1500, init_scale=0.5, error_target=0.05, seed=0)
    assert res.reason == "error target" and res.mse <= 0.05  # measured: iteration 139


def test_sa_fits_sine_generation():
    cell = Elman(1, 4, 1, dtype=np.float64, seed=0)
    res = simulated_annealing(cell, TASK, chains=64, generations=1500, step=0.1, t0=0.02, cooling=0.998, seed=0)
    assert res.mse < 0.15  # measured 0.097 after 1500 iterations (baseline 0.5)


def test_stop_on_fraction_learnt_and_same_seed_same_result():
    task = sine_generation(n_steps=40, batch_size=3, washout=5, seed=1)
    a = genetic_algorithm(Elman(1, 3, 1, dtype=np.float64, seed=0), task, population=16, generations=5,
                          learnt_fraction=1 / 3, learnt_mse=10.0, seed=4)
    assert a.reason == "fraction learnt" and a.generations == 1
    b = genetic_algorithm(Elman(1, 3, 1, dtype=np.float64, seed=0), task, population=16, generations=4, seed=4)
    c = genetic_algorithm(Elman(1, 3, 1, dtype=np.float64, seed=0), task, population=16, generations=4, seed=4)
    np.testing.assert_array_equal(b.theta, c.theta)


def test_bad_arguments():
    cell = Elman(1, 3, 1, dtype=np.float64)
    with pytest.raises(ParameterError, match="population"):
        genetic_algorithm(cell, TASK, population=0)
    with pytest.raises(ParameterError, match="error_target"):
        particle_swarm(cell, TASK, error_target=-1.0)
    with pytest.raises(ParameterError, match="theta"):
        set_flat(cell, np.zeros(3))
