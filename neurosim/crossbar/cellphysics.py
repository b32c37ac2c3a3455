"""The two-terminal I-V of a tile's cells: a memristor in series with its access device.

Cells of ``0T1R`` (the memristor), ``1T1R`` (in series with the smooth access switch of the netlist)
and ``1S1R`` (in series with a bidirectional selector, two antiparallel Shockley diodes); used by the
circuit solves of :mod:`neurosim.crossbar.circuit`.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from neurosim.netlist.elements import THERMAL_VOLTAGE

__all__ = ["CellPhysics", "switch_conductance", "ACCESS_GATE"]

#: 1T1R access switch: word-line voltage of a selected (on) / unselected (off) row, threshold and
#: transition width of the smooth switch, V.
ACCESS_GATE = {"v_on": 3.3, "v_off": 0.0, "v_t": 0.7, "v_w": 0.05}


def switch_conductance(r_on: float, r_off: float, v_gate) -> np.ndarray:
    """Conductance (S) of the smooth access switch at gate voltage ``v_gate`` (V).

    .. math:: g = g_{off} + \\frac{g_{on} - g_{off}}{1 + e^{-(v_g - v_t)/v_w}}

    The netlist's switch element, evaluated by the MNA solver's own function
    (:func:`neurosim.solve.nonlinear.switch_eval` at unit channel voltage), so the two cannot drift apart.
    """
    from neurosim.solve.nonlinear import switch_eval

    g, _, _ = switch_eval(1.0, np.asarray(v_gate, dtype=float), 1.0 / r_on, 1.0 / r_off,
                          ACCESS_GATE["v_t"], ACCESS_GATE["v_w"])
    return np.asarray(g, dtype=float)


@dataclasses.dataclass
class CellPhysics:
    """The two-terminal I-V of every cell of a tile (memristor in series with its access device).

    Parameters
    ----------
    cell : {"0T1R", "1T1R", "1S1R"}
    g : ndarray (rows, cols) or None
        Memristor conductances (S) when the memristor is linear.
    device, state : model and ndarray (rows, cols), optional
        A nonlinear memristor: ``device.current(state, v)`` and ``device.dcurrent_dv(state, v)``.
    g_access : ndarray (rows, 1) or (rows, cols), optional
        1T1R switch conductance (S).
    i_s, n : float
        1S1R selector saturation current (A) and ideality factor.
    v_t : float
        Thermal voltage (V); default the netlist layer's kT/q at 27 degC with ngspice's constants.
        The selector pair is :math:`2 I_s \\sinh(v / n V_T)` (Shockley both ways, no junction gmin);
        ngspice's reverse-region form differs from it by about :math:`I_s`, below 1e-9 of a read current.
    """

    cell: str
    g: np.ndarray | None = None
    device: object = None
    state: np.ndarray | None = None
    g_access: np.ndarray | None = None
    i_s: float = 1e-15
    n: float = 1.0
    v_t: float = THERMAL_VOLTAGE

    @property
    def linear(self) -> bool:
        """Whether the whole cell is a linear conductance."""
        return self.g is not None and self.cell != "1S1R"

    def linear_g(self) -> np.ndarray:
        """Series conductance of a linear cell (S): :math:`g g_{sw} / (g + g_{sw})` for 1T1R."""
        if self.cell == "1T1R":
            return self.g * self.g_access / (self.g + self.g_access)
        return self.g

    def _mem(self, v):
        if self.g is not None:
            return self.g * v, np.broadcast_to(self.g, np.shape(v))
        return self.device.current(self.state, v), self.device.dcurrent_dv(self.state, v)

    def _access(self, v):
        if self.cell == "1T1R":
            return self.g_access * v, np.broadcast_to(self.g_access, np.shape(v))
        a = self.n * self.v_t
        # sinh and cosh from one exponential (the selector I-V is most of a nonlinear read's cost)
        e = np.exp(np.clip(v * (1.0 / a), -700.0, 700.0))
        ei = np.reciprocal(e)
        i = e - ei
        e += ei
        i *= self.i_s
        e *= self.i_s / a
        return i, e

    def _pair_root(self, v, u, lo, hi):
        """The internal-node voltage ``u`` of every series pair (safeguarded Newton, see :meth:`iv`).

        With a linear memristor, the iteration continues on the cells not yet converged only (their
        conductances gathered) once they are few; a device model's per-cell parameters keep the full
        arrays.
        """
        shape = v.shape
        full = u.copy()
        thr = 1e-15 * np.maximum(np.abs(v), 1e-3) + 1e-300
        cur, idx = self, None
        for _ in range(200):
            ia, ga = cur._access(u)
            im, gm = cur._mem(v - u)
            h = ia - im  # increasing in u: the root lies below u where h > 0
            pos = h > 0
            np.copyto(hi, u, where=pos)
            np.copyto(lo, u, where=~pos)
            new = u - h / (ga + gm)
            bad = ~((new >= lo) & (new <= hi))  # out of the bracket, or not finite
            if bad.any():
                np.copyto(new, 0.5 * (lo + hi), where=bad)
            going = np.abs(new - u) > thr
            u = new
            if idx is None:
                full = u
            else:
                full.flat[idx] = u
            if not going.any():
                break
            if self.g is not None and going.size > 4096 and going.mean() < 0.25:
                keep = np.flatnonzero(going)
                idx = keep if idx is None else idx[keep]
                full = np.array(full)
                flat = lambda a: np.broadcast_to(a, shape).ravel()[idx]  # noqa: E731
                cur = dataclasses.replace(self, g=flat(self.g),
                                          g_access=None if self.g_access is None else flat(self.g_access))
                u, v, lo, hi, thr = (a.ravel()[keep] for a in (u, v, lo, hi, thr))
        return full

    def _selector_root(self, v, u):
        r""":meth:`_pair_root` for a linear memristor behind the 1S1R selector, without safeguards.

        :math:`h(u) = 2 I_s \sinh(u / n V_T) - g (v - u)` is increasing and, on the bracket between 0
        and ``v``, convex on the side of ``v`` (concave for ``v < 0``); its tangent at any ``u`` of the
        bracket crosses zero inside it (at ``v`` the tangent is :math:`2 I_s (\sinh + \cosh (v-u)/nV_T) > 0`).
        So plain Newton from the bracket stays in it and, after at most one step past the root,
        converges monotonically: no bracketing or bisection is needed, about half the array passes of
        the general loop per iteration.
        """
        a = self.n * self.v_t
        k, i_s, g = 1.0 / a, self.i_s, self.g
        thr = 1e-15 * np.maximum(np.abs(v), 1e-3) + 1e-300
        gv = g * v
        e, ei, h = np.empty_like(u), np.empty_like(u), np.empty_like(u)
        for _ in range(200):
            np.multiply(u, k, out=e)
            np.exp(e, out=e)
            np.reciprocal(e, out=ei)
            np.subtract(e, ei, out=h)
            h *= i_s
            h += g * u
            h -= gv  # h = 2 I_s sinh(u/a) - g (v - u)
            e += ei
            e *= i_s * k
            e += g  # h'(u)
            h /= e
            u -= h
            np.abs(h, out=h)
            if not np.any(h > thr):
                break
        return u

    def cold_start(self) -> None:
        """Make the next :meth:`iv` start from its cold guess instead of the previous call's internal
        voltages (for cell voltages unrelated to the previous call's, e.g. another group of vectors)."""
        self._u = None

    def iv(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cell current (A), incremental conductance (S) and memristor voltage (V) at cell voltage ``v``.

        The internal node of a series pair is found by a safeguarded Newton iteration on
        :math:`h(u) = i_{acc}(u) - i_{mem}(v - u) = 0`, ``u`` in ``[min(0, v), max(0, v)]``
        (``h`` increases with ``u``), vectorised over all cells; then

        .. math:: \\frac{di}{dv} = \\frac{g_{mem}\\, g_{acc}}{g_{mem} + g_{acc}}
        """
        v = np.asarray(v, dtype=float)
        if self.cell == "0T1R":
            i, g = self._mem(v)
            return i, g, v
        if self.linear:
            g = self.linear_g()
            return g * v, np.broadcast_to(g, v.shape), v * g / self.g
        lo, hi = np.minimum(v, 0.0), np.maximum(v, 0.0)
        # warm start from the previous call (successive Newton iterates are close): its internal voltage
        # moved along the pair's first-order sensitivity du/dv = g_mem / (g_acc + g_mem), which leaves an
        # error of second order in the change of v
        prev = getattr(self, "_u", None)
        if prev is not None and prev[0].shape == v.shape:
            u_prev, v_prev, du_dv = prev
            u = np.clip(u_prev + du_dv * (v - v_prev), lo, hi)
        elif self.cell == "1S1R":
            # the selector voltage at which it would carry the memristor's current at the full cell
            # voltage: at or beyond the root on the convex side of h, where Newton converges monotonically
            a = self.n * self.v_t
            u = np.clip(a * np.arcsinh(self._mem(v)[0] / (2.0 * self.i_s)), lo, hi)
        else:
            u = 0.5 * (lo + hi)
        if self.cell == "1S1R" and self.g is not None and float(np.max(np.abs(v), initial=0.0)) < 700.0 * self.n * self.v_t:
            u = self._selector_root(v, np.array(u))  # (no overflow of exp below 700 n V_T)
        else:
            u = self._pair_root(v, u, lo, hi)
        ia, ga = self._access(u)
        im, gm = self._mem(v - u)
        gs = ga + gm
        self._u = (u, v, gm / gs)
        return 0.5 * (ia + im), ga * gm / gs, v - u
