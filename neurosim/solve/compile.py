"""Compile a netlist into flat arrays and the sparse MNA matrix of its linear part.

Unknowns ``x`` (modified nodal analysis): the voltages of all non-ground nodes (netlist order, then
one internal node per diode with a series resistance), followed by the branch currents of the
voltage sources, the VCVS, the CCVS and the inductors (in that order). The linear static part

.. math:: A x = b(t)

holds resistors, diode series resistances, VCCS and CCCS, and the branch equations of V sources,
VCVS, CCVS and inductors (an inductor's branch row reads :math:`v_1 - v_2 = 0`: a short at DC); the
right-hand side ``b`` the independent sources. Capacitors, inductor impedances (the diagonal entry
of their branch row), diodes, switches and devices are stamped by the analyses around this
(companion models, Newton linearisation, :math:`j\\omega` terms).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp

from neurosim.errors import NetlistError, ParameterError
from neurosim.netlist.elements import DIODE_DEFAULTS, KINDS
from neurosim.solve.nonlinear import diode_temperature
from neurosim.solve.assemble import conductance_stamps, scatter_add, to_csc

__all__ = ["compile", "CompiledCircuit", "DeviceGroup"]


@dataclasses.dataclass(eq=False)
class DeviceGroup:
    """Devices sharing one model: terminal unknowns ``a``, ``b`` (-1 = ground) and states."""

    model: object
    names: np.ndarray
    a: np.ndarray
    b: np.ndarray
    state: np.ndarray
    offset: int  # index of this group's first device in the concatenated state vector


#: Element kinds the circuit engine stamps (the others belong to higher layers' own compilers).
_SIMULATED = {"resistor", "capacitor", "vsource", "isource", "vcvs", "vccs", "inductor", "cccs", "ccvs", "diode",
              "switch", "device", "bcurrent", "bvoltage"}


def _phasor(mag: np.ndarray, phase_deg: np.ndarray) -> np.ndarray:
    """Complex small-signal source values; unset (NaN) magnitude or phase counts as 0."""
    m = np.nan_to_num(mag, nan=0.0)
    ph = np.deg2rad(np.nan_to_num(phase_deg, nan=0.0))
    return m * np.exp(1j * ph)


def _cat(arrs, dtype=np.float64):
    return np.concatenate(arrs) if arrs else np.zeros(0, dtype)


class CompiledCircuit:
    """Flat arrays of a netlist, ready for the analyses (:func:`~neurosim.solve.dc`, ...).

    Attributes
    ----------
    node_names : list of str
        Node of each voltage unknown (ground excluded).
    branch_names : list of str
        Element of each branch-current unknown (V sources then VCVS).
    n_nodes, n_branches, size : int
        Counts; ``size = n_nodes + n_branches``.
    A : scipy.sparse.csc_matrix
        The linear static MNA matrix (see module docstring).
    nonlinear : bool
        Whether diodes, switches or devices are present.
    devices : list of DeviceGroup
        Device groups; ``states`` concatenates their states.
    """

    def __init__(self, netlist):
        groups = netlist.groups
        if not groups:
            raise NetlistError("compile: the netlist has no elements")
        names = netlist.node_names
        self.title = getattr(netlist, "title", "")
        self.n_nodes_netlist = len(names) - 1
        by = {}
        for g in groups:
            by.setdefault(g.kind, []).append(g)

        def cols(kind, k):
            return _cat([g.nodes[:, k] - 1 for g in by.get(kind, [])], np.int64)

        def par(kind, p):
            return _cat([g.params[p] for g in by.get(kind, [])])

        def nm(kind):
            return _cat([g.names for g in by.get(kind, [])], str)

        def waves(kind):
            out = []
            for g in by.get(kind, []):
                out.extend(g.waveforms if g.waveforms is not None else [None] * len(g))
            return out

        # --- linear two-terminal elements
        self.res_names, self.res_a, self.res_b = nm("resistor"), cols("resistor", 0), cols("resistor", 1)
        self.res_g = 1.0 / par("resistor", "resistance")
        self.cap_names, self.cap_a, self.cap_b = nm("capacitor"), cols("capacitor", 0), cols("capacitor", 1)
        self.cap_c, self.cap_ic = par("capacitor", "capacitance"), par("capacitor", "ic")
        # --- diodes: series resistance gets an internal node "<name>#j"
        self.d_names, d_a, self.d_k = nm("diode"), cols("diode", 0), cols("diode", 1)
        dp = {k: par("diode", k) for k in KINDS["diode"].params}
        for k, default in DIODE_DEFAULTS.items():  # NaN: not given
            dp[k] = np.where(np.isnan(dp[k]), dp["n"] if k == "nbv" else default, dp[k])
        self.diodes = diode_temperature(dp)
        self.d_is, self.d_nvt = self.diodes.i_s, self.diodes.nvt
        d_rs = par("diode", "r_s")
        has_rs = d_rs > 0
        n_int = int(has_rs.sum())
        self.d_anode = d_a
        self.d_j = d_a.copy()  # junction anode unknown
        self.d_j[has_rs] = self.n_nodes_netlist + np.arange(n_int)
        self.d_rs_g = 1.0 / d_rs[has_rs]
        self.d_rs_idx = np.flatnonzero(has_rs)
        self.node_names = names[1:] + [f"{s}#j" for s in self.d_names[has_rs].tolist()]
        self.n_nodes = len(self.node_names)
        # --- switches
        self.sw_names = nm("switch")
        self.sw_a, self.sw_b, self.sw_cp, self.sw_cn = (cols("switch", k) for k in range(4))
        self.sw_gon, self.sw_goff = 1.0 / par("switch", "r_on"), 1.0 / par("switch", "r_off")
        self.sw_vt, self.sw_vw = par("switch", "v_t"), par("switch", "v_w")
        # --- devices (one DeviceGroup per netlist group: array parameters belong to their group)
        self.devices = []
        off = 0
        for g in by.get("device", []):
            self.devices.append(DeviceGroup(g.model, g.names, g.nodes[:, 0] - 1, g.nodes[:, 1] - 1, g.params["state"].copy(), off))
            off += len(g)
        self.n_states = off
        # --- sources and branches
        self.vs_names, self.vs_p, self.vs_n = nm("vsource"), cols("vsource", 0), cols("vsource", 1)
        self.vs_dc, self.vs_wave = par("vsource", "dc"), waves("vsource")
        self.is_names, self.is_p, self.is_n = nm("isource"), cols("isource", 0), cols("isource", 1)
        self.is_dc, self.is_wave = par("isource", "dc"), waves("isource")
        self.e_names = nm("vcvs")
        self.e_p, self.e_n, self.e_cp, self.e_cn = (cols("vcvs", k) for k in range(4))
        self.e_gain = par("vcvs", "gain")
        self.vs_ac = _phasor(par("vsource", "ac_mag"), par("vsource", "ac_phase"))
        self.is_ac = _phasor(par("isource", "ac_mag"), par("isource", "ac_phase"))
        # --- VCCS (G): current gain * v(cp, cn) from p through the source to n
        self.g_names = nm("vccs")
        self.g_p, self.g_n, self.g_cp, self.g_cn = (cols("vccs", k) for k in range(4))
        self.g_gain = par("vccs", "gain")
        # --- CCVS (H) and inductors (L) have branch currents; CCCS (F) only a controlling column
        self.h_names, self.h_p, self.h_n = nm("ccvs"), cols("ccvs", 0), cols("ccvs", 1)
        self.h_gain = par("ccvs", "gain")
        self.l_names, self.l_a, self.l_b = nm("inductor"), cols("inductor", 0), cols("inductor", 1)
        self.l_ind, self.l_ic = par("inductor", "inductance"), par("inductor", "ic")
        self.f_names, self.f_p, self.f_n = nm("cccs"), cols("cccs", 0), cols("cccs", 1)
        self.f_gain = par("cccs", "gain")
        # --- behavioural (B) sources: current form (like an I source) and voltage form (a branch row)
        self.bi_names, self.bi_p, self.bi_n = nm("bcurrent"), cols("bcurrent", 0), cols("bcurrent", 1)
        self.bv_names, self.bv_p, self.bv_n = nm("bvoltage"), cols("bvoltage", 0), cols("bvoltage", 1)
        self.bi_expr = [g.model for g in by.get("bcurrent", []) for _ in range(len(g))]
        self.bv_expr = [g.model for g in by.get("bvoltage", []) for _ in range(len(g))]
        nv, ne, nh, nl = self.vs_names.size, self.e_names.size, self.h_names.size, self.l_names.size
        self.vs_row = self.n_nodes + np.arange(nv)
        self.e_row = self.n_nodes + nv + np.arange(ne)
        self.h_row = self.n_nodes + nv + ne + np.arange(nh)
        self.l_row = self.n_nodes + nv + ne + nh + np.arange(nl)
        self.bv_row = self.n_nodes + nv + ne + nh + nl + np.arange(self.bv_names.size)
        self.branch_names = (self.vs_names.tolist() + self.e_names.tolist() + self.h_names.tolist() + self.l_names.tolist()
                             + self.bv_names.tolist())
        self.n_branches = nv + ne + nh + nl + self.bv_names.size
        # controls: V sources, VCVS and CCVS (not inductors, as in ngspice)
        n_ctl = nv + ne + nh
        rows_by_name = dict(zip(self.branch_names[:n_ctl], range(self.n_nodes, self.n_nodes + n_ctl)))

        def controls(kind):
            names = [c for g in by.get(kind, []) for c in g.controls.tolist()]
            missing = [c for c in names if c not in rows_by_name]
            if missing:
                raise NetlistError(
                    f"compile: {kind} controlled by {missing[0]!r}, which is not a voltage source, VCVS or CCVS "
                    "of this netlist"
                )
            return np.array([rows_by_name[c] for c in names], dtype=np.int64)

        self.h_ctrl, self.f_ctrl = controls("ccvs"), controls("cccs")
        self.size = self.n_nodes + self.n_branches
        self.behavioral = BehavioralStamps(self, names[1:]) if (self.bi_names.size or self.bv_names.size) else None
        self.nonlinear = bool(self.d_names.size or self.sw_names.size or self.devices or self.behavioral)
        self.A = self._linear_matrix()
        self._index = None
        self._node_index = None

    # ------------------------------------------------------------------ matrices
    def linear_triplets(self):
        """COO triplets ``(rows, cols, vals)`` of :attr:`A` (ground entries still present as -1)."""
        r1, c1, v1 = conductance_stamps(self.res_a, self.res_b, self.res_g)
        ja, jj = self.d_anode[self.d_rs_idx], self.d_j[self.d_rs_idx]
        r2, c2, v2 = conductance_stamps(ja, jj, self.d_rs_g)
        # branch k: KCL rows p (+i), n (-i); branch row: v_p - v_n - gain (v_cp - v_cn) (VCVS),
        # v_p - v_n - r i_ctrl (CCVS), v_1 - v_2 (inductor: the analyses add -L d/dt on the diagonal)
        p = np.concatenate([self.vs_p, self.e_p, self.h_p, self.l_a, self.bv_p])
        q = np.concatenate([self.vs_n, self.e_n, self.h_n, self.l_b, self.bv_n])
        row = np.concatenate([self.vs_row, self.e_row, self.h_row, self.l_row, self.bv_row])
        one = np.ones(row.size)
        eg, gm, fg = self.e_gain, self.g_gain, self.f_gain
        rows = [r1, r2, p, q, row, row, self.e_row, self.e_row, self.h_row,
                self.g_p, self.g_p, self.g_n, self.g_n, self.f_p, self.f_n]
        cols = [c1, c2, row, row, p, q, self.e_cp, self.e_cn, self.h_ctrl,
                self.g_cp, self.g_cn, self.g_cp, self.g_cn, self.f_ctrl, self.f_ctrl]
        vals = [v1, v2, one, -one, one, -one, -eg, eg, -self.h_gain, gm, -gm, -gm, gm, fg, -fg]
        return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)

    def _linear_matrix(self) -> sp.csc_matrix:
        r, c, v = self.linear_triplets()
        return to_csc(r, c, v, self.size)

    # ------------------------------------------------------------------ sources
    @property
    def source_names(self) -> list[str]:
        """Independent sources in right-hand-side column order: V sources, then I sources."""
        return self.vs_names.tolist() + self.is_names.tolist()

    def source_values(self, t: float | None = None) -> np.ndarray:
        """Values of all independent sources (V, then A): DC values, or waveforms at time ``t`` (s)."""
        out = np.concatenate([self.vs_dc, self.is_dc])
        if t is not None:
            for k, w in enumerate(self.vs_wave + self.is_wave):
                if w is not None:
                    out[k] = float(w.value(t))
        return out

    def source_matrix(self, sources=None) -> sp.csc_matrix:
        """Sparse ``(size, k)`` map from source values to the right-hand side ``b``.

        .. math:: b = B\\,u, \\quad B_{\\text{row}(V_k), k} = 1, \\quad B_{p(I_k), k} = -1,\\ B_{n(I_k), k} = 1

        Parameters
        ----------
        sources : sequence of str, optional
            Source names (default: :attr:`source_names`).
        """
        nv = self.vs_names.size
        allidx = np.arange(nv + self.is_names.size)
        sel = allidx if sources is None else self.source_index(sources)
        is_v = sel < nv
        kv = np.flatnonzero(is_v)
        ki = np.flatnonzero(~is_v)
        ii = sel[~is_v] - nv
        rows = np.concatenate([self.vs_row[sel[is_v]], self.is_p[ii], self.is_n[ii]])
        cols = np.concatenate([kv, ki, ki])
        vals = np.concatenate([np.ones(kv.size), -np.ones(ki.size), np.ones(ki.size)])
        keep = rows >= 0
        return sp.csc_matrix((vals[keep], (rows[keep], cols[keep])), shape=(self.size, sel.size))

    def source_index(self, sources) -> np.ndarray:
        """Positions of the named sources in :attr:`source_names`."""
        if isinstance(sources, str):
            sources = [sources]
        lookup = {s: k for k, s in enumerate(self.source_names)}
        try:
            return np.array([lookup[s] for s in sources], dtype=np.int64)
        except KeyError as exc:
            raise ParameterError(f"CompiledCircuit: no independent source named {exc.args[0]!r}") from None

    def rhs(self, values=None, t: float | None = None) -> np.ndarray:
        """Right-hand side ``b`` (size,) from all source ``values`` (default: DC or time ``t``)."""
        u = self.source_values(t) if values is None else np.asarray(values, dtype=np.float64)
        b = np.zeros(self.size)
        nv = self.vs_names.size
        b[self.vs_row] = u[:nv]
        scatter_add(b, self.is_p, -u[nv:])
        scatter_add(b, self.is_n, u[nv:])
        return b

    def breakpoints(self, t_stop: float) -> np.ndarray:
        """Sorted source-waveform corners in ``(0, t_stop]`` (s)."""
        pts = [w.breakpoints(t_stop) for w in self.vs_wave + self.is_wave if w is not None]
        return np.unique(np.concatenate(pts)) if pts else np.zeros(0)

    # ------------------------------------------------------------------ names
    def element_index(self, name: str) -> tuple[str, int]:
        """``(kind, position within its kind's arrays)`` of an element or ``("node", k)`` of a node."""
        if self._index is None:
            idx = {}
            for kind, arr in [
                ("resistor", self.res_names), ("capacitor", self.cap_names), ("vsource", self.vs_names),
                ("isource", self.is_names), ("vcvs", self.e_names), ("diode", self.d_names),
                ("switch", self.sw_names), ("vccs", self.g_names), ("ccvs", self.h_names),
                ("inductor", self.l_names), ("cccs", self.f_names), ("bcurrent", self.bi_names),
                ("bvoltage", self.bv_names),
            ]:
                idx.update(zip(arr.tolist(), ((kind, k) for k in range(arr.size))))
            for g in self.devices:
                idx.update(zip(g.names.tolist(), (("device", g.offset + k) for k in range(g.names.size))))
            self._index = idx
        if name in self._index:
            return self._index[name]
        raise ParameterError(f"CompiledCircuit: no element named {name!r}")

    def node_index(self, name: str) -> int:
        """Unknown index of a node voltage (-1 for ground ``"0"``)."""
        if name == "0":
            return -1
        if getattr(self, "_node_index", None) is None:
            self._node_index = {s: k for k, s in enumerate(self.node_names)}
        try:
            return self._node_index[name]
        except KeyError:
            raise ParameterError(f"CompiledCircuit: no node named {name!r}") from None

    @property
    def states(self) -> np.ndarray:
        """Concatenated device states (copy)."""
        return _cat([g.state for g in self.devices]).copy()

    def set_states(self, states) -> None:
        """Set all device states from a concatenated array (checked against each model's bounds)."""
        s = np.asarray(states, dtype=np.float64)
        if s.shape != (self.n_states,):
            raise ParameterError(f"CompiledCircuit: states must have shape ({self.n_states},), got {s.shape}")
        for g in self.devices:
            g.state = s[g.offset : g.offset + g.names.size].copy()

    def linear_solver(self, permc_spec: str = "MMD_AT_PLUS_A", port_last="auto"):
        """Factorize :attr:`A` once: see :class:`~neurosim.solve.linear.LinearSolver`."""
        from neurosim.solve.linear import LinearSolver

        return LinearSolver(self, permc_spec=permc_spec, port_last=port_last)

    def __repr__(self) -> str:
        return (
            f"CompiledCircuit({self.title!r}, {self.n_nodes} nodes, {self.n_branches} branches, "
            f"{'nonlinear' if self.nonlinear else 'linear'})"
        )


class BehavioralStamps:
    r"""The B sources of a compiled circuit: their references resolved to unknowns, and their
    Newton linearisation.

    A current-form source carries :math:`i = f(y)` from ``np`` through the source to ``nn``; a
    voltage-form source imposes :math:`v_p - v_n = f(y)` on its branch row. :math:`y` are the
    expression's references: node-voltage differences, branch currents (V sources, VCVS, CCVS,
    inductors, voltage-form B sources) and ``time``. Linearised at :math:`y_0` with the exact partial
    derivatives :math:`g_k = \partial f / \partial y_k` (:meth:`Expression.dual`):

    .. math:: f(y) \approx f(y_0) + \sum_k g_k (y_k - y_{0,k})

    (``time`` is not an unknown: it enters the value only).
    """

    def __init__(self, cc, node_names: list[str]):
        by_node = {}
        for k, name in enumerate(node_names):
            by_node.setdefault(name.lower(), []).append(k)
        by_node.setdefault("0", [-1])
        by_node.setdefault("gnd", [-1])
        branch = {}
        for k, name in enumerate(cc.branch_names):
            branch.setdefault(name.lower(), []).append(cc.n_nodes + k)
        self.names, self.exprs, self.kinds = [], [], []
        self.p, self.n, self.row = [], [], []
        rows, cols, signs, pairs = [], [], [], []
        self.ref_a, self.ref_b, self.ref_time, self.pair0 = [], [], [], []
        pair = 0
        elements = [("i", nm, a, b, -1, e) for nm, a, b, e in zip(cc.bi_names.tolist(), cc.bi_p, cc.bi_n, cc.bi_expr)]
        elements += [("v", nm, a, b, r, e) for nm, a, b, r, e in zip(cc.bv_names.tolist(), cc.bv_p, cc.bv_n, cc.bv_row, cc.bv_expr)]
        for kind, name, a, b, r, expr in elements:
            targets = [(int(a), 1.0), (int(b), -1.0)] if kind == "i" else [(int(r), -1.0)]
            ra, rb, rt = [], [], []
            for k, ref in enumerate(expr.refs):
                if ref[0] == "v":
                    ia, ib = (self._one(by_node, nd, name, expr, "node") for nd in ref[1:])
                    on = [(ia, 1.0), (ib, -1.0)]
                elif ref[0] == "i":
                    ia, ib = self._one(branch, ref[1], name, expr, "branch element"), -1
                    on = [(ia, 1.0)]
                else:
                    ia, ib = -1, -1
                    on = []
                ra.append(ia), rb.append(ib), rt.append(ref[0] == "time")
                for tr, ts in targets:
                    for c, cs in on:
                        rows.append(tr), cols.append(c), signs.append(ts * cs), pairs.append(pair + k)
            self.names.append(name), self.exprs.append(expr), self.kinds.append(kind)
            self.p.append(int(a)), self.n.append(int(b)), self.row.append(int(r))
            self.ref_a.append(np.array(ra, np.int64)), self.ref_b.append(np.array(rb, np.int64))
            self.ref_time.append(np.array(rt, bool)), self.pair0.append(pair)
            pair += len(expr.refs)
        self.rows, self.cols = np.array(rows, np.int64), np.array(cols, np.int64)
        self.signs, self.pairs = np.array(signs), np.array(pairs, np.int64)
        self.n_pairs = pair

    @staticmethod
    def _one(table, name, element, expr, what) -> int:
        hits = table.get(name.lower(), [])
        if len(hits) != 1:
            raise NetlistError(f"compile: B source {element!r} refers to {what} {name!r}, which "
                               f"{'is not in this netlist' if not hits else 'matches several names differing only in case'} "
                               f"(expression {expr.text!r})")
        return hits[0]

    def linearise(self, x: np.ndarray, t: float, size: int):
        """Matrix values (in the order of ``rows``/``cols``) and the right-hand side of the
        linearised B sources at unknowns ``x`` and time ``t`` (s).

        Raises
        ------
        ConvergenceError
            An expression is not finite at ``x`` (naming the source, its expression and reference values).
        """
        from neurosim.errors import ConvergenceError

        G = np.zeros(self.n_pairs)
        r = np.zeros(size)
        xg = np.concatenate([x[:size], [0.0]])  # index -1 (ground) reads 0 V
        for e, expr in enumerate(self.exprs):
            y = xg[self.ref_a[e]] - xg[self.ref_b[e]]
            y[self.ref_time[e]] = t
            f0, grad = expr.dual(y.tolist())
            g = np.zeros(y.size)
            for k, d in grad.items():
                g[k] = d
            g[self.ref_time[e]] = 0.0
            if not (np.isfinite(f0) and np.all(np.isfinite(g))):
                raise ConvergenceError(f"B source {self.names[e]!r}: {expr.text!r} is not finite at "
                                       f"{dict(zip(map(str, expr.refs), y.tolist()))}")
            G[self.pair0[e] : self.pair0[e] + y.size] = g
            ieq = f0 - float(g @ y)
            if self.kinds[e] == "i":
                if self.p[e] >= 0:
                    r[self.p[e]] -= ieq
                if self.n[e] >= 0:
                    r[self.n[e]] += ieq
            else:
                r[self.row[e]] += ieq
        return self.signs * G[self.pairs], r

    def currents(self, x: np.ndarray, t: float = 0.0) -> np.ndarray:
        """Current (A) of every current-form source at unknowns ``x`` (last axis), in ``bi_names`` order."""
        xg = np.concatenate([x, np.zeros(x.shape[:-1] + (1,))], axis=-1)
        out = []
        for e, expr in enumerate(self.exprs):
            if self.kinds[e] != "i":
                continue
            y = xg[..., self.ref_a[e]] - xg[..., self.ref_b[e]]
            y[..., self.ref_time[e]] = t
            flat = y.reshape(-1, y.shape[-1])
            out.append(np.array([expr.dual(row.tolist())[0] for row in flat]).reshape(y.shape[:-1]))
        return np.stack(out, axis=-1)


def _refuse_unsimulated(groups) -> None:
    """NetlistError naming the first element of a kind the circuit engine does not simulate."""
    for g in groups:
        if g.kind not in _SIMULATED and len(g):
            raise NetlistError(
                f"compile: element {str(g.names[0])!r} is a {g.kind!r} element, which the circuit engine does not "
                "simulate (neuron-circuit and spiking elements are run by neurosim.dynamics: compile_scipy, "
                "compile_brian2, SpikingNetwork)"
            )


def compile(netlist, validate: bool = True) -> CompiledCircuit:  # noqa: A001 - the natural name
    """Compile a :class:`~neurosim.netlist.Netlist` into a :class:`CompiledCircuit`.

    .. math:: A = \\begin{pmatrix} G & B \\\\ C & D \\end{pmatrix}

    (``G`` conductances, ``B``/``C`` incidence of V-source and VCVS branches, ``D = 0``), stamped
    from COO triplets in one vectorised call.

    Parameters
    ----------
    netlist : Netlist
        The circuit.
    validate : bool
        Run :meth:`Netlist.validate` first (floating nodes, voltage-source loops).

    Returns
    -------
    CompiledCircuit

    Raises
    ------
    NetlistError
        Empty or invalid netlist.

    Examples
    --------
    >>> from neurosim.netlist import Netlist
    >>> from neurosim.solve import compile
    >>> net = Netlist()
    >>> net.add_vsource("V1", "a", "0", 2.0)
    >>> net.add_resistor("R1", "a", "0", 1e3)
    >>> cc = compile(net)
    >>> cc.A.toarray()
    array([[0.001, 1.   ],
           [1.   , 0.   ]])
    """
    if isinstance(netlist, CompiledCircuit):
        return netlist
    _refuse_unsimulated(netlist.groups)  # before validate: its complaint would be about the wiring
    if validate:
        netlist.validate()
    return CompiledCircuit(netlist)
