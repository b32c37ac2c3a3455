"""DC operating point of a small circuit: a Wheatstone bridge with a diode, checked by hand.

Builds the netlist with the add_* API, solves it (sparse LU for the linear part, Newton for the
diode) and compares the linear bridge with its closed-form node voltages.
Run: python examples/circuit_dc.py
"""

from neurosim.netlist import THERMAL_VOLTAGE, Netlist
from neurosim.solve import dc

# linear bridge: V1 = 5 V feeding two dividers, a 10 kohm load across the middle
net = Netlist()
net.add_vsource("V1", "top", "0", dc=5.0)
net.add_resistor("R1", "top", "a", 1e3)
net.add_resistor("R2", "a", "0", 2e3)
net.add_resistor("R3", "top", "b", 2e3)
net.add_resistor("R4", "b", "0", 1e3)
net.add_resistor("R5", "a", "b", 10e3)
op = dc(net)
# by hand (nodal analysis, kohm and mA): 5 = 1.6 a - 0.1 b and 2.5 = 1.6 b - 0.1 a
# -> a + b = 7.5 / 1.5 = 5 V and a - b = 2.5 / 1.7 V
a_hand, b_hand = (5 + 2.5 / 1.7) / 2, (5 - 2.5 / 1.7) / 2
print(f"V(a) = {op.v('a'):.6f} V, V(b) = {op.v('b'):.6f} V, I(R5) = {op.i('R5') * 1e6:.3f} uA")
assert abs(op.v("a") - a_hand) < 1e-9 and abs(op.v("b") - b_hand) < 1e-9

# a nonlinear circuit, solved by Newton: 5 V through 1 kohm into a diode (I_s = 1e-14 A, n = 1)
import math  # noqa: E402

d = Netlist()
d.add_vsource("V1", "in", "0", dc=5.0)
d.add_resistor("R1", "in", "k", 1e3)
d.add_diode("D1", "k", "0", i_s=1e-14, n=1.0)
vd = dc(d).v("k")
# Kirchhoff's current law at "k", by hand: resistor current = diode current
residual = (5.0 - vd) / 1e3 - 1e-14 * (math.exp(vd / THERMAL_VOLTAGE) - 1.0)  # kT/q at 27 C
print(f"diode voltage {vd:.4f} V, KCL residual {residual:.1e} A")
assert 0.6 < vd < 0.8 and abs(residual) < 1e-6 * (5.0 - vd) / 1e3
