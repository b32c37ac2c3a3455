"""In-situ training: SGD updates applied to soft-bounds devices as programming pulses, for three
up/down asymmetries; gradients from the weights read back from the crossbars.

Run: python examples/train_insitu.py
"""

import numpy as np

from neurosim.analog import HardwareConfig
from neurosim.cells import RNN
from neurosim.devices import SoftBoundsDevice
from neurosim.train.insitu import insitu_fit

rng = np.random.default_rng(1)
x = rng.uniform(-1, 1, (10, 16, 2))
y = RNN(2, 3, dtype=np.float64, seed=5)(x)[0]  # a teacher network of the same shape
final = []
print("alpha_down/alpha_up  loss0    final loss  pulses  energy (J)")
for ratio in (1.0, 4.0, 8.0):
    dev = SoftBoundsDevice(G_min=1e-6, G_max=1e-5, alpha_up=0.01, alpha_down=0.01 * ratio, initial_state=5.5e-6)
    res = insitu_fit(RNN(2, 3, dtype=np.float64, seed=0), x, y, HardwareConfig(device=dev), iterations=150, lr=0.5)
    final.append(res.loss[-20:].mean())
    print(f"{ratio:19g}  {res.loss[0]:.4f}  {final[-1]:.3e}  {res.pulses:6d}  {res.energy:.3e}")
assert final[0] < 0.01 * res.loss[0] and final[0] < final[1] < final[2]
