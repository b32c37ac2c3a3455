r"""A programmed crossbar frozen into a few GEMMs: the same read, without the per-tile overhead.

When the array does not change between reads (no drift along the sequence, no read disturb),
inputs are amplitude-encoded and cells read linearly, a crossbar read is, per tile, a fixed linear
map of the row voltages followed by that tile's ADC (plus, optionally, Gaussian read noise).
:class:`FrozenRead` precomputes, for every block of tile rows, the effective matrix of all its
tiles side by side (``ideal``/``device``: the conductances; ``circuit``: each tile's precomputed
linear map, IR drop included), so one read is one GEMM per block of tile rows plus element-wise
converter arithmetic, instead of a Python loop over every tile:

.. math::

    y = \frac{x_\max}{g\,v_{read}\,s} \sum_r \mathrm{ADC}_r\!\Big(
        \frac{g\,v_{read}}{x_\max}\,\big(\mathrm{DAC}(x)_r A_r + \sigma \sqrt{\mathrm{DAC}(x)_r^2 S_r}\odot z\big)\Big),
    \qquad A_r = [\,\mathrm{combine}(M_{r,1})\;\cdots\;\mathrm{combine}(M_{r,n})\,]

with :math:`S_r = G^{+2} + G^{-2}` per output (a differential pair's two independent column
noises, :math:`\sigma` the relative read noise of the cells) and :math:`z \sim \mathcal N(0, 1)`
one draw per output of every tile-row block (each tile has its own ADC); the readout's own
input-referred noise (``ADC.noise``, a fraction of full scale) adds its variance to the same draw.
The draws are Box–Muller (:func:`neurosim.sampling.normal_from_variance`) from a stream seeded once
from the crossbar's generator. The draws and the variance GEMM :math:`x^2 S` double the work of a read. Batches up to
``TRANSPOSE_MAX_BATCH`` are read transposed (:math:`A^T x^T`, all tile-row blocks stacked, one
element-wise pass per read), which OpenBLAS runs faster at batch 32 than :math:`x A`; larger ones in
passes of ``CHUNK`` vectors (:math:`x A`, no transposed copy), so the temporaries stay in cache.

It updates the crossbar's own cost counters as a read through the crossbar would (converter
costs per vector are measured once by a calibration read whose counts are then removed; the array
energy uses the crossbar's power formula). Noise-free outputs equal ``Crossbar.matmul`` to
rounding (an output exactly on an ADC decision threshold may round to the neighbouring code);
noisy outputs have the same distribution, not the same draws.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from neurosim.sampling import normal_from_variance

__all__ = ["FrozenRead", "frozen_read_or_none"]


def _read_sigma(cfg) -> float:
    """Combined relative read noise of the crossbar's ReadNoise non-idealities (0 in ideal mode)."""
    if cfg.mode == "ideal":
        return 0.0
    return math.sqrt(sum(it.sigma**2 for it in cfg.nonidealities if type(it).__name__ == "ReadNoise"))


def _eligible(xb, hardware) -> bool:
    cfg = xb.config
    if hardware.step_time is not None or cfg.read_disturb or cfg.dac.encoding != "amplitude":
        return False
    if _read_sigma(cfg) > 0 and cfg.mapping != "differential":
        return False  # the reference column's noise is shared by a tile's outputs: not modelled here
    for tile in xb.tiles:
        if cfg.mode == "device" and not tile.linear:
            return False
        if cfg.mode == "circuit" and (not tile.linear or cfg.cell == "1S1R"):
            return False
    return True


def frozen_read_or_none(xb, hardware, dtype):
    """A :class:`FrozenRead` of ``xb`` when its reads can be frozen (see the module), else ``None``."""
    return FrozenRead(xb, dtype) if _eligible(xb, hardware) else None


class FrozenRead:
    """The read of a programmed :class:`~neurosim.crossbar.Crossbar` as block GEMMs.

    Parameters
    ----------
    xb : Crossbar
        A programmed crossbar whose reads can be frozen (see :func:`frozen_read_or_none`).
    dtype : numpy dtype
        Arithmetic of the GEMMs (float64, or float32 for float32 cells).
    """

    TRANSPOSE_MAX_BATCH = 256  # up to this batch one transposed pass (see __init__)
    CHUNK = 128  # larger batches: passes of this many vectors

    def __init__(self, xb, dtype=np.float64):
        self.xb = xb
        cfg = xb.config
        self.dtype = dt = np.dtype(dtype)
        mode = cfg.mode
        gain = cfg.tia_gain if cfg.readout == "tia" else cfg.r_sense
        dac, adc = cfg.dac, cfg.adc
        k_in = gain * dac.v_read / dac.x_max
        scale = dac.x_max / (gain * dac.v_read * xb.map.scale)
        self.sigma = _read_sigma(cfg)
        # DAC codes: x_q = (x_max / n) round(n clip(x / x_max)); the factor x_max / n goes into A
        self.n_dac = None if dac.bits is None else 2 ** (dac.bits - 1) - 1
        self.dac_in = None if dac.bits is None else self.n_dac / dac.x_max
        dac_out = 1.0 if dac.bits is None else dac.x_max / self.n_dac
        self.n_adc = None if adc.bits is None else 2 ** (adc.bits - 1) - 1
        self.saturation = adc.saturation
        # the crossbar's array-power formula: exact driver power v Y v of the circuit, or the
        # cells' sum_i V_i^2 sum_j G_ij (the crossbar's default for circuit reads too)
        self.quadratic_power = mode == "circuit" and bool(getattr(cfg.cost, "exact_circuit_power", False))
        v_scale = dac_out * dac.v_read / dac.x_max  # DAC code -> row voltage (V)
        blocks: dict[tuple[int, int], list] = {}
        for tile in xb.tiles:
            blocks.setdefault((tile.r0, tile.r1), []).append(tile)
        self.blocks = []
        out_var = []
        for (r0, r1), tiles in sorted(blocks.items()):
            A = np.zeros((r1 - r0, xb.n_out))
            S = np.zeros((r1 - r0, xb.n_out)) if self.sigma > 0 else None
            rng = np.zeros(xb.n_out)
            power = np.zeros((r1 - r0, r1 - r0)) if self.quadratic_power else np.zeros(r1 - r0)
            for tile in tiles:
                G = tile.G if mode == "ideal" else tile.conductance_at(None)
                M = tile.linear_map(None, False).M if mode == "circuit" else G
                power = power + (tile.linear_map(None, False).Y if self.quadratic_power else G.sum(axis=1))
                A[:, tile.o0 : tile.o1] = xb.map.combine(M)
                if S is not None:
                    S[:, tile.o0 : tile.o1] = G[:, 0::2] ** 2 + G[:, 1::2] ** 2
                rng[tile.o0 : tile.o1] = xb._v_range(tile, False)
            # fold every constant into the matrices: a block's GEMM yields the ADC input (V), or
            # with an ADC, the ADC input in units of its step (ready to round)
            to_adc = k_in * dac_out
            if self.n_adc is not None:
                to_adc = to_adc * (self.n_adc / rng)[None, :]
                out_scale = (rng / self.n_adc * scale).astype(dt)
            else:
                out_scale = None
                to_adc = to_adc * scale
            # the readout's input-referred noise (a fraction of full scale), in the same units
            out_var.append(np.broadcast_to((adc.noise * (self.n_adc if self.n_adc is not None else rng * scale)) ** 2,
                                           (xb.n_out,)).astype(dt))
            A = (A * to_adc).astype(dt)
            if S is not None:
                S = (S * (to_adc * self.sigma) ** 2).astype(dt)
            power = (power * v_scale**2).astype(np.float64)
            self.blocks.append((r0, r1, A, S, out_scale, power))
        # reads run transposed, all blocks stacked: A^T x^T is ~25 % faster in OpenBLAS than x A at
        # (batch 32, 128 x 1024), and the element-wise steps run once per read, not per block; this
        # outweighs the one transposed copy of the summed blocks into the output
        self._At = [np.ascontiguousarray(A.T) for _, _, A, *_ in self.blocks]
        self._St = [None if S is None else np.ascontiguousarray(S.T) for _, _, _, S, *_ in self.blocks]
        self._scale = None if self.n_adc is None else np.stack([o for *_, o, _ in self.blocks])  # (blocks, outputs)
        if not self.quadratic_power:  # one vector for all rows: the power needs sum_b x^2 once per read
            self.row_power = np.zeros(xb.n_in)
            for r0, r1, *_, power in self.blocks:
                self.row_power[r0:r1] += power
        self._out_var = np.stack(out_var) if adc.noise > 0 else None  # (blocks, outputs)
        self.noisy = self.sigma > 0 or self._out_var is not None
        # the read noise's own stream, seeded once from the crossbar's generator (so the crossbar's
        # seed fixes it): SFC64's raw output is ~1.5x faster than PCG64's, and raw bits are what
        # the Box-Muller draws consume
        self._noise_rng = np.random.Generator(np.random.SFC64(xb.rng.integers(0, 2**63, size=4))) if self.noisy else None
        self._per_vector = self._calibrate()
        self._buffers: dict[str, np.ndarray] = {}
        self._by_batch: dict[tuple, np.ndarray] = {}

    def _buffer(self, key: str, shape: tuple) -> np.ndarray:
        """A reusable scratch array (reads of one crossbar are sequential)."""
        buf = self._buffers.get(key)
        if buf is None or buf.shape != shape:
            buf = self._buffers[key] = np.empty(shape, dtype=self.dtype)
        return buf

    def _calibrate(self) -> dict:
        """Converter counts and latency of one vector, from one real read whose counts are then removed."""
        cost = self.xb.cost()
        before = dataclasses.asdict(cost)
        self.xb.matmul(np.zeros((1, self.xb.n_in)))
        after = dataclasses.asdict(cost)
        for k, v in before.items():
            setattr(cost, k, v)
        keys = ("dac_conversions", "adc_conversions", "e_dac", "e_adc", "t_read", "reads", "macs")
        return {k: after[k] - before[k] for k in keys}

    def _transposed(self, key: str, per_output: np.ndarray, b: int) -> np.ndarray:
        """``per_output`` (blocks, outputs) broadcast over ``b`` vectors, (blocks, outputs, b), made once per
        batch size: a product with a contiguous array is ~3x faster than one broadcasting along the last axis."""
        arr = self._by_batch.get((key, b))
        if arr is None:
            arr = self._by_batch[(key, b)] = np.ascontiguousarray(
                np.broadcast_to(per_output[:, :, None], per_output.shape + (b,)))
        return arr

    def _read_pass(self, Xq: np.ndarray, X2: np.ndarray | None, out: np.ndarray, transposed: bool) -> None:
        """Read DAC codes ``Xq`` (b vectors) into ``out`` (b, n_out): every block's GEMM, noise and ADC.

        Transposed, the blocks' outputs are laid out (block, output, vector), as ``A^T x^T`` yields
        them; otherwise (block, vector, output), and a single block is written straight into ``out``.
        """
        b, K, n = Xq.shape[0], len(self.blocks), self.xb.n_out
        if transposed:
            V = self._buffer("v_t", (K, n, b))
        else:
            V = out[None] if K == 1 else self._buffer("v", (K, b, n))
        for k, (r0, r1, A, *_) in enumerate(self.blocks):
            if transposed:
                np.matmul(self._At[k], Xq[:, r0:r1].T, out=V[k])
            else:
                np.matmul(Xq[:, r0:r1], A, out=V[k])
        if self.noisy:  # + N(0, sigma^2 x^2 S + readout variance), one draw per output of every block
            noise = self._buffer("noise_t" if transposed else "noise", V.shape)
            if self.sigma > 0:
                for k, (r0, r1, _, S, *_) in enumerate(self.blocks):
                    if transposed:
                        np.matmul(self._St[k], X2[:, r0:r1].T, out=noise[k])
                    else:
                        np.matmul(X2[:, r0:r1], S, out=noise[k])
            if self._out_var is not None:
                var = self._transposed("out_var", self._out_var, b) if transposed else self._out_var[:, None, :]
                if self.sigma > 0:
                    noise += var
                else:
                    np.copyto(noise, var)
            V += normal_from_variance(self._noise_rng, noise)
        if self.n_adc is not None:  # each block's ADC: clip, round, scale (in LSB units until here)
            if self.saturation:
                np.clip(V, -self.n_adc, self.n_adc, out=V)
            np.rint(V, out=V)
            V *= self._transposed("scale", self._scale, b) if transposed else self._scale[:, None, :]
        for k in range(1, K):
            V[0] += V[k]
        if transposed:
            np.copyto(out, V[0].T)
        elif K > 1:
            np.copyto(out, V[0])

    def matmul(self, X: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``X W^T`` as the crossbar reads it (weight units), counting costs on the crossbar.

        Parameters
        ----------
        X : ndarray, shape (batch, in)
        out : ndarray, shape (batch, out), optional
            Written in place and returned (dtype ``self.dtype``, C-contiguous).

        Returns
        -------
        ndarray, shape (batch, out), in ``self.dtype``
        """
        B = X.shape[0]
        Xq = self._buffer("x", (B, X.shape[1]))
        if self.n_dac is not None:  # DAC codes, in place: rint(clip(n x / x_max, -n, n))
            np.multiply(X, self.dac_in, out=Xq)
            np.clip(Xq, -self.n_dac, self.n_dac, out=Xq)
            np.rint(Xq, out=Xq)
        else:
            Xq[...] = X
        if out is None:
            out = np.empty((B, self.xb.n_out), dtype=self.dtype)
        X2 = None
        if self.noisy or not self.quadratic_power:  # x^2 once per read: the noise variance and the power
            X2 = self._buffer("x2", Xq.shape)
            np.multiply(Xq, Xq, out=X2)
        if B <= self.TRANSPOSE_MAX_BATCH:
            self._read_pass(Xq, X2, out, True)
        else:  # passes of CHUNK vectors: the block outputs, noise and draws stay in cache
            for s in range(0, B, self.CHUNK):
                e = min(s + self.CHUNK, B)
                self._read_pass(Xq[s:e], None if X2 is None else X2[s:e], out[s:e], False)
        if self.quadratic_power:  # drivers deliver v Y v (Y: the tiles' input admittances)
            p_total = sum(float(np.sum((Xq[:, r0:r1] @ power) * Xq[:, r0:r1])) for r0, r1, *_, power in self.blocks)
        else:  # every cell of row i sees V_i: sum_i V_i^2 sum_j G_ij
            p_total = float(X2.sum(axis=0) @ self.row_power)
        cost = self.xb.cost()
        for key, v in self._per_vector.items():
            setattr(cost, key, getattr(cost, key) + (B * v if isinstance(v, float) else int(B * v)))
        cost.e_array += self.xb.config.cost.t_read * p_total
        return out
