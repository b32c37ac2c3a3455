"""Connectionist temporal classification: logits trained by the CTC gradient until greedy and beam
search decode the target label sequence (with a repeated label).

Run: python examples/train_ctc.py
"""

import numpy as np

from neurosim.train import ctc_beam_search, ctc_greedy_decode, ctc_loss

target = np.array([[1, 2, 2, 3]])
logits = np.random.default_rng(0).normal(scale=0.1, size=(12, 1, 5))  # (time, batch, classes), blank 0
first = None
for _ in range(300):
    loss, grad = ctc_loss(logits, target, blank=0)
    first = loss if first is None else first
    logits -= 1.0 * grad
greedy = ctc_greedy_decode(logits)[0]
beam = ctc_beam_search(logits, width=4)[0]
print(f"CTC loss {first:.3f} -> {loss:.4f}; greedy {greedy}, beam {beam}")
assert list(greedy) == [1, 2, 2, 3] and loss < 0.1 * first
