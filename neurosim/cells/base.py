"""Machinery shared by every cell: parameters as named arrays, checks, stacking and directions.

A cell subclass only declares the shapes of one layer-direction's parameters, the sizes of its
states, and a function that runs one layer-direction over a whole sequence. Everything else
(initialisation from a seed, ``state_dict`` I/O, input and state checks, stacking ``num_layers``
layers, running the reverse direction and concatenating as PyTorch does, ``batch_first`` and
unbatched input) lives here, once.
"""

from __future__ import annotations

import math
import numbers
from collections import OrderedDict, namedtuple
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from neurosim.cells.io import load_npz_state_dict
from neurosim.cells.ops import DIGITAL
from neurosim.errors import ParameterError
from neurosim.params import Param, check_array, check_params, fmt_shape

__all__ = ["RecurrentBase", "IncompatibleKeys", "COMMON_PARAMS"]

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])

COMMON_PARAMS: dict[str, Param] = {
    "input_size": Param("int", low=1, doc="features of the input x_t"),
    "hidden_size": Param("int", low=1, doc="features of the hidden state h_t"),
    "num_layers": Param("int", low=1, doc="stacked layers"),
    "bias": Param("bool", doc="whether the cell has bias vectors"),
    "batch_first": Param("bool", doc="input/output as (batch, time, features)"),
    "bidirectional": Param("bool", doc="run a reverse direction too and concatenate"),
}


def _make_rng(owner: str, seed: Any) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, numbers.Integral) and not isinstance(seed, (bool, np.bool_)) and seed >= 0:
        return np.random.default_rng(int(seed))
    raise ParameterError(f"{owner}: seed must be an integer >= 0, a numpy.random.Generator or None, got {seed!r}")


def _make_dtype(owner: str, dtype: Any) -> np.dtype:
    if dtype is None:
        return np.dtype(np.float32)
    try:
        # accept torch dtypes too (str(torch.float64) == "torch.float64")
        dt = np.dtype(str(dtype).replace("torch.", "") if not isinstance(dtype, (type, np.dtype)) else dtype)
    except TypeError:
        dt = None
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ParameterError(f"{owner}: dtype must be float32, float64 or None, got {dtype!r}")
    return dt


def _to_numpy(value: Any) -> Any:
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, without importing torch
        return value.detach().cpu().numpy()
    return value


class RecurrentBase:
    """Base class of every recurrent cell (see :mod:`neurosim.cells` for the hooks).

    Subclasses set ``_params`` (constructor constraint table), ``_state_names`` and implement
    ``_direction_shapes``, ``_state_sizes``, ``_out_size`` and ``_run_direction``.

    Attributes
    ----------
    params : OrderedDict of str to ndarray
        The live parameters, keyed as in ``state_dict`` (modifying them in place changes the cell).
    dtype : numpy.dtype
        float32 or float64; every computation runs in it.
    """

    _params: ClassVar[dict[str, Param]] = COMMON_PARAMS
    _state_names: ClassVar[tuple[str, ...]] = ("h_0",)

    # ------------------------------------------------------------------ construction
    def _setup(self, values: dict, dtype: Any, seed: Any) -> None:
        owner = type(self).__name__
        values = check_params(owner, self._params, values)
        for name, value in values.items():
            setattr(self, name, value)
        self.dtype = _make_dtype(owner, dtype)
        self.num_directions = 2 if self.bidirectional else 1
        rng = _make_rng(owner, seed)
        self.params: OrderedDict[str, np.ndarray] = OrderedDict()
        for layer in range(self.num_layers):
            for d in range(self.num_directions):
                suffix = self._suffix(layer, d)
                for generic, shape in self._direction_shapes(layer):
                    draw = self._init_param(rng, generic, tuple(shape))
                    self.params[generic + suffix] = np.ascontiguousarray(draw, dtype=self.dtype)

    def _init_param(self, rng: np.random.Generator, generic: str, shape: tuple) -> np.ndarray:
        """PyTorch's default: every parameter uniform in [-1/sqrt(hidden), 1/sqrt(hidden)]."""
        k = 1.0 / math.sqrt(self.hidden_size)
        return rng.uniform(-k, k, size=shape)

    @staticmethod
    def _suffix(layer: int, direction: int) -> str:
        return f"_l{layer}" + ("_reverse" if direction else "")

    def _layer_input_size(self, layer: int) -> int:
        return self.input_size if layer == 0 else self.num_directions * self._out_size()

    # ------------------------------------------------------------------ hooks (see neurosim.cells)
    def matmul(self, name: str, W: np.ndarray, X: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Matrix product hook ``X @ W.T``; ``name`` is W's ``state_dict`` key. Override to replace."""
        return DIGITAL.matmul(name, W, X, out)

    def scale(self, name: str, u: np.ndarray, X: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Element-wise weight hook ``u * X``. Override to replace."""
        return DIGITAL.scale(name, u, X, out)

    def activation(self, kind: str, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Activation hook (``"sigmoid"``, ``"tanh"``, ``"relu"``, ``"identity"``). Override to replace."""
        return DIGITAL.activation(kind, x, out)

    def _hooks_are_digital(self) -> bool:
        """True when no hook is overridden, so a runner may use a fused digital fast path."""
        cls = type(self)
        return (cls.matmul is RecurrentBase.matmul and cls.activation is RecurrentBase.activation
                and cls.scale is RecurrentBase.scale)

    # ------------------------------------------------------------------ parameters
    def direction_params(self, layer: int = 0, direction: int = 0) -> dict[str, np.ndarray]:
        """The live parameters of one layer and direction under their generic names.

        Parameters
        ----------
        layer : int
            0-based layer index.
        direction : int
            0 forward, 1 reverse.

        Returns
        -------
        dict of str to ndarray
            e.g. ``{"weight_ih": ..., "weight_hh": ..., "bias_ih": ..., "bias_hh": ...}``; this is
            the ``params`` argument of the cell's pure step function.
        """
        suffix = self._suffix(layer, direction)
        return {g: self.params[g + suffix] for g, _ in self._direction_shapes(layer)}

    def expected_shapes(self) -> OrderedDict:
        """``state_dict`` key -> shape, in PyTorch's order."""
        return OrderedDict((k, v.shape) for k, v in self.params.items())

    def state_dict(self) -> OrderedDict:
        """A copy of the parameters as an ordered dict of numpy arrays with PyTorch's names."""
        return OrderedDict((k, v.copy()) for k, v in self.params.items())

    def load_state_dict(self, state_dict: Mapping, strict: bool = True) -> IncompatibleKeys:
        """Replace the parameters (all checked before any is replaced).

        Parameters
        ----------
        state_dict : mapping of str to array_like
            e.g. from :meth:`state_dict`, :func:`load_npz_state_dict` or a PyTorch module's
            ``state_dict()`` (tensors are accepted). Values are cast to the cell's dtype.
        strict : bool
            Refuse missing and unexpected keys (shapes are always checked).

        Returns
        -------
        IncompatibleKeys
            ``(missing_keys, unexpected_keys)`` as in PyTorch.

        Raises
        ------
        ParameterError
            A missing or unexpected key (strict), a wrongly shaped entry or a NaN/inf value; the
            message names the key, the expected and the received shape.
        """
        owner = type(self).__name__
        if not isinstance(state_dict, Mapping):
            raise ParameterError(f"{owner}: state_dict must be a mapping of names to arrays, got {type(state_dict).__name__}")
        expected = self.expected_shapes()
        missing = [k for k in expected if k not in state_dict]
        unexpected = [k for k in state_dict if k not in expected]
        if strict and missing:
            k = missing[0]
            raise ParameterError(
                f"{owner}: state_dict is missing entry {k!r} (expected shape {fmt_shape(expected[k])}); "
                f"missing: {missing}"
            )
        if strict and unexpected:
            k = unexpected[0]
            shape = getattr(_to_numpy(state_dict[k]), "shape", "?")
            raise ParameterError(
                f"{owner}: state_dict has unexpected entry {k!r} (shape {fmt_shape(shape) if shape != '?' else '?'}); "
                f"expected keys: {list(expected)}"
            )
        new = {}
        for k in expected:
            if k not in state_dict:
                continue
            with np.errstate(over="ignore"):  # values beyond float32's range become inf and are refused
                new[k] = check_array(owner, f"state_dict[{k!r}]", _to_numpy(state_dict[k]), shape=expected[k],
                                     dtype=self.dtype)
        for k, v in new.items():
            self.params[k] = np.ascontiguousarray(v).copy()
        return IncompatibleKeys(missing, unexpected)

    def save(self, path) -> None:
        """Write the parameters to a ``.npz`` file (arrays only, readable with allow_pickle=False).

        Parameters
        ----------
        path : str or path-like
            Target file.
        """
        np.savez(path, **self.params)

    def load(self, path, strict: bool = True, prefix: str = "") -> IncompatibleKeys:
        """Load parameters from a ``.npz`` file, see :func:`load_npz_state_dict` and :meth:`load_state_dict`."""
        return self.load_state_dict(load_npz_state_dict(path, prefix=prefix), strict=strict)

    # ------------------------------------------------------------------ forward
    def _check_weights(self) -> None:
        owner = type(self).__name__
        for k, v in self.params.items():
            if not np.isfinite(v).all():
                bad = int(v.size - np.count_nonzero(np.isfinite(v)))
                raise ParameterError(f"{owner}: parameter {k!r} must be finite, got {bad} NaN or inf value(s)")

    def _check_input(self, input: Any) -> tuple[np.ndarray, bool]:
        """Return time-major ``(T, B, I)`` contiguous input in the cell's dtype, and whether batched."""
        owner = type(self).__name__
        with np.errstate(over="ignore"):  # float64 beyond float32's range becomes inf, refused below
            x = check_array(owner, "input", _to_numpy(input), ndim=(2, 3), dtype=self.dtype, finite=False)
        batched = x.ndim == 3
        names = (("batch", "time", None) if self.batch_first else ("time", "batch", None)) if batched else ("time", None)
        want = (None,) * (x.ndim - 1) + (self.input_size,)
        x = check_array(owner, "input", x, shape=want, shape_names=names)
        if x.size == 0:
            raise ParameterError(f"{owner}: input must have at least one time step and one batch entry, got shape {fmt_shape(x.shape)}")
        if not batched:
            x = x[:, None, :]
        elif self.batch_first:
            x = x.transpose(1, 0, 2)
        return np.ascontiguousarray(x), batched

    def _check_states(self, hx: Any, batch: int, batched: bool) -> tuple[np.ndarray, ...]:
        owner = type(self).__name__
        LD = self.num_layers * self.num_directions
        sizes = self._state_sizes()
        names = self._state_names
        if hx is None:
            return tuple(np.zeros((LD, batch, s), dtype=self.dtype) for s in sizes)
        if len(sizes) > 1:
            if not isinstance(hx, (tuple, list)) or len(hx) != len(sizes):
                raise ParameterError(f"{owner}: hx must be a tuple ({', '.join(names)}) or None, got {type(hx).__name__}")
            parts = tuple(hx)
        else:
            parts = (hx,)
        out = []
        for name, s, part in zip(names, sizes, parts):
            want = (LD, batch, s) if batched else (LD, s)
            meaning = "(num_layers*num_directions, batch, features)" if batched else "(num_layers*num_directions, features)"
            with np.errstate(over="ignore"):
                a = check_array(owner, name, _to_numpy(part), dtype=self.dtype, finite=False)
            if a.shape != want:
                raise ParameterError(
                    f"{owner}: {name} must have shape {fmt_shape(want)} {meaning}, got {fmt_shape(a.shape)}"
                )
            a = check_array(owner, name, a)
            out.append(np.ascontiguousarray(a if batched else a[:, None, :]))
        return tuple(out)

    def _forward(self, input: Any, hx: Any) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...], bool]:
        """Run all layers and directions; return (last layer's sequences, final states, batched)."""
        x, batched = self._check_input(input)
        states0 = self._check_states(hx, x.shape[1], batched)
        self._check_weights()
        D = self.num_directions
        finals = [np.empty_like(s) for s in states0]
        layer_in = x
        seqs: tuple[np.ndarray, ...] = ()
        for layer in range(self.num_layers):
            per_dir = []
            for d in range(D):
                k = layer * D + d
                seq, fin = self._run_direction(
                    self.direction_params(layer, d), layer_in, tuple(s[k] for s in states0),
                    self._suffix(layer, d), bool(d),
                )
                per_dir.append(seq)
                for f, v in zip(finals, fin):
                    f[k] = v
            seqs = per_dir[0] if D == 1 else tuple(np.concatenate(parts, axis=-1) for parts in zip(*per_dir))
            layer_in = seqs[0]
        return seqs, tuple(finals), batched

    def _format_seq(self, a: np.ndarray, batched: bool) -> np.ndarray:
        if not batched:
            return a[:, 0, :]
        return np.ascontiguousarray(a.transpose(1, 0, 2)) if self.batch_first else a

    @staticmethod
    def _format_state(a: np.ndarray, batched: bool) -> np.ndarray:
        return a if batched else a[:, 0, :]

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._params)
        return f"{type(self).__name__}({args}, dtype={self.dtype.name})"

    # ------------------------------------------------------------------ subclass interface
    def _direction_shapes(self, layer: int) -> list[tuple[str, tuple]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _state_sizes(self) -> tuple[int, ...]:
        """Sizes of the recurrent states (default: one hidden state)."""
        return (self.hidden_size,)

    def _out_size(self) -> int:
        """Features of one direction's output (default: the hidden state)."""
        return self.hidden_size

    def __call__(self, input, hx=None):
        """Run the network over a sequence; returns ``(output, h_n)`` (see the class Notes for shapes)."""
        (out,), (h_n,), batched = self._forward(input, hx)
        return self._format_seq(out, batched), self._format_state(h_n, batched)

    def _run_direction(self, p, x, states, suffix, reverse):  # pragma: no cover - abstract
        raise NotImplementedError
