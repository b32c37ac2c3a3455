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

Only the branch of ``?:`` that is taken can fail (the other is parsed, its errors in value ignored),
as in ngspice.

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

__all__ = ["evaluate", "FUNCTIONS", "CONSTANTS"]


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
    def __init__(self, text: str, params: Mapping[str, float], where: Statement | None):
        self.where = where
        self.params = params
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
        self.lazy = 0  # > 0 while parsing the branch of ?: that is not taken: value errors ignored
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

    def parse(self) -> float:
        if not self.tokens:
            raise self.error("empty expression")
        value = self.cond()
        if self.peek() is not None:
            raise self.error(f"unexpected {self.peek()[1]!r} in expression {self.text!r}")
        if not math.isfinite(value):
            raise self.error(f"expression {self.text!r} is not finite")
        return value

    def cond(self) -> float:
        self.descend()
        test = self.logic_or()
        if self.peek() == ("op", "?"):
            self.take()
            self.lazy += test == 0
            yes = self.cond()
            self.lazy -= test == 0
            self.expect(":")
            self.lazy += test != 0
            no = self.cond()
            self.lazy -= test != 0
            test = yes if test != 0 else no
        self.depth -= 1
        return test

    def logic_or(self) -> float:
        value = self.logic_and()
        while self.peek() == ("op", "||"):
            self.take()
            rhs = self.logic_and()
            value = float(value != 0 or rhs != 0)
        return value

    def logic_and(self) -> float:
        value = self.compare()
        while self.peek() == ("op", "&&"):
            self.take()
            rhs = self.compare()
            value = float(value != 0 and rhs != 0)
        return value

    _CMP = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}

    def compare(self) -> float:
        value = self.expr()
        while self.peek() is not None and self.peek()[0] == "op" and self.peek()[1] in self._CMP:
            op = self.take()[1]
            rhs = self.expr()
            value = float(self._CMP[op](value, rhs))
        return value

    def expr(self) -> float:
        self.descend()
        value = self.term()
        while self.peek() in (("op", "+"), ("op", "-")):
            op = self.take()[1]
            rhs = self.term()
            value = value + rhs if op == "+" else value - rhs
        self.depth -= 1
        return value

    def term(self) -> float:
        value = self.unary()
        while self.peek() in (("op", "*"), ("op", "/")):
            op = self.take()[1]
            rhs = self.unary()
            if op == "*":
                value = value * rhs
            else:
                if rhs == 0:
                    if self.lazy:
                        value = 0.0
                        continue
                    raise self.error(f"division by zero in expression {self.text!r}")
                value = value / rhs
        return value

    def unary(self) -> float:
        tok = self.peek()
        if tok in (("op", "+"), ("op", "-"), ("op", "!")):
            self.take()
            self.descend()
            value = self.unary()
            self.depth -= 1
            return float(value == 0) if tok[1] == "!" else -value if tok[1] == "-" else value
        return self.power()

    def power(self) -> float:
        # left-associative like ngspice (2**3**2 = 64); the exponent may carry a sign (4**-1)
        value = self.atom()
        while self.peek() in (("op", "**"), ("op", "^")):
            self.take()
            sign = 1.0
            while self.peek() in (("op", "+"), ("op", "-")):
                if self.take()[1] == "-":
                    sign = -sign
            exponent = sign * self.atom()
            value = self.call("**", lambda a, b: a**b, (value, exponent))
        return value

    def call(self, name, fn, args) -> float:
        try:
            value = fn(*args)
            if isinstance(value, complex):
                raise ValueError("complex result")
            value = float(value)
        except (ValueError, OverflowError, ZeroDivisionError, TypeError):
            if self.lazy:
                return 0.0
            raise self.error(f"{name}{tuple(args)} is undefined in expression {self.text!r}") from None
        if not math.isfinite(value) and not self.lazy:
            raise self.error(f"{name}{tuple(args)} is not finite in expression {self.text!r}")
        return value

    def atom(self) -> float:
        kind, text = self.take()
        if kind == "num":
            return parse_number(text, self.where)
        if kind == "op":
            if text != "(":
                raise self.error(f"unexpected {text!r} in expression {self.text!r}")
            value = self.cond()
            self.expect(")")
            return value
        # a name: function call, parameter or constant
        if self.peek() == ("op", "("):
            if text not in FUNCTIONS:
                raise self.error(f"unknown function {text!r} in expression {self.text!r}")
            nargs, fn = FUNCTIONS[text]
            self.take()
            args = [self.cond()]
            while self.peek() == ("op", ","):
                self.take()
                args.append(self.cond())
            self.expect(")")
            if len(args) != nargs:
                raise self.error(f"{text}() takes {nargs} argument(s), got {len(args)}")
            return self.call(text, fn, args)
        if text in self.params:
            return float(self.params[text])
        if text in CONSTANTS:
            return CONSTANTS[text]
        raise self.error(f"unknown parameter {text!r} in expression {self.text!r}")


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
    text = text.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    if len(text) > _MAX_LENGTH:
        raise (where.error if where else SpiceSyntaxError)(f"expression longer than {_MAX_LENGTH} characters")
    return _Parser(text, params or {}, where).parse()
