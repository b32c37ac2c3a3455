"""Digital reference cells: PyTorch's LSTM API without PyTorch.

Builds a 2-layer bidirectional LSTM from a seed, runs a batch of sequences, saves the weights as a
PyTorch-named .npz state_dict and loads them into a fresh cell. Run: python examples/cells_digital.py
"""

import tempfile
from pathlib import Path

import numpy as np

from neurosim.cells import LSTM

lstm = LSTM(input_size=8, hidden_size=16, num_layers=2, bidirectional=True, batch_first=True, seed=1)
x = np.random.default_rng(0).normal(size=(4, 25, 8)).astype(np.float32)  # (batch, time, features)
out, (h_n, c_n) = lstm(x)
print("output", out.shape, out.dtype, "h_n", h_n.shape, "c_n", c_n.shape)
print("parameters:", ", ".join(f"{k}{tuple(v.shape)}" for k, v in list(lstm.state_dict().items())[:4]), "...")

with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "lstm.npz"
    lstm.save(path)  # arrays only, readable with allow_pickle=False (and by torch via numpy)
    twin = LSTM(8, 16, num_layers=2, bidirectional=True, batch_first=True, seed=99)
    twin.load(path)
    same = np.array_equal(twin(x)[0], out)
print("reloaded cell reproduces the output exactly:", same)
assert same
