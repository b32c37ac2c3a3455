"""Behavioural (B) sources against ngspice-39 and against finite differences (issue 16).

Reference: ngspice-39 on the deck write_spice makes of the same netlist, TIGHT_OPTIONS. Tolerances
(issue 16): operating points and .dc sweeps <= 1e-9 relative with a 1 uV floor (achieved ~1e-16),
.ac magnitudes and phases <= 1e-9 relative. Decks in users' styles (subcircuits, functions, time)
run in tests/test_spice_decks.py (b_*.cir, tran_b_*.cir). The Newton Jacobian uses the exact
derivatives of the expression tree: checked against central differences on random expressions.
"""

import math
import pathlib
import pickle
import sys

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from neurosim.errors import ConvergenceError, NetlistError, ParameterError, SpiceSyntaxError
from neurosim.netlist import Netlist
from neurosim.solve import dc
from neurosim.spice import AC, TIGHT_OPTIONS, DCSweep, read_spice, run_ngspice, write_spice
from neurosim.spice.expr import Expression

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from test_vs_ngspice_ac import _compare_sweep, compare_ac  # noqa: E402


def mixed_netlist():
    net = Netlist("B sources")
    net.add_vsource("V1", "a", "0", 1.0)
    net.add_resistor("R1", "a", "b", 1e3)
    net.add_bsource("B1", "b", "0", current="1u*sinh(V(b)/0.1)")  # sinh selector
    net.add_vsource("V2", "c", "0", -0.7)
    net.add_resistor("R2", "c", "d", 100.0)
    net.add_bsource("Bcube", "d", "0", current="2m*V(d)^3 + 1m*V(d)")  # |V|^3 in ngspice B sources
    net.add_bsource("Bv", "e", "0", voltage="V(a,b)*V(d)*10 + tanh(I(V1)*1k)")  # two voltages, a branch current
    net.add_resistor("R3", "e", "0", 1e3)
    net.add_resistor("R4", "a", "s", 500.0)
    net.add_vsource("Vsense", "s", "s2", 0.0)
    net.add_bsource("Bsense", "s2", "0", current="V(s2) > 0.5 ? 1m*V(s2) : 2m*V(s2) - 0.5m")
    net.add_resistor("R5", "a", "l", 1e3)
    net.add_bsource("Blim", "l", "0", current="min(max(V(l)*1m, 0.1m), 0.3m) + 1u*exp(V(l))")
    return net


@pytest.mark.ngspice
def test_operating_point_agrees_with_ngspice(ngspice_path):
    net = mixed_netlist()
    op = dc(net)
    ref = run_ngspice(net, "op", options=TIGHT_OPTIONS)
    for n in [x for x in net.node_names if x != "0"]:
        assert abs(float(op.v(n)) - ref.voltage(n)) <= 1e-9 * max(abs(ref.voltage(n)), 1e-6), n
    for e in ["V1", "V2", "Vsense", "Bv"]:
        assert float(op.i(e)) == pytest.approx(ref.current(e), rel=1e-9, abs=1e-15), e


@pytest.mark.ngspice
def test_dc_sweep_through_nonlinear_b_resistor(ngspice_path):
    net = Netlist("B sweep")
    net.add_vsource("V1", "in", "0", 0.0)
    net.add_resistor("R1", "in", "a", 1e3)
    net.add_bsource("B1", "a", "0", current="1u*sinh(V(a)/0.08) + 0.1m*V(a)^3")
    _compare_sweep(net, DCSweep("V1", -1.97, 2.03, 0.05), ["a"], ["V1"])  # no point at 0 V (rounding of the axis)


@pytest.mark.ngspice
def test_ac_linearised_through_b_sources(ngspice_path):
    net = Netlist("B small signal")
    net.add_vsource("V1", "in", "0", 0.8, ac_mag=1.0)
    net.add_resistor("R1", "in", "a", 1e3)
    net.add_bsource("B1", "a", "0", current="1u*sinh(V(a)/0.1)")
    net.add_capacitor("C1", "a", "0", 1e-9)
    net.add_bsource("Bamp", "o", "0", voltage="-20*tanh(V(a)-0.55) + 0.1*I(V1)*1k")
    net.add_resistor("Ro", "o", "f", 1e3)
    net.add_capacitor("Cf", "f", "0", 10e-9)
    compare_ac(net, AC("dec", 10, 10.0, 1e7), nodes=["a", "o", "f"], branches=["V1", "Bamp"])


def test_written_expression_reads_back_identically(tmp_path):
    net = mixed_netlist()
    deck = read_spice(write_spice(net, "op"))
    ours, again = dc(net), dc(deck.netlist)
    for n in [x for x in net.node_names if x != "0"]:
        assert float(again.v(n)) == pytest.approx(float(ours.v(n)), rel=1e-14, abs=1e-15)
    e = pickle.loads(pickle.dumps(Expression.parse("V(a)*2+time")))  # studies ship netlists to workers
    assert e.dual([1.0, 3.0]) == (5.0, {0: 2.0, 1: 1.0})


# ----------------------------------------------------------------- derivatives (hypothesis)
_UNARY = ["sin", "cos", "tanh", "atan", "exp", "sinh", "asinh", "abs", "sqrt", "log", "uramp"]


def _expr(draw, depth):
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(["V(a)", "V(b)", "V(a,b)", "I(V1)", "0.7", "1.3"]))
    kind = draw(st.integers(0, 3))
    if kind == 0:
        f = draw(st.sampled_from(_UNARY))
        inner = _expr(draw, depth - 1)
        # keep arguments in the domain (sqrt, log of a positive number)
        return f"{f}(1.5+{inner}*{inner})" if f in ("sqrt", "log") else f"{f}(0.5*{inner})"
    if kind == 1:
        op = draw(st.sampled_from(["+", "-", "*"]))
        return f"({_expr(draw, depth - 1)}{op}{_expr(draw, depth - 1)})"
    if kind == 2:
        return f"({_expr(draw, depth - 1)}/(2+{_expr(draw, depth - 1)}^2))"
    return f"pwr(1.1+0.1*{_expr(draw, depth - 1)},{draw(st.sampled_from(['2', '3', '0.5']))})"


@st.composite
def expressions(draw):
    return _expr(draw, 3)


@settings(max_examples=150, deadline=None)
@given(text=expressions(), x=st.lists(st.floats(-0.9, 0.9), min_size=4, max_size=4))
@example(text="uramp(0.5*V(a))", x=[0.0] * 4)  # a kink: skipped, not compared
@example(text="(V(a)*sinh(0.5*V(b)))", x=[0.3, -0.4, 0.0, 0.0])
def test_exact_derivatives_match_central_differences(text, x):
    e = Expression.parse(text)
    y = x[: len(e.refs)]
    v, grad = e.dual(y)
    assert math.isfinite(v)
    for k in range(len(y)):
        h = 1e-6
        up, dn = list(y), list(y)
        up[k] += h
        dn[k] -= h
        right, left = (e.dual(up)[0] - v) / h, (v - e.dual(dn)[0]) / h
        # at a kink (abs, uramp, ... at 0) the derivative is one-sided by definition: not compared
        assume(abs(right - left) <= 1e-3 * (1 + abs(right)))
        fd = (e.dual(up)[0] - e.dual(dn)[0]) / (2 * h)
        assert grad.get(k, 0.0) == pytest.approx(fd, rel=1e-5, abs=1e-6), (text, k)


# ----------------------------------------------------------------- bad input
def test_bad_b_sources_are_refused_clearly():
    net = Netlist()
    with pytest.raises(ParameterError, match="exactly one of current= and voltage="):
        net.add_bsource("B1", "a", "0")
    with pytest.raises(SpiceSyntaxError, match="unknown function 'sinhh'"):
        net.add_bsource("B2", "a", "0", current="sinhh(V(a))")
    with pytest.raises(SpiceSyntaxError, match="unknown parameter 'g'"):
        net.add_bsource("B3", "a", "0", current="g*V(a)")
    net.add_vsource("V1", "a", "0", 1.0)
    net.add_bsource("B4", "a", "0", current="V(nowhere)*1m")
    with pytest.raises(NetlistError, match="B source 'B4' refers to node 'nowhere'"):
        dc(net)
    net = Netlist()
    net.add_vsource("V1", "a", "0", -1.0)
    net.add_resistor("R1", "a", "b", 1e3)
    net.add_bsource("B5", "b", "0", current="1m*sqrt(V(b))")  # sqrt of a negative voltage
    with pytest.raises(ConvergenceError, match="B source 'B5'"):
        dc(net)


@pytest.mark.ngspice
def test_b_sources_in_python_subcircuit_instances(ngspice_path):
    """Instancing maps each copy's expression like its terminals: ports to the instance's nodes,
    internal nodes and I() of internal elements prefixed."""
    from neurosim.netlist import Subcircuit

    sub = Subcircuit("cell", ["row", "col"])
    sub.add_vsource("Vs", "row", "r1", 0.0)
    sub.add_bsource("Bsel", "r1", "mid", current="1u*sinh(V(r1,mid)/0.1)")
    sub.add_resistor("Rm", "mid", "col", 1e4)
    sub.add_bsource("Bmon", "m", "0", voltage="1k*I(Vs)")  # reads its own instance's sense source
    sub.add_resistor("Rl", "m", "0", 1e3)
    net = Netlist("instances")
    net.add_vsource("V1", "r", "0", 1.0)
    net.add_vsource("V2", "q", "0", 0.7)
    net.add_instance("X1", sub, {"row": "r", "col": "0"})
    net.add_instances(["X2", "X3"], sub, {"row": ["q", "r"], "col": ["0", "q"]})
    op = dc(net)
    ref = run_ngspice(net, "op", options=TIGHT_OPTIONS)
    for n in ["X1.mid", "X2.mid", "X3.mid", "X1.m", "X2.m", "X3.m"]:
        assert float(op.v(n)) == pytest.approx(ref.voltage(n.lower()), rel=1e-9, abs=1e-9), n
    assert float(op.v("X2.m")) != pytest.approx(float(op.v("X1.m")), rel=1e-3)  # each reads its own current
