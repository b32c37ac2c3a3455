"""In-situ training: SGD updates applied to soft-bounds devices as programming pulses (gradients from
the weights read back from the crossbars), and how it degrades as the devices' up/down asymmetry
grows: the curve of final loss against alpha_down / alpha_up over 3 seeds, written to
insitu_asymmetry.png.

Run: python examples/train_insitu.py
"""

import numpy as np

from neurosim.cells import RNN
from neurosim.devices import SoftBoundsDevice
from neurosim.train.insitu import asymmetry_curve, plot_asymmetry_curve

rng = np.random.default_rng(1)
x = rng.uniform(-1, 1, (10, 16, 2))
y = RNN(2, 3, dtype=np.float64, seed=5)(x)[0]  # a teacher network of the same shape
dev = SoftBoundsDevice(G_min=1e-6, G_max=1e-5, alpha_up=0.01, alpha_down=0.01, initial_state=5.5e-6)
curve = asymmetry_curve(RNN(2, 3, dtype=np.float64, seed=0), x, y, dev, ratios=(1, 2, 4, 8), seeds=(0, 1, 2),
                        iterations=150, lr=0.5)
print("alpha_down/alpha_up  loss0   final loss (mean +- SE of 3 seeds)  pulses  energy (J)")
for r, l0, m, se, n, e in zip(curve.ratios, curve.initial_loss.mean(1), curve.mean, curve.sem,
                              curve.pulses.mean(1), curve.energy.mean(1)):
    print(f"{r:19g}  {l0:.4f}  {m:.3e} +- {se:.1e}               {n:6.0f}  {e:.3e}")
plot_asymmetry_curve(curve, "insitu_asymmetry.png")
print("curve: insitu_asymmetry.png")
assert np.all(curve.final_loss < 0.01 * curve.initial_loss)  # converges despite asymmetric devices
assert np.all(np.diff(curve.mean) > 0)  # and degrades as the asymmetry grows
