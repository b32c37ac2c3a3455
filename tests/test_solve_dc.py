"""DC operating point against closed forms: dividers, ladders, bridges, superposition, Lambert-W diodes."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit, lambertw

from neurosim.errors import ConvergenceError, NetlistError, ParameterError
from neurosim.netlist import THERMAL_VOLTAGE, Netlist
from neurosim.solve import compile, dc


@dataclasses.dataclass(frozen=True)
class LinearDevice:
    """i = s v (state = conductance, S)."""

    state_bounds = (0.0, 1.0)

    def current(self, s, v):
        return s * v

    def dstate_dt(self, s, v):
        return 0.0 * v


@dataclasses.dataclass(frozen=True)
class CubicDevice:
    """i = g v + k v^3 without dcurrent_dv: exercises the finite-difference Jacobian."""

    k: float = 1e-3
    state_bounds = (0.0, 1.0)

    def current(self, s, v):
        return s * v + self.k * v**3

    def dstate_dt(self, s, v):
        return 0.0 * v


def test_divider_and_source_current_sign():
    net = Netlist()
    net.add_vsource("V1", "in", "0", 3.0)
    net.add_resistor("R1", "in", "out", 2e3)
    net.add_resistor("R2", "out", "0", 1e3)
    op = dc(net)
    assert op.strategy == "linear"
    assert op.v("out") == pytest.approx(1.0, rel=1e-14)
    assert op.i("V1") == pytest.approx(-1e-3, rel=1e-14)  # SPICE: delivering source -> negative
    assert op.i("R1") == pytest.approx(1e-3, rel=1e-14)
    assert op.v(["in", "out", "0"]).tolist() == pytest.approx([3.0, 1.0, 0.0], rel=1e-14)


@pytest.mark.parametrize("n", [1, 5, 40])
def test_infinite_style_ladder_closed_form(n):
    """R-2R ladder: each node voltage halves along the ladder (closed form 2^-k)."""
    net = Netlist()
    net.add_vsource("V1", "n0", "0", 1.0)
    for k in range(n):
        net.add_resistor(f"Rs{k}", f"n{k}", f"n{k + 1}", 1e3)
        net.add_resistor(f"Rp{k}", f"n{k + 1}", "0", 2e3 if k < n - 1 else 1e3)
    # node k+1 sees 2R to ground through the rest; the last shunt of R makes the tail 2R as well
    op = dc(net)
    for k in range(n + 1):
        assert op.v(f"n{k}") == pytest.approx(2.0**-k, rel=1e-12)
    assert op.i("V1") == pytest.approx(-1.0 / 2e3, rel=1e-12)


def test_wheatstone_bridge_by_hand():
    r1, r2, r3, r4, rg, v = 100.0, 200.0, 300.0, 500.0, 50.0, 10.0
    net = Netlist()
    net.add_vsource("V", "t", "0", v)
    net.add_resistor("R1", "t", "a", r1)
    net.add_resistor("R2", "a", "0", r2)
    net.add_resistor("R3", "t", "b", r3)
    net.add_resistor("R4", "b", "0", r4)
    net.add_resistor("Rg", "a", "b", rg)
    op = dc(net)
    # node equations solved by hand (Cramer's rule on the 2x2 system)
    g = np.array([[1 / r1 + 1 / r2 + 1 / rg, -1 / rg], [-1 / rg, 1 / r3 + 1 / r4 + 1 / rg]])
    rhs = np.array([v / r1, v / r3])
    det = g[0, 0] * g[1, 1] - g[0, 1] * g[1, 0]
    va = (rhs[0] * g[1, 1] - g[0, 1] * rhs[1]) / det
    vb = (g[0, 0] * rhs[1] - g[1, 0] * rhs[0]) / det
    assert op.v("a") == pytest.approx(va, rel=1e-13)
    assert op.v("b") == pytest.approx(vb, rel=1e-13)
    assert op.i("Rg") == pytest.approx((va - vb) / rg, rel=1e-12)


def test_superposition_with_current_source_and_vcvs():
    def build(v1, i1):
        net = Netlist()
        net.add_vsource("V1", "a", "0", v1)
        net.add_resistor("R1", "a", "b", 1e3)
        net.add_resistor("R2", "b", "0", 2e3)
        net.add_isource("I1", "0", "b", i1)  # injects i1 into b
        net.add_vcvs("E1", "c", "0", "b", "0", -4.0)
        net.add_resistor("RL", "c", "0", 10.0)
        return dc(net)

    both, only_v, only_i = build(2.0, 1e-3), build(2.0, 0.0), build(0.0, 1e-3)
    for name in ("b", "c"):
        assert both.v(name) == pytest.approx(only_v.v(name) + only_i.v(name), rel=1e-13)
    # by hand: vb = (v1/R1 + i1) / (1/R1 + 1/R2)
    vb = (2.0 / 1e3 + 1e-3) / (1 / 1e3 + 1 / 2e3)
    assert both.v("b") == pytest.approx(vb, rel=1e-13)
    assert both.v("c") == pytest.approx(-4.0 * vb, rel=1e-13)
    assert both.i("E1") == pytest.approx(4.0 * vb / 10.0, rel=1e-12)  # current np -> nn inside E
    assert both.i("I1") == 1e-3


def test_inverting_amplifier_virtual_ground():
    """Op-amp as a VCVS of gain A: closed-loop gain -Rf/Rin * 1/(1 + (1 + Rf/Rin)/A)."""
    a, rin, rf = 1e6, 1e3, 1e4
    net = Netlist()
    net.add_vsource("V", "in", "0", 0.1)
    net.add_resistor("Rin", "in", "m", rin)
    net.add_resistor("Rf", "m", "out", rf)
    net.add_vcvs("E", "out", "0", "0", "m", a)
    op = dc(net)
    expected = -rf / rin / (1 + (1 + rf / rin) / a) * 0.1
    assert op.v("out") == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("v, r, n, rs", [(0.3, 1e3, 1.0, 0.0), (1.0, 1e3, 1.5, 0.0), (5.0, 100.0, 1.0, 0.0),
                                        (2.0, 1e3, 1.2, 50.0), (-3.0, 1e3, 1.0, 0.0)])
def test_diode_resistor_lambert_w(v, r, n, rs):
    i_s = 1e-14
    nvt = n * THERMAL_VOLTAGE
    net = Netlist()
    net.add_vsource("V", "a", "0", v)
    net.add_resistor("R", "a", "d", r)
    net.add_diode("D", "d", "0", i_s=i_s, n=n, r_s=rs)
    op = dc(net)
    rt = r + rs
    i = nvt / rt * lambertw(i_s * rt / nvt * np.exp((v + i_s * rt) / nvt)).real - i_s
    assert op.i("D") == pytest.approx(i, rel=1e-9)
    assert -op.i("V") == pytest.approx(i, rel=1e-9)
    assert op.v("d") == pytest.approx(v - i * r, rel=1e-9, abs=1e-12)
    assert op.strategy == "newton"


def test_newton_fallback_source_and_gmin_stepping():
    """Without junction limiting, plain Newton from 0 V overshoots a 10 V-driven diode (exp(386))
    and crawls back by ~n Vt per iteration: it fails within 40 iterations; stepping succeeds."""
    i_s, r, v = 1e-14, 1e3, 10.0
    net = Netlist()
    net.add_vsource("V", "a", "0", v)
    net.add_resistor("R", "a", "d", r)
    net.add_diode("D", "d", "0", i_s=i_s)
    nvt = THERMAL_VOLTAGE
    exact = nvt / r * lambertw(i_s * r / nvt * np.exp((v + i_s * r) / nvt)).real - i_s
    with pytest.raises(ConvergenceError, match="tried: newton \\(40 iterations\\)") as info:
        dc(net, limiting=False, max_iter=40, strategies=("newton",))
    assert "worst at node 'd'" in str(info.value) and "residual" in str(info.value)
    for strategy in ("source", "gmin"):
        op = dc(net, limiting=False, max_iter=40, strategies=("newton", strategy))
        assert op.strategy == strategy
        assert op.i("D") == pytest.approx(exact, rel=1e-9)
    with pytest.raises(ConvergenceError, match="gmin stepping.*source stepping"):
        dc(net, limiting=False, max_iter=1)


def test_switch_conductance_by_hand():
    r_on, r_off, vt, vw = 100.0, 1e6, 1.0, 0.1
    net = Netlist()
    net.add_vsource("Vg", "g", "0", 1.05)
    net.add_vsource("Vd", "d", "0", 0.2)
    net.add_resistor("Rl", "d", "x", 1e3)
    net.add_switch("S", "x", "0", "g", "0", r_on, r_off, vt, vw)
    op = dc(net)
    gs = 1 / r_off + (1 / r_on - 1 / r_off) * expit((1.05 - vt) / vw)
    i = 0.2 / (1e3 + 1 / gs)
    assert op.i("S") == pytest.approx(i, rel=1e-12)
    assert op.v("x") == pytest.approx(i / gs, rel=1e-12)


def test_devices_linear_equal_resistors_and_cubic_by_hand():
    net = Netlist()
    net.add_vsource("V", "a", "0", 1.0)
    net.add_devices(["M1", "M2"], ["a", "b"], ["b", "0"], LinearDevice(), [1e-3, 3e-3])
    op = dc(net)
    assert op.v("b") == pytest.approx(0.25, rel=1e-12)
    assert op.device_currents() == pytest.approx([0.75e-3, 0.75e-3], rel=1e-12)
    net2 = Netlist()
    net2.add_vsource("V", "a", "0", 2.0)
    net2.add_device("M", "a", "0", CubicDevice(k=1e-3), state=1e-3)
    op2 = dc(net2, states=[2e-3])
    assert op2.i("M") == pytest.approx(2e-3 * 2 + 1e-3 * 8, rel=1e-12)
    with pytest.raises(ParameterError, match="states must have shape"):
        dc(net2, states=[1.0, 2.0])


def test_singular_and_invalid_circuits():
    net = Netlist()
    net.add_isource("I", "a", "0", 1.0)
    with pytest.raises(NetlistError, match="no DC path"):
        dc(net)
    with pytest.raises(ParameterError, match="strategies"):
        good = Netlist()
        good.add_vsource("V", "a", "0", 1.0)
        good.add_diode("D", "a", "0")
        dc(good, strategies=("magic",))


@st.composite
def resistor_graphs(draw):
    n = draw(st.integers(2, 9))
    # a random spanning tree keeps every node connected to ground, plus random extra edges
    edges = [(k, draw(st.integers(0, k - 1))) for k in range(1, n)]
    extra = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=12))
    edges += [(a, b) for a, b in extra if a != b]
    rs = draw(st.lists(st.floats(1.0, 1e6), min_size=len(edges), max_size=len(edges)))
    v = draw(st.floats(-10, 10))
    i = draw(st.floats(-1e-2, 1e-2))
    isrc = draw(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda t: t[0] != t[1]))
    vnode = draw(st.integers(1, n - 1))
    return n, edges, rs, v, i, isrc, vnode


@settings(max_examples=60, deadline=None)
@given(resistor_graphs())
def test_random_resistor_graphs_kcl_and_tellegen(case):
    n, edges, rs, v, i, (ia, ib), vnode = case
    name = lambda k: "0" if k == 0 else f"n{k}"  # noqa: E731
    net = Netlist()
    for k, ((a, b), r) in enumerate(zip(edges, rs)):
        net.add_resistor(f"R{k}", name(a), name(b), r)
    net.add_vsource("V", name(vnode), "0", v)
    net.add_isource("I", name(ia), name(ib), i)
    op = dc(net)
    volt = {name(k): float(op.v(name(k))) for k in range(n)}
    # element currents from the solved voltages alone (independent of the solver's internals)
    branches = [(name(a), name(b), (volt[name(a)] - volt[name(b)]) / r) for (a, b), r in zip(edges, rs)]
    branches.append((name(vnode), "0", float(op.i("V"))))
    branches.append((name(ia), name(ib), i))
    scale = sum(abs(c) for _, _, c in branches) + 1e-30
    # a current recomputed from rounded node voltages carries ~eps |v| / R even when it is ~0 (1 V on
    # both ends of a 1 ohm resistor: 1e-16 A against microampere branch currents elsewhere)
    scale += 1e-6 * sum((abs(volt[name(a)]) + abs(volt[name(b)])) / r for (a, b), r in zip(edges, rs))
    kcl = dict.fromkeys(volt, 0.0)
    for a, b, c in branches:
        kcl[a] += c
        kcl[b] -= c
    assert max(abs(x) for x in kcl.values()) <= 1e-10 * scale
    power = sum((volt[a] - volt[b]) * c for a, b, c in branches)
    assert abs(power) <= 1e-9 * sum(abs((volt[a] - volt[b]) * c) for a, b, c in branches) + 1e-300
    assert volt[name(vnode)] == pytest.approx(v, abs=1e-12)


def test_compile_matrix_structure():
    net = Netlist()
    net.add_vsource("V1", "a", "0", 2.0)
    net.add_resistor("R1", "a", "b", 2.0)
    net.add_resistor("R2", "b", "0", 4.0)
    net.add_vcvs("E1", "c", "0", "b", "0", 3.0)
    net.add_resistor("R3", "c", "0", 1.0)
    cc = compile(net)
    assert cc.node_names == ["a", "b", "c"] and cc.branch_names == ["V1", "E1"]
    expected = np.array(
        [
            [0.5, -0.5, 0, 1, 0],
            [-0.5, 0.75, 0, 0, 0],
            [0, 0, 1.0, 0, 1],
            [1, 0, 0, 0, 0],
            [0, -3.0, 1, 0, 0],
        ]
    )
    np.testing.assert_array_equal(cc.A.toarray(), expected)
    np.testing.assert_array_equal(cc.rhs(), [0, 0, 0, 2.0, 0])
