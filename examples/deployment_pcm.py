"""Accuracy over deployment time: an LSTM on PCM crossbars 1 s, 1 h, 1 day and 1 year after programming.

The PCM card carries IBM aihwkit's statistical model (programming noise, drift with a per-device
exponent, 1/f read noise); ``compare(..., times=...)`` runs the analog LSTM at each time for several
device seeds, with and without global drift compensation, and ``plot_deployment`` draws the curves
(deployment.png in the working directory).
"""

import numpy as np

from neurosim.analog import HardwareConfig
from neurosim.cells import LSTM
from neurosim.devices import read_card
from neurosim.study import compare, deployment_table, plot_deployment

card = read_card("pcm_joshi2020")
cell = LSTM(4, 16, dtype=np.float64, seed=0)
x = np.random.default_rng(0).uniform(-1, 1, (30, 8, 4))
target = cell(x)[0]  # the digital network's own output: the task error is the hardware's NRMSE
hw = HardwareConfig(device=card.name, read_mode="device", nonidealities=card.nonidealities, adc_bits=8, dac_bits=8)
times = [1.0, 3600.0, 86400.0, 365 * 86400.0]
result = compare(cell, hw, x, targets=target, times=times, seeds=[0, 1, 2, 3], compensations=[None, "global"])
print(deployment_table(result))
plot_deployment(result, "deployment.png")
d = result.deployment["task_error"]
assert d["global"][-1].mean() < 0.5 * d["none"][-1].mean()  # after a year compensation halves the error or better
