"""A tiny, safe arithmetic evaluator for ``.param`` and ``{...}`` expressions (no ``eval``).

Grammar (recursive descent, precedence as in ngspice-39: ``-2**2`` is ``-4``, ``2**3**2`` is
``64``)::

    cond   := or ("?" cond ":" cond)?                    ternary (lowest precedence, right-associative)
    or     := and ("||" and)*
    and    := cmp ("&&" cmp)*
    cmp    := expr (("==" | "!=" | "<" | "<=" | ">" | ">=") expr)*   true is 1.0, false 0.0
    expr   := term (("+" | "-") term)*
    term   := unary (("*" | "/") unary)*
    unary  := ("+" | "-" | "!") unary | power
    power  := atom (("**" | "^") ("+" | "-")* atom)*     left-associative, as in ngspice
    atom   := number | name | name "(" cond ("," cond)* ")" | "(" cond ")"

The parser builds a tree; :func:`evaluate` gives the value of a constant expression (``.param``,
``{...}``) and :class:`Expression` the value and derivatives of a B-source expression over node
voltages, branch currents and ``time``. Only the branch of ``?:`` that is taken is evaluated (the
other is parsed, its value errors ignored), as in ngspice.

Numbers take SPICE scale suffixes (``2*1k``); names are parameters defined earlier; functions are
listed in :data:`FUNCTIONS`; ``pi`` is predefined. Nesting depth and expression length are bounded
so hostile input cannot exhaust the stack.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from neurosim.errors import SpiceSyntaxError
from neurosim.spice.lexer import Statement, parse_number

__all__ = ["evaluate", "Expression", "FUNCTIONS", "B_FUNCTIONS", "CONSTANTS"]


def _pwr(x, y):
    # ngspice-39's pwr(x, y) in .param/{...} expressions is |x|**y (measured: pwr(-2, 3) = 8, pwr(-2, 2) = 4;
    # the sign-keeping form belongs to B sources)
    return abs(x) ** y


#: Functions allowed in expressions: name -> (number of arguments, function). ``log`` is natural.
FUNCTIONS = {
    "sqrt": (1, math.sqrt), "exp": (1, math.exp), "log": (1, math.log), "ln": (1, math.log),
    "log10": (1, math.log10), "abs": (1, abs), "sin": (1, math.sin), "cos": (1, math.cos),
    "tan": (1, math.tan), "asin": (1, math.asin), "acos": (1, math.acos), "atan": (1, math.atan),
    "sinh": (1, math.sinh), "cosh": (1, math.cosh), "tanh": (1, math.tanh),
    "floor": (1, math.floor), "ceil": (1, math.ceil), "int": (1, math.trunc),
    "sgn": (1, lambda x: float((x > 0) - (x < 0))),
    "asinh": (1, math.asinh), "acosh": (1, math.acosh), "atanh": (1, math.atanh),
    "min": (2, min), "max": (2, max), "pow": (2, math.pow), "pwr": (2, _pwr), "atan2": (2, math.atan2),
    "nint": (1, round),  # to the nearest integer, halves to even (C's nearbyint, as ngspice)
    "ternary_fcn": (3, lambda c, a, b: a if c != 0 else b),
    "**": (2, lambda a, b: a**b),
}

#: Predefined names.
CONSTANTS = {"pi": math.pi}

_TOKEN = re.compile(
    r"\s*(?:(?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?[a-z]*)"
    r"|(?P<name>[a-z_][a-z0-9_.]*)|(?P<op>\*\*|==|!=|<=|>=|&&|\|\||[-+*/^(),?:<>!]))"
)
_MAX_DEPTH = 64
_MAX_LENGTH = 10_000


class _Parser:
    """Recursive descent over the grammar above, building a tree (tuples):

    ``("c", value)``, ``("ref", k)`` (a circuit quantity, see :class:`Expression`), ``("neg", x)``,
    ``("not", x)``, ``("bin", op, x, y)``, ``("call", name, (args...))``, ``("cond", c, x, y)``.
    Parameters are replaced by their values while parsing."""

    def __init__(self, text: str, params: Mapping[str, float], where: Statement | None, circuit: bool = False):
        self.where = where
        self.params = params
        self.circuit = circuit  # V(), I() and time allowed (B sources)
        self.refs: list[tuple] = []
        self.tokens: list[tuple[str, str]] = []
        text = text.lower()
        pos = 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                raise self.error(f"unexpected character {text[pos:].lstrip()[:1]!r} in expression {text!r}")
            kind = m.lastgroup
            self.tokens.append((kind, m.group(kind)))
            pos = m.end()
        self.pos = 0
        self.depth = 0
        self.text = text

    def error(self, message: str) -> SpiceSyntaxError:
        if self.where is None:
            return SpiceSyntaxError(message)
        return self.where.error(message)

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise self.error(f"expression {self.text!r} ends too early")
        self.pos += 1
        return tok

    def expect(self, op: str) -> None:
        tok = self.take()
        if tok != ("op", op):
            raise self.error(f"expected {op!r} in expression {self.text!r}, got {tok[1]!r}")

    def descend(self):
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise self.error(f"expression nested deeper than {_MAX_DEPTH} levels")

    def parse(self) -> tuple:
        if not self.tokens:
            raise self.error("empty expression")
        tree = self.cond()
        if self.peek() is not None:
            raise self.error(f"unexpected {self.peek()[1]!r} in expression {self.text!r}")
        return tree

    def cond(self) -> tuple:
        self.descend()
        test = self.logic_or()
        if self.peek() == ("op", "?"):
            self.take()
            yes = self.cond()
            self.expect(":")
            no = self.cond()
            test = ("cond", test, yes, no)
        self.depth -= 1
        return test

    def _chain(self, sub, ops) -> tuple:
        value = sub()
        while self.peek() is not None and self.peek()[0] == "op" and self.peek()[1] in ops:
            op = self.take()[1]
            value = ("bin", op, value, sub())
        return value

    def logic_or(self) -> tuple:
        return self._chain(self.logic_and, ("||",))

    def logic_and(self) -> tuple:
        return self._chain(self.compare, ("&&",))

    def compare(self) -> tuple:
        return self._chain(self.expr, _CMP)

    def expr(self) -> tuple:
        self.descend()
        value = self._chain(self.term, ("+", "-"))
        self.depth -= 1
        return value

    def term(self) -> tuple:
        return self._chain(self.unary, ("*", "/"))

    def unary(self) -> tuple:
        tok = self.peek()
        if tok in (("op", "+"), ("op", "-"), ("op", "!")):
            self.take()
            self.descend()
            value = self.unary()
            self.depth -= 1
            return ("not", value) if tok[1] == "!" else ("neg", value) if tok[1] == "-" else value
        return self.power()

    def power(self) -> tuple:
        # left-associative like ngspice (2**3**2 = 64); the exponent may carry a sign (4**-1)
        value = self.atom()
        while self.peek() in (("op", "**"), ("op", "^")):
            self.take()
            negative = False
            while self.peek() in (("op", "+"), ("op", "-")):
                negative ^= self.take()[1] == "-"
            exponent = self.atom()
            value = ("bin", "**", value, ("neg", exponent) if negative else exponent)
        return value

    def _ref(self, ref: tuple) -> tuple:
        if ref not in self.refs:
            self.refs.append(ref)
        return ("ref", self.refs.index(ref))

    def _names(self) -> list[str]:
        """Comma-separated node or element names inside ``(...)`` (after the ``(``)."""
        out = []
        while True:
            kind, text = self.take()
            if kind not in ("name", "num"):
                raise self.error(f"expected a node or element name in expression {self.text!r}, got {text!r}")
            out.append(text)
            if self.peek() != ("op", ","):
                break
            self.take()
        self.expect(")")
        return out

    def atom(self) -> tuple:
        kind, text = self.take()
        if kind == "num":
            return ("c", parse_number(text, self.where))
        if kind == "op":
            if text != "(":
                raise self.error(f"unexpected {text!r} in expression {self.text!r}")
            value = self.cond()
            self.expect(")")
            return value
        # a name: circuit quantity, function call, parameter or constant
        if self.circuit and text in ("v", "i") and self.peek() == ("op", "("):
            self.take()
            names = self._names()
            if text == "v" and len(names) in (1, 2):
                return self._ref(("v", names[0], names[1] if len(names) == 2 else "0"))
            if text == "i" and len(names) == 1:
                return self._ref(("i", names[0]))
            raise self.error(f"{text}() takes {'one or two nodes' if text == 'v' else 'one element'}, "
                             f"got {len(names)} in expression {self.text!r}")
        if self.circuit and text == "time" and self.peek() != ("op", "("):
            return self._ref(("time",))
        functions = B_FUNCTIONS if self.circuit else FUNCTIONS
        if self.peek() == ("op", "("):
            if text not in functions:
                raise self.error(f"unknown function {text!r} in expression {self.text!r}")
            nargs = functions[text][0]
            self.take()
            args = [self.cond()]
            while self.peek() == ("op", ","):
                self.take()
                args.append(self.cond())
            self.expect(")")
            if len(args) != nargs:
                raise self.error(f"{text}() takes {nargs} argument(s), got {len(args)}")
            return ("call", text, tuple(args))
        if text in self.params:
            return ("c", float(self.params[text]))
        if text in CONSTANTS:
            return ("c", CONSTANTS[text])
        raise self.error(f"unknown parameter {text!r} in expression {self.text!r}")


class _Undefined(Exception):
    """A value error while evaluating (message without the location)."""


_CMP = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def _call(name, fn, args, text):
    try:
        value = fn(*args)
        if isinstance(value, complex):
            raise ValueError("complex result")
        value = float(value)
    except (ValueError, OverflowError, ZeroDivisionError, TypeError):
        raise _Undefined(f"{name}{tuple(args)} is undefined in expression {text!r}") from None
    if not math.isfinite(value):
        raise _Undefined(f"{name}{tuple(args)} is not finite in expression {text!r}")
    return value


def _value(node, x, text, functions):
    """Scalar value of a tree (only the taken branch of ?: is evaluated, as ngspice)."""
    tag = node[0]
    if tag == "c":
        return node[1]
    if tag == "ref":
        return x[node[1]]
    if tag == "neg":
        return -_value(node[1], x, text, functions)
    if tag == "not":
        return float(_value(node[1], x, text, functions) == 0)
    if tag == "cond":
        return _value(node[2] if _value(node[1], x, text, functions) != 0 else node[3], x, text, functions)
    if tag == "call":
        args = [_value(a, x, text, functions) for a in node[2]]
        return _call(node[1], functions[node[1]][1], args, text)
    op, a, b = node[1], _value(node[2], x, text, functions), _value(node[3], x, text, functions)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        if b == 0:
            raise _Undefined(f"division by zero in expression {text!r}")
        return a / b
    if op == "**":
        return _call("**", functions["**"][1], (a, b), text)
    if op == "&&":
        return float(a != 0 and b != 0)
    if op == "||":
        return float(a != 0 or b != 0)
    return float(_CMP[op](a, b))


def _dual(node, x, text):
    """Value and gradient ``{ref index: d value / d ref}`` of a B-source tree (forward mode).

    Non-differentiable points take one side (``abs`` and ``sgn``-like functions the derivative
    for the argument's sign, steps and comparisons 0), as ngspice's symbolic derivatives do."""
    tag = node[0]
    if tag == "c":
        return node[1], {}
    if tag == "ref":
        return x[node[1]], {node[1]: 1.0}
    if tag == "neg":
        v, g = _dual(node[1], x, text)
        return -v, {k: -d for k, d in g.items()}
    if tag == "not":
        return float(_dual(node[1], x, text)[0] == 0), {}
    if tag == "cond":
        return _dual(node[2] if _dual(node[1], x, text)[0] != 0 else node[3], x, text)
    if tag == "call":
        vals = [_dual(a, x, text) for a in node[2]]
        args = [v for v, _ in vals]
        value = _call(node[1], B_FUNCTIONS[node[1]][1], args, text)
        partials = _PARTIALS[node[1]](*args, value)
        return value, _combine(zip(partials, (g for _, g in vals)))
    op = node[1]
    (a, ga), (b, gb) = _dual(node[2], x, text), _dual(node[3], x, text)
    if op == "+":
        return a + b, _combine(((1.0, ga), (1.0, gb)))
    if op == "-":
        return a - b, _combine(((1.0, ga), (-1.0, gb)))
    if op == "*":
        return a * b, _combine(((b, ga), (a, gb)))
    if op == "/":
        if b == 0:
            raise _Undefined(f"division by zero in expression {text!r}")
        return a / b, _combine(((1.0 / b, ga), (-a / (b * b), gb)))
    if op == "**":
        value = _call("**", B_FUNCTIONS["**"][1], (a, b), text)
        return value, _combine(zip(_PARTIALS["pow"](a, b, value), (ga, gb)))
    if op in ("&&", "||"):
        return float((a != 0 and b != 0) if op == "&&" else (a != 0 or b != 0)), {}
    return float(_CMP[op](a, b)), {}


def _combine(terms) -> dict:
    out: dict = {}
    for c, g in terms:
        if c != 0:
            for k, d in g.items():
                out[k] = out.get(k, 0.0) + c * d
    return out


def _sgn(x):
    return float((x > 0) - (x < 0))


def _bpow(x, y):
    # ngspice-39 B sources (no compatibility mode): x ** y and pow(x, y) are |x| ** y (ptfuncs.c PTpower)
    return abs(x) ** y


def _bpwr(x, y):
    # ngspice-39 B sources: pwr(x, y) keeps the sign of x (ptfuncs.c PTpwr)
    return -((-x) ** y) if x < 0 else x**y


#: Functions of B-source expressions: those of :data:`FUNCTIONS` with ngspice's B-source meanings of
#: ``pow``/``**`` (:math:`|x|^y`) and ``pwr`` (sign kept), plus the steps ``u`` and ``uramp``.
B_FUNCTIONS = {**FUNCTIONS, "pow": (2, _bpow), "pwr": (2, _bpwr), "**": (2, _bpow),
               "u": (1, lambda x: float(x > 0)), "uramp": (1, lambda x: x if x > 0 else 0.0)}


def _dpow(x, y, v):
    ax = abs(x)
    dx = y * ax ** (y - 1) * _sgn(x) if ax > 0 or y >= 1 else 0.0
    dy = v * math.log(ax) if ax > 0 else 0.0
    return dx, dy


#: Partial derivatives of every B-source function: (args..., value) -> tuple of partials.
_PARTIALS = {
    "sqrt": lambda x, v: (0.5 / v if v > 0 else 0.0,),
    "exp": lambda x, v: (v,), "log": lambda x, v: (1.0 / x,), "ln": lambda x, v: (1.0 / x,),
    "log10": lambda x, v: (1.0 / (x * math.log(10.0)),), "abs": lambda x, v: (_sgn(x) or 1.0,),
    "sin": lambda x, v: (math.cos(x),), "cos": lambda x, v: (-math.sin(x),),
    "tan": lambda x, v: (1.0 + v * v,), "asin": lambda x, v: (1.0 / math.sqrt(1.0 - x * x),),
    "acos": lambda x, v: (-1.0 / math.sqrt(1.0 - x * x),), "atan": lambda x, v: (1.0 / (1.0 + x * x),),
    "sinh": lambda x, v: (math.cosh(x),), "cosh": lambda x, v: (math.sinh(x),),
    "tanh": lambda x, v: (1.0 - v * v,), "asinh": lambda x, v: (1.0 / math.sqrt(x * x + 1.0),),
    "acosh": lambda x, v: (1.0 / math.sqrt(x * x - 1.0),), "atanh": lambda x, v: (1.0 / (1.0 - x * x),),
    "floor": lambda x, v: (0.0,), "ceil": lambda x, v: (0.0,), "int": lambda x, v: (0.0,),
    "sgn": lambda x, v: (0.0,), "nint": lambda x, v: (0.0,), "u": lambda x, v: (0.0,),
    "uramp": lambda x, v: (float(x > 0),),
    "min": lambda x, y, v: (1.0, 0.0) if x <= y else (0.0, 1.0),
    "max": lambda x, y, v: (1.0, 0.0) if x >= y else (0.0, 1.0),
    "pow": _dpow, "pwr": lambda x, y, v: (y * abs(x) ** (y - 1) if x != 0 or y >= 1 else 0.0,
                                          v * math.log(abs(x)) if x != 0 else 0.0),
    "atan2": lambda y, x, v: (x / (x * x + y * y), -y / (x * x + y * y)),
    "ternary_fcn": lambda c, a, b, v: (0.0, float(c != 0), float(c == 0)),
}


class Expression:
    """A parsed B-source expression: a tree over the circuit quantities in ``refs``.

    ``refs`` lists ``("v", node_p, node_n)`` (a voltage difference, V), ``("i", element)`` (the
    branch current of a V source or other branch element, A) and ``("time",)`` (s), in the order
    they first appear. Evaluation (:meth:`dual`) returns the value and its exact partial
    derivatives with respect to each reference (forward-mode differentiation of the tree).

    Examples
    --------
    >>> e = Expression.parse("1m*sinh(V(a,b)/0.2) + 2*time")
    >>> e.refs
    [('v', 'a', 'b'), ('time',)]
    >>> v, g = e.dual([0.2, 1.0])
    >>> round(v, 12), {k: round(d, 12) for k, d in g.items()}
    (2.001175201194, {0: 0.007715403174, 1: 2.0})
    """

    __slots__ = ("tree", "refs", "text")

    def __init__(self, tree: tuple, refs: list, text: str):
        self.tree, self.refs, self.text = tree, refs, text

    @classmethod
    def parse(cls, text: str, params: Mapping[str, float] | None = None, where: Statement | None = None) -> "Expression":
        """Parse ``text`` (braces optional); ``.param`` values are substituted now.

        Raises
        ------
        SpiceSyntaxError
            Syntax errors, unknown functions or parameters.
        """
        text = _strip(text, where)
        p = _Parser(text, params or {}, where, circuit=True)
        return cls(p.parse(), p.refs, p.text)

    def dual(self, x) -> tuple[float, dict]:
        """Value and ``{ref index: partial derivative}`` at reference values ``x``.

        A value error (division by zero, a logarithm of a negative number, ...) gives ``nan``."""
        try:
            return _dual(self.tree, x, self.text)
        except (_Undefined, ValueError, ZeroDivisionError, OverflowError):
            return math.nan, {}

    def format(self, ref_text=None) -> str:
        """The expression as ngspice B-source text, fully parenthesised; ``ref_text(ref)`` writes
        each reference (default ``V(a,b)``, ``I(name)``, ``time`` with the names as parsed)."""

        def ref_default(ref):
            return {"v": lambda: f"V({ref[1]},{ref[2]})", "i": lambda: f"I({ref[1]})", "time": lambda: "time"}[ref[0]]()

        out = ref_text or ref_default

        def fmt(node):
            tag = node[0]
            if tag == "c":
                return repr(float(node[1])) if node[1] >= 0 else f"({float(node[1])!r})"
            if tag == "ref":
                return out(self.refs[node[1]])
            if tag == "neg":
                return f"(-{fmt(node[1])})"
            if tag == "not":
                return f"(!{fmt(node[1])})"
            if tag == "cond":
                return f"({fmt(node[1])}?{fmt(node[2])}:{fmt(node[3])})"
            if tag == "call":
                return f"{node[1]}({','.join(fmt(a) for a in node[2])})"
            return f"({fmt(node[2])}{node[1]}{fmt(node[3])})"

        return fmt(self.tree)

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"

    def __reduce__(self):  # pickles as its text and tree (no code)
        return (Expression, (self.tree, self.refs, self.text))


def _strip(text: str, where) -> str:
    text = text.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    if len(text) > _MAX_LENGTH:
        raise (where.error if where else SpiceSyntaxError)(f"expression longer than {_MAX_LENGTH} characters")
    return text


def evaluate(text: str, params: Mapping[str, float] | None = None, where: Statement | None = None) -> float:
    """Evaluate an arithmetic expression safely.

    Parameters
    ----------
    text : str
        The expression, with or without surrounding braces, e.g. ``"2*r0 + 1k"``.
    params : mapping of str to float, optional
        Parameter values (lower-case names).
    where : Statement, optional
        Location for error messages.

    Returns
    -------
    float
        The value; always finite.

    Raises
    ------
    SpiceSyntaxError
        Syntax errors, unknown names or functions, division by zero, non-finite results.

    Examples
    --------
    >>> evaluate("{2*r0 + 1k}", {"r0": 50})
    1100.0
    >>> evaluate("-2**2 + sqrt(16) + max(1, 3)")
    3.0
    """
    p = _Parser(_strip(text, where), params or {}, where)
    tree = p.parse()
    try:
        value = _value(tree, (), p.text, FUNCTIONS)
    except _Undefined as exc:
        raise p.error(str(exc)) from None
    if not math.isfinite(value):
        raise p.error(f"expression {p.text!r} is not finite")
    return value
