"""Second pass of the SPICE reader: one element line -> one netlist add.

Each parser takes the raw tokens of an element line (original case), the parameter scope and a
node-name mapper, and calls the matching ``add_*`` of the netlist. Supported lines (values may be
numbers with suffixes, ``{expressions}``, ``'expressions'`` or parameter names):

=====  ======================================================================================
R      ``Rname n1 n2 value`` or ``Rname n1 n2 R=value``; a negative value is a VCCS on the element's own
       terminals (``gain = 1/R``), zero becomes 1 mOhm (as ngspice-39)
C      ``Cname n1 n2 value [IC=v]`` or ``Cname n1 n2 C=value [IC=v]`` (likewise ``L=`` for L)
V, I   ``Vname n+ n- [[DC] value] [AC mag [phase]] [PWL(t v ...) | PULSE(v1 v2 [td [tr [tf [pw [per]]]]])
       | SIN(vo va freq [td [theta [phase [ignored]]]])]`` and, on V sources only (as ngspice-39),
       ``PWL(...) [TD=delay] [R=repeat-time]``; without a DC value the time-0 value is used (as
       ngspice does); ``AC mag [phase]`` (phase in degree) drives ``.ac``
E      ``Ename n+ n- nc+ nc- gain``
G      ``Gname n+ n- nc+ nc- transconductance`` (current n+ -> n- through the source)
L      ``Lname n1 n2 value [IC=i]``
F      ``Fname n+ n- vcontrol gain`` (current gain times the branch current of ``vcontrol``)
H      ``Hname n+ n- vcontrol transresistance``
D      ``Dname anode cathode model [area] [area=a] [m=k] [temp=T] [dtemp=dT]`` with
       ``.model model D (IS N RS BV IBV NBV CJO VJ M FC TT EG XTI TNOM LEVEL=1 ...)`` (ngspice-39's
       aliases too); ``area`` times ``m`` scales IS and CJO up and RS down, ``m`` scales IBV; the
       circuit's ``.options temp/tnom/gmin`` and ``.temp`` apply
B      only the smooth switch written by :func:`neurosim.spice.write_spice`
=====  ======================================================================================
"""

from __future__ import annotations

import contextvars
import math
import re

import numpy as np

from neurosim.errors import ParameterError
from neurosim.spice.expr import evaluate
from neurosim.spice.lexer import Statement, is_number, parse_number

__all__ = ["value_of", "add_element", "ELEMENT_LETTERS"]

ELEMENT_LETTERS = "rcviedglfh"

#: What a zero resistance becomes (ohm), as in ngspice-39 (``R1 a b 0`` is read as 1 mOhm).
ZERO_RESISTANCE = 1e-3
#: Largest number of corners a repeating PWL (``R=``) is unrolled to over the ``.tran`` run.
MAX_PWL_POINTS = 1_000_000

# unambiguous (no \d+\.?\d* split points), so a failing match on a long line stays linear
_NUM = r"([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?)"
_SWITCH = re.compile(
    r"i\s*=\s*v\(\s*([^,\s()]+)\s*,\s*([^,\s()]+)\s*\)\s*\*\s*\(\s*" + _NUM + r"\s*\+\s*\(\s*" + _NUM + r"\s*-\s*"
    + _NUM + r"\s*\)\s*/\s*\(\s*1\s*\+\s*exp\(\s*-\s*\(\s*v\(\s*([^,\s()]+)\s*,\s*([^,\s()]+)\s*\)\s*-\s*\(\s*"
    + _NUM + r"\s*\)\s*\)\s*/\s*" + _NUM + r"\s*\)\s*\)\s*\)\s*\Z"
)


def value_of(token: str, scope: dict, st: Statement) -> float:
    """Number, ``{expression}`` or parameter name -> float (see :func:`neurosim.spice.expr.evaluate`)."""
    if token.startswith("{"):
        return evaluate(token, scope, st)
    if is_number(token):
        return parse_number(token, st)
    low = token.lower()
    if low in scope:
        return float(scope[low])
    raise st.error(f"expected a number, expression or parameter, got {token!r}")


def _need(toks: list, n: int, usage: str, st: Statement) -> None:
    if len(toks) < n:
        raise st.error(f"too few fields; expected {usage}")


def _no_extra(toks: list, start: int, st: Statement) -> None:
    if len(toks) > start:
        raise st.error(f"unexpected {' '.join(toks[start:])!r} at the end of the line")


def _keyword(toks: list, start: int, allowed: tuple, scope: dict, st: Statement) -> dict:
    """``key = value`` fields from ``toks[start:]``; only ``allowed`` keys."""
    out: dict = {}
    k = start
    while k < len(toks):
        key = toks[k].lower()
        if key not in allowed:
            raise st.error(f"unexpected {toks[k]!r}; allowed here: {', '.join(a + '=' for a in allowed)}")
        if k + 2 >= len(toks) or toks[k + 1] != "=":
            raise st.error(f"{toks[k]} needs '= value'")
        if key in out:
            raise st.error(f"{toks[k]} given twice")
        out[key] = value_of(toks[k + 2], scope, st)
        k += 3
    return out


def _source(toks: list, scope: dict, st: Statement):
    """(dc value, waveform or None) from the fields after the two nodes."""
    from neurosim.netlist.waveforms import PWL, Pulse, Sine

    dc = None
    wave = None
    last_wave = None
    pwl_kw: dict = {}
    k = 3
    while k < len(toks):
        word = toks[k].lower()
        if word == "dc":
            if k + 1 >= len(toks):
                raise st.error("DC needs a value")
            if dc is not None:
                raise st.error("DC value given twice")
            dc = value_of(toks[k + 1], scope, st)
            k += 2
        elif word == "ac":  # small-signal spec: irrelevant to .op/.tran, accepted and ignored
            k += 1
            for _ in range(2):
                if k < len(toks) and toks[k] not in "()" and (is_number(toks[k]) or toks[k].startswith("{")):
                    k += 1
        elif word in ("pwl", "pulse", "sin", "exp"):
            if wave is not None:
                raise st.error("more than one waveform on one source")
            k += 1
            args = []
            if k < len(toks) and toks[k] == "(":
                end = k + 1
                while end < len(toks) and toks[end] != ")":
                    end += 1
                if end >= len(toks):
                    raise st.error(f"{word.upper()}( is not closed by ')'")
                args = [value_of(t, scope, st) for t in toks[k + 1 : end]]
                k = end + 1
            else:
                while k < len(toks) and toks[k].lower() not in ("dc", "ac", "pwl", "pulse", "sin", "exp"):
                    args.append(value_of(toks[k], scope, st))
                    k += 1
            wave = _waveform(word, args, st, PWL, Pulse, Sine)
            last_wave = word
        elif word in ("td", "r") and last_wave == "pwl" and k + 2 < len(toks) and toks[k + 1] == "=":
            if word in pwl_kw:
                raise st.error(f"PWL {word.upper()}= given twice")
            if toks[0][:1].lower() == "i":
                raise st.error(f"PWL {word.upper()}= on a current source: ngspice-39 takes TD= and R= on V sources "
                               "only (it refuses this line with 'unknown parameter')")
            pwl_kw[word] = value_of(toks[k + 2], scope, st)
            k += 3
        elif dc is None and wave is None and k == 3:
            dc = value_of(toks[k], scope, st)
            k += 1
        else:
            raise st.error(f"unexpected {toks[k]!r} in a source specification")
    if pwl_kw:
        wave = _pwl_delay_repeat(wave, pwl_kw.get("td", 0.0), pwl_kw.get("r"), st, PWL)
    if dc is None:
        dc = float(wave.value(0.0)) if wave is not None else 0.0
    return dc, wave


def _pwl_delay_repeat(wave, td: float, r, st: Statement, PWL):
    """ngspice's ``PWL(...) TD=td R=r``: all corners shifted by ``td``; with ``R=r`` the part from the
    corner at time ``r`` to the last corner repeats for ever (period ``t_last - r``), unrolled here
    over the deck's ``.tran`` run (checked against ngspice-39: each repeat jumps back to the value at
    ``r``)."""
    times, values = wave.times, wave.values
    if not math.isfinite(td) or td < 0:
        raise st.error(f"PWL TD= must be a finite delay >= 0 s, got {td!r}")
    if r is not None:
        hit = [j for j in range(times.size) if times[j] == r]
        if not hit:
            raise st.error(f"PWL R={r!r} must be one of the PWL's corner times {times.tolist()[:8]}")
        j0 = hit[-1] if r < times[-1] else times.size - 1
        period = times[-1] - r
        tran = TRAN_TIMES.get()
        if period > 0 and tran is not None:
            n = max(0, math.ceil((tran[1] - td - times[-1]) / period)) + 1  # one beyond TSTOP: a jump at TSTOP is a corner
            seg_t, seg_v = times[j0:], values[j0:]
            if (n * seg_t.size + times.size) > MAX_PWL_POINTS:
                raise st.error(f"PWL R= repeats more than {MAX_PWL_POINTS} corners over the .tran run")
            ts, vs = [times], [values]
            for c in range(1, n + 1):
                t_c, v_c = ts[-1][-1] + (seg_t - r), seg_v
                t_c[0] = ts[-1][-1]  # each repeat starts exactly at the previous end (a step, no rounding gap)
                if v_c[0] == vs[-1][-1]:  # no jump back: drop the repeated corner
                    t_c, v_c = t_c[1:], v_c[1:]
                ts.append(t_c)
                vs.append(v_c)
            times, values = np.maximum.accumulate(np.concatenate(ts)), np.concatenate(vs)
    return PWL(times + td, values)


#: (tstep, tstop) of the deck's ``.tran`` while a deck is read (ngspice's PULSE defaults), else None
TRAN_TIMES: contextvars.ContextVar = contextvars.ContextVar("TRAN_TIMES", default=None)
#: (temp K, tnom K, gmin S) of the deck being read: ``.options temp= tnom= gmin=`` / ``.temp``
#: (ngspice's defaults 27 degC, 27 degC, 1e-12 S)
CIRCUIT: contextvars.ContextVar = contextvars.ContextVar("CIRCUIT", default=(300.15, 300.15, 1e-12))

# diode .model parameters: SPICE name (and ngspice's aliases) -> netlist parameter
_DIODE_MODEL = {"is": "i_s", "js": "i_s", "n": "n", "rs": "r_s", "bv": "bv", "ibv": "ibv", "ib": "ibv", "nbv": "nbv",
                "cjo": "cjo", "cj0": "cjo", "cj": "cjo", "vj": "vj", "pb": "vj", "m": "m", "mj": "m", "fc": "fc",
                "tt": "tt", "eg": "eg", "xti": "xti", "tnom": "tnom", "tref": "tnom"}
# accepted and without effect on DC, AC and transient results (noise coefficients)
_DIODE_IGNORED = ("kf", "af")


_B_FORM = re.compile(r"^\s*([iv])\s*=\s*(.+?)\s*$", re.IGNORECASE | re.DOTALL)


def _add_bsource(net, toks, name, node, scope, st) -> None:
    """``Bname n+ n- I=expr`` or ``V=expr`` (braces optional). The smooth-switch form that
    write_spice writes for the 1T1R switch is read back as that switch (the same function)."""
    from neurosim.spice.expr import Expression

    fields = st.text.split(None, 3)
    if len(fields) < 4:
        raise st.error("B source needs: Bname n+ n- I=expression (or V=expression)")
    m = _SWITCH.match("".join(fields[3].lower().split()))
    if m is not None:
        a, b, gf, gn, gf2, c, d, vt, vw = m.groups()
        gf, gn, gf2, vt, vw = (parse_number(x, st) for x in (gf, gn, gf2, vt, vw))
        if gf == gf2 and node(a) == node(toks[1]) and node(b) == node(toks[2]) and gf > 0 and gn > 0:
            net.add_switch(name, node(toks[1]), node(toks[2]), node(c), node(d), 1.0 / gn, 1.0 / gf, vt, vw)
            return
    form = _B_FORM.match(fields[3])
    if form is None:
        raise st.error(f"B source needs I=expression or V=expression after its nodes, got {fields[3]!r}")
    expr = Expression.parse(form.group(2), scope, st)
    # inside a subcircuit instance: local node names and element names as flattened
    prefix = name[: len(name) - len(toks[0])]
    refs = [("v", node(r[1]), node(r[2])) if r[0] == "v" else ("i", prefix + r[1]) if r[0] == "i" else r
            for r in expr.refs]
    expr = Expression(expr.tree, refs, expr.text)
    kw = {"current": expr} if form.group(1).lower() == "i" else {"voltage": expr}
    net.add_bsource(name, node(toks[1]), node(toks[2]), **kw)


def _add_diode(net, toks, name, node, scope, models, st) -> None:
    """``Dname anode cathode model [area] [area=a] [m=k] [temp=T] [dtemp=dT]`` (SPICE level 1)."""
    _need(toks, 4, "Dname anode cathode model [area=a] [m=k] [temp=degC] [dtemp=degC]", st)
    card = models.get(toks[3].lower())
    if card is None:
        raise st.error(f"unknown diode model {toks[3]!r}")
    if card.type != "d":
        raise st.error(f"model {toks[3]!r} is of type {card.type!r}, not a diode (D)")
    params = {k: value_of(v, scope, card.where) for k, v in card.params.items()}
    level = params.pop("level", 1.0)
    if level != 1:
        raise card.where.error(f"diode model level {level:g} is not supported (only level=1, the SPICE diode)")
    model_area = params.pop("area", 1.0)
    for k in _DIODE_IGNORED:
        params.pop(k, None)
    unknown = sorted(set(params) - set(_DIODE_MODEL))
    if unknown:
        raise card.where.error(f"diode model parameter(s) {unknown} not supported "
                               f"(supported: {', '.join(sorted(_DIODE_MODEL))}, level=1, area, kf, af)")
    values: dict = {}
    for k, v in params.items():
        if _DIODE_MODEL[k] in values:
            raise card.where.error(f"diode model parameter {k!r} given twice (under two of its names)")
        values[_DIODE_MODEL[k]] = v
    if len(toks) > 4 and toks[4] not in ("=",) and (len(toks) == 5 or toks[5] != "="):
        inst = {"area": value_of(toks[4], scope, st), **_keyword(toks, 5, ("m", "temp", "dtemp"), scope, st)}
    else:
        inst = _keyword(toks, 4, ("area", "m", "temp", "dtemp"), scope, st)
    area, mult = inst.get("area", model_area), inst.get("m", 1.0)
    for key, v in (("area", area), ("m", mult)):
        if not v > 0:
            raise st.error(f"diode {key} must be > 0, got {v!r}")
    temp, tnom, gmin = CIRCUIT.get()
    if "temp" in inst:
        temp = inst["temp"] + 273.15
    temp += inst.get("dtemp", 0.0)
    if "tnom" in values:
        values["tnom"] += 273.15
    # ngspice-39 level 1: area (times m) scales IS, CJO and 1/RS; m alone scales IBV
    scale = area * mult
    values["i_s"] = values.get("i_s", 1e-14) * scale
    values["r_s"] = values.get("r_s", 0.0) / scale
    if "cjo" in values:
        values["cjo"] *= scale
    if "ibv" in values or mult != 1.0:
        values["ibv"] = values.get("ibv", 1e-3) * mult
    try:
        net.add_diode(name, node(toks[1]), node(toks[2]), temp=temp, tnom=values.pop("tnom", tnom), g_min=gmin, **values)
    except ParameterError as exc:
        raise card.where.error(f"diode {name} (model {toks[3]}): {exc}") from None


def _pulse_args(args: list, st: Statement) -> list:
    """ngspice's PULSE defaults: tr, tf omitted or 0 -> TSTEP; pw omitted or 0 -> TSTOP; per omitted or
    0 -> TSTOP (no repetition inside the run, ``None`` here)."""
    if not 2 <= len(args) <= 7:
        raise st.error(f"PULSE needs v1 v2 [td [tr [tf [pw [per]]]]] (2 to 7 numbers), got {len(args)}")
    args = list(args) + [0.0] * (7 - len(args))
    tran = TRAN_TIMES.get()
    tstep, tstop = tran if tran is not None else (None, None)
    for k in (3, 4):
        if args[k] == 0.0:
            if tstep is None:  # no .tran: only the DC value (v1 at t <= 0) matters; any edge will do
                tstep = 1.0
            args[k] = tstep
    if args[5] == 0.0:
        args[5] = tstop if tstop is not None else 1.0
    if args[6] == 0.0:
        args[6] = None  # per = TSTOP: ngspice repeats only when t - td > per, never inside the run
    if args[2] < 0:
        raise st.error(f"PULSE with a negative delay td = {args[2]!r} s is not supported")
    return args


def _waveform(word, args, st, PWL, Pulse, Sine):
    if word == "pwl":
        if not args or len(args) % 2:
            raise st.error(f"PWL needs time-value pairs, got {len(args)} numbers")
        return PWL(args[0::2], args[1::2])
    if word == "pulse":
        return Pulse(*_pulse_args(args, st))
    if word == "exp":
        from neurosim.netlist.waveforms import Exp

        if not 2 <= len(args) <= 6:
            raise st.error(f"EXP needs v1 v2 [td1 [tau1 [td2 [tau2]]]] (2 to 6 numbers), got {len(args)}")
        tran = TRAN_TIMES.get()
        tstep = tran[0] if tran is not None else 1.0
        a = list(args) + [None] * (6 - len(args))
        td1 = a[2] or 0.0
        tau1 = a[3] or tstep  # ngspice: tau1 = TSTEP, td2 = td1 + TSTEP, tau2 = TSTEP when omitted or 0
        td2 = a[4] or td1 + tstep
        tau2 = a[5] or tstep
        return Exp(a[0], a[1], td1, tau1, td2, tau2)
    if not 3 <= len(args) <= 7:
        raise st.error(f"SIN needs vo va freq [td [theta [phase]]] (3 to 6 numbers, a 7th is ignored as by "
                       f"ngspice-39), got {len(args)}")
    return Sine(*args[:6])


def _ac_spec(toks: list, scope: dict, st: Statement):
    """``(magnitude, phase in degree)`` of a source's ``AC mag [phase]`` field, or ``(None, None)``.

    Reads the same tokens that :func:`_source` skips (a bare ``AC`` means magnitude 1, as in ngspice).
    """
    for k in range(3, len(toks)):
        if toks[k].lower() != "ac" or (k > 3 and toks[k - 1] == "("):
            continue
        vals = []
        j = k + 1
        while len(vals) < 2 and j < len(toks) and toks[j] not in "()" and (is_number(toks[j]) or toks[j].startswith("{")):
            vals.append(value_of(toks[j], scope, st))
            j += 1
        return (vals[0] if vals else 1.0), (vals[1] if len(vals) > 1 else 0.0)
    return None, None


def _control(name: str, toks: list, k: int) -> str:
    """Netlist name of the controlling source ``toks[k]`` of an F/H line (same subcircuit scope)."""
    prefix = name[: len(name) - len(toks[0])]
    return prefix + toks[k]


def add_element(net, toks: list, name: str, node, scope: dict, models: dict, st: Statement) -> None:
    """Add the element of one line to ``net``.

    Parameters
    ----------
    net : Netlist
    toks : list of str
        Raw tokens of the line (``toks[0]`` is the element name as written).
    name : str
        Netlist name of the element (hierarchical inside a subcircuit).
    node : callable
        Token -> netlist node name.
    scope : dict
        Parameter values.
    models : dict
        ``.model`` cards by lower-case name.
    st : Statement
        For error locations.

    Raises
    ------
    SpiceSyntaxError
        Malformed line, unknown model, unsupported element.
    ParameterError, NetlistError
        From the netlist (the caller adds the location).
    """
    letter = toks[0][0].lower()
    if letter in "rcl" and len(toks) >= 6 and toks[3].lower() == letter and toks[4] == "=":
        toks = toks[:3] + toks[5:]  # ngspice's value form 'R1 a b R=2k', 'C1 a b C=40u', 'L1 a b L=1m'
    if letter == "r":
        _need(toks, 4, "Rname n1 n2 value", st)
        _no_extra(toks, 4, st)
        r = value_of(toks[3], scope, st)
        if r == 0.0:
            r = ZERO_RESISTANCE  # ngspice-39 replaces a zero resistance by 1 mOhm (measured: R=0 to 1k, 1 V -> 0.999999 V)
        if r < 0 and math.isfinite(r):
            # negative resistance (valid SPICE): a VCCS driven by its own terminal voltage, i = (v1 - v2) / r
            n1, n2 = node(toks[1]), node(toks[2])
            net.add_vccs(name, n1, n2, n1, n2, 1.0 / r)
        else:
            net.add_resistor(name, node(toks[1]), node(toks[2]), r)
    elif letter == "c":
        _need(toks, 4, "Cname n1 n2 value [IC=v]", st)
        kw = _keyword(toks, 4, ("ic",), scope, st)
        net.add_capacitor(name, node(toks[1]), node(toks[2]), value_of(toks[3], scope, st), kw.get("ic"))
    elif letter in "vi":
        _need(toks, 3, f"{letter.upper()}name n+ n- [DC] value", st)
        dc, wave = _source(toks, scope, st)
        ac_mag, ac_phase = _ac_spec(toks, scope, st)
        add = net.add_vsource if letter == "v" else net.add_isource
        add(name, node(toks[1]), node(toks[2]), dc, wave, ac_mag=ac_mag, ac_phase=ac_phase)
    elif letter == "e":
        _need(toks, 6, "Ename n+ n- nc+ nc- gain", st)
        _no_extra(toks, 6, st)
        nodes = [node(t) for t in toks[1:5]]
        net.add_vcvs(name, *nodes, value_of(toks[5], scope, st))
    elif letter == "g":
        _need(toks, 6, "Gname n+ n- nc+ nc- transconductance", st)
        _no_extra(toks, 6, st)
        nodes = [node(t) for t in toks[1:5]]
        net.add_vccs(name, *nodes, value_of(toks[5], scope, st))
    elif letter == "l":
        _need(toks, 4, "Lname n1 n2 value [IC=i]", st)
        kw = _keyword(toks, 4, ("ic",), scope, st)
        net.add_inductor(name, node(toks[1]), node(toks[2]), value_of(toks[3], scope, st), kw.get("ic"))
    elif letter in "fh":
        usage = "Fname n+ n- vcontrol gain" if letter == "f" else "Hname n+ n- vcontrol transresistance"
        _need(toks, 5, usage, st)
        _no_extra(toks, 5, st)
        if toks[3][:1] in "({'" or is_number(toks[3]):
            raise st.error(f"expected the name of the controlling voltage source, got {toks[3]!r}; {usage}")
        add = net.add_cccs if letter == "f" else net.add_ccvs
        add(name, node(toks[1]), node(toks[2]), _control(name, toks, 3), value_of(toks[4], scope, st))
    elif letter == "d":
        _add_diode(net, toks, name, node, scope, models, st)
    elif letter == "b":
        _add_bsource(net, toks, name, node, scope, st)
    else:
        raise st.error(f"unsupported element {toks[0]!r} (supported: R, C, L, V, I, E, G, F, H, D, B, X)")
