"""Hardware-aware training: an LSTM fine-tuned with its forward pass on the simulated hardware (a fresh
array per batch: 6-bit converters, device-to-device spread, read noise), against the same budget of
plain training, both run on crossbars of unseen device seeds.

Run: python examples/train_hardware_aware.py
"""

import numpy as np

from neurosim.analog import HardwareConfig, to_analog
from neurosim.cells import LSTM
from neurosim.devices import DeviceToDeviceVariability, ReadNoise
from neurosim.tasks import mackey_glass
from neurosim.tasks.metrics import nrmse
from neurosim.train import Adam, SequenceModel, fit, hardware_aware_fit

train = mackey_glass(n_steps=100, batch_size=32, washout=10, seed=0)
test = mackey_glass(n_steps=200, batch_size=8, washout=20, seed=1)
hw = HardwareConfig(device="rram_softbounds_gong2018", read_mode="device", dac_bits=6, adc_bits=6,
                    input_range=float(np.max(np.abs(train.inputs))),
                    nonidealities=(DeviceToDeviceVariability(0.1, ("G_max",)), ReadNoise(0.02)))
base = SequenceModel(LSTM(1, 16, dtype=np.float64, seed=0), output_size=1, seed=0)
fit(base, train, epochs=60, batch_size=8, optimizer=Adam(base.params, lr=1e-2), seed=0, progress=False)
models = {}
for kind in ("plain", "hardware-aware"):
    m = base.with_cell(LSTM(1, 16, dtype=np.float64, seed=0))
    m.load_state_dict(base.state_dict())
    train_fn = fit if kind == "plain" else (lambda *a, **k: hardware_aware_fit(a[0], a[1], hw, **k))
    train_fn(m, train, epochs=15, batch_size=8, optimizer=Adam(m.params, lr=3e-3), seed=0, progress=False)
    models[kind] = m
analog = {k: np.mean([nrmse(m.with_cell(to_analog(m.cell, hw.replace(seed=s))).predict(test.inputs), test.targets,
                            test.mask) for s in range(10, 15)]) for k, m in models.items()}
digital = nrmse(models["plain"].predict(test.inputs), test.targets, test.mask)
print(f"test NRMSE: digital {digital:.4f}; on crossbars (mean of 5 device seeds): plain training "
      f"{analog['plain']:.4f}, hardware-aware training {analog['hardware-aware']:.4f}")
assert analog["hardware-aware"] < analog["plain"]
