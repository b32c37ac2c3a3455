"""The add_* API shared by :class:`~neurosim.netlist.Netlist` and :class:`~neurosim.netlist.Subcircuit`.

Single adds (``add_resistor``) are checked immediately and buffered; bulk adds (``add_resistors``)
take arrays and store one :class:`ElementGroup` without a Python object per element. Both check
values against the kind's declared :class:`~neurosim.params.Param` table and refuse duplicate names
and shorted sources at the point of the mistake.
"""

from __future__ import annotations

import numpy as np

from neurosim.errors import NetlistError, ParameterError
from neurosim.netlist.elements import CONTROLLED_BY_CURRENT, GROUND, KINDS, ElementGroup

# kinds that force a voltage between their two terminals (both on one node: a singular branch row)
_SHORTABLE = ("vsource", "isource", "vcvs", "ccvs", "inductor")
# optional parameters left out of Netlist.element() when not given
_HIDDEN_UNSET = ("ac_mag", "ac_phase", "bv", "ibv", "nbv", "cjo", "vj", "m", "fc", "tt", "eg", "xti", "temp", "tnom", "g_min")

__all__ = ["CircuitBuilder"]


def _as_str_array(owner: str, what: str, value, n: int | None) -> np.ndarray:
    """Names as a 1-D unicode array of length ``n`` (a single str is broadcast)."""
    if isinstance(value, str):
        if n is None:
            raise ParameterError(f"{owner}: {what} must be an array of strings, got a single string")
        return np.full(n, value)
    arr = np.asarray(value)
    if arr.ndim != 1:
        arr = arr.reshape(-1) if arr.ndim > 1 else arr.reshape(1)
    if arr.dtype.kind in "iu":
        arr = arr.astype(str)
    elif arr.dtype.kind == "O":
        if not all(isinstance(s, str) for s in arr.tolist()):
            raise ParameterError(f"{owner}: {what} must contain only strings")
        arr = arr.astype(str)
    elif arr.dtype.kind != "U":
        raise ParameterError(f"{owner}: {what} must be strings, got dtype {arr.dtype}")
    if n is not None and arr.shape[0] != n:
        raise ParameterError(f"{owner}: {what} must have length {n}, got {arr.shape[0]}")
    return arr


def _bad_elements(names: np.ndarray, bad: np.ndarray) -> str:
    idx = np.flatnonzero(bad)
    shown = ", ".join(repr(str(names[i])) for i in idx[:3])
    more = f" and {idx.size - 3} more" if idx.size > 3 else ""
    return f"{shown}{more}"


class CircuitBuilder:
    """Element storage and the add_* methods (base of Netlist and Subcircuit)."""

    _owner = "Netlist"

    def __init__(self):
        self._node_index: dict[str, int] = {GROUND: 0}
        self._node_names: list[str] = [GROUND]
        self._names: set[str] = set()
        self._groups: list[ElementGroup] = []
        # single adds waiting to be merged into one group per (kind, model): key -> list of rows
        self._pending: dict[tuple, list] = {}
        self._lookup: dict[str, tuple[int, int]] | None = None
        self._version = 0

    # ------------------------------------------------------------------ inspection
    @property
    def node_names(self) -> list[str]:
        """All node names; index 0 is ground ``"0"``."""
        self._flush()
        return list(self._node_names)

    @property
    def groups(self) -> list[ElementGroup]:
        """Element groups (arrays per kind), in insertion order of bulk adds."""
        self._flush()
        return list(self._groups)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: str) -> bool:
        return name in self._names

    def element(self, name: str) -> dict:
        """Description of one element: ``kind``, ``nodes`` (terminal -> node), ``params``, extras.

        Raises
        ------
        NetlistError
            No element of that name.
        """
        g, i = self._locate(name)
        group = self._groups[g]
        out = {
            "name": name,
            "kind": group.kind,
            "nodes": {t: self._node_names[group.nodes[i, k]] for k, t in enumerate(group.terminals)},
            "params": {
                p: float(v[i]) for p, v in group.params.items() if not (p in _HIDDEN_UNSET and np.isnan(v[i]))
            },
        }
        if group.controls is not None:
            out["control"] = str(group.controls[i])
        if group.waveforms is not None:
            out["waveform"] = group.waveforms[i]
        if group.model is not None:
            out["model"] = group.model
        return out

    def _locate(self, name: str) -> tuple[int, int]:
        self._flush()
        if self._lookup is None:
            lookup: dict[str, tuple[int, int]] = {}
            for g, group in enumerate(self._groups):
                lookup.update(zip(group.names.tolist(), ((g, i) for i in range(len(group)))))
            self._lookup = lookup
        try:
            return self._lookup[name]
        except KeyError:
            raise NetlistError(f"{self._owner}: no element named {name!r}") from None

    # ------------------------------------------------------------------ storage
    def _nodes_to_index(self, nodes: np.ndarray) -> np.ndarray:
        d = self._node_index
        before = len(d)
        idx = np.fromiter((d.setdefault(s, len(d)) for s in nodes.tolist()), dtype=np.int64, count=nodes.shape[0])
        if len(d) > before:
            # dicts keep insertion order: the new nodes are the last keys
            new = list(d)[before:]
            if "" in new:
                raise NetlistError(f"{self._owner}: node names must not be empty")
            self._node_names.extend(new)
        return idx

    def _register(self, owner: str, names: np.ndarray) -> None:
        lst = names.tolist()
        fresh = set(lst)
        if len(fresh) != len(lst):
            seen: set[str] = set()
            dup = next(s for s in lst if s in seen or seen.add(s))
            raise NetlistError(f"{owner}: duplicate element name {dup!r}")
        if "" in fresh:
            raise NetlistError(f"{owner}: element names must not be empty")
        clash = fresh & self._names if len(fresh) < len(self._names) else self._names & fresh
        if clash:
            raise NetlistError(f"{owner}: duplicate element name {sorted(clash)[0]!r}")
        self._names |= fresh
        self._lookup = None
        self._version += 1

    def _check_values(self, owner: str, kind: str, names: np.ndarray, params: dict) -> dict[str, np.ndarray]:
        n = names.shape[0]
        out = {}
        for pname, decl in KINDS[kind].params.items():
            value = params.get(pname)
            if value is None:
                if decl.optional:
                    out[pname] = np.full(n, np.nan)
                    continue
                raise ParameterError(f"{owner}: {pname} is required")
            try:
                arr = np.asarray(value, dtype=np.float64)
            except (TypeError, ValueError):
                raise ParameterError(f"{owner}: {pname} must be {decl.describe()}, got {value!r}") from None
            if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] != n):
                raise ParameterError(f"{owner}: {pname} must be a scalar or have shape ({n},), got {arr.shape}")
            arr = np.array(np.broadcast_to(arr, (n,)), dtype=np.float64)
            bad = ~np.isfinite(arr)
            if decl.optional:
                bad &= ~np.isnan(arr)  # NaN means "not given"
            if decl.low is not None:
                bad |= (arr < decl.low) | ((arr == decl.low) if decl.low_open else False)
            if decl.high is not None:
                bad |= (arr > decl.high) | ((arr == decl.high) if decl.high_open else False)
            if bad.any():
                first = float(arr[np.flatnonzero(bad)[0]])
                raise ParameterError(
                    f"{owner}: {pname} must be {decl.describe()}, got {first!r} for element "
                    f"{_bad_elements(names, bad)}"
                )
            out[pname] = arr
        return out

    def _add_group(self, owner, kind, names, nodes, params, waveforms=None, model=None, controls=None) -> ElementGroup:
        """Check and store a bulk group. ``nodes``: one str array-like per terminal."""
        names = _as_str_array(owner, "names", names, None)
        n = names.shape[0]
        terms = KINDS[kind].terminals
        node_arrays = [_as_str_array(owner, t, v, n) for t, v in zip(terms, nodes)]
        values = self._check_values(owner, kind, names, params)
        if kind in CONTROLLED_BY_CURRENT:
            controls = _as_str_array(owner, "controls", controls, n)
            if n and (controls == "").any():
                raise ParameterError(f"{owner}: control must name a voltage source, got an empty string")
        else:
            controls = None
        if kind in _SHORTABLE:
            shorted = node_arrays[0] == node_arrays[1]
            if shorted.any():
                raise NetlistError(
                    f"{owner}: source {_bad_elements(names, shorted)} is shorted: both terminals on node "
                    f"{str(node_arrays[0][np.flatnonzero(shorted)[0]])!r}"
                )
        if waveforms is not None:
            if not isinstance(waveforms, (list, tuple)):
                waveforms = [waveforms] * n
            waveforms = list(waveforms)
            if len(waveforms) != n:
                raise ParameterError(f"{owner}: waveforms must have length {n}, got {len(waveforms)}")
            from neurosim.netlist.waveforms import Waveform

            for w in waveforms:
                if w is not None and not isinstance(w, Waveform):
                    raise ParameterError(f"{owner}: waveform must be a PWL, Pulse or Sine or None, got {w!r}")
            if all(w is None for w in waveforms):
                waveforms = None
        self._register(owner, names)
        idx = np.stack([self._nodes_to_index(a) for a in node_arrays], axis=1) if n else np.zeros((0, len(terms)), np.int64)
        group = ElementGroup(kind, names, idx, values, waveforms, model, controls)
        self._groups.append(group)
        return group

    def _add_single(self, owner, kind, name, nodes, params, waveform=None, model=None, control=None) -> None:
        """Check one element now; buffer it to be merged with its like into one group."""
        if not isinstance(name, str) or not name:
            raise ParameterError(f"{owner}: name must be a non-empty string, got {name!r}")
        nodes = [str(x) if isinstance(x, (int, np.integer)) else x for x in nodes]
        for t, x in zip(KINDS[kind].terminals, nodes):
            if not isinstance(x, str) or not x:
                raise ParameterError(f"{owner}: node {t} must be a non-empty string, got {x!r}")
        values = {}
        for pname, decl in KINDS[kind].params.items():
            v = self._param_value(owner, name, pname, params.get(pname))
            if decl.optional and isinstance(v, float) and np.isnan(v):
                v = None  # NaN: not given (as stored), e.g. copied from another element
            v = decl.check(owner, pname, v)
            values[pname] = np.nan if v is None else v
        if kind in _SHORTABLE and nodes[0] == nodes[1]:
            raise NetlistError(f"{owner}: source {name!r} is shorted: both terminals on node {nodes[0]!r}")
        if kind in CONTROLLED_BY_CURRENT and (not isinstance(control, str) or not control):
            raise ParameterError(f"{owner}: control must name a voltage source (non-empty string), got {control!r}")
        if waveform is not None:
            from neurosim.netlist.waveforms import Waveform

            if not isinstance(waveform, Waveform):
                raise ParameterError(f"{owner}: waveform must be a PWL, Pulse or Sine or None, got {waveform!r}")
        if name in self._names:
            raise NetlistError(f"{owner}: duplicate element name {name!r}")
        self._names.add(name)
        self._lookup = None
        self._version += 1
        key = (kind, id(model))
        rows = self._pending.setdefault(key, [])
        rows.append((name, nodes, values, waveform, model, control))

    def _flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        for (kind, _), rows in pending.items():
            names = np.array([r[0] for r in rows])
            cols = list(zip(*[r[1] for r in rows]))
            idx = np.stack([self._nodes_to_index(np.array(c)) for c in cols], axis=1)
            params = {p: np.array([r[2][p] for r in rows], dtype=np.float64) for p in KINDS[kind].params}
            wf = [r[3] for r in rows]
            wf = None if all(w is None for w in wf) else wf
            ctl = np.array([r[5] for r in rows]) if kind in CONTROLLED_BY_CURRENT else None
            self._groups.append(ElementGroup(kind, names, idx, params, wf, rows[0][4], ctl))
        self._lookup = None

    def _param_value(self, owner: str, element: str, pname: str, value):
        """Hook for subcircuit parameter references (a Netlist takes values as given)."""
        return value

    # ------------------------------------------------------------------ single adds
    def add_resistor(self, name: str, n1: str, n2: str, resistance: float) -> None:
        """Add a resistor ``resistance`` (ohm, > 0) between ``n1`` and ``n2``.

        .. math:: i = (v_{n1} - v_{n2}) / R

        Raises
        ------
        ParameterError
            Non-positive or non-finite resistance.
        NetlistError
            Duplicate name.
        """
        self._add_single(f"{self._owner}.add_resistor", "resistor", name, (n1, n2), {"resistance": resistance})

    def add_capacitor(self, name: str, n1: str, n2: str, capacitance: float, ic: float | None = None) -> None:
        """Add a capacitor.

        .. math:: i = C \\, \\frac{d (v_{n1} - v_{n2})}{dt}

        Parameters
        ----------
        name : str
            Element name.
        n1, n2 : str
            Nodes.
        capacitance : float
            F, > 0.
        ic : float or None
            Initial voltage ``v(n1) - v(n2)`` (V) used by ``transient(..., uic=True)``.
        """
        self._add_single(
            f"{self._owner}.add_capacitor", "capacitor", name, (n1, n2), {"capacitance": capacitance, "ic": ic}
        )

    def add_vsource(
        self, name: str, np_: str, nn: str, dc: float = 0.0, waveform=None, *, ac_mag: float | None = None,
        ac_phase: float | None = None,
    ) -> None:
        """Add an independent voltage source: ``v(np) - v(nn) = dc`` (DC) or ``waveform(t)`` (transients).

        .. math:: v_{np} - v_{nn} = V

        Its branch current (A) flows from ``np`` through the source to ``nn`` (SPICE convention: a
        source delivering power has a negative current).

        Parameters
        ----------
        name : str
            Element name.
        np_, nn : str
            Positive and negative nodes.
        dc : float
            DC value, V.
        waveform : PWL, Pulse, Sine or None
            Time dependence used by transient analyses.
        ac_mag, ac_phase : float, optional
            Small-signal amplitude (V) and phase (degree) in an AC analysis (SPICE ``AC mag phase``);
            not given: 0 V and 0 degree.

        Raises
        ------
        NetlistError
            Duplicate name or both terminals on one node.
        """
        self._add_single(f"{self._owner}.add_vsource", "vsource", name, (np_, nn),
                         {"dc": dc, "ac_mag": ac_mag, "ac_phase": ac_phase}, waveform)

    def add_isource(
        self, name: str, np_: str, nn: str, dc: float = 0.0, waveform=None, *, ac_mag: float | None = None,
        ac_phase: float | None = None,
    ) -> None:
        """Add an independent current source: ``dc`` (A) flows from ``np`` through the source to ``nn``.

        .. math:: i_{np \\to nn} = I

        Parameters
        ----------
        name : str
            Element name.
        np_, nn : str
            Nodes; the source drains ``np`` and feeds ``nn``.
        dc : float
            DC value, A.
        waveform : PWL, Pulse, Sine or None
            Time dependence used by transient analyses.
        ac_mag, ac_phase : float, optional
            Small-signal amplitude (A) and phase (degree) in an AC analysis; not given: 0.
        """
        self._add_single(f"{self._owner}.add_isource", "isource", name, (np_, nn),
                         {"dc": dc, "ac_mag": ac_mag, "ac_phase": ac_phase}, waveform)

    def add_vcvs(self, name: str, np_: str, nn: str, ncp: str, ncn: str, gain: float) -> None:
        """Add a voltage-controlled voltage source (SPICE ``E``).

        .. math:: v_{np} - v_{nn} = A \\, (v_{ncp} - v_{ncn})
        """
        self._add_single(f"{self._owner}.add_vcvs", "vcvs", name, (np_, nn, ncp, ncn), {"gain": gain})

    def add_vccs(self, name: str, np_: str, nn: str, ncp: str, ncn: str, gain: float) -> None:
        """Add a voltage-controlled current source (SPICE ``G``): transconductance ``gain`` (S).

        The current flows from ``np`` through the source to ``nn`` (as an independent current source).

        .. math:: i_{np \\to nn} = g_m \\, (v_{ncp} - v_{ncn})

        Examples
        --------
        >>> from neurosim.netlist import Netlist
        >>> net = Netlist()
        >>> net.add_vccs("G1", "out", "0", "in", "0", 1e-3)
        >>> net.element("G1")["params"]
        {'gain': 0.001}
        """
        self._add_single(f"{self._owner}.add_vccs", "vccs", name, (np_, nn, ncp, ncn), {"gain": gain})

    def add_inductor(self, name: str, n1: str, n2: str, inductance: float, ic: float | None = None) -> None:
        """Add an inductor ``inductance`` (H, > 0); its branch current (A) flows from ``n1`` to ``n2``.

        A short at DC; in transients a companion model of the same integration formula as the
        capacitors; in AC an impedance :math:`j\\omega L`.

        .. math:: v_{n1} - v_{n2} = L \\, \\frac{di}{dt}

        Parameters
        ----------
        ic : float or None
            Initial current (A) used by ``transient(..., uic=True)`` (SPICE ``IC=``); 0 when not given.

        Examples
        --------
        >>> from neurosim.netlist import Netlist
        >>> net = Netlist()
        >>> net.add_inductor("L1", "a", "b", 1e-6, ic=1e-3)
        >>> net.element("L1")["params"]
        {'inductance': 1e-06, 'ic': 0.001}
        """
        self._add_single(
            f"{self._owner}.add_inductor", "inductor", name, (n1, n2), {"inductance": inductance, "ic": ic}
        )

    def add_cccs(self, name: str, np_: str, nn: str, control: str, gain: float) -> None:
        """Add a current-controlled current source (SPICE ``F``) driven by the branch current of ``control``.

        ``control`` names a V source (or VCVS, CCVS; not an inductor, as in ngspice) of the same circuit; inside a
        :class:`Subcircuit` it names an element of the subcircuit. The current flows from ``np``
        through the source to ``nn``.

        .. math:: i_{np \\to nn} = \\beta \\, i_{control}

        Examples
        --------
        >>> from neurosim.netlist import Netlist
        >>> net = Netlist()
        >>> net.add_cccs("F1", "out", "0", "Vsense", 2.0)
        >>> net.element("F1")["control"]
        'Vsense'
        """
        self._add_single(f"{self._owner}.add_cccs", "cccs", name, (np_, nn), {"gain": gain}, control=control)

    def add_ccvs(self, name: str, np_: str, nn: str, control: str, gain: float) -> None:
        """Add a current-controlled voltage source (SPICE ``H``), transresistance ``gain`` (ohm).

        .. math:: v_{np} - v_{nn} = r \\, i_{control}

        ``control`` as in :meth:`add_cccs`. Its own branch current flows from ``np`` through the
        source to ``nn``.

        Examples
        --------
        >>> from neurosim.netlist import Netlist
        >>> net = Netlist()
        >>> net.add_ccvs("H1", "out", "0", "Vsense", 1e3)
        >>> net.element("H1")["params"]
        {'gain': 1000.0}
        """
        self._add_single(f"{self._owner}.add_ccvs", "ccvs", name, (np_, nn), {"gain": gain}, control=control)

    def add_diode(
        self, name: str, anode: str, cathode: str, i_s: float = 1e-14, n: float = 1.0, r_s: float = 0.0, *,
        bv: float | None = None, ibv: float | None = None, nbv: float | None = None, cjo: float | None = None,
        vj: float | None = None, m: float | None = None, fc: float | None = None, tt: float | None = None,
        eg: float | None = None, xti: float | None = None, temp: float | None = None, tnom: float | None = None,
        g_min: float | None = None,
    ) -> None:
        r"""Add a junction diode (SPICE level 1, ngspice-39 equations).

        .. math:: i = I_s(T) \left(e^{v_j / (n V_T)} - 1\right) + g_{min} v_j \quad (v_j \ge -3 n V_T),
                  \qquad v_j = v_{ak} - i R_s, \quad V_T = k T / q

        with SPICE's reverse (:math:`-I_s (1 + (3 n V_T / (e\, v_j))^3)`) and breakdown
        (:math:`-I_s e^{-(BV' + v_j)/(n_{bv} V_T)}`, :math:`BV'` matched to ``ibv``) regions and the
        junction charge (depletion and diffusion) in transient and AC analyses; see
        :mod:`neurosim.solve.nonlinear`.

        Parameters
        ----------
        i_s : float
            Saturation current at ``tnom``, A (> 0).
        n : float
            Emission coefficient (> 0).
        r_s : float
            Series resistance, ohm (>= 0).
        bv, ibv, nbv : float, optional
            Reverse breakdown voltage (V, > 0; not given: no breakdown), the current at it (A, default
            1e-3) and the breakdown emission coefficient (default ``n``).
        cjo, vj, m, fc : float, optional
            Zero-bias depletion capacitance (F, default 0), junction potential (V, default 1), grading
            coefficient (in [0, 1), default 0.5; above 0.9 it is limited to 0.9 as by ngspice) and the
            forward-bias depletion coefficient (in [0, 1), default 0.5).
        tt : float, optional
            Transit time, s (diffusion charge :math:`\tau_T i`, default 0).
        eg, xti : float, optional
            Activation energy (eV, default 1.11) and saturation-current temperature exponent (default 3).
        temp, tnom : float, optional
            Device temperature and the temperature the parameters were measured at, K (default 300.15 K).
        g_min : float, optional
            Conductance across the junction, S (SPICE's ``gmin``; default 0).

        Examples
        --------
        >>> from neurosim.netlist import Netlist
        >>> net = Netlist()
        >>> net.add_diode("Dz", "0", "k", bv=5.1, ibv=1e-3, temp=358.15)
        >>> net.element("Dz")["params"]["bv"]
        5.1
        """
        self._add_single(
            f"{self._owner}.add_diode", "diode", name, (anode, cathode),
            {"i_s": i_s, "n": n, "r_s": r_s, "bv": bv, "ibv": ibv, "nbv": nbv, "cjo": cjo, "vj": vj, "m": m, "fc": fc,
             "tt": tt, "eg": eg, "xti": xti, "temp": temp, "tnom": tnom, "g_min": g_min},
        )

    def add_bsource(self, name: str, np_: str, nn: str, *, current: str | None = None, voltage: str | None = None,
                    params: dict | None = None) -> None:
        r"""Add a behavioural source (SPICE ``B``): a current or a voltage given by an expression.

        .. math:: i = f(y) \ \text{(``current``, from np through the source to nn)}, \qquad
                  v_{np} - v_{nn} = f(y) \ \text{(``voltage``)}

        The expression (ngspice-39's B-source syntax, :mod:`neurosim.spice.expr`) may use ``V(n)``,
        ``V(n1, n2)`` (V), ``I(Vname)`` (branch current of a V source, VCVS, CCVS, inductor or
        voltage-form B source, A), ``time`` (s), numbers with SPICE suffixes, ``params`` values,
        ``+ - * / **`` (``**``, ``^`` and ``pow`` are :math:`|x|^y` as in ngspice), comparisons,
        ``&& || !``, ``?:`` and the functions of :data:`neurosim.spice.expr.B_FUNCTIONS`. Newton uses its
        exact derivatives. Node and element names are matched without regard to case, as in SPICE.

        Raises
        ------
        ParameterError
            Neither or both of ``current`` and ``voltage``.
        SpiceSyntaxError
            The expression does not parse (unknown function or parameter, ...).

        Examples
        --------
        >>> from neurosim.netlist import Netlist
        >>> from neurosim.solve import dc
        >>> net = Netlist("sinh selector")
        >>> net.add_vsource("V1", "a", "0", 1.0)
        >>> net.add_resistor("R1", "a", "b", 1e3)
        >>> net.add_bsource("B1", "b", "0", current="1u*sinh(V(b)/0.1)")
        >>> round(float(dc(net).v("b")), 6)
        0.653968
        """
        from neurosim.spice.expr import Expression

        owner = f"{self._owner}.add_bsource"
        if (current is None) == (voltage is None):
            raise ParameterError(f"{owner}: give exactly one of current= and voltage= (an expression string)")
        text = current if current is not None else voltage
        if isinstance(text, Expression):  # already parsed (the SPICE reader)
            expr = text
        elif isinstance(text, str):
            expr = Expression.parse(text, {k.lower(): float(v) for k, v in (params or {}).items()})
        else:
            raise ParameterError(f"{owner}: the expression must be a string, got {text!r}")
        self._add_single(owner, "bcurrent" if current is not None else "bvoltage", name, (np_, nn), {}, model=expr)

    def add_switch(
        self, name: str, n1: str, n2: str, ncp: str, ncn: str, r_on: float, r_off: float, v_t: float, v_w: float
    ) -> None:
        """Add a smooth voltage-controlled switch (1T1R access device) between ``n1`` and ``n2``.

        .. math:: i = \\left(g_{off} + \\frac{g_{on} - g_{off}}{1 + e^{-(v_c - v_t)/v_w}}\\right)(v_1 - v_2),
                  \\quad v_c = v_{ncp} - v_{ncn}

        ``r_on``, ``r_off`` in ohm, threshold ``v_t`` and transition width ``v_w`` in V.
        """
        self._add_single(
            f"{self._owner}.add_switch",
            "switch",
            name,
            (n1, n2, ncp, ncn),
            {"r_on": r_on, "r_off": r_off, "v_t": v_t, "v_w": v_w},
        )

    def add_device(self, name: str, np_: str, nn: str, model, state: float | None = None) -> None:
        """Add a two-terminal device driven by ``model`` with internal ``state`` (model's initial_state if None).

        .. math:: i = \\text{model.current}(x, v_{np} - v_{nn}), \\quad
                  \\dot x = \\text{model.dstate\\_dt}(x, v_{np} - v_{nn})
        """
        owner = f"{self._owner}.add_device"
        state = _device_state(owner, model, self._param_value(owner, name, "state", state), 1)
        self._add_single(owner, "device", name, (np_, nn), {"state": float(state[0])}, model=model)

    # ------------------------------------------------------------------ bulk adds
    def add_resistors(self, names, n1, n2, resistance) -> ElementGroup:
        """Add many resistors from arrays (names and nodes: str arrays of length n; resistance: ohm).

        Returns the stored :class:`ElementGroup`.

        Examples
        --------
        >>> from neurosim.netlist import Netlist
        >>> net = Netlist()
        >>> g = net.add_resistors(["R1", "R2"], ["a", "b"], ["b", "0"], [1e3, 2e3])
        >>> len(net), net.node_names
        (2, ['0', 'a', 'b'])
        """
        return self._add_group(
            f"{self._owner}.add_resistors", "resistor", names, (n1, n2), {"resistance": resistance}
        )

    def add_capacitors(self, names, n1, n2, capacitance, ic=None) -> ElementGroup:
        """Add many capacitors (F); ``ic`` (V) scalar/array, NaN or None for "not given"."""
        return self._add_group(
            f"{self._owner}.add_capacitors", "capacitor", names, (n1, n2), {"capacitance": capacitance, "ic": ic}
        )

    def add_vsources(self, names, np_, nn, dc=0.0, waveforms=None, *, ac_mag=None, ac_phase=None) -> ElementGroup:
        """Add many voltage sources (V); ``waveforms``: one waveform for all or a list (None entries allowed).

        ``ac_mag`` (V) / ``ac_phase`` (degree): small-signal amplitude and phase, scalar or per source.
        """
        return self._add_group(f"{self._owner}.add_vsources", "vsource", names, (np_, nn),
                               {"dc": dc, "ac_mag": ac_mag, "ac_phase": ac_phase}, waveforms)

    def add_isources(self, names, np_, nn, dc=0.0, waveforms=None, *, ac_mag=None, ac_phase=None) -> ElementGroup:
        """Add many current sources (A), flowing from ``np`` through each source to ``nn``."""
        return self._add_group(f"{self._owner}.add_isources", "isource", names, (np_, nn),
                               {"dc": dc, "ac_mag": ac_mag, "ac_phase": ac_phase}, waveforms)

    def add_vcvss(self, names, np_, nn, ncp, ncn, gain) -> ElementGroup:
        """Add many voltage-controlled voltage sources (gain in V/V)."""
        return self._add_group(f"{self._owner}.add_vcvss", "vcvs", names, (np_, nn, ncp, ncn), {"gain": gain})

    def add_vccss(self, names, np_, nn, ncp, ncn, gain) -> ElementGroup:
        """Add many voltage-controlled current sources (transconductance ``gain`` in S), see :meth:`add_vccs`."""
        return self._add_group(f"{self._owner}.add_vccss", "vccs", names, (np_, nn, ncp, ncn), {"gain": gain})

    def add_inductors(self, names, n1, n2, inductance, ic=None) -> ElementGroup:
        """Add many inductors (H); ``ic`` (A) scalar/array, NaN or None for "not given"."""
        return self._add_group(
            f"{self._owner}.add_inductors", "inductor", names, (n1, n2), {"inductance": inductance, "ic": ic}
        )

    def add_cccss(self, names, np_, nn, controls, gain) -> ElementGroup:
        """Add many current-controlled current sources (``controls``: controlling element names), see :meth:`add_cccs`."""
        return self._add_group(f"{self._owner}.add_cccss", "cccs", names, (np_, nn), {"gain": gain}, controls=controls)

    def add_ccvss(self, names, np_, nn, controls, gain) -> ElementGroup:
        """Add many current-controlled voltage sources (``gain`` in ohm), see :meth:`add_ccvs`."""
        return self._add_group(f"{self._owner}.add_ccvss", "ccvs", names, (np_, nn), {"gain": gain}, controls=controls)

    def add_diodes(self, names, anode, cathode, i_s=1e-14, n=1.0, r_s=0.0, **spice) -> ElementGroup:
        """Add many junction diodes (``i_s`` in A, ``r_s`` in ohm; the keyword parameters of
        :meth:`add_diode`, scalars or arrays)."""
        unknown = sorted(set(spice) - set(KINDS["diode"].params))
        if unknown:
            raise ParameterError(f"{self._owner}.add_diodes: unknown diode parameter(s) {unknown}; "
                                 f"allowed: {sorted(KINDS['diode'].params)}")
        return self._add_group(
            f"{self._owner}.add_diodes", "diode", names, (anode, cathode), {"i_s": i_s, "n": n, "r_s": r_s, **spice}
        )

    def add_switches(self, names, n1, n2, ncp, ncn, r_on, r_off, v_t, v_w) -> ElementGroup:
        """Add many smooth voltage-controlled switches (see :meth:`add_switch`)."""
        return self._add_group(
            f"{self._owner}.add_switches",
            "switch",
            names,
            (n1, n2, ncp, ncn),
            {"r_on": r_on, "r_off": r_off, "v_t": v_t, "v_w": v_w},
        )

    def add_devices(self, names, np_, nn, model, states=None) -> ElementGroup:
        """Add many devices sharing one ``model`` (its array parameters broadcast to the group's states).

        ``states``: scalar or array of length n; default ``model.initial_state``. Must lie within
        ``model.state_bounds``.
        """
        owner = f"{self._owner}.add_devices"
        names = _as_str_array(owner, "names", names, None)
        state = _device_state(owner, model, states, names.shape[0])
        return self._add_group(owner, "device", names, (np_, nn), {"state": state}, model=model)

    def add_amplifiers(self, names, np_, nn, ncp, ncn, gain, theta, v_amp) -> ElementGroup:
        r"""Add many ideal sigmoid amplifiers (nonlinear VCVS of the neuron circuits of
        :mod:`neurosim.dynamics.neuralnet`; the MNA engines do not stamp them).

        .. math:: v_p - v_n = V_a \,/\, (1 + e^{-g ((v_{cp} - v_{cn})/\mathrm{V} + \theta)})

        ``gain`` and ``theta`` dimensionless, ``v_amp`` (:math:`V_a`) in V (> 0).
        """
        return self._add_group(f"{self._owner}.add_amplifiers", "amplifier", names, (np_, nn, ncp, ncn),
                               {"gain": gain, "theta": theta, "v_amp": v_amp})

    def add_lifs(self, names, n1, n2, v_th, v_reset, t_ref) -> ElementGroup:
        """Add many threshold-and-reset elements (integrate-and-fire neurons with the capacitor and
        leak across ``n1``-``n2``): when :math:`v_1 - v_2` reaches ``v_th`` (V) it is reset to
        ``v_reset`` (V) and held there for ``t_ref`` (s, >= 0). Compiled by :mod:`neurosim.dynamics.neuralnet`."""
        return self._add_group(f"{self._owner}.add_lifs", "lif", names, (n1, n2),
                               {"v_th": v_th, "v_reset": v_reset, "t_ref": t_ref})


    def add_synapses(self, names, npre, npost, A, tau, delay=0.0, U=1.0, D=0.0, F=0.0) -> ElementGroup:
        r"""Add many spike-driven synapses (compiled by :mod:`neurosim.dynamics.spiking`; the MNA
        engines do not stamp them).

        The :math:`n`-th spike of the threshold-and-reset neuron (or input spike source) on ``npre``
        adds, ``delay`` (s) later, :math:`A\, u_n R_n` to a current into ``npost`` that decays with
        time constant ``tau`` (s); between spikes :math:`\Delta_{n-1}` apart (Markram--Tsodyks),

        .. math:: u_n = U + u_{n-1}(1 - U) e^{-\Delta_{n-1}/F}, \quad
                  R_n = 1 + (R_{n-1} - u_{n-1} R_{n-1} - 1) e^{-\Delta_{n-1}/D}, \quad u_1 = U,\ R_1 = 1

        with :math:`e^{-\Delta/0} = 0`: ``D = F = 0`` (the default, with ``U = 1``) is a static synapse
        adding :math:`A U` per spike. ``A`` in A (signed), ``U`` in (0, 1], ``D``, ``F`` >= 0 s.
        """
        return self._add_group(f"{self._owner}.add_synapses", "synapse", names, (npre, npost),
                               {"A": A, "U": U, "D": D, "F": F, "delay": delay, "tau": tau})

    def add_spike_sources(self, names, np_, nn, channel) -> ElementGroup:
        """Add many input spike sources across ``np_``-``nn``: the spikes of input channel ``channel``
        (integer >= 0), given when the network runs (:mod:`neurosim.dynamics.spiking`)."""
        return self._add_group(f"{self._owner}.add_spike_sources", "spikes", names, (np_, nn), {"channel": channel})


def _device_state(owner: str, model, state, n: int) -> np.ndarray:
    for attr in ("current", "dstate_dt", "state_bounds"):
        if not hasattr(model, attr):
            raise ParameterError(f"{owner}: model must provide {attr!r} (device-model protocol), got {model!r}")
    if state is None:
        state = getattr(model, "initial_state", None)
        if state is None:
            raise ParameterError(f"{owner}: state is required (model {type(model).__name__} has no initial_state)")
    try:
        arr = np.array(np.broadcast_to(np.asarray(state, dtype=np.float64), (n,)))
    except (TypeError, ValueError):
        raise ParameterError(f"{owner}: state must be a real scalar or an array of length {n}, got {state!r}") from None
    lo, hi = model.state_bounds
    bad = ~np.isfinite(arr) | (arr < lo) | (arr > hi)
    if bad.any():
        raise ParameterError(
            f"{owner}: state must be a real number in [{lo}, {hi}], got {float(arr[np.flatnonzero(bad)[0]])!r}"
        )
    return arr
