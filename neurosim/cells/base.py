"""Machinery shared by every cell: parameters as named arrays, checks, stacking and directions.

A cell subclass only declares the shapes of one layer-direction's parameters, the sizes of its
states, and a function that runs one layer-direction over a whole sequence. Everything else
(initialisation from a seed, ``state_dict`` I/O, input and state checks, stacking ``num_layers``
layers, running the reverse direction and concatenating as PyTorch does, ``batch_first`` and
unbatched input) lives here, once.
"""

from __future__ import annotations

import dataclasses
import math
from collections import OrderedDict, namedtuple
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from neurosim.cells.io import load_npz_state_dict
from neurosim.cells.ops import DIGITAL
from neurosim.errors import ParameterError
from neurosim.params import Param, check_array, check_params, fmt_shape
from neurosim.seeding import check_seed
from neurosim.seeding import rng as seeded_rng

__all__ = ["RecurrentBase", "IncompatibleKeys", "COMMON_PARAMS", "DirectionParams", "WeightInfo", "DRIVES"]

#: What can drive the inputs of a weight matrix (declared per cell in ``_drives``):
#: ``"input"`` the layer's input (the network's external input in layer 0, the previous layer's
#: output above), ``"state"`` a state the network computed (hidden state, fed-back output, LSTM
#: projection input), ``"state*input"`` products of a state and the layer's input (second order).
DRIVES = ("input", "state", "state*input")

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
    """The initialisation stream (:mod:`neurosim.seeding`: ``None`` means 0, never OS entropy)."""
    return seeded_rng(check_seed(owner, seed))


class DirectionParams(dict):
    """One layer-direction's parameters under generic names (``weight_ih``, ...), the ``params``
    argument of every cell's ``step``. It knows its ``layer``, ``direction`` and the ``suffix`` of
    its ``state_dict`` keys (``"_l1_reverse"``), which the hooks receive as names."""

    def __init__(self, items=(), layer: int = 0, direction: int = 0):
        super().__init__(items)
        self.layer, self.direction = layer, direction
        self.suffix = f"_l{layer}" + ("_reverse" if direction else "")

    def __reduce__(self):
        return (type(self), (dict(self), self.layer, self.direction))


@dataclasses.dataclass(frozen=True)
class WeightInfo:
    """A weight matrix of a cell as hardware sees it.

    Attributes
    ----------
    key : str
        ``state_dict`` key (``"weight_hh_l0_reverse"``), also the name the hooks receive.
    generic : str
        Name within one layer-direction (``"weight_hh"``).
    layer, direction : int
    drive : str
        What drives its inputs, one of :data:`DRIVES`.
    """

    key: str
    generic: str
    layer: int
    direction: int
    drive: str

    @property
    def reads_external_input(self) -> bool:
        """Driven by the network's own input (layer 0), not by a value the network computed."""
        return self.layer == 0 and self.drive == "input"


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
    #: generic weight name -> what drives its inputs (one of DRIVES); biases are not listed
    _drives: ClassVar[dict[str, str]] = {"weight_ih": "input", "weight_hh": "state"}
    #: the arithmetic of every hook (exact digital by default; neurosim.analog sets a crossbar backend)
    ops = DIGITAL

    # ------------------------------------------------------------------ construction
    def _setup(self, values: dict, dtype: Any, seed: Any) -> None:
        owner = type(self).__name__
        values = check_params(owner, self._params, values)
        for name, value in values.items():
            setattr(self, name, value)
        self.dtype = _make_dtype(owner, dtype)
        self.ops = DIGITAL
        self.num_directions = 2 if self.bidirectional else 1
        rng = _make_rng(owner, seed)
        from neurosim.memguard import check_memory

        n = sum(math.prod(shape) for layer in range(self.num_layers) for _, shape in self._direction_shapes(layer))
        # the draws are float64 before the cast: 8 bytes each, plus the stored copy
        check_memory(owner, n * self.num_directions * (8 + self.dtype.itemsize), "the parameters")
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
        """Matrix product hook ``X @ W.T``; ``name`` is W's ``state_dict`` key (delegates to ``self.ops``)."""
        return self.ops.matmul(name, W, X, out)

    def scale(self, name: str, u: np.ndarray, X: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Element-wise weight hook ``u * X`` (delegates to ``self.ops``)."""
        return self.ops.scale(name, u, X, out)

    def bilinear(self, name: str, W: np.ndarray, h: np.ndarray, x: np.ndarray, out: np.ndarray | None = None):
        """Bilinear hook ``sum_jk W_ijk h_j x_k`` (delegates to ``self.ops``; with exact digital
        arithmetic it is one :meth:`matmul` of the outer products, so a subclass that overrides
        ``matmul`` sees every product)."""
        if self.ops is DIGITAL:
            hx = (h[:, :, None] * x[:, None, :]).reshape(h.shape[0], -1)
            return self.matmul(name, W.reshape(W.shape[0], -1), hx, out=out)
        return self.ops.bilinear(name, W, h, x, out)

    def activation(self, kind: str, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Activation hook (``"sigmoid"``, ``"tanh"``, ``"relu"``, ``"identity"``; delegates to ``self.ops``)."""
        return self.ops.activation(kind, x, out)

    def _hooks_are_digital(self) -> bool:
        """True when the arithmetic is exact digital and no hook is overridden (fused fast paths allowed)."""
        cls = type(self)
        return (self.ops is DIGITAL and cls.matmul is RecurrentBase.matmul and cls.activation is RecurrentBase.activation
                and cls.scale is RecurrentBase.scale and cls.bilinear is RecurrentBase.bilinear)

    def _begin(self) -> None:
        begin = getattr(self.ops, "begin", None)
        if begin is not None:
            begin(self)

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
        return DirectionParams(((g, self.params[g + suffix]) for g, _ in self._direction_shapes(layer)), layer, direction)

    def weight_info(self) -> OrderedDict:
        """Every weight matrix the hardware holds: ``state_dict`` key -> :class:`WeightInfo`.

        Built from the cell's own declarations (its parameter shapes and the ``_drives`` table), so
        an executor never parses names.

        Examples
        --------
        >>> from neurosim.cells import SecondOrderRNN
        >>> info = SecondOrderRNN(3, 4, num_layers=2).weight_info()
        >>> [(k, v.drive, v.layer) for k, v in info.items()]
        [('weight_l0', 'state*input', 0), ('weight_l1', 'state*input', 1)]
        """
        out = OrderedDict()
        for layer in range(self.num_layers):
            for d in range(self.num_directions):
                suffix = self._suffix(layer, d)
                for generic, _ in self._direction_shapes(layer):
                    if generic in self._drives:
                        key = generic + suffix
                        out[key] = WeightInfo(key, generic, layer, d, self._drives[generic])
        return out

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
        # the expected names and shapes are checked from the archive's headers, before any data is read
        data = load_npz_state_dict(path, prefix=prefix, expected=self.expected_shapes(), strict=strict)
        return self.load_state_dict(data, strict=strict)

    # ------------------------------------------------------------------ forward
    def _check_weights(self) -> None:
        owner = type(self).__name__
        for k, v in self.params.items():
            if not np.isfinite(v).all():
                bad = int(v.size - np.count_nonzero(np.isfinite(v)))
                raise ParameterError(f"{owner}: parameter {k!r} must be finite, got {bad} NaN or inf value(s)")

    def _as_array(self, name: str, value: Any) -> np.ndarray:
        """``value`` as an array of the cell's dtype. Arrays (and tensors) must already have it, as in
        PyTorch; Python numbers and nested lists of reals are converted."""
        owner = type(self).__name__
        value = _to_numpy(value)
        if hasattr(value, "dtype"):
            dt = np.dtype(value.dtype)
            if dt != self.dtype:
                raise ParameterError(
                    f"{owner}: {name} must have the cell's dtype {self.dtype.name}, got {dt.name} "
                    f"(convert it with .astype(np.{self.dtype.name}), or build the cell with dtype={dt.name!r})"
                )
            return np.asarray(value)
        arr = np.asarray(value) if not isinstance(value, (str, bytes)) else np.asarray(object())
        if arr.dtype.kind not in "iuf":
            raise ParameterError(f"{owner}: {name} must be a numeric array of real numbers, got {arr.dtype.name} values")
        with np.errstate(over="ignore"):  # beyond float32's range becomes inf, refused by the finite check
            return arr.astype(self.dtype)

    def _check_input(self, input: Any) -> tuple[np.ndarray, bool]:
        """Return time-major ``(T, B, I)`` contiguous input in the cell's dtype, and whether batched."""
        owner = type(self).__name__
        x = check_array(owner, "input", self._as_array("input", input), ndim=(2, 3), finite=False)
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
            a = check_array(owner, name, self._as_array(name, part), finite=False)
            if a.shape != want:
                raise ParameterError(
                    f"{owner}: {name} must have shape {fmt_shape(want)} {meaning}, got {fmt_shape(a.shape)}"
                )
            a = check_array(owner, name, a)
            out.append(np.ascontiguousarray(a if batched else a[:, None, :]))
        return tuple(out)

    def _forward(self, input: Any, hx: Any, record: dict | None = None):
        """Run all layers and directions; return (last layer's sequences, final states, batched).

        With ``record`` (a dict), each layer-direction's hidden-state sequence is stored under
        ``"l0"``, ``"l0_reverse"``, ... (float64, time-major).
        """
        x, batched = self._check_input(input)
        states0 = self._check_states(hx, x.shape[1], batched)
        self._check_weights()
        self._begin()
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
                if record is not None:  # the hidden states: the last sequence (SRNs return (y, h))
                    record[self._suffix(layer, d)[1:]] = np.array(seq[-1], dtype=np.float64)
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
        return self._format_result(*self._forward(input, hx))

    def _format_result(self, seqs, finals, batched):
        """The call's return value from the last layer's sequences and the final states."""
        return self._format_seq(seqs[0], batched), self._format_state(finals[0], batched)

    def trace(self, input, hx=None):
        """Run like a call and also return every layer-direction's hidden-state sequence.

        Returns
        -------
        result
            What ``cell(input, hx)`` returns.
        hidden : dict of str to ndarray
            ``"l0"``, ``"l0_reverse"``, ``"l1"``, ... -> hidden states ``(time, batch, hidden)``
            (float64, time-major; ``h`` of Elman/Jordan).

        Examples
        --------
        >>> import numpy as np
        >>> from neurosim.cells import GRU
        >>> out, hidden = GRU(2, 3, num_layers=2, seed=0).trace(np.ones((4, 1, 2), dtype=np.float32))
        >>> sorted(hidden), hidden["l1"].shape
        (['l0', 'l1'], (4, 1, 3))
        """
        record: dict = {}
        return self._format_result(*self._forward(input, hx, record)), record

    # ------------------------------------------------------------------ one step
    def step(self, params: Mapping, x_t: np.ndarray, state: tuple, ops=None):
        """One time step of one layer and direction: the cell's equations, in one place.

        The same signature for every cell. The sequence runners compute the same equations (in
        preallocated buffers, the input projection of all steps in one product), and the tests
        check them against this step.

        Parameters
        ----------
        params : DirectionParams or dict
            One layer-direction's parameters under generic names, e.g.
            ``cell.direction_params(layer, direction)`` (its ``suffix`` names the weights for the hooks).
        x_t : ndarray, shape (batch, layer input features)
        state : tuple of ndarray
            The recurrent state before the step, each ``(batch, features)``, in the order of
            :attr:`state_names` (e.g. ``(h,)``, ``(h, c)`` for an LSTM, ``(y,)`` for a Jordan network).
        ops : object with the hooks, optional
            The arithmetic (default: this cell's, i.e. ``cell.ops``); a training tape passes its own.

        Returns
        -------
        y_t : ndarray or tuple
            The layer's output at ``t`` (``(y_t, h_t)`` for Elman and Jordan networks).
        state : tuple of ndarray
            The state after the step (fresh arrays).
        """
        if ops is None or ops is self:
            self._begin()
            ops = self
        return self._step(params, x_t, tuple(state), ops)

    @property
    def state_names(self) -> tuple[str, ...]:
        """Names of the recurrent states, as ``step`` takes and returns them (``("h",)``, ``("h", "c")``)."""
        return tuple(n[:-2] if n.endswith("_0") else n for n in self._state_names)

    def initial_state(self, batch: int, layer: int = 0) -> tuple:
        """Zero states of one layer-direction for ``batch`` sequences, in the cell's dtype."""
        return tuple(np.zeros((batch, n), dtype=self.dtype) for n in self._state_sizes())

    def _step(self, params, x_t, state, ops):  # pragma: no cover - abstract
        raise NotImplementedError

    def _run_by_steps(self, p, x, states, reverse):
        """The reference runner: :meth:`step` at every time step (no buffers, no fused products)."""
        T = x.shape[0]
        outs = None
        for t in range(T - 1, -1, -1) if reverse else range(T):
            y, states = self._step(p, x[t], states, self)
            ys = y if isinstance(y, tuple) else (y,)
            if outs is None:
                outs = tuple(np.empty((T,) + a.shape, dtype=self.dtype) for a in ys)
            for o, a in zip(outs, ys):
                o[t] = a
        return outs, states

    def _run_direction(self, p, x, states, suffix, reverse):  # pragma: no cover - abstract
        raise NotImplementedError
