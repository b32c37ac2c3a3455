"""Hardware-aware training: a GRU trained with weight and output noise and 6-bit converters in the
forward pass, then run on the analog crossbars of the same hardware configuration.

Run: python examples/train_hardware_aware.py
"""

import numpy as np

from neurosim.analog import HardwareConfig, to_analog
from neurosim.cells import GRU
from neurosim.tasks import mackey_glass
from neurosim.train import SequenceModel, evaluate, hardware_aware_fit

train = mackey_glass(n_steps=100, batch_size=8, washout=10, seed=0)
valid = mackey_glass(n_steps=100, batch_size=4, washout=10, seed=1)
hw = HardwareConfig(dac_bits=6, adc_bits=6)
model = SequenceModel(GRU(1, 6, dtype=np.float64, seed=0), output_size=1, seed=0)
before = evaluate(model, valid)
hist = hardware_aware_fit(model, train, hw, valid, epochs=20, batch_size=4, seed=0, progress=False)
analog = model.with_cell(to_analog(model.cell, hw))
a_mse = evaluate(analog, valid)
print(f"validation MSE: {before:.4g} untrained, {evaluate(model, valid):.4g} trained (digital), {a_mse:.4g} on crossbars")
assert a_mse < 0.3 * before
