"""SPICE deck lexer: logical lines, tokens and numbers with scale suffixes.

SPICE text is line oriented. This module turns raw text into *statements* (one per logical line,
continuation lines starting with ``+`` joined on), each split into lower-case tokens and remembering
the file and line it came from, so that every later error can say ``file:line``.

Rules implemented (those of ngspice-39, checked against it):

- the first line of a top-level deck is the title and is never parsed;
- ``*`` at the start of a line makes a comment line; ``;`` anywhere, and ``$`` after white space,
  start an end-of-line comment;
- a line starting with ``+`` continues the previous statement;
- everything is case-insensitive (tokens are lower-cased; the raw text is kept for file names);
- ``.control`` ... ``.endc`` blocks are skipped and nothing after ``.end`` is read;
- numbers take a scale suffix ``t g meg k mil m u n p f`` (1e12 ... 1e-15; ``mil`` = 25.4e-6) and may
  be followed by unit letters that are ignored: ``10kohm`` = 1e4, ``5uF`` = 5e-6, ``1F`` = 1e-15
  (femto, as in every SPICE), ``2M`` = 2e-3 (milli), ``1a`` = 1 (no atto in ngspice).
"""

from __future__ import annotations

import dataclasses
import math
import re
from decimal import Decimal

from neurosim.errors import SpiceSyntaxError

__all__ = ["Statement", "split_statements", "tokenize", "parse_number", "SCALE"]

#: Scale suffixes of SPICE numbers (case-insensitive); ``meg`` and ``mil`` are tested before ``m``.
SCALE = {"t": 1e12, "g": 1e9, "meg": 1e6, "k": 1e3, "mil": 25.4e-6, "m": 1e-3, "u": 1e-6, "n": 1e-9,
         "p": 1e-12, "f": 1e-15}
# exact decimal scales, so that "5u" is the double nearest to 5e-6 (5 * 1e-6 is not)
_DSCALE = {k: Decimal("25.4e-6") if k == "mil" else Decimal(1).scaleb(round(math.log10(v))) for k, v in SCALE.items()}

_PLAIN = re.compile(r"[^(){}'=,]*")
_NUMBER = re.compile(r"([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)([a-z]*)\Z")


@dataclasses.dataclass
class Statement:
    """One logical line of a deck.

    Attributes
    ----------
    text : str
        The raw text (continuations joined with a space, comments removed), original case.
    path : str
        The file it came from (``"<string>"`` for text passed directly).
    line : int
        1-based line number of the first physical line.
    """

    text: str
    path: str
    line: int

    def error(self, message: str) -> SpiceSyntaxError:
        """A :class:`SpiceSyntaxError` located at this statement (a message quoting a huge token is
        shortened: the file and line say where the rest is)."""
        if len(message) > 600:
            message = message[:400] + f" ... [{len(message) - 500} characters] ... " + message[-100:]
        return SpiceSyntaxError(message, self.path, self.line)

    @property
    def tokens(self) -> list[str]:
        """Lower-case tokens of the statement (see :func:`tokenize`)."""
        return tokenize(self.text.lower(), self)


def _strip_comment(line: str) -> str:
    cut = line.find(";")
    if cut >= 0:
        line = line[:cut]
    # '$' starts a comment only after white space (it may appear inside names otherwise)
    m = re.search(r"[ \t]\$", line)
    if m:
        line = line[: m.start()]
    return line.strip()


def split_statements(text: str, path: str = "<string>", title: bool = True) -> tuple[str, list[Statement]]:
    """Split deck text into statements.

    Parameters
    ----------
    text : str
        The deck.
    path : str
        Shown in error messages.
    title : bool
        Whether the first line is a title line (true for a top-level deck, false for an included file).

    Returns
    -------
    title : str
        The title line ("" if ``title`` is false).
    statements : list of Statement

    Raises
    ------
    SpiceSyntaxError
        A continuation line with nothing to continue, or an unterminated ``.control`` block.

    Examples
    --------
    >>> t, st = split_statements("my deck\\nR1 a 0\\n+ 1k ; load\\n* comment\\n.end\\nignored")
    >>> t, [(s.text, s.line) for s in st]
    ('my deck', [('R1 a 0 1k', 2), ('.end', 5)])
    """
    # SPICE ends a line at \n (or \r\n) only: str.splitlines() would also split at \f, \v, \x1c-\x1e,
    # \x85, U+2028/2029 and a lone \r, letting a comment's text become a statement and shifting lines
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in text.split("\n")]
    head = ""
    start = 0
    if title and lines:
        head = lines[0].strip()
        start = 1
    out: list[Statement] = []
    in_control = 0
    for number in range(start + 1, len(lines) + 1):
        raw = lines[number - 1]
        stripped = raw.strip()
        if not stripped or stripped.startswith("*"):
            continue
        lowered = stripped.lower()
        if in_control:
            if lowered.startswith(".endc"):
                in_control = 0
            continue
        if lowered.startswith(".control"):
            in_control = number
            continue
        body = _strip_comment(stripped)
        if stripped.startswith("+"):
            if not out:
                raise SpiceSyntaxError("continuation line '+' without a statement to continue", path, number)
            body = _strip_comment(stripped[1:])
            if body:
                out[-1].text += " " + body
            continue
        if not body:
            continue
        out.append(Statement(body, path, number))
        if lowered.split()[0] == ".end":
            break
    if in_control:
        raise SpiceSyntaxError(".control block is not closed by .endc", path, in_control)
    return head, out


def tokenize(text: str, where: Statement | None = None) -> list[str]:
    """Split a statement into tokens.

    White space and commas separate tokens; ``(``, ``)`` and ``=`` are tokens of their own; an
    expression in braces ``{...}`` or single quotes ``'...'`` is kept whole as one token ``{...}``.

    Raises
    ------
    SpiceSyntaxError
        Unbalanced braces or quotes.

    Examples
    --------
    >>> tokenize("v1 a 0 pulse(0 1, 1n) ic={2*a} r='x+1'")
    ['v1', 'a', '0', 'pulse', '(', '0', '1', '1n', ')', 'ic', '=', '{2*a}', 'r', '=', '{x+1}']
    """
    if _PLAIN.fullmatch(text):  # fast path: most element lines are plain words
        return text.split()
    tokens: list[str] = []
    word: list[str] = []
    i, n = 0, len(text)

    def flush():
        if word:
            tokens.append("".join(word))
            word.clear()

    while i < n:
        ch = text[i]
        if ch in " \t,\r\n\f\v":
            flush()
        elif ch in "()=":
            flush()
            tokens.append(ch)
        elif ch == "{":
            flush()
            depth, j = 0, i
            while j < n:
                if text[j] == "{":
                    depth += 1
                elif text[j] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            if j >= n:
                raise _err("unbalanced '{' in expression", where)
            tokens.append("{" + text[i + 1 : j] + "}")
            i = j
        elif ch == "'":
            flush()
            j = text.find("'", i + 1)
            if j < 0:
                raise _err("unterminated quoted expression (')", where)
            tokens.append("{" + text[i + 1 : j] + "}")
            i = j
        elif ch == "}":
            raise _err("unbalanced '}'", where)
        else:
            word.append(ch)
        i += 1
    flush()
    return tokens


def _err(message: str, where: Statement | None) -> SpiceSyntaxError:
    if where is None:
        return SpiceSyntaxError(message)
    return where.error(message)


def parse_number(token: str, where: Statement | None = None) -> float:
    """Value of a SPICE number with optional scale suffix and ignored unit letters.

    .. math::

        x = m \\cdot 10^{e} \\cdot s, \\qquad s \\in \\{10^{12}, 10^{9}, 10^{6}, 10^{3},
        25.4\\cdot10^{-6}, 10^{-3}, 10^{-6}, 10^{-9}, 10^{-12}, 10^{-15}\\}

    Parameters
    ----------
    token : str
        E.g. ``"10k"``, ``"1meg"``, ``"5uF"``, ``"-2.5e-3"``.
    where : Statement, optional
        For the error location.

    Returns
    -------
    float

    Raises
    ------
    SpiceSyntaxError
        Not a number, characters other than letters after it (``1k5``, ``1.2.3``), or not finite.

    Examples
    --------
    >>> parse_number("10kohm"), parse_number("5uF"), parse_number("1MEG"), parse_number("1mil")
    (10000.0, 5e-06, 1000000.0, 2.54e-05)
    """
    m = _NUMBER.match(token.lower())
    if m is None:
        raise _err(f"expected a number, got {token!r}", where)
    letters = m.group(2)
    if letters.startswith("meg"):
        scale = "meg"
    elif letters.startswith("mil"):
        scale = "mil"
    elif letters and letters[0] in SCALE:
        scale = letters[0]
    else:
        scale = None
    if scale is None:
        value = float(m.group(1))
    else:
        try:
            value = float(Decimal(m.group(1)) * _DSCALE[scale])
        except ArithmeticError:  # exponent beyond Decimal's context: overflow or underflow
            value = float(m.group(1)) * SCALE[scale]
    if not math.isfinite(value):
        raise _err(f"number {token!r} is not finite", where)
    return value


def is_number(token: str) -> bool:
    """Whether ``token`` reads as a SPICE number (see :func:`parse_number`)."""
    return _NUMBER.match(token.lower()) is not None
