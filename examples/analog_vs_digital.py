"""Analog vs digital: an LSTM on simulated memristive crossbars, compared step by step.

Maps every weight matrix of a small LSTM to crossbars with 6-bit converters and 2 % read noise,
runs the same sequences digitally and on the hardware, prints the summary and writes the report
(JSON + PNG) to a temporary folder. Run: python examples/analog_vs_digital.py
"""

import tempfile

import numpy as np

import neurosim
from neurosim.analog import HardwareConfig
from neurosim.cells import LSTM
from neurosim.devices import ReadNoise

lstm = LSTM(input_size=4, hidden_size=32, dtype=np.float64, seed=0)
x = np.random.default_rng(1).uniform(-1, 1, size=(100, 8, 4))      # (time, batch, features)

hardware = HardwareConfig(read_mode="device", dac_bits=6, adc_bits=6, nonidealities=(ReadNoise(0.02),), seed=7)
analog = neurosim.to_analog(lstm, hardware)                        # same call, same return values
out_a, (h_a, c_a) = analog(x)
out_d, (h_d, c_d) = lstm(x)
print("max |analog - digital| of the output:", float(np.abs(out_a - out_d).max()))

result = neurosim.compare(lstm, hardware, x)
print(result.table())
with tempfile.TemporaryDirectory() as tmp:
    paths = result.save_report(tmp)
    print("report files:", ", ".join(p.name for p in paths.values()))

ideal = neurosim.compare(lstm, HardwareConfig(), x)               # ideal hardware: the digital cell
assert ideal.step_hidden_max.max() < 1e-9 < result.step_hidden_max.max()
