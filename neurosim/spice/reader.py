"""Read a SPICE deck (the common subset) into a :class:`~neurosim.netlist.Netlist`.

Two passes: :func:`neurosim.spice.deck.parse_deck` collects includes, ``.subckt`` definitions,
``.model`` cards, ``.param`` lines and analyses; then the element lines are added to a netlist,
subcircuit instances flattened with hierarchical names (``X1.R1``, internal node ``X1.n1``, the
netlist's own convention) and their parameters evaluated per instance. Names keep the case of their
first appearance, but compare case-insensitively as in SPICE (``R1`` and ``r1`` are duplicates,
nodes ``OUT`` and ``out`` are one node; ``gnd`` is ground).

Nothing is executed: expressions go through :func:`neurosim.spice.expr.evaluate`. Recursion is
bounded: include depth, subcircuit nesting depth, instantiation cycles and the total number of
elements after flattening are all checked before any work is done.
"""

from __future__ import annotations

import dataclasses
import os
import re

import numpy as np

from neurosim.errors import SpiceSyntaxError
from neurosim.params import Param, check_params
from neurosim.spice.deck import Deck, parse_deck
from neurosim.spice.analysis import Tran
from neurosim.spice.elements import CIRCUIT, TRAN_TIMES, add_element, value_of
from neurosim.spice.lexer import parse_number
from neurosim.spice.expr import evaluate
from neurosim.spice.lexer import Statement, tokenize

__all__ = ["read_spice", "SpiceDeck", "MAX_ELEMENTS", "MAX_SUBCKT_DEPTH"]

#: Largest number of elements a deck may expand to (guards against exponential subcircuit nesting).
MAX_ELEMENTS = 2_000_000
#: Deepest allowed chain of subcircuit instances.
MAX_SUBCKT_DEPTH = 64

_IDENT = re.compile(r"[a-z_][a-z0-9_]*\Z")
_ASSIGN = re.compile(r"(?<![=!<>])=(?!=)")


@dataclasses.dataclass
class SpiceDeck:
    """A deck read by :func:`read_spice`.

    Attributes
    ----------
    title : str
        The first line of the deck.
    netlist : Netlist
        The circuit (subcircuits flattened).
    analyses : list of Op, Tran, DCSweep
        The analysis lines, in order.
    options : dict
        ``.options`` (lower-case names; values as text, flags as ``True``).
    params : dict
        Top-level ``.param`` values.
    """

    title: str
    netlist: object
    analyses: list
    options: dict
    params: dict

    @property
    def analysis(self):
        """The first analysis, or ``None``."""
        return self.analyses[0] if self.analyses else None


def _param_assignments(st: Statement) -> list[tuple[str, str]]:
    """``.param a=1 b={a*2} c = 'b+1'`` -> [(name, expression text), ...] (expressions contain no '=')."""
    parts = st.text.split(None, 1)
    if len(parts) < 2 or "=" not in parts[1]:
        raise st.error(".param needs name=value assignments")
    pieces = _ASSIGN.split(parts[1])  # '=' of an assignment, not of '==', '!=', '<=', '>='
    if len(pieces) < 2:
        raise st.error(".param needs name=value assignments")
    out = []
    name = pieces[0].strip()
    for k, piece in enumerate(pieces[1:], start=1):
        last = k == len(pieces) - 1
        if last:
            expr, nxt = piece.strip(), None
        else:
            words = piece.rsplit(None, 1)
            if len(words) < 2:
                raise st.error(f".param: cannot split {piece.strip()!r} into a value and the next name")
            expr, nxt = words[0].strip(), words[1].strip()
        if not _IDENT.match(name.lower()):
            raise st.error(f".param: bad parameter name {name!r}")
        if expr[:1] == "'" and expr[-1:] == "'" and len(expr) > 1:
            expr = expr[1:-1]
        if not expr:
            raise st.error(f".param {name} has no value")
        out.append((name.lower(), expr))
        name = nxt
    return out


class _Flattener:
    def __init__(self, deck: Deck, net, max_elements: int):
        self.deck = deck
        self.net = net
        self.nodes: dict[str, str] = {"0": "0", "gnd": "0"}
        self.names: dict[str, Statement] = {}
        self.max_elements = max_elements
        self._sizes: dict[str, int] = {}
        self.deck_params: dict = {}  # top-level .param values, visible inside every subcircuit

    # ---------------------------------------------------------------- size check (no recursion blow-up)
    def _instance_target(self, st: Statement) -> tuple[list, str, list]:
        toks = tokenize(st.text, st)
        # ngspice's optional 'params:' keyword before the overrides ('params: r=2k' or 'params:r=2k')
        for k, tok in enumerate(toks):
            if k >= 2 and tok.lower().startswith("params:"):
                toks = toks[:k] + ([tok[7:]] if tok[7:] else []) + toks[k + 1 :]
                if k >= len(toks):  # 'params:' with nothing after it: the subcircuit name precedes it
                    return toks[1 : k - 1], toks[k - 1].lower(), []
                break
        eq = toks.index("=") if "=" in toks else len(toks) + 1
        last = eq - 2 if eq <= len(toks) else len(toks) - 1  # subckt name precedes the first k=v
        if last < 1:
            raise st.error("X line needs: Xname node ... subckt [param=value ...]")
        return toks[1:last], toks[last].lower(), toks[last + 1 :]

    def lookup(self, name: str, defs: tuple, st: Statement):
        """The definition ``name`` visible here: the innermost enclosing ``.subckt`` first (ngspice's
        scoping of nested definitions), the deck's top-level ones last."""
        for k, d in enumerate(defs):
            if name in d:
                return d[name], (d[name].subckts,) + defs[k:], k  # its body sees the scope it was defined in
        raise st.error(f"unknown subcircuit {name!r}")

    def size(self, body: list, chain: tuple, defs: tuple = None, chain_defs: tuple = ()) -> int:
        defs = (self.deck.subckts,) if defs is None else defs
        total = 0
        for st in body:
            word = st.text[:1].lower()
            if word == ".":
                continue
            if word != "x":
                total += 1
                if total > self.max_elements:
                    raise st.error(f"the deck expands to more than {self.max_elements} elements and instances")
                continue
            _, sub, _ = self._instance_target(st)
            found, inner_defs, _ = self.lookup(sub, defs, st)
            if id(found) in [id(d) for d in chain_defs]:
                raise st.error(f"subcircuit {sub!r} instantiates itself: {' -> '.join(chain + (sub,))}")
            if len(chain) >= MAX_SUBCKT_DEPTH:
                raise st.error(f"subcircuits nested deeper than {MAX_SUBCKT_DEPTH} levels")
            if id(found) not in self._sizes:
                self._sizes[id(found)] = self.size(found.body, chain + (sub,), inner_defs,
                                                   chain_defs + (found,))
            total += 1 + self._sizes[id(found)]  # the instance itself counts: empty subcircuits can nest too
            if total > self.max_elements:
                raise st.error(f"the deck expands to more than {self.max_elements} elements and instances")
        return total

    # ---------------------------------------------------------------- flattening
    def node(self, token: str, prefix: str, ports: dict) -> str:
        low = token.lower()
        if low in ("0", "gnd"):
            return "0"
        if prefix and low in ports:
            return ports[low]
        if low in self.deck.globals:  # .global node: one node everywhere, named as at top level
            return self.nodes.setdefault(low, token)
        full = prefix + token
        return self.nodes.setdefault(prefix.lower() + low, full)

    def run(self, body: list, scope: dict, prefix: str, ports: dict, defs: tuple = None,
            scopes: tuple = None) -> None:
        defs = (self.deck.subckts,) if defs is None else defs
        scope = dict(scope)
        # parameters seen by the definitions of each level of ``defs``: this body's own (filled in as its
        # .param lines are read) for its local definitions, the enclosing instances' for outer ones
        scopes = (scope,) + (scopes[1:] if scopes else ()) if len(defs) > 1 else (self.deck_params,)
        for st in body:
            if st.text[:1] == ".":  # .param (the only directive kept in bodies)
                for name, expr in _param_assignments(st):
                    scope[name] = evaluate(expr, scope, st)
                continue
            toks = tokenize(st.text, st)
            if not toks or toks[0] in "()=":
                raise st.error(f"cannot read {st.text!r} as an element line")
            name = prefix + toks[0]
            low = name.lower()
            if low in self.names:
                first = self.names[low]
                raise st.error(f"duplicate element name {name!r} (first defined at {first.path}:{first.line})")
            self.names[low] = st
            if toks[0][:1].lower() == "x":
                self.instance(st, name, scope, prefix, ports, defs, scopes)
                continue

            def node(tok, _p=prefix, _ports=ports):
                return self.node(tok, _p, _ports)

            try:
                add_element(self.net, toks, name, node, scope, self.deck.models, st)
            except SpiceSyntaxError:
                raise
            except ValueError as exc:  # ParameterError / NetlistError from the netlist: add the line
                raise st.error(str(exc)) from None

    def instance(self, st: Statement, name: str, scope: dict, prefix: str, ports: dict, defs: tuple,
                 scopes: tuple) -> None:
        nodes, sub_name, rest = self._instance_target(st)
        sub, inner_defs, level = self.lookup(sub_name, defs, st)
        if len(nodes) != len(sub.ports):
            raise st.error(f"subcircuit {sub_name!r} has {len(sub.ports)} ports {sub.ports}, got {len(nodes)} nodes")
        overrides: dict = {}
        if len(rest) % 3 or any(rest[k + 1] != "=" for k in range(0, len(rest), 3)):
            raise st.error(f"expected param=value after the subcircuit name, got {' '.join(rest)!r}")
        for k in range(0, len(rest), 3):
            key = rest[k].lower()
            if key not in sub.defaults:
                raise st.error(f"subcircuit {sub_name!r} has no parameter {rest[k]!r} (has {sorted(sub.defaults)})")
            overrides[key] = value_of(rest[k + 2], scope, st)
        inner = {p: self.node(tok, prefix, ports) for p, tok in zip(sub.ports, nodes)}
        # parameters: those where the definition stands (the deck's .param for a top-level one, the enclosing
        # instance's for a nested one, as ngspice), then the definition's defaults (in order), then overrides
        sub_scope = dict(scopes[level] if level < len(scopes) else self.deck_params)
        for key, expr in sub.defaults.items():
            sub_scope[key] = overrides[key] if key in overrides else value_of(expr, sub_scope, sub.where)
        self.run(sub.body, sub_scope, name + ".", inner, inner_defs, (None,) + scopes[level:])


def _resolve_controls(net, statements: dict) -> None:
    """Point every F/H element at its controlling source, matched case-insensitively as in SPICE.

    Raises
    ------
    SpiceSyntaxError
        At the F/H line whose controlling source does not exist or has no branch current.
    """
    from neurosim.netlist.elements import CONTROL_KINDS, CONTROLLED_BY_CURRENT

    groups = net.groups
    if not any(g.kind in CONTROLLED_BY_CURRENT for g in groups):
        return
    kind_of = {s.lower(): (s, g.kind) for g in groups for s in g.names.tolist()}
    for g in groups:
        if g.kind not in CONTROLLED_BY_CURRENT:
            continue
        fixed = []
        for el, ctl in zip(g.names.tolist(), g.controls.tolist()):
            actual, kind = kind_of.get(ctl.lower(), (None, None))
            if kind not in CONTROL_KINDS:
                st = statements[el.lower()]
                what = "does not exist" if kind is None else f"is a {kind}, not a voltage source"
                raise st.error(f"controlling source {ctl.rsplit('.', 1)[-1]!r} of {el} {what} (F and H elements "
                               "need a V source, E or H element, as in ngspice)")
            fixed.append(actual)
        g.controls = np.array(fixed)


def _resolve_sweep(net, analysis):
    """A ``.dc`` sweep with its source names spelled as in the netlist (SPICE names are
    case-insensitive); an unknown or non-independent source is refused at the ``.dc`` line."""
    from neurosim.spice.analysis import DCSweep

    if not isinstance(analysis, DCSweep):
        return analysis
    sources = {s.lower(): s for g in net.groups if g.kind in ("vsource", "isource") for s in g.names.tolist()}
    names = {}
    for field in ("source", "source2"):
        name = getattr(analysis, field)
        if name is None:
            continue
        if name.lower() not in sources:
            err = f".dc: {name!r} is not an independent voltage or current source of the deck"
            raise analysis.where.error(err) if analysis.where is not None else SpiceSyntaxError(err)
        names[field] = sources[name.lower()]
    return dataclasses.replace(analysis, **names)


def _source_text(source) -> tuple[str, str, str]:
    """(text, path for messages, directory for includes)."""
    if isinstance(source, os.PathLike) or (isinstance(source, str) and "\n" not in source and source.strip()):
        path = os.fspath(source)
        from neurosim.spice.deck import _read_file

        return _read_file(path, None), path, os.path.dirname(os.path.abspath(path))
    if isinstance(source, str):
        return source, "<string>", os.getcwd()
    raise SpiceSyntaxError(f"read_spice: expected a file path or deck text, got {type(source).__name__}")


def _circuit_settings(deck) -> tuple[float, float, float]:
    """(temp K, tnom K, gmin S) from the deck's ``.options``/``.temp`` (ngspice's defaults otherwise)."""
    out = []
    for key, default in (("temp", 27.0), ("tnom", 27.0), ("gmin", 1e-12)):
        v = deck.options.get(key, default)
        v = parse_number(v, None) if isinstance(v, str) else float(v)
        out.append(v + 273.15 if key != "gmin" else v)
    return tuple(out)


def read_spice(source, *, max_elements: int = MAX_ELEMENTS) -> SpiceDeck:
    """Read a SPICE deck into a netlist plus its analysis directives.

    Supported: elements R, C, L, V, I (DC, AC, PWL, PULSE, SIN), E, G, F, H, D (``.model ... D``),
    X with ``.subckt``/``.ends`` (ports, ``params:``), ``.param`` expressions, ``.include``
    (relative to the including file), ``.model``, ``.op``, ``.tran``, ``.dc`` (one source or a
    nested pair), ``.ac`` (dec/oct/lin), ``.options``, ``.end``; numbers with
    unit suffixes (``10k``, ``1meg``, ``5uF``). Output directives (``.save``, ``.print``, ...) are
    ignored. The first line is the title.

    .. math:: \\text{deck text} \\;\\to\\; (\\text{Netlist}, [\\text{analyses}])

    Parameters
    ----------
    source : str or os.PathLike
        A file path, or the deck text itself (any string containing a newline).
    max_elements : int
        Refuse decks that expand to more elements plus subcircuit instances than this (nesting
        multiplies them).

    Returns
    -------
    SpiceDeck
        ``.netlist``, ``.analyses``, ``.title``, ``.options``, ``.params``.

    Raises
    ------
    SpiceSyntaxError
        Anything malformed or unsupported, located as ``file:line`` (a :class:`NetlistError`,
        also for semantic problems such as duplicate names or bad values).
    ParameterError
        ``max_elements`` is not an integer >= 1.

    Examples
    --------
    >>> deck = read_spice('''divider
    ... .param rtop=1k
    ... V1 in 0 DC 1
    ... R1 in out {rtop}
    ... R2 out 0 3k ; load
    ... .op
    ... .end''')
    >>> deck.netlist.element("R2")["params"], deck.analyses
    ({'resistance': 3000.0}, [Op()])
    """
    from neurosim.netlist import Netlist

    check_params("read_spice", {"max_elements": Param("int", low=1)}, {"max_elements": max_elements})
    text, path, base = _source_text(source)
    deck = parse_deck(text, path, base)
    net = Netlist(deck.title)
    flat = _Flattener(deck, net, max_elements)
    # top-level parameters first (SPICE evaluates .param before elements, in order)
    params: dict = {}
    for st in deck.body:
        if st.text[:1] == ".":
            for name, expr in _param_assignments(st):
                params[name] = evaluate(expr, params, st)
    flat.deck_params = params
    top = [st for st in deck.body if st.text[:1] != "."]
    flat.size(top, ())
    tran = next((a for a in deck.analyses if isinstance(a, Tran)), None)
    token = TRAN_TIMES.set((tran.tstep, tran.tstop) if tran is not None else None)
    token_c = CIRCUIT.set(_circuit_settings(deck))
    try:
        flat.run(top, params, "", {})
    finally:
        TRAN_TIMES.reset(token)
        CIRCUIT.reset(token_c)
    _resolve_controls(net, flat.names)
    analyses = [_resolve_sweep(net, a) for a in deck.analyses]
    return SpiceDeck(deck.title, net, analyses, deck.options, params)

