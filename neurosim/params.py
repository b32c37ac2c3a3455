"""Declared parameter constraints and array checks, with one error format.

Every class that takes parameters declares them once in a table of :class:`Param` and checks them
in its constructor (``check_params``), or, for frozen dataclasses, inherits :class:`Checked`, whose
``__post_init__`` does it. Every error reads the same way::

    LSTM: hidden_size must be an integer >= 1, got 0
    Strukov: R_on must be a real number in (0, inf) ohm, got -5.0

Arrays passed at call time are checked by :func:`check_array`, which names the argument, the
expected and the received shape, and refuses NaN and inf (never a numpy broadcasting error or a
silent NaN further down).

Examples
--------
>>> from neurosim.params import Param, check_params
>>> table = {"hidden_size": Param("int", low=1), "nonlinearity": Param("choice", choices=("tanh", "relu"))}
>>> check_params("RNN", table, {"hidden_size": 8, "nonlinearity": "tanh"})
{'hidden_size': 8, 'nonlinearity': 'tanh'}
>>> check_params("RNN", table, {"hidden_size": 0, "nonlinearity": "tanh"})
Traceback (most recent call last):
...
neurosim.errors.ParameterError: RNN: hidden_size must be an integer >= 1, got 0
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from neurosim.errors import ParameterError

__all__ = ["Param", "check_params", "Checked", "check_array", "fmt_shape"]

_KINDS = ("int", "real", "bool", "choice", "str", "callable", "any")


@dataclasses.dataclass(frozen=True)
class Param:
    """One declared constraint: the kind of value, its range and its unit.

    Parameters
    ----------
    kind : {"int", "real", "bool", "choice", "str", "callable", "any"}
        ``"int"`` accepts Python and numpy integers (not bools); ``"real"`` accepts any finite real
        number (ints too) and returns a ``float``; ``"choice"`` accepts one of ``choices``.
    low, high : float, optional
        Bounds of the allowed range (``None``: unbounded).
    low_open, high_open : bool
        Whether ``low`` / ``high`` are excluded.
    choices : tuple
        Allowed values for ``kind="choice"``.
    unit : str
        SI unit shown in messages and docs (``"ohm"``, ``"S"``, ``"V"``, ``"s"``, ...).
    optional : bool
        Whether ``None`` is allowed.
    doc : str
        One line of documentation.
    """

    kind: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple = ()
    unit: str = ""
    optional: bool = False
    doc: str = ""

    def __post_init__(self):
        if self.kind not in _KINDS:
            raise ValueError(f"Param: kind must be one of {_KINDS}, got {self.kind!r}")

    def describe(self) -> str:
        """The allowed values in words, e.g. ``"an integer >= 1"``."""
        unit = f" {self.unit}" if self.unit else ""
        if self.kind == "choice":
            text = "one of " + ", ".join(repr(c) for c in self.choices)
        elif self.kind == "bool":
            text = "a bool"
        elif self.kind == "str":
            text = "a string"
        elif self.kind == "callable":
            text = "a callable"
        elif self.kind == "any":
            text = "a value"
        else:
            noun = "an integer" if self.kind == "int" else "a real number"
            lo, hi = self.low, self.high
            if lo is not None and hi is not None:
                lb = "(" if self.low_open else "["
                rb = ")" if self.high_open else "]"
                text = f"{noun} in {lb}{_num(lo)}, {_num(hi)}{rb}{unit}"
            elif lo is not None:
                op = ">" if self.low_open else ">="
                text = f"{noun} {op} {_num(lo)}{unit}"
            elif hi is not None:
                op = "<" if self.high_open else "<="
                text = f"{noun} {op} {_num(hi)}{unit}"
            else:
                text = f"a finite {noun[2:] if noun.startswith('a ') else noun[3:]}{unit}"
        if self.optional:
            text += " or None"
        return text

    def check(self, owner: str, name: str, value: Any) -> Any:
        """Return ``value`` normalised (ints as ``int``, reals as ``float``) or raise.

        Raises
        ------
        ParameterError
            ``"{owner}: {name} must be {describe()}, got {value!r}"``.
        """
        if value is None and self.optional:
            return None
        ok, out = self._accept(value)
        if not ok:
            raise ParameterError(f"{owner}: {name} must be {self.describe()}, got {_show(value)}")
        return out

    def _accept(self, value: Any) -> tuple[bool, Any]:
        k = self.kind
        if k == "any":
            return True, value
        if k == "callable":
            return callable(value), value
        if k == "str":
            return isinstance(value, str), value
        if k == "bool":
            if isinstance(value, (bool, np.bool_)):
                return True, bool(value)
            return False, None
        if k == "choice":
            try:
                return value in self.choices, value
            except TypeError:  # unhashable or incomparable values
                return False, None
        if isinstance(value, (bool, np.bool_)):
            return False, None
        if k == "int":
            if not isinstance(value, numbers.Integral):
                return False, None
            out: Any = int(value)
        else:
            if not isinstance(value, numbers.Real):
                return False, None
            out = float(value)
            if not math.isfinite(out):
                return False, None
        if self.low is not None and (out < self.low or (self.low_open and out == self.low)):
            return False, None
        if self.high is not None and (out > self.high or (self.high_open and out == self.high)):
            return False, None
        return True, out


def _num(x: float) -> str:
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x) if isinstance(x, float) else str(x)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_params(owner: str, table: Mapping[str, Param], values: Mapping[str, Any]) -> dict:
    """Check every value against its declared :class:`Param`; return the normalised values.

    Parameters
    ----------
    owner : str
        Class or function name shown at the start of the message.
    table : mapping of str to Param
        The declared constraints.
    values : mapping of str to value
        The values received; names not in ``table`` are passed through unchanged.

    Raises
    ------
    ParameterError
        On the first value that violates its constraint.
    """
    out = dict(values)
    for name, param in table.items():
        if name in values:
            out[name] = param.check(owner, name, values[name])
    return out


class Checked:
    """Mixin for (frozen) dataclasses: checks ``_params`` in ``__post_init__``.

    Subclasses declare ``_params: ClassVar[dict[str, Param]]`` and may override ``_check`` for
    relations between fields (call ``super()._check()`` first). Normalised values are written back
    with ``object.__setattr__`` so frozen dataclasses work.
    """

    _params: ClassVar[dict[str, Param]] = {}

    def __post_init__(self):
        self._check()

    def _check(self) -> None:
        owner = type(self).__name__
        for name, param in self._params.items():
            object.__setattr__(self, name, param.check(owner, name, getattr(self, name)))


def fmt_shape(shape: Sequence) -> str:
    """Format a shape with ``None`` or names for free dimensions: ``(time, batch, 32)``."""
    parts = ["?" if s is None else str(s) for s in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def check_array(
    owner: str,
    name: str,
    value: Any,
    shape: Sequence | None = None,
    ndim: int | Sequence[int] | None = None,
    dtype: Any = None,
    finite: bool = True,
    shape_names: Sequence[str] | None = None,
) -> np.ndarray:
    """Convert ``value`` to an array and check its rank, shape and values.

    Parameters
    ----------
    owner, name : str
        Shown in the message: ``"LSTM: input must have shape (time, batch, 32), got (5, 31)"``.
    value : array_like
        What the user passed.
    shape : sequence of int or None, optional
        Expected shape; ``None`` entries are free.
    ndim : int or sequence of int, optional
        Allowed ranks (when ``shape`` is not given).
    dtype : numpy dtype, optional
        Convert to this dtype (``np.asarray(value, dtype)``); otherwise keep the array's own
        floating dtype, converting non-float input to float64.
    finite : bool
        Refuse NaN and inf.
    shape_names : sequence of str, optional
        Names shown for the free dimensions of ``shape`` (e.g. ``("time", "batch", None)``).

    Raises
    ------
    ParameterError
        Wrong rank or shape, non-numeric content, NaN or inf.
    """
    try:
        arr = np.asarray(value, dtype=dtype) if dtype is not None else np.asarray(value)
        if dtype is None and arr.dtype.kind not in "fc":
            arr = arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{owner}: {name} must be a numeric array, got {_show(value)}") from exc
    if shape is not None:
        want = tuple(shape)
        shown = fmt_shape(
            [shape_names[i] if (shape_names and s is None and shape_names[i]) else s for i, s in enumerate(want)]
        )
        if arr.ndim != len(want) or any(w is not None and w != g for w, g in zip(want, arr.shape)):
            raise ParameterError(f"{owner}: {name} must have shape {shown}, got {fmt_shape(arr.shape)}")
    elif ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            what = " or ".join(str(a) for a in allowed)
            raise ParameterError(
                f"{owner}: {name} must have {what} dimensions, got {arr.ndim} (shape {fmt_shape(arr.shape)})"
            )
    if finite and arr.dtype.kind in "fc" and not np.isfinite(arr).all():
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ParameterError(f"{owner}: {name} must be finite, got {bad} NaN or inf value(s)")
    return arr
