"""Backpropagation through time: an LSTM with a linear readout learns Mackey-Glass one-step prediction.

Run: python examples/train_bptt.py
"""

import numpy as np

from neurosim.cells import LSTM
from neurosim.tasks import mackey_glass
from neurosim.train import Adam, SequenceModel, evaluate, fit

train = mackey_glass(n_steps=120, batch_size=16, washout=10, seed=0)
valid = mackey_glass(n_steps=120, batch_size=4, washout=10, seed=1)
model = SequenceModel(LSTM(1, 8, dtype=np.float64, seed=0), output_size=1, seed=0)
before = evaluate(model, valid)
hist = fit(model, train, valid, optimizer=Adam(model.params, lr=0.02), epochs=30, batch_size=8, seed=0, progress=False)
after = evaluate(model, valid)
print(f"validation MSE: {before:.4g} before, {after:.4g} after {hist.epochs_run} epochs of BPTT")
assert after < 0.2 * before
