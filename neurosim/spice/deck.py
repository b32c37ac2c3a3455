"""First pass of the SPICE reader: includes, subcircuit definitions, models, parameters, directives.

The deck is turned into a :class:`Deck`: the top-level element statements, the ``.subckt``
definitions (bodies kept as statements, expanded later per instance), the ``.model`` cards, the
``.param`` statements in order, and the analysis directives. ``.include`` files are read relative to
the including file, with a depth limit and a guard against include cycles.
"""

from __future__ import annotations

import dataclasses
import os

from neurosim.errors import SpiceSyntaxError
from neurosim.spice.analysis import Op, Tran, parse_sweep
from neurosim.spice.lexer import Statement, parse_number, split_statements

__all__ = ["Deck", "Subckt", "ModelCard", "parse_deck", "MAX_INCLUDE_DEPTH", "MAX_INCLUDES"]

#: Deepest allowed nesting of ``.subckt`` definitions inside one another.
MAX_SUBCKT_NESTING = 64
#: Deepest allowed chain of nested ``.include`` files.
MAX_INCLUDE_DEPTH = 16
#: Most ``.include`` lines expanded in one deck (a file included repeatedly at several levels would
#: otherwise multiply without a cycle).
MAX_INCLUDES = 1000

# directives that only ask for output or set simulator controls: accepted and ignored
_IGNORED = {".save", ".print", ".plot", ".probe", ".width", ".meas", ".measure", ".four", ".nodeset"}


def _check_temperature(value: str, what: str, st: Statement) -> None:
    """A temperature (degC) must be a number above absolute zero."""
    t = parse_number(value, st)
    if not t > -273.15:
        raise st.error(f"{what} must be a temperature above -273.15 degC, got {t!r}")


@dataclasses.dataclass
class ModelCard:
    """A ``.model name type (key=value ...)`` card; values are unevaluated tokens."""

    name: str
    type: str
    params: dict
    where: Statement


@dataclasses.dataclass
class Subckt:
    """A ``.subckt name ports... [params: k=v ...]`` definition."""

    name: str
    ports: list
    defaults: dict  # parameter name -> unevaluated token
    body: list  # statements (elements and .param lines)
    where: Statement
    subckts: dict = dataclasses.field(default_factory=dict)  # definitions nested inside: visible only in here


@dataclasses.dataclass
class Deck:
    """Everything of a deck after the first pass."""

    title: str
    body: list  # top-level statements: elements and .param lines, in order
    subckts: dict
    models: dict
    analyses: list
    options: dict
    globals: set = dataclasses.field(default_factory=set)  # lower-case .global node names (not ground)


def _read_file(path: str, where: Statement | None) -> str:
    """A deck or included file's text: a regular file of bounded size (never a FIFO or a device),
    UTF-8 with or without a byte-order mark."""
    from neurosim.errors import ParameterError
    from neurosim.fileio import read_bytes

    try:
        data = read_bytes(path, owner="read_spice")
    except (ParameterError, ValueError) as exc:  # ValueError: embedded NUL in the name
        msg = str(exc).removeprefix("read_spice: ")
        raise (where.error(msg) if where else SpiceSyntaxError(msg, path, None)) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SpiceSyntaxError(f"not UTF-8 text (byte {exc.start})", path, line) from None


def _expand(text: str, path: str, base_dir: str, title: bool, stack: tuple, where: Statement | None,
            count: list | None = None):
    """Statements of ``text`` with ``.include`` lines replaced by the included statements and ``.lib file
    section`` lines by that section; ``.lib section`` ... ``.endl`` definitions are skipped."""
    head, statements = split_statements(text, path, title)
    count = [0] if count is None else count
    return head, _expand_statements(statements, path, base_dir, stack, count, top=title)[1]


def _expand_statements(statements: list, path: str, base_dir: str, stack: tuple, count: list,
                       lib_file: bool = False, top: bool = False):
    head = None
    out: list[Statement] = []
    skip = None  # name of the '.lib section' definition being skipped
    for st in statements:
        word = st.text.split(None, 1)[0].lower()
        if word in (".include", ".inc"):
            parts = st.text.split(None, 1)
            if len(parts) < 2:
                raise st.error(".include needs a file name")
            name = parts[1].strip().strip("'\"")
            if not name:
                raise st.error(".include needs a file name")
            if "\x00" in name:
                raise st.error(f"bad file name {name!r}")
            target = os.path.realpath(os.path.join(base_dir, os.path.expanduser(name)))
            if target in stack:
                raise st.error(f"include cycle: {name!r} is already being read")
            if skip is not None:
                continue
            if len(stack) >= MAX_INCLUDE_DEPTH:
                raise st.error(f".include nested deeper than {MAX_INCLUDE_DEPTH} files")
            count[0] += 1
            if count[0] > MAX_INCLUDES:
                raise st.error(f"more than {MAX_INCLUDES} .include lines expanded")
            sub = _read_file(target, st)
            _, inner = _expand(sub, target, os.path.dirname(target), False, stack + (target,), st, count)
            out.extend(inner)
        elif word == ".lib":
            parts = st.text.split()
            if len(parts) == 2:  # '.lib section' opens a section definition: skipped unless called by '.lib file section'
                if top:
                    raise st.error(f"'.lib {parts[1]}' defines a library section in the deck itself, which ngspice-39 "
                                   "refuses ('unimplemented control card'); put sections in a file read with "
                                   "'.lib file section'")
                if skip is not None:
                    raise st.error(f".lib {parts[1]} inside .lib section {skip!r} (not closed by .endl)")
                skip = parts[1].lower()
                continue
            if len(parts) != 3:
                raise st.error(".lib needs a file and a section name ('.lib file section') or opens a section "
                               "('.lib section' ... '.endl')")
            if skip is not None:
                continue
            name, section = parts[1].strip("'\""), parts[2].lower()
            if not name or "\x00" in name:
                raise st.error(f"bad file name {name!r}")
            target = os.path.realpath(os.path.join(base_dir, os.path.expanduser(name)))
            key = target + "\x00" + section
            if key in stack:
                raise st.error(f"library cycle: section {parts[2]!r} of {name!r} is already being read")
            if len(stack) >= MAX_INCLUDE_DEPTH:
                raise st.error(f".lib/.include nested deeper than {MAX_INCLUDE_DEPTH} files")
            count[0] += 1
            if count[0] > MAX_INCLUDES:
                raise st.error(f"more than {MAX_INCLUDES} .include/.lib lines expanded")
            out.extend(_lib_section(_read_file(target, st), target, section, stack + (key,), st, count))
        elif word == ".endl":
            if skip is None:
                raise st.error(".endl without a matching '.lib section'")
            skip = None
        elif skip is not None:
            continue
        else:
            out.append(st)
    if skip is not None and not lib_file:
        raise SpiceSyntaxError(f".lib section {skip!r} is not closed by .endl", path, None)
    return head, out


def _lib_section(text: str, path: str, section: str, stack: tuple, where: Statement, count: list) -> list:
    """Statements of section ``section`` of library file ``path`` (``.lib section`` ... ``.endl``), with
    its own ``.include`` and ``.lib file section`` lines expanded relative to ``path``, as ngspice."""
    _, statements = split_statements(text, path, False)
    body: list = []
    inside = found = False
    for st in statements:
        parts = st.text.split()
        word = parts[0].lower()
        if word == ".lib" and len(parts) == 2 and not inside:
            inside = found = parts[1].lower() == section
            continue
        if word == ".endl" and inside:
            break
        if inside:
            body.append(st)
    if not found:
        raise where.error(f".lib: section {section!r} not found in {path}")
    out: list = []
    base = os.path.dirname(path)
    for st in body:  # expand nested .include / .lib lines of the section (same rules as the deck)
        word = st.text.split(None, 1)[0].lower()
        if word in (".include", ".inc", ".lib"):
            out.extend(_expand_one(st, path, base, stack, count))
        else:
            out.append(st)
    return out


def _expand_one(st: Statement, path: str, base: str, stack: tuple, count: list) -> list:
    """One ``.include``/``.lib`` statement of a library section, expanded."""
    _, inner = _expand_statements([st], path, base, stack, count, lib_file=True)
    return inner


def _model(st: Statement) -> ModelCard:
    toks = st.tokens
    if len(toks) < 3:
        raise st.error(".model needs a name and a type, e.g. '.model dmod D (is=1e-14 n=1)'")
    name, mtype = toks[1], toks[2]
    rest = [t for t in toks[3:] if t not in "()"]
    return ModelCard(name, mtype, _pairs(rest, st, "model parameter"), st)


def _pairs(tokens: list, st: Statement, what: str) -> dict:
    """``k = v k = v`` token runs -> {k: v}."""
    out: dict = {}
    if len(tokens) % 3:
        raise st.error(f"expected {what}s as name=value, got {' '.join(tokens)!r}")
    for k in range(0, len(tokens), 3):
        key, eq, value = tokens[k : k + 3]
        if eq != "=" or not key.replace("_", "a").isalnum() or not key[0].isalpha() or value in "=()":
            raise st.error(f"expected {what}s as name=value, got {' '.join(tokens[k:k + 3])!r}")
        if key in out:
            raise st.error(f"{what} {key!r} given twice")
        out[key] = value
    return out


def _subckt_header(st: Statement) -> Subckt:
    toks = st.tokens
    if len(toks) < 2:
        raise st.error(".subckt needs a name")
    name = toks[1]
    rest = toks[2:]
    defaults: dict = {}
    if "params:" in rest:
        k = rest.index("params:")
        defaults = _pairs(rest[k + 1 :], st, "subcircuit parameter")
        rest = rest[:k]
    elif "=" in rest:  # ngspice also accepts name=value pairs without 'params:'
        k = rest.index("=") - 1
        defaults = _pairs(rest[k:], st, "subcircuit parameter")
        rest = rest[:k]
    for port in rest:
        if port in "()=":
            raise st.error(f"bad port list in .subckt {name}")
    if len(set(rest)) != len(rest):
        raise st.error(f".subckt {name} lists a port twice")
    return Subckt(name, rest, defaults, [], st)


def _analysis(st: Statement):
    toks = [t for t in st.tokens if t not in "()"]
    word = toks[0]
    try:
        if word == ".op":
            if len(toks) != 1:
                raise st.error(".op takes no arguments")
            return Op()
        if word == ".tran":
            uic = toks[-1] == "uic"
            nums = [parse_number(t, st) for t in toks[1 : len(toks) - uic]]
            if not 2 <= len(nums) <= 4:
                raise st.error(".tran needs tstep tstop [tstart [tmax]] [uic]")
            return Tran(nums[0], nums[1], nums[2] if len(nums) > 2 else 0.0, nums[3] if len(nums) > 3 else None, uic)
        return parse_sweep(toks, st)  # .dc and .ac
    except ValueError as exc:  # ParameterError from the analysis' own checks
        if isinstance(exc, SpiceSyntaxError):
            raise
        raise st.error(str(exc)) from None


def parse_deck(text: str, path: str = "<string>", base_dir: str = ".") -> Deck:
    """First pass over a deck (see module docstring).

    Parameters
    ----------
    text : str
        Deck text; its first line is the title.
    path : str
        Name used in error messages (the file name, or ``"<string>"``).
    base_dir : str
        Directory relative to which ``.include`` names are resolved.

    Returns
    -------
    Deck

    Raises
    ------
    SpiceSyntaxError
        Malformed directives, unbalanced ``.subckt``/``.ends``,
        include cycles or missing files, unsupported directives.

    Examples
    --------
    >>> d = parse_deck("t\\n.param r0=1k\\nR1 a 0 {r0}\\n.subckt cell p n\\nR1 p n 1\\n.ends\\n.op\\n.end")
    >>> [s.text for s in d.body], list(d.subckts), d.analyses
    (['.param r0=1k', 'R1 a 0 {r0}'], ['cell'], [Op()])
    """
    stack = (os.path.realpath(path),) if path != "<string>" else ()
    title, statements = _expand(text, path, base_dir, True, stack, None)
    deck = Deck(title, [], {}, {}, [], {})
    current: Subckt | None = None
    open_defs: list = []  # enclosing definitions of ``current``, outermost first
    for st in statements:
        word = st.text.split(None, 1)[0].lower()
        if not word.startswith("."):
            (current.body if current else deck.body).append(st)
            continue
        if word == ".end":
            break
        if word == ".subckt":  # a definition nested in another is local to it (ngspice's scoping)
            if len(open_defs) >= MAX_SUBCKT_NESTING:
                raise st.error(f".subckt definitions nested deeper than {MAX_SUBCKT_NESTING} levels")
            if current is not None:
                open_defs.append(current)
            current = _subckt_header(st)
            where = open_defs[-1].subckts if open_defs else deck.subckts
            if current.name in where:
                raise st.error(f".subckt {current.name} is defined twice")
        elif word == ".ends":
            if current is None:
                raise st.error(".ends without a matching .subckt")
            toks = st.tokens
            if len(toks) > 2 or (len(toks) == 2 and toks[1] != current.name):
                raise st.error(f".ends {' '.join(toks[1:])} does not close .subckt {current.name}")
            (open_defs[-1].subckts if open_defs else deck.subckts)[current.name] = current
            current = open_defs.pop() if open_defs else None
        elif word in (".param", ".params"):
            (current.body if current else deck.body).append(st)
        elif word == ".model":
            card = _model(st)
            if card.name in deck.models:
                raise st.error(f".model {card.name} is defined twice")
            deck.models[card.name] = card
        elif word in (".op", ".tran", ".dc", ".ac"):
            if current is not None:
                raise st.error(f"{word} inside .subckt {current.name}")
            deck.analyses.append(_analysis(st))
        elif word in (".option", ".options", ".opt"):
            toks = st.tokens[1:]
            k = 0
            while k < len(toks):  # flags (e.g. 'klu') or key=value
                if k + 1 < len(toks) and toks[k + 1] == "=":
                    if k + 2 >= len(toks):
                        raise st.error(f"option {toks[k]!r} has no value")
                    if toks[k] in ("temp", "tnom"):
                        _check_temperature(toks[k + 2], toks[k], st)
                    elif toks[k] == "gmin" and not parse_number(toks[k + 2], st) >= 0:
                        raise st.error(f"gmin must be >= 0 S, got {toks[k + 2]!r}")
                    deck.options[toks[k]] = toks[k + 2]
                    k += 3
                else:
                    deck.options[toks[k]] = True
                    k += 1
        elif word == ".temp":
            toks = st.tokens
            if len(toks) != 2:
                raise st.error(".temp needs one temperature (degC)")
            _check_temperature(toks[1], ".temp", st)
            deck.options["temp"] = toks[1]  # as ngspice: .temp sets the circuit temperature
        elif word == ".title":
            deck.title = st.text.split(None, 1)[1] if len(st.text.split(None, 1)) > 1 else ""
        elif word == ".global":  # nodes shared by every subcircuit instance (not prefixed when flattened)
            for tok in st.tokens[1:]:
                if tok in "()=" or tok.startswith("{"):
                    raise st.error(f".global: bad node name {tok!r}")
                if tok not in ("0", "gnd"):
                    deck.globals.add(tok)
        elif word in _IGNORED:
            continue
        else:
            raise st.error(f"unsupported directive {word!r}")
    if current is not None:
        raise current.where.error(f".subckt {current.name} is not closed by .ends")
    return deck
