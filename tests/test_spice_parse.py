"""SPICE lexer, numbers with unit suffixes and the safe expression evaluator.

References: values worked out by hand, and ngspice itself reading the same text (each value is
used as a resistance in series with a 1 V source, so ngspice's branch current is -1/R).
"""

import math

import numpy as np
import pytest

from neurosim.errors import SpiceSyntaxError
from neurosim.spice import evaluate, parse_number, run_ngspice
from neurosim.spice.lexer import split_statements, tokenize

# (text, value worked out by hand)
SUFFIXES = [
    ("10", 10.0),
    ("10k", 1e4),
    ("10kohm", 1e4),
    ("10K", 1e4),
    ("2.2meg", 2.2e6),
    ("2.2MEG", 2.2e6),
    ("2M", 2e-3),  # M is milli in SPICE
    ("5u", 5e-6),
    ("5uF", 5e-6),
    ("3n", 3e-9),
    ("7p", 7e-12),
    ("1f", 1e-15),
    ("1F", 1e-15),  # femto, not farad
    ("1t", 1e12),
    ("1g", 1e9),
    ("1mil", 25.4e-6),
    ("1a", 1.0),  # no atto in ngspice: a unit letter
    ("1e3k", 1e6),
    (".5", 0.5),
    ("-1.5e-3", -1.5e-3),
    ("4.7ohms", 4.7),
    ("3e", 3.0),
]


@pytest.mark.parametrize("text,value", SUFFIXES)
def test_number_suffixes_by_hand(text, value):
    assert parse_number(text) == pytest.approx(value, rel=1e-15)


@pytest.mark.parametrize("bad", ["", "k", "1k5", "1.2.3", "1e+", "--1", "1k#", "1_0", "abc", "1e400"])
def test_bad_numbers(bad):
    with pytest.raises(SpiceSyntaxError):
        parse_number(bad)


@pytest.mark.ngspice
def test_suffixes_agree_with_ngspice(ngspice_path):
    positive = [(t, v) for t, v in SUFFIXES if v > 0 and v < 1e11]
    lines = ["suffixes"]
    for k, (text, _) in enumerate(positive):
        lines += [f"V{k} a{k} 0 DC 1", f"R{k} a{k} 0 {text}"]
    res = run_ngspice("\n".join(lines), "op")
    for k, (text, value) in enumerate(positive):
        ours = parse_number(text)
        assert -1.0 / res.current(f"V{k}") == pytest.approx(ours, rel=1e-12), text


EXPRESSIONS = [
    ("1+2*3", 7.0),
    ("(1+2)*3", 9.0),
    ("2**3", 8.0),
    ("2^3", 8.0),
    ("2**3**2", 64.0),  # left-associative in ngspice-39
    ("4**-1*8", 2.0),
    ("-2**2+10", 6.0),  # unary minus binds after **, as in ngspice
    ("10/4", 2.5),
    ("2*1k", 2000.0),
    ("sqrt(16)+abs(-3)", 7.0),
    ("log(exp(2))", 2.0),
    ("min(3, 4)*max(1,2)", 6.0),
    ("a*b+c", 1e3 * 2 + 0.5),
    ("pwr(-2, 2)", 4.0), ("pwr(-2, 3)", 8.0),  # |x|**y, as ngspice-39 evaluates it (measured)
    ("pi", math.pi),
    ("1e-3*a", 1.0),
    ("+-+1", -1.0),
]


@pytest.mark.parametrize("text,value", EXPRESSIONS)
def test_expressions_by_hand(text, value):
    assert evaluate(text, {"a": 1e3, "b": 2.0, "c": 0.5}) == pytest.approx(value, rel=1e-14)


@pytest.mark.ngspice
def test_expressions_agree_with_ngspice(ngspice_path):
    usable = [(t, v) for t, v in EXPRESSIONS if v > 0 and t != "pi"]  # ngspice's .param has no pi
    lines = ["params", ".param a=1k b=2 c=0.5"]
    for k, (text, _) in enumerate(usable):
        lines += [f"V{k} n{k} 0 DC 1", f"R{k} n{k} 0 {{{text}}}"]
    res = run_ngspice("\n".join(lines), "op")
    for k, (text, _) in enumerate(usable):
        ours = evaluate(text, {"a": 1e3, "b": 2.0, "c": 0.5})
        assert -1.0 / res.current(f"V{k}") == pytest.approx(ours, rel=1e-12), text


@pytest.mark.parametrize(
    "bad",
    ["", "1+", "(1", "1)", "foo", "foo(1)", "sqrt(1, 2)", "1/0", "sqrt(-1)", "10**400", "1e308*10",
     "a b", "2 ** ", "exp(1000)", "(" * 200 + "1" + ")" * 200, "-" * 5000 + "1", "1 = 2", "log(0)", "#"],
)
def test_bad_expressions(bad):
    with pytest.raises(SpiceSyntaxError):
        evaluate(bad, {"a": 1.0})


def test_no_eval_of_python():
    # text that would do something under eval() is just a syntax error here
    for text in ["__import__('os')", "().__class__", "[1]", "'a'", "lambda: 1", "a.real"]:
        with pytest.raises(SpiceSyntaxError):
            evaluate(text, {"a": 1.0})


def test_statements_continuations_comments_case():
    text = "\n".join(
        [
            "the title is never parsed: R1 a b",
            "* a comment line",
            "R1 IN out",
            "+ 1k ; end-of-line comment",
            "",
            "+ $ another continuation with only a comment",
            "C1 out 0 1n $ dollar comment",
            "   * indented comment",
            ".control",
            "run",
            ".endc",
            ".END",
            "R9 x y 1",
        ]
    )
    title, statements = split_statements(text, "deck.cir")
    assert title == "the title is never parsed: R1 a b"
    assert [(s.text, s.line) for s in statements] == [("R1 IN out 1k", 3), ("C1 out 0 1n", 7), (".END", 12)]
    assert statements[0].tokens == ["r1", "in", "out", "1k"]


def test_continuation_without_statement_reports_line():
    with pytest.raises(SpiceSyntaxError, match=r"deck.cir:3:"):
        split_statements("title\n* c\n+ 1k\n", "deck.cir")


def test_unclosed_control_block():
    with pytest.raises(SpiceSyntaxError, match=r":2:"):
        split_statements("t\n.control\nrun\n")


def test_tokenize_groups_expressions_and_parentheses():
    assert tokenize("v1 a 0 pwl(0 0, 1m {2*x}) r='a + b'") == [
        "v1", "a", "0", "pwl", "(", "0", "0", "1m", "{2*x}", ")", "r", "=", "{a + b}"
    ]
    for bad in ["r1 a b {1+2", "r1 a b '1+2", "r1 a b 1}"]:
        with pytest.raises(SpiceSyntaxError):
            tokenize(bad)


def test_exact_decimal_scaling():
    # "5u" must be the double nearest to 5e-6, not 5 * 1e-6 (which differs in the last bit)
    assert parse_number("5u") == 5e-6
    assert parse_number("3.3n") == 3.3e-9
    assert np.float64(parse_number("0.1k")) == 100.0
