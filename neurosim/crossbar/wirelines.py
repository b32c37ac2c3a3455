"""The unknowns of a tile with wires, ordered line by line, and the batched linear algebra on them.

Used by :meth:`neurosim.crossbar.circuit.TileCircuit.solve` (``method="batched"``): Jacobian products,
the block Gauss-Seidel preconditioner over the row and column wire lines, and preconditioned
conjugate gradients, all over a batch of input vectors at once.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse as sp

__all__ = ["WireLines"]


class WireLines:
    """The unknowns of a tile with wires, ordered line by line, and the batched solves on them.

    With ``r_wire > 0`` every unknown node lies on exactly one wire line (row ``i``: the driver node,
    then ``R[i, 0..cols-1]``; column ``j``: ``C[0..rows-1, j]``, then the sense output), and the wires
    join only neighbours on a line. Ordered rows first, then columns, the nodal Jacobian of a read is

    .. math:: J = \\begin{pmatrix} T_r & E \\\\ E^T & T_c \\end{pmatrix}, \\qquad
              E_{(i,j),(i,j)} = -g_{ij}

    with :math:`T_r, T_c` tridiagonal (wire Laplacian plus each node's cell conductance :math:`g_{ij}`,
    the incremental conductance of cell ``(i, j)``) and :math:`E` one entry per cell. ``J`` is SPD.
    The preconditioner is the symmetric block Gauss-Seidel sweep over the two blocks (rows, columns,
    rows), :math:`M = (D + L) D^{-1} (D + U)` with :math:`D = \\mathrm{diag}(T_r, T_c)`: three tridiagonal
    solves (LAPACK ``pttrf``/``pttrs``) per application, batched over all input vectors at once.
    """

    def __init__(self, tc):
        """``tc``: the :class:`~neurosim.crossbar.circuit.TileCircuit` (``r_wire > 0``) whose unknowns these are."""
        nu = tc.n_u
        rowc, colc = tc._row_chain, tc._col_chain
        self.order = np.concatenate([rowc.ravel(), colc.ravel()]).astype(np.int64)
        if not np.array_equal(np.sort(self.order), np.arange(nu)):  # pragma: no cover - layout invariant
            raise AssertionError("TileCircuit: wire lines do not cover the unknowns")
        self.n, self.nr = nu, rowc.size
        Lw = tc.L_wire.tocsr()
        Luu = Lw[:nu, :nu][self.order][:, self.order].tocsr()
        self.d_w = Luu.diagonal().copy()
        self.e_w = Luu.diagonal(1).copy()
        rest = Luu - sp.diags([self.d_w, self.e_w, self.e_w], [0, 1, -1])
        if abs(rest).sum() != 0 or (self.nr < nu and self.e_w[self.nr - 1] != 0):  # pragma: no cover
            raise AssertionError("TileCircuit: wires join nodes that are not neighbours on a line")
        self.L_ud = Lw[:nu, nu:][self.order].tocsr()  # unknowns <- Dirichlet nodes
        self.L_du = Lw[nu:, :nu][:, self.order].tocsr()  # Dirichlet nodes <- unknowns
        self.L_dd = Lw[nu:, nu:].tocsr()
        # cell (i, j) joins row-line position (i, roff + j) and column-line position (j, i)
        self.R, self.C = tc.rows, tc.cols
        self.Lr, self.Lc = rowc.shape[1], colc.shape[1]
        self.roff = self.Lr - self.C

    def rv(self, x):
        """View (batch, rows, cols) of the row-wire node of every cell in ``x`` (batch, n)."""
        return x[:, : self.nr].reshape(x.shape[0], self.R, self.Lr)[:, :, self.roff :]

    def cv(self, x):
        """View (batch, rows, cols) of the column-wire node of every cell in ``x`` (batch, n)."""
        return x[:, self.nr :].reshape(x.shape[0], self.C, self.Lc)[:, :, : self.R].transpose(0, 2, 1)

    def cell_voltages(self, x):
        """Voltage across every cell (batch, rows, cols)."""
        return self.rv(x) - self.cv(x)

    def add_cells(self, y, i):
        """Add cell currents ``i`` (batch, rows, cols), row node to column node, to the node sums ``y``."""
        self.rv(y)[...] += i
        self.cv(y)[...] -= i

    # ------------------------------------------------------------------ linear algebra, batched
    def wire_matvec(self, x):
        """:math:`L_{w,uu} x` for ``x`` (batch, n)."""
        y = self.d_w * x
        y[:, :-1] += self.e_w * x[:, 1:]
        y[:, 1:] += self.e_w * x[:, :-1]
        return y

    def matvec(self, x, g):
        """:math:`J x` with cell conductances ``g`` (batch, cells)."""
        y = self.wire_matvec(x)
        self.add_cells(y, g * self.cell_voltages(x))
        return y

    def factor(self, g):
        """Factorizations of the diagonal blocks :math:`T_r, T_c` for every vector (``pttrf``)."""
        B = g.shape[0]
        d = np.broadcast_to(self.d_w, (B, self.n)).copy()
        self.rv(d)[...] += g
        self.cv(d)[...] += g
        out = []
        for a, b in ((0, self.nr), (self.nr, self.n)):
            e = np.zeros((B, b - a))
            e[:, :-1] = self.e_w[a : b - 1]
            da = d[:, a:b].ravel()
            if da.size == 1:  # LAPACK's wrapper wants a non-empty off-diagonal
                if not da[0] > 0:
                    return None
                out.append((da, None, 1))
                continue
            df, ef, info = scipy.linalg.lapack.dpttrf(da, e.ravel()[:-1])
            if info != 0:
                return None
            out.append((df, ef, b - a))
        return out

    @staticmethod
    def _tri_solve(fac, r):
        df, ef, m = fac
        if ef is None:
            return r / df[0]
        x, info = scipy.linalg.lapack.dpttrs(df, ef, r.reshape(-1, 1))
        return x.reshape(r.shape)

    def precondition(self, fac, g, r):
        """Symmetric block Gauss-Seidel sweep: :math:`z = M^{-1} r` (rows, columns, rows)."""
        fr, fc = fac
        nr, B = self.nr, r.shape[0]
        zr = self._tri_solve(fr, np.ascontiguousarray(r[:, :nr]))
        t = np.array(r[:, nr:])  # a copy: r is the caller's
        t.reshape(B, self.C, self.Lc)[:, :, : self.R] += np.swapaxes(g * zr.reshape(B, self.R, self.Lr)[:, :, self.roff :], 1, 2)
        zc = self._tri_solve(fc, t)
        u = t  # reuse the buffer: the row block's correction, g times the column-node solution
        u = np.zeros((B, nr)) if u.shape[1] != nr else u
        if self.roff:
            u.reshape(B, self.R, self.Lr)[:, :, : self.roff] = 0.0
        u.reshape(B, self.R, self.Lr)[:, :, self.roff :] = g * np.swapaxes(zc.reshape(B, self.C, self.Lc)[:, :, : self.R], 1, 2)
        zr += self._tri_solve(fr, u)
        return np.concatenate([zr, zc], axis=1)

    def pcg(self, g, rhs, fac, rtol, maxiter=200):
        """Solve :math:`J_b x_b = r_b` for every vector ``b`` by preconditioned conjugate gradients.

        Stops per vector when :math:`\\|r\\|_2 \\le` ``rtol`` :math:`\\|rhs\\|_2`. Returns ``x`` and whether
        every vector converged.
        """
        x = np.zeros_like(rhs)
        r = rhs.copy()
        goal = rtol * np.sqrt(np.sum(rhs * rhs, axis=1))
        active = np.sqrt(np.sum(r * r, axis=1)) > goal
        z = self.precondition(fac, g, r)
        p = z.copy()
        rz = np.sum(r * z, axis=1)
        for _ in range(maxiter):
            if not active.any():
                return x, True
            Ap = self.matvec(p, g)
            pAp = np.sum(p * Ap, axis=1)
            alpha = np.where(active, rz / np.where(active, pAp, 1.0), 0.0)
            x += alpha[:, None] * p
            r -= alpha[:, None] * Ap
            active &= np.sqrt(np.sum(r * r, axis=1)) > goal
            z = self.precondition(fac, g, r)
            rz_new = np.sum(r * z, axis=1)
            beta = np.where(active, rz_new / np.where(rz != 0, rz, 1.0), 0.0)
            p = z + beta[:, None] * p
            rz = rz_new
        return x, not active.any()
