"""read_spice: features, error locations, guards; and the import semantics checked against ngspice.

The semantic reference is ngspice itself: the original deck (with .param, .subckt, .include, unit
suffixes, mixed case) and the deck re-exported from the imported netlist must give ngspice the same
node voltages and source currents.
"""

import numpy as np
import pytest

from neurosim.errors import NetlistError, SpiceSyntaxError
from neurosim.netlist import PWL, Pulse, Sine
from neurosim.spice import DCSweep, Op, TIGHT_OPTIONS, Tran, read_spice, run_ngspice, write_spice


def test_every_element_kind():
    deck = read_spice(
        """all kinds
.param rl=2k gain=3
R1 a b {rl}
C1 b 0 10n IC=0.25
C2 b c 1p
V1 a 0 DC 1.5
V2 p 0 PULSE(0 1 1u 2n 3n 4u 10u)
V3 q 0 PWL(0 0, 1m 1, 2m 0.5)
V4 s 0 DC 0.1 SIN(0.5 1 1k 1u 10 90)
I1 0 c 2m
E1 out 0 b 0 {gain}
D1 c 0 dmod area=2
.model dmod D (IS=1e-15 N=1.2 RS=4)
.tran 1n 1u 0 1n uic
.end
"""
    )
    net = deck.netlist
    assert deck.title == "all kinds"
    assert net.element("R1")["params"] == {"resistance": 2000.0}
    assert net.element("C1")["params"] == {"capacitance": 1e-8, "ic": 0.25}
    assert np.isnan(net.element("C2")["params"]["ic"])
    assert net.element("V1")["params"] == {"dc": 1.5}
    p = net.element("V2")["waveform"]
    assert isinstance(p, Pulse) and (p.v1, p.v2, p.delay, p.rise, p.fall, p.width, p.period) == (
        0.0, 1.0, 1e-6, 2e-9, 3e-9, 4e-6, 1e-5)
    w = net.element("V3")["waveform"]
    assert isinstance(w, PWL) and w.times.tolist() == [0, 1e-3, 2e-3] and w.values.tolist() == [0, 1, 0.5]
    s = net.element("V4")
    assert s["params"]["dc"] == 0.1 and isinstance(s["waveform"], Sine)
    assert (s["waveform"].offset, s["waveform"].frequency, s["waveform"].damping, s["waveform"].phase) == (
        0.5, 1e3, 10.0, 90.0)
    assert net.element("V2")["params"]["dc"] == 0.0  # no DC value: the time-0 value, as ngspice
    assert net.element("I1")["nodes"] == {"np": "0", "nn": "c"}
    assert net.element("E1")["params"] == {"gain": 3.0}
    d = net.element("D1")["params"]
    assert d["i_s"] == pytest.approx(2e-15, rel=1e-15) and d["n"] == 1.2 and d["r_s"] == 2.0  # area 2
    assert deck.analyses == [Tran(1e-9, 1e-6, 0.0, 1e-9, True)]


def test_subcircuits_params_hierarchy_and_case():
    deck = read_spice(
        """hier
.param rbase=1k
.subckt half inp out params: r=1
R1 inp mid {r}
R2 mid out {2*r}
.ends
.subckt two a b
Xh1 a m half r={rbase}
Xh2 m B half
.ends two
X1 IN 0 two
x2 in Gnd two
.op
.end"""
    )
    net = deck.netlist
    assert net.element("X1.Xh1.R1")["params"]["resistance"] == 1000.0
    assert net.element("X1.Xh1.R2")["params"]["resistance"] == 2000.0
    assert net.element("X1.Xh2.R1")["params"]["resistance"] == 1.0  # default r=1
    assert net.element("X1.Xh1.R1")["nodes"] == {"n1": "IN", "n2": "X1.Xh1.mid"}
    assert net.element("x2.Xh1.R1")["nodes"]["n1"] == "IN"  # 'in' is the node first written 'IN'
    assert net.element("X1.Xh2.R2")["nodes"]["n2"] == "0"  # port B -> ground
    assert net.element("x2.Xh2.R2")["nodes"]["n2"] == "0"  # gnd is ground
    assert deck.analyses == [Op()] and deck.params == {"rbase": 1000.0}


def test_param_scopes_inside_subcircuits():
    deck = read_spice(
        """scopes
.param rbase=1k
.subckt cell a b params: r=10
.param rr={2*r}
R1 a b {rr}
.ends
.subckt pair a b params: r=5
.param half={r/2}
Xc1 a m cell r={half}
Xc2 m b cell
.ends
X1 in 0 pair r={rbase}
.end"""
    )
    net = deck.netlist
    assert net.element("X1.Xc1.R1")["params"]["resistance"] == 1000.0  # 2 * (1k / 2)
    assert net.element("X1.Xc2.R1")["params"]["resistance"] == 20.0  # the cell's own default
    with pytest.raises(SpiceSyntaxError, match="unknown parameter 'half'"):
        read_spice(
            "t\n.subckt c a params: r=1\nR1 a 0 {half}\n.ends\n.subckt p a\n.param half=2\nX1 a c\n.ends\nX1 n p\n"
        )


def test_include_relative_to_including_file(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "cells.inc").write_text("* cells\n.include more.inc\n.subckt load p\nR1 p 0 {rl}\n.ends\n")
    (tmp_path / "lib" / "more.inc").write_text(".param rl=5k\n")
    top = tmp_path / "top.cir"
    top.write_text("top\n.include lib/cells.inc\nV1 a 0 1\nX1 a load\n.op\n.end\n")
    net = read_spice(str(top)).netlist
    assert net.element("X1.R1")["params"]["resistance"] == 5000.0
    assert read_spice(top).netlist.element("V1")["params"]["dc"] == 1.0  # os.PathLike too


def test_include_cycle_and_missing_file(tmp_path):
    (tmp_path / "a.inc").write_text("R1 a 0 1\n.include b.inc\n")
    (tmp_path / "b.inc").write_text("* b\n.include a.inc\n")
    top = tmp_path / "top.cir"
    top.write_text("t\n.include a.inc\n.end\n")
    with pytest.raises(SpiceSyntaxError, match=r"b\.inc:2: include cycle"):
        read_spice(str(top))
    (tmp_path / "self.cir").write_text("t\n.include self.cir\n")
    with pytest.raises(SpiceSyntaxError, match="include cycle"):
        read_spice(str(tmp_path / "self.cir"))
    with pytest.raises(SpiceSyntaxError, match=r"<string>:2: file .*none.inc. does not exist"):
        read_spice("t\n.include nowhere/none.inc\n")
    with pytest.raises(SpiceSyntaxError, match="missing.cir. does not exist"):
        read_spice(str(tmp_path / "missing.cir"))


def test_repeated_includes_cannot_multiply_without_bound(tmp_path):
    for k in range(8):  # each level includes the next one 10 times: 10**8 expansions without a cycle
        (tmp_path / f"l{k}.inc").write_text("".join(f".include l{k + 1}.inc\n" for _ in range(10)))
    (tmp_path / "l8.inc").write_text("* leaf\n")
    (tmp_path / "top.cir").write_text("t\n.include l0.inc\n")
    with pytest.raises(SpiceSyntaxError, match="more than 1000 .include"):
        read_spice(str(tmp_path / "top.cir"))


def test_binary_file_is_a_syntax_error(tmp_path):
    path = tmp_path / "bin.cir"
    path.write_bytes(b"title\nR1 a 0 1\n\xff\xfe\x00garbage\n")
    with pytest.raises(SpiceSyntaxError, match=r"bin\.cir:3"):
        read_spice(str(path))


@pytest.mark.parametrize(
    "deck,line,match",
    [
        ("t\nR1 a 0 1k\nr1 b 0 2k\n", 3, "duplicate element name"),
        ("t\nR1 a 0 1k 2k\n", 2, "unexpected"),  # negative R is valid SPICE now (tests/decks/value_forms_negative_r.cir)
        ("t\nR1 a 0\n", 2, "too few fields"),
        ("t\nR1 a 0 1k 2k\n", 2, "unexpected"),
        ("t\nR1 a 0 1k5\n", 2, "expected a number"),
        ("t\nR1 a 0 {undefined}\n", 2, "unknown parameter"),
        ("t\nQ1 a b c qmod\n", 2, "unsupported element"),
        ("t\n.noise v(out) v1 dec 10 1 1k\n", 2, "unsupported directive"),
        ("t\n.ends\n", 2, ".ends without"),
        ("t\n.subckt s a\nR1 a 0 1\n", 2, "not closed"),
        ("t\n.subckt s a\n.subckt u b\n.ends\n", 2, "not closed"),  # nested definitions are read now
        ("t\n.subckt s a\n.ends u\n", 3, "does not close"),
        ("t\nX1 a nosuch\n", 2, "unknown subcircuit"),
        ("t\n.subckt s a\nX1 a s\n.ends\nX1 n s\n", 3, "instantiates itself"),
        ("t\n.subckt s a b\nR1 a b 1\n.ends\nX1 n s\n", 5, "2 ports"),
        ("t\n.subckt s a params: r=1\nR1 a 0 {r}\n.ends\nX1 n s q=2\n", 5, "no parameter"),
        ("t\nD1 a 0 nomodel\n", 2, "unknown diode model"),
        ("t\nD1 a 0 dm\n.model dm D (is=1e-14 ikf=5m)\n", 3, "not supported"),
        ("t\nV1 a 0 PULSE(0)\n", 2, "PULSE needs"),
        ("t\nV1 a 0 PWL(0 0 1)\n", 2, "time-value pairs"),
        ("t\nV1 a 0 PWL(1 0 0 1)\n", 2, "non-decreasing"),
        ("t\nV1 a a 1\n", 2, "shorted"),
        ("t\n.param a=\n", 2, "no value"),
        ("t\n.param 1a=2\n", 2, "bad parameter name"),
        ("t\n.tran 1n\n", 2, ".tran needs"),
        ("t\n.tran 0 1u\n", 2, "tstep must be"),
        ("t\nC1 a 0 1n IC\n", 2, "needs '= value'"),
        ("t\nB1 a 0 Q=V(a)*2\n", 2, "I=expression or V=expression"),
        ("t\nB1 a 0 I=foo(V(a))\n", 2, "unknown function 'foo'"),
        ("t\n.lib models.lib tt\n", 2, "models.lib"),  # .lib file section is read now; a missing file is refused
        ("t\nR1 a 0 1\n.temp -280\n", 3, "above -273.15 degC"),  # temperatures are supported (tests/test_spice_diode.py)
        ("t\n.options reltol=1e-3 gmin=-1\n", 2, "gmin must be >= 0"),
    ],
)
def test_errors_name_file_and_line(deck, line, match):
    with pytest.raises(SpiceSyntaxError, match=match) as info:
        read_spice(deck)
    assert info.value.line == line and info.value.path == "<string>"
    assert isinstance(info.value, NetlistError)


def test_exponential_nesting_is_refused_before_any_work():
    lines = ["bomb", ".subckt s0 a", "R1 a 0 1", ".ends"]
    for k in range(1, 12):  # 10**11 elements after flattening
        lines += [f".subckt s{k} a"] + [f"X{j} a s{k - 1}" for j in range(10)] + [".ends"]
    lines += ["X1 n s11", ".end"]
    with pytest.raises(SpiceSyntaxError, match="expands to more than"):
        read_spice("\n".join(lines))


def test_nesting_of_empty_subcircuits_is_refused_too():
    lines = ["bomb", ".subckt s0 a", ".ends"]
    for k in range(1, 12):
        lines += [f".subckt s{k} a"] + [f"X{j} a s{k - 1}" for j in range(10)] + [".ends"]
    lines += ["X1 n s11", ".end"]
    with pytest.raises(SpiceSyntaxError, match="expands to more than"):
        read_spice("\n".join(lines))


def test_deep_nesting_is_refused():
    lines = ["deep", ".subckt s0 a", "R1 a 0 1", ".ends"]
    for k in range(1, 200):
        lines += [f".subckt s{k} a", f"X1 a s{k - 1}", ".ends"]
    lines += ["X1 n s199", ".end"]
    with pytest.raises(SpiceSyntaxError, match="nested deeper"):
        read_spice("\n".join(lines))


def test_directives_and_options():
    deck = read_spice("t\n.options reltol=1e-6 klu\n.save all\n.print tran v(a)\n.dc v1 0 1 0.1\nV1 a 0 1\n.temp 27\n.end\n")
    assert deck.options == {"reltol": "1e-6", "klu": True, "temp": "27"}  # .temp sets the circuit temperature
    assert deck.analysis == DCSweep("V1", 0.0, 1.0, 0.1)  # the source as spelled in the netlist


MIXED = """mixed deck for ngspice
* parameters, a subcircuit with parameters, unit suffixes, mixed case, continuation lines
.param rtop = 1.5k  rbot={2*rtop}
.subckt ladder in out params: r=1k c=1n
R1 in m {r}
R2 m out {r/2}
C1 m 0 {c}
Rsh m 0 {10*r}
.ends ladder
Vin IN 0 DC 2.5
Iload 0 x 0.3mA
X1 in n1 ladder r={rtop}
X2 N1 n2 ladder r=2.2K
+ c=10p
R3 n2 X {rbot}
R4 x GND 4.7kohm
E1 y 0 n2 0 -2
Ry y 0 1MEG
D1 n1 d Dsel area=3
R5 d 0 2k
.model Dsel D (IS=2.5n N=1.75 RS=0.6)
.op
.end
"""


@pytest.mark.ngspice
def test_import_semantics_match_ngspice(ngspice_path):
    """ngspice on the original deck and on the deck re-exported from our import agree."""
    original = run_ngspice(MIXED, options=TIGHT_OPTIONS)
    deck = read_spice(MIXED)
    again = run_ngspice(deck.netlist, deck.analysis, options=TIGHT_OPTIONS)
    pairs = {"IN": "in", "n1": "n1", "n2": "n2", "X": "x", "y": "y", "d": "d", "X1.m": "x1.m", "X2.m": "x2.m"}
    for ours, theirs in pairs.items():
        assert again.voltage(ours) == pytest.approx(original.voltage(theirs), rel=1e-12, abs=1e-15), ours
    assert again.current("Vin") == pytest.approx(original.current("vin"), rel=1e-12)
    assert again.current("E1") == pytest.approx(original.current("e1"), rel=1e-12)


def test_write_read_write_is_identical():
    deck = read_spice(MIXED)
    text = write_spice(deck.netlist, deck.analysis)
    again = read_spice(text)
    assert write_spice(again.netlist, again.analysis) == text
