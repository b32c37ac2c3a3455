"""A weight matrix on a crossbar, read in the three modes, with the hardware cost.

Programs a random 64 x 32 matrix onto 0T1R tiles (differential column pairs), reads a batch of
inputs in ``ideal`` mode (exact), ``device`` mode (8-bit converters, 2 % read noise) and
``circuit`` mode (wire resistance, IR drop), and prints the error against ``W x`` and the
energy / latency / area table. Run: python examples/crossbar_read.py
"""

import numpy as np

from neurosim.crossbar import ADC, DAC, Crossbar, CrossbarConfig
from neurosim.devices import ReadNoise

rng = np.random.default_rng(0)
W = rng.uniform(-1, 1, size=(32, 64))            # (outputs, inputs), weight units
X = rng.uniform(-1, 1, size=(100, 64))           # a batch of 100 input vectors
exact = X @ W.T

configs = {
    "ideal": CrossbarConfig(mode="ideal"),
    "device, 8-bit, 2 % noise": CrossbarConfig(mode="device", dac=DAC(bits=8), adc=ADC(bits=8),
                                               nonidealities=(ReadNoise(0.02),), seed=1),
    "circuit, r_wire = 1 ohm": CrossbarConfig(mode="circuit", r_wire=1.0),
    "circuit, r_wire = 5 ohm": CrossbarConfig(mode="circuit", r_wire=5.0),
}
for label, cfg in configs.items():
    xb = Crossbar(W, cfg)
    err = xb.matmul(X) - exact
    rel = np.sqrt(np.mean(err**2)) / np.sqrt(np.mean(exact**2))
    print(f"{label:<28} relative RMS error {rel:.2e}")
    if label == "ideal":
        assert rel < 1e-12
last = xb
print()
print(last.cost())
