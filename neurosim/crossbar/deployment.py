r"""Reads of one weight matrix over deployment time and device seeds, vectorized.

:func:`deployment_reads` answers "what does the crossbar return at times :math:`t_1..t_T` after
programming, for device seeds :math:`s_1..s_S`" in one call. Every seed's devices are programmed by
:class:`~neurosim.crossbar.Crossbar` itself (the same streams, so the same programmed conductances,
faults and drift draws as ``Crossbar(weights, config, seed=s)``); what is vectorized is the read:
the drifted conductances of all seeds are one array ``(seeds, rows, cols)`` per time, and the read
of all seeds is one batched matrix product, with the per-tile read's arithmetic (the reference
variant of the read plan, ``Crossbar._read_per_tile`` in ``device`` mode):

.. math::

    V = v_{read}\, \mathrm{DAC}(x) / x_{max}, \qquad
    I^{(s,t)} = V G^{(s)}(t) + \sqrt{V^2 (s^{(s)}(t))^2}\; z, \qquad
    y^{(s,t)} = \frac{x_{max}}{g\, v_{read}\, \sigma}\, \mathrm{ADC}\big(g\, \mathrm{combine}(I^{(s,t)})\big)

summed over tiles, then multiplied by the drift compensation factors of
:meth:`~neurosim.crossbar.Crossbar.compensation` when the configuration asks for them (reference
reads of :math:`x_{max} e_i` at 0 and :math:`t`, through the same vectorized read). Without noise
the result equals ``Crossbar(weights, config, seed=s).matmul(X, t)`` to rounding; with noise it is
equal in distribution (its own read-noise stream, ``read_seed``).

Speed: the conductances of all seeds are stored as ``(rows, seeds, cols)``, so a read at one time is
one matrix product ``V @ G(t)`` of shape ``(batch, seeds * cols)``; with one drift item offering
``factor`` and at most one separable read noise, :math:`G(t) = G f(t)` and the variances
:math:`f(t)^2 (|G| A)^2` (the latter computed once) are formed in cache-sized row blocks into buffers
reused at every time, and the scalar time factor of the noise multiplies the small product
:math:`V^2 \mathrm{var}` instead of every device.

Eligible: ``device`` mode, linear devices without a ``read_iv`` non-ideality, amplitude or
pulse-width inputs, no read disturb.

Examples
--------
>>> import numpy as np
>>> from neurosim.crossbar import CrossbarConfig
>>> from neurosim.devices import RetentionDrift
>>> cfg = CrossbarConfig(mode="device", nonidealities=(RetentionDrift(nu=0.1, nu_std=0.02),))
>>> Y = deployment_reads(np.array([[1.0, -0.5]]), cfg, np.array([[1.0, 1.0]]), times=[1.0, 10.0], seeds=[0, 1, 2])
>>> Y.shape      # (times, seeds, batch, outputs)
(2, 3, 1, 1)
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from neurosim.crossbar.config import CrossbarConfig
from neurosim.crossbar.crossbar import Crossbar
from neurosim.crossbar.periphery import adc_convert, dac_quantize
from neurosim.errors import ParameterError
from neurosim.params import check_array
from neurosim.sampling import normal_from_variance
from neurosim.seeding import check_seed, derive

__all__ = ["deployment_reads"]


def _check_times(times) -> list[float]:
    try:
        ts = [float(t) for t in np.atleast_1d(np.asarray(times, dtype=float))]
    except (TypeError, ValueError):
        raise ParameterError(f"deployment_reads: times must be a list of times since programming (s), got {times!r}") from None
    if not ts or any(not math.isfinite(t) or t < 0 for t in ts):
        raise ParameterError("deployment_reads: times must be a non-empty list of finite times since programming "
                             f">= 0 s (a negative time is before programming), got {times!r}")
    return ts


def deployment_reads(weights, config: CrossbarConfig, X, times, seeds, *, read_seed=0) -> np.ndarray:
    """``X W^T`` as the crossbar of every device seed reads it at every deployment time.

    Parameters
    ----------
    weights : array_like, shape (out, in)
        Weights (weight units).
    config : CrossbarConfig
        ``device`` mode, linear devices (see the module).
    X : array_like, shape (batch, in)
        Inputs (input units).
    times : sequence of float
        Times since programming (s), >= 0.
    seeds : sequence of int
        Device seeds (root seeds of ``Crossbar(weights, config, seed=s)``).
    read_seed : int
        Root of the read-noise stream of this call.

    Returns
    -------
    ndarray, shape (times, seeds, batch, out)

    Raises
    ------
    ParameterError
        A configuration this read does not cover, negative or non-finite times, bad seeds or inputs.
    """
    if not isinstance(config, CrossbarConfig):
        raise ParameterError(f"deployment_reads: config must be a CrossbarConfig, got {type(config).__name__}")
    ts = _check_times(times)
    seeds = list(seeds)
    if not seeds:
        raise ParameterError("deployment_reads: seeds must be a non-empty list of integers >= 0, got []")
    for s in seeds:
        check_seed("deployment_reads", s, "seeds entry")
    check_seed("deployment_reads", read_seed, "read_seed")
    if config.mode != "device" or config.read_disturb or config.dac.encoding == "bit_serial":
        raise ParameterError("deployment_reads: config must have mode='device', no read_disturb and amplitude or "
                             f"pulse-width inputs, got mode={config.mode!r}, read_disturb={config.read_disturb}, "
                             f"encoding={config.dac.encoding!r}")
    ref = Crossbar(weights, config, seed=seeds[0])  # checks everything, the card's array limit included
    # the other seeds: the same configuration with the card's model object (parsed once)
    same = dataclasses.replace(config, device=ref.device.model) if isinstance(config.device, str) else config
    xbs = [ref] + [Crossbar(weights, same, seed=s) for s in seeds[1:]]
    if not all(t.phys.linear and t.iv is None for xb in xbs for t in xb.tiles):
        raise ParameterError("deployment_reads: the devices must read linearly (no nonlinear device or read_iv)")
    X = check_array("deployment_reads", "X", X, shape=(None, ref.n_in), shape_names=("batch", None)).astype(np.float64)
    rng = np.random.Generator(np.random.SFC64(derive(read_seed, "deployment", "read")))
    comp = config.drift_compensation
    n_b = X.shape[0]
    if comp is not None:  # the reference inputs ride along with the batch
        X = np.concatenate([X, np.eye(ref.n_in) * config.dac.x_max])
    dac, adc = config.dac, config.adc
    gain = ref._gain
    scale = dac.x_max / (gain * dac.v_read * ref.map.scale)
    ni = ref.nonideal
    # fast forms where every item offers them (checked against the generic path by the tests):
    # drift as a product of factor(t, draw), read noise as |G(t)| amplitude(G_prog) time_factor(t)
    drift_items, noise_items = ni.of("drift"), ni.of("read_noise")
    fast_drift = not ni.of("levels") and all(callable(getattr(it, "factor", None)) for it in drift_items)
    fast_noise = all(callable(getattr(it, "amplitude", None)) and callable(getattr(it, "time_factor", None))
                     for it in noise_items)
    # per tile: the programmed conductances and drift draws of all seeds stacked as (rows, seeds, cols),
    # so that the read of all seeds is one matrix product V @ G(t).reshape(rows, seeds * cols)
    n_s, n_x = len(seeds), X.shape[0]
    stacks, size = [], 0
    for k, tile in enumerate(ref.tiles):
        tiles = [xb.tiles[k] for xb in xbs]
        G = np.stack([t.G for t in tiles], axis=1)
        G_prog = np.stack([t.G_prog for t in tiles], axis=1)
        draws = tuple(np.stack([t._drift[j] for t in tiles], axis=1) for j in range(len(tile._drift)))
        V = dac.v_read * dac_quantize(dac, X[:, tile.r0 : tile.r1]) / dac.x_max
        amp2 = GA2 = None
        if fast_noise and len(noise_items) == 1:  # (|G| amplitude)^2 of the single separable read noise: computed once
            GA2 = np.multiply(noise_items[0].amplitude(G_prog), G)
            np.square(GA2, out=GA2)
            if not (fast_drift and len(drift_items) == 1):
                amp2 = [np.square(noise_items[0].amplitude(G_prog))]
        elif fast_noise:
            amp2 = [np.square(it.amplitude(G_prog)) for it in noise_items]
        stacks.append((tile, G, G_prog, draws, V, V * V, GA2, amp2, ref._v_range(tile, False)))
        size = max(size, G.size)
    # work buffers shared by the tiles and reused at every time
    buf_f, buf_g = np.empty(size), np.empty(size)
    # the common case (one drift item with factor(), at most one separable read noise): G(t) and the
    # variances are computed in row blocks of ~32k devices that stay in cache (one pass over memory)
    one_pass = fast_drift and len(drift_items) == 1 and (not noise_items or fast_noise and len(noise_items) == 1)
    buf_c = np.empty(min(size, 1 << 15) + max(G.shape[1] * G.shape[2] for _, G, *_ in stacks)) if one_pass else None

    def drift_one_pass(t, G, nu, GA2, Gt, var):
        """``Gt = G f(t)`` and ``var = f(t)^2 |G|^2 A^2`` (2-D ``(rows, seeds*cols)`` arrays), in row blocks."""
        n = G.shape[1]
        step = max(1, (1 << 15) // n)
        for r in range(0, G.shape[0], step):
            e = min(r + step, G.shape[0])
            f = buf_c[: (e - r) * n].reshape(e - r, n)
            drift_items[0].factor(t, nu[r:e], out=f)
            np.multiply(G[r:e], f, out=Gt[r:e])
            if var is not None:
                np.multiply(f, f, out=f)
                np.multiply(f, GA2[r:e], out=var[r:e])

    def read_at(t):
        out = np.zeros((n_s, n_x, ref.n_out))
        for tile, G, G_prog, draws, V, V2, GA2, amp2, v_range in stacks:
            rows, cols = G.shape[0], G.shape[2]
            f = buf_f[: G.size].reshape(G.shape)
            if one_pass:
                Gt = buf_g[: G.size].reshape(G.shape)
                shp = (rows, n_s * cols)
                drift_one_pass(t, G.reshape(shp), draws[0].reshape(shp), None if GA2 is None else GA2.reshape(shp),
                               Gt.reshape(shp), None if GA2 is None else f.reshape(shp))
            elif fast_drift and drift_items:
                drift_items[0].factor(t, draws[0], out=f)
                Gt = np.multiply(G, f, out=buf_g[: G.size].reshape(G.shape))
                for it, draw in zip(drift_items[1:], draws[1:]):
                    Gt *= it.factor(t, draw, out=f)
                if len(drift_items) > 1:  # f must hold the total factor G(t) / G
                    np.divide(Gt, G, out=f, where=G != 0)
                    f[G == 0] = 0.0
            elif fast_drift:
                Gt = G
            else:
                Gt = ni.conductance(G, t, draws) if ni.items else G
            I = np.matmul(V, Gt.reshape(rows, n_s * cols))  # (batch, seeds * cols)
            if noise_items:
                if one_pass:
                    var = f  # filled by drift_one_pass
                    w = float(noise_items[0].time_factor(t)) ** 2
                elif GA2 is not None and fast_drift and drift_items:
                    var = np.multiply(f, f, out=f)  # |G(t)|^2 A^2 = f^2 (|G|^2 A^2), the latter precomputed
                    var *= GA2
                    w = float(noise_items[0].time_factor(t)) ** 2  # a scalar: folded into the small product
                elif GA2 is not None and Gt is G:
                    var, w = GA2, float(noise_items[0].time_factor(t)) ** 2
                elif fast_noise:
                    wk = [float(it.time_factor(t)) ** 2 for it in noise_items]
                    var = np.square(Gt) * sum(a * v for a, v in zip(amp2, wk))
                    w = 1.0
                else:
                    var = np.square(ni.read_std(Gt, t, G_prog=G_prog))
                    w = 1.0
                nv = np.matmul(V2, var.reshape(rows, n_s * cols))
                if w != 1.0:
                    nv *= w
                I += normal_from_variance(rng, nv)
            I = I.reshape(n_x, n_s, cols)
            y = adc_convert(adc, gain * ref.map.combine(I), v_range, rng)  # (batch, seeds, outputs)
            y *= scale
            out[:, :, tile.o0 : tile.o1] += y.transpose(1, 0, 2)
        return out

    result = np.empty((len(ts), len(seeds), n_b, ref.n_out))
    base = read_at(0.0)[:, n_b:] if comp is not None else None
    for i, t in enumerate(ts):
        Y = read_at(t)
        if comp is not None and t == 0.0:  # the reference itself: factors 1, as Crossbar.compensation(0)
            Y = Y[:, :n_b]
        elif comp is not None:
            cur = Y[:, n_b:]
            if comp == "global":
                num, den = np.abs(base).sum(axis=(1, 2)), np.abs(cur).sum(axis=(1, 2))
                alpha = np.where(den > 0, num / np.where(den > 0, den, 1.0), 1.0)[:, None]
            else:
                num, den = np.abs(base).sum(axis=1), np.abs(cur).sum(axis=1)
                alpha = np.where(den > 0, num / np.where(den > 0, den, 1.0), 1.0)
            Y = Y[:, :n_b] * alpha[:, None, :]
        result[i] = Y
    return result
