"""Genetic algorithm: one gene per weight, the population evaluated through the cell at once; an
Elman network learns to generate a sine wave (zero-output baseline MSE 0.5).

Run: python examples/train_ga.py
"""

import numpy as np

from neurosim.cells import Elman
from neurosim.tasks import sine_generation
from neurosim.train import genetic_algorithm

task = sine_generation(n_steps=100, batch_size=1, washout=10, switch_every=None, f_min=0.05, f_max=0.05, seed=0)
res = genetic_algorithm(Elman(1, 4, 1, dtype=np.float64, seed=0), task, population=64, generations=300,
                        init_scale=1.0, mutation_scale=0.2, seed=0)
print(f"GA: MSE {res.mse:.4g} after {res.generations} generations ({res.reason})")
assert res.mse < 0.25
