"""Circuit-accurate reads of one tile: structured MNA with wire resistance, exact port reduction.

A tile of ``rows x cols`` cross-points is the circuit (one wire segment per cell on each line)::

    V_i --r_driver-- P_i --r_w-- R[i,0] --r_w-- R[i,1] -- ... -- R[i,cols-1]      (row i, far end open)
                                   |cell          |cell
    C[0,j] --r_w-- C[1,j] -- ... -- C[rows-1,j] --r_w-- O_j                        (column j)

``O_j`` is the virtual ground of a transimpedance amplifier (held at 0 V, the column current is the
current into it) or a sense resistor ``r_sense`` to ground (the column current is ``V(O_j)/r_sense``).
Zero ``r_driver`` or ``r_wire`` merge the nodes they join. Cells join ``R[i,j]`` and ``C[i,j]``:

* ``0T1R``: the memristor;
* ``1T1R``: the memristor in series with an access switch of conductance
  :math:`g_{sw} = g_{off} + (g_{on} - g_{off}) / (1 + e^{-(v_{gate} - v_t)/v_w})` (the netlist's switch);
* ``1S1R``: the memristor in series with a bidirectional selector, two antiparallel Shockley diodes,
  :math:`i = I_s (e^{v/(n V_T)} - e^{-v/(n V_T)})`.

**Linear cells.** Node voltages solve :math:`A x = B v` (A: the Laplacian of wires and cells over the
unknown nodes, SPD). Inputs enter and outputs leave only at the few *port-adjacent* nodes ``b``
(``P_i`` or ``R[i,0]``; ``C[rows-1,j]`` or ``O_j``), and :math:`(A^{-1})_{bb} = S_b^{-1}` with the
Schur complement :math:`S_b = A_{bb} - A_{bi} A_{ii}^{-1} A_{ib}`. Ordering the interior by nested
dissection and ``b`` last, one sparse LU (SuperLU, natural order, no pivoting) gives
:math:`S_b = L_{22} U_{22} = U_{22}^T D^{-1} U_{22}` (:math:`S_b` is symmetric, D the diagonal of
:math:`U_{22}`) from its trailing block, and the whole linear map

.. math:: I = M^T v, \\qquad M^T = C_b S_b^{-1} B_b + D

(one factorization, no per-input solve). The input admittance :math:`Y = L_{ss} - L_{sb} S_b^{-1} L_{bs}`
gives the read power :math:`v^T Y v` delivered by the drivers.

**Nonlinear cells** are solved per read by damped Newton on the same ordering, each cell's series
pair reduced to one two-terminal element by a vectorised scalar Newton (its internal node voltage).

Examples
--------
>>> import numpy as np
>>> t = TileCircuit(2, 2, r_wire=0.0, r_driver=0.0)
>>> G = np.array([[1e-5, 2e-5], [3e-5, 4e-5]])
>>> bool(np.allclose(t.linear_map(G).M, G))      # no wires: the ideal product
True
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.linalg
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from neurosim.errors import ConvergenceError, ParameterError
from neurosim.netlist.elements import THERMAL_VOLTAGE

__all__ = ["TileCircuit", "CellPhysics", "LinearMap", "ACCESS_GATE"]

#: 1T1R access switch: word-line voltage of a selected (on) / unselected (off) row, threshold and
#: transition width of the smooth switch, V.
ACCESS_GATE = {"v_on": 3.3, "v_off": 0.0, "v_t": 0.7, "v_w": 0.05}

_DENSE_LIMIT = 1500  # unknowns below which a dense solve is faster than SuperLU


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
        Thermal voltage (V); default the netlist layer's kT/q at 27 degC (CODATA 2018), which the
        SPICE writer makes ngspice use too (it sets ``temp``/``tnom`` accordingly).
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
        u = np.clip(v / a, -700.0, 700.0)
        return 2.0 * self.i_s * np.sinh(u), (2.0 * self.i_s / a) * np.cosh(u)

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
        # warm start from the previous call's internal voltages (successive Newton iterates are close)
        prev = getattr(self, "_u", None)
        u = np.clip(prev, lo, hi) if prev is not None and prev.shape == v.shape else 0.5 * (lo + hi)
        for _ in range(200):
            ia, ga = self._access(u)
            im, gm = self._mem(v - u)
            h = ia - im  # increasing in u: the root lies below u where h > 0
            hi = np.where(h > 0, u, hi)
            lo = np.where(h > 0, lo, u)
            step = h / (ga + gm)
            new = u - step
            bad = (new < lo) | (new > hi) | ~np.isfinite(new)
            new = np.where(bad, 0.5 * (lo + hi), new)
            done = np.abs(new - u) <= 1e-15 * np.maximum(np.abs(v), 1e-3) + 1e-300
            u = new
            if done.all():
                break
        self._u = u
        ia, ga = self._access(u)
        im, gm = self._mem(v - u)
        g = ga * gm / (ga + gm)
        return 0.5 * (ia + im), g, v - u


@dataclasses.dataclass
class LinearMap:
    """The precomputed read of a linear tile.

    Attributes
    ----------
    M : ndarray (rows, cols)
        Column currents per input volt: ``I = v @ M`` (S).
    Y : ndarray (rows, rows)
        Input admittance: the drivers deliver the power ``v @ Y @ v`` (W).
    """

    M: np.ndarray
    Y: np.ndarray


class TileCircuit:
    """The fixed wiring of one tile and its solvers (see the module docstring for the circuit).

    Parameters
    ----------
    rows, cols : int
        Tile size (inputs, physical columns).
    r_wire, r_driver : float
        Wire segment and driver resistance (ohm, >= 0).
    readout : {"tia", "sense"}
        Virtual-ground readout or sense resistor.
    r_sense : float
        Sense resistance (ohm).
    driven : ndarray of bool (rows,), optional
        Rows connected to their driver (others float); default all.
    read : ndarray of bool (cols,), optional
        Columns connected to their readout (others float); default all.
    """

    def __init__(self, rows, cols, r_wire=1.0, r_driver=0.0, readout="tia", r_sense=100.0, driven=None, read=None):
        if readout not in ("tia", "sense"):
            raise ParameterError(f"TileCircuit: readout must be one of 'tia', 'sense', got {readout!r}")
        self.rows, self.cols = int(rows), int(cols)
        self.r_wire, self.r_driver = float(r_wire), float(r_driver)
        self.readout, self.r_sense = readout, float(r_sense)
        self.driven = np.ones(self.rows, bool) if driven is None else np.asarray(driven, bool)
        self.read = np.ones(self.cols, bool) if read is None else np.asarray(read, bool)
        self._build()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        R, C, rw, rd = self.rows, self.cols, self.r_wire, self.r_driver
        nu = 0
        coords: list[np.ndarray] = []  # (id, i, j) of grid nodes, for nested dissection

        def new(count):
            nonlocal nu
            ids = np.arange(nu, nu + count)
            nu += count
            return ids

        def grid():
            ids = new(R * C).reshape(R, C)
            coords.append(np.stack([ids.ravel(), np.repeat(np.arange(R), C), np.tile(np.arange(C), R)], 1))
            return ids

        edges: list[tuple] = []
        # Dirichlet nodes get provisional negative ids -1 - k: sources, virtual grounds, ground
        src = -1 - np.arange(R)
        vg = -1 - R - np.arange(C)
        gnd = -1 - R - C
        drv = self.driven
        if rw > 0:
            rn = grid()
            edges.append((rn[:, :-1], rn[:, 1:], 1.0 / rw))
            if rd > 0:
                p = new(R)
                edges.append((src[drv], p[drv], 1.0 / rd))
                edges.append((p, rn[:, 0], 1.0 / rw))
            else:
                edges.append((src[drv], rn[drv, 0], 1.0 / rw))
        else:
            line = np.empty(R, np.int64)
            fixed = drv & (rd == 0.0)
            line[fixed] = src[fixed]
            line[~fixed] = new(int((~fixed).sum()))
            if rd > 0:
                edges.append((src[drv], line[drv], 1.0 / rd))
            rn = np.repeat(line[:, None], C, axis=1)
        if self.readout == "tia":
            out = vg
        else:
            out = new(C)
            edges.append((out[self.read], np.full(int(self.read.sum()), gnd), 1.0 / self.r_sense))
        if rw > 0:
            cn = grid()
            edges.append((cn[:-1, :], cn[1:, :], 1.0 / rw))
            ends = self.read if self.readout == "tia" else np.ones(C, bool)
            edges.append((cn[-1, ends], out[ends], 1.0 / rw))
        else:
            col = np.array(out, dtype=np.int64)
            if self.readout == "tia":
                col[~self.read] = new(int((~self.read).sum()))
            cn = np.repeat(col[None, :], R, axis=0)
        # boundary: unknowns adjacent to a driven source or a read virtual ground, and sense outputs
        ports = set(src[drv].tolist()) | (set(vg[self.read].tolist()) if self.readout == "tia" else set())
        port_arr = np.array(sorted(ports), dtype=np.int64)
        bset = [out[self.read]] if self.readout == "sense" else []
        for a, b, _ in edges + [(rn, cn, None)]:
            a, b = (x.ravel() for x in np.broadcast_arrays(np.asarray(a), np.asarray(b)))
            bset.append(b[np.isin(a, port_arr) & (b >= 0)])
            bset.append(a[np.isin(b, port_arr) & (a >= 0)])
        bnd = np.unique(np.concatenate(bset).astype(np.int64)) if bset else np.zeros(0, np.int64)
        self.n_u, self.n_d = nu, R + C + 1
        order = self._order(coords, bnd)
        pos = np.zeros(max(nu, 1), np.int64)
        pos[order] = np.arange(nu)

        def relabel(a):
            a = np.asarray(a, dtype=np.int64)
            return np.where(a < 0, nu - 1 - a, pos[np.clip(a, 0, max(nu - 1, 0))])

        self.rn, self.cn = relabel(rn), relabel(cn)
        self.src_ids = relabel(src)
        self.out_ids = relabel(out[self.read])
        wa, wb, wg = [], [], []
        for a, b, g in edges:
            a, b = np.broadcast_arrays(np.asarray(a), np.asarray(b))
            wa.append(relabel(a).ravel())
            wb.append(relabel(b).ravel())
            wg.append(np.full(a.size, g, dtype=float))
        self.wa = np.concatenate(wa) if wa else np.zeros(0, np.int64)
        self.wb = np.concatenate(wb) if wb else np.zeros(0, np.int64)
        self.wg = np.concatenate(wg) if wg else np.zeros(0)
        self.n_b = bnd.size
        self.n_total = nu + self.n_d
        self.L_wire = self._laplacian(self.wa, self.wb, self.wg)

    def _order(self, coords, b) -> np.ndarray:
        """Nested-dissection order of the interior unknowns, then the boundary ``b`` last.

        The grid of cross-point sites is bisected recursively along its longer side. Cutting
        between columns, the row-wire nodes on the cut line separate the halves (the column-wire
        nodes of that line then only touch them and form their own small chain, ordered first);
        cutting between rows, the column-wire nodes do, symmetrically. Separators come after the
        blocks they separate.
        """
        nu = self.n_u
        isb = np.zeros(nu, bool)
        isb[b] = True
        if len(coords) < 2 or nu <= _DENSE_LIMIT:
            return np.concatenate([np.flatnonzero(~isb), b])
        Rg = coords[0][:, 0].reshape(self.rows, self.cols)
        Cg = coords[1][:, 0].reshape(self.rows, self.cols)
        blocks: list[np.ndarray] = []

        def nd(i0, i1, j0, j1):
            if (i1 - i0) * (j1 - j0) <= 64 or (i1 - i0 < 3 and j1 - j0 < 3):
                blocks.append(np.stack([Rg[i0:i1, j0:j1], Cg[i0:i1, j0:j1]], axis=-1).ravel())
            elif j1 - j0 >= i1 - i0:
                m = (j0 + j1) // 2
                nd(i0, i1, j0, m)
                nd(i0, i1, m + 1, j1)
                blocks.append(Cg[i0:i1, m])
                blocks.append(Rg[i0:i1, m])
            else:
                m = (i0 + i1) // 2
                nd(i0, m, j0, j1)
                nd(m + 1, i1, j0, j1)
                blocks.append(Rg[m, j0:j1])
                blocks.append(Cg[m, j0:j1])

        nd(0, self.rows, 0, self.cols)
        grid_order = np.concatenate(blocks)
        on_grid = np.zeros(nu, bool)
        on_grid[grid_order] = True
        others = np.flatnonzero(~on_grid & ~isb)  # off-grid interior nodes (driver, sense) first
        interior = grid_order[~isb[grid_order]]
        return np.concatenate([others, interior, b])

    def _laplacian(self, a, b, g) -> sp.csr_matrix:
        n = self.n_total
        rows = np.concatenate([a, b, a, b])
        cols = np.concatenate([a, b, b, a])
        vals = np.concatenate([g, g, -g, -g])
        return sp.coo_matrix((vals, (rows, cols)), shape=(n, n)).tocsr()

    # ------------------------------------------------------------------ linear read
    def _cell_laplacian(self, g: np.ndarray) -> sp.csr_matrix:
        return self._laplacian(self.rn.ravel(), self.cn.ravel(), np.asarray(g, dtype=float).ravel())

    def _boundary_inverse(self, A: sp.csr_matrix):
        """``("inv", (A^-1)_bb)`` for the tail block ``b`` of the SPD matrix ``A``, or ``("U", U22)``,
        the trailing block of its LU factor: the Schur complement is :math:`S_b = U_{22}^T D^{-1} U_{22}`."""
        nu, nb = self.n_u, self.n_b
        if nb == 0:
            return "inv", np.zeros((0, 0))
        if nu <= _DENSE_LIMIT:
            Ad = A.toarray()
            E = np.zeros((nu, nb))
            E[nu - nb :, :] = np.eye(nb)
            return "inv", scipy.linalg.solve(Ad, E, assume_a="pos")[nu - nb :, :]
        lu = spla.splu(A.tocsc(), permc_spec="NATURAL", diag_pivot_thresh=0.0, options={"SymmetricMode": True})
        tail = np.arange(nu - nb, nu)
        if np.array_equal(lu.perm_c[tail], tail) and np.array_equal(lu.perm_r[tail], tail):
            # S_b = L22 U22, and S_b symmetric makes its unique LU an LDL^T: L22 = U22^T D^-1
            # (reading U alone avoids materialising the much larger L factor)
            return "U", lu.U[nu - nb :, nu - nb :].toarray()
        # SuperLU reordered the tail (should not happen for a connected interior): solve for it
        E = np.zeros((nu, nb))
        E[tail, np.arange(nb)] = 1.0
        return "inv", lu.solve(E)[tail, :]

    def linear_map(self, g_cell: np.ndarray) -> LinearMap:
        """Precompute the read of the tile with linear cells of conductance ``g_cell`` (S).

        Parameters
        ----------
        g_cell : ndarray (rows, cols)
            Two-terminal cell conductances (S) (series access device included).

        Returns
        -------
        LinearMap
            ``M`` (rows, read columns) and ``Y`` (rows, rows), for the driven rows and read columns.
        """
        L = (self.L_wire + self._cell_laplacian(g_cell)).tocsr()
        nu, nb = self.n_u, self.n_b
        A = L[:nu, :nu]
        Sinv = self._boundary_inverse(A)
        s = self.src_ids[self.driven]
        bt = slice(nu - nb, nu)
        L_bs = L[bt][:, s].toarray()  # (nb, n_src)
        L_ss = L[s][:, s].toarray()
        if self.readout == "tia":
            o = self.out_ids
            Cb = -L[o][:, bt].toarray()
            D = -L[o][:, s].toarray()
        else:
            Cb = np.zeros((self.out_ids.size, nb))
            Cb[np.arange(self.out_ids.size), self.out_ids - (nu - nb)] = 1.0 / self.r_sense
            D = np.zeros((self.out_ids.size, s.size))
        kind, K = Sinv
        if kind == "U":  # S_b = U22^T D^-1 U22: two triangular solves
            X = scipy.linalg.solve_triangular(K, -L_bs, trans="T", lower=False)
            X *= np.diag(K)[:, None]
            X = scipy.linalg.solve_triangular(K, X, lower=False)
        else:
            X = K @ (-L_bs)  # boundary voltages per input volt
        Mt = Cb @ X + D
        Y = L_ss + L_bs.T @ X
        return LinearMap(M=np.ascontiguousarray(Mt.T), Y=0.5 * (Y + Y.T))

    # ------------------------------------------------------------------ nonlinear read
    def solve(self, cells: CellPhysics, V: np.ndarray, tol: float = 1e-12, max_iter: int = 100):
        """Node voltages of nonlinear reads by damped Newton, one input vector at a time.

        Parameters
        ----------
        cells : CellPhysics
            Cell I-V.
        V : ndarray (batch, driven rows)
            Row driver voltages (V).
        tol : float
            Convergence: Newton update below ``tol * max|V|`` volts.
        max_iter : int
            Newton iterations per vector.

        Returns
        -------
        I : ndarray (batch, read columns)
            Column currents (A).
        V_mem : ndarray (batch, rows, cols)
            Voltage across each memristor (V), for read disturb and energy.
        P : ndarray (batch,)
            Power delivered by the drivers (W).

        Raises
        ------
        ConvergenceError
            Newton did not converge (reports the residual and the worst node).
        """
        V = np.atleast_2d(np.asarray(V, dtype=float))
        nu = self.n_u
        s = self.src_ids[self.driven]
        rn, cn = self.rn, self.cn
        Lw = self.L_wire
        Lw_uu = Lw[:nu, :nu].tocsc()
        I_out = np.zeros((V.shape[0], self.out_ids.size))
        V_mem = np.zeros((V.shape[0], self.rows, self.cols))
        P = np.zeros(V.shape[0])
        # initial guess: the linear solve with each cell's chord conductance at the full read voltage
        for k in range(V.shape[0]):
            z = np.zeros(self.n_total)
            z[s] = V[k]
            vmax = max(float(np.max(np.abs(V[k]))), 1e-3)
            vrow = np.zeros(self.rows)
            vrow[self.driven] = V[k]
            vguess = np.where(np.abs(vrow) > 0, vrow, vmax)[:, None] * np.ones((1, self.cols))
            ig, gi, _ = cells.iv(vguess)
            g0 = np.where(np.abs(vguess) > 0, ig / vguess, gi)
            g0 = np.maximum(g0, 1e-15)
            L0 = (Lw + self._cell_laplacian(g0)).tocsr()
            solver = self._factor(L0[:nu, :nu].tocsc())
            z[:nu] = solver(-(L0[:nu, nu:] @ z[nu:]))
            # Newton with the factorization reused while the residual falls fast (chord steps),
            # refactorized at the current Jacobian when it does not
            ok, fresh, refactor = False, False, False
            big, prev = np.inf, np.inf
            for it in range(max_iter):
                vc = z[rn] - z[cn]
                ic, gc, _ = cells.iv(vc)
                F = Lw @ z
                np.add.at(F, rn, ic)
                np.add.at(F, cn, -ic)
                Fu = F[:nu]
                r = float(np.max(np.abs(Fu))) if Fu.size else 0.0
                # converged when KCL holds to rounding of the largest cell current
                if r <= 1e-13 * max(float(np.max(np.abs(ic))), 1e-300):
                    ok = True
                    break
                if refactor or r > 0.25 * prev:
                    solver = self._factor((Lw_uu + self._cell_laplacian(gc)[:nu, :nu]).tocsc())
                    fresh, refactor = True, False
                prev = r
                dx = solver(-Fu)
                # damping: limit the largest node-voltage change to half the input range
                lim = 0.5 * max(vmax, 1e-3)
                big = float(np.max(np.abs(dx)))
                if big > lim:
                    dx *= lim / big
                z[:nu] += dx
                if big <= tol * vmax:
                    if fresh:
                        ok = True
                        break
                    refactor = True  # a small chord step: confirm with the true Jacobian
                fresh = False
            if not ok:
                worst = int(np.argmax(np.abs(Fu))) if Fu.size else -1
                raise ConvergenceError(
                    f"TileCircuit.solve: Newton did not converge in {max_iter} iterations for input vector {k}: "
                    f"last update {big:.3g} V, residual {float(np.max(np.abs(Fu))):.3g} A at the {self.node_name(worst)} "
                    f"(tried damped Newton from the linearised solution)"
                )
            vc = z[rn] - z[cn]
            ic, gc, vm = cells.iv(vc)
            F = Lw @ z
            np.add.at(F, rn, ic)
            np.add.at(F, cn, -ic)
            if self.readout == "tia":
                I_out[k] = -F[self.out_ids]
            else:
                I_out[k] = z[self.out_ids] / self.r_sense
            V_mem[k] = vm.reshape(self.rows, self.cols)
            P[k] = float(F[s] @ V[k])
        return I_out, V_mem, P

    def node_name(self, node: int) -> str:
        """What an unknown of the solve is, in the tile's terms (for error messages).

        Examples
        --------
        >>> TileCircuit(2, 3, r_wire=1.0).node_name(int(TileCircuit(2, 3, r_wire=1.0).cn[1, 2]))
        'column-wire node of column 2 at cell (1, 2)'
        """
        for ids, kind, line in ((self.rn, "row", 0), (self.cn, "column", 1)):
            hit = np.argwhere(ids == node)
            if hit.size:
                i, j = (int(a) for a in hit[0])
                return f"{kind}-wire node of {kind} {(i, j)[line]} at cell ({i}, {j})"
        return f"driver or sense node (unknown {node})"

    def _factor(self, A):
        """A solver ``b -> A^{-1} b`` for the SPD matrix ``A`` (dense Cholesky or sparse LU)."""
        if self.n_u <= _DENSE_LIMIT:
            c = scipy.linalg.cho_factor(A.toarray())
            return lambda b: scipy.linalg.cho_solve(c, b)
        lu = spla.splu(A, permc_spec="NATURAL", diag_pivot_thresh=0.0, options={"SymmetricMode": True})
        return lu.solve
