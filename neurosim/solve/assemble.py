"""Vectorised sparse stamping: COO triplets for MNA stamps and a reusable CSC pattern.

Node indices are unknown indices with ``-1`` for ground; entries touching ground are dropped.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["conductance_stamps", "Pattern", "to_csc", "scatter_add"]


def conductance_stamps(a: np.ndarray, b: np.ndarray, g: np.ndarray):
    """COO triplets of conductances ``g`` between unknowns ``a`` and ``b`` (``-1`` = ground).

    .. math:: G_{aa} \\mathrel{+}= g,\\ G_{bb} \\mathrel{+}= g,\\ G_{ab} \\mathrel{-}= g,\\ G_{ba} \\mathrel{-}= g
    """
    rows = np.concatenate([a, b, a, b])
    cols = np.concatenate([a, b, b, a])
    vals = np.concatenate([g, g, -g, -g])
    return rows, cols, vals


def to_csc(rows, cols, vals, n: int) -> sp.csc_matrix:
    """Sum COO triplets (dropping ground entries) into an ``n x n`` CSC matrix with sorted indices."""
    rows = np.asarray(rows)
    cols = np.asarray(cols)
    keep = (rows >= 0) & (cols >= 0)
    m = sp.csc_matrix((np.asarray(vals)[keep], (rows[keep], cols[keep])), shape=(n, n))
    m.sum_duplicates()
    return m


def scatter_add(out: np.ndarray, idx: np.ndarray, vals: np.ndarray) -> None:
    """``out[idx] += vals`` with repeated indices summed and ground (``-1``) ignored."""
    keep = idx >= 0
    out += np.bincount(idx[keep], weights=vals[keep], minlength=out.shape[0])


class Pattern:
    """A fixed sparsity pattern: map COO entries to CSC slots once, then assemble by ``bincount``.

    Used by Newton iterations, where the same stamps are assembled with new values each time.

    Parameters
    ----------
    rows, cols : numpy.ndarray of int
        COO positions (``-1`` entries are dropped).
    n : int
        Matrix size.
    """

    def __init__(self, rows: np.ndarray, cols: np.ndarray, n: int):
        self.n = n
        self.keep = (rows >= 0) & (cols >= 0)
        key = cols[self.keep].astype(np.int64) * n + rows[self.keep]
        uniq, self.inv = np.unique(key, return_inverse=True)
        self.nnz = uniq.size
        self.indices = (uniq % n).astype(np.int32)
        counts = np.bincount(uniq // n, minlength=n)
        self.indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)

    def matrix(self, vals: np.ndarray) -> sp.csc_matrix:
        """The CSC matrix with the given COO values (same order as the pattern's rows/cols)."""
        data = np.bincount(self.inv, weights=vals[self.keep], minlength=self.nnz)
        return sp.csc_matrix((data, self.indices, self.indptr), shape=(self.n, self.n))
