"""Fuzzing the SPICE importer: every malformed deck raises SpiceSyntaxError or NetlistError, nothing
else, and nothing hangs (hypothesis deadlines bound each example's time)."""

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurosim.errors import NetlistError
from neurosim.spice import read_spice

# a valid deck to mutate (same features as the reader test's deck)
MIXED = """mixed deck
.param rtop = 1.5k  rbot={2*rtop}
.subckt ladder in out params: r=1k c=1n
R1 in m {r}
R2 m out {r/2}
C1 m 0 {c}
.ends ladder
Vin IN 0 DC 2.5 PULSE(0 1 0 1n 1n 1u)
Iload 0 x 0.3mA
X1 in n1 ladder r={rtop}
X2 N1 n2 ladder r=2.2K
+ c=10p
R3 n2 X {rbot}
E1 y 0 n2 0 -2
D1 n1 d dsel area=3
.model dsel D (IS=2.5n N=1.75 RS=0.6)
.include nothere.inc
.tran 1n 1u
.end
"""

FUZZ = settings(max_examples=int(os.environ.get("NEUROSIM_FUZZ_EXAMPLES", 300)), deadline=2000,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture], derandomize=True)

# pieces that look like SPICE, so the generated lines reach deep into the parser
WORDS = [
    "R1", "r2", "C1", "V1", "I1", "E1", "D1", "X1", "L1", "B1", "M1", "Q1", "a", "b", "0", "gnd", "in", "out",
    "1k", "10meg", "5uF", "-1", "0", "1e400", "1k5", "1.2.3", "k", "{", "}", "{1+}", "{a*2}", "'2*x'", "(", ")",
    "=", ",", "dc", "ac", "pulse", "pwl", "sin", "PULSE(0 1 0 1n 1n 1u)", "PWL(0 0 1 1)", "ic=", "ic=1",
    ".param", "p=1", "q={p*2}", ".subckt", "s", ".ends", ".model", "dm", "d", "(is=1e-14)", "sw", ".include",
    "x.inc", ".op", ".tran", "1n", "1u", ".dc", ".end", ".options", "reltol=1e-3", ".save", "*", ";", "$", "+",
    "params:", "area=2", "\t", "I=V(a,0)*2", "1e-3", "áé", "\x00",
]

line_strategy = st.one_of(
    st.lists(st.sampled_from(WORDS), min_size=0, max_size=8).map(" ".join),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40),
)


def _check(text):
    try:
        read_spice(text)
    except NetlistError:  # SpiceSyntaxError is a NetlistError
        pass


@FUZZ
@given(st.lists(line_strategy, min_size=0, max_size=12))
def test_garbage_lines(lines):
    _check("title\n" + "\n".join(lines) + "\n")


@FUZZ
@given(st.data())
def test_truncated_and_mutated_valid_deck(data):
    text = MIXED
    op = data.draw(st.sampled_from(["truncate", "delete_line", "duplicate_line", "replace_char", "insert"]))
    lines = text.split("\n")
    if op == "truncate":
        text = text[: data.draw(st.integers(0, len(text)))]
    elif op == "delete_line":
        del lines[data.draw(st.integers(0, len(lines) - 1))]
        text = "\n".join(lines)
    elif op == "duplicate_line":
        k = data.draw(st.integers(0, len(lines) - 1))
        lines.insert(k, lines[k])
        text = "\n".join(lines)
    elif op == "replace_char":
        k = data.draw(st.integers(0, len(text) - 1))
        text = text[:k] + data.draw(st.sampled_from(list("{}()=,'*;+.-0123456789abkmeg \t\n"))) + text[k + 1 :]
    else:
        k = data.draw(st.integers(0, len(lines)))
        lines.insert(k, data.draw(line_strategy))
        text = "\n".join(lines)
    _check(text)


@FUZZ
@given(st.binary(max_size=200))
def test_random_bytes_as_file(tmp_path_factory, blob):
    path = os.path.join(tmp_path_factory.getbasetemp(), "fuzz.cir")
    with open(path, "wb") as fh:
        fh.write(b"title\n" + blob)
    try:
        read_spice(path)
    except NetlistError:
        pass


@pytest.mark.parametrize(
    "text",
    [
        "t\n.subckt a p\nX1 p b\n.ends\n.subckt b p\nX1 p a\n.ends\nX1 n a\n",  # mutual recursion
        "t\n" + "+\n" * 3,
        "t\nR1 a 0 {" + "(" * 10000 + "1" + ")" * 10000 + "}\n",
        "t\n" + "R1 a 0 1\n" * 2,
        "t\n.include " + "t" * 5000 + "\n",
        "t\nV1 a 0 SIN(0 1)\n",
        "t\n.subckt\n",
        "t\nX1\n",
        "t\nX1 a b =\n",
        "t\n.model\n",
        "t\n.model d1 d (is)\n",
        "t\nV1 a 0 pulse 0\n",
    ],
)
def test_hand_picked_nasties(text):
    with pytest.raises(NetlistError):
        read_spice(text)


@pytest.mark.parametrize(
    "text",
    ["t\n.param " + "a=1 " * 5000 + "\n", "t\n.subckt s\n.ends\nX1 s\n", "t\n" + "R1 a 0 1 ; " * 10000 + "\n"],
)
def test_legal_oddities_do_not_hang(text):
    _check(text)  # legal (re-assigned parameter, port-less subcircuit, comment-only tail) or a clean error
