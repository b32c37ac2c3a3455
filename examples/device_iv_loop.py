"""A memristor's pinched hysteresis loop: a device card driven by a sine voltage.

Loads the HP TiO2 linear-ion-drift card (Strukov et al. 2008), drives it with two periods of a
1 Hz, 1.2 V sine, and checks the memristor fingerprint: the I-V curve passes through the origin
and the two sweep directions differ (the loop encloses area). Draws the loop with plot_iv (saved in a temporary folder).
Run: python examples/device_iv_loop.py
"""

import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402

from neurosim.devices import load_device, plot_iv, simulate  # noqa: E402

device = load_device("hp_tio2_strukov2008")
t = np.linspace(0.0, 2.0, 2001)                          # s
trace = simulate(device, t, lambda tt: 1.2 * np.sin(2 * np.pi * tt), max_step=1e-3)

zero = np.isclose(trace.v, 0.0, atol=1e-12)
rising = (np.cos(2 * np.pi * t) > 0) & (np.abs(trace.v - 0.6) < 0.01)
falling = (np.cos(2 * np.pi * t) < 0) & (np.abs(trace.v - 0.6) < 0.01)
i_up, i_down = trace.current[rising].mean(), trace.current[falling].mean()
print(f"|I| at V = 0: {np.abs(trace.current[zero]).max():.2e} A (pinched at the origin)")
print(f"I at +0.6 V: {i_up * 1e3:.3f} mA rising, {i_down * 1e3:.3f} mA falling (hysteresis)")
print(f"state range: {trace.state.min():.3f} .. {trace.state.max():.3f}")
with tempfile.TemporaryDirectory() as tmp:
    fig = plot_iv(trace.v, trace.current, title="HP TiO2, 1 Hz sine")
    fig.savefig(Path(tmp) / "iv.png")
assert np.abs(trace.current[zero]).max() < 1e-12 and abs(i_up - i_down) > 0.01 * abs(i_up)
