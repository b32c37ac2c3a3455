"""Synthetic sequence tasks: sine generation, the adding problem, the copy task."""

from __future__ import annotations

import numpy as np

from neurosim.errors import ParameterError
from neurosim.params import Param, check_params
from neurosim.tasks.base import SequenceTask, as_rng, guard_sequences

__all__ = ["sine_generation", "adding_problem", "copy_task"]

_SINE = {
    "n_steps": Param("int", low=1),
    "batch_size": Param("int", low=1),
    "f_min": Param("real", low=0, low_open=True, high=0.5, unit="cycles/step"),
    "f_max": Param("real", low=0, low_open=True, high=0.5, unit="cycles/step"),
    "switch_every": Param("int", low=1, optional=True),
    "washout": Param("int", low=0),
}


def sine_generation(
    n_steps: int = 500,
    batch_size: int = 1,
    f_min: float = 0.01,
    f_max: float = 0.05,
    switch_every: int | None = 100,
    washout: int = 50,
    seed: int = 0,
    rng: np.random.Generator | None = None,
) -> SequenceTask:
    r"""Tunable sine generator (after Jaeger's ESN tutorial): the input sets the frequency.

    .. math::

        \varphi_t = \varphi_{t-1} + 2\pi f_t, \qquad y_t = \sin\varphi_t,
        \qquad u_t = \frac{f_t - f_{min}}{f_{max} - f_{min}}

    The frequency :math:`f_t` (cycles per step) is drawn from :math:`U[f_{min}, f_{max}]` and
    held for ``switch_every`` steps (``None``: constant over the sequence); the phase starts at 0.

    Parameters
    ----------
    n_steps, batch_size : int
        Sequence length and number of sequences.
    f_min, f_max : float
        Frequency range in cycles per step, ``0 < f_min <= f_max <= 0.5`` (Nyquist).
    switch_every : int or None
        Steps between frequency changes.
    washout : int
        Leading steps not scored.
    seed : int
        Seed of the frequency draws (ignored when ``rng`` is given).
    rng : numpy.random.Generator, optional
        Generator of the frequency draws.

    Returns
    -------
    SequenceTask
        ``inputs`` :math:`u_t \in [0, 1]` and ``targets`` :math:`y_t`, (n_steps, batch_size, 1).

    Examples
    --------
    >>> t = sine_generation(n_steps=8, f_min=0.25, f_max=0.25, washout=0)
    >>> np.round(t.targets[:4, 0, 0], 12).tolist()
    [1.0, 0.0, -1.0, -0.0]
    """
    p = check_params(
        "sine_generation",
        _SINE,
        dict(n_steps=n_steps, batch_size=batch_size, f_min=f_min, f_max=f_max, switch_every=switch_every, washout=washout),
    )
    guard_sequences("sine_generation", p["n_steps"], p["batch_size"], 2)
    if p["f_min"] > p["f_max"]:
        raise ParameterError(f"sine_generation: f_min must be <= f_max={f_max!r}, got {f_min!r}")
    if p["washout"] >= p["n_steps"]:
        raise ParameterError(f"sine_generation: washout must be < n_steps={n_steps}, got {washout}")
    gen = as_rng("sine_generation", seed, rng)
    T, B = p["n_steps"], p["batch_size"]
    hold = T if p["switch_every"] is None else p["switch_every"]
    n_seg = -(-T // hold)
    f = np.repeat(gen.uniform(p["f_min"], p["f_max"], size=(n_seg, B)), hold, axis=0)[:T]
    phase = 2.0 * np.pi * np.cumsum(f, axis=0)
    span = p["f_max"] - p["f_min"]
    u = (f - p["f_min"]) / span if span > 0 else np.zeros_like(f)
    mask = np.ones((T, B), bool)
    mask[: p["washout"]] = False
    return SequenceTask("sine_generation", u[:, :, None], np.sin(phase)[:, :, None], mask, "regression", dict(p, seed=seed))


_ADDING = {"n_steps": Param("int", low=2), "batch_size": Param("int", low=1)}


def adding_problem(
    n_steps: int = 100, batch_size: int = 32, seed: int = 0, rng: np.random.Generator | None = None
) -> SequenceTask:
    r"""The adding problem (Hochreiter & Schmidhuber 1997; the form of Le et al. 2015).

    Two input channels: values :math:`v_t \sim U[0, 1]` and a marker :math:`m_t` that is 1 at
    exactly two steps, one in each half of the sequence. Only the last step is scored:

    .. math::

        y_T = \sum_t m_t v_t

    Always answering 1 gives MSE 1/6 (the variance of a sum of two U[0, 1]), the usual baseline.

    Parameters
    ----------
    n_steps, batch_size : int
        Sequence length (>= 2) and number of sequences.
    seed : int
        Seed (ignored when ``rng`` is given).
    rng : numpy.random.Generator, optional
        Generator of values and marker positions.

    Returns
    -------
    SequenceTask
        ``inputs`` (n_steps, batch_size, 2) = (value, marker); ``targets`` (n_steps, batch_size, 1)
        with the sum at the last step (zeros elsewhere); ``mask`` true at the last step only.

    Examples
    --------
    >>> t = adding_problem(n_steps=10, batch_size=3, seed=0)
    >>> v, m = t.inputs[..., 0], t.inputs[..., 1]
    >>> bool(np.allclose((v * m).sum(0), t.targets[-1, :, 0])), m.sum(0).tolist()
    (True, [2.0, 2.0, 2.0])
    """
    p = check_params("adding_problem", _ADDING, dict(n_steps=n_steps, batch_size=batch_size))
    guard_sequences("adding_problem", p["n_steps"], p["batch_size"], 2)
    gen = as_rng("adding_problem", seed, rng)
    T, B = p["n_steps"], p["batch_size"]
    values = gen.uniform(0.0, 1.0, size=(T, B))
    half = T // 2
    first = gen.integers(0, half, size=B)
    second = gen.integers(half, T, size=B)
    markers = np.zeros((T, B))
    cols = np.arange(B)
    markers[first, cols] = 1.0
    markers[second, cols] = 1.0
    targets = np.zeros((T, B, 1))
    targets[-1, :, 0] = values[first, cols] + values[second, cols]
    mask = np.zeros((T, B), bool)
    mask[-1] = True
    inputs = np.stack([values, markers], axis=-1)
    return SequenceTask("adding_problem", inputs, targets, mask, "regression", dict(p, seed=seed))


_COPY = {
    "delay": Param("int", low=1),
    "batch_size": Param("int", low=1),
    "n_symbols": Param("int", low=1),
    "length": Param("int", low=1),
}


def copy_task(
    delay: int = 20,
    batch_size: int = 32,
    n_symbols: int = 8,
    length: int = 10,
    seed: int = 0,
    rng: np.random.Generator | None = None,
) -> SequenceTask:
    r"""The copy (memory) task in the form of Arjovsky, Shah & Bengio 2016.

    Alphabet: 0 = blank, 1..``n_symbols`` = data, ``n_symbols + 1`` = "go" delimiter. The input is
    ``length`` random data symbols, ``delay - 1`` blanks, the delimiter, then ``length`` blanks
    (total :math:`T = delay + 2\,length`); the target is :math:`delay + length` blanks followed by
    the data symbols. Inputs and targets are one-hot over the ``n_symbols + 2`` categories. Only
    the last ``length`` steps are scored (accuracy); the memoryless baseline is :math:`1/n_{symbols}`.

    Parameters
    ----------
    delay : int
        Steps between the end of the data and the recall (the "T" of the literature).
    batch_size : int
        Number of sequences.
    n_symbols : int
        Number of data symbols (8 in the literature).
    length : int
        Number of symbols to copy (10 in the literature).
    seed : int
        Seed (ignored when ``rng`` is given).
    rng : numpy.random.Generator, optional
        Generator of the symbols.

    Returns
    -------
    SequenceTask
        Classification task, inputs and targets of shape (delay + 2 length, batch_size, n_symbols + 2).

    Examples
    --------
    >>> t = copy_task(delay=5, batch_size=2, length=3, seed=0)
    >>> lab_in, lab_out = t.inputs.argmax(-1), t.labels()
    >>> bool(np.array_equal(lab_in[:3], lab_out[-3:])), int(lab_in[7, 0])
    (True, 9)
    """
    p = check_params("copy_task", _COPY, dict(delay=delay, batch_size=batch_size, n_symbols=n_symbols, length=length))
    guard_sequences("copy_task", p["delay"] + 2 * p["length"], p["batch_size"], p["n_symbols"] + 2)
    gen = as_rng("copy_task", seed, rng)
    L, D, B, S = p["length"], p["delay"], p["batch_size"], p["n_symbols"]
    T = D + 2 * L
    data = gen.integers(1, S + 1, size=(L, B))
    x = np.zeros((T, B), dtype=np.int64)
    x[:L] = data
    x[L + D - 1] = S + 1
    y = np.zeros((T, B), dtype=np.int64)
    y[-L:] = data
    eye = np.eye(S + 2)
    mask = np.zeros((T, B), bool)
    mask[-L:] = True
    return SequenceTask("copy_task", eye[x], eye[y], mask, "classification", dict(p, seed=seed))
