"""All tiles of a linear read in one batched matrix product (the fast path of ``Crossbar.matmul``).

When every cell reads linearly (``ideal``; ``device`` with a linear device, optionally the separable
sinh read I-V; ``circuit`` with linear cells) a tile's output currents are a fixed matrix of its
drive voltages, and the analog subtraction of a differential pair or reference column can be folded
into that matrix. The tiles sharing inputs are concatenated along the outputs, the groups of tiles
whose partial sums are added digitally are stacked, and one ``numpy.matmul`` over the stack gives
every tile's output currents; each tile's ADC then acts on its own block before the digital sum:

.. math:: y = \\sum_g \\mathrm{ADC}_g\\!\\left(\\mathrm{gain}\\; h(V_g)\\, E_g\\right) \\cdot
          \\frac{x_\\max}{\\mathrm{gain}\\, v_\\mathrm{read}\\, s}

with :math:`E_g` the folded matrices of group :math:`g` and :math:`h` the read I-V shape. Read noise
(relative, per cell current) is added per output with the exact variance
:math:`\\sigma^2\\, h(V)^2 (G_+^2 + G_-^2)`. The result is the same as the tile-by-tile path up to
float rounding (the random numbers of read noise are drawn in a different order).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from neurosim.crossbar.cost import adc_energy, dac_energy, wire_delay

__all__ = ["FusedRead", "build_fused", "fusable"]


@dataclasses.dataclass
class FusedRead:
    """Stacked matrices of a linear read.

    Attributes
    ----------
    bounds : list of (int, int)
        Input slice of each group.
    E : ndarray (groups, width, outputs)
        Folded read matrices (A per V), zero padded.
    Q : ndarray (groups, width, outputs) or None
        Noise variance matrices (S^2), when read noise is on.
    v_range : ndarray (groups, 1, outputs)
        ADC full scale of the tile each output of each group belongs to (V).
    g_row : ndarray (inputs,)
        Total conductance driven by each input (S), for the array energy.
    per_vector : dict
        Converter energy, conversions and latency of one input vector.
    """

    bounds: list
    E: np.ndarray
    Q: np.ndarray | None
    v_range: np.ndarray
    g_row: np.ndarray
    per_vector: dict


def fusable(xb, transposed: bool) -> bool:
    """Whether the read of crossbar ``xb`` can take the fused path."""
    cfg = xb.config
    if cfg.read_disturb:
        return False
    if transposed and cfg.mapping != "differential":
        return False  # the reference column's drive -sum(v) is not a per-input matrix for noise and energy
    if cfg.dac.encoding == "pulse_width" and not all(xb._superposes(t) for t in xb.tiles):
        return False
    if cfg.mode == "device":
        return all(t.phys.linear for t in xb.tiles)
    if cfg.mode == "circuit":
        return all(t.linear for t in xb.tiles) and cfg.cell != "1S1R"
    return True


def _fold(m, A, axis):
    """Fold pairs / the reference column of ``A`` along ``axis`` (difference of currents)."""
    A = np.moveaxis(A, axis, -1)
    out = m.combine(A)
    return np.moveaxis(out, -1, axis)


def _fold_sq(m, A, axis):
    """Sum of squares over the columns that ``_fold`` subtracts (independent noise adds variance)."""
    A = np.moveaxis(A * A, axis, -1)
    if m.mapping == "differential":
        out = A[..., 0::2] + A[..., 1::2]
    else:
        out = A[..., :-1] + A[..., -1:]
    return np.moveaxis(out, -1, axis)


def build_fused(xb, t, transposed: bool) -> FusedRead:
    """Assemble the stacked read of crossbar ``xb`` at time ``t`` (s)."""
    m, mode = xb.map, xb.config.mode
    n_in, n_out = (xb.n_out, xb.n_in) if transposed else (xb.n_in, xb.n_out)
    key = (lambda tl: (tl.o0, tl.o1)) if transposed else (lambda tl: (tl.r0, tl.r1))
    groups: dict = {}
    for tile in xb.tiles:
        groups.setdefault(key(tile), []).append(tile)
    bounds = sorted(groups)
    width = max(b - a for a, b in bounds)
    E = np.zeros((len(bounds), width, n_out))
    sigma = max((tl._sigma for tl in xb.tiles), default=0.0) if mode != "ideal" else 0.0
    Q = np.zeros_like(E) if sigma else None
    VR = np.zeros((len(bounds), 1, n_out))
    g_row = np.zeros(n_in)
    for g, (a, b) in enumerate(bounds):
        for tile in groups[(a, b)]:
            G = tile.G if mode == "ideal" else tile.conductance_at(t)
            if mode == "circuit":
                M = tile.linear_map(t, transposed).M  # (drive columns or rows, read rows or columns)
            else:
                M = G.T if transposed else G
            lo, hi = (tile.r0, tile.r1) if transposed else (tile.o0, tile.o1)
            if transposed:
                E[g, : b - a, lo:hi] = _fold(m, M, 0)
                if Q is not None:
                    Q[g, : b - a, lo:hi] = _fold_sq(m, G.T, 0)
                col_sum = G.sum(axis=0)  # a pair's two columns are driven at +v and -v
                g_row[a:b] += col_sum[0::2] + col_sum[1::2]
            else:
                E[g, : b - a, lo:hi] = _fold(m, M, 1)
                if Q is not None:
                    Q[g, : b - a, lo:hi] = _fold_sq(m, G, 1)
                g_row[a:b] += G.sum(axis=1)
            VR[g, 0, lo:hi] = xb._v_range(tile, transposed)
    if Q is not None:
        Q *= sigma**2
    return FusedRead(bounds, E, Q, VR, g_row, _per_vector(xb, transposed))


def _per_vector(xb, transposed: bool) -> dict:
    """Converter energy, conversions and latency of one vector (one cycle), summed over tiles."""
    cfg, cm = xb.config, xb.config.cost
    out = {"e_dac": 0.0, "e_adc": 0.0, "dac": 0, "adc": 0, "timing": []}
    bits_dac = 1 if cfg.dac.encoding == "bit_serial" else cfg.dac.bits
    for tile in xb.tiles:
        n_in = tile.cols if transposed else tile.rows
        n_out = tile.rows if transposed else tile.o1 - tile.o0
        out["e_dac"] += n_in * dac_energy(cm, bits_dac)
        out["dac"] += n_in
        out["adc"] += n_out
        out["e_adc"] += n_out * adc_energy(cm, cfg.adc.bits)
        n_adc = math.ceil(n_out / cm.columns_per_adc)
        tau = wire_delay(tile.rows, tile.cols, cfg.r_wire, cfg.r_driver, cm.c_wire)
        out["timing"].append((tau, cm.t_read + math.ceil(n_out / n_adc) * cm.t_adc))
    return out


def run_fused(xb, fr: FusedRead, V: np.ndarray, h) -> np.ndarray:
    """ADC outputs (V) summed over groups for drive voltages ``V`` (batch, inputs) of one cycle.

    Returns the digital sum of the converted group outputs (V) and accounts the array energy.
    """
    B = V.shape[0]
    G, width, n_out = fr.E.shape
    Vs = np.zeros((G, B, width))
    for g, (a, b) in enumerate(fr.bounds):
        Vs[g, :, : b - a] = V[:, a:b]
    hV = h(Vs)
    I = np.matmul(hV, fr.E)
    if fr.Q is not None:
        I += np.sqrt(np.matmul(hV * hV, fr.Q)) * xb.rng.standard_normal(I.shape)
    xb._cost.e_array += xb.config.cost.t_read * float(np.sum((h(V) * V) @ fr.g_row))
    adc = xb.config.adc
    if adc.noise > 0:  # the readout's input-referred noise, a fraction of each output's full scale
        I += (adc.noise / xb._gain) * fr.v_range * xb.rng.standard_normal(I.shape)
    if adc.bits is None:
        return xb._gain * I.sum(axis=0)
    # the ADC of periphery.adc_convert, in place: code = clip(rint(gain I N / v_range)), v = code v_range / N
    n = 2 ** (adc.bits - 1) - 1
    I *= (xb._gain * n) / fr.v_range
    np.rint(I, out=I)
    if adc.saturation:
        np.clip(I, -n, n, out=I)
    I *= fr.v_range / n
    return I.sum(axis=0)
