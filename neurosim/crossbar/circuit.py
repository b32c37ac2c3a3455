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

**Nonlinear cells** are solved by damped Newton (:meth:`TileCircuit.solve`), each cell's series
pair reduced to one two-terminal element by a vectorised scalar Newton (its internal node voltage).
With wires (``r_wire > 0``) input vectors are solved together in cache-sized groups: Newton steps by
conjugate gradients preconditioned with a block Gauss-Seidel sweep over the row and column wire
lines (:class:`~neurosim.crossbar.wirelines.WireLines`). Without wires, or as the reference
(``method="direct"``), one vector at a time with a sparse/dense factorization reused across
iterations (chord steps). The two agree to ~1e-13 relative.

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

from neurosim.crossbar.cellphysics import ACCESS_GATE, CellPhysics, switch_conductance  # noqa: F401 (re-exported)
from neurosim.crossbar.wirelines import WireLines
from neurosim.errors import ConvergenceError, ParameterError

__all__ = ["TileCircuit", "CellPhysics", "LinearMap", "ACCESS_GATE"]

_DENSE_LIMIT = 1500  # unknowns below which a dense solve is faster than SuperLU
#: Bytes of one batch array (vectors x unknowns) in a batched nonlinear solve: groups of vectors this
#: size stay in cache (a 128x128 tile's batch of 64: 36 ms per vector all in one group, 25 ms in groups of
#: one vector, before the other changes of issue 16).
_BATCH_BYTES = 1 << 18


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
        self.warm_start = False  # batched solves start from the previous solution (see solve)
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
        row_pre = col_post = None  # off-grid nodes that extend a wire line (driver node, sense output)
        # Dirichlet nodes get provisional negative ids -1 - k: sources, virtual grounds, ground
        src = -1 - np.arange(R)
        vg = -1 - R - np.arange(C)
        gnd = -1 - R - C
        drv = self.driven
        if rw > 0:
            rn = grid()
            edges.append((rn[:, :-1], rn[:, 1:], 1.0 / rw))
            if rd > 0:
                p = row_pre = new(R)
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
            out = col_post = new(C)
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
        # with wires every unknown lies on one wire line: row i is (driver node,) R[i, :], column j is
        # C[:, j] (, sense output) -- the chains of the batched solver (see WireLines)
        self._row_chain = self._col_chain = None
        if rw > 0:
            self._row_chain = relabel(rn if row_pre is None else np.concatenate([row_pre[:, None], rn], axis=1))
            self._col_chain = relabel(cn.T if col_post is None else np.concatenate([cn.T, col_post[:, None]], axis=1))
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
    def solve(self, cells: CellPhysics, V: np.ndarray, tol: float = 1e-12, max_iter: int = 100,
              method: str = "auto"):
        r"""Node voltages of nonlinear reads by damped Newton.

        Which linear solver the Newton iteration uses (``method``):

        * ``"batched"`` (``"auto"`` whenever ``r_wire > 0``): input vectors solved together in groups
          whose arrays fit in cache (:data:`_BATCH_BYTES`; one vector per group for a 128x128 tile),
          Newton steps solved by conjugate gradients on the line-ordered Jacobian, preconditioned by a
          symmetric block Gauss-Seidel sweep over the row and column wire lines (tridiagonal, LAPACK
          ``pttrs``), inexact Newton (inner tolerance 1e-3, then 1e-6, then 1e-8 of the step's
          residual); each cell's internal node warm-started along its first-order sensitivity; starts
          from the read without IR drop or, with ``warm_start = True`` on the circuit, per vector from
          the previous call's solution when its residual is smaller (slowly varying input sequences;
          measured slower than the cold start for unrelated inputs, so off by default). Vectors it
          does not converge fall back to ``"direct"``.
        * ``"direct"`` (``"auto"`` without wires, and the reference): one vector at a time, sparse LU /
          dense Cholesky of the Jacobian reused across iterations while the residual falls fast
          (chord steps), refactorized when it does not.

        Both stop when a Newton update (from an accurate Jacobian solve) is below ``tol * max|V|``
        volts; the batched solve also stops one step earlier when the error left after an update,
        estimated from the contraction rate :math:`q = |\Delta x_k| / |\Delta x_{k-1}| < 0.1` as
        :math:`|\Delta x_k|\, q / (1 - q)`, is below it. The two agree to ~1e-13 relative.

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
        if method not in ("auto", "batched", "direct"):
            raise ParameterError(f"TileCircuit: method must be one of 'auto', 'batched', 'direct', got {method!r}")
        if method == "batched" and self._row_chain is None:
            raise ParameterError("TileCircuit: method 'batched' needs r_wire > 0, got r_wire 0")
        if method != "direct" and self._row_chain is not None and V.shape[0] > 0:
            B = V.shape[0]
            x0 = getattr(self, "_warm", None) if self.warm_start else None
            x0 = x0 if x0 is not None and x0.shape == (B, self.n_u) else None
            # vectors in groups whose arrays fit in cache: most steps are a few passes over memory each
            step = max(1, _BATCH_BYTES // (8 * self.n_u))
            x, done = np.empty((B, self.n_u)), np.empty(B, bool)
            I_out, V_mem, P = np.empty((B, self.out_ids.size)), np.empty((B, self.rows, self.cols)), np.empty(B)
            for k in range(0, B, step):
                sl = slice(k, k + step)
                cells.cold_start()  # each group starts from its own cold guess
                x[sl], done[sl] = self._solve_lines(cells, V[sl], tol, max_iter, None if x0 is None else x0[sl])
                I_out[sl], V_mem[sl], P[sl] = self._outputs_lines(cells, V[sl], x[sl])
            self._warm = x
            if not done.all():
                bad = np.flatnonzero(~done)
                I_out[bad], V_mem[bad], P[bad] = self.solve(cells, V[bad], tol, max_iter, "direct")
            return I_out, V_mem, P
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

    def lines(self) -> WireLines:
        """The line-ordered view of the unknowns used by the batched solver (built once, ``r_wire > 0``)."""
        ln = getattr(self, "_lines", None)
        if ln is None:
            ln = self._lines = WireLines(self)
        return ln

    def _solve_lines(self, cells: CellPhysics, V: np.ndarray, tol: float, max_iter: int, x0=None):
        """Batched Newton on the line-ordered unknowns (see :meth:`solve`, ``method="batched"``).

        Returns the node voltages ``x`` (batch, n) in line order and a bool mask of converged vectors.
        """
        ln = self.lines()
        B = V.shape[0]
        nr, R = ln.nr, self.rows
        zd = np.zeros((B, self.n_d))
        zd[:, self.src_ids[self.driven] - self.n_u] = V
        Fd = np.asarray(ln.L_ud @ zd.T).T  # wire currents from the fixed node voltages
        vmax = np.maximum(np.max(np.abs(V), axis=1, initial=0.0), 1e-3)
        # start: no IR drop (each row line at its driver voltage, columns at 0 V); a previous solution
        # (warm start along a sequence) where its residual is smaller
        x = np.zeros((B, ln.n))
        xr = x[:, :nr].reshape(B, R, -1)
        xr[:, self.driven, :] = V[:, :, None]

        def residual(x):
            ic, gc, _ = cells.iv(ln.cell_voltages(x))
            F = ln.wire_matvec(x) + Fd
            ln.add_cells(F, ic)
            gc = np.asarray(gc, dtype=float)
            if gc.shape != ic.shape or not gc.flags.writeable or not gc.flags.c_contiguous:
                gc = np.array(np.broadcast_to(gc, ic.shape))
            return F, gc

        F, gc = residual(x)
        if x0 is not None and x0.shape == x.shape:
            F0, gc0 = residual(x0)
            better = np.max(np.abs(F0), axis=1) < np.max(np.abs(F), axis=1)
            x[better], F[better], gc[better] = x0[better], F0[better], gc0[better]
        done = np.zeros(B, bool)
        last = np.full(B, np.nan)  # each vector's previous Newton update (V)
        eta = 1e-3
        for _ in range(max_iter):
            act = ~done
            g_a, F_a = (gc, F) if not done.any() else (gc[act], F[act])
            fac = ln.factor(g_a)
            if fac is None:
                break
            dx, ok = ln.pcg(g_a, -F_a, fac, eta)
            if not ok:
                break
            lim = 0.5 * vmax[act]
            big = np.max(np.abs(dx), axis=1)
            dx *= np.minimum(1.0, lim / np.maximum(big, 1e-300))[:, None]
            x[act] += dx
            # converged when this update, or the error left after it, is below tolerance: with the
            # contraction rate q = |dx_k| / |dx_{k-1}| < 0.1, the error after step k is about
            # |dx_k| q / (1 - q) (Deuflhard's estimate), which saves the confirming step
            q = big / last[act]
            with np.errstate(invalid="ignore"):
                done[act] = (big <= tol * vmax[act]) | ((q < 0.1) & (big * q <= 0.9 * tol * vmax[act]))
            last[act] = big
            if done.all():
                break
            F, gc = residual(x)
            # inexact Newton: solve the next step more accurately as the residual falls
            eta = 1e-6 if eta == 1e-3 else 1e-8
        return x, done

    def _outputs_lines(self, cells: CellPhysics, V: np.ndarray, x: np.ndarray):
        """Column currents, memristor voltages and driver power from line-ordered node voltages ``x``."""
        ln = self.lines()
        B, nu = V.shape[0], self.n_u
        zd = np.zeros((B, self.n_d))
        s = self.src_ids[self.driven]
        zd[:, s - nu] = V
        _, _, vm = cells.iv(ln.cell_voltages(x))
        # currents into the fixed nodes (the cells touch only unknowns when there are wires)
        Fd = np.asarray(ln.L_du @ x.T).T + np.asarray(self.L_wire[nu:, nu:] @ zd.T).T
        if self.readout == "tia":
            I_out = -Fd[:, self.out_ids - nu]
        else:
            z = np.empty((B, nu))
            z[:, ln.order] = x
            I_out = z[:, self.out_ids] / self.r_sense
        P = np.sum(Fd[:, s - nu] * V, axis=1)
        return I_out, np.broadcast_to(vm, (B, self.rows, self.cols)).copy(), P

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
