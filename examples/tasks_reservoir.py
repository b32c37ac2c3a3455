"""A reservoir (echo-state style RNN) trained in closed form on NARMA-10.

Random recurrent weights scaled to spectral radius 0.9, an output layer fitted by ridge regression on
the hidden states, scored by NRMSE (RMSE / std of the target) on a fresh test sequence.
Run: python examples/tasks_reservoir.py
"""

from neurosim.study.pipeline import make_cell
from neurosim.tasks import fit_ridge, narma10, nrmse

train, test = narma10(n_steps=2000, seed=0), narma10(n_steps=1000, seed=1)
reservoir = make_cell("rnn", input_size=1, hidden_size=100, spectral_radius=0.9, seed=0)

states, _ = reservoir(train.inputs)                     # (time, batch, hidden)
readout = fit_ridge(states, train.targets, alpha=1e-6, mask=train.mask)
test_states, _ = reservoir(test.inputs)
score = nrmse(readout.predict(test_states), test.targets, test.mask)
print(f"NARMA-10 test NRMSE: {score:.3f}  (1.0 = predicting the mean)")
assert score < 1.0
