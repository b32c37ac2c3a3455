r"""The compiled read of a crossbar: every tile's linear read folded into a few GEMMs.

A crossbar read has one definition (:class:`~neurosim.crossbar.Crossbar`): DAC, the tiles' cell
currents, the analog subtraction of differential pairs or a reference column, readout noise, each
tile's ADC, the digital sum of partial results. It runs through one of two variants of the same
plan, selected by one eligibility rule (:func:`compiled_eligible`):

* **per tile** (``Crossbar._read_per_tile``): a loop over tiles that solves each tile as its read
  mode says (cell-by-cell nonlinear devices, Newton on nonlinear circuits, read disturb);
* **compiled** (:class:`CompiledRead`, here): when every cell reads linearly in its drive (``ideal``;
  ``device`` with a linear device, optionally a separable read I-V :math:`G h(v)`; ``circuit`` with
  linear cells and no selector) a tile's output currents are a fixed matrix of its drive, so the
  tiles sharing inputs become one matrix and a read is one GEMM per block of tile rows plus
  element-wise converter arithmetic, for forward (``W x``) and transposed (``W^T y``) reads.

Both variants share the converter arithmetic (:mod:`neurosim.crossbar.periphery`), the ADC ranges,
the cost formulas and the noise model; they agree to rounding without noise and in distribution
with it (tested against each other). Per output :math:`k` of a tile, in ADC steps (LSB):

.. math::

    z_k = \sum_i d_i A_{ik} + \sqrt{\textstyle\sum_i d_i^2 S_{ik} + \sigma_{ro}^2}\;\zeta_k
          \;-\; \sqrt{\textstyle\sum_i d_i^2 R_{i}}\;\zeta_{ref} ,
    \qquad y_k = \mathrm{ADC}(z_k)\, c_k

with :math:`d` the normalised drive (DAC codes, or :math:`h(v)/v_{read}`), :math:`A` the folded
read matrix (conductances, or the circuit's linear map with IR drop, pairs or reference
subtracted), :math:`S` the read-noise variances of the output's own cells, :math:`R` those of the
tile's reference column — one draw :math:`\zeta_{ref}` shared by all outputs of the tile (the
physical correlation of a reference-column mapping), none with differential pairs — and
:math:`\sigma_{ro}` the readout's input-referred noise. A transposed read with a reference column
drives it at :math:`-\sum_k v_k`, which adds :math:`(\sum_k d_k)^2` times the reference cells'
variance to each row.

Speed: the noise draws are Box–Muller on raw SFC64 bits (:func:`neurosim.sampling.normal_from_variance`,
the crossbar's read stream). Batches up to ``TRANSPOSE_MAX_BATCH`` are read transposed
(:math:`A^T d^T`, all blocks stacked, one element-wise pass per read), which OpenBLAS runs faster at
batch 32 than :math:`d A`; larger ones in passes of ``CHUNK`` vectors so temporaries stay in cache.
"""

from __future__ import annotations

import numpy as np

from neurosim.crossbar.periphery import _steps, adc_round, bit_planes, dac_codes, dac_unit
from neurosim.sampling import normal_from_variance

__all__ = ["CompiledRead", "compiled_eligible"]


def compiled_eligible(xb, transposed: bool) -> bool:
    """The one rule: whether crossbar ``xb``'s reads can run compiled.

    Not with ``read_path="per_tile"`` or read disturb (states change per read); in ``device`` mode
    when every device is linear in its state's conductance (a separable read I-V allowed, except on a
    transposed read with a reference column, whose drive :math:`-\\sum v` goes through :math:`h`);
    in ``circuit`` mode when cells are linear with no selector; pulse-width inputs only where they
    equal an amplitude read (linear cells).
    """
    cfg = xb.config
    if cfg.read_path == "per_tile" or cfg.read_disturb:
        return False
    if cfg.mode == "ideal":
        return True
    tiles = xb.tiles
    if cfg.dac.encoding == "pulse_width" and not all(t.linear and cfg.cell != "1S1R" for t in tiles):
        return False
    if cfg.mode == "device":
        if transposed and cfg.mapping == "reference" and any(t.iv is not None for t in tiles):
            return False
        return all(t.phys.linear for t in tiles)
    return all(t.linear for t in tiles) and cfg.cell != "1S1R"


def _drive(mapping: str, n_cols: int, transposed: bool) -> np.ndarray | None:
    """The matrix D of a tile's drive: physical driver voltages = input voltages @ D (None: identity).

    Transposed: a differential pair gets +v and -v; a reference column -sum(v).
    """
    if not transposed:
        return None
    n_in = n_cols // 2 if mapping == "differential" else n_cols - 1
    D = np.zeros((n_in, n_cols))
    k = np.arange(n_in)
    if mapping == "differential":
        D[k, 2 * k], D[k, 2 * k + 1] = 1.0, -1.0
    else:
        D[k, k], D[:, -1] = 1.0, -1.0
    return D


class CompiledRead:
    """One compiled read of a programmed crossbar at time ``t`` (see the module).

    Parameters
    ----------
    xb : Crossbar
        The crossbar (eligible, see :func:`compiled_eligible`).
    t : float or None
        Time since programming (s).
    transposed : bool
        Column-driven read ``Y W``.
    dtype : numpy dtype
        Arithmetic of the GEMMs: float64, or float32 for float32 inputs (converter decisions at
        float32 rounding; an input exactly on a decision threshold may land on the neighbouring code).
    """

    TRANSPOSE_MAX_BATCH = 256
    CHUNK = 128

    def __init__(self, xb, t, transposed: bool, dtype=np.float64):
        cfg, dac, adc, m = xb.config, xb.config.dac, xb.config.adc, xb.map
        self.xb, self.t, self.transposed = xb, t, transposed
        self.dtype = dt = np.dtype(dtype)
        mode = cfg.mode
        self.encoding = dac.encoding
        self.iv = xb.tiles[0].iv if mode == "device" else None
        gain, v_read = xb._gain, dac.v_read
        out_per_volt = dac.x_max / (gain * v_read * m.scale)  # ADC input (V) -> output (weight units)
        # normalised drive per GEMM input unit: DAC codes fold dac_unit into A; a nonlinear read
        # shape or bit planes feed d = h(v)/v_read itself
        self.fold = dac_unit(dac) if (dac.encoding != "bit_serial" and self.iv is None) else 1.0
        self.n_adc = None if adc.bits is None else _steps(adc.bits)
        self.n_in, self.n_out = (xb.n_out, xb.n_in) if transposed else (xb.n_in, xb.n_out)
        groups: dict = {}
        for tile in xb.tiles:
            groups.setdefault((tile.o0, tile.o1) if transposed else (tile.r0, tile.r1), []).append(tile)
        reference = cfg.mapping == "reference"
        exact_power = mode == "circuit" and bool(cfg.cost.exact_circuit_power)
        self.blocks = []
        out_scale = []
        for (a, b), tiles in sorted(groups.items()):
            w = b - a
            A = np.zeros((w, self.n_out))
            S = np.zeros((w, self.n_out))
            R = np.zeros((w, len(tiles))) if reference and not transposed else None
            ref_of = np.zeros(self.n_out, dtype=np.intp)
            Rsum = np.zeros(self.n_out) if reference and transposed else None  # x (sum d)^2
            p_lin = np.zeros(w)
            p_sum = 0.0
            Y = np.zeros((w, w)) if exact_power else None
            scale = np.zeros(self.n_out)
            noisy = False
            for j, tile in enumerate(tiles):
                G = tile.G if mode == "ideal" else tile.conductance_at(t)
                lo, hi = (tile.r0, tile.r1) if transposed else (tile.o0, tile.o1)
                Dm = _drive(cfg.mapping, tile.cols, transposed)
                if mode == "circuit":
                    lm = tile.linear_map(t, transposed)
                    M = lm.M
                    if exact_power:
                        Y += lm.Y if Dm is None else Dm @ lm.Y @ Dm.T
                else:
                    M = G.T if transposed else G
                E = m.combine(M) if Dm is None else Dm @ M  # (inputs, outputs of the tile), A per V
                v_range = xb._v_range(tile, transposed)
                if self.n_adc is not None:
                    k = v_read * gain * self.n_adc / v_range  # LSB per unit of normalised drive
                    scale[lo:hi] = v_range / self.n_adc * out_per_volt
                else:
                    k = v_read * gain * out_per_volt
                    scale[lo:hi] = 1.0
                A[:, lo:hi] = E * (k * self.fold)
                ref_of[lo:hi] = j
                # array power: every cell of a driven line sees its driver's voltage
                line_g = G.sum(axis=0) if transposed else G.sum(axis=1)
                if transposed and reference:
                    p_lin += line_g[:-1]
                    p_sum += line_g[-1]
                elif transposed:
                    p_lin += line_g[0::2] + line_g[1::2]
                else:
                    p_lin += line_g
                std = tile.read_std_at(t, G) if mode != "ideal" else None
                if std is None:
                    continue
                noisy = True
                var = (std.T if transposed else std) ** 2 * (k * self.fold) ** 2  # (drive lines, read lines)
                if transposed:  # rows are outputs; the drive's pairs / reference are the inputs
                    if reference:
                        S[:, lo:hi] = var[:-1]
                        Rsum[lo:hi] = var[-1]
                    else:
                        S[:, lo:hi] = var[0::2] + var[1::2]
                elif reference:
                    S[:, lo:hi] = var[:, :-1]
                    R[:, j] = var[:, -1]
                else:
                    S[:, lo:hi] = var[:, 0::2] + var[:, 1::2]
            out_scale.append(scale)
            self.blocks.append(dict(
                a=a, b=b, At=np.ascontiguousarray(A.T.astype(dt)), A=A.astype(dt),
                St=np.ascontiguousarray(S.T.astype(dt)) if noisy else None, S=S.astype(dt) if noisy else None,
                R=None if (R is None or not noisy) else R.astype(dt), ref_of=ref_of,
                Rsum=None if (Rsum is None or not noisy) else Rsum.astype(dt),
                p_lin=p_lin * (v_read * self.fold) ** 2, p_sum=p_sum * (v_read * self.fold) ** 2,
                Y=None if Y is None else Y * (v_read * self.fold) ** 2,
            ))
        K = len(self.blocks)
        self._scale = None if self.n_adc is None else np.stack(out_scale).astype(dt)  # (blocks, outputs)
        ro = np.zeros((K, self.n_out))
        if adc.noise > 0:
            # each tile's readout variance on its outputs, in the block where that tile sits
            for kb, (blk, (_, tiles)) in enumerate(zip(self.blocks, sorted(groups.items()))):
                for tile in tiles:
                    lo, hi = (tile.r0, tile.r1) if transposed else (tile.o0, tile.o1)
                    v_range = xb._v_range(tile, transposed)
                    ro[kb, lo:hi] = (adc.noise * (self.n_adc if self.n_adc is not None else v_range * out_per_volt)) ** 2
        self._ro = ro.astype(dt) if adc.noise > 0 else None
        self.noisy = self._ro is not None or any(blk["St"] is not None for blk in self.blocks)
        counts = xb._per_vector_cost(transposed)
        cycles = (dac.bits - 1) if dac.encoding == "bit_serial" else 1
        self._per_vector = list(counts(cycles).items())  # cost counters of one vector, added per read
        # the common power formula, one vector for all rows: P = sum_i d_i u_i g_i
        simple = all(blk["Y"] is None and not blk["p_sum"] for blk in self.blocks)
        self._row_power = np.concatenate([blk["p_lin"] for blk in self.blocks]) if simple and \
            [blk["a"] for blk in self.blocks] == list(np.cumsum([0] + [blk["b"] - blk["a"] for blk in self.blocks])[:-1]) \
            else None
        self._buffers: dict = {}
        self._by_batch: dict = {}

    # ------------------------------------------------------------------ helpers
    def _buffer(self, key: str, shape: tuple) -> np.ndarray:
        """A reusable scratch array (reads of one crossbar are sequential)."""
        buf = self._buffers.get(key)
        if buf is None or buf.shape != shape:
            buf = self._buffers[key] = np.empty(shape, dtype=self.dtype)
        return buf

    def _per_batch(self, key: str, per_output: np.ndarray, b: int) -> np.ndarray:
        """``per_output`` (blocks, outputs) broadcast over ``b`` vectors as a contiguous array, made
        once per batch size (a product with it is ~3x faster than one broadcasting the last axis)."""
        arr = self._by_batch.get((key, b))
        if arr is None:
            arr = self._by_batch[(key, b)] = np.ascontiguousarray(
                np.broadcast_to(per_output[:, :, None], per_output.shape + (b,)))
        return arr

    # ------------------------------------------------------------------ one pass
    def _pass(self, Q: np.ndarray, Q2: np.ndarray | None, out: np.ndarray, transposed: bool) -> None:
        """Read drives ``Q`` (b vectors, GEMM units) into ``out`` (b, n_out): GEMMs, noise, ADC, sum.

        Transposed, block outputs are laid out (block, output, vector) as ``A^T Q^T`` yields them;
        otherwise (block, vector, output), a single block written straight into ``out``.
        """
        b, K, n = Q.shape[0], len(self.blocks), self.n_out
        rng = self.xb._read_rng
        if transposed:
            V = self._buffer("v_t", (K, n, b))
        else:
            V = out[None] if K == 1 else self._buffer("v", (K, b, n))
        for k, blk in enumerate(self.blocks):
            if transposed:
                np.matmul(blk["At"], Q[:, blk["a"] : blk["b"]].T, out=V[k])
            else:
                np.matmul(Q[:, blk["a"] : blk["b"]], blk["A"], out=V[k])
        if self.noisy:
            var = self._buffer("var_t" if transposed else "var", V.shape)
            var[...] = 0.0
            for k, blk in enumerate(self.blocks):
                q2 = Q2[:, blk["a"] : blk["b"]]
                if blk["St"] is not None:
                    if transposed:
                        np.matmul(blk["St"], q2.T, out=var[k])
                    else:
                        np.matmul(q2, blk["S"], out=var[k])
                if blk["Rsum"] is not None:  # reference column driven at -sum(v): (sum d)^2 per vector
                    s2 = np.square(Q[:, blk["a"] : blk["b"]].sum(axis=1))
                    var[k] += (blk["Rsum"][:, None] * s2[None, :]) if transposed else (s2[:, None] * blk["Rsum"][None, :])
            if self._ro is not None:
                var += self._per_batch("ro", self._ro, b) if transposed else self._ro[:, None, :]
            V += normal_from_variance(rng, var)
            for k, blk in enumerate(self.blocks):
                if blk["R"] is None:
                    continue
                # one draw per reference column (tile) and vector, subtracted from all its outputs
                q2 = Q2[:, blk["a"] : blk["b"]]
                ref = normal_from_variance(rng, np.ascontiguousarray(q2 @ blk["R"]))  # (b, tiles)
                if transposed:
                    V[k] -= ref.T[blk["ref_of"]]
                else:
                    V[k] -= ref[:, blk["ref_of"]]
        if self.n_adc is not None:  # each tile's ADC on its block's outputs, then the output scale
            adc_round(V, self.xb.config.adc)
            V *= self._per_batch("scale", self._scale, b) if transposed else self._scale[:, None, :]
        for k in range(1, K):
            V[0] += V[k]
        if transposed:
            np.copyto(out, V[0].T)
        elif K > 1:
            np.copyto(out, V[0])

    def _run(self, Q: np.ndarray, Q2: np.ndarray | None, out: np.ndarray) -> None:
        B = Q.shape[0]
        if B <= self.TRANSPOSE_MAX_BATCH:
            self._pass(Q, Q2, out, True)
        else:  # passes of CHUNK vectors: block outputs, noise and draws stay in cache
            for s in range(0, B, self.CHUNK):
                e = min(s + self.CHUNK, B)
                self._pass(Q[s:e], None if Q2 is None else Q2[s:e], out[s:e], False)

    def _power(self, Q: np.ndarray, P: np.ndarray) -> float:
        """Array power summed over the batch (W): drive ``Q`` for the currents, ``P`` = d * u per element."""
        if self._row_power is not None:
            return float(P.sum(axis=0) @ self._row_power)
        total = 0.0
        for blk in self.blocks:
            a, b = blk["a"], blk["b"]
            if blk["Y"] is not None:  # exact circuit power: v Y v (Y: the tiles' input admittance)
                total += float(np.sum((Q[:, a:b] @ blk["Y"]) * Q[:, a:b]))
            else:
                total += float(P[:, a:b].sum(axis=0) @ blk["p_lin"])
                if blk["p_sum"]:
                    total += blk["p_sum"] * float(np.sum(np.square(Q[:, a:b].sum(axis=1))))
        return total

    # ------------------------------------------------------------------ the read
    def read(self, X: np.ndarray, out: np.ndarray) -> np.ndarray:
        """``X W^T`` (or ``X W`` transposed) as the crossbar reads it, into ``out``; costs counted.

        Parameters
        ----------
        X : ndarray, shape (batch, inputs)
            Inputs (input units), in ``self.dtype``.
        out : ndarray, shape (batch, outputs)
            C-contiguous, ``self.dtype``.
        """
        xb, dac = self.xb, self.xb.config.dac
        B = X.shape[0]
        if self.encoding == "bit_serial":
            planes, weights = bit_planes(dac, X)
            if self.iv is not None:
                planes = planes * (self.iv.read_shape(dac.v_read) / dac.v_read)
            planes = planes.astype(self.dtype)
            acc = np.zeros_like(out)
            part = self._buffer("part", out.shape)
            P_total = 0.0
            for k in range(planes.shape[0]):
                Q = np.ascontiguousarray(planes[k])
                Q2 = Q * Q
                self._run(Q, Q2, part)
                acc += weights[k] * part
                P_total += self._power(Q, Q2 if self.iv is None else np.abs(Q) * self.iv.read_shape(dac.v_read) / dac.v_read)
            np.copyto(out, acc)
        else:
            Q = dac_codes(dac, X, out=self._buffer("q", X.shape))
            if self.iv is not None:  # d = h(v) / v_read of the represented input
                U = Q * dac_unit(dac)
                Q = (self.iv.read_shape(dac.v_read * U) / dac.v_read).astype(self.dtype)
                P = Q * U
                Q2 = Q * Q
            else:
                Q2 = self._buffer("q2", Q.shape)
                np.multiply(Q, Q, out=Q2)
                P = Q2
            self._run(Q, Q2 if self.noisy else None, out)
            P_total = self._power(Q, P)
        cost = xb._cost
        for key, v in self._per_vector:
            setattr(cost, key, getattr(cost, key) + (B * v if isinstance(v, float) else int(B * v)))
        cost.e_array += xb.config.cost.t_read * P_total
        return out
