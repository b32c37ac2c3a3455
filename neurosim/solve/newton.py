"""Damped Newton-Raphson on the MNA system (companion form), shared by DC and transient analyses.

Every iteration linearises each nonlinear element at its (limited) branch voltage and solves the
resulting linear system for the new unknowns directly:

.. math:: \\left(A + G_{shunt} + G_C + \\sum_e g_e\\right) x^{k+1} = b - \\sum_e I_{eq,e},
          \\quad I_{eq} = i(v_{lim}) - g\\, v_{lim}

Diode junction voltages are limited with SPICE's ``pnjlim``. A device's voltage step is limited to
``dv_max`` only where the device's linearisation fails over the step: where the current at the new
voltage differs from the tangent's prediction by more than 10 % (the test costs one current
evaluation per device and iteration). An ohmic device therefore takes the full Newton step at any
voltage (a memristor at 1e6 V solves in two iterations, not a million 1 V steps), while a sinh or
exponential device is walked up its curve. In transient mode the device states are extra unknowns, integrated jointly:

.. math:: s - h\\theta f(s, v) = s_n + h(1-\\theta) f_n

(``theta`` = 1 backward Euler, 1/2 trapezoidal), linearised with central differences.
"""

from __future__ import annotations

import dataclasses
import numpy as np

from neurosim.solve.assemble import Pattern, conductance_stamps, scatter_add
from neurosim.solve.nonlinear import device_iv, device_state_eval, diode_charge, diode_iv, diode_limit, switch_eval

__all__ = ["NewtonEngine", "NewtonResult", "Tolerances"]


@dataclasses.dataclass(frozen=True)
class Tolerances:
    """Newton convergence: every unknown's update within ``abs + reltol * |value|``.

    Attributes
    ----------
    reltol : float
        Relative tolerance.
    vntol : float
        Absolute tolerance of node voltages, V.
    abstol : float
        Absolute tolerance of branch currents, A.
    state_tol : float
        Absolute tolerance of device states, relative to each model's state range.
    """

    reltol: float = 1e-9
    vntol: float = 1e-9
    abstol: float = 1e-12
    state_tol: float = 1e-9


@dataclasses.dataclass
class NewtonResult:
    z: np.ndarray
    converged: bool
    iterations: int
    residual: float = np.nan
    worst: int = -1


def _v(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Voltages of unknown indices (ground -1 -> 0 V)."""
    return np.where(idx >= 0, x[np.maximum(idx, 0)], 0.0)


def _solve(m, r):
    from neurosim.errors import NetlistError
    from neurosim.solve.linear import factorize

    try:
        return factorize(m).solve(r)
    except NetlistError:
        return None


class NewtonEngine:
    """Precomputed stamp pattern of a compiled circuit for repeated Newton solves.

    Parameters
    ----------
    cc : CompiledCircuit
    joint : bool
        Include the device states as unknowns (transient).
    vcon : tuple of two int arrays, optional
        Extra ideal voltage constraints ``v(a) - v(b) = value`` with their own branch-current
        unknowns (used to start a transient from capacitor initial conditions); not with ``joint``.
    """

    def __init__(self, cc, joint: bool = False, vcon=None, inductor_ic: bool = False):
        self.cc = cc
        n = cc.size
        self.n = n
        self.joint = joint and cc.n_states > 0
        ns = cc.n_states if self.joint else 0
        m = 0 if vcon is None else len(vcon[0])
        self.n_vcon = m
        self.size = n + ns + m
        self.dev_a = np.concatenate([g.a for g in cc.devices]) if cc.devices else np.zeros(0, np.int64)
        self.dev_b = np.concatenate([g.b for g in cc.devices]) if cc.devices else np.zeros(0, np.int64)
        ar, ac, self.a_vals = cc.linear_triplets()
        if inductor_ic:
            # initial point with inductor initial currents: each inductor branch row reads i = ic
            # (its v1 - v2 entries zeroed, 1 on the diagonal via ind_r = -1, ic on the right)
            self.a_vals = np.where(np.isin(ar, cc.l_row), 0.0, self.a_vals)
        nodes = np.arange(cc.n_nodes)
        cr, cc_, _ = conductance_stamps(cc.cap_a, cc.cap_b, cc.cap_c)
        dr, dc, _ = conductance_stamps(cc.d_j, cc.d_k, cc.d_is)
        a, b, p, q = cc.sw_a, cc.sw_b, cc.sw_cp, cc.sw_cn
        sr = np.concatenate([a, a, a, a, b, b, b, b])
        sc = np.concatenate([a, b, p, q, a, b, p, q])
        vr, vc, _ = conductance_stamps(self.dev_a, self.dev_b, np.zeros(self.dev_a.size))
        # inductor branch rows: the companion resistance -R_eq on the diagonal (0 at DC)
        rows = [ar, nodes, cr, dr, sr, vr, cc.l_row]
        cols = [ac, nodes, cc_, dc, sc, vc, cc.l_row]
        if cc.behavioral is not None:  # B sources: d f / d (referenced unknowns)
            rows.append(cc.behavioral.rows)
            cols.append(cc.behavioral.cols)
        self.t = 0.0  # time (s) seen by B-source expressions
        if self.joint:
            k = n + np.arange(ns)
            rows += [self.dev_a, self.dev_b, k, k, k]
            cols += [k, k, k, self.dev_a, self.dev_b]
        self.vcon_vals = np.zeros(0)
        if m:
            va, vb = (np.asarray(v, dtype=np.int64) for v in vcon)
            j = n + np.arange(m)
            rows += [va, vb, j, j]
            cols += [j, j, va, vb]
            self.vcon_vals = np.concatenate([np.ones(m), -np.ones(m), np.ones(m), -np.ones(m)])
        self.pattern = Pattern(np.concatenate(rows), np.concatenate(cols), self.size)
        self.state_lo = np.concatenate([np.broadcast_to(g.model.state_bounds[0], g.names.shape) for g in cc.devices]) if cc.devices else np.zeros(0)
        self.state_hi = np.concatenate([np.broadcast_to(g.model.state_bounds[1], g.names.shape) for g in cc.devices]) if cc.devices else np.zeros(0)

    # ------------------------------------------------------------------ one linearisation
    def _linearise(self, z, vj_l, vd_l, states, cap_g, gshunt, step, gmin=0.0, ind_r=None, dq=None):
        """Matrix values and nonlinear RHS contributions linearised at the limited voltages."""
        cc, n = self.cc, self.n
        x = z[:n]
        r = np.zeros(self.size)
        # diodes (with the junction charge's companion in a transient step: i += coef (q - q_n) - i_n)
        d = cc.diodes
        i_d, g_d = diode_iv(vj_l, d.i_s, d.nvt, d.bv, d.nbvt, d.g_min)
        if dq is not None:
            q, c = diode_charge(vj_l, i_d, g_d, d)
            i_d, g_d = i_d + dq["coef"] * (q - dq["q_n"]) - dq["i_n"], g_d + dq["coef"] * c
        i_d, g_d = i_d + gmin * vj_l, g_d + gmin
        ieq = i_d - g_d * vj_l
        scatter_add(r, cc.d_j, -ieq)
        scatter_add(r, cc.d_k, ieq)
        # switches (no limiting: the conductance is bounded)
        v12 = _v(x, cc.sw_a) - _v(x, cc.sw_b)
        vcs = _v(x, cc.sw_cp) - _v(x, cc.sw_cn)
        i_w, g_w, h_w = switch_eval(v12, vcs, cc.sw_gon + gmin, cc.sw_goff + gmin, cc.sw_vt, cc.sw_vw)
        ieq_w = i_w - g_w * v12 - h_w * vcs
        scatter_add(r, cc.sw_a, -ieq_w)
        scatter_add(r, cc.sw_b, ieq_w)
        # devices
        nd = self.dev_a.size
        g_v = np.zeros(nd)
        ieq_v = np.zeros(nd)
        extra = []
        if nd:
            ii, gg = [], []
            f_all, fs_all, fv_all, is_all = [], [], [], []
            for grp in cc.devices:
                sl = slice(grp.offset, grp.offset + grp.names.size)
                s = states[sl]
                i0, g0 = device_iv(grp.model, s, vd_l[sl])
                ii.append(i0)
                gg.append(g0)
                if self.joint:
                    f, fs, fv, i_s = device_state_eval(grp.model, s, vd_l[sl])
                    f_all.append(f), fs_all.append(fs), fv_all.append(fv), is_all.append(i_s)
            self._dev_tangent = (np.concatenate(ii), np.concatenate(gg), states)
            i0, g_v = np.concatenate(ii) + gmin * vd_l, np.concatenate(gg) + gmin
            ieq_v = i0 - g_v * vd_l
            if self.joint:
                f, fs, fv, i_s = (np.concatenate(a) for a in (f_all, fs_all, fv_all, is_all))
                h, th = step["h"], step["theta"]
                ieq_v = ieq_v - i_s * states
                r[n:] = step["s_n"] + h * (1 - th) * step["f_n"] + h * th * (f - fs * states - fv * vd_l)
                extra = [i_s, -i_s, 1.0 - h * th * fs, -h * th * fv, h * th * fv]
            scatter_add(r, self.dev_a, -ieq_v)
            scatter_add(r, self.dev_b, ieq_v)
        vals = [
            self.a_vals,
            np.full(cc.n_nodes, gshunt),
            np.tile(cap_g, 4) * np.repeat([1.0, 1.0, -1.0, -1.0], cap_g.size) if cap_g.size else cap_g,
            np.concatenate([g_d, g_d, -g_d, -g_d]),
            np.concatenate([g_w, -g_w, h_w, -h_w, -g_w, g_w, -h_w, h_w]),
            np.concatenate([g_v, g_v, -g_v, -g_v]),
            np.zeros(cc.l_row.size) if ind_r is None else -np.broadcast_to(ind_r, cc.l_row.shape),
        ]
        if cc.behavioral is not None:
            b_vals, b_r = cc.behavioral.linearise(x, self.t, cc.size)
            vals.append(b_vals)
            r[: cc.size] += b_r
        vals = vals + extra + [self.vcon_vals]
        return np.concatenate(vals), r

    def at_bound_outward(self, z, mask) -> np.ndarray:
        """Which states sit at a bound with the rate just inside it pointing outward (or zero)."""
        return self.cc_bound_outward(z[self.n :], z[: self.n], mask)

    def cc_bound_outward(self, s, x, mask=None) -> np.ndarray:
        lo, hi = self.state_lo, self.state_hi
        span = np.where(np.isfinite(hi - lo), hi - lo, 1.0)
        at_hi = s >= hi - 1e-12 * span
        at_lo = s <= lo + 1e-12 * span
        out = np.zeros(s.size, bool)
        cand = (at_hi | at_lo) if mask is None else (mask & (at_hi | at_lo))
        if not cand.any():
            return out
        probe = np.where(at_hi, hi - 1e-9 * span, lo + 1e-9 * span)
        f_in = np.zeros(s.size)
        for g in self.cc.devices:
            sl = slice(g.offset, g.offset + g.names.size)
            v = _v(x, g.a) - _v(x, g.b)
            f_in[sl] = np.broadcast_to(np.asarray(g.model.dstate_dt(probe[sl], v), dtype=np.float64), v.shape)
        return cand & ((at_hi & (f_in >= 0)) | (at_lo & (f_in <= 0)))

    def _pin(self, vals, r, pinned, s):
        """Replace the state equations of pinned states by ``s_k = s_k`` (held at its bound)."""
        ns = pinned.size
        vals = vals.copy()
        # joint blocks, in pattern order: [i_s (a), -i_s (b), diag, -h theta f_v (a), h theta f_v (b)]
        start = vals.size - 5 * ns - self.vcon_vals.size
        diag = slice(start + 2 * ns, start + 3 * ns)
        fva = slice(start + 3 * ns, start + 4 * ns)
        fvb = slice(start + 4 * ns, start + 5 * ns)
        vals[diag][pinned] = 1.0
        vals[fva][pinned] = 0.0
        vals[fvb][pinned] = 0.0
        r = r.copy()
        r[self.n :][pinned] = s[pinned]
        return vals, r

    def element_voltages(self, z):
        x = z[: self.n]
        cc = self.cc
        return _v(x, cc.d_j) - _v(x, cc.d_k), _v(x, self.dev_a) - _v(x, self.dev_b)

    # ------------------------------------------------------------------ the iteration
    def run(
        self,
        z0: np.ndarray,
        b: np.ndarray,
        states: np.ndarray,
        cap_g: np.ndarray | None = None,
        gshunt: float = 0.0,
        step: dict | None = None,
        gmin: float = 0.0,
        limiting: bool = True,
        dv_max: float = 1.0,
        max_iter: int = 100,
        tol: Tolerances = Tolerances(),
        init_junctions: bool = False,
        ind_r: np.ndarray | None = None,
        dq: dict | None = None,
        t: float = 0.0,
    ) -> NewtonResult:
        """Iterate from ``z0`` with right-hand side ``b`` (size ``cc.size``, plus the ``vcon`` values).

        ``states`` are fixed unless ``joint`` (then they are the initial guess of the state unknowns).
        ``ind_r``: inductor companion resistances (ohm) put as ``-ind_r`` on the diagonal of their
        branch rows (``None``: 0, DC). ``dq``: the diode charges' integration in a transient step
        (``coef`` 1/h or 2/h, previous charges ``q_n``, previous charge currents ``i_n``; ``None``: DC).
        ``t``: the time (s) of this solve, for B-source expressions that use ``time``.
        """
        cc, n = self.cc, self.n
        self.t = float(t)
        z = np.array(z0, dtype=np.float64)
        if z.size == n and self.size > n:
            z = np.concatenate([z, states if self.joint else np.zeros(self.size - n)])
        cap_g = np.zeros(cc.cap_c.size) if cap_g is None else cap_g
        rhs_base = np.zeros(self.size)
        rhs_base[: np.size(b)] = b
        vj_l, vd_l = self.element_voltages(z)
        if init_junctions:
            # SPICE's MODEINITJCT: linearise every diode at its critical voltage in the first
            # iteration instead of at 0 V (saves the log-steps of pnjlim up from 0 V)
            vj_l = cc.diodes.vcrit.copy()
        span = np.where(np.isfinite(self.state_hi - self.state_lo), self.state_hi - self.state_lo, 1.0)
        atol = np.concatenate(
            [np.full(cc.n_nodes, tol.vntol), np.full(cc.n_branches, tol.abstol)]
            + ([tol.state_tol * span] if self.joint else [])
            + [np.full(self.n_vcon, tol.abstol)]
        )
        if self.joint:
            z[n:] = np.clip(z[n:], self.state_lo, self.state_hi)
            clip_count = np.zeros(z.size - n, np.int64)
            pre = step.get("pinned") if step else None
            pinned = np.zeros(z.size - n, bool) if pre is None else pre.copy()
            z[n:][pinned] = step["s_n"][pinned]
            unpinned_once = np.zeros(z.size - n, bool)
        for it in range(1, max_iter + 1):
            s_lin = z[n:] if self.joint else states
            vals, r = self._linearise(z, vj_l, vd_l, s_lin, cap_g, gshunt, step, gmin, ind_r, dq)
            if self.joint and pinned.any():
                vals, r = self._pin(vals, r, pinned, z[n:])
            z_new = _solve(self.pattern.matrix(vals), rhs_base + r)
            if z_new is None or not np.all(np.isfinite(z_new)):
                return NewtonResult(z, False, it, np.inf, -1)
            if self.joint:
                # project the states onto their bounds; a state clipped twice is pinned there for
                # the rest of this solve (models often stop a state at a bound discontinuously,
                # where plain Newton would cycle across the bound)
                s_raw = z_new[n:]
                s_cl = np.clip(s_raw, self.state_lo, self.state_hi)
                clip_count += s_cl != s_raw
                pinned |= clip_count >= 2
                z_new[n:] = np.where(pinned, z[n:], s_cl)
            dz = np.abs(z_new - z)
            small = bool(np.all(dz <= atol + tol.reltol * np.maximum(np.abs(z_new), np.abs(z))))
            vj, vd = self.element_voltages(z_new)
            vj_next = diode_limit(vj, vj_l, cc.diodes) if limiting else vj
            vd_next = self._limit_devices(vd_l, vd, dv_max) if limiting else vd
            limited = bool(np.any(vj_next != vj) or np.any(vd_next != vd))
            z = z_new
            vj_l, vd_l = vj_next, vd_next
            if (small and not limited and it > 1) or not cc.nonlinear:  # a linear system is solved exactly
                if self.joint and pinned.any():
                    # a pinned state must still want to stay at its bound at the new voltages
                    # (else it leaves the bound during this step: solve again with it free)
                    bad = pinned & ~self.at_bound_outward(z, pinned)
                    if bad.any():
                        if (bad & unpinned_once).any():
                            break
                        pinned &= ~bad
                        unpinned_once |= bad
                        clip_count[bad] = 0
                        continue
                return NewtonResult(z, True, it)
        res, worst = self.residual(z, b, states, cap_g, gshunt, step, gmin, ind_r, dq)
        return NewtonResult(z, False, max_iter, res, worst)

    def _limit_devices(self, vd_l, vd, dv_max):
        """Device voltages for the next linearisation: the full step where the tangent at ``vd_l``
        predicts the current at ``vd`` within 10 %, else a step of at most ``dv_max``."""
        step = vd - vd_l
        big = np.abs(step) > dv_max
        if not big.any():
            return vd
        i_l, g_l, states = self._dev_tangent
        i_new = np.empty_like(vd)
        for grp in self.cc.devices:
            sl = slice(grp.offset, grp.offset + grp.names.size)
            i_new[sl] = np.broadcast_to(np.asarray(grp.model.current(states[sl], vd[sl]), dtype=np.float64), vd[sl].shape)
        predicted = i_l + g_l * step
        with np.errstate(over="ignore", invalid="ignore"):
            linear = np.abs(i_new - predicted) <= 0.1 * np.maximum(np.abs(i_new), np.abs(i_l))
        clipped = vd_l + np.clip(step, -dv_max, dv_max)
        return np.where(big & ~linear, clipped, vd)

    def residual(self, z, b, states, cap_g=None, gshunt=0.0, step=None, gmin=0.0, ind_r=None, dq=None):
        """KCL residual at ``z`` (no limiting): max |F| over node rows and the worst node index."""
        cap_g = np.zeros(self.cc.cap_c.size) if cap_g is None else cap_g
        vj, vd = self.element_voltages(z)
        s = np.clip(z[self.n :], self.state_lo, self.state_hi) if self.joint else states
        vals, r = self._linearise(z, vj, vd, s, cap_g, gshunt, step, gmin, ind_r, dq)
        f = self.pattern.matrix(vals) @ z - r
        f[: np.size(b)] -= b
        node_f = np.abs(f[: self.cc.n_nodes])
        if node_f.size == 0:
            return 0.0, -1
        k = int(np.argmax(node_f))
        return float(node_f[k]), k
