"""Export any :class:`~neurosim.netlist.Netlist` as an ngspice-compatible deck.

The deck is flat (subcircuit instances are already flattened by the netlist, with hierarchical
names such as ``X1.R1``). Lines are built per element group from its arrays (one list
comprehension per group, no per-element method calls), so a 256x256 crossbar (~200k elements) is
written in a fraction of a second. Numbers are written with ``repr`` (the shortest text that reads
back as the same double), so a deck re-imported or run in ngspice describes exactly the same
circuit.

Element mapping (see :mod:`neurosim.netlist.elements` for the equations):

=========  =====================================================================================
kind       SPICE
=========  =====================================================================================
resistor   ``R<name> n1 n2 R``
capacitor  ``C<name> n1 n2 C [IC=v]``
vsource    ``V<name> np nn DC v [AC mag phase] [PWL(...) | PULSE(...) | SIN(...)]``
isource    ``I<name> np nn DC i [...]``
vcvs       ``E<name> np nn ncp ncn A``
vccs       ``G<name> np nn ncp ncn gm``
inductor   ``L<name> n1 n2 L [IC=i]``
cccs       ``F<name> np nn <controlling source> gain``
ccvs       ``H<name> np nn <controlling source> r``
diode      ``D<name> a k DMODk [temp=T]`` with ``.model DMODk D (IS= N= RS= [BV= ... TNOM=])`` per
           distinct parameter set (parameters not given are left to ngspice's defaults, which are
           neurosim's), ``temp`` in degC; a junction ``g_min`` shared by every diode becomes
           ``.options gmin=`` (ngspice puts its gmin, 1e-12 S by default, across every junction)
switch     ``B<name> n1 n2 I=V(n1,n2)*(goff+(gon-goff)/(1+exp(-(V(ncp,ncn)-vt)/vw)))``
device     ``X<name> np nn <subckt>`` with the model's own ``spice_subckt(name)`` definition
=========  =====================================================================================

SPICE names are case-insensitive and start with the element letter: a name that does not start
with its letter gets it prefixed (``cell3`` -> ``Rcell3``), names that would collide in SPICE
(``R1``/``r1``), contain characters SPICE reserves, or nodes called ``gnd`` (ground in ngspice)
are made unique; :class:`SpiceExport` keeps the maps back to the netlist's names.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

import numpy as np

from neurosim.errors import NetlistError, ParameterError
from neurosim.spice.analysis import Analysis, DCSweep, as_analysis, fmt
from neurosim.spice.runner import _options_line

__all__ = ["write_spice", "save_spice", "export_spice", "SpiceExport"]

# SPICE names of the optional diode parameters (netlist name -> model-card name); temperatures in degC
_DIODE_CARD = {"bv": "BV", "ibv": "IBV", "nbv": "NBV", "cjo": "CJO", "vj": "VJ", "m": "M", "fc": "FC", "tt": "TT",
               "eg": "EG", "xti": "XTI", "tnom": "TNOM"}
_CELSIUS = 273.15


_LETTER = {"resistor": "R", "capacitor": "C", "vsource": "V", "isource": "I", "vcvs": "E", "diode": "D",
           "switch": "B", "device": "X", "bcurrent": "B", "bvoltage": "B", "vccs": "G", "inductor": "L", "cccs": "F", "ccvs": "H"}
# characters that end or split a SPICE token, or start a comment
_RESERVED = re.compile(r"[\s(),={};'\"$*+]")


@dataclasses.dataclass
class SpiceExport:
    """An exported deck and the maps from netlist names to SPICE names.

    Attributes
    ----------
    text : str
        The deck.
    node_map : dict
        Netlist node name -> SPICE node name, only for nodes that had to be renamed.
    element_map : Mapping
        Netlist element name -> SPICE element name, only for elements that were renamed (built on
        first use).
    analysis : Op, Tran, DCSweep, AC or None
    """

    text: str
    node_map: dict
    element_map: Mapping
    analysis: Analysis | None


class _NameMap(Mapping):
    """Netlist name -> SPICE name of renamed elements, built on first use (big decks rename many)."""

    def __init__(self, pairs: list):
        self._pairs = pairs
        self._map: dict | None = None

    def _get(self) -> dict:
        if self._map is None:
            self._map = {a: b for orig, new in self._pairs for a, b in zip(orig, new) if a != b}
        return self._map

    def __getitem__(self, key):
        return self._get()[key]

    def __iter__(self):
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


def _unique_names(names: list[str], reserved_lower: set) -> list[str]:
    """Make names unique case-insensitively (and distinct from ``reserved_lower``) by suffixing ``_<k>``."""
    # one str.lower over the joined names (names hold no white space here) instead of one per name
    lower = "\n".join(names).lower().split("\n") if names else []
    fresh = set(lower)
    if len(fresh) == len(lower) and not (reserved_lower & fresh):
        return names
    taken = set(reserved_lower)
    out = []
    for s, low in zip(names, lower):
        if low in taken:
            k = 1
            while f"{low}_{k}" in taken:
                k += 1
            s, low = f"{s}_{k}", f"{low}_{k}"
        taken.add(low)
        out.append(s)
    return out


def _spice_nodes(node_names: list[str]) -> np.ndarray:
    """SPICE node names (index 0 is ground "0"), unique case-insensitively, no reserved characters."""
    names = list(node_names)
    joined = "\n".join(names[1:])
    if _RESERVED.search(joined.replace("\n", "_")) or "gnd" in joined.lower():
        names = [names[0]] + [_RESERVED.sub("_", s) or "_" for s in names[1:]]
        names = [names[0]] + ["gnd_" if s.lower() == "gnd" else s for s in names[1:]]
    fixed = _unique_names(names[1:], {"0", "gnd"})
    return np.array([names[0]] + fixed, dtype=object)


def _spice_elements(letter: str, names: np.ndarray) -> list[str]:
    lst = names.tolist()
    joined = "\n".join(lst)
    if _RESERVED.search(joined.replace("\n", "_")):
        lst = [_RESERVED.sub("_", s) for s in lst]
    up, low = letter, letter.lower()
    return [s if s[:1] in (up, low) else up + s for s in lst]


def _num_list(arr) -> list[str]:
    return [repr(x) for x in np.asarray(arr, dtype=np.float64).tolist()]


def _waveform_text(w) -> str:
    from neurosim.netlist.waveforms import PWL, Exp, Pulse, Sine

    if isinstance(w, Exp):
        args = [w.v1, w.v2, w.delay1, w.tau1, w.delay2, w.tau2]
        return " EXP(" + " ".join(fmt(a) for a in args) + ")"
    if isinstance(w, PWL):
        pairs = " ".join(f"{fmt(t)} {fmt(v)}" for t, v in zip(w.times.tolist(), w.values.tolist()))
        return f" PWL({pairs})"
    if isinstance(w, Pulse):
        args = [w.v1, w.v2, w.delay, w.rise, w.fall, w.width] + ([w.period] if w.period is not None else [])
        return " PULSE(" + " ".join(fmt(a) for a in args) + ")"
    if isinstance(w, Sine):
        args = [w.offset, w.amplitude, w.frequency, w.delay, w.damping, w.phase]
        return " SIN(" + " ".join(fmt(a) for a in args) + ")"
    raise ParameterError(f"write_spice: cannot export waveform {w!r}")


def _device_subckts(group, spice_names: list[str], base: str):
    """Subcircuit definitions for a device group and the subcircuit name of each element."""
    model = group.model
    if not hasattr(model, "spice_subckt"):
        raise NetlistError(
            f"write_spice: device model {type(model).__name__} of element {group.names[0]!r} has no spice_subckt(name)"
        )
    states = group.params["state"]
    fields = {f.name for f in dataclasses.fields(model)} if dataclasses.is_dataclass(model) else set()
    arrays = [f for f in fields if np.ndim(getattr(model, f)) > 0 and f != "initial_state"]
    x0 = getattr(model, "initial_state", None)
    uniform = not arrays and x0 is not None and np.ndim(x0) == 0 and np.all(states == float(x0))
    if uniform:
        return [model.spice_subckt(base)], [base] * len(group)
    if "initial_state" not in fields and np.ndim(x0) == 0 and not np.all(states == float(x0 or 0)):
        raise NetlistError(
            f"write_spice: device model {type(model).__name__} has no initial_state field, so element states "
            "other than its default cannot be exported"
        )
    # one definition per distinct (state, per-device parameters) combination
    n = len(group)
    cols = [states] + [np.broadcast_to(np.asarray(getattr(model, f), dtype=np.float64), (n,)) for f in arrays]
    table = np.stack(cols, axis=1)
    uniq, inverse = np.unique(table, axis=0, return_inverse=True)
    defs, sub_names = [], []
    for k, row in enumerate(uniq):
        changes = {f: float(v) for f, v in zip(arrays, row[1:])}
        if "initial_state" in fields:
            changes["initial_state"] = float(row[0])
        name_k = f"{base}_{k}"
        defs.append(dataclasses.replace(model, **changes).spice_subckt(name_k))
        sub_names.append(name_k)
    return defs, [sub_names[i] for i in np.ravel(inverse).tolist()]


def export_spice(netlist, analysis=None, options: dict | None = None) -> SpiceExport:
    """Export a netlist as an ngspice deck, keeping the name maps (used by :func:`run_ngspice`).

    Parameters, equations and exceptions as :func:`write_spice`.

    Returns
    -------
    SpiceExport
        The deck text and the netlist-to-SPICE name maps.

    Examples
    --------
    >>> from neurosim.netlist import Netlist
    >>> net = Netlist()
    >>> net.add_vsource("in", "a", "0", 1.0)
    >>> net.add_resistor("load", "a", "gnd", 1e3)
    >>> net.add_resistor("R2", "gnd", "0", 1e3)
    >>> ex = export_spice(net)
    >>> dict(ex.element_map), ex.node_map
    ({'in': 'Vin', 'load': 'Rload'}, {'gnd': 'gnd_'})
    """
    from neurosim.netlist import Netlist

    if not isinstance(netlist, Netlist):
        raise ParameterError(f"write_spice: netlist must be a Netlist, got {type(netlist).__name__}")
    an = as_analysis(analysis) if analysis is not None else None
    node_names = netlist.node_names
    nodes = _spice_nodes(node_names)
    title_lines = (netlist.title or "").strip().splitlines()
    title = title_lines[0] if title_lines else "neurosim netlist"
    lines: list[str] = [title, "* written by neurosim.spice.write_spice"]
    models: list[str] = []
    renamed: list = []  # (netlist names, SPICE names) of groups with renamed elements
    groups = netlist.groups
    for g in groups:
        if g.kind not in _LETTER and len(g):
            raise NetlistError(f"write_spice: element {str(g.names[0])!r} is a {g.kind!r} element, which has no SPICE "
                               "form (neuron-circuit and spiking elements are run by neurosim.dynamics)")
    # element names of all groups, made unique together (SPICE names share one namespace)
    per_group = [_spice_elements(_LETTER[g.kind], g.names) for g in groups]
    flat = [s for names in per_group for s in names]
    fixed = _unique_names(flat, set())
    if fixed is not flat:
        it = iter(fixed)
        per_group = [[next(it) for _ in names] for names in per_group]
    n_diode_models = 0
    gmins: set = set()  # junction g_min of every diode (ngspice has one gmin per circuit)
    spice_name = None  # netlist -> SPICE element names, for the controlling sources of F and H
    behavioral = any(g.kind in ("bcurrent", "bvoltage") for g in groups)
    if behavioral:  # B-source references by their SPICE names (case-insensitive, as the expressions)
        node_lower = {a.lower(): b for a, b in zip(node_names, nodes.tolist())}
        node_lower.setdefault("0", "0")
    if any(g.kind in ("cccs", "ccvs") for g in groups) or isinstance(an, DCSweep) or behavioral:
        spice_name = {a: b for g, names in zip(groups, per_group) for a, b in zip(g.names.tolist(), names)}
    if isinstance(an, DCSweep):  # the swept sources by their SPICE names
        missing = [n for n in (an.source, an.source2) if n is not None and n not in spice_name]
        if missing:
            raise ParameterError(f"write_spice: the .dc source {missing[0]!r} is not an element of the netlist")
        an = dataclasses.replace(an, source=spice_name[an.source],
                                 source2=spice_name[an.source2] if an.nested else None)
    for gi, (group, snames) in enumerate(zip(groups, per_group)):
        if len(group) == 0:
            continue
        orig = group.names.tolist()
        if orig != snames:
            renamed.append((orig, snames))
        cols = [nodes[group.nodes[:, t]].tolist() for t in range(group.nodes.shape[1])]
        kind = group.kind
        p = group.params
        if kind in ("resistor", "capacitor", "inductor"):
            vals = _num_list(p[{"resistor": "resistance", "capacitor": "capacitance", "inductor": "inductance"}[kind]])
            if kind != "resistor" and not np.all(np.isnan(p["ic"])):
                vals = [v if np.isnan(ic) else f"{v} IC={fmt(ic)}" for v, ic in zip(vals, p["ic"].tolist())]
            lines.extend(f"{s} {a} {b} {v}" for s, a, b, v in zip(snames, cols[0], cols[1], vals))
        elif kind in ("vsource", "isource"):
            vals = _num_list(p["dc"])
            if not np.all(np.isnan(p["ac_mag"])):
                mag, ph = p["ac_mag"].tolist(), np.nan_to_num(p["ac_phase"], nan=0.0).tolist()
                vals = [v if m != m else f"{v} AC {fmt(m)} {fmt(a)}" for v, m, a in zip(vals, mag, ph)]  # m != m: NaN
            if group.waveforms is not None:
                vals = [v if w is None else v + _waveform_text(w) for v, w in zip(vals, group.waveforms)]
            lines.extend(f"{s} {a} {b} DC {v}" for s, a, b, v in zip(snames, cols[0], cols[1], vals))
        elif kind == "vcvs":
            vals = _num_list(p["gain"])
            lines.extend(f"{s} {a} {b} {c} {d} {v}" for s, a, b, c, d, v in zip(snames, *cols, vals))
        elif kind == "vccs":
            vals = _num_list(p["gain"])
            lines.extend(f"{s} {a} {b} {c} {d} {v}" for s, a, b, c, d, v in zip(snames, *cols, vals))
        elif kind in ("cccs", "ccvs"):
            vals = _num_list(p["gain"])
            ctl = [spice_name[c] for c in group.controls.tolist()]
            lines.extend(f"{s} {a} {b} {c} {v}" for s, a, b, c, v in zip(snames, cols[0], cols[1], ctl, vals))
        elif kind == "diode":
            extra = list(_DIODE_CARD)
            table = np.stack([p["i_s"], p["n"], p["r_s"]] + [p[k] for k in extra], axis=1)
            uniq, inverse = np.unique(table, axis=0, return_inverse=True)  # NaN (not given) rows compare equal
            mnames = [f"DMOD{n_diode_models + k}" for k in range(len(uniq))]
            n_diode_models += len(uniq)
            for mname, row in zip(mnames, uniq.tolist()):
                fields = [f"IS={fmt(row[0])}", f"N={fmt(row[1])}", f"RS={fmt(row[2])}"]
                for key, v in zip(extra, row[3:]):
                    if not np.isnan(v):
                        fields.append(f"{_DIODE_CARD[key]}={fmt(v - _CELSIUS if key == 'tnom' else v)}")
                models.append(f".model {mname} D ({' '.join(fields)})")
            temps = ["" if np.isnan(tk) else f" temp={fmt(tk - _CELSIUS)}" for tk in p["temp"].tolist()]
            lines.extend(
                f"{s} {a} {b} {mnames[i]}{tt}"
                for s, a, b, i, tt in zip(snames, cols[0], cols[1], np.ravel(inverse).tolist(), temps)
            )
            gmins.update(np.nan_to_num(p["g_min"], nan=0.0).tolist())
        elif kind == "switch":
            g_on, g_off = 1.0 / p["r_on"], 1.0 / p["r_off"]
            lines.extend(
                f"{s} {a} {b} I=V({a},{b})*({fmt(gf)}+({fmt(gn)}-{fmt(gf)})"
                f"/(1+exp(-(V({c},{d})-({fmt(vt)}))/{fmt(vw)})))"
                for s, a, b, c, d, gn, gf, vt, vw in zip(
                    snames, *cols, g_on.tolist(), g_off.tolist(), p["v_t"].tolist(), p["v_w"].tolist()
                )
            )
        elif kind in ("bcurrent", "bvoltage"):
            elem_lower = {a.lower(): b for a, b in spice_name.items()}

            def ref_text(ref):
                if ref[0] == "v":
                    return f"V({node_lower.get(ref[1].lower(), ref[1])},{node_lower.get(ref[2].lower(), ref[2])})"
                return f"I({elem_lower.get(ref[1].lower(), ref[1])})" if ref[0] == "i" else "time"

            form = "I" if kind == "bcurrent" else "V"
            text = group.model.format(ref_text)
            lines.extend(f"{s} {a} {b} {form}={text}" for s, a, b in zip(snames, cols[0], cols[1]))
        elif kind == "device":
            defs, subs = _device_subckts(group, snames, f"nsdev{gi}")
            models.extend(d.rstrip("\n") for d in defs)
            lines.extend(f"{s} {a} {b} {sub}" for s, a, b, sub in zip(snames, cols[0], cols[1], subs))
        else:  # pragma: no cover - every kind of KINDS is handled above
            raise NetlistError(f"write_spice: element kind {kind!r} cannot be exported")
    lines.extend(models)
    if len(gmins) == 1:  # ngspice's gmin is the junctions' g_min (1e-12 S when not set)
        options = {"gmin": next(iter(gmins)), **(options or {})}
    opt = _options_line(options)
    if opt:
        lines.append(opt)
    if an is not None:
        lines.append(an.to_spice())
    lines.append(".end")
    node_map = {a: b for a, b in zip(node_names, nodes.tolist()) if a != b}
    return SpiceExport("\n".join(lines) + "\n", node_map, _NameMap(renamed), an)


def write_spice(netlist, analysis=None, options: dict | None = None) -> str:
    """Write a netlist as an ngspice-compatible deck.

    Parameters
    ----------
    netlist : Netlist
        The circuit (any element kind; devices need ``model.spice_subckt(name)``).
    analysis : Op, Tran, DCSweep, AC or str, optional
        Analysis line to add (``"op"``, ``Tran(1e-9, 1e-6)``, ...); none if ``None``.
    options : dict, optional
        ``.options`` to add, e.g. ``{"reltol": 1e-12}``.

    Returns
    -------
    str
        The deck, ending in ``.end``. A resistor ``R`` between ``a`` and ``b`` reads ``R1 a b 1000.0``:

        .. math:: i_{R1} = (v_a - v_b) / R

    Raises
    ------
    ParameterError
        ``netlist`` is not a Netlist, or a bad analysis.
    NetlistError
        A device model that cannot be exported.

    Examples
    --------
    >>> from neurosim.netlist import Netlist
    >>> net = Netlist("divider")
    >>> net.add_vsource("V1", "in", "0", dc=1.0)
    >>> net.add_resistor("R1", "in", "out", 1e3)
    >>> net.add_resistor("load", "out", "0", 3e3)
    >>> print(write_spice(net, "op"))
    divider
    * written by neurosim.spice.write_spice
    V1 in 0 DC 1.0
    R1 in out 1000.0
    Rload out 0 3000.0
    .op
    .end
    <BLANKLINE>
    """
    return export_spice(netlist, analysis, options).text


def save_spice(netlist, path, analysis=None, options: dict | None = None) -> None:
    """Write :func:`write_spice` output to ``path`` (same parameters and equations).

    Examples
    --------
    >>> import os, tempfile
    >>> from neurosim.netlist import Netlist
    >>> from neurosim.spice import Tran
    >>> net = Netlist("rc")
    >>> net.add_vsource("V1", "in", "0", 1.0)
    >>> net.add_resistor("R1", "in", "out", 1e3)
    >>> net.add_capacitor("C1", "out", "0", 1e-9, ic=0.0)
    >>> path = os.path.join(tempfile.mkdtemp(), "rc.cir")
    >>> save_spice(net, path, analysis=Tran(1e-8, 1e-5, uic=True))
    >>> open(path).read().splitlines()[-3:]
    ['C1 out 0 1e-09 IC=0', '.tran 1e-08 1e-05 uic', '.end']

    Raises
    ------
    ParameterError, NetlistError
        As :func:`write_spice`.
    OSError
        The file cannot be written.
    """
    text = write_spice(netlist, analysis, options)
    with open(path, "w") as fh:
        fh.write(text)
